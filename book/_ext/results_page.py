"""The measured-results page: the speed table from ``bench/results.json``.

``{benchmark-results} ../bench/results.json`` (a path relative to the page;
option ``:lang: ko`` or ``en``, the default) renders the JSON that
``bench/train_bench.py`` writes: the machine it was measured on, then, per
model and training loop, examples/s, the ratio to the hand-written loop, test
accuracy and GFLOP/s against the machine's matmul peak.

Sphinx re-reads the page when the JSON changes (a noted dependency). The page
also shows numbers glued from executed chapters (``dlbook.record``), which
Sphinx cannot see as dependencies, so a page using the directive is re-read
whenever any other page changed.
"""
import json
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

COLUMNS = [  # (Korean heading, English heading, key, format)
    ("모델", "model", "model", "{}"),
    ("학습 루프", "loop", "loop", "{}"),
    ("예제/초", "examples/s", "examples_per_s", "{:,}"),
    ("손 루프 대비", "vs. hand loop", "vs_hand_loop", "{:.2f}×"),
    ("테스트 정확도", "test accuracy", "test_accuracy", "{:.4f}"),
    ("GFLOP/s", "GFLOP/s", "gflops", "{:.1f}"),
    ("최대 성능 대비", "of peak", "fraction_of_peak", "{:.1%}"),
]
LOOPS = {
    "ko": {"dlbook": "dlbook `Trainer`", "hand": "손으로 쓴 루프", "d2l": "d2l 방식",
           "pytorch": "PyTorch"},
    "en": {"dlbook": "dlbook `Trainer`", "hand": "hand-written", "d2l": "d2l-style",
           "pytorch": "PyTorch"},
}
MODELS = {
    "ko": {"softmax": "소프트맥스 회귀", "mlp": "MLP (256)", "lenet": "LeNet (고전적)"},
    "en": {"softmax": "softmax regression", "mlp": "MLP (256)", "lenet": "LeNet (classic)"},
}


class BenchmarkError(ValueError):
    pass


def load_results(path):
    """The benchmark report at ``path``, checked for the fields the table needs."""
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BenchmarkError(f"no benchmark results at {path}; run bench/train_bench.py") from None
    except json.JSONDecodeError as err:
        raise BenchmarkError(f"{path} is not valid JSON: {err}") from None
    needed = ["machine", "matmul_peak_gflops", "epochs", "batch_size", "results"]
    missing = [k for k in needed if k not in report]
    if missing:
        raise BenchmarkError(f"{path} lacks {', '.join(missing)}")
    for i, row in enumerate(report["results"]):
        lacking = [key for *_, key, _ in COLUMNS if key not in row]
        if lacking:
            raise BenchmarkError(f"{path}: result {i} lacks {', '.join(lacking)}")
    return report


def markdown_table(report, lang):
    """The results as MyST Markdown lines in ``lang`` ('ko' or 'en'): the machine, then a table."""
    m, ko = report["machine"], lang == "ko"
    machine = (f"{m.get('cpu_count', '?')} {'코어' if ko else 'cores'}, {m.get('processor', '?')}, "
               f"{m.get('platform', '?')}; Python {m.get('python', '?')}, MXNet {m.get('mxnet', '?')}, "
               f"`OMP_NUM_THREADS={m.get('omp_num_threads', '?')}`")
    peak = f"{report['matmul_peak_gflops']:.1f} GFLOP/s"
    epochs, batch = report["epochs"], report["batch_size"]
    if ko:
        lines = [f"- 측정한 기계: {machine}",
                 f"- float32 행렬 곱의 최대 성능: {peak}",
                 f"- 배치 {batch}, {epochs} 에포크 (첫 에포크는 준비 운동으로 보고 재지 않음)"]
    else:
        lines = [f"- Measured on: {machine}",
                 f"- float32 matrix-multiply peak: {peak}",
                 f"- Batch {batch}, {epochs} epochs (the first is warm-up and not timed)"]
    if "fashion_mnist_load_seconds" in report:
        seconds = f"{report['fashion_mnist_load_seconds']:.2f} s"
        lines.append(f"- Fashion-MNIST 읽기: {seconds}" if ko else f"- Loading Fashion-MNIST: {seconds}")
    if "loader_examples_per_s" in report:
        rate = f"{report['loader_examples_per_s']:,}"
        lines.append(f"- 학습 없이 데이터 로더만: 초당 예제 {rate}개" if ko
                     else f"- The data loader alone, without training: {rate} examples/s")
    if report.get("repeats", 1) > 1:
        n = report["repeats"]
        lines.append(f"- 학습 루프마다 {n}번씩 번갈아 실행해 가장 빠른 에포크로 잼" if ko
                     else f"- Best epoch of {n} interleaved runs of each loop")
    col = 0 if ko else 1
    lines += ["", "| " + " | ".join(c[col] for c in COLUMNS) + " |",
              "| " + " | ".join("---" if c[2] in ("model", "loop") else "---:" for c in COLUMNS) + " |"]
    for row in report["results"]:
        cells = []
        for *_, key, fmt in COLUMNS:
            value = row[key]
            if key == "loop":
                value = LOOPS[lang].get(value, value)
            elif key == "model":
                value = MODELS[lang].get(value, value)
            cells.append(fmt.format(value))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


class BenchmarkResults(SphinxDirective):
    required_arguments = 1
    has_content = False
    option_spec = {"lang": lambda arg: directives.choice(arg, ("ko", "en"))}

    def run(self):
        rel, path = self.env.relfn2path(self.arguments[0], self.env.docname)
        self.env.note_dependency(rel)
        self.env.metadata[self.env.docname]["_uses_glued_results"] = True
        try:
            lines = markdown_table(load_results(path), self.options.get("lang", "en"))
        except BenchmarkError as err:
            logger.warning(f"benchmark-results: {err}", location=(self.env.docname, self.lineno))
            return []
        container = nodes.container(classes=["benchmark-results"])
        self.state.nested_parse(StringList(lines, source=path), self.content_offset, container)
        return [container]


def reread_results_pages(app, env, added, changed, removed):
    """Pages showing glued chapter numbers are re-read whenever anything else changed."""
    if not (added or changed or removed):
        return []
    return [doc for doc, meta in env.metadata.items()
            if meta.get("_uses_glued_results") and doc not in changed and doc not in added]


def setup(app):
    app.add_directive("benchmark-results", BenchmarkResults)
    app.connect("env-get-outdated", reread_results_pages)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
