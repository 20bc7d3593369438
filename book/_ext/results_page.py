"""The measured-results page: the speed table from ``bench/results.json``.

``{benchmark-results} ../bench/results.json`` (a path relative to the page;
option ``:lang: ko`` or ``en``, the default) renders the JSON that
``bench/train_bench.py`` writes: the machine it was measured on and how, then,
per model and training loop, the median examples/s and its range over rounds,
the ratio to the PyTorch eager loop (median and range), the ratio of a
wrapper to its own framework's hand-written loop, test accuracy and GFLOP/s
against the machine's matmul peak. A loop that failed shows its error.

Sphinx re-reads the page when the JSON changes (a noted dependency).

The numbers the chapters record while the book is built (``dl.record``) come
from ``_build/.dlbook/records.json``, which ``tools/build_book.py`` writes per
chapter and framework:

* ``{recorded}`mxnet:practice.md::fashion_mlp_test_accuracy:.3f``` (a role) is
  one value: framework, chapter (relative to the page), name and format. A
  chapter not run in that framework (not converted yet), or whose run failed
  (the build reports that), shows ``–``; a chapter run in it that recorded no
  such name is a warning.
* ``{recorded-results}`` (a directive; option ``:lang:``) is one table per
  chapter of every value it recorded, MXNet beside PyTorch.

A page using any of these is re-read when records.json or any other page changed.
"""
import json
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective, SphinxRole

logger = logging.getLogger(__name__)

