"""The benchmark table of the measured-results page (book/_ext/results_page.py)."""
import json
import sys

import pytest

from book_helpers import ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))

import results_page  # noqa: E402

RESULTS = ROOT / "bench" / "results.json"


def test_the_committed_benchmark_renders_one_row_per_run_in_both_languages():
    report = results_page.load_results(RESULTS)
    for lang, header in [("ko", "| 모델 | 학습 루프 |"), ("en", "| model | loop |")]:
        lines = results_page.markdown_table(report, lang)
        table = [line for line in lines if line.startswith("| ")]
        assert table[0].startswith(header)
        rows = table[2:]  # after the header and its rule
        assert len(rows) == len(report["results"])
        for line, result in zip(rows, report["results"]):
            cells = [c.strip() for c in line.strip("|").split("|")]
            assert len(cells) == len(results_page.COLUMNS)
            if "error" in result:
                assert result["error"][:40] in cells[2]
                continue
            low, high = result["examples_per_s_range"]
            assert cells[2] == f"{result['examples_per_s']:,}" and low <= result["examples_per_s"] <= high
            assert cells[3] == f"{low:,}–{high:,}"
            assert cells[4].startswith(f"{result['vs_pytorch']:.2f}×")
            if result["loop"] == report["baseline"]:
                assert cells[4] == "1.00×" and cells[5] == "–"
            assert cells[6] == f"{result['test_accuracy']:.4f}"
        assert any(f"{report['matmul_peak_gflops']:.1f} GFLOP/s" in line for line in lines)
    loops = {r["loop"] for r in report["results"]}
    assert loops >= {"dlbook-mxnet", "hand-mxnet", "d2l-mxnet", "dlbook-torch", "torch-eager", "keras-torch"}
    assert report["repeats"] >= 3  # medians of several interleaved rounds, not one run


def test_failed_runs_and_missing_ratios_show_as_such():
    report = json.loads(RESULTS.read_text())
    report["results"] = [
        {"model": "mlp", "loop": "torch-eager", "examples_per_s": 1000, "examples_per_s_range": [900, 1100],
         "vs_pytorch": 1.0, "vs_pytorch_range": [1.0, 1.0], "test_accuracy": 0.8, "gflops": 1.0,
         "fraction_of_peak": 0.01},
        {"model": "mlp", "loop": "dlbook-torch", "examples_per_s": 950, "examples_per_s_range": [850, 1000],
         "vs_pytorch": 0.95, "vs_pytorch_range": [0.9, 0.99], "vs_hand_loop": 0.95, "test_accuracy": 0.8,
         "gflops": 1.0, "fraction_of_peak": 0.01},
        {"model": "mlp", "loop": "keras-torch", "error": "ModuleNotFoundError: No module named 'keras'"}]
    rows = [line for line in results_page.markdown_table(report, "en") if line.startswith("| ")][2:]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in rows]
    assert cells[0][4:6] == ["1.00×", "–"]  # the baseline: no range, no hand loop of its own
    assert cells[1][4:6] == ["0.95× (0.90–0.99)", "0.95×"]
    assert cells[2][1] == "Keras 3 `fit` (torch backend)" and "No module named 'keras'" in cells[2][2]
    assert "실패: " in results_page.markdown_table(report, "ko")[-1]


def test_a_missing_results_file_says_how_to_make_one(tmp_path):
    with pytest.raises(results_page.BenchmarkError, match="bench/train_bench.py"):
        results_page.load_results(tmp_path / "results.json")


def test_broken_or_incomplete_results_are_named(tmp_path):
    path = tmp_path / "results.json"
    path.write_text("{not json")
    with pytest.raises(results_page.BenchmarkError, match="not valid JSON"):
        results_page.load_results(path)
    path.write_text(json.dumps({"machine": {}, "results": []}))
    with pytest.raises(results_page.BenchmarkError, match="matmul_peak_gflops"):
        results_page.load_results(path)
    report = json.loads(RESULTS.read_text())
    report["results"][1].pop("error", None)
    del report["results"][1]["examples_per_s"]
    path.write_text(json.dumps(report))
    with pytest.raises(results_page.BenchmarkError, match="result 1 lacks examples_per_s"):
        results_page.load_results(path)


class _Env:
    def __init__(self, metadata):
        self.metadata = metadata


def test_the_results_page_is_reread_whenever_another_page_changed():
    env = _Env({"book/results": {"_uses_glued_results": True}, "book/cnn": {}})
    assert results_page.reread_results_pages(None, env, set(), {"book/cnn"}, set()) == ["book/results"]
    assert results_page.reread_results_pages(None, env, set(), set(), set()) == []
    # Already being re-read: not listed twice.
    assert results_page.reread_results_pages(None, env, set(), {"book/results"}, set()) == []


def test_recorded_values_render_per_chapter_mxnet_beside_pytorch():
    records = {"chapters": {
        "book/a.md": {"docname": "book/a", "ran": ["mxnet", "pytorch"],
                      "values": {"mxnet": {"acc": 0.87321}, "pytorch": {"acc": 0.861, "speed": 12345.6}}},
        "book/b.md": {"docname": "book/b", "ran": ["mxnet"], "values": {"mxnet": {"rmse": 21.346}}}}}
    lines = results_page.chapter_tables(records, "en")
    assert "| `acc` | 0.8732 | 0.8610 |" in lines and "| `speed` | – | 12,346 |" in lines
    assert "| `rmse` | 21.35 | – |" in lines
    assert results_page.lookup(records, "book/b.md", "pytorch", "rmse") == (None, None)  # not run
    value, problem = results_page.lookup(records, "book/a.md", "pytorch", "rmse")
    assert value is None and "recorded no `rmse` in its PyTorch run" in problem
    assert results_page.lookup(records, "book/a.md", "mxnet", "acc") == (0.87321, None)


def test_recorded_values_are_formatted_by_size_unless_a_format_is_given():
    assert results_page.format_value(0.87321) == "0.8732"
    assert results_page.format_value(21.346) == "21.35"
    assert results_page.format_value(12345.6) == "12,346"
    assert results_page.format_value(0.5, ".2f") == "0.50"
    assert results_page.format_value("n/a") == "n/a"


def test_a_failed_run_shows_no_value_and_no_second_warning():
    records = {"chapters": {"book/a.md": {"docname": "book/a", "ran": ["mxnet", "pytorch"],
                                          "failed": ["pytorch"], "values": {"mxnet": {"acc": 0.9}}}}}
    assert results_page.lookup(records, "book/a.md", "pytorch", "acc") == (None, None)
    assert results_page.lookup(records, "book/z.md", "mxnet", "acc")[1] == "no chapter book/z.md was executed"

