"""Argument checks shared by dlbook's public functions.

Every check raises before any work is done, with a message that names the
argument, says what was expected, what was received, and how to fix it.
"""
import math
import numbers
import os
from pathlib import Path

import numpy as onp

__all__ = []  # private module


def describe(value):
    """A short description of ``value`` for error messages: type and shape."""
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__module__}.{type(value).__name__} with shape {tuple(shape)}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def check_int(name, value, minimum=None, maximum=None):
    """Return ``value`` as an ``int`` after checking its type and range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"Expected `{name}` to be an integer, got {describe(value)}.")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"Expected `{name}` >= {minimum}, got {value}.")
    if maximum is not None and value > maximum:
        raise ValueError(f"Expected `{name}` <= {maximum}, got {value}.")
    return value


def _bounds(above, minimum, below, maximum):
    """The range ``check_number`` asks for, as text: ``> 0``, ``>= 1``, ``in (0, 1]``, or ''."""
    low = (f"({above}", above) if above is not None else (f"[{minimum}", minimum) \
        if minimum is not None else None
    high = (f"{below})", below) if below is not None else (f"{maximum}]", maximum) \
        if maximum is not None else None
    if low and high:
        return f"in {low[0]}, {high[0]}"
    if low:
        return f"{'>' if above is not None else '>='} {low[1]}"
    if high:
        return f"{'<' if below is not None else '<='} {high[1]}"
    return ""


def check_number(name, value, *, above=None, minimum=None, below=None, maximum=None,
                 allow_none=False, what="a number", why=None, fix=None):
    """Return ``value`` as a finite ``float`` after checking its type and range.

    The one check of a real-valued argument (a rate, a threshold, a number of
    seconds): ``above``/``below`` are strict bounds, ``minimum``/``maximum``
    inclusive ones. A bool, a string or an array is a TypeError; NaN, an
    infinity or a value out of range a ValueError, in one format:
    ``Expected `name` > 0, got -1.``. ``what`` names the kind of number in the
    messages ("a number of seconds"), ``why`` adds a clause after the received
    value (": it is ...") and ``fix`` a sentence that says what to pass.
    ``allow_none`` lets None through (returned as None).

    Examples
    --------
    >>> check_number("learning_rate", 0.5, above=0)
    0.5
    >>> check_number("learning_rate", -1, above=0)
    Traceback (most recent call last):
    ...
    ValueError: Expected `learning_rate` > 0, got -1.
    >>> check_number("p", 1.5, minimum=0, below=1)
    Traceback (most recent call last):
    ...
    ValueError: Expected `p` in [0, 1), got 1.5.
    >>> check_number("timeout", "soon", above=0, allow_none=True, what="a number of seconds")
    Traceback (most recent call last):
    ...
    TypeError: Expected `timeout` as a number of seconds > 0 or None, got 'soon' (str).
    """
    if value is None and allow_none:
        return None
    bounds = _bounds(above, minimum, below, maximum)
    wanted = " ".join(part for part in (what, bounds) if part) + (" or None" if allow_none else "")
    tail = (f": {why}" if why else "") + "." + (f" {fix}" if fix else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"Expected `{name}` as {wanted}, got {describe(value)}{tail}")
    number = float(value)
    shown = int(number) if number.is_integer() and isinstance(value, numbers.Integral) else number
    if not math.isfinite(number):
        finite = "a finite " + (wanted[2:] if wanted.startswith("a ") else wanted)
        raise ValueError(f"Expected `{name}` as {finite}, got {number!r}{tail}")
    ok = ((above is None or number > above) and (minimum is None or number >= minimum)
          and (below is None or number < below) and (maximum is None or number <= maximum))
    if not ok:
        expected = wanted if what != "a number" else bounds + (" or None" if allow_none else "")
        prefix = "as " if what != "a number" else ""
        raise ValueError(f"Expected `{name}` {prefix}{expected}, got {shown!r}{tail}")
    return number


def check_bool(name, value):
    """Return ``value`` as a ``bool`` if it is True or False (a NumPy bool too).

    A flag such as ``shuffle`` or ``hybridize`` given as a string (``"no"``)
    or a number would otherwise be read by its truth value, silently: ``"no"``
    is true.

    Examples
    --------
    >>> check_bool("shuffle", True)
    True
    >>> check_bool("shuffle", "no")
    Traceback (most recent call last):
    ...
    TypeError: Expected `shuffle` as True or False, got 'no' (str).
    """
    if not isinstance(value, (bool, onp.bool_)):
        raise TypeError(f"Expected `{name}` as True or False, got {describe(value)}.")
    return bool(value)


def check_path(name, value):
    """Return ``value`` as a :class:`pathlib.Path` if it is a non-empty str or path.

    A number or ``None`` given for a file or folder would otherwise surface as
    the standard library's ``expected str, bytes or os.PathLike object``, which
    names neither the argument nor the function the reader called.

    Examples
    --------
    >>> check_path("path", "run.npz").name
    'run.npz'
    >>> check_path("path", 3)
    Traceback (most recent call last):
    ...
    TypeError: Expected `path` as a file or folder name (str or pathlib.Path), got 3 (int).
    """
    text = os.fspath(value) if isinstance(value, (str, os.PathLike)) else None
    if not isinstance(text, str):
        raise TypeError(f"Expected `{name}` as a file or folder name (str or pathlib.Path), "
                        f"got {describe(value)}.")
    if text == "":
        raise ValueError(f"Expected `{name}` as a file or folder name, got an empty string.")
    return Path(value)


def check_instance(name, value, types, expected):
    """Return ``value`` if it is an instance of ``types``; ``expected`` words the error.

    The check of an argument that must be an object of a kind, e.g. a
    framework's block (``gluon.Block``, ``torch.nn.Module``) or a vocabulary.

    Examples
    --------
    >>> check_instance("vocab", 3, str, "a string")
    Traceback (most recent call last):
    ...
    TypeError: Expected `vocab` to be a string, got 3 (int).
    """
    if not isinstance(value, types):
        raise TypeError(f"Expected `{name}` to be {expected}, got {describe(value)}.")
    return value


def check_fraction(name, value, low=0.0, high=1.0, include_low=True, include_high=False):
    """Return ``value`` as a ``float`` in the interval [low, high) (bounds configurable)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"Expected `{name}` to be a number, got {describe(value)}.")
    value = float(value)
    ok_low = value >= low if include_low else value > low
    ok_high = value <= high if include_high else value < high
    if not (ok_low and ok_high) or value != value:
        left = "[" if include_low else "("
        right = "]" if include_high else ")"
        raise ValueError(f"Expected `{name}` in {left}{low}, {high}{right}, got {value}.")
    return value


