"""The book's two frameworks in one source: which code cell belongs to which.

A chapter is one MyST Markdown notebook. A code cell tagged ``mxnet`` or
``pytorch`` belongs to that framework only; a cell with neither tag (NumPy,
plotting of results, checks that hold for both) belongs to both. Each
framework's notebook is the chapter with the other framework's cells left out,
so it runs top to bottom in its own kernel.

The build (``tools/build_book.py``) uses the rest of this module:

* :func:`runs` -- which notebooks a chapter is executed as. A chapter with
  framework cells runs once per framework. A chapter without any (not converted
  yet, or framework-free) runs **once**: its one notebook *serves* the
  frameworks its code names (``mxnet`` / ``torch``), or all of them when it names
  none, and is shown once on its page.
* :func:`execution_key` -- the cache key of one framework's notebook: its code
  (sources and the tags that change execution), the chapter, the kernel and the
  fingerprint of dlbook and the pins. Markdown is not part of it, so a prose edit
  executes nothing.
* :func:`merge` -- the executed notebooks back into one notebook of the whole
  chapter for the site: framework cells carry their own run's outputs, shared
  cells the first framework's; a visible shared cell whose outputs differ
  between the runs becomes a pair of framework cells (same code, each run's
  outputs), which the site shows as tabs. Values glued by ``dl.record`` are
  renamed ``<name>__<framework>`` so both frameworks' values coexist.
* :func:`records` -- the ``dl.record`` values of an executed notebook.
* :func:`reader_notebook` -- one framework's executed notebook as readers get
  it (download menu, Colab, Binder): an install cell first, the ``ko``/``en``
  fences as HTML blocks that Jupyter renders, no build metadata.
"""
import copy
import hashlib
import json
import re

from book._ext.bilingual_text import LANG_FENCE

#: Framework ids in the book's order (MXNet is the book's first framework), with
#: the tab label the site shows, the dlbook layer the code imports, the pip extra
#: that installs it and the word that marks its use in untagged code.
FRAMEWORKS = {
    "mxnet": {"label": "MXNet", "layer": "dlbook.mxnet", "extra": "mxnet", "module": "mxnet"},
    "pytorch": {"label": "PyTorch", "layer": "dlbook.torch", "extra": "torch", "module": "torch"},
}
#: Tags that change how a cell executes (nbclient honours them); other tags only
#: change how the cell is shown and are not part of the execution key.
EXECUTION_TAGS = ("raises-exception", "skip-execution")
#: Tags that hide a cell's outputs on the page: such a shared cell is never shown twice.
HIDDEN_OUTPUT_TAGS = ("remove-cell", "remove-output", "remove_output", "remove_cell")
GLUE_SEPARATOR = "__"


def cell_frameworks(cell):
    """The frameworks a cell belongs to: one id, or all of them for an untagged cell.

    Raises ValueError for a cell tagged with more than one framework.
    """
    tags = set(cell.get("metadata", {}).get("tags", []))
    own = [name for name in FRAMEWORKS if name in tags]
    if len(own) > 1:
        raise ValueError(f"A cell is tagged with {own}; tag it with one framework, or with "
                         "none when it belongs to both.")
    return own or list(FRAMEWORKS)


def split(nb, framework):
    """The notebook ``nb`` as ``framework`` runs it (a deep copy; ``nb`` is unchanged).

    Every kept cell records its index in the source notebook in
    ``metadata['dlbook']['source_index']``, so results can be merged back. A
    ``source_map`` (MyST-NB's line of each cell) is cut down to the kept cells.
    """
    if framework not in FRAMEWORKS:
        raise ValueError(f"Expected `framework` to be one of {list(FRAMEWORKS)}, got {framework!r}.")
    out = copy.deepcopy(nb)
    cells, lines = [], []
    source_map = nb.metadata.get("source_map")
    for index, cell in enumerate(out.cells):
        if cell.get("cell_type") == "code" and framework not in cell_frameworks(cell):
            continue
        cell.setdefault("metadata", {}).setdefault("dlbook", {})["source_index"] = index
        cells.append(cell)
        if source_map:
            lines.append(source_map[index])
    out.cells = cells
    if source_map:
        out.metadata["source_map"] = lines
    out.metadata.setdefault("dlbook", {})["framework"] = framework
    return out


def uses_frameworks(nb):
    """True when some code cell of ``nb`` is tagged with a framework."""
    return any(cell.get("cell_type") == "code" and len(cell_frameworks(cell)) == 1
               for cell in nb.cells)


