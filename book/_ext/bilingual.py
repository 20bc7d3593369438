"""Sphinx extension for bilingual (Korean/English) pages.

``ko`` and ``en`` directives wrap one prose block in one language::

    :::{ko}
    한국어 문단.
    :::

    :::{en}
    The English paragraph.
    :::

In HTML each block becomes ``<div class="lang-block lang-ko" lang="ko">``; a
small script shows one language at a time with a switch in the page (both
languages show when JavaScript is off).

A LaTeX build can keep one language (the PDF editions, ``tools/build_pdf.py``):
with ``bilingual_language = "ko"`` or ``"en"`` the other language's blocks are
left out of the written document. Headings carry both languages
(``활성화 함수 (Activation Functions)``); the Korean edition keeps them as they are
(the English name beside the Korean one, as Korean textbooks print a term), the
English edition keeps the part in parentheses, ``Activation Functions``. Nothing
changes for any other builder, or when the setting is empty (the default).

Figures: the book's build shows each figure with Korean labels once per language
(``dlbook.language``; the SVG's root carries ``xml:lang``). Each such output goes
into a language block of its own (``<div class="lang-block lang-en dlbook-figure">``),
so the switch shows the reader's figure and each PDF edition keeps its language's.
"""
import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.errors import ConfigError

from bilingual_text import LANGUAGES
# The split of "한국어 (English)" that the figures' labels use too (dlbook.language).
from dlbook.language import english_span


class lang_block(nodes.General, nodes.Element):
    """A block of prose in one language."""


def visit_lang_block_html(self, node):
    lang = node["lang"]
    classes = " ".join(["lang-block", f"lang-{lang}", *node.get("classes", [])])
    self.body.append(f'<div class="{classes}" lang="{lang}">\n')


def depart_lang_block_html(self, node):
    self.body.append("</div>\n")


def visit_passthrough(self, node):
    pass


def depart_passthrough(self, node):
    pass


def make_directive(lang):
    class LangDirective(Directive):
        has_content = True
        optional_arguments = 0
        final_argument_whitespace = True

        def run(self):
            if not self.content:
                raise self.error(f"The `{lang}` block is empty: write its text inside it.")
            node = lang_block()
            node["lang"] = lang
            self.state.nested_parse(self.content, self.content_offset, node)
            return [node]

    LangDirective.__name__ = f"{lang.capitalize()}Directive"
    return LangDirective


# ----------------------------------------------------------------- one language (LaTeX)
def _slice_inline(node, start, end):
    """The inline children of ``node`` that cover characters ``start:end`` of its text.

    Text is cut where the range cuts it; an inline element (math, literal) is kept
    whole when it lies inside the range and dropped when it lies outside.
    """
    kept, offset = [], 0
    for child in node.children:
        length = len(child.astext())
        lo, hi = max(start, offset), min(end, offset + length)
        if isinstance(child, nodes.Text):
            if lo < hi:
                kept.append(nodes.Text(str(child)[lo - offset:hi - offset]))
        elif offset >= start and offset + length <= end:
            kept.append(child.deepcopy())
        offset += length
    return kept


def english_title(node):
    """Make a bilingual heading read its English name only; True when it was one.

    ``node`` is a title (of a section or a part) or a reference whose text is a
    page's title (``{doc}`` links).
    """
    while (len(node.children) == 1 and isinstance(node.children[0], nodes.Element)
           and not isinstance(node.children[0], (nodes.literal, nodes.math))):
        node = node.children[0]
    span = english_span(node.astext())
    if span is None:
        return False
    kept = _slice_inline(node, *span)
    if not kept:
        return False
    node.children = []
    node.extend(kept)
    return True


def keep_one_language(app, doctree, docname):
    """In a LaTeX build with ``bilingual_language`` set, drop the other language's blocks."""
    lang = app.config.bilingual_language
    if not lang or app.builder.format != "latex":
        return
    for block in list(doctree.findall(lang_block)):
        if block.parent is None:
            continue
        if block["lang"] == lang:
            block.replace_self(block.children)
        else:
            block.parent.remove(block)
    if lang == "en":
        # Titles, and the root page's sub-headings that sphinx-jupyterbook-latex turns
        # into its RootHeader nodes.
        for title in doctree.findall(lambda n: isinstance(n, nodes.title)
                                     or type(n).__name__ == "RootHeader"):
            english_title(title)
        for ref in doctree.findall(nodes.reference):
            if ref.get("internal") or "refid" in ref:
                english_title(ref)


# ----------------------------------------------------------------- figures per language
_SVG_LANG = re.compile(rb"<svg\b[^>]*?\sxml:lang=\"(ko|en)\"")


def figure_language(bundle, srcdir):
    """The language of a notebook output's figure (``xml:lang`` of its SVG), else None.

    ``bundle`` is MyST-NB's container of one output's mime types; the figure is
    the SVG file that its ``image/svg+xml`` image points to (a path relative to
    the source folder, with a leading ``/``).
    """
    for image in bundle.findall(nodes.image):
        uri = image.get("uri", "")
        if not uri.endswith(".svg"):
            continue
        path = Path(srcdir, uri.lstrip("/")) if uri.startswith("/") else Path(uri)
        try:
            head = path.read_bytes()[:4096]
        except OSError:
            continue
        match = _SVG_LANG.search(head)
        if match:
            return match.group(1).decode()
    return None


def figures_per_language(app, doctree):
    """Put each figure that was drawn once per language into that language's block.

    ``dl.setup()`` in the book's build (``DLBOOK_FIGURE_LANGUAGE=both``) shows each
    figure with Korean labels twice, Korean then English, each SVG marked with
    ``xml:lang``. Each output becomes a :class:`lang_block`, so the page's language
    switch shows one, and a one-language PDF keeps its own.
    """
    for bundle in list(doctree.findall(lambda n: isinstance(n, nodes.container)
                                       and n.get("nb_element") == "mime_bundle")):
        lang = figure_language(bundle, app.srcdir)
        if lang is None or isinstance(bundle.parent, lang_block):
            continue
        block = lang_block()
        block["lang"] = lang
        block["classes"].append("dlbook-figure")
        bundle.replace_self(block)
        block.append(bundle)


def check_language(app, config):
    if config.bilingual_language not in (None, "", *LANGUAGES):
        raise ConfigError(f"bilingual_language must be one of {', '.join(LANGUAGES)} or empty "
                          f"(both languages); got {config.bilingual_language!r}.")


def add_static(app):
    static = str(Path(__file__).resolve().parent.parent / "_static")
    if static not in app.config.html_static_path:
        app.config.html_static_path.append(static)


def setup(app):
    app.add_node(
        lang_block,
        html=(visit_lang_block_html, depart_lang_block_html),
        latex=(visit_passthrough, depart_passthrough),
        text=(visit_passthrough, depart_passthrough),
        man=(visit_passthrough, depart_passthrough),
        texinfo=(visit_passthrough, depart_passthrough),
    )
    for lang in LANGUAGES:
        app.add_directive(lang, make_directive(lang))
    # The language of a one-language LaTeX build (None: both). It changes only what is
    # written, never what is read (no "env" rebuild).
    app.add_config_value("bilingual_language", None, "", [str, type(None)])
    app.connect("config-inited", check_language)
    app.connect("doctree-read", figures_per_language)
    app.connect("doctree-resolved", keep_one_language)
    app.connect("builder-inited", add_static)
    app.add_css_file("bilingual.css")
    app.add_js_file("bilingual.js")
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
