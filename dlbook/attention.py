"""Attention without a framework: positional tables, masks and the checks both layers share.

The NumPy half of the chapter on attention and the transformer:
:func:`positional_encoding` builds the sinusoidal table of Vaswani et al.
(2017); :func:`causal_mask` and :func:`padding_mask` build the boolean masks
that say which keys a query may attend to (``True``: may attend). The layers
themselves (``scaled_dot_product_attention``, ``MultiHeadAttention``,
``PositionalEncoding``, ``TransformerBlock``, ``TransformerLM``,
``transformer_lm`` and ``generate``) live in :mod:`dlbook.mxnet.attention` and
:mod:`dlbook.torch.attention`, with the same names, arguments and messages.
"""
import numbers

import numpy as onp

from ._checks import check_bool, check_int, to_numpy

__all__ = ["positional_encoding", "causal_mask", "padding_mask"]


# --------------------------------------------------------------- positions
def positional_encoding(max_len, d_model, base=10000.0):
    """The sinusoidal positional table: one row of ``d_model`` values per position.

    Row ``t`` holds, for ``i = 0, 1, ...``,

    .. math::
        P_{t, 2i} = \\sin\\left(t / b^{2i/d}\\right), \\qquad
        P_{t, 2i+1} = \\cos\\left(t / b^{2i/d}\\right)

    with ``b = base`` and ``d = d_model`` (Vaswani et al., 2017): every pair of
    columns is a sine and a cosine of one frequency, from one cycle per
    :math:`2\\pi` positions down to one per :math:`2\\pi b` positions. An odd
    ``d_model`` drops the last cosine column. The book introduces it in the
    chapter on attention and the transformer.

    Parameters
    ----------
    max_len : int
        Number of positions (rows), at least 1.
    d_model : int
        Width of each row, at least 1.
    base : float, default 10000.0
        The largest wavelength is ``2 * pi * base``; must be > 1.

    Returns
    -------
    numpy.ndarray of float32, shape (max_len, d_model)

    Raises
    ------
    ValueError
        If a size is below 1 or ``base`` is not above 1.

    Examples
    --------
    >>> from dlbook.attention import positional_encoding
    >>> P = positional_encoding(50, 8)
    >>> P.shape, P.dtype.name
    ((50, 8), 'float32')
    >>> P[0].tolist()  # position 0: sin(0) = 0 and cos(0) = 1
    [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0]
    >>> round(float(P[1, 0]), 4)  # sin(1), the fastest column
    0.8415
    """
    max_len = check_int("max_len", max_len, minimum=1)
    d_model = check_int("d_model", d_model, minimum=1)
    if isinstance(base, bool) or not isinstance(base, numbers.Real) or not base > 1 \
            or not onp.isfinite(base):
        raise ValueError(f"Expected `base` > 1 (the longest wavelength / 2 pi), got {base!r}.")
    positions = onp.arange(max_len, dtype="float64")[:, None]
    pairs = onp.arange((d_model + 1) // 2, dtype="float64")
    angles = positions / onp.power(float(base), 2.0 * pairs / d_model)
    table = onp.empty((max_len, 2 * len(pairs)), dtype="float64")
    table[:, 0::2] = onp.sin(angles)
    table[:, 1::2] = onp.cos(angles)
    return table[:, :d_model].astype("float32")


# ------------------------------------------------------------------- masks
def causal_mask(num_steps):
    """The causal mask of a sequence: query ``i`` may attend to keys ``0..i`` only.

    A decoder that predicts token ``i + 1`` from tokens ``0..i`` must not see
    the tokens after ``i``; this mask (a lower triangle of ``True``) hides them.

    Parameters
    ----------
    num_steps : int
        Length of the sequence, at least 1.

    Returns
    -------
    numpy.ndarray of bool, shape (num_steps, num_steps)
        ``mask[i, j]`` is True where query ``i`` may attend to key ``j`` (``j <= i``).

    See Also
    --------
    padding_mask : hides the padding at the end of shorter sequences.

    Examples
    --------
    >>> from dlbook.attention import causal_mask
    >>> causal_mask(3).astype(int).tolist()
    [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    """
    num_steps = check_int("num_steps", num_steps, minimum=1)
    return onp.tril(onp.ones((num_steps, num_steps), dtype=bool))


def padding_mask(valid_lens, num_steps):
    """Masks that hide the padding of a batch of sequences of different lengths.

    Sequence ``b`` of the batch has ``valid_lens[b]`` real tokens followed by
    padding up to ``num_steps``; every query may attend to the real tokens only.

    Parameters
    ----------
    valid_lens : array-like of int, shape (batch,)
        The real length of each sequence, each in ``[1, num_steps]``.
    num_steps : int
        The padded length (the number of keys).

    Returns
    -------
    numpy.ndarray of bool, shape (batch, 1, num_steps)
        ``mask[b, 0, j]`` is True for ``j < valid_lens[b]``. The middle axis of
        size 1 broadcasts over the queries; combine it with a causal mask by
        ``padding_mask(...) & causal_mask(num_steps)``, of shape (batch, T, T).

    Raises
    ------
    ValueError
        If ``valid_lens`` is not 1-D, not integer, or has a length outside ``[1, num_steps]``.

    Examples
    --------
    >>> from dlbook.attention import padding_mask
    >>> padding_mask([2, 4], num_steps=4).astype(int).tolist()
    [[[1, 1, 0, 0]], [[1, 1, 1, 1]]]
    """
    num_steps = check_int("num_steps", num_steps, minimum=1)
    lens = to_numpy("valid_lens", valid_lens, ndim=1)
    if not onp.issubdtype(lens.dtype, onp.integer) and not onp.all(lens == onp.round(lens)):
        raise ValueError(f"Expected whole numbers in `valid_lens`, got {lens.tolist()}.")
    lens = lens.astype("int64")
    if lens.min() < 1 or lens.max() > num_steps:
        raise ValueError(
            f"Expected every value of `valid_lens` in [1, num_steps={num_steps}], got values "
            f"from {lens.min()} to {lens.max()}. A sequence needs at least one real token.")
    return (onp.arange(num_steps)[None, :] < lens[:, None])[:, None, :]


# ------------------------------------------------ checks shared by the layers
def _check_mask_shape(mask_shape, scores_shape, name="mask"):
    """Raise unless a mask of ``mask_shape`` broadcasts to attention scores of ``scores_shape``.

    The scores are ``(..., T_q, T_k)``. The mask's last axis must be ``T_k``
    exactly, its second to last ``T_q`` or 1, and leading axes must match or be 1.

    >>> _check_mask_shape((2, 1, 5), (2, 3, 5))
    >>> _check_mask_shape((5, 6), (2, 5, 5))
    Traceback (most recent call last):
    ...
    ValueError: Expected `mask` of shape (T_q, T_k) = (5, 5), (batch, T_q, T_k) = (2, 5, 5) or (batch, 1, T_k) = (2, 1, 5), broadcastable to the attention scores of shape (2, 5, 5); got shape (5, 6). Build one with causal_mask(5) or padding_mask(valid_lens, 5).
    """
    mask_shape, scores_shape = tuple(mask_shape), tuple(scores_shape)
    t_q, t_k = scores_shape[-2], scores_shape[-1]
    ok = 2 <= len(mask_shape) <= len(scores_shape) and mask_shape[-1] == t_k \
        and mask_shape[-2] in (1, t_q) \
        and all(m in (1, s) for m, s in zip(mask_shape[:-2][::-1], scores_shape[:-2][::-1]))
    if not ok:
        lead = scores_shape[0] if len(scores_shape) > 2 else "batch"
        raise ValueError(
            f"Expected `{name}` of shape (T_q, T_k) = ({t_q}, {t_k}), (batch, T_q, T_k) = "
            f"({lead}, {t_q}, {t_k}) or (batch, 1, T_k) = ({lead}, 1, {t_k}), broadcastable "
            f"to the attention scores of shape {scores_shape}; got shape {mask_shape}. Build "
            f"one with causal_mask({t_k}) or padding_mask(valid_lens, {t_k}).")


def _check_heads(d_model, num_heads):
    """MultiHeadAttention's checks (both layers); returns ``(d_model, num_heads, d_head)``.

    >>> _check_heads(64, 4)
    (64, 4, 16)
    >>> _check_heads(64, 5)
    Traceback (most recent call last):
    ...
    ValueError: Expected `d_model` divisible by `num_heads`, got d_model=64 and num_heads=5 (64 / 5 = 12.8). Each head gets d_model / num_heads features; choose e.g. num_heads=4 or num_heads=8.
    """
    d_model = check_int("d_model", d_model, minimum=1)
    num_heads = check_int("num_heads", num_heads, minimum=1)
    if d_model % num_heads:
        below = max(h for h in range(1, num_heads) if d_model % h == 0)
        above = [h for h in range(num_heads + 1, d_model + 1) if d_model % h == 0][:1]
        hint = " or ".join(f"num_heads={h}" for h in [below] + above)
        raise ValueError(
            f"Expected `d_model` divisible by `num_heads`, got d_model={d_model} and "
            f"num_heads={num_heads} ({d_model} / {num_heads} = {d_model / num_heads:g}). Each "
            f"head gets d_model / num_heads features; choose e.g. {hint}.")
    return d_model, num_heads, d_model // num_heads


def _check_dropout(dropout):
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) \
            or not 0.0 <= dropout < 1.0:
        raise ValueError(f"Expected `dropout` in [0.0, 1.0), got {dropout!r}.")
    return float(dropout)


