"""The published site as a reader gets it, checked in a real browser.

Debian's ``chromium`` (installed by ``.ci/run``), driven by Playwright, headless, loads the
pages from ``_build/html`` served on 127.0.0.1. Covered: the language switch, math with
the network blocked (MathJax, fonts and scripts all served by the site), Korean search,
the glossary links, the API reference, the execution statistics, the MXNet | PyTorch tabs
and their switch, the notebook of each framework (downloads, Colab and Binder links, one run
in a fresh kernel), copy buttons, internal links, and the GitHub Pages workflow.

The tests marked ``slow`` use the session's real build (the ``built_book`` fixture in
conftest.py, shared with tests/test_book.py). Screenshots of a chapter in each language
are written to ``test-artifacts/site/`` (git-ignored).
"""
import contextlib
import functools
import html
import http.server
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
import yaml

from book_helpers import INDEX_PAGE, ROOT, TWO_FRAMEWORKS, has_code, make_book, run_build, toc_files

sys.path.insert(0, str(ROOT / "book" / "_ext"))

import korean_search  # noqa: E402
import site_assets  # noqa: E402

SITE = ROOT / "_build" / "html"
ARTIFACTS = ROOT / "test-artifacts" / "site"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PAGES = toc_files()
CODE_PAGES = [p for p in PAGES if has_code(p)]
SEARCH_QUERIES = ["모델", "학습", "활성화 함수", "역전파", "perceptron", "dropout"]
CDN = re.compile(r"cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com|googleapis\.com|"
                 r"gstatic\.com|cdn\.mathjax\.org|polyfill\.io|bootstrapcdn\.com|"
                 r"fontawesome\.com|code\.jquery\.com", re.IGNORECASE)
HANGUL = re.compile("[\uac00-\ud7a3]")


# ----------------------------------------------------------------- helpers
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(directory):
    """Serve a folder on 127.0.0.1 (a free port) in a thread; yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def is_local(url):
    host = urlsplit(url).hostname
    return url.startswith(("data:", "blob:", "about:")) or host in ("127.0.0.1", "localhost")


def article_text(html_path):
    """The text of a page's <article> (what the search index holds), without scripts."""
    text = Path(html_path).read_text(encoding="utf-8")
    match = re.search(r"<article\b[^>]*>(.*)</article>", text, re.DOTALL)
    assert match, f"{html_path}: no <article>"
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", match.group(1), flags=re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def site_pages():
    """The HTML pages the build makes (_build/html may also hold pages of older builds)."""
    pages = [SITE / f"{p}.html" for p in PAGES]
    pages += [SITE / name for name in ("index.html", "genindex.html", "search.html",
                                       "py-modindex.html") if (SITE / name).is_file()]
    missing = [str(p) for p in pages if not p.is_file()]
    assert not missing, f"pages missing from the build: {missing}"
    return pages


def query_terms(query):
    """The words a page must contain for `query` (Sphinx ANDs them); lowercase."""
    return [w.lower() for w in query.split()]


def query_bigrams(query):
    return [t.lower() for t in korean_search.split_korean(query, index=False)]


def search(page, base, query):
    """Run the site's search page for `query`; return the result pages (e.g. 'book/api')."""
    page.goto(urljoin(base, "search.html?q=" + query))
    page.wait_for_function(
        "() => { const s = document.querySelector('#search-results p.search-summary');"
        " return s && s.innerText.trim().length > 0; }", timeout=30000)
    hrefs = page.eval_on_selector_all("#search-results ul.search > li > a:first-of-type",
                                      "els => els.map(a => a.getAttribute('href'))")
    return {posixpath.normpath(urlsplit(h).path).removesuffix(".html") for h in hrefs}


def block_visibility(page):
    """[(lang, displayed)] for every prose block of the page."""
    return page.eval_on_selector_all(
        ".lang-block", "els => els.map(e => [e.getAttribute('lang'),"
        " getComputedStyle(e).display !== 'none'])")


def assert_language(page, lang, where=""):
    assert page.evaluate("document.documentElement.lang") == lang, where
    blocks = block_visibility(page)
    assert blocks, f"{where}: no prose blocks"
    wrong = [b for b in blocks if b[1] != (b[0] == lang)]
    assert not wrong, f"{where}: {len(wrong)} of {len(blocks)} blocks not switched to {lang}"


KOREAN_FONT = re.compile(r"Nanum|Gothic|Noto Sans (CJK )?KR|Malgun|Apple SD|Pretendard|Un ?Dotum",
                         re.IGNORECASE)


def assert_hangul_has_a_font(page):
    """Hangul in the sidebar, headings, prose and code is drawn with a Korean font (no boxes)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    for selector in ["p.caption span.caption-text", "article h1", "article .lang-ko p",
                     "nav a.reference", "div.cell_input pre"]:
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        assert node, selector
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        text = page.inner_text(selector)
        if HANGUL.search(text):
            assert any(f["isCustomFont"] or KOREAN_FONT.search(f["familyName"]) for f in fonts), (
                f"{selector} ({text[:30]!r}) drawn without a Korean font: {fonts}")
    cdp.detach()


def wait_for_math(page):
    page.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)",
                           timeout=30000)
    page.evaluate("() => window.MathJax ? MathJax.startup.promise.then(() => true) : true")


# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} missing: .ci/run installs Debian's chromium"
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                      headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def site(built_book):
    """The session's real build, served on 127.0.0.1."""
    assert built_book.returncode == 0, ("The book build failed:\n" + built_book.stdout[-4000:]
                                        + built_book.stderr[-2000:])
    with serve(SITE) as base:
        yield base


@contextlib.contextmanager
def open_page(browser, locale="ko-KR", **options):
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900},
                                  **options)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"


# ----------------------------------------------------------------- fast checks
def test_korean_index_and_query_split_the_same_way(browser):
    """Python (index) and the JavaScript shipped to readers (query) agree on Hangul terms."""
    text = "역전파를 써서 MLP의 모델을 학습합니다. 은닉층 Dropout perceptrons"
    index_terms = set(korean_search.split_korean(text, index=True))
    assert {"모델", "학습", "역전", "전파", "층", "MLP", "Dropout"} <= index_terms
    assert "역전파를" not in index_terms  # particles never glue to the indexed terms
    with open_page(browser) as page:
        page.set_content("<html><body></body></html>")
        page.add_script_tag(content=korean_search.JS_SPLITTER + korean_search.JS_STEMMER)
        for query, expected in [("모델", ["모델"]), ("역전파", ["역전", "전파"]),
                                ("활성화 함수", ["활성", "성화", "함수"]), ("층", ["층"]),
                                ("MLP의", ["MLP", "의"]), ("perceptrons", ["perceptrons"])]:
            got = page.evaluate("q => splitQuery(q)", query)
            assert got == expected, (query, got)
            assert got == korean_search.split_korean(query, index=False)
        stem = "w => new Stemmer().stemWord(w)"
        assert page.evaluate(stem, "perceptrons") == korean_search.SearchKorean({}).stem("perceptrons")
        assert page.evaluate(stem, "모델") == "모델"


