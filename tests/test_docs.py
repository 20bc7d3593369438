"""Every public name of dlbook has a numpydoc docstring with a runnable example."""
import importlib
import inspect
import pkgutil

import pytest

import dlbook

MODULES = [importlib.import_module(f"dlbook.{m.name}")
           for m in pkgutil.iter_modules(dlbook.__path__) if not m.name.startswith("_")]
PUBLIC = [(mod.__name__, name) for mod in MODULES for name in getattr(mod, "__all__", [])]


def test_every_module_declares_all():
    missing = [m.__name__ for m in MODULES if not hasattr(m, "__all__")]
    assert not missing, missing


def test_package_exports_resolve():
    for name in dlbook.__all__:
        assert hasattr(dlbook, name), name


@pytest.mark.parametrize("module, name", PUBLIC)
def test_public_name_has_docstring_with_example(module, name):
    obj = getattr(importlib.import_module(module), name)
    if not (inspect.isclass(obj) or inspect.isfunction(obj)):
        return  # constants are documented in the module docstring
    doc = inspect.getdoc(obj) or ""
    assert doc.strip(), f"{module}.{name} has no docstring"
    assert ">>>" in doc, f"{module}.{name} has no doctest example"
