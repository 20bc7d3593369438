"""The book as a PDF, one edition per language: what the LaTeX build needs beyond the site's.

``tools/build_pdf.py`` loads this extension for its LaTeX builds only (the site's
HTML build never loads it) and sets ``pdf_book_language`` to ``ko`` or ``en``;
``bilingual.py`` leaves the other language's blocks out (``bilingual_language``).

* **Fonts.** XeLaTeX with ``kotex`` (xetexko, Debian's ``texlive-lang-korean``):
  Hangul in NanumMyeongjo (body), NanumGothic (headings) and NanumGothicCoding
  (code and outputs), from ``fonts-nanum``; Latin in FreeSerif and FreeSans (the
  fonts Sphinx uses for XeLaTeX, ``fonts-freefont-otf``) and code in DejaVu Sans
  Mono (``fonts-dejavu-core``). Both editions need Hangul: code, outputs and the
  glossary's paired names hold Korean in the English edition too. The Korean
  edition turns on kotex's Korean captions (차례, 제 1 장) and line spacing; the
  English one sets punctuation in the Latin font. Quotation marks are Latin in both.
* **Title page** in the edition's language, with the build's date and commit.
* **Figures.** The notebooks hold matplotlib's figures as SVG only (text drawn as
  paths); ``rsvg-convert`` (``librsvg2-bin``) turns each into a PDF, so figures stay
  vector. ``sphinx.ext.imgconverter`` (ImageMagick, raster) is not used.
* **Framework tab sets** print both frameworks, one after the other, each labelled
  ``MXNet`` / ``PyTorch`` (a printed page has no tabs to click).
* The preamble of ``sphinx-jupyterbook-latex`` (``ucharclasses``, which assigns
  XeTeX character classes as xetexko does, and ``unicode-math``) and its
  ``jupyterBook`` class (which needs ``bbm`` from ``texlive-fonts-extra``) are
  replaced by the small preamble below; the class's two code environments are
  defined here instead.
"""
import os
import shutil
import subprocess

from docutils import nodes
from sphinx.transforms.post_transforms.images import ImageConverter
from sphinx.util import logging

logger = logging.getLogger(__name__)

LANGUAGES = ("ko", "en")
FRAMEWORK_LABEL_CLASS = "sd-tab-label"

TITLES = {
    "ko": {"title": "실행되는 딥러닝 교과서", "contents": "차례",
           "subtitle": "dlbook · The Executable Deep Learning Book",
           "edition": "한국어판",
           "frameworks": "MXNet과 PyTorch 두 프레임워크로 실행한 결과를 담았습니다.",
           "built": "빌드"},
    "en": {"title": "The Executable Deep Learning Book", "contents": "Contents",
           "subtitle": "dlbook · 실행되는 딥러닝 교과서",
           "edition": "English edition",
           "frameworks": "Every example executed in two frameworks, MXNet and PyTorch.",
           "built": "Built"},
}

# Latin: Sphinx's XeLaTeX serif and sans (FreeFont, fonts-freefont-otf); code in DejaVu Sans
# Mono (fonts-dejavu-core), whose Greek the outputs use (box drawing and arrows: see LATIN_MARKS).
LATIN_FONTS = r"""
\setmainfont{FreeSerif}[Extension=.otf, UprightFont=*, ItalicFont=*Italic,
  BoldFont=*Bold, BoldItalicFont=*BoldItalic]
\setsansfont{FreeSans}[Extension=.otf, UprightFont=*, ItalicFont=*Oblique,
  BoldFont=*Bold, BoldItalicFont=*BoldOblique]
\setmonofont{DejaVu Sans Mono}[Scale=0.88]
"""
# Hangul: fonts-nanum (no italics: Hangul is set upright in italic text).
HANGUL_FONTS = r"""
\setmainhangulfont{NanumMyeongjo}[BoldFont=NanumMyeongjoBold, ItalicFont=NanumMyeongjo,
  BoldItalicFont=NanumMyeongjoBold]
\setsanshangulfont{NanumGothic}[BoldFont=NanumGothicBold, ItalicFont=NanumGothic,
  BoldItalicFont=NanumGothicBold]
\setmonohangulfont{NanumGothicCoding}[BoldFont=NanumGothicCoding-Bold,
  ItalicFont=NanumGothicCoding, BoldItalicFont=NanumGothicCoding-Bold]
"""