def _source(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _code(nb):
    """All of a notebook's code cells as one text."""
    return "\n".join(_source(c) for c in nb.cells if c.get("cell_type") == "code")


def served_frameworks(nb):
    """The frameworks an untagged chapter's one notebook serves.

    Those whose module its code names (``import mxnet``, ``from dlbook import
    torch``), or every framework when it names none (framework-free code).
    """
    code = _code(nb)
    named = [fw for fw, info in FRAMEWORKS.items() if re.search(rf"\b{info['module']}\b", code)]
    return named or list(FRAMEWORKS)


def runs(nb):
    """How a chapter is executed: ``[(framework, notebook to run, frameworks it serves)]``.

    A chapter with framework cells: one run per framework, each serving itself.
    Without any: one run of the whole notebook, named after the first framework
    it serves.
    """
    if uses_frameworks(nb):
        return [(fw, split(nb, fw), [fw]) for fw in FRAMEWORKS]
    served = served_frameworks(nb)
    return [(served[0], split(nb, served[0]), served)]


def execution_key(nb, framework, chapter, fingerprint):
    """The cache key of ``nb`` (one framework's notebook of ``chapter``): a SHA-256 hex digest.

    Only what changes the execution counts: each code cell's source and
    execution tags, the kernel, the chapter's path (its working directory) and
    ``fingerprint`` (dlbook's code and the pins).
    """
    code = []
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        tags = sorted(t for t in cell.get("metadata", {}).get("tags", []) if t in EXECUTION_TAGS)
        code.append([_source(cell), tags])
    kernel = nb.metadata.get("kernelspec", {}).get("name", "python3")
    payload = json.dumps([framework, str(chapter), kernel, fingerprint, code], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# ----------------------------------------------------------------- outputs
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")


def is_glue(output):
    """True for an output made by ``glue(..., display=False)`` (``dl.record``): never shown."""
    book = output.get("metadata", {}).get("scrapbook")
    return bool(book) and bool(book.get("mime_prefix"))


def _text(value):
    return "".join(value) if isinstance(value, list) else (value or "")


def visible_outputs(outputs):
    """What a reader sees of ``outputs``, normalised for comparison.

    Streams are joined per name (the kernel splits them wherever it flushed),
    object addresses (``0x7f...``) are blanked, glued values are left out.
    """
    streams, shown = {}, []
    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream":
            streams.setdefault(output.get("name"), []).append(_text(output.get("text")))
        elif kind in ("display_data", "execute_result"):
            if is_glue(output):
                continue
            data = {mime: _ADDRESS.sub("0x?", _text(value)) if isinstance(value, (str, list))
                    else json.dumps(value, sort_keys=True)
                    for mime, value in output.get("data", {}).items()}
            shown.append(("data", tuple(sorted(data.items()))))
        elif kind == "error":
            shown.append(("error", output.get("ename"), _ADDRESS.sub("0x?", output.get("evalue", ""))))
    for name in sorted(streams):
        shown.append(("stream", name, _ADDRESS.sub("0x?", "".join(streams[name]))))
    return shown


def rename_glue(outputs, framework):
    """Copies of ``outputs`` whose glued names carry the framework: ``name__framework``."""
    renamed = []
    for output in outputs:
        output = copy.deepcopy(output)
        book = output.get("metadata", {}).get("scrapbook")
        if book and "name" in book:
            book["name"] = f"{book['name']}{GLUE_SEPARATOR}{framework}"
        renamed.append(output)
    return renamed


def records(nb):
    """``{name: value}`` of every value glued in the executed notebook ``nb`` (``dl.record``).

    Values are floats where their text reads as a number, else the text.
    """
    found = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            book = output.get("metadata", {}).get("scrapbook")
            if not book or "name" not in book:
                continue
            text = _text(output.get("data", {}).get(book.get("mime_prefix", "") + "text/plain"))
            try:
                found[book["name"]] = float(text)
            except ValueError:
                found[book["name"]] = text
    return found


def _clean(cell):
    cell = copy.deepcopy(cell)
    cell.get("metadata", {}).pop("dlbook", None)
    return cell


def _tagged(cell, framework, shared):
    cell = _clean(cell)
    tags = [t for t in cell.metadata.get("tags", []) if t not in FRAMEWORKS]
    cell.metadata["tags"] = tags + [framework]
    if shared:
        cell.metadata["dlbook"] = {"shared": True}
    return cell


def merge(source, executed, served=None):
    """The chapter ``source`` with the outputs of its executed notebooks ``executed`` ({fw: nb}).

    ``served`` ({run framework: [frameworks it serves]}) names, for a chapter
    run once, the frameworks its glued values count for (default: its own).
    Framework cells get their framework's outputs. A shared cell gets the first
    run's outputs plus every run's glued values; if its visible outputs differ
    between runs (and the page shows them), it becomes one cell per framework,
    tagged with it and marked ``metadata['dlbook']['shared']``. Cells a failed
    run did not reach keep no outputs. Returns a new notebook.
    """
    served = served or {fw: [fw] for fw in executed}
    by_index = {fw: {c.metadata.get("dlbook", {}).get("source_index", i): c
                     for i, c in enumerate(nb.cells)} for fw, nb in executed.items()}
    out = copy.deepcopy(source)
    source_map = source.metadata.get("source_map")
    cells, lines = [], []

    def add(cell, index):
        cells.append(cell)
        if source_map:
            lines.append(source_map[index])

    def outputs_of(fw, ran):
        outputs = []
        for target in served.get(fw, [fw]):
            renamed = rename_glue(ran.get("outputs", []), target)
            outputs += [o for o in renamed if target == served.get(fw, [fw])[0] or is_glue(o)]
        return outputs

    for index, cell in enumerate(source.cells):
        if cell.get("cell_type") != "code":
            add(_clean(cell), index)
            continue
        ran = [(fw, by_index[fw][index]) for fw in executed if index in by_index[fw]]
        merged = _clean(cell)
        merged["outputs"], merged["execution_count"] = [], None
        if not ran:
            add(merged, index)
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        shown = not any(t in HIDDEN_OUTPUT_TAGS for t in tags)
        first_fw, first = ran[0]
        differ = [fw for fw, c in ran[1:]
                  if visible_outputs(c.get("outputs", [])) != visible_outputs(first.get("outputs", []))]
        if len(cell_frameworks(cell)) > 1 and shown and differ:
            for fw, c in ran:
                twin = _tagged(cell, fw, shared=True)
                twin["outputs"] = outputs_of(fw, c)
                twin["execution_count"] = c.get("execution_count")
                add(twin, index)
            continue
        merged["outputs"] = outputs_of(first_fw, first)
        for fw, c in ran[1:]:
            merged["outputs"] += [o for o in outputs_of(fw, c) if is_glue(o)]
        merged["execution_count"] = first.get("execution_count")
        add(merged, index)
    for position, cell in enumerate(cells):  # stable ids: the same chapter merges the same
        if "id" in cell or out.get("nbformat_minor", 0) >= 5:
            cell["id"] = f"cell-{position}"
    out.cells = cells
    if source_map:
        out.metadata["source_map"] = lines
    first_nb = next(iter(executed.values()), None)
    if first_nb is not None and "language_info" in first_nb.metadata:
        out.metadata["language_info"] = copy.deepcopy(first_nb.metadata["language_info"])
    out.metadata.pop("dlbook", None)
    return out


# ----------------------------------------------------------------- notebooks for readers
def jupyter_markdown(text):
    """Turn MyST ``ko``/``en`` fences into HTML blocks that Jupyter renders.

    >>> print(jupyter_markdown(":::{ko}\\n안녕\\n:::\\n\\n:::{en}\\nHi\\n:::"))
    <div lang="ko">
    <BLANKLINE>
    안녕
    <BLANKLINE>
    </div>
    <BLANKLINE>
    <div lang="en">
    <BLANKLINE>
    Hi
    <BLANKLINE>
    </div>
    """
    out, fences = [], []
    for line in text.split("\n"):
        m = LANG_FENCE.match(line.strip())
        if m:
            fences.append(m.group(1))
            out += [f'<div lang="{m.group(2)}">', ""]
        elif fences and line.strip() == fences[-1]:
            fences.pop()
            out += ["", "</div>"]
        else:
            out.append(line)
    return "\n".join(out)


#: What a reader's notebook may need beyond its framework, and how its code shows it:
#: dlbook's extras (pip) with the modules that tell whether they are installed, and
#: Debian packages with the program that tells it.
EXTRA_NEEDS = {
    "text": {"pattern": r"from dlbook[\w.]* import [^\n]*\btext\b|\bdlbook(\.\w+)?\.text\b|\bdl\.text\.",
             "modules": ("konlpy", "sentencepiece", "kiwipiepy")},
}
APT_NEEDS = {
    "bible-kjv": {"pattern": r"\bload_kjv\(", "program": "bible"},
}


def reader_needs(nb):
    """What a chapter's notebook needs installed beyond dlbook and its framework.

    Returns ``(extras, apt)``: the dlbook extras its code uses (``dl.text`` needs
    ``text``) and the Debian packages (``load_kjv`` reads the ``bible`` program of
    ``bible-kjv``), each sorted.

    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell("from dlbook.torch import sequence, text"),
    ...     nbformat.v4.new_code_cell('genesis = sequence.load_kjv("Genesis")')])
    >>> reader_needs(nb)
    (['text'], ['bible-kjv'])
    >>> reader_needs(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("text = 'load_kjv'")]))
    ([], [])
    """
    code = _code(nb)
    extras = sorted(name for name, need in EXTRA_NEEDS.items() if re.search(need["pattern"], code))
    apt = sorted(name for name, need in APT_NEEDS.items() if re.search(need["pattern"], code))
    return extras, apt


def install_source(frameworks, requirement, extras=(), apt=()):
    """The first code cell of a reader's notebook: install what it needs where it is missing.

    ``requirement`` is what pip installs (e.g. ``dlbook[torch,text] @ git+https://...``);
    ``extras`` the dlbook extras it names and ``apt`` the Debian packages the
    notebook needs (see :func:`reader_needs`). In an environment that already has
    them (a checkout's ``.venv``, Binder) the cell does nothing; on Colab, which
    runs as root, it installs the Debian packages with apt.
    """
    modules = ["dlbook"] + [FRAMEWORKS[fw]["module"] for fw in frameworks]
    modules += [m for extra in extras for m in EXTRA_NEEDS[extra]["modules"]]
    missing = " or ".join(f'importlib.util.find_spec("{m}") is None' for m in modules)
    lines = ["# dlbook과 필요한 패키지를 설치합니다(이미 있으면 건너뜁니다).",
             "# Installs dlbook and the packages it needs (skipped where they are installed).",
             "import importlib.util" + (", shutil" if apt else ""),
             f"if {missing}:",
             f'    %pip install --quiet "{requirement}"']
    for package in apt:
        program = APT_NEEDS[package]["program"]
        lines += [f"if shutil.which(\"{program}\") is None:  # Debian/Ubuntu: sudo apt install {package}",
                  f"    !apt-get -qq update && apt-get -qq install -y {package}"]
    return "\n".join(lines)


def reader_notebook(executed, frameworks, requirement):
    """An executed notebook as readers download it: install cell first, Jupyter-ready Markdown.

    ``frameworks`` are those the notebook runs (for the install cell's check);
    ``requirement(extras)`` is what pip installs, given the dlbook extras beyond
    the framework's that the notebook's code needs (:func:`reader_needs`).
    Returns a new notebook without the build's metadata (source map, jupytext, dlbook).
    """
    import nbformat

    extras, apt = reader_needs(executed)
    nb = copy.deepcopy(executed)
    for cell in nb.cells:
        cell.get("metadata", {}).pop("dlbook", None)
        if cell.get("cell_type") == "markdown":
            cell["source"] = jupyter_markdown(_source(cell))
    install = nbformat.v4.new_code_cell(install_source(frameworks, requirement(extras), extras, apt))
    install.metadata["tags"] = ["dlbook-install"]
    nb.cells.insert(0, install)
    for key in ("source_map", "jupytext", "dlbook"):
        nb.metadata.pop(key, None)
    for index, cell in enumerate(nb.cells):  # nbformat 4.5 wants unique cell ids
        cell["id"] = f"cell-{index}"
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def read_chapter(path, extensions=("colon_fence", "dollarmath", "amsmath", "deflist",
                                   "substitution", "linkify")):
    """A MyST Markdown chapter as a notebook, read the way MyST-NB reads it for the site.

    With MyST-NB (the book extra) the notebook carries ``metadata['source_map']``
    (the line of each cell); without it, jupytext reads the file.
    """
    from pathlib import Path

    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        from myst_nb.core.read import read_myst_markdown_notebook
        from myst_parser.config.main import MdParserConfig
    except ImportError:
        import jupytext

        return jupytext.reads(text, fmt="md:myst")
    config = MdParserConfig(enable_extensions=set(extensions))
    return read_myst_markdown_notebook(text, config=config, add_source_map=True, path=str(path))


def is_notebook_text(text):
    """True when a Markdown file's text starts with the MyST notebook front matter."""
    try:
        from myst_nb.core.read import is_myst_markdown_notebook
    except ImportError:
        return text.startswith("---") and "format_name: myst" in text.split("\n---", 2)[0]
    return is_myst_markdown_notebook(text)
