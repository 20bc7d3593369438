"""Link the chapters' bold terms to the glossary, without markup in the chapters.

Chapters introduce a term in bold, with both names the first time:
``**활성화 함수 (activation function)**`` (CONTRIBUTING.md). The glossary page
(``book/glossary.md``, written by ``tools/make_glossary.py``) defines each term
twice: ``활성화 함수 (activation function)`` in its Korean block and
``activation function (활성화 함수)`` in its English block.

After all pages are read, every bold phrase in a ``ko`` or ``en`` block whose
text is a glossary term -- the full ``이름 (name)`` form, or either name alone --
becomes a link to that term's entry in the same language's block of the
glossary. Nothing happens when the book has no glossary.
"""
import re

from docutils import nodes

from bilingual_text import HANGUL

_PAIR = re.compile(r"^(.+?)\s*\((.+)\)$")


def _norm(text):
    return " ".join(text.split()).lower()


def glossary_index(env):
    """{(language, normalised name): (docname, anchor, term)} from the std domain's terms."""
    std = env.get_domain("std")
    index = {}
    for term, (docname, anchor) in std._terms.items():
        m = _PAIR.match(term)
        if not m:
            continue
        first, second = m.group(1).strip(), m.group(2).strip()
        # Korean block entries read "한국어 (English)", English ones "English (한국어)".
        lang = "ko" if HANGUL.search(first) else "en"
        ko, en = (first, second) if lang == "ko" else (second, first)
        for name in (term, f"{ko} ({en})", f"{en} ({ko})", ko, en):
            index.setdefault((lang, _norm(name)), (docname, anchor, term))
    return index


def _language(node):
    while node is not None:
        if node.tagname == "lang_block":
            return node.get("lang")
        node = node.parent
    return None


def _inside_reference(node):
    while node is not None:
        if isinstance(node, (nodes.reference, nodes.title, nodes.term)):
            return True
        node = node.parent
    return False


def link_terms(app, doctree, docname):
    if app.builder.format != "html":
        return
    index = glossary_index(app.env)
    if not index:
        return
    for strong in list(doctree.findall(nodes.strong)):
        lang = _language(strong)
        if lang is None or _inside_reference(strong):
            continue
        target = index.get((lang, _norm(strong.astext())))
        if target is None:
            continue
        target_doc, anchor, term = target
        if target_doc == docname:
            continue
        uri = app.builder.get_relative_uri(docname, target_doc) + "#" + anchor
        title = "용어집: " + term if lang == "ko" else "Glossary: " + term
        ref = nodes.reference("", "", internal=True, refuri=uri, reftitle=title,
                              classes=["dlbook-term"])
        strong.replace_self(ref)
        ref.append(strong)


def setup(app):
    app.connect("doctree-resolved", link_terms)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