# English: the marks in the Latin font, but xetexko's symbol classes (① and the like, box
# drawing, arrows) in the Hangul font, as in the Korean edition: DejaVu Sans Mono lacks the
# circled numbers that number the paragraphs of the Korean constitution in outputs.
# xetexko classes ①-⑮ as symbols; ⑯-⑳ join them.
LATIN_MARKS = ("\\xetexkofontregime{latin}[cjksymbols=hangul]\n"
               + "".join(f'\\XeTeXcharclass"{code:04X}=\\XeTeXcharclassSY\n'
                         for code in range(0x246F, 0x2474)))

PREAMBLE = r"""
%% dlbook (book/_ext/pdf_book.py)
\usepackage{amssymb}
\usepackage[strict]{changepage}
\usepackage{newunicodechar}
\hypersetup{pdfencoding=auto, psdextra}
%% Code cells and their outputs (the environments of sphinx-jupyterbook-latex's class)
\definecolor{CodeBlockInputBorderColor}{RGB}{204,204,204}
\definecolor{CodeBlockInputColor}{RGB}{247,247,247}
\definecolor{CodeBlockOutputBorderColor}{RGB}{235,235,235}
\definecolor{CodeBlockOutputColor}{RGB}{253,253,253}
\newenvironment{sphinxVerbatimInput}
  {\colorlet{VerbatimBorderColor}{CodeBlockInputBorderColor}%
   \colorlet{VerbatimColor}{CodeBlockInputColor}%
   \begin{adjustwidth}{5pt}{}}
  {\end{adjustwidth}}
\newenvironment{sphinxVerbatimOutput}
  {\colorlet{VerbatimBorderColor}{CodeBlockOutputBorderColor}%
   \colorlet{VerbatimColor}{CodeBlockOutputColor}%
   \begin{adjustwidth}{20pt}{}}
  {\end{adjustwidth}}
%% The label of a framework's cells (a tab of the site), kept with their first lines
\definecolor{dlbookFramework}{RGB}{0,84,147}
\newcommand{\dlbookframework}[2][5]{%
  \par\needspace{#1\baselineskip}\addvspace{4pt}\noindent{\sffamily\bfseries\small\textcolor{dlbookFramework}{#2}}%
  \par\nobreak\vspace{-2pt}\nobreak}
%% Quotation marks and the apostrophe as Latin letters: xetexko sets them as CJK
%% punctuation, in the Hangul font and with a gap after the apostrophe (book' s).
\XeTeXcharclass"2018=0 \XeTeXcharclass"2019=0 \XeTeXcharclass"201C=0 \XeTeXcharclass"201D=0
%% Symbols of the execution statistics that no text font of the book has
\newunicodechar{✅}{\ensuremath{\checkmark}}
\newunicodechar{❌}{\ensuremath{\times}}
"""

TITLE_PAGE = r"""
\title{%(title)s}
\hypersetup{pdftitle={%(title)s}, pdfauthor={%(author)s}}
\begin{titlepage}
  \centering
  \vspace*{0.22\textheight}
  {\sffamily\bfseries\Huge %(title)s\par}
  \vspace{1.2em}
  {\sffamily\Large %(subtitle)s\par}
  \vspace{2.5em}
  {\large %(edition)s\par}
  \vspace{0.8em}
  {\normalsize %(frameworks)s\par}
  \vfill
  {\large %(author)s\par}
  \vspace{0.6em}
  {\small %(built)s %(date)s\quad\texttt{%(commit)s}\par}
\end{titlepage}
"""


