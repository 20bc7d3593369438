"""The site of a book in two frameworks: executed notebooks in, MXNet | PyTorch tabs out.

``tools/build_book.py`` executes every chapter once per framework and merges the
runs into one notebook per chapter (``_build/.dlbook/merged/<page>.ipynb``,
tools/frameworks.py). This extension makes Sphinx render that notebook without
executing anything (``execute_notebooks: "off"``):

* **The merged notebook in place of the chapter.** The parser of ``.md`` pages
  is MyST-NB's with one change: for a chapter that has a merged notebook, the
  page is read from it (a MyST-NB custom format for that one document), so the
  page keeps its name and ``.md`` source, its bilingual blocks, glossary links
  and search, and shows the outputs the build produced. The merged notebook names
  the SHA-256 of the source it was made from; a chapter edited since (or a
  notebook chapter with code that was never executed, e.g. after a bare
  ``jupyter-book build``) is a warning, which fails the book's ``-W`` build.
  Sphinx re-reads a page when its merged notebook changes (a noted dependency).
* **Tabs.** Each run of consecutive code cells tagged ``mxnet``/``pytorch`` on a
  page becomes one sphinx-design tab set, MXNet | PyTorch, in the sync group
  ``framework``: choosing a framework in one tab set chooses it in every tab set,
  and sphinx-design keeps the choice in ``localStorage`` (``dlbook-framework``,
  beside the language switch's ``dlbook-lang``), so it holds on every page and
  visit. A framework missing from a run gets a note instead of code. Untagged
  cells stay single; a shared cell whose outputs differ between the frameworks
  arrives as a tagged pair (same code) and becomes a tab set too.
* **Notebooks and launch links.** The page's download menu offers one notebook
  per framework (``_build/notebooks/<framework>/<chapter>.ipynb``, copied to
  ``_sources/<page>.<framework>.ipynb``), and a launch menu opens the PyTorch
  notebook in Colab and the MXNet notebook on Binder, from the repository's
  ``notebooks`` branch (published by .github/workflows/pages.yml).
* **Execution statistics.** ``{execution-statistics}`` (option ``:lang:``) is the
  table of every chapter's run time per framework, from the last build.
"""
import hashlib
import json
import shutil
from pathlib import Path

import nbformat
from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from myst_nb.sphinx_ import Parser as MystNbParser
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

#: (framework id, tab label) in the book's order; the same as tools/frameworks.py.
FRAMEWORKS = (("mxnet", "MXNet"), ("pytorch", "PyTorch"))
SYNC_GROUP = "framework"
STATE = ".dlbook"
READER = "frameworks_site.read_merged_notebook"
ONLY_IN = {
    "ko": "이 셀은 {label} 판에만 있습니다.",
    "en": "This cell exists only in the {label} version.",
}


def state_dir(app):
    return Path(app.outdir).parent / STATE


def merged_path(app, docname):
    return state_dir(app) / "merged" / f"{docname}.ipynb"


def read_merged_notebook(text):
    """MyST-NB reader (``nb_custom_formats``) of a merged notebook: JSON, build metadata left out."""
    nb = nbformat.reads(text, as_version=4)
    nb.metadata.pop("dlbook", None)
    return nb


def _is_code_notebook(text):
    from myst_nb.core.read import is_myst_markdown_notebook

    return is_myst_markdown_notebook(text) and "{code-cell}" in text


class Parser(MystNbParser):
    """MyST-NB's parser, reading a chapter from its executed, merged notebook."""

    def parse(self, inputstring, document):
        env = document.settings.env
        app = env.app
        path = merged_path(app, env.docname)
        source = Path(env.doc2path(env.docname))
        if not path.is_file():
            if _is_code_notebook(inputstring):
                logger.warning(f"{env.docname} has code cells but no executed notebook: build the "
                               "book with tools/build_book.py", location=env.docname)
            return super().parse(inputstring, document)
        env.note_dependency(str(path))
        text = path.read_text(encoding="utf-8")
        made_from = json.loads(text).get("metadata", {}).get("dlbook", {}).get("source_sha256")
        if made_from != hashlib.sha256(source.read_bytes()).hexdigest():
            logger.warning(f"{env.docname} changed after its notebooks were executed: build the "
                           "book with tools/build_book.py", location=env.docname)
            return super().parse(inputstring, document)
        original = env.mystnb_config
        formats = dict(original.custom_formats)
        formats[source.suffix] = (READER, {}, False)
        env.mystnb_config = original.copy(custom_formats=formats)
        try:
            super().parse(text, document)
        finally:
            env.mystnb_config = original
        group_framework_cells(document)