def check_choice(name, value, choices):
    """Return ``value`` if it is one of ``choices``; otherwise list the choices."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in sorted(choices))
        raise ValueError(f"Unknown `{name}` {value!r}. Expected one of: {listed}.")
    return value


def to_numpy(name, value, ndim=None, dtype=None, allow_empty=False):
    """Convert an array-like (NumPy, MXNet, list) to a NumPy array and check it.

    Raises a clear error for non-numeric data, NaN/inf, a wrong number of
    dimensions, or an empty array.
    """
    if hasattr(value, "asnumpy"):
        value = value.asnumpy()
    try:
        array = onp.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"Expected `{name}` to be array-like, got {describe(value)}.") from err
    if array.dtype == object or not onp.issubdtype(array.dtype, onp.number):
        raise TypeError(
            f"Expected `{name}` to hold numbers, got dtype {array.dtype} ({describe(value)})."
        )
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            wanted = " or ".join(str(n) for n in allowed)
            raise ValueError(
                f"Expected `{name}` with {wanted} dimensions, got shape {array.shape}."
            )
    if not allow_empty and array.size == 0:
        raise ValueError(f"Expected a non-empty `{name}`, got shape {array.shape}.")
    if onp.issubdtype(array.dtype, onp.floating) and not onp.all(onp.isfinite(array)):
        bad = int(onp.size(array) - onp.count_nonzero(onp.isfinite(array)))
        raise ValueError(
            f"`{name}` contains {bad} NaN or infinite values; clean or impute them first."
        )
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    return array


def check_same_length(names, arrays):
    """Raise if the arrays do not share their first dimension."""
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) > 1:
        detail = ", ".join(f"`{n}` has {k}" for n, k in zip(names, lengths))
        raise ValueError(f"Expected the same number of examples, but {detail}.")


def check_token_range(low, high, vocab_size, name="X"):
    """Raise unless token indices from ``low`` to ``high`` lie in [0, vocab_size).

    An embedding table reads no row for an index outside it: MXNet's clips it
    silently, PyTorch's fails with "index out of range in self". Every model
    over token indices (both layers) checks with this one message.

    Examples
    --------
    >>> check_token_range(0, 9, vocab_size=10)
    >>> check_token_range(0, 12, vocab_size=10)
    Traceback (most recent call last):
    ...
    ValueError: Vocabulary mismatch: `X` holds token indices from 0 to 12, but the model was built for vocab_size=10 (indices 0 to 9). Build it with len(vocab) of the vocabulary that encoded the data.
    """
    if low < 0 or high >= vocab_size:
        raise ValueError(
            f"Vocabulary mismatch: `{name}` holds token indices from {low} to {high}, but the "
            f"model was built for vocab_size={vocab_size} (indices 0 to {vocab_size - 1}). Build "
            "it with len(vocab) of the vocabulary that encoded the data.")