def _check_block_args(d_model, num_heads, d_ff, dropout, norm_first):
    """TransformerBlock's checks (both layers); returns the normalized arguments."""
    d_model, num_heads, _ = _check_heads(d_model, num_heads)
    d_ff = 4 * d_model if d_ff is None else check_int("d_ff", d_ff, minimum=1)
    check_bool("norm_first", norm_first)
    return d_model, num_heads, d_ff, _check_dropout(dropout), norm_first


def _check_lm_args(vocab_size, d_model, num_heads, num_layers, d_ff, max_len, dropout):
    """TransformerLM's checks (both layers); returns the normalized arguments as a dict."""
    vocab_size = check_int("vocab_size", vocab_size, minimum=1)
    d_model, num_heads, d_ff, dropout, _ = _check_block_args(d_model, num_heads, d_ff, dropout,
                                                              True)
    return {"vocab_size": vocab_size, "d_model": d_model, "num_heads": num_heads,
            "num_layers": check_int("num_layers", num_layers, minimum=1), "d_ff": d_ff,
            "max_len": check_int("max_len", max_len, minimum=1), "dropout": dropout}


def _check_features(name, shape, d_model):
    """The input of an attention layer: (batch, steps, d_model)."""
    shape = tuple(shape)
    if len(shape) != 3 or shape[-1] != d_model:
        raise ValueError(
            f"Expected `{name}` of shape (batch, steps, d_model={d_model}), got shape {shape}.")