# ----------------------------------------------------------------- tabs
def cell_framework(node):
    """The framework of a rendered code cell (its ``tag_<framework>`` class), else None."""
    if not isinstance(node, nodes.container) or node.get("nb_element") != "cell_code":
        return None
    for fw, _ in FRAMEWORKS:
        if f"tag_{fw}" in node.get("classes", []):
            return fw
    return None


def _only_in(present):
    label = dict(FRAMEWORKS)[present]
    try:
        from bilingual import lang_block
    except ImportError:  # the bilingual extension is not loaded: English only
        return nodes.paragraph(text=ONLY_IN["en"].format(label=label))
    note = nodes.container(classes=["dlbook-framework-missing"])
    for lang, text in ONLY_IN.items():
        block = lang_block()
        block["lang"] = lang
        block += nodes.paragraph(text=text.format(label=label))
        note += block
    return note


def framework_tab_set(cells):
    """A sphinx-design tab set of ``cells`` ([(framework, cell node)]), one tab per framework."""
    from sphinx_design.shared import create_component

    tab_set = create_component("tab-set", classes=["sd-tab-set", "dlbook-framework-tabs"])
    tab_set.source, tab_set.line = cells[0][1].source, cells[0][1].line
    present = [fw for fw, _ in FRAMEWORKS if any(f == fw for f, _ in cells)]
    for fw, label in FRAMEWORKS:
        own = [cell for f, cell in cells if f == fw]
        rubric = nodes.rubric("", "", nodes.Text(label),
                              classes=["sd-tab-label", f"dlbook-fw-{fw}"])
        rubric["sync_id"], rubric["sync_group"] = fw, SYNC_GROUP
        content = create_component("tab-content", classes=["sd-tab-content", f"dlbook-fw-{fw}"],
                                   children=own or [_only_in(present[0])])
        item = create_component("tab-item", classes=["sd-tab-item"], selected=(fw == FRAMEWORKS[0][0]),
                                children=[rubric, content])
        item.source, item.line = tab_set.source, tab_set.line
        tab_set += item
    return tab_set


def group_framework_cells(document):
    """Put every run of consecutive framework cells of ``document`` into a tab set."""
    parents = []
    for node in document.findall(lambda n: cell_framework(n) is not None):
        if node.parent is not None and all(node.parent is not p for p in parents):
            parents.append(node.parent)
    count = 0
    for parent in parents:
        children, run = [], []
        for child in list(parent.children):
            fw = cell_framework(child)
            if fw is not None:
                run.append((fw, child))
                continue
            if run:
                children.append(framework_tab_set(run))
                run, count = [], count + 1
            children.append(child)
        if run:
            children.append(framework_tab_set(run))
            count += 1
        for child in list(parent.children):
            parent.remove(child)
        parent.extend(children)
    return count


# ----------------------------------------------------------------- notebooks and launch links
def _manifest(app):
    cached = getattr(app, "_dlbook_notebooks", None)
    if cached is None:
        path = state_dir(app) / "notebooks.json"
        cached = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        app._dlbook_notebooks = cached
    return cached


def copy_notebooks(app, exception):
    """Copy every chapter's reader notebooks to ``_sources/<page>.<framework>.ipynb``.

    Done once per build for all pages, not while a page is written: an incremental
    build rewrites only changed pages, and a notebook can change without its page
    (it names the commit that it installs dlbook from).
    """
    if exception is not None or app.builder.format != "html":
        return
    for pagename, entry in _manifest(app).items():
        for fw, rel in (entry.get("notebooks") or {}).items():
            target = Path(app.outdir) / "_sources" / f"{pagename}.{fw}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(app.outdir).parent / "notebooks" / rel, target)