def latex_escape(text):
    """Escape the characters that LaTeX reads as commands in a title-page string."""
    table = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "#": r"\#", "$": r"\$",
             "%": r"\%", "&": r"\&", "_": r"\_", "^": r"\^{}", "~": r"\~{}"}
    return "".join(table.get(ch, ch) for ch in str(text))


def title_page(lang, author, date, commit):
    """The edition's title page (LaTeX), in ``lang``."""
    words = {key: latex_escape(value) for key, value in TITLES[lang].items()}
    return TITLE_PAGE % dict(words, author=latex_escape(author), date=latex_escape(date),
                             commit=latex_escape(commit))


# ----------------------------------------------------------------- configuration
def configure_latex(app, config):
    """Replace sphinx-jupyterbook-latex's LaTeX settings with the book's (after it ran)."""
    lang = config.pdf_book_language
    if lang not in LANGUAGES:
        from sphinx.errors import ConfigError

        raise ConfigError(f"pdf_book_language must be one of {', '.join(LANGUAGES)}; got {lang!r}")
    config.bilingual_language = lang
    config.latex_engine = "xelatex"
    config.latex_theme = "manual"
    elements = dict(config.latex_elements)
    # Drop the jupyterbook-latex preamble (ucharclasses, unicode-math): see the module's text.
    preamble = elements.get("preamble", "")
    start = preamble.find("% Start of preamble defined in sphinx-jupyterbook-latex")
    if start >= 0:
        end = preamble.find("% End of preamble defined in sphinx-jupyterbook-latex", start)
        preamble = preamble[:start] + preamble[preamble.index("\n", end) + 1:]
    kotex = r"\usepackage[hangul]{kotex}" if lang == "ko" else r"\usepackage{kotex}"
    elements.update({
        "papersize": "a4paper",
        "pointsize": "10pt",
        "polyglossia": "",
        "babel": "",
        # kotex after fontspec (Sphinx's 'fontenc' loads fontspec), before the fonts.
        "fontpkg": LATIN_FONTS + kotex + HANGUL_FONTS,
        # English: parentheses, punctuation and symbols in the Latin font, also next to
        # Hangul (kotex's default sets them in the Hangul font, as Korean text wants).
        "preamble": preamble + PREAMBLE + ("" if lang == "ko" else LATIN_MARKS),
        "maketitle": title_page(lang, config.author, config.pdf_book_date,
                                config.pdf_book_commit),
        # Code at single spacing (kotex's Korean line spacing is for prose).
        "fvset": r"\fvset{fontsize=\small, baselinestretch=1}",
        # The report class's chapter heads (kotex's "제 1 장" in Korean), not fncychap's.
        "fncychap": "",
        "extraclassoptions": "openany,oneside",
        "sphinxsetup": "verbatimwrapslines=true, verbatimforcewraps=true, "
                       "verbatimmaxunderfull=2, hmargin={2cm,2cm}, vmargin={2.2cm,2.4cm}",
        # No index: the book has no index entries of its own, only the API's.
        "makeindex": "",
        "printindex": "",
        # Sphinx names the contents after the root's first toctree caption (a part's name).
        "tableofcontents": r"\renewcommand{\contentsname}{%s}\sphinxtableofcontents"
                           % latex_escape(TITLES[lang]["contents"]),
    })
    config.latex_elements = elements
    config.latex_show_urls = "no"
    config.latex_domain_indices = False
    config.latex_use_xindy = False
    # Figures: the notebooks' SVG (MyST-NB's LaTeX order has no SVG: it would print the
    # figure's text/plain, "<Figure size ...>"), converted by rsvg-convert, not by
    # ImageMagick's raster sphinx.ext.imgconverter.
    config.nb_mime_priority_overrides = list(config.nb_mime_priority_overrides) + [
        ("latex", "image/svg+xml", 15)]
    config.jblatex_load_imgconverter = False


