"""The book as PDF: a Korean and an English edition (tools/build_pdf.py, `make pdf`).

The tests marked ``slow`` build both PDFs once per session from the real book build (the
``built_book`` fixture of tests/conftest.py, which executes every chapter; the PDFs
reuse its executed notebooks) and read them back with poppler's ``pdftotext``,
``pdffonts`` and ``pdfinfo``. Two pages of each (the preface and the first page with a
figure) are rendered with ``pdftoppm`` into ``test-artifacts/pdf/`` for a person to
look at. Which figure file each edition prints is read from its LaTeX source: every
included figure is converted from an SVG whose root names its language. The other
tests check the pieces (the language filter, the framework cells, the project files)
without building anything.
"""
import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from docutils import nodes

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "pdf"
LANGUAGES = ("ko", "en")
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import bilingual  # noqa: E402  (book/_ext is not a package)
import pdf_book  # noqa: E402
from tools import build_pdf  # noqa: E402


# ----------------------------------------------------------------- the book's own text
def toc_pages():
    """Every page of _toc.yml: docnames such as ``book/perceptron``."""
    from tools import build_book

    return build_book.toc_docnames(ROOT)


def page_title(docname):
    """A page's title: its first ``# `` heading outside code cells."""
    fence = None
    for line in (ROOT / f"{docname}.md").read_text(encoding="utf-8").splitlines():
        marker = re.match(r"^(`{3,}|~{3,})", line)
        if marker:
            if fence is None:
                fence = marker.group(1)
            elif line.startswith(fence):
                fence = None
            continue
        if fence is None and line.startswith("# "):
            return line[2:].strip()
    raise AssertionError(f"{docname}.md has no title")


def edition_title(title, lang):
    """What the edition prints for a heading: as written (ko), its English name (en)."""
    if lang == "ko":
        return title
    span = bilingual.english_span(title)
    return title if span is None else title[span[0]:span[1]]


def first_sentence(docname, lang):
    """The first plain sentence (no markup, no math) of a page's ``lang`` blocks."""
    text = (ROOT / f"{docname}.md").read_text(encoding="utf-8")
    pattern = re.compile(r"(?<=다\.)\s+" if lang == "ko" else r"(?<=\.)\s+")
    for block in re.findall(rf"^:{{3,}}\{{{lang}\}}\s*\n(.*?)\n:{{3,}}\s*$", text, re.S | re.M):
        for paragraph in block.split("\n\n"):
            for sentence in pattern.split(paragraph.strip()):
                if (len(sentence) > 20 and sentence.endswith(".") and "\n" not in sentence
                        and not re.search(r"[`*\[\]{}<>$_|#]", sentence)):
                    return sentence
    raise AssertionError(f"no plain {lang} sentence in {docname}.md")


def squeeze(text):
    """Text without spaces and hyphens: how pdftotext's lines compare with the sources'
    (LaTeX breaks lines anywhere and hyphenates English words at a line's end)."""
    return re.sub(r"[\s\-\u2010\u00ad]", "", text)


# ----------------------------------------------------------------- the built PDFs
class Editions:
    """The two PDFs of one build and what poppler reads from them."""

    def __init__(self, root, process):
        self.root, self.process = Path(root), process
        self._pages = {}

    def pdf(self, lang):
        return self.root / "_build" / "pdf" / build_pdf.pdf_name(lang)

    def latex_log(self, lang):
        return build_pdf.edition_dir(self.root / "_build", lang) / f"dlbook-{lang}.log"

    def pages(self, lang):
        """The text of every page (pdftotext's pages, in order)."""
        if lang not in self._pages:
            out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(self.pdf(lang)), "-"],
                                 capture_output=True, text=True, check=True, timeout=300)
            self._pages[lang] = out.stdout.split("\f")
        return self._pages[lang]

    def text(self, lang):
        return squeeze("".join(self.pages(lang)))