def notebook_buttons(app, pagename, templatename, context, doctree):
    """The page's download menu: one notebook per framework; a launch menu: Colab and Binder."""
    if app.builder.format != "html" or doctree is None:
        return
    entry = _manifest(app).get(pagename)
    if not entry or not entry.get("notebooks"):
        return
    labels = dict(FRAMEWORKS)
    pathto = context["pathto"]
    links = []
    for fw, label in FRAMEWORKS:
        rel = entry["notebooks"].get(fw)
        if rel is None:
            continue
        links.append({"type": "link", "url": f"{pathto('_sources', 1)}/{pagename}.{fw}.ipynb",
                      "text": f"{label} .ipynb", "icon": "fas fa-code",
                      "tooltip": f"Download the {label} notebook",
                      "label": f"download-{fw}-notebook-button"})
    buttons = context.setdefault("header_buttons", [])
    group = next((b for b in buttons if b.get("label") == "download-buttons"), None)
    if group is None:
        return
    group["buttons"] = links + [b for b in group["buttons"]
                                if b.get("label") != "download-notebook-button"]
    launch = []
    if "colab" in entry["links"]:
        launch.append({"type": "link", "url": entry["links"]["colab"],
                       "text": f"Open in Colab ({labels['pytorch']})",
                       "tooltip": "Open the PyTorch notebook in Google Colab",
                       "icon": "_static/images/logo_colab.png", "label": "colab-button"})
    if "binder" in entry["links"]:
        launch.append({"type": "link", "url": entry["links"]["binder"],
                       "text": f"Open in Binder ({labels['mxnet']})",
                       "tooltip": "Open the MXNet notebook on mybinder.org",
                       "icon": "_static/images/logo_binder.svg", "label": "binder-button"})
    if launch:
        buttons.insert(buttons.index(group), {"type": "group", "tooltip": "Launch the notebook",
                                              "icon": "fas fa-rocket", "buttons": launch,
                                              "label": "launch-buttons"})


# ----------------------------------------------------------------- execution statistics
STATS_HEAD = {
    "ko": ["장", "MXNet (초)", "PyTorch (초)", "마지막 실행", "이번 빌드", "상태"],
    "en": ["chapter", "MXNet (s)", "PyTorch (s)", "last run", "this build", "status"],
}
STATS_WORDS = {
    "ko": {"executed": "실행함", "cached": "캐시", "same": "(같은 노트북)", "none": "–"},
    "en": {"executed": "executed", "cached": "cache", "same": "(same notebook)", "none": "–"},
}


def statistics_table(stats, lang):
    """The execution statistics as MyST Markdown table lines in ``lang``."""
    words = STATS_WORDS[lang]
    lines = ["| " + " | ".join(STATS_HEAD[lang]) + " |",
             "| --- | ---: | ---: | --- | --- | --- |"]
    for docname, runs in stats.get("chapters", {}).items():
        cells = [f"{{doc}}`/{docname}`"]
        for fw, _ in FRAMEWORKS:
            if fw in runs:
                cells.append(f"{runs[fw]['seconds']:.1f}")
            elif any(fw in run.get("served", []) for run in runs.values()):
                cells.append(words["same"])
            else:
                cells.append(words["none"])
        when = max((r.get("executed_at") or "" for r in runs.values()), default="")
        cells.append(when or words["none"])
        cells.append(words["executed"] if any(r["executed"] for r in runs.values())
                     else words["cached"])
        cells.append("✅" if all(r["ok"] for r in runs.values()) else "❌")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


class ExecutionStatistics(SphinxDirective):
    has_content = False
    option_spec = {"lang": lambda arg: directives.choice(arg, ("ko", "en"))}

    def run(self):
        path = state_dir(self.env.app) / "execution.json"
        self.env.note_dependency(str(path))
        if not path.is_file():
            logger.warning("execution-statistics: no execution report; build the book with "
                           "tools/build_book.py", location=(self.env.docname, self.lineno))
            return []
        stats = json.loads(path.read_text(encoding="utf-8"))
        container = nodes.container(classes=["dlbook-execution-statistics"])
        lines = statistics_table(stats, self.options.get("lang", "en"))
        self.state.nested_parse(StringList(lines, source=str(path)), self.content_offset, container)
        return [container]


def setup(app):
    app.add_source_parser(Parser, override=True)
    app.add_directive("execution-statistics", ExecutionStatistics)
    # After sphinx-book-theme has made its header buttons (priority 501).
    app.connect("html-page-context", notebook_buttons, priority=600)
    app.connect("build-finished", copy_notebooks)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
