"""Every public name of dlbook is documented as the style guide asks (numpydoc).

Functions and classes: a one-line summary, an ``Examples`` section with a doctest
(``--doctest-modules`` runs it), and a ``Parameters`` section that names exactly
the parameters of the signature. Constants: a ``#:`` comment where they are
assigned (what Sphinx's autodoc reads). The public names are those in the
``__all__`` of every public module, the framework layers' submodules included;
that every name of ``__all__`` exists is tests/test_session.py's
``test_every_public_name_exists``.
"""
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import dlbook

MODULES = [dlbook] + [importlib.import_module(m.name)
                      for m in pkgutil.walk_packages(dlbook.__path__, "dlbook.")
                      if not any(part.startswith("_") for part in m.name.split("."))]


def _public():
    callables, constants = {}, {}
    for module in MODULES:
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.ismodule(obj):
                continue
            if inspect.isclass(obj) or inspect.isfunction(obj):
                callables.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
            else:
                constants.setdefault(name, module.__name__)
    return callables, constants


CALLABLES, CONSTANTS = _public()

_SECTION = re.compile(r"^(Parameters|Other Parameters|Returns|Yields|Raises|Warns|See Also|"
                      r"Notes|References|Examples|Attributes|Methods)\n-+\n", re.M)


def _sections(doc):
    """{section title: its text} of a numpydoc docstring."""
    hits = list(_SECTION.finditer(doc))
    return {hit.group(1): doc[hit.end():(hits[i + 1].start() if i + 1 < len(hits) else None)]
            for i, hit in enumerate(hits)}


def _documented(section):
    """The names a Parameters section describes: ``a, b : type`` or ``*args`` at column 0."""
    names = set()
    for line in section.splitlines():
        if line and not line[0].isspace():
            names.update(n.strip().lstrip("*") for n in line.split(" : ")[0].split(","))
    return names


def _parameters(obj):
    """The parameters a docstring should describe: those of the signature, for a class its
    constructor's when dlbook defines it (a framework's own constructor is documented there)."""
    if inspect.isclass(obj) and not any("__init__" in vars(base) for base in obj.__mro__[:-1]
                                        if base.__module__.startswith("dlbook")):
        return []
    return [p for p in inspect.signature(obj).parameters if p not in ("self", "cls")]


def test_every_module_declares_all():
    missing = [m.__name__ for m in MODULES if not hasattr(m, "__all__")]
    assert not missing, missing


def test_the_public_names_are_found():
    """The walk reaches the layers' submodules and their own names, not only the core's."""
    assert {"dlbook.mxnet.devices.try_gpu", "dlbook.torch.devices.try_gpu",
            "dlbook.mxnet.train.Trainer", "dlbook.torch.train.Trainer",
            "dlbook.callbacks.LivePlot"} <= set(CALLABLES)
    assert {"FRAMEWORK", "FASHION_MNIST_LABELS", "OPTIMIZERS"} <= set(CONSTANTS)


@pytest.mark.parametrize("qualname", sorted(CALLABLES))
def test_public_callable_has_a_summary_and_an_examples_section(qualname):
    doc = inspect.getdoc(CALLABLES[qualname]) or ""
    lines = doc.splitlines()
    assert lines and lines[0].strip(), f"{qualname} has no docstring"
    assert len(lines) == 1 or not lines[1].strip(), f"{qualname}: the summary is not one line"
    examples = _sections(doc).get("Examples", "")
    assert ">>>" in examples, f"{qualname} has no Examples section with a doctest"


@pytest.mark.parametrize("qualname", sorted(CALLABLES))
def test_parameters_section_names_exactly_the_signatures_parameters(qualname):
    obj = CALLABLES[qualname]
    params = _parameters(obj)
    sections = _sections(inspect.getdoc(obj))
    if "Parameters" not in sections:
        assert not params, f"{qualname}{inspect.signature(obj)} has no Parameters section"
        return
    documented = _documented(sections["Parameters"] + sections.get("Other Parameters", ""))
    assert [p for p in params if p not in documented] == [], f"{qualname}: undocumented"
    assert sorted(documented - set(params)) == [], f"{qualname}: not in the signature"


_SOURCES = {path: path.read_text(encoding="utf-8")
            for path in Path(dlbook.__file__).parent.rglob("*.py")}


@pytest.mark.parametrize("name", sorted(CONSTANTS))
def test_public_constant_has_a_doc_comment(name):
    """``#: what it is`` on the lines just above each assignment, in whichever module (a
    private one included) defines the constant that a public module exports."""
    assignment = re.compile(rf"^{name}\s*(?::[^=\n]*)?=", re.M)
    places = {path: text for path, text in _SOURCES.items() if assignment.search(text)}
    assert places, f"{name} ({CONSTANTS[name]}) is assigned nowhere in dlbook"
    for path, text in places.items():
        before = text[:assignment.search(text).start()].splitlines()
        assert before and before[-1].startswith("#:"), (
            f"{name} in {path.relative_to(Path(dlbook.__file__).parent)} has no #: comment")
