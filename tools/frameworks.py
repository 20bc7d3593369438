"""The book's two frameworks in one source: which code cell belongs to which.

A chapter is one MyST Markdown notebook. A code cell tagged ``mxnet`` or
``pytorch`` belongs to that framework only; a cell with neither tag (NumPy,
plotting of results, checks that hold for both) belongs to both. Each
framework's notebook is the chapter with the other framework's cells left out,
so it runs top to bottom in its own kernel.
"""
import copy

#: Framework ids in the book's order (MXNet is the book's first framework), with
#: the tab label the site shows and the dlbook layer the code imports.
FRAMEWORKS = {
    "mxnet": {"label": "MXNet", "layer": "dlbook.mxnet"},
    "pytorch": {"label": "PyTorch", "layer": "dlbook.torch"},
}


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
    ``metadata['dlbook']['source_index']``, so results can be merged back.
    """
    if framework not in FRAMEWORKS:
        raise ValueError(f"Expected `framework` to be one of {list(FRAMEWORKS)}, got {framework!r}.")
    out = copy.deepcopy(nb)
    cells = []
    for index, cell in enumerate(out.cells):
        if cell.get("cell_type") == "code" and framework not in cell_frameworks(cell):
            continue
        cell.setdefault("metadata", {}).setdefault("dlbook", {})["source_index"] = index
        cells.append(cell)
    out.cells = cells
    out.metadata.setdefault("dlbook", {})["framework"] = framework
    return out


def uses_frameworks(nb):
    """True when some code cell of ``nb`` is tagged with a framework."""
    return any(cell.get("cell_type") == "code" and len(cell_frameworks(cell)) == 1
               for cell in nb.cells)
