"""The framework-neutral half of model summaries: checks, messages and the table layout.

Each layer's ``summary`` (:func:`dlbook.mxnet.summaries.summary`,
:func:`dlbook.torch.summaries.summary`) runs its network once, collects one
row per layer and prints it with :func:`format_summary`, so both frameworks
print the same table. The table follows Keras's ``Model.summary()``: one row
per layer, then the total, trainable and non-trainable parameter counts.
"""
import numbers

from ._checks import describe

__all__ = ["check_input_shape", "format_summary", "note_failed_pass", "unknown_shape_error"]


def check_input_shape(input_shape):
    """Return ``input_shape`` as a tuple of positive ints, or raise a clear error.

    Parameters
    ----------
    input_shape : tuple or list of int
        The shape of one batch, batch axis first, at least two axes, each a
        positive integer (Python's or NumPy's; returned as Python ints). A
        non-sequence, or an entry that is not an integer (a float, a bool),
        raises TypeError; an empty shape, or an entry < 1, ValueError.

    Returns
    -------
    tuple of int

    Examples
    --------
    >>> from dlbook.summaries import check_input_shape
    >>> check_input_shape([1, 3])
    (1, 3)
    >>> check_input_shape((0, 3))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Expected `input_shape` as a tuple of positive ints ...; got (0, 3).

    A shape without the batch axis is refused (it would build the first layer
    for inputs of width 1):

    >>> check_input_shape((3,))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Expected `input_shape` with the batch axis first, such as (1, 3) ...; got (3,). ...
    """
    expected = ("Expected `input_shape` as a tuple of positive ints with the batch axis first, "
                "e.g. (1, 1, 28, 28); got")
    if not isinstance(input_shape, (tuple, list)):
        raise TypeError(f"{expected} {describe(input_shape)}.")
    for d in input_shape:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral):
            raise TypeError(f"{expected} {input_shape!r}: its entry {describe(d)} is not an int.")
    if not input_shape or not all(d > 0 for d in input_shape):
        raise ValueError(f"{expected} {input_shape!r}.")
    input_shape = tuple(int(d) for d in input_shape)
    if len(input_shape) == 1:
        raise ValueError(
            "Expected `input_shape` with the batch axis first, such as (1, 3) for one "
            f"example of 3 features or (1, 1, 28, 28) for one image; got {input_shape!r}. "
            f"Add the batch axis: {(1,) + input_shape!r}."
        )
    return input_shape


def note_failed_pass(error, input_shape):
    """Add to ``error`` (raised by the network) a note on what ``summary`` ran and that the net is unchanged.

    Parameters
    ----------
    error : BaseException
        The exception the network raised; the note is added in place
        (``error.add_note``).
    input_shape : sequence of int
        The shape ``summary`` ran the network on, quoted in the note.

    Returns
    -------
    BaseException
        ``error`` itself, to re-raise.

    Examples
    --------
    >>> from dlbook.summaries import note_failed_pass
    >>> error = note_failed_pass(RuntimeError("kernel size exceeds the input"), (1, 1, 4, 4))
    >>> print(error.__notes__[0])  # doctest: +NORMALIZE_WHITESPACE
    `summary` ran `net` on zeros of `input_shape` (1, 1, 4, 4) and `net` raised the
    error above; `net` was left as it was. Pass the shape of one real batch, batch
    axis first, e.g. `X[:1].shape`.
    """
    error.add_note(
        f"`summary` ran `net` on zeros of `input_shape` {tuple(input_shape)!r} and `net` "
        "raised the error above; `net` was left as it was. Pass the shape of one real "
        "batch, batch axis first, e.g. `X[:1].shape`."
    )
    return error


def unknown_shape_error(name, shape):
    """The ``RuntimeError`` for counting a parameter whose shape is not known yet.

    Parameters
    ----------
    name : str
        The parameter's name, e.g. ``'0.weight'``.
    shape : object
        What is known of its shape (a shape with unknown axes, or a word such as
        ``'uninitialized'``), shown in parentheses.

    Returns
    -------
    RuntimeError
        The error, to raise.

    Examples
    --------
    >>> from dlbook.summaries import unknown_shape_error
    >>> print(unknown_shape_error("0.weight", "uninitialized"))  # doctest: +NORMALIZE_WHITESPACE
    The shape of parameter `0.weight` is not known yet (uninitialized). Initialize the
    network and run one forward pass (or call `summary(net, input_shape)`) before
    counting parameters.
    """
    return RuntimeError(
        f"The shape of parameter `{name}` is not known yet ({shape}). Initialize "
        "the network and run one forward pass (or call `summary(net, input_shape)`) "
        "before counting parameters."
    )


def format_summary(rows, total, trainable):
    """The summary table: a row per layer, then the parameter totals.

    Parameters
    ----------
    rows : list of (str, tuple or None, int)
        Per layer: its name (``'0: Dense'``), its output shape (None when
        unknown, shown as ``-``) and its number of parameters.
    total, trainable : int
        Parameter counts of the whole network.

    Returns
    -------
    str

    Examples
    --------
    >>> from dlbook.summaries import format_summary
    >>> print(format_summary([("0: Dense", (1, 4), 16), ("1: Dense", (1, 2), 10)], 26, 26))
    Layer (type)  Output shape        Param #
    =========================================
    0: Dense      (1, 4)                   16
    1: Dense      (1, 2)                   10
    =========================================
    Total params: 26
    Trainable params: 26
    Non-trainable params: 0
    """
    rows = [(name, "-" if shape is None else str(tuple(shape)), int(params))
            for name, shape, params in rows]
    width = max([len(r[0]) for r in rows] + [len("Layer (type)")]) + 2
    lines = [f"{'Layer (type)':<{width}}{'Output shape':<16}{'Param #':>11}"]
    rule = "=" * len(lines[0])
    lines.append(rule)
    lines += [f"{n:<{width}}{s:<16}{p:>11,}" for n, s, p in rows]
    lines += [
        rule,
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
    ]
    return "\n".join(lines)
