"""Two executions of the same chapter print the same numbers, in each framework (reproducible builds)."""
import re

import pytest

from book_helpers import ROOT
from tools import frameworks, run_chapter

# Representative chapters: one training small networks from scratch, one full of
# autograd computations and figures; each in every framework it runs in.
CHAPTERS = ["book/perceptron.md", "book/activation-functions.md"]
RUNS = [(chapter, framework) for chapter in CHAPTERS
        for framework, _, _ in frameworks.runs(frameworks.read_chapter(ROOT / chapter))]
TIMING = re.compile(r"\d+(\.\d+)?\s*(s|ms|µs|us|sec|seconds|초)\b|examples/s|예제/초")


def _text_outputs(nb):
    """Every text a reader sees in the outputs, minus lines that report timings."""
    texts = []
    for index, cell in enumerate(nb.cells):
        # A stream reaches the notebook in chunks that split lines wherever the kernel
        # flushed, which differs from run to run: join each stream before reading its lines.
        streams = {}
        parts = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                text = output.get("text", "")
                streams.setdefault(output.get("name"), []).append(
                    "".join(text) if isinstance(text, list) else text)
            for mime in ("text/plain", "text/html", "text/markdown", "text/latex"):
                parts.append(output.get("data", {}).get(mime, ""))
        parts += ["".join(chunks) for chunks in streams.values()]
        for part in parts:
            part = "".join(part) if isinstance(part, list) else part
            for line in part.splitlines():
                if line.strip() and not TIMING.search(line):
                    texts.append((index, line))
    return texts


@pytest.mark.slow
@pytest.mark.parametrize("chapter, framework", RUNS)
def test_chapter_outputs_are_identical_across_runs(chapter, framework):
    runs = []
    for _ in range(2):
        ok, _, message, nb = run_chapter.run(ROOT / chapter, return_notebook=True,
                                             framework=framework)
        assert ok, message
        runs.append(_text_outputs(nb))
    assert runs[0], f"{chapter} printed nothing to compare"
    differences = [(a, b) for a, b in zip(*runs) if a != b]
    assert not differences and len(runs[0]) == len(runs[1]), differences[:5]


def test_stream_chunks_compare_equal_however_the_kernel_split_them():
    import nbformat

    def nb(*chunks):
        outputs = [nbformat.v4.new_output("stream", name="stdout", text=c) for c in chunks]
        outputs.append(nbformat.v4.new_output("execute_result", data={"text/plain": "42"},
                                              execution_count=1))
        return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("f()", outputs=outputs)])

    whole = _text_outputs(nb("ReLU' at [-2. 2.] = [0. 1.]\nnext line\n"))
    split = _text_outputs(nb("ReLU' at ", "[-2. 2.] = [0. 1.]\nnext", " line\n"))
    assert sorted(whole) == sorted(split)
    assert (0, "ReLU' at [-2. 2.] = [0. 1.]") in split and (0, "42") in split
    assert _text_outputs(nb("took 3.2 s\n")) == [(0, "42")]  # timing lines are left out