def _check_length(num_steps, max_len, name="X"):
    """Raise if a sequence is longer than the positional table (both layers)."""
    if num_steps > max_len:
        raise ValueError(
            f"Expected `{name}` with at most max_len={max_len} steps (the length of the "
            f"positional table), got {num_steps} steps. Build the model with a larger "
            f"`max_len`, or feed only the last {max_len} tokens.")


def _check_tokens(shape):
    """The input of a language model: (batch, time) token indices."""
    shape = tuple(shape)
    if len(shape) != 2:
        raise ValueError(
            f"Expected `X` with 2 dimensions (batch, time) of token indices, got shape "
            f"{shape}. For one sequence use X.reshape(1, -1).")


def _check_qkv(q_shape, k_shape, v_shape):
    """scaled_dot_product_attention's shape checks (both layers)."""
    q_shape, k_shape, v_shape = tuple(q_shape), tuple(k_shape), tuple(v_shape)
    if len(q_shape) < 2 or len(k_shape) != len(q_shape) or len(v_shape) != len(q_shape):
        raise ValueError(
            "Expected `queries`, `keys` and `values` with the same number (>= 2) of "
            f"dimensions (..., steps, features), got shapes {q_shape}, {k_shape} and {v_shape}.")
    if q_shape[-1] != k_shape[-1]:
        raise ValueError(
            f"Expected `queries` and `keys` with the same feature size (their dot product), "
            f"got {q_shape[-1]} and {k_shape[-1]} (shapes {q_shape} and {k_shape}).")
    if k_shape[-2] != v_shape[-2]:
        raise ValueError(
            f"Expected one value per key: `keys` and `values` with the same number of steps, "
            f"got {k_shape[-2]} and {v_shape[-2]} (shapes {k_shape} and {v_shape}).")