def known_korean(app, config):
    """Let Sphinx's LaTeX builder know the language code ``ko`` (polyglossia's ``korean``).

    Without it the builder warns that it knows no Babel option for 'ko' (the book's
    ``language``); the language itself is set by kotex, not by babel or polyglossia.
    """
    from docutils.writers.latex2e import Babel

    Babel.language_codes.setdefault("ko", "korean")


# ----------------------------------------------------------------- figures
class SVGToPDFConverter(ImageConverter):
    """SVG figures to vector PDF with ``rsvg-convert``, for builders without SVG support."""

    conversion_rules = [("image/svg+xml", "application/pdf")]
    default_priority = 200

    def is_available(self):
        if shutil.which("rsvg-convert") is None:
            logger.warning("rsvg-convert not found: install Debian's librsvg2-bin to put the "
                           "book's SVG figures into the PDF")
            return False
        return True

    def convert(self, _from, _to):
        # A fixed creation date: the same figure gives the same file in every build.
        env = dict(os.environ, SOURCE_DATE_EPOCH=os.environ.get("SOURCE_DATE_EPOCH", "0"))
        subprocess.run(["rsvg-convert", "--format=pdf", "--output", str(_to), str(_from)],
                       check=True, capture_output=True, timeout=120, env=env)
        return True


# ----------------------------------------------------------------- framework tab sets
def keep_lines(content, most=18):
    """How many lines a framework label needs below it on its page: its code's first lines.

    The label and the start of its code stay on one page (LaTeX's ``\\needspace``): the
    whole code when short, ``most`` lines of it when long.
    """
    code = next((n for part in content for n in part.findall(nodes.literal_block)), None)
    lines = len(code.astext().splitlines()) if code is not None else 1
    return min(lines, most) + 3


def print_framework_tabs(app, doctree, docname):
    """Print each framework tab set as its tabs one after the other, each with its label."""
    if app.builder.format != "latex":
        return
    for tab_set in list(doctree.findall(
            lambda n: isinstance(n, nodes.container) and "dlbook-framework-tabs" in n["classes"])):
        printed = nodes.container(classes=["dlbook-framework-cells"])
        for item in tab_set.children:
            label, content = None, []
            for child in item.children:
                if isinstance(child, nodes.rubric) and FRAMEWORK_LABEL_CLASS in child["classes"]:
                    label = child.astext()
                else:
                    content.extend(child.children if isinstance(child, nodes.container)
                                   else [child])
            if label:
                printed += nodes.raw("", rf"\dlbookframework[{keep_lines(content)}]"
                                         rf"{{{latex_escape(label)}}}" + "\n", format="latex")
            printed.extend(content)
        tab_set.replace_self(printed)


# ----------------------------------------------------------------- the preface
def preface_heading(app, doctree, docname):
    """Give the root page (the preface) an unnumbered chapter heading and a contents line.

    sphinx-jupyterbook-latex prints the root page after the contents without its
    title (LaTeX takes it for the document's title).
    """
    if app.builder.format != "latex" or docname != app.config.root_doc:
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not section.children or not isinstance(section[0], nodes.title):
        return
    title = latex_escape(section[0].astext())
    section.insert(1, nodes.raw("", rf"\chapter*{{{title}}}\addcontentsline{{toc}}{{chapter}}"
                                    rf"{{{title}}}\markboth{{{title}}}{{{title}}}" + "\n",
                                format="latex"))


def setup(app):
    app.add_config_value("pdf_book_language", "ko", "", [str])
    app.add_config_value("pdf_book_date", "", "", [str])
    app.add_config_value("pdf_book_commit", "", "", [str])
    # After sphinx-jupyterbook-latex's own config-inited handler (priority 500).
    app.connect("config-inited", configure_latex, priority=900)
    app.connect("config-inited", known_korean)
    app.add_post_transform(SVGToPDFConverter)
    # Before bilingual's language filter (priority 500): the tabs' notes are language blocks.
    app.connect("doctree-resolved", print_framework_tabs, priority=400)
    # After bilingual's (priority 500), which makes the English edition's title English.
    app.connect("doctree-resolved", preface_heading, priority=600)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