@pytest.fixture(scope="session")
def pdf_editions(built_book):
    """Both PDFs, built once per session on top of the session's book build."""
    assert built_book.returncode == 0, built_book.stdout[-3000:] + built_book.stderr[-3000:]
    process = subprocess.run([sys.executable, "-m", "tools.build_pdf"], cwd=ROOT,
                             capture_output=True, text=True, timeout=1800)
    return Editions(ROOT, process)


@pytest.fixture(scope="session")
def editions(pdf_editions):
    process = pdf_editions.process
    assert process.returncode == 0, process.stdout[-4000:] + process.stderr[-4000:]
    return pdf_editions


@pytest.mark.slow
def test_both_editions_are_written_and_timed(editions):
    report = json.loads((editions.root / "_build" / "pdf" / "build-times.json").read_text())
    assert report["ok"] and set(report["editions"]) == set(LANGUAGES)
    assert report["wall_seconds"] > 0
    for lang in LANGUAGES:
        assert editions.pdf(lang).read_bytes()[:5] == b"%PDF-"
        # The site links to its own copies (the front page's links).
        assert (editions.root / "_build" / "html" / "pdf" / build_pdf.pdf_name(lang)).is_file()


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
def test_page_count_is_that_of_a_book(editions, lang):
    info = subprocess.run(["pdfinfo", str(editions.pdf(lang))], capture_output=True, text=True,
                          check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert 150 <= pages <= 1500, pages
    assert len(editions.pages(lang)) >= pages


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_chapter_title_is_printed_in_the_edition_language(editions, lang):
    text = editions.text(lang)
    missing = [edition_title(page_title(d), lang) for d in toc_pages()
               if squeeze(edition_title(page_title(d), lang)) not in text]
    assert not missing, f"chapter titles missing from the {lang} PDF: {missing}"
    # The parts of _toc.yml, too.
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    for part in toc["parts"]:
        assert squeeze(edition_title(part["caption"], lang)) in text, part["caption"]
    if lang == "en":  # only the English name of a bilingual heading
        for docname in toc_pages():
            title = page_title(docname)
            if bilingual.english_span(title):
                assert squeeze(title) not in text, title


@pytest.mark.slow
def test_each_edition_holds_its_own_language_only(editions):
    for lang, other in (("ko", "en"), ("en", "ko")):
        for docname in ("book/index", "book/perceptron"):
            own, foreign = first_sentence(docname, lang), first_sentence(docname, other)
            assert squeeze(own) in editions.text(lang), (lang, own)
            assert squeeze(foreign) not in editions.text(lang), (lang, foreign)
    assert "차례" in editions.text("ko") and "Contents" in editions.text("en")


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
def test_fonts_are_embedded_and_hangul_is_set_in_nanum(editions, lang):
    out = subprocess.run(["pdffonts", str(editions.pdf(lang))], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    rows = [line for line in out[2:] if line.strip()]
    assert rows
    # Columns: name, type (one or more words), encoding, emb, sub, uni, object, generation.
    not_embedded = [row for row in rows if row.split()[-5] != "yes"]
    assert not not_embedded, not_embedded
    names = " ".join(row.split()[0] for row in rows)
    assert "NanumMyeongjo" in names and "NanumGothic" in names, names


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_glyph_is_missing_from_the_fonts(editions, lang):
    log = editions.latex_log(lang).read_text(encoding="utf-8", errors="replace")
    assert "Output written on" in log
    assert "Missing character" not in log, build_pdf.MISSING_CHARACTER.findall(log)[:10]


_INCLUDED = re.compile(r"\\sphinxincludegraphics(?:\[[^\]]*\])?\{\{([^{}]+)\}\.\w+\}")


def printed_figures(root, lang):
    """The language (``xml:lang`` of the SVG each was made from, else None) of every figure
    that edition ``lang``'s LaTeX includes: Sphinx names each converted figure after its SVG."""
    tex = build_pdf.edition_dir(root / "_build", lang) / f"dlbook-{lang}.tex"
    found = []
    for stem in _INCLUDED.findall(tex.read_text(encoding="utf-8")):
        svgs = [folder / f"{stem}.svg" for folder in (root / "_build" / "jupyter_execute",
                                                      root / "_build" / "html" / "_images")]
        svg = next((path for path in svgs if path.is_file()), None)
        if svg is None:
            found.append((stem, "no svg"))
            continue
        match = bilingual._SVG_LANG.search(svg.read_bytes()[:4096])
        found.append((stem, match.group(1).decode() if match else None))
    return found


@pytest.mark.slow
def test_each_edition_prints_the_figures_of_its_language(editions):
    from collections import Counter

    printed = {lang: printed_figures(editions.root, lang) for lang in LANGUAGES}
    counts = {lang: Counter(tag for _, tag in printed[lang]) for lang in LANGUAGES}
    for lang, other in (("ko", "en"), ("en", "ko")):
        assert counts[lang][other] == 0, (lang, counts[lang])
        assert counts[lang]["no svg"] == 0, (lang, counts[lang])
        assert counts[lang][lang] >= 100, (lang, counts[lang])  # the book draws ~130 of them
    # Each figure with Korean text is drawn once per language, and the language-free
    # figures (no Hangul in them) are printed alike in both editions.
    assert counts["ko"]["ko"] == counts["en"]["en"], counts
    untagged = {lang: sorted(s for s, tag in printed[lang] if tag is None) for lang in LANGUAGES}
    assert untagged["ko"] == untagged["en"] and untagged["ko"], untagged


def figure_pages(pdf):
    """The numbers of the pages that hold a figure (a form XObject: an included PDF)."""
    import pypdf

    pages = []
    for number, page in enumerate(pypdf.PdfReader(pdf).pages, 1):
        xobjects = page.get("/Resources", {}).get("/XObject", {})
        if any(x.get_object().get("/Subtype") == "/Form" for x in xobjects.values()):
            pages.append(number)
    return pages


def render(pdf, page, stem):
    """Page ``page`` of ``pdf`` as ``stem``.png; returns its share of inked pixels."""
    from PIL import Image

    for old in stem.parent.glob(f"{stem.name}*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "100", "-f", str(page), "-l", str(page),
                    "-singlefile", str(pdf), str(stem)], check=True, timeout=120)
    image = Image.open(f"{stem}.png").convert("L")
    assert image.width > 500, image.size
    return sum(image.histogram()[:128]) / (image.width * image.height)  # darker than mid-grey


@pytest.mark.slow
def test_pages_render_to_png_for_a_look(editions):
    """The preface page and the first page with a figure of each edition as PNG, in
    test-artifacts/pdf/ (look at them)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for lang in LANGUAGES:
        sentence = squeeze(first_sentence("book/index", lang))
        page = next(i for i, t in enumerate(editions.pages(lang), 1) if sentence in squeeze(t))
        inked = render(editions.pdf(lang), page, ARTIFACTS / f"{lang}-preface")
        assert 0.01 < inked < 0.5, (lang, inked)
        pages = figure_pages(editions.pdf(lang))
        # Every printed figure is on some page (a page may hold two).
        assert len(printed_figures(editions.root, lang)) / 2 <= len(pages), (lang, len(pages))
        inked = render(editions.pdf(lang), pages[0], ARTIFACTS / f"{lang}-figure")
        assert 0.01 < inked < 0.5, (lang, pages[0], inked)


# ----------------------------------------------------------------- the pieces
@pytest.mark.parametrize("title, english", [
    ("활성화 함수 (Activation Functions)", "Activation Functions"),
    ("GPU (선택 사항) (GPU, Optional)", "GPU, Optional"),
    ("CNN 과 MLP 비교 (CNN versus MLP on Images)", "CNN versus MLP on Images"),
    ("첫 예: $\\mathbf{x}$ 의 기울기 (A First Example: the Gradient of $\\mathbf{x}$)",
     "A First Example: the Gradient of $\\mathbf{x}$"),
    ("Glossary", None), ("용어집", None), ("파라미터 (매개변수)", None), ("f(x) (값)", None),
])
def test_the_english_name_of_a_bilingual_heading(title, english):
    span = bilingual.english_span(title)
    assert (None if span is None else title[span[0]:span[1]]) == english


def bilingual_page():
    """A small doctree: a bilingual section title, a ko and an en block, a title with math."""
    doc = nodes.document(None, None)
    section = nodes.section()
    section += nodes.title("", "활성화 함수 (Activation Functions)")
    for lang, text in (("ko", "한국어 문단."), ("en", "An English paragraph.")):
        block = bilingual.lang_block()
        block["lang"] = lang
        block += nodes.paragraph(text=text)
        section += block
    sub = nodes.section()
    sub += nodes.title("", "", nodes.Text("기울기 "), nodes.math(text="x"),
                       nodes.Text(" (The Gradient of "), nodes.math(text="x"), nodes.Text(")"))
    section += sub
    ref = nodes.reference("", "", nodes.inline("", "퍼셉트론 (The Perceptron)"), internal=True)
    section += nodes.paragraph("", "", ref)
    doc += section
    return doc


def fake_app(builder_format, lang):
    return SimpleNamespace(builder=SimpleNamespace(format=builder_format),
                           config=SimpleNamespace(bilingual_language=lang))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_latex_build_keeps_one_language(lang):
    doc = bilingual_page()
    bilingual.keep_one_language(fake_app("latex", lang), doc, "page")
    assert not list(doc.findall(bilingual.lang_block))
    text = doc.astext()
    assert ("한국어 문단." in text) == (lang == "ko")
    assert ("An English paragraph." in text) == (lang == "en")
    titles = [t.astext() for t in doc.findall(nodes.title)]
    if lang == "ko":
        assert titles == ["활성화 함수 (Activation Functions)", "기울기 x (The Gradient of x)"]
        assert "퍼셉트론 (The Perceptron)" in text
    else:
        assert titles == ["Activation Functions", "The Gradient of x"]
        assert len(list(doc.findall(nodes.math))) == 1  # the English name's own math
        assert "The Perceptron" in text and "퍼셉트론" not in text


@pytest.mark.parametrize("builder_format, lang", [("html", "ko"), ("html", "en"), ("latex", None)])
def test_the_site_and_a_bilingual_latex_build_keep_everything(builder_format, lang):
    doc = bilingual_page()
    before = doc.pformat()
    bilingual.keep_one_language(fake_app(builder_format, lang), doc, "page")
    assert doc.pformat() == before


def figure_outputs(srcdir):
    """A cell's outputs as MyST-NB parses them: a Korean figure, an English one, an untagged one."""
    doc = nodes.document(None, None)
    output = nodes.container(classes=["cell_output"])
    for name, tag in (("ko.svg", ' xml:lang="ko"'), ("en.svg", ' xml:lang="en"'), ("both.svg", "")):
        (srcdir / name).write_text(f'<?xml version="1.0"?>\n<svg{tag} width="10pt" height="10pt"'
                                   ' xmlns="http://www.w3.org/2000/svg"></svg>\n', encoding="utf-8")
        bundle = nodes.container(nb_element="mime_bundle")
        mime = nodes.container(mime_type="image/svg+xml")
        mime += nodes.image(uri=f"/{name}")
        bundle += mime
        output += bundle
    doc += output
    return doc


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_edition_keeps_its_language_s_figure(tmp_path, lang):
    doc = figure_outputs(tmp_path)
    bilingual.figures_per_language(SimpleNamespace(srcdir=str(tmp_path)), doc)
    blocks = [(b["lang"], b["classes"], [i["uri"] for i in b.findall(nodes.image)])
              for b in doc.findall(bilingual.lang_block)]
    assert blocks == [("ko", ["dlbook-figure"], ["/ko.svg"]), ("en", ["dlbook-figure"], ["/en.svg"])]
    bilingual.figures_per_language(SimpleNamespace(srcdir=str(tmp_path)), doc)  # read twice: no nesting
    assert len(list(doc.findall(bilingual.lang_block))) == 2
    bilingual.keep_one_language(fake_app("latex", lang), doc, "page")
    assert [i["uri"] for i in doc.findall(nodes.image)] == [f"/{lang}.svg", "/both.svg"]


def framework_cells():
    """A tab set as the site makes it (frameworks_site.py) from an MXNet and a PyTorch cell."""
    import frameworks_site

    cells = []
    for fw in ("mxnet", "pytorch"):
        cell = nodes.container(nb_element="cell_code", classes=["cell", f"tag_{fw}"])
        cell += nodes.literal_block(text=f"print('{fw}')")
        cells.append((fw, cell))
    doc = nodes.document(None, None)
    doc += frameworks_site.framework_tab_set(cells)
    return doc


def test_a_framework_tab_set_prints_both_frameworks_each_labelled():
    doc = framework_cells()
    pdf_book.print_framework_tabs(SimpleNamespace(builder=SimpleNamespace(format="latex")),
                                  doc, "page")
    printed = doc.children[0]
    assert "dlbook-framework-cells" in printed["classes"]
    parts = [(type(n).__name__, n.astext()) for n in printed.children]
    # Each label keeps its cell's one line of code (plus the label's own) on its page.
    assert parts == [("raw", "\\dlbookframework[4]{MXNet}\n"), ("container", "print('mxnet')"),
                     ("raw", "\\dlbookframework[4]{PyTorch}\n"),
                     ("container", "print('pytorch')")]
    html = framework_cells()
    before = html.pformat()
    pdf_book.print_framework_tabs(SimpleNamespace(builder=SimpleNamespace(format="html")),
                                  html, "page")
    assert html.pformat() == before


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_title_page_is_in_the_edition_language(lang):
    page = pdf_book.title_page(lang, "The dlbook authors", "2026-01-02", "abc_123")
    assert pdf_book.TITLES[lang]["title"] in page and pdf_book.TITLES[lang]["edition"] in page
    assert r"abc\_123" in page and "2026-01-02" in page


def test_make_ci_and_the_pages_workflow_build_the_pdfs():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^pdf: .*\n\t\$\(BIN\)/python -m tools\.build_pdf$", makefile, re.M)
    ci = (ROOT / ".ci" / "run").read_text()
    for pkg in ("texlive-xetex", "texlive-lang-korean", "texlive-latex-extra", "latexmk",
                "fonts-nanum", "fonts-freefont-otf", "fonts-dejavu-core", "librsvg2-bin",
                "poppler-utils"):
        assert re.search(rf"\b{re.escape(pkg)}\b", ci), pkg
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())
    steps = workflow["jobs"]["build"]["steps"]
    runs = [step.get("run", "") for step in steps]
    book = next(i for i, r in enumerate(runs) if "make book" in r)
    pdf = next(i for i, r in enumerate(runs) if "make pdf" in r)
    upload = next(i for i, s in enumerate(steps)
                  if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert book < pdf < upload
    assert "texlive-lang-korean" in " ".join(runs[:book])


def test_the_front_page_links_both_editions_in_both_languages():
    text = (ROOT / "book" / "index.md").read_text(encoding="utf-8")
    for lang in LANGUAGES:
        blocks = re.findall(rf"^(:{{3,}})\{{{lang}\}}\s*\n(.*?)\n\1\s*$", text, re.S | re.M)
        linking = [body for _, body in blocks if "pdf/dlbook-ko.pdf" in body]
        assert linking and all(f'href="../{build_pdf.PDF_DIR}/{build_pdf.pdf_name(other)}"'
                               in linking[0] for other in LANGUAGES), lang
