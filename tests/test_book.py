"""The book as a test: build it (every chapter executed), then check what readers get.

The build runs once per session (``tools/build_book.py``, the same command as
``make book``); jupyter-cache makes a rebuild with unchanged chapters quick.
"""
import json
import re
import shutil
import subprocess
import sys
import time

import pytest

from book_helpers import NOTEBOOK_HEADER, ROOT, build_book, check_bilingual, has_code, source, toc_files

PAGES = toc_files()
CODE_PAGES = [p for p in PAGES if has_code(p)]


def test_toc_pages_exist():
    missing = [p for p in PAGES if not source(p).is_file()]
    assert not missing, f"_toc.yml lists pages that do not exist: {missing}"
    assert len(CODE_PAGES) >= 2, CODE_PAGES


@pytest.mark.parametrize("page", PAGES)
def test_page_is_bilingual(page):
    problems = check_bilingual.check_file(source(page))
    assert not problems, "\n".join(problems)


# The `built_book` fixture (the real build, once per session) is in conftest.py: the
# browser tests of tests/test_site.py use the same build.


def _chapter_log(output, page):
    """The part of the build output about one chapter's failed execution."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if f"{page}.md" in line and "Executing notebook failed" in line:
            return "\n".join(lines[i:i + 60])
    return ""


@pytest.mark.slow
def test_book_builds_without_warnings(built_book):
    assert built_book.returncode == 0, (
        "The book build failed:\n" + built_book.stdout[-6000:] + built_book.stderr[-3000:]
    )


@pytest.mark.slow
@pytest.mark.parametrize("page", CODE_PAGES)
def test_chapter_executes(built_book, page):
    log = _chapter_log(built_book.stdout, page)
    assert not log, f"Chapter {page} failed to execute:\n{log}"
    executed = ROOT / "_build" / "jupyter_execute" / f"{page}.ipynb"
    assert executed.is_file(), f"{page} was not executed (no {executed})"
    nb = json.loads(executed.read_text(encoding="utf-8"))
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code_cells, f"{page} has no code cells in its executed notebook"
    times = build_book.execution_times(ROOT / "_build")
    assert source(page).resolve() in times, f"{page} has no execution record in jupyter-cache"
    assert any(c.get("outputs") for c in code_cells), f"{page}: no code cell has output"
    for index, cell in enumerate(code_cells):
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, f"{page}: code cell {index} raised {errors[0].get('ename')}"


@pytest.mark.slow
def test_no_missing_glyphs_in_figures(built_book):
    assert build_book.glyph_warnings(ROOT / "_build") == []
    assert "Glyph" not in built_book.stdout


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
    report = json.loads((ROOT / "_build" / "execution-times.json").read_text())
    assert report["ok"] is True
    recorded = set(report["chapters"])
    assert {f"{p}.md" for p in CODE_PAGES} <= recorded, recorded


def _tiny_book(tmp_path, cells, timeout=None):
    """A one-chapter book using this repo's configuration and extensions."""
    book = tmp_path / "book-under-test"
    (book / "book").mkdir(parents=True)
    config = (ROOT / "_config.yml").read_text(encoding="utf-8")
    if timeout is not None:
        config = re.sub(r"timeout: \d+", f"timeout: {timeout}", config)
    (book / "_config.yml").write_text(config, encoding="utf-8")
    shutil.copytree(ROOT / "book" / "_ext", book / "book" / "_ext")
    shutil.copytree(ROOT / "book" / "_static", book / "book" / "_static")
    (book / "_toc.yml").write_text("format: jb-book\nroot: book/broken\n")
    header = NOTEBOOK_HEADER + "# 고장 난 장 (Broken Chapter)\n"
    body = "".join(f"\n```{{code-cell}} ipython3\n{cell}\n```\n" for cell in cells)
    (book / "book" / "broken.md").write_text(header + body, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py"),
                           "--root", str(book)], capture_output=True, text=True, timeout=600)
    return proc, proc.stdout + proc.stderr


@pytest.mark.slow
def test_failing_cell_fails_the_build_and_names_chapter_and_cell(tmp_path):
    proc, out = _tiny_book(tmp_path, ["ratio = 1 / 2", "ratio = 1 / 0  # the failing cell"])
    assert proc.returncode != 0, out[-3000:]
    assert "broken.md" in out and "Executing notebook failed" in out, out[-3000:]
    assert "ratio = 1 / 0  # the failing cell" in out, out[-3000:]
    assert "ZeroDivisionError" in out, out[-3000:]
    assert "BUILD FAILED" in out


@pytest.mark.slow
def test_cell_timeout_fails_the_build_and_names_chapter_and_cell(tmp_path):
    start = time.perf_counter()
    proc, out = _tiny_book(tmp_path, ["import time", "time.sleep(120)  # the slow cell"], timeout=5)
    assert time.perf_counter() - start < 100, "the cell time limit did not stop the cell"
    assert proc.returncode != 0, out[-3000:]
    assert "broken.md" in out and "Executing notebook failed" in out, out[-3000:]
    assert "time.sleep(120)  # the slow cell" in out, out[-3000:]
    assert "CellTimeoutError" in out or "timed out" in out, out[-3000:]
