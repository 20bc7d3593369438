"""The book as a test: build it (every chapter executed in each framework), then check it.

The build runs once per session (``tools/build_book.py``, the same command as
``make book``); its execution cache makes a rebuild with unchanged code quick.
"""
import json
import re
import time

import pytest

from book_helpers import (NOTEBOOK_HEADER, ROOT, build_book, check_bilingual, has_code, make_book,
                          run_build, source, toc_files)

PAGES = toc_files()
CODE_PAGES = [p for p in PAGES if has_code(p)]


def test_toc_pages_exist():
    missing = [p for p in PAGES if not source(p).is_file()]
    assert not missing, f"_toc.yml lists pages that do not exist: {missing}"



def test_every_chapter_outside_the_reference_part_has_code():
    """Code pages, from _toc.yml's structure: every chapter of every part but the last (the
    reference: notation, glossary, API, results, statistics), which with the root page has none."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    *parts, reference = toc["parts"]
    assert "(Reference)" in reference["caption"]
    chapters = [c["file"] for part in parts for c in part["chapters"]]
    assert len(chapters) >= 10 and CODE_PAGES == chapters
    assert not any(has_code(c["file"]) for c in reference["chapters"]) and not has_code(toc["root"])


@pytest.mark.parametrize("page", PAGES)
def test_page_is_bilingual(page):
    problems = check_bilingual.check_file(source(page))
    assert not problems, "\n".join(problems)


# The `built_book` fixture (the real build, once per session) is in conftest.py: the
# browser tests of tests/test_site.py use the same build.


def _report():
    return json.loads((ROOT / "_build" / "execution-times.json").read_text())


def _tagged(page):
    return re.search(r"^:tags: \[[^\]]*\b(mxnet|pytorch)\b", source(page).read_text(encoding="utf-8"),
                     re.M) is not None


@pytest.mark.slow
def test_book_builds_without_warnings(built_book):
    assert built_book.returncode == 0, (
        "The book build failed:\n" + built_book.stdout[-6000:] + built_book.stderr[-3000:]
    )


@pytest.mark.slow
@pytest.mark.parametrize("page", CODE_PAGES)
def test_chapter_executes_in_each_of_its_frameworks(built_book, page):
    import nbformat

    runs = _report()["runs"].get(f"{page}.md")
    assert runs, f"{page} was not executed"
    expected = ["mxnet", "pytorch"] if _tagged(page) else [list(runs)[0]]
    assert sorted(runs) == expected, runs
    for framework, run in runs.items():
        assert run["ok"], (f"{page} failed in {framework}:\n"
                           + built_book.stderr[built_book.stderr.find(f"{page}.md ["):][:4000])
        executed = ROOT / "_build" / ".dlbook" / "executed" / framework / f"{page}.ipynb"
        nb = nbformat.read(executed, as_version=4)
        assert nb.metadata["dlbook"]["framework"] == framework
        code_cells = [c for c in nb.cells if c.cell_type == "code"]
        other = {"mxnet": "pytorch", "pytorch": "mxnet"}[framework]
        assert not any(other in c.metadata.get("tags", []) for c in code_cells)
        counts = [c.get("execution_count") for c in code_cells]
        assert counts == list(range(1, len(code_cells) + 1)), (
            f"{page} ({framework}): not every code cell ran, in order, in one kernel: {counts}")
        for index, cell in enumerate(code_cells):
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            assert not errors, f"{page} ({framework}): code cell {index} raised {errors[0].get('ename')}"
    merged = nbformat.read(ROOT / "_build" / ".dlbook" / "merged" / f"{page}.ipynb", as_version=4)
    tags = [t for c in merged.cells for t in c.metadata.get("tags", [])]
    assert ("pytorch" in tags) == _tagged(page)


@pytest.mark.slow
def test_no_missing_glyphs_in_figures(built_book):
    assert build_book.glyph_warnings(ROOT / "_build") == []
    assert "Glyph" not in built_book.stdout


@pytest.mark.slow
def test_every_figure_is_drawn_in_each_language(built_book):
    """Figures with Korean labels come once per language, marked, each in its language's block."""
    assert build_book.figure_language_warnings(ROOT / "_build") == []
    html_dir = ROOT / "_build" / "html"
    totals = {"ko": 0, "en": 0}
    for page in PAGES:
        html = (html_dir / f"{page}.html").read_text(encoding="utf-8")
        blocks = re.findall(r'<div class="lang-block lang-(ko|en) dlbook-figure" lang="\1">\s*'
                            r'(?:<div[^>]*>\s*)*<img[^>]*\bsrc="([^"]+)"', html)
        pairs = [b[0] for b in blocks]
        assert pairs == ["ko", "en"] * (len(pairs) // 2), f"{page}: figures not in ko/en pairs: {pairs}"
        for lang, src in blocks:
            svg = (html_dir / page).parent.joinpath(src).resolve().read_text(encoding="utf-8")
            assert re.search(rf'<svg xml:lang="{lang}"', svg), f"{page}: {src} is not the {lang} figure"
            totals[lang] += 1
    assert totals["ko"] == totals["en"] > 20, totals


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_html_page_has_both_languages_and_switch(built_book, page):
    html = (ROOT / "_build" / "html" / f"{page}.html").read_text(encoding="utf-8")
    ko = len(re.findall(r'class="lang-block lang-ko" lang="ko"', html))
    en = len(re.findall(r'class="lang-block lang-en" lang="en"', html))
    assert ko >= 1 and ko == en, (ko, en)
    assert "bilingual.js" in html and "bilingual.css" in html


@pytest.mark.slow
def test_figures_are_vector_graphics(built_book):
    images = list((ROOT / "_build" / "html" / "_images").glob("*"))
    svgs = [p for p in images if p.suffix == ".svg"]
    pngs = [p for p in images if p.suffix == ".png"]
    assert svgs, "no SVG figures in the built site"
    assert not pngs, f"raster figures found (use SVG): {[p.name for p in pngs][:5]}"


@pytest.mark.slow
def test_execution_times_are_reported(built_book):
    report = _report()
    assert report["ok"] is True
    assert {f"{p}.md" for p in CODE_PAGES} <= set(report["chapters"]) == set(report["runs"])
    for chapter, runs in report["runs"].items():
        assert report["chapters"][chapter] == pytest.approx(sum(r["seconds"] for r in runs.values()),
                                                            abs=0.05)
    assert set(report["framework_seconds"]) == {"mxnet", "pytorch"}
    assert "Execution times" in built_book.stdout and "total PyTorch" in built_book.stdout


def _tiny_book(tmp_path, cells, timeout=None):
    """A one-chapter book using this repo's configuration and extensions.

    ``cells``: code cell sources; ``(tags, source)`` for a tagged cell.
    """
    def config(text):
        return re.sub(r"timeout: \d+", f"timeout: {timeout}", text) if timeout is not None else text

    header = NOTEBOOK_HEADER + "# 고장 난 장 (Broken Chapter)\n"
    body = ""
    for cell in cells:
        tags, code = cell if isinstance(cell, tuple) else (None, cell)
        options = f":tags: [{', '.join(tags)}]\n" if tags else ""
        body += f"\n```{{code-cell}} ipython3\n{options}{code}\n```\n"
    book = make_book(tmp_path / "book-under-test", {"book/broken": header + body}, config)
    proc = run_build(book, timeout=600)
    return proc, proc.stdout + proc.stderr


@pytest.mark.slow
def test_failing_cell_fails_the_build_and_names_chapter_and_cell(tmp_path):
    proc, out = _tiny_book(tmp_path, ["ratio = 1 / 2", "ratio = 1 / 0  # the failing cell"])
    assert proc.returncode != 0, out[-3000:]
    assert "broken.md" in out and "Executing notebook failed" in out, out[-3000:]
    assert "ratio = 1 / 0  # the failing cell" in out, out[-3000:]
    assert "ZeroDivisionError" in out, out[-3000:]
    text = (tmp_path / "book-under-test" / "book" / "broken.md").read_text(encoding="utf-8")
    fence = text.splitlines().index("ratio = 1 / 0  # the failing cell")  # 1-based line above
    assert f"cell 2 (line {fence} of the chapter)" in out, out[-3000:]
    assert "BUILD FAILED" in out


@pytest.mark.slow
def test_failing_cell_of_one_framework_names_that_framework(tmp_path):
    proc, out = _tiny_book(tmp_path, [(["mxnet"], "value = 1"), (["pytorch"], "value = 2"),
                                      "print(value)",
                                      (["remove-cell", "pytorch"], "assert value == 3, value  # wrong")])
    assert proc.returncode != 0, out[-3000:]
    summary = out[out.index("BUILD FAILED"):]
    assert "book/broken.md [PyTorch] cell 4" in summary and "AssertionError" in summary, summary
    assert "[MXNet]" not in summary  # the MXNet notebook ran
    assert "book/broken.md [PyTorch]: Executing notebook failed" in out
    assert "assert value == 3, value  # wrong" in out
    report = json.loads((tmp_path / "book-under-test" / "_build" / "execution-times.json").read_text())
    runs = report["runs"]["book/broken.md"]
    assert runs["mxnet"]["ok"] is True and runs["pytorch"]["ok"] is False


@pytest.mark.slow
def test_cell_timeout_fails_the_build_and_names_chapter_and_cell(tmp_path):
    start = time.perf_counter()
    proc, out = _tiny_book(tmp_path, ["import time", "time.sleep(120)  # the slow cell"], timeout=5)
    assert time.perf_counter() - start < 100, "the cell time limit did not stop the cell"
    assert proc.returncode != 0, out[-3000:]
    assert "broken.md" in out and "Executing notebook failed" in out, out[-3000:]
    assert "time.sleep(120)  # the slow cell" in out, out[-3000:]
    assert "CellTimeoutError" in out or "timed out" in out, out[-3000:]