COLUMNS = [  # (Korean heading, English heading, key, format)
    ("모델", "model", "model", "{}"),
    ("학습 루프", "loop", "loop", "{}"),
    ("예제/초 (중앙값)", "examples/s (median)", "examples_per_s", "{:,}"),
    ("범위", "range", "examples_per_s_range", "{0[0]:,}–{0[1]:,}"),
    ("PyTorch eager 대비", "vs. PyTorch eager", "vs_pytorch", "{:.2f}×"),
    ("자기 손 루프 대비", "vs. own hand loop", "vs_hand_loop", "{:.2f}×"),
    ("테스트 정확도", "test accuracy", "test_accuracy", "{:.4f}"),
    ("GFLOP/s", "GFLOP/s", "gflops", "{:.1f}"),
    ("최대 성능 대비", "of peak", "fraction_of_peak", "{:.1%}"),
]
OPTIONAL = {"vs_hand_loop"}  # a hand-written loop has no hand loop to compare with
LOOPS = {
    "ko": {"dlbook-mxnet": "dlbook `Trainer` (MXNet)", "hand-mxnet": "손으로 쓴 Gluon 루프",
           "d2l-mxnet": "d2l 방식 (MXNet)", "dlbook-torch": "dlbook `Trainer` (PyTorch)",
           "torch-eager": "손으로 쓴 PyTorch 루프", "torch-compile": "PyTorch + `torch.compile`",
           "keras-torch": "Keras 3 `fit` (torch 백엔드)"},
    "en": {"dlbook-mxnet": "dlbook `Trainer` (MXNet)", "hand-mxnet": "hand-written Gluon",
           "d2l-mxnet": "d2l-style (MXNet)", "dlbook-torch": "dlbook `Trainer` (PyTorch)",
           "torch-eager": "hand-written PyTorch", "torch-compile": "PyTorch + `torch.compile`",
           "keras-torch": "Keras 3 `fit` (torch backend)"},
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
    needed = ["machine", "matmul_peak_gflops", "epochs", "batch_size", "repeats", "results"]
    missing = [k for k in needed if k not in report]
    if missing:
        raise BenchmarkError(f"{path} lacks {', '.join(missing)}")
    for i, row in enumerate(report["results"]):
        keys = ["model", "loop", "error"] if "error" in row else \
            [key for *_, key, _ in COLUMNS if key not in OPTIONAL]
        lacking = [key for key in keys if key not in row]
        if lacking:
            raise BenchmarkError(f"{path}: result {i} lacks {', '.join(lacking)}")
    return report


def _epochs(report, ko):
    epochs = report["epochs"]
    if isinstance(epochs, dict):  # per model
        return ", ".join(f"{MODELS['ko' if ko else 'en'].get(m, m)} {n}" for m, n in epochs.items())
    return str(epochs)


def _cell(row, key, fmt, lang, baseline="torch-eager"):
    value = row.get(key)
    if value is None:
        return MISSING
    if key == "loop":
        return LOOPS[lang].get(value, value)
    if key == "model":
        return MODELS[lang].get(value, value)
    text = fmt.format(value)
    spread = row.get("vs_pytorch_range") if key == "vs_pytorch" else None
    if spread and row.get("loop") != baseline:
        text += f" ({spread[0]:.2f}–{spread[1]:.2f})"
    return text


def markdown_table(report, lang):
    """The results as MyST Markdown lines in ``lang`` ('ko' or 'en'): the machine, then a table."""
    m, ko = report["machine"], lang == "ko"
    machine = (f"{m.get('cpu_count', '?')} {'코어' if ko else 'cores'}, {m.get('processor', '?')}, "
               f"{m.get('platform', '?')}; Python {m.get('python', '?')}, MXNet {m.get('mxnet', '?')}, "
               f"PyTorch {m.get('torch', '?')}")
    peak = f"{report['matmul_peak_gflops']:.1f} GFLOP/s"
    epochs, batch, n = _epochs(report, ko), report["batch_size"], report["repeats"]
    if ko:
        lines = [f"- 측정한 기계: {machine}",
                 f"- float32 행렬 곱의 최대 성능: {peak}",
                 f"- 배치 {batch}, 에포크 수: {epochs} (첫 에포크는 준비 운동으로 보고 따로 잼)",
                 f"- 실행마다 새 파이썬 프로세스, 모든 학습 루프를 {n}바퀴 번갈아 돌린 중앙값과 범위. "
                 "비율은 같은 바퀴 안에서 잰 값끼리 나눈 것의 중앙값(괄호 안은 범위)"]
    else:
        lines = [f"- Measured on: {machine}",
                 f"- float32 matrix-multiply peak: {peak}",
                 f"- Batch {batch}, epochs: {epochs} (the first is warm-up, timed apart)",
                 f"- Every run a fresh Python process; the median and range of {n} interleaved rounds "
                 "of all loops. Ratios are taken within a round; median (range in brackets)"]
    if report.get("noise") is not None:
        noise = f"{100 * report['noise']:.0f} %"
        lines.append(f"- 기계의 잡음(기준인 PyTorch 루프가 바퀴마다 달라진 폭): {noise}. 이보다 작은 차이는 "
                     "결과로 보지 않음" if ko else
                     f"- The machine's noise (how much the PyTorch baseline varied between rounds): "
                     f"{noise}; a smaller difference is not a result")
    col = 0 if ko else 1
    lines += ["", "| " + " | ".join(c[col] for c in COLUMNS) + " |",
              "| " + " | ".join("---" if c[2] in ("model", "loop") else "---:" for c in COLUMNS) + " |"]
    for row in report["results"]:
        if "error" in row:
            cells = [_cell(row, "model", "{}", lang), _cell(row, "loop", "{}", lang),
                     ("실패: " if ko else "failed: ") + row["error"].replace("|", "/")[:120]]
            cells += [""] * (len(COLUMNS) - len(cells))
        else:
            cells = [_cell(row, key, fmt, lang, report.get("baseline", "torch-eager"))
                     for *_, key, fmt in COLUMNS]
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


# ----------------------------------------------------------------- recorded values
FRAMEWORK_LABELS = {"mxnet": "MXNet", "pytorch": "PyTorch"}
MISSING = "–"


def records_path(env):
    return Path(env.app.outdir).parent / ".dlbook" / "records.json"


def load_records(env):
    """records.json as written by tools/build_book.py (empty when the book was not built)."""
    path = records_path(env)
    env.note_dependency(str(path))
    env.metadata[env.docname]["_uses_glued_results"] = True
    if not path.is_file():
        return {"chapters": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def format_value(value, fmt=None):
    """A recorded value as text: with ``fmt`` if given, else by its size.

    >>> format_value(0.87321), format_value(21.345), format_value(12345.6), format_value(0.5, ".2f")
    ('0.8732', '21.35', '12,346', '0.50')
    """
    if not isinstance(value, (int, float)):
        return str(value)
    if fmt:
        return format(value, fmt)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) >= 10 else f"{value:.4f}"


def lookup(records, chapter, framework, name):
    """(value or None, problem or None) of ``name`` recorded by ``chapter`` in ``framework``."""
    entry = records.get("chapters", {}).get(chapter)
    if entry is None:
        return None, f"no chapter {chapter} was executed"
    if framework not in entry.get("ran", []) or framework in entry.get("failed", []):
        return None, None  # not run in this framework (yet), or failed (reported): no value
    values = entry.get("values", {}).get(framework, {})
    if name not in values:
        return None, (f"{chapter} recorded no `{name}` in its {FRAMEWORK_LABELS.get(framework, framework)} "
                      f"run (it recorded {sorted(values) or 'nothing'})")
    return values[name], None


class RecordedRole(SphinxRole):
    """``{recorded}`framework:chapter.md::name:format```: one recorded value, or – when not run."""

    def run(self):
        try:
            framework, rest = self.text.split(":", 1)
            doc, key = rest.split("::", 1)
        except ValueError:
            msg = f"recorded: expected `framework:chapter.md::name[:format]`, got {self.text!r}"
            logger.warning(msg, location=self.get_location())
            return [nodes.inline(text=MISSING)], []
        name, _, fmt = key.partition(":")
        chapter = self.env.relfn2path(doc, self.env.docname)[0]
        value, problem = lookup(load_records(self.env), chapter, framework, name)
        if problem:
            logger.warning(f"recorded: {problem}", location=self.get_location())
        text = MISSING if value is None else format_value(value, fmt or None)
        return [nodes.inline(text=text, classes=["recorded-value", f"recorded-{framework}"])], []


def chapter_tables(records, lang):
    """MyST Markdown lines: per chapter, a table of its recorded values, MXNet beside PyTorch."""
    head = ("값 (name)", "MXNet", "PyTorch") if lang == "ko" else ("name", "MXNet", "PyTorch")
    lines = []
    for chapter, entry in records.get("chapters", {}).items():
        values = entry.get("values", {})
        names = list(dict.fromkeys(n for fw in FRAMEWORK_LABELS for n in values.get(fw, {})))
        if not names:
            continue
        lines += ["", f"**{{doc}}`/{entry['docname']}`**", "",
                  "| " + " | ".join(head) + " |", "| --- | ---: | ---: |"]
        for name in names:
            cells = [f"`{name}`"]
            for fw in FRAMEWORK_LABELS:
                value = values.get(fw, {}).get(name)
                cells.append(MISSING if value is None else format_value(value))
            lines.append("| " + " | ".join(cells) + " |")
    return lines


class RecordedResults(SphinxDirective):
    has_content = False
    option_spec = {"lang": lambda arg: directives.choice(arg, ("ko", "en"))}

    def run(self):
        lines = chapter_tables(load_records(self.env), self.options.get("lang", "en"))
        container = nodes.container(classes=["recorded-results"])
        self.state.nested_parse(StringList(lines, source="records.json"), self.content_offset,
                                container)
        return [container]


def reread_results_pages(app, env, added, changed, removed):
    """Pages showing glued chapter numbers are re-read whenever anything else changed."""
    if not (added or changed or removed):
        return []
    return [doc for doc, meta in env.metadata.items()
            if meta.get("_uses_glued_results") and doc not in changed and doc not in added]


def setup(app):
    app.add_directive("benchmark-results", BenchmarkResults)
    app.add_directive("recorded-results", RecordedResults)
    app.add_role("recorded", RecordedRole())
    app.connect("env-get-outdated", reread_results_pages)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