def test_pages_workflow_builds_and_deploys_on_push_to_main():
    path = ROOT / ".github" / "workflows" / "pages.yml"
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1: on -> True
    assert triggers["push"]["branches"] == ["main"]
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    uses = [step.get("uses", "") for step in build["steps"]]
    runs = " ".join(step.get("run", "") for step in build["steps"])
    assert any(u.startswith("actions/checkout@") for u in uses)
    assert any(u.startswith("actions/setup-python@") for u in uses)
    assert [s["with"]["python-version"] for s in build["steps"]
            if s.get("uses", "").startswith("actions/setup-python@")] == ["3.11"]
    assert "make book" in runs and "apt-get install" in runs
    upload = [s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert upload and upload[0]["with"]["path"] == "_build/html"
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in deploy["steps"])
    # The notebooks branch that Colab and Binder open: the build's _build/notebooks.
    artifact = [s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert artifact and artifact[0]["with"] == {"name": "notebooks", "path": "_build/notebooks",
                                                "if-no-files-found": "error"}
    notebooks = workflow["jobs"]["notebooks"]
    assert notebooks["needs"] == "build" and notebooks["permissions"] == {"contents": "write"}
    publish = " ".join(step.get("run", "") for step in notebooks["steps"])
    assert "git push --force" in publish and " notebooks" in publish.split("git push")[1]
    assert "_build/.dlbook" in build["steps"][[s.get("name") for s in build["steps"]].index(
        "Restore the execution cache")]["with"]["path"]
    # The GitHub Actions workflow schema (bundled with check-jsonschema: no network).
    lint = subprocess.run([str(Path(sys.executable).parent / "check-jsonschema"),
                           "--builtin-schema", "vendor.github-workflows", str(path)],
                          capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_project_files_install_the_browser_and_pin_every_requirement():
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"for pkg in [^;]*\bchromium\b", ci), ".ci/run must install chromium"
    # What the Makefile installs (pip install -c constraints.txt -e ".[extras]"), each
    # requirement of those extras pinned by constraints.txt to a version inside its range.
    makefile = (ROOT / "Makefile").read_text()
    extras = {e for group in re.findall(r'-c constraints\.txt -e "\.\[([a-z,]+)\]"', makefile)
              for e in group.split(",")}
    assert {"mxnet", "torch", "book", "test", "bench"} <= extras
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.split("#")[0].strip():
            pin = Requirement(line)
            (version,) = [spec.version for spec in pin.specifier if spec.operator == "=="]
            pins[canonicalize_name(pin.name)] = version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = [Requirement(r) for r in project["dependencies"]] + [
        Requirement(r) for extra in sorted(extras)
        for r in project["optional-dependencies"][extra]]
    problems = []
    for requirement in needed:
        name = canonicalize_name(requirement.name)
        if name == "dlbook" or (requirement.marker and not requirement.marker.evaluate()):
            continue
        if name not in pins:
            problems.append(f"{requirement} is not pinned")
        elif pins[name] not in requirement.specifier:
            problems.append(f"{requirement} is pinned to {pins[name]}")
    assert problems == [] and len(needed) > 20


def test_readme_commands_name_real_targets_extras_modules_files_and_chapters():
    """The README's instructions refer to things that exist: a renamed make target, extra,
    module, file or chapter leaves a command that fails."""
    import tomllib

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.M))
    named = set(re.findall(r"\bmake ([a-z][a-z-]*)\b", readme))
    assert {"book", "test", "pdf"} <= named and sorted(named - targets) == []
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"])
    asked = {e for group in re.findall(r"(?:dlbook|\.)\[([a-z,]+)\]", readme)
             for e in group.split(",")}
    assert {"mxnet", "torch", "text"} <= asked and sorted(asked - extras) == []
    modules = set(re.findall(r"python -m (tools\.[a-z_]+)", readme))
    assert modules and [m for m in modules
                        if not (ROOT / (m.replace(".", "/") + ".py")).is_file()] == []
    paths = {p for p in re.findall(r"`([\w./-]+/[\w.-]+\.(?:py|md|yml|txt|toml))`", readme)
             if not p.startswith(("_build/", "~"))}
    assert ".github/workflows/pages.yml" in paths
    assert sorted(p for p in paths if not (ROOT / p).is_file()) == []
    chapters = set(re.findall(r"jupyter lab [\w/]*?([a-z-]+)(?:\.(?:mxnet|pytorch))?\.ipynb",
                              readme))
    assert chapters and sorted(chapters - {Path(p).name for p in toc_files()}) == []


# ----------------------------------------------------------------- the real site
@pytest.mark.slow
def test_language_switch_changes_every_block_of_every_page_and_persists(site, browser):
    with open_page(browser, locale="ko-KR") as page:
        page.goto(urljoin(site, PAGES[0] + ".html"))
        assert_language(page, "ko", PAGES[0])
        page.click(".dlbook-lang-switch")
        assert_language(page, "en", PAGES[0])
        for name in PAGES[1:]:
            page.goto(urljoin(site, name + ".html"))
            assert_language(page, "en", f"{name} (choice carried over from the previous page)")
            page.click(".dlbook-lang-switch")  # one click: every block to Korean
            assert_language(page, "ko", name)
            assert page.inner_text(".dlbook-lang-switch") == "English"
            page.click(".dlbook-lang-switch")
            assert_language(page, "en", name)
            assert page.inner_text(".dlbook-lang-switch") == "한국어"


