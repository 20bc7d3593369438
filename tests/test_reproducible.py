"""Two executions of the same chapter print the same numbers (issue: reproducible builds)."""
import re

import pytest

from book_helpers import ROOT

import run_chapter  # noqa: E402  (tools/ is on sys.path via book_helpers)

# Representative chapters: one training small networks from scratch, one full of
# autograd computations and figures.
CHAPTERS = ["book/perceptron.md", "book/activation-functions.md"]
TIMING = re.compile(r"\d+(\.\d+)?\s*(s|ms|µs|us|sec|seconds|초)\b|examples/s|예제/초")


def _text_outputs(nb):
    """Every text a reader sees in the outputs, minus lines that report timings."""
    texts = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            parts = []
            if output.get("output_type") == "stream":
                parts.append(output.get("text", ""))
            for mime in ("text/plain", "text/html", "text/markdown", "text/latex"):
                parts.append(output.get("data", {}).get(mime, ""))
            for part in parts:
                part = "".join(part) if isinstance(part, list) else part
                for line in part.splitlines():
                    if line.strip() and not TIMING.search(line):
                        texts.append((index, line))
    return texts


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_outputs_are_identical_across_runs(chapter):
    runs = []
    for _ in range(2):
        ok, _, message, nb = run_chapter.run(ROOT / chapter, return_notebook=True)
        assert ok, message
        runs.append(_text_outputs(nb))
    assert runs[0], f"{chapter} printed nothing to compare"
    differences = [(a, b) for a, b in zip(*runs) if a != b]
    assert not differences and len(runs[0]) == len(runs[1]), differences[:5]
