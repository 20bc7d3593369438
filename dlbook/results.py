"""Record measured numbers so that the book's results page can show them."""
import math
import numbers
import re

from ._checks import describe

__all__ = ["record"]


def record(name, value):
    """Record a measured number under ``name`` so that other pages of the book can show it.

    Inside a Jupyter kernel with MyST-NB installed (the book's build), the value
    is glued to the notebook without being displayed, and the results page
    shows it with ``{glue:text}`chapter::name:.3f```. Anywhere else it only
    checks the value. Either way the value comes back as a float.

    Parameters
    ----------
    name : str
        A key made of letters, digits and underscores, e.g. ``'lenet_test_accuracy'``.
    value : real number or one-element array
        A finite number (a NumPy, MXNet or PyTorch scalar is converted).

    Returns
    -------
    float

    Examples
    --------
    >>> from dlbook.results import record
    >>> record("softmax_test_accuracy", 0.8462)
    0.8462
    >>> record("bad name", 1.0)
    Traceback (most recent call last):
    ...
    ValueError: Expected `name` made of letters, digits and underscores, got 'bad name'.
    """
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(
            f"Expected `name` made of letters, digits and underscores, got {name!r}."
        )
    # NumPy and MXNet arrays have a `size` attribute, PyTorch tensors a `numel()` method.
    size = value.numel() if callable(getattr(value, "numel", None)) else getattr(value, "size", 1)
    if hasattr(value, "item") and size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(float(value)):
        raise ValueError(f"Expected `value` as a finite number, got {describe(value)}.")
    value = float(value)
    from .callbacks import in_notebook

    if in_notebook():
        try:
            from myst_nb import glue
        except ImportError:  # a reader's notebook without the book's tools
            return value
        glue(name, value, display=False)
    return value