@pytest.mark.slow
def test_the_language_switch_shows_each_figure_in_the_reader_language(site, browser):
    """A figure with Korean labels exists once per language; the switch shows the reader's."""
    figures = ("els => els.map(e => [e.getAttribute('lang'), e.querySelector('img').getAttribute('src'),"
               " getComputedStyle(e).display !== 'none',"
               " e.querySelector('img').complete && e.querySelector('img').naturalWidth > 0])")
    with open_page(browser, locale="ko-KR") as page:
        page.goto(urljoin(site, "book/activation-functions.html"))
        page.wait_for_load_state("load")
        korean = page.eval_on_selector_all(".dlbook-figure", figures)
        assert len(korean) >= 8 and [f[0] for f in korean] == ["ko", "en"] * (len(korean) // 2)
        for ko, en in zip(korean[::2], korean[1::2]):
            assert ko[1] != en[1], "the two languages' figures are the same file"
        assert all(shown == (lang == "ko") for lang, _, shown, _ in korean), korean
        assert all(loaded for lang, _, _, loaded in korean if lang == "ko"), korean
        page.click(".dlbook-lang-switch")
        english = page.eval_on_selector_all(".dlbook-figure", figures)
        assert all(shown == (lang == "en") for lang, _, shown, _ in english), english
        assert all(loaded for lang, _, _, loaded in english if lang == "en"), english


@pytest.mark.slow
@pytest.mark.parametrize("locale, expected", [("ko-KR", "ko"), ("en-US", "en"),
                                              ("en-GB", "en"), ("fr-FR", "ko")])
def test_first_visit_follows_the_browser_language(site, browser, locale, expected):
    with open_page(browser, locale=locale) as page:
        page.goto(urljoin(site, CODE_PAGES[0] + ".html"))
        assert_language(page, expected, locale)


@pytest.mark.slow
def test_language_choice_persists_across_visits(site, browser):
    for browser_lang, chosen in [("ko-KR", "en"), ("en-US", "ko")]:
        context = browser.new_context(locale=browser_lang)
        page = context.new_page()
        page.goto(urljoin(site, PAGES[0] + ".html"))
        page.click(".dlbook-lang-switch")
        assert_language(page, chosen)
        state = context.storage_state()
        context.close()
        # A later visit: a new browser session with the same site storage.
        with open_page(browser, locale=browser_lang, storage_state=state) as page:
            page.goto(urljoin(site, CODE_PAGES[-1] + ".html"))
            assert_language(page, chosen, f"revisit with browser language {browser_lang}")


@pytest.mark.slow
def test_screenshots_of_a_chapter_in_each_language(site, browser):
    """test-artifacts/site/<chapter>-<lang>[-figure].png: look at them."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    chapter = max(CODE_PAGES, key=lambda p: (SITE / f"{p}.html").read_text().count("<img"))
    assert "<img" in (SITE / f"{chapter}.html").read_text(), "no chapter shows a figure"
    for lang, locale in [("ko", "ko-KR"), ("en", "en-US")]:
        with open_page(browser, locale=locale) as page:
            page.goto(urljoin(site, chapter + ".html"))
            wait_for_math(page)
            page.evaluate("document.fonts.ready.then(() => true)")
            assert_language(page, lang)
            first = page.eval_on_selector_all(
                "article .lang-block", "els => els.filter(e => e.offsetParent)"
                ".map(e => e.innerText)")[0]
            hangul, latin = len(HANGUL.findall(first)), len(re.findall("[A-Za-z]", first))
            assert (hangul > latin) if lang == "ko" else (hangul < 0.2 * latin), first[:200]
            if lang == "ko":
                assert_hangul_has_a_font(page)
            name = chapter.replace("/", "-")
            top = ARTIFACTS / f"{name}-{lang}.png"
            page.screenshot(path=str(top))
            figure = page.locator("article img:visible").first  # the figure of this language
            figure.scroll_into_view_if_needed()
            page.wait_for_timeout(300)
            page.screenshot(path=str(ARTIFACTS / f"{name}-{lang}-figure.png"))
            assert figure.evaluate("img => img.complete && img.naturalWidth > 0")
            assert top.stat().st_size > 20_000


PLOTS = re.compile(r"\bdl\.(plot_\w+|show_images)\(|\bplt\.(plot|subplots|figure|imshow|bar|scatter"
                   r"|hist|show)\(|\bax\w*\.(plot|imshow|scatter)\(")


def code_cells(page):
    """The source of a chapter's code cells that the page shows (not remove-cell ones)."""
    text = (ROOT / f"{page}.md").read_text(encoding="utf-8")
    cells = re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```", text, re.DOTALL | re.MULTILINE)
    shown = []
    for cell in cells:
        options = [line for line in cell.splitlines()[:5] if line.startswith((":", "tags", "  -"))]
        if not any("remove-cell" in o or "remove-output" in o for o in options):
            shown.append(cell)
    return "\n".join(shown)


def recorded_values():
    """{(chapter file, framework, key): value} of every number the executed notebooks glued
    (dl.record), read from the build's executed notebooks themselves."""
    import nbformat

    from tools import frameworks

    values = {}
    report = json.loads((ROOT / "_build" / "execution-times.json").read_text())
    for chapter, runs in report["runs"].items():
        for framework, run in runs.items():
            path = ROOT / "_build" / ".dlbook" / "executed" / framework / chapter.replace(".md", ".ipynb")
            if not run["ok"]:
                continue
            nb = nbformat.read(path, as_version=4)
            for served in run["served"]:
                for key, value in frameworks.records(nb).items():
                    values[(Path(chapter).name, served, key)] = value
    return values, report


@pytest.mark.slow
def test_results_page_shows_the_numbers_the_chapters_recorded(built_book):
    """Every number on the results page is the one its chapter measured in this build, per
    framework; a framework a chapter did not run shows –."""
    assert built_book.returncode == 0
    recorded, report = recorded_values()
    ran = {(Path(c).name, fw) for c, runs in report["runs"].items()
           for run in runs.values() if run["ok"] for fw in run["served"]}
    source = (ROOT / "book" / "results.md").read_text(encoding="utf-8")
    refs = re.findall(r"\{recorded\}`(\w+):([\w-]+\.md)::(\w+):([^`]+)`", source)
    assert len(refs) >= 40, refs
    assert {fw for fw, *_ in refs} == {"mxnet", "pytorch"}
    missing = sorted({(doc, fw, key) for fw, doc, key, _ in refs
                      if (doc, fw) in ran and (doc, fw, key) not in recorded})
    assert not missing, f"results.md shows values no chapter recorded: {missing}"
    expected = [format(recorded[(doc, fw, key)], fmt) if (doc, fw) in ran else "–"
                for fw, doc, key, fmt in refs]
    page = (SITE / "book" / "results.html").read_text(encoding="utf-8")
    shown = [html.unescape(t) for t in
             re.findall(r'<span class="recorded-value recorded-\w+">([^<]*)</span>', page)]
    assert shown == expected
    # One table per chapter of every recorded value, MXNet beside PyTorch.
    tables = re.findall(r'<div class="recorded-results[^"]*">(.*?)</div>\s*</div>', page, re.S)
    assert len(tables) == 2  # Korean and English
    for doc, fw, key in recorded:
        assert f"<code class=\"docutils literal notranslate\"><span class=\"pre\">{key}</span></code>" \
            in tables[0], key
    # The benchmark table: one row per run, in each language.
    runs = json.loads((ROOT / "bench" / "results.json").read_text())["results"]
    body = re.findall(r'<div class="benchmark-results[^"]*">(.*?)</table>', page, re.S)
    assert len(body) == 2, "expected the Korean and the English benchmark table"
    for table in body:
        assert len(re.findall(r"<tr", table)) == len(runs) + 1
        for run in runs:
            assert f"{run['examples_per_s']:,}" in table if "error" not in run else "failed" in table


@pytest.mark.slow
def test_chapters_that_plot_show_their_figures(built_book):
    """A chapter whose code draws shows SVG figures (none vanish, e.g. to a non-inline backend)."""
    assert built_book.returncode == 0
    plotting = [p for p in CODE_PAGES if PLOTS.search(code_cells(p))]
    assert plotting, "no chapter draws a figure"
    for chapter in plotting:
        page = SITE / f"{chapter}.html"
        images = re.findall(r'<img[^>]*\bsrc="([^"]+)"', page.read_text(encoding="utf-8"))
        assert images, f"{chapter} draws figures but its page shows none"
        for src in images:
            assert (page.parent / src).resolve().is_file(), f"{chapter}: {src} missing"
        assert any(src.endswith(".svg") for src in images), f"{chapter}: no SVG figure"


@pytest.mark.slow
def test_built_html_names_no_cdn_and_loads_nothing_remote(built_book):
    assert built_book.returncode == 0
    pages = site_pages()
    remote = re.compile(r"""<(?:script|img|iframe|source|audio|video|embed)\b[^>]*\bsrc=["'](?:https?:)?//"""
                        r"""|<link\b[^>]*\bhref=["'](?:https?:)?//""", re.IGNORECASE)
    for path in pages:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert not CDN.search(text), f"{path.relative_to(SITE)} names a CDN: {CDN.search(text).group()}"
        found = remote.search(text)
        assert not found, f"{path.relative_to(SITE)} loads a remote resource: {found.group()}"
    for css in SITE.joinpath("_static").rglob("*.css"):
        text = css.read_text(encoding="utf-8", errors="replace")
        assert not re.search(r"url\(\s*['\"]?(https?:)?//|@import\s+['\"]?(https?:)?//", text), css
    assert (SITE / "_static" / "mathjax" / "tex-mml-chtml.js").is_file()
    # Nor does any script the site serves hold a CDN's address, MathJax's accessibility
    # components included (Font Awesome's "fontawesome.com" credit is no address).
    address = re.compile(r"//(?:[\w-]+\.)*(?:" + CDN.pattern + ")", re.IGNORECASE)
    scripts = list(SITE.joinpath("_static").rglob("*.js"))
    assert len(scripts) > 50
    for script in scripts:
        found = address.search(script.read_text(encoding="utf-8", errors="replace"))
        assert not found, f"{script.relative_to(SITE)} names a CDN: {found.group()}"
    # Of MathJax's combined bundles only the one the pages load is served.
    bundles = sorted(p.name for p in (SITE / "_static" / "mathjax").glob("*.js"))
    assert bundles == ["tex-mml-chtml.js"], bundles


def test_mathjax_copy_makes_cdn_addresses_inert():
    source = site_assets.mathjax_source()
    engine = (source / "a11y" / "sre.js").read_text(encoding="utf-8")
    assert CDN.search(engine), "the shipped speech-rule engine no longer names a CDN: update the docs"
    inert = site_assets.offline_mathjax_text(engine)
    assert not CDN.search(inert)
    assert inert.count(site_assets.MATHJAX_OFFLINE) == len(site_assets.MATHJAX_CDN.findall(engine)) >= 3
    assert len(inert) < len(engine) and inert.replace(site_assets.MATHJAX_OFFLINE, "") == \
        site_assets.MATHJAX_CDN.sub("", engine)  # nothing else changed
    excluded = site_assets.mathjax_excluded("tex-mml-chtml.js")
    assert excluded("tex-svg.js") and excluded("latest.js") and excluded("node-main.js")
    assert not excluded("tex-mml-chtml.js") and not excluded("output/svg.js")
    assert not excluded("a11y/sre.js") and not excluded("sre/mathmaps/en.json")


# Every option of MathJax's menu that loads something: the accessibility explorer and its
# speech, Braille and highlighting, the other renderer, each speech language.
MATH_MENU_SETTINGS = [("explorer", True), ("speech", True), ("braille", True), ("viewBraille", True),
                      ("speechRules", "clearspeak-default"), ("semantics", True), ("zoom", "Click"),
                      ("assistiveMml", False), ("treeColoring", True), ("infoType", True),
                      ("infoRole", True), ("infoPrefix", True), ("magnification", "Keyboard"),
                      ("highlight", "Hover"), ("collapsible", True), ("autocollapse", True),
                      ("renderer", "SVG")]


@pytest.mark.slow
def test_no_math_menu_option_reaches_outside_the_site(site, browser):
    locales = sorted(p.stem for p in (SITE / "_static" / "mathjax" / "sre" / "mathmaps").glob("*.json")
                     if p.stem != "base")
    assert {"en", "de", "nemeth"} <= set(locales)
    attempted, failed, loaded = [], [], set()
    context = browser.new_context(locale="ko-KR")

    def route(route):
        url = route.request.url
        if is_local(url):
            loaded.add(urlsplit(url).path.split("/_static/mathjax/")[-1])
            route.continue_()
        else:
            attempted.append(url)
            route.abort()

    context.route("**/*", route)
    context.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    context.on("requestfailed", lambda r: is_local(r.url) and failed.append(f"failed {r.url}"))
    set_option = """async ([name, value]) => {
        const option = MathJax.startup.document.menu.menu.pool.lookup(name);
        if (!option) return null;
        option.setValue(value);
        await new Promise(done => setTimeout(done, 50));
        await MathJax.startup.promise;
        if (name !== "speechRules") return option.getValue();
        const sre = MathJax.startup.document.options.sre;  // this one sets the engine's rules
        return sre.domain + "-" + sre.style;
    }"""
    try:
        page = context.new_page()
        page.goto(urljoin(site, "book/training.html"), wait_until="load")
        wait_for_math(page)
        settings = MATH_MENU_SETTINGS + [("locale", lang) for lang in locales] + [("renderer", "CHTML")]
        for name, value in settings:
            got = page.evaluate(set_option, [name, value])
            assert got == value, f"menu option {name}: set {value!r}, reads {got!r}"
            page.wait_for_timeout(200)
        page.wait_for_timeout(1000)
        wait_for_math(page)
        sources = page.locator(".math").count()
        rendered = page.evaluate("() => [...document.querySelectorAll('.math')].filter("
                                 "m => m.querySelector('mjx-container mjx-math')).length")
    finally:
        context.close()
    assert not attempted, "the math menu reached outside the site:\n" + "\n".join(attempted)
    assert not failed, "\n".join(failed)
    # The options did load what they need, from the site.
    assert {"a11y/explorer.js", "a11y/sre.js", "output/svg.js"} <= loaded, sorted(loaded)
    assert {f"sre/mathmaps/{lang}.json" for lang in locales} <= loaded, sorted(loaded)
    assert sources > 100 and rendered == sources, (sources, rendered)


@pytest.mark.slow
def test_math_renders_with_the_network_blocked(site, browser):
    attempted, failed = [], []
    context = browser.new_context(locale="ko-KR")

    def route(route):
        if is_local(route.request.url):
            route.continue_()
        else:
            attempted.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    context.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    context.on("requestfailed", lambda r: is_local(r.url) and failed.append(f"failed {r.url}"))
    math_pages = 0
    try:
        page = context.new_page()
        for name in PAGES:
            page.goto(urljoin(site, name + ".html"), wait_until="load")
            wait_for_math(page)
            sources = page.locator(".math").count()
            rendered = page.evaluate(
                "() => [...document.querySelectorAll('.math')].filter("
                "m => m.querySelector('mjx-container')).length")
            assert rendered == sources, f"{name}: {sources - rendered} equations not rendered"
            assert page.locator("mjx-merror").count() == 0, f"{name}: TeX errors"
            if sources:
                math_pages += 1
            for lang in ("ko", "en"):
                if page.evaluate("document.documentElement.lang") != lang:
                    page.click(".dlbook-lang-switch")
                visible = page.evaluate(
                    "() => { const a = document.querySelector('article').cloneNode(true);"
                    " a.querySelectorAll('pre, code, .lang-block:not(.lang-%s)')"
                    ".forEach(e => e.remove()); document.body.appendChild(a);"
                    " const t = a.innerText; a.remove(); return t; }" % lang)
                for raw in ("$$", "\\[", "\\(", "\\begin{"):
                    assert raw not in visible, f"{name} ({lang}): raw TeX {raw!r} is visible"
        # The Hangul web font comes from the site too and loads.
        loaded = page.evaluate("document.fonts.load('16px \"dlbook Hangul\"', '한').then(f => f.length)")
        assert loaded >= 1
    finally:
        context.close()
    assert math_pages >= 1, "no page with math: the test checks nothing"
    assert attempted == [], f"requests to other hosts: {attempted[:10]}"
    assert failed == [], f"site resources that failed to load: {failed[:10]}"


@pytest.mark.slow
def test_hangul_font_covers_every_character_of_the_site(built_book):
    from fontTools.ttLib import TTFont

    used = set()
    for path in SITE.rglob("*.html"):
        used |= set(HANGUL.findall(path.read_text(encoding="utf-8", errors="replace")))
    assert len(used) > 100
    css = (SITE / "_static" / "bilingual.css").read_text(encoding="utf-8")
    for name in site_assets.FONTS:
        font = SITE / "_static" / "fonts" / name
        assert font.is_file() and f'url("fonts/{name}")' in css
        assert font.stat().st_size < 1_000_000, "the Hangul font should be a subset"
        cmap = TTFont(str(font)).getBestCmap()
        missing = sorted(c for c in used if ord(c) not in cmap)
        assert not missing, f"Hangul missing from {name}: {''.join(missing[:40])}"


@pytest.mark.slow
@pytest.mark.parametrize("query", SEARCH_QUERIES)
def test_search_finds_the_pages_that_contain_the_query(site, browser, query):
    texts = {p: article_text(SITE / f"{p}.html").lower() for p in PAGES}
    expected = {p for p, t in texts.items() if all(w in t for w in query_terms(query))}
    with open_page(browser) as page:
        found = search(page, site, query)
    missing = expected - found
    assert not missing, f"{query!r}: pages that contain it were not found: {sorted(missing)}"
    # Every result holds every search term (for Korean: every syllable pair).
    bigrams = query_bigrams(query)
    wrong = {p for p in found if p in texts and not all(b in texts[p] for b in bigrams)}
    assert not wrong, f"{query!r}: results without the query: {sorted(wrong)}"
    if len(query_terms(query)) == 1 and len(bigrams) == 1:
        assert found <= expected | {"genindex"}, (query, sorted(found - expected))


@pytest.mark.slow
def test_api_reference_is_generated_from_the_docstrings(site, browser):
    import importlib
    import inspect

    import dlbook

    api = (ROOT / "book" / "api.md").read_text(encoding="utf-8")
    documented = re.findall(r"automodule:: (dlbook(?:\.\w+)+)", api)
    exported = [n for n in dlbook.__all__ if inspect.ismodule(getattr(dlbook, n))]
    with open_page(browser) as page:
        page.goto(urljoin(site, "book/api.html"))
        ids = set(page.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
        missing_modules = [f"dlbook.{m}" for m in exported if f"module-dlbook.{m}" not in ids]
        assert not missing_modules, f"modules of dlbook.__all__ not on the API page: {missing_modules}"
        missing = []
        for module_name in documented:
            module = importlib.import_module(module_name)
            for name in getattr(module, "__all__", []):
                obj = getattr(module, name)
                # A name a module re-exports is described once, where it is defined.
                if (inspect.isclass(obj) or inspect.isfunction(obj)) \
                        and f"{obj.__module__}.{obj.__name__}" not in ids:
                    missing.append(f"{module_name}.{name} ({obj.__module__}.{obj.__name__})")
        assert not missing, f"public names without an entry: {missing}"
        # Rendered docstrings: parameter lists and the runnable examples.
        assert page.locator("dl.py.function dl.field-list").count() >= 5
        assert page.locator("div.doctest, div.highlight-pycon").count() >= 5
        trainer = page.locator('[id="dlbook.mxnet.train.Trainer"]')
        assert trainer.count() == 1 and "Trainer" in trainer.inner_text()


@pytest.mark.slow
def test_execution_statistics_page_lists_every_chapter_per_framework(site, browser):
    report = json.loads((ROOT / "_build" / "execution-times.json").read_text())
    with open_page(browser, locale="en-US") as page:
        page.goto(urljoin(site, "book/execution-stats.html"))
        rows = page.eval_on_selector_all(
            "article .lang-en table tbody tr",
            "rows => rows.map(r => [...r.querySelectorAll('td')].map(td => td.innerText.trim())"
            ".concat([r.querySelector('a') ? r.querySelector('a').getAttribute('href') : '']))")
    assert len(rows) == len(CODE_PAGES)
    by_href = {row[-1].split("#")[0]: row for row in rows}
    for chapter in CODE_PAGES:
        name = chapter.split("/")[-1] + ".html"
        assert name in by_href, f"{chapter} missing from the execution statistics: {list(by_href)}"
        _, mxnet, pytorch, when, how, status, _ = by_href[name]
        runs = report["runs"][f"{chapter}.md"]
        for framework, shown in (("mxnet", mxnet), ("pytorch", pytorch)):
            if framework in runs:
                assert float(shown) == pytest.approx(runs[framework]["seconds"], abs=0.051)
            else:
                served = any(framework in r["served"] for r in runs.values())
                assert shown == ("(same notebook)" if served else "–"), (chapter, shown)
        assert how in ("executed", "cache") and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", when)
        assert status == ("✅" if all(r["ok"] for r in runs.values()) else "❌")


def _uses_framework_tags(chapter):
    return re.search(r"^:tags: \[[^\]]*\b(mxnet|pytorch)\b", source_text(chapter), re.M) is not None


def source_text(chapter):
    return (ROOT / f"{chapter}.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_every_framework_cell_of_every_chapter_is_in_a_framework_tab_set(site, browser):
    tabbed = 0
    with open_page(browser) as page:
        for chapter in CODE_PAGES:
            page.goto(urljoin(site, chapter + ".html"))
            found = page.evaluate("""() => {
                const cells = [...document.querySelectorAll('article .cell.tag_mxnet, article .cell.tag_pytorch')];
                const sets = [...document.querySelectorAll('article .dlbook-framework-tabs')];
                return {cells: cells.length,
                        loose: cells.filter(c => !c.closest('.dlbook-framework-tabs')).length,
                        sets: sets.length,
                        labels: sets.map(s => [...s.querySelectorAll(':scope > label')].map(l => l.innerText.trim()).join('|'))};
            }""")
            assert found["loose"] == 0, f"{chapter}: framework cells outside a tab set"
            assert set(found["labels"]) <= {"MXNet|PyTorch"}, (chapter, found["labels"])
            if _uses_framework_tags(chapter):
                assert found["sets"] >= 1, f"{chapter} has framework cells but no tab set"
                tabbed += 1
            else:
                assert found["sets"] == 0 and found["cells"] == 0, chapter
    converted = [c for c in CODE_PAGES if _uses_framework_tags(c)]
    assert tabbed == len(converted)


@pytest.mark.slow
def test_each_chapter_offers_a_notebook_per_framework_and_colab_opens_the_pytorch_one(site, browser):
    import nbformat

    from tools import frameworks

    report = json.loads((ROOT / "_build" / "execution-times.json").read_text())
    with open_page(browser) as page:
        for chapter in CODE_PAGES:
            served = [fw for run in report["runs"][f"{chapter}.md"].values() for fw in run["served"]]
            name = chapter.split("/", 1)[1]
            page.goto(urljoin(site, chapter + ".html"))
            for framework, label in (("mxnet", "MXNet"), ("pytorch", "PyTorch")):
                link = page.locator(f".dropdown-download-buttons a.btn-download-{framework}-notebook-button")
                assert link.count() == (1 if framework in served else 0), (chapter, framework)
                if framework not in served:
                    continue
                assert link.inner_text().strip() == f"{label} .ipynb"
                href = link.get_attribute("href")
                assert href.endswith(f"{name}.{framework}.ipynb")
                text = page.evaluate("url => fetch(url).then(r => r.ok ? r.text() : '')", href)
                assert text, f"{chapter}: {href} did not download"
                published = ROOT / "_build" / "notebooks" / framework / f"{name}.ipynb"
                assert text == published.read_text(encoding="utf-8"), "the branch's notebook differs"
                nb = nbformat.reads(text, as_version=4)
                nbformat.validate(nb)
                extras, _ = frameworks.reader_needs(nb)
                extra = ",".join([{"mxnet": "mxnet", "pytorch": "torch"}[framework], *extras])
                assert f'%pip install --quiet "dlbook[{extra}] @ git+https://github.com/dlbook/dlbook@' \
                    in nb.cells[0].source
                code = [c for c in nb.cells[1:] if c.cell_type == "code"]
                other = {"mxnet": "pytorch", "pytorch": "mxnet"}[framework]
                if len(served) == 1 or _uses_framework_tags(chapter):
                    assert not any(other in c.metadata.get("tags", []) for c in code)
                assert any(c.outputs for c in code), f"{chapter}: no outputs in the {label} notebook"
                markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
                assert ":::{ko}" not in markdown and '<div lang="ko">' in markdown
            colab = page.locator(".dropdown-launch-buttons a.btn-colab-button")
            binder = page.locator(".dropdown-launch-buttons a.btn-binder-button")
            assert colab.count() == ("pytorch" in served) and binder.count() == ("mxnet" in served)
            if "pytorch" in served:
                assert colab.get_attribute("href") == (
                    "https://colab.research.google.com/github/dlbook/dlbook/blob/notebooks/"
                    f"pytorch/{name}.ipynb")
            if "mxnet" in served:
                assert binder.get_attribute("href") == (
                    f"https://mybinder.org/v2/gh/dlbook/dlbook/notebooks?labpath=mxnet%2F{name}.ipynb")
    branch = ROOT / "_build" / "notebooks"
    assert (branch / "runtime.txt").read_text() == "python-3.11\n"
    assert (branch / "requirements.txt").read_text().startswith(
        "dlbook[mxnet,text] @ git+https://github.com/dlbook/dlbook@")
    assert (branch / "apt.txt").read_text() == "bible-kjv\n"


def _quickest_notebook(framework):
    """The reader notebook of the chapter whose ``framework`` run was quickest in this build."""
    report = json.loads((ROOT / "_build" / "execution-times.json").read_text())
    candidates = {c: runs[framework]["seconds"] for c, runs in report["runs"].items()
                  if framework in runs and runs[framework]["ok"] and _uses_framework_tags(c[:-3])}
    assert candidates, f"no chapter has a {framework} notebook that ran"
    chapter = min(candidates, key=candidates.get)
    return chapter, ROOT / "_build" / "notebooks" / framework / (chapter.split("/", 1)[1][:-3] + ".ipynb")


_RUN_NOTEBOOK = """
import sys
import nbformat
from nbclient import NotebookClient
path, folder = sys.argv[1], sys.argv[2]
nb = nbformat.read(path, as_version=4)
NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": folder}}).execute()
nbformat.write(nb, path)
print("executed", sum(c.cell_type == "code" for c in nb.cells), "code cells")
"""


@pytest.mark.slow
def test_the_mxnet_notebook_runs_top_to_bottom_in_a_fresh_kernel(built_book, tmp_path):
    """The quickest chapter's MXNet notebook, as Binder gets it, in a fresh kernel of this
    checkout: its install cell finds dlbook and MXNet installed and installs nothing."""
    chapter, source = _quickest_notebook("mxnet")
    path = tmp_path / "chapter.ipynb"
    shutil.copy(source, path)
    env = {k: v for k, v in os.environ.items() if k not in ("DLBOOK_CACHE", "MPLBACKEND")}
    proc = subprocess.run([sys.executable, "-c", _RUN_NOTEBOOK, str(path), str(tmp_path)],
                          capture_output=True, text=True, timeout=900, cwd=tmp_path, env=env)
    assert proc.returncode == 0, f"{chapter} (mxnet) failed:\n{proc.stdout[-2000:]}{proc.stderr[-4000:]}"
    import nbformat

    install = nbformat.read(path, as_version=4).cells[0]
    assert "dlbook-install" in install.metadata.get("tags", [])
    assert not [o for o in install.outputs if "pip" in str(o)], install.outputs


@pytest.mark.slow
def test_the_pytorch_notebook_installs_dlbook_and_runs_in_a_fresh_environment(built_book, wheel,
                                                                            tmp_path):
    """The quickest chapter's PyTorch notebook, as Colab gets it, in a new Python 3.11
    environment that has nothing but Jupyter's kernel: its first cell installs
    ``dlbook[torch]`` -- from the locally built wheel in place of the commit on GitHub, so
    nothing comes from the internet but the package registry -- and every cell runs."""
    import nbformat
    from nbformat.v4 import new_code_cell

    from book_helpers import python_for

    chapter, source = _quickest_notebook("pytorch")
    nb = nbformat.read(source, as_version=4)
    install = nb.cells[0]
    assert "dlbook-install" in install.metadata.get("tags", [])
    requirement = re.search(r'%pip install --quiet "([^"]+)"', install.source).group(1)
    extras = re.match(r"dlbook\[(torch[\w,]*)\] @ git\+https://github.com/dlbook/dlbook@", requirement)
    assert extras, requirement
    install.source = install.source.replace(requirement, f"dlbook[{extras.group(1)}] @ {wheel.as_uri()}")
    nb.cells.append(new_code_cell("import sys, dlbook, torch\n"
                                  "print('where', sys.prefix, dlbook.__file__)"))
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    venv = tmp_path / "venv"
    try:
        subprocess.run([python_for("3.11"), "-m", "venv", str(venv)], check=True, timeout=300)
        py = str(venv / "bin" / "python")
        subprocess.run([py, "-m", "pip", "install", "--quiet", "-c", str(ROOT / "constraints.txt"),
                        "ipykernel", "nbclient", "nbformat"], check=True, timeout=900)
        missing = subprocess.run([py, "-c", "import importlib.util as u; "
                                  "print(u.find_spec('dlbook'), u.find_spec('torch'))"],
                                 capture_output=True, text=True, check=True, cwd=tmp_path)
        assert missing.stdout.split() == ["None", "None"], missing.stdout  # a fresh environment
        # The kernel is this environment's (PATH, an empty Jupyter data folder); pip inside it
        # resolves the book's pins (the CPU build of torch) as the build does.
        env = {k: v for k, v in os.environ.items()
               if k not in ("DLBOOK_CACHE", "MPLBACKEND", "VIRTUAL_ENV", "PYTHONPATH")}
        env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
                   JUPYTER_DATA_DIR=str(tmp_path / "jupyter"),
                   PIP_CONSTRAINT=str(ROOT / "constraints.txt"))
        proc = subprocess.run([py, "-c", _RUN_NOTEBOOK, str(path), str(tmp_path)],
                              capture_output=True, text=True, timeout=1800, cwd=tmp_path, env=env)
        assert proc.returncode == 0, f"{chapter} (pytorch) failed:\n{proc.stdout[-2000:]}{proc.stderr[-4000:]}"
        ran = nbformat.read(path, as_version=4)
        assert all(c.get("execution_count") for c in ran.cells if c.cell_type == "code")
        where = "".join(o.get("text", "") for o in ran.cells[-1].outputs).split()
        assert where[:2] == ["where", str(venv)], where
        assert where[2].startswith(str(venv)), where  # dlbook imported from the installed wheel
    finally:
        shutil.rmtree(venv, ignore_errors=True)


@pytest.mark.slow
def test_copy_button_copies_the_code(site, browser):
    with open_page(browser, permissions=["clipboard-read", "clipboard-write"]) as page:
        page.goto(urljoin(site, CODE_PAGES[0] + ".html"))
        cell = page.locator("div.cell_input div.highlight >> visible=true").first
        cell.hover()
        button = cell.locator("button.copybtn")
        assert button.count() == 1
        button.click()
        copied = page.evaluate("navigator.clipboard.readText()")
        code = cell.locator("pre").inner_text()
        assert copied.strip() and copied.strip() == code.strip()


@pytest.mark.slow
def test_no_broken_internal_links(built_book):
    assert built_book.returncode == 0
    link = re.compile(r"""<(?:a|link)\b[^>]*?\bhref="([^"]*)"|<(?:img|script)\b[^>]*?\bsrc="([^"]*)\"""")
    ids_cache = {}

    def ids(path):
        if path not in ids_cache:
            text = path.read_text(encoding="utf-8", errors="replace")
            ids_cache[path] = set(re.findall(r"""\b(?:id|name)=["']([^"']+)["']""", text))
        return ids_cache[path]

    from tools import build_pdf

    pdf_editions = {build_pdf.pdf_name(lang) for lang in ("ko", "en")}
    pages = site_pages()
    broken, checked = [], 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for match in link.finditer(text):
            url = unquote((match.group(1) or match.group(2) or "").replace("&amp;", "&"))
            parts = urlsplit(url)
            if parts.scheme or url.startswith("//") or not url or url.startswith("javascript:"):
                continue
            target = (page.parent / parts.path).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            checked += 1
            where = f"{page.relative_to(SITE)} -> {url}"
            if not target.is_file():
                if target.parent == SITE / "pdf" and target.name in pdf_editions:
                    continue  # written by `make pdf` (tests/test_pdf.py checks them there)
                broken.append(where + " (no such file)")
            elif parts.fragment and target.suffix == ".html" and parts.fragment not in ids(target):
                broken.append(where + " (no such anchor)")
    assert checked > 100
    assert not broken, "broken internal links:\n" + "\n".join(broken[:30])


# ----------------------------------------------------------------- a small book
SMALL_BOOK = {
    "book/index.md": ("작은 책 (A Small Book)", "검색과 용어집을 시험하는 책입니다.",
                      "A book for trying out search and the glossary."),
    "book/chapter-a.md": (
        "첫째 장 (Chapter A)",
        "**퍼셉트론 (perceptron)** 은 가장 단순한 모델입니다. 이 모델을 데이터로 학습합니다. "
        "출력에는 **활성화 함수**를 씁니다.",
        "The **perceptron** is the simplest model of all. We train perceptrons on data and "
        "apply an **activation function** to their output."),
    "book/chapter-b.md": (
        "둘째 장 (Chapter B)",
        "**역전파 (backpropagation)**는 기울기를 계산하고, 가중치는 학습률만큼 움직입니다. "
        "은닉층을 여러 개 쌓을 수 있습니다.",
        "**Backpropagation** computes the gradients; the weights move by the learning rate. "
        "Dropout switches units off at random."),
    "book/chapter-c.md": ("셋째 장 (Chapter C)", "활성화 값은 출력의 크기를 말합니다.",
                          "An activation value is the size of an output."),
}
SMALL_GLOSSARY = [
    {"ko": "퍼셉트론", "en": "perceptron", "ko_def": "입력의 가중합이 문턱을 넘으면 1을 내는 단위.",
     "en_def": "A unit that outputs 1 when the weighted sum of its inputs crosses a threshold."},
    {"ko": "활성화 함수", "en": "activation function", "ko_def": "뉴런의 출력을 비선형으로 바꾸는 함수.",
     "en_def": "A nonlinear function applied to the output of a neuron."},
    {"ko": "역전파", "en": "backpropagation", "ko_def": "출력에서 입력 쪽으로 기울기를 거꾸로 전하는 계산.",
     "en_def": "Computing gradients from the output back towards the inputs."},
]
SMALL_EXPECTED = {
    "모델": {"book/chapter-a"},
    "학습": {"book/chapter-a", "book/chapter-b"},
    "활성화 함수": {"book/chapter-a", "book/glossary"},
    "역전파": {"book/chapter-b", "book/glossary"},
    "perceptron": {"book/chapter-a", "book/glossary"},
    "dropout": {"book/chapter-b"},
    "층": {"book/chapter-b"},
}


@pytest.fixture(scope="module")
def small_book(tmp_path_factory):
    """A book of four short pages and a generated glossary, built like the real one."""
    from tools import make_glossary

    book = tmp_path_factory.mktemp("small-book")
    (book / "book").mkdir()
    shutil.copy(ROOT / "_config.yml", book / "_config.yml")
    shutil.copytree(ROOT / "book" / "_ext", book / "book" / "_ext")
    shutil.copytree(ROOT / "book" / "_static", book / "book" / "_static")
    for name, (title, ko, en) in SMALL_BOOK.items():
        (book / name).write_text(f"# {title}\n\n:::{{ko}}\n{ko}\n:::\n\n:::{{en}}\n{en}\n:::\n",
                                 encoding="utf-8")
    (book / "book" / "glossary.md").write_text(make_glossary.render(SMALL_GLOSSARY), encoding="utf-8")
    (book / "_toc.yml").write_text(
        "format: jb-book\nroot: book/index\nchapters:\n  - file: book/chapter-a\n"
        "  - file: book/chapter-b\n  - file: book/chapter-c\n  - file: book/glossary\n")
    proc = subprocess.run([sys.executable, "-m", "tools.build_book", "--root", str(book)], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    with serve(book / "_build" / "html") as base:
        yield base


@pytest.mark.slow
@pytest.mark.parametrize("query", sorted(SMALL_EXPECTED))
def test_korean_search_on_a_small_book(small_book, browser, query):
    with open_page(browser) as page:
        assert search(page, small_book, query) == SMALL_EXPECTED[query]


@pytest.mark.slow
def test_bold_terms_link_to_the_glossary_in_the_reader_language(small_book, browser):
    with open_page(browser, locale="ko-KR") as page:
        page.goto(urljoin(small_book, "book/chapter-a.html"))
        links = page.locator(".lang-ko a.dlbook-term")
        assert links.count() == 2  # 퍼셉트론 (perceptron), 활성화 함수
        links.first.click()
        page.wait_for_load_state()
        assert urlsplit(page.url).path.endswith("book/glossary.html")
        target = page.locator(f'[id="{urlsplit(page.url).fragment}"]')
        assert target.is_visible() and target.inner_text().startswith("퍼셉트론 (perceptron)")
        page.go_back()
        page.click(".dlbook-lang-switch")
        links = page.locator(".lang-en a.dlbook-term")
        assert links.count() == 2  # perceptron, activation function
        links.nth(1).click()
        page.wait_for_load_state()
        target = page.locator(f'[id="{urlsplit(page.url).fragment}"]')
        assert target.is_visible()
        assert target.inner_text().startswith("activation function (활성화 함수)")


# ----------------------------------------------------------------- a book in two frameworks
@pytest.fixture(scope="module")
def two_framework_book(tmp_path_factory):
    """Two chapters made of tests/fixtures/two-frameworks.md, built like the real book."""
    chapter = TWO_FRAMEWORKS.read_text(encoding="utf-8")
    second = chapter.replace("# 두 프레임워크 (Two Frameworks)", "# 둘째 장 (The Second Chapter)")
    book = make_book(tmp_path_factory.mktemp("two-frameworks"),
                     {"book/index": INDEX_PAGE, "book/first": chapter, "book/second": second})
    proc = run_build(book)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    with serve(book / "_build" / "html") as base:
        yield base


def shown_frameworks(page):
    """[[visible framework panels] per framework tab set] of the page."""
    return page.eval_on_selector_all(
        ".dlbook-framework-tabs", "sets => sets.map(s => [...s.querySelectorAll(':scope > .sd-tab-content')]"
        ".filter(c => getComputedStyle(c).display !== 'none')"
        ".map(c => c.classList.contains('dlbook-fw-pytorch') ? 'pytorch' : 'mxnet'))")


def assert_framework(page, framework, where=""):
    shown = shown_frameworks(page)
    assert shown, f"{where}: no framework tab sets"
    assert all(s == [framework] for s in shown), f"{where}: {shown} (expected {framework} everywhere)"


@pytest.mark.slow
def test_framework_switch_changes_every_cell_persists_and_leaves_the_language_alone(
        two_framework_book, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = two_framework_book
    with open_page(browser, locale="en-US") as page:
        page.goto(urljoin(base, "book/first.html"))
        assert_framework(page, "mxnet", "first visit")  # MXNet, the book's first framework
        assert len(shown_frameworks(page)) == 3
        assert_language(page, "en")
        page.screenshot(path=str(ARTIFACTS / "frameworks-mxnet-en.png"), full_page=True)
        # One click on any PyTorch tab: every tab set of the page shows PyTorch.
        page.locator(".dlbook-framework-tabs label.dlbook-fw-pytorch").last.click()
        assert_framework(page, "pytorch", "after one click")
        assert "pytorch total: 12.0" in page.inner_text("article")
        assert_language(page, "en", "the framework switch left the language alone")
        page.screenshot(path=str(ARTIFACTS / "frameworks-pytorch-en.png"), full_page=True)
        # The next page shows PyTorch too; switching the language keeps the framework.
        page.goto(urljoin(base, "book/second.html"))
        assert_framework(page, "pytorch", "next page")
        page.click(".dlbook-lang-switch")
        assert_language(page, "ko")
        assert_framework(page, "pytorch", "after the language switch")
        # The MXNet-only cell: its PyTorch tab says so, in the reader's language.
        missing = page.locator(".dlbook-framework-tabs > .sd-tab-content.dlbook-fw-pytorch"
                               " .dlbook-framework-missing")
        assert missing.count() == 1 and missing.inner_text().strip() == "이 셀은 MXNet 판에만 있습니다."
        page.screenshot(path=str(ARTIFACTS / "frameworks-pytorch-ko.png"), full_page=True)
        page.locator(".dlbook-framework-tabs label.dlbook-fw-mxnet").first.click()
        assert_framework(page, "mxnet", "switched back")
        assert_language(page, "ko")
        page.locator(".dlbook-framework-tabs label.dlbook-fw-pytorch").first.click()
        state = page.context.storage_state()
    stored = {i["name"]: i["value"] for o in state["origins"] for i in o["localStorage"]
              if i["name"].startswith("dlbook-")}
    assert stored == {"dlbook-framework": "pytorch", "dlbook-lang": "ko"}  # two separate choices
    # A later visit (a new browser session with the same site storage) keeps both choices.
    with open_page(browser, locale="en-US", storage_state=state) as page:
        page.goto(urljoin(base, "book/first.html"))
        assert_framework(page, "pytorch", "revisit")
        assert_language(page, "ko", "revisit")


@pytest.mark.slow
def test_a_shared_cell_with_different_outputs_shows_each_framework_output(two_framework_book, browser):
    with open_page(browser) as page:
        page.goto(urljoin(two_framework_book, "book/first.html"))
        article = page.locator("article")
        # Equal outputs: one cell outside the tabs; different outputs: the same code per tab.
        shared = article.locator(":scope .cell:not(.tag_mxnet):not(.tag_pytorch)")
        assert shared.count() == 1 and "shared: 42" in shared.inner_text()
        pair = article.locator(".dlbook-framework-tabs").nth(1)
        codes = pair.locator(".cell_input pre").all_text_contents()
        assert [c for c in codes if "total" in c][0] == [c for c in codes if "total" in c][1]
        outputs = pair.locator(".cell_output").all_text_contents()
        assert any("mxnet total: 6.0" in o for o in outputs)
        assert any("pytorch total: 12.0" in o for o in outputs)
        hidden = page.content()
        assert 'assert FRAMEWORK == "pytorch"' not in hidden  # the hidden assertion stays hidden

