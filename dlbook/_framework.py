"""Which deep-learning frameworks are installed, and a clear error when one is missing."""
import importlib.util
import sys

__all__ = ["FRAMEWORKS", "available", "require"]

#: The framework layers of dlbook: {framework module: (layer, pip extra, what it needs)}.
FRAMEWORKS = {
    "mxnet": ("dlbook.mxnet", "mxnet", "Python 3.9-3.11, since MXNet 1.9.1 imports only with numpy<1.24"),
    "torch": ("dlbook.torch", "torch", "Python 3.9 or newer"),
}


def available():
    """The framework modules that can be imported here, in the book's order.

    Examples
    --------
    >>> from dlbook._framework import available
    >>> set(available()) <= {"mxnet", "torch"}
    True
    """
    return [name for name in FRAMEWORKS if importlib.util.find_spec(name) is not None]


def require(framework):
    """Raise an ImportError naming the pip extra when ``framework`` is not installed.

    Examples
    --------
    >>> from dlbook._framework import require
    >>> require("no_such_framework")
    Traceback (most recent call last):
    ...
    ValueError: Expected `framework` to be one of ['mxnet', 'torch'], got 'no_such_framework'.
    """
    if framework not in FRAMEWORKS:
        raise ValueError(
            f"Expected `framework` to be one of {sorted(FRAMEWORKS)}, got {framework!r}.")
    layer, extra, needs = FRAMEWORKS[framework]
    if framework == "mxnet" and sys.version_info >= (3, 12):
        raise ImportError(
            f"`{layer}` needs MXNet 1.9.1, which runs only on Python 3.9-3.11 (it imports only "
            f"with numpy<1.24); this is Python {sys.version_info.major}.{sys.version_info.minor}. "
            f'Use the PyTorch layer, `from dlbook import torch as dl`, or a Python 3.11 '
            f'environment with `pip install "dlbook[mxnet]"`.')
    if importlib.util.find_spec(framework) is None:
        raise ImportError(
            f"`{layer}` needs the `{framework}` package, which is not installed. "
            f'Install it with `pip install "dlbook[{extra}]"` (it needs {needs}); '
            f"or use the other layer: {', '.join(FRAMEWORKS[f][0] for f in FRAMEWORKS if f != framework)}.")
