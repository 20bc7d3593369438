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
"""
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive

LANGUAGES = ("ko", "en")


class lang_block(nodes.General, nodes.Element):
    """A block of prose in one language."""


def visit_lang_block_html(self, node):
    lang = node["lang"]
    self.body.append(f'<div class="lang-block lang-{lang}" lang="{lang}">\n')


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
    app.connect("builder-inited", add_static)
    app.add_css_file("bilingual.css")
    app.add_js_file("bilingual.js")
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
