"""Attention and the transformer in MXNet Gluon, with the NumPy tools of the core.

The pieces the chapter on attention and the transformer builds on:
:func:`scaled_dot_product_attention`, :class:`MultiHeadAttention`,
:class:`PositionalEncoding`, :class:`TransformerBlock` and a small
decoder-only language model, :class:`TransformerLM` (built by
:func:`transformer_lm`), which trains with :class:`~dlbook.mxnet.train.Trainer`
on :class:`~dlbook.mxnet.sequence.SequenceBatches`; :func:`generate`
continues a text with it. The masks and the positional table
(:func:`causal_mask`, :func:`padding_mask`, :func:`positional_encoding`)
come from :mod:`dlbook.attention`. The same names exist in
:mod:`dlbook.torch.attention`.

Masks are boolean (or 0/1) arrays, ``True`` where a query may attend to a
key; NumPy masks are accepted and copied to the device of the inputs.
"""
import math

import mxnet as mx
import numpy as onp
from mxnet import gluon

from .._checks import check_bool, check_token_range, describe
from .. import attention as _core
from .. import _sequence_train as _seq
from ..attention import causal_mask, padding_mask, positional_encoding

__all__ = [
    "positional_encoding",
    "causal_mask",
    "padding_mask",
    "scaled_dot_product_attention",
    "MultiHeadAttention",
    "PositionalEncoding",
    "TransformerBlock",
    "TransformerLM",
    "transformer_lm",
    "generate",
]

#: What a masked score becomes (added to it): exp(-1e9 - max) is exactly 0 in float32.
_NEG = 1e9


def _is_array(x):
    return isinstance(x, mx.np.ndarray)


def _need_array(name, x):
    if not _is_array(x):
        raise TypeError(f"Expected `{name}` as an mxnet.np array, got {describe(x)}. Convert "
                        "it with mx.np.array(...).")


def _mask_array(mask, scores_shape, device, heads_axis=False):
    """``mask`` checked against the scores and as float32 0/1 on ``device``.

    With ``heads_axis`` the scores are ``(batch, heads, T_q, T_k)`` and a mask of
    up to 3 axes is checked against ``(batch, T_q, T_k)`` and given the head axis.
    """
    if mask is None:
        return None
    if _is_array(mask):
        shape = tuple(mask.shape)
    elif hasattr(mask, "detach") or hasattr(mask, "__array__") or isinstance(mask, (list, tuple)):
        mask = onp.asarray(mask.detach().cpu().numpy() if hasattr(mask, "detach") else mask)
        if mask.dtype == object or not (mask.dtype == bool or onp.issubdtype(mask.dtype, onp.number)):
            raise TypeError(f"Expected `mask` of booleans (True: may attend), got dtype {mask.dtype}.")
        shape = mask.shape
    else:
        raise TypeError(f"Expected `mask` as an array of booleans (True: may attend), got "
                        f"{describe(mask)}.")
    if heads_axis and len(shape) < 4:
        batch, _, t_q, t_k = scores_shape
        _core._check_mask_shape(shape, (batch, t_q, t_k))
    else:
        _core._check_mask_shape(shape, scores_shape)
    if _is_array(mask):
        keep = mask.astype("float32").as_in_ctx(device)
    else:
        keep = mx.np.array(mask.astype("float32"), ctx=device)
    if heads_axis and keep.ndim == 3:
        keep = keep.reshape(keep.shape[0], 1, keep.shape[1], keep.shape[2])
    return keep


def _attend(F, queries, keys, values, keep, scale):
    """The formula, for arrays (F = mx.nd) and symbols (F = mx.sym) alike."""
    scores = F.np.matmul(queries, F.np.swapaxes(keys, -1, -2)) * scale
    if keep is not None:
        scores = scores + (keep - 1) * _NEG
    weights = F.npx.softmax(scores, axis=-1)
    return F.np.matmul(weights, values), weights


@mx.util.use_np
def scaled_dot_product_attention(queries, keys, values, mask=None):
    """Scaled dot-product attention: ``softmax(Q K^T / sqrt(d) + masking) V``.

    Each query is compared with every key by a dot product divided by
    :math:`\\sqrt{d}` (``d`` the feature size of queries and keys); the softmax
    of those scores over the keys gives the attention weights, and the output
    is the weighted mean of the values. Keys where ``mask`` is False get weight
    0 (a query whose keys are all masked averages them all evenly). The book
    introduces it in the chapter on attention and the transformer (Vaswani et
    al., 2017).

    Parameters
    ----------
    queries : mxnet.np.ndarray, shape (..., T_q, d)
    keys : mxnet.np.ndarray, shape (..., T_k, d)
    values : mxnet.np.ndarray, shape (..., T_k, d_v)
    mask : array of bool, optional
        Broadcastable to the scores ``(..., T_q, T_k)`` (NumPy rules):
        ``(T_q, T_k)`` such as :func:`causal_mask`, ``(batch, T_q, T_k)`` or
        ``(batch, 1, T_k)`` such as :func:`padding_mask`. NumPy arrays are accepted.

    Returns
    -------
    output : mxnet.np.ndarray, shape (..., T_q, d_v)
    weights : mxnet.np.ndarray, shape (..., T_q, T_k)
        Each row sums to 1.

    Raises
    ------
    ValueError
        If the shapes do not fit together or ``mask`` does not broadcast to the scores.

    Examples
    --------
    >>> from mxnet import np
    >>> from dlbook.mxnet.attention import scaled_dot_product_attention, causal_mask
    >>> K = np.array([[[1.0, 0.0], [0.0, 1.0]]])      # two keys
    >>> V = np.array([[[10.0], [20.0]]])              # their values
    >>> Q = np.array([[[100.0, 0.0]]])                # a query that matches the first key
    >>> out, w = scaled_dot_product_attention(Q, K, V)
    >>> out.round(3).tolist(), w.round(3).tolist()    # a (nearly) one-hot weight: a lookup
    ([[[10.0]]], [[[1.0, 0.0]]])
    >>> Q2 = np.zeros((1, 2, 2))                      # two queries, equal scores
    >>> out, w = scaled_dot_product_attention(Q2, K, V, mask=causal_mask(2))
    >>> w.tolist()                                    # query 0 may not see key 1
    [[[1.0, 0.0], [0.5, 0.5]]]
    """
    for name, x in (("queries", queries), ("keys", keys), ("values", values)):
        _need_array(name, x)
    _core._check_qkv(queries.shape, keys.shape, values.shape)
    scores_shape = tuple(queries.shape[:-1]) + (keys.shape[-2],)
    keep = _mask_array(mask, scores_shape, queries.ctx)
    return _attend(mx, queries, keys, values, keep, 1.0 / math.sqrt(queries.shape[-1]))


@mx.util.use_np
class MultiHeadAttention(gluon.HybridBlock):
    """Multi-head attention: ``num_heads`` scaled dot-product attentions side by side.

    Queries, keys and values are projected by ``W_q``, ``W_k`` and ``W_v``
    (``d_model x d_model`` each), split into ``num_heads`` heads of
    ``d_model / num_heads`` features, attended head by head, joined again and
    projected by ``W_o``:
    :math:`\\mathrm{concat}(\\mathrm{head}_1, \\dots, \\mathrm{head}_h) W_o`.
    With biases that is :math:`4 d (d + 1)` parameters, whatever the number of heads.

    Parameters
    ----------
    d_model : int
        Feature size of the inputs and the output.
    num_heads : int
        Number of heads; must divide ``d_model``.
    use_bias : bool, default True
        Biases in the four projections.

    Attributes
    ----------
    W_q, W_k, W_v, W_o : mxnet.gluon.nn.Dense
        The projections (``flatten=False``).
    attention_weights : mxnet.np.ndarray or None
        The weights ``(batch, num_heads, T_q, T_k)`` of the last call made with
        arrays (a hybridized parent block runs it symbolically and keeps none).

    Raises
    ------
    ValueError
        If ``d_model`` is not divisible by ``num_heads``.

    Examples
    --------
    >>> from mxnet import np
    >>> from dlbook.mxnet.attention import MultiHeadAttention, causal_mask
    >>> from dlbook.mxnet import count_parameters
    >>> mha = MultiHeadAttention(d_model=8, num_heads=2)
    >>> mha.initialize()
    >>> X = np.ones((3, 5, 8))                      # 3 sequences of 5 steps
    >>> mha(X, mask=causal_mask(5)).shape           # self-attention: keys = values = X
    (3, 5, 8)
    >>> mha.attention_weights.shape                 # (batch, heads, T_q, T_k)
    (3, 2, 5, 5)
    >>> count_parameters(mha) == 4 * 8 * (8 + 1)
    True
    """

    def __init__(self, d_model, num_heads, use_bias=True):
        d_model, num_heads, d_head = _core._check_heads(d_model, num_heads)
        check_bool("use_bias", use_bias)
        super().__init__()
        self.d_model, self.num_heads, self.d_head = d_model, num_heads, d_head
        with self.name_scope():
            for name in ("W_q", "W_k", "W_v", "W_o"):
                setattr(self, name, gluon.nn.Dense(d_model, flatten=False, use_bias=use_bias,
                                                   in_units=d_model))
        self.attention_weights = None

    def __call__(self, queries, keys=None, values=None, mask=None):  # Gluon's takes no keywords
        return super().__call__(queries, keys, values, mask)

    def forward(self, queries, keys=None, values=None, mask=None):
        """Attend ``queries`` to ``keys`` (default: the queries) and average ``values`` (default: the keys).

        The inputs are ``(batch, steps, d_model)``; the output has the shape of
        ``queries``. ``mask`` is ``(T_q, T_k)``, ``(batch, T_q, T_k)`` or
        ``(batch, 1, T_k)``, True where a query may attend to a key.
        """
        keys = queries if keys is None else keys
        values = keys if values is None else values
        if not _is_array(queries):  # a symbol inside a hybridized parent: already checked
            return super().forward(queries, keys, values, mask)[0]
        for name, x in (("queries", queries), ("keys", keys), ("values", values)):
            _need_array(name, x)
            _core._check_features(name, x.shape, self.d_model)
        if keys.shape[:2] != values.shape[:2] or keys.shape[0] != queries.shape[0]:
            raise ValueError(
                "Expected `keys` and `values` with the same (batch, steps), and the batch of "
                f"`queries`, got shapes {queries.shape}, {keys.shape} and {values.shape}.")
        scores_shape = (queries.shape[0], self.num_heads, queries.shape[1], keys.shape[1])
        keep = _mask_array(mask, scores_shape, queries.ctx, heads_axis=True)
        output, weights = super().forward(queries, keys, values, keep)
        self.attention_weights = weights
        return output

    def _split(self, F, X):
        """(batch, steps, d_model) -> (batch, heads, steps, d_head)."""
        X = F.npx.reshape(X, (-2, -2, -6, self.num_heads, -1))
        return F.np.transpose(X, (0, 2, 1, 3))

    def hybrid_forward(self, F, queries, keys, values, mask=None):
        Q = self._split(F, self.W_q(queries))
        K = self._split(F, self.W_k(keys))
        V = self._split(F, self.W_v(values))
        heads, weights = _attend(F, Q, K, V, mask, 1.0 / math.sqrt(self.d_head))
        joined = F.npx.reshape(F.np.transpose(heads, (0, 2, 1, 3)), (-2, -2, -5))
        return self.W_o(joined), weights


@mx.util.use_np
class PositionalEncoding(gluon.HybridBlock):
    """Add the sinusoidal positional table to a batch of sequences: ``X + P[:T]``.

    Attention by itself does not know the order of its inputs; adding
    :func:`positional_encoding` gives every position its own pattern. The
    table has no trainable parameters.

    Parameters
    ----------
    d_model : int
        Feature size of the inputs.
    max_len : int, default 1000
        The longest sequence the table covers.

    Attributes
    ----------
    table : numpy.ndarray, shape (max_len, d_model)
        The table of :func:`positional_encoding`.

    Raises
    ------
    ValueError
        When called with a sequence longer than ``max_len``.

    Examples
    --------
    >>> from mxnet import np
    >>> from dlbook.mxnet.attention import PositionalEncoding
    >>> pe = PositionalEncoding(d_model=4, max_len=10)
    >>> pe(np.zeros((2, 3, 4)))[0, 1].round(4).tolist()  # row 1 of the table
    [0.8415, 0.5403, 0.01, 1.0]
    >>> pe(np.zeros((1, 11, 4)))
    Traceback (most recent call last):
    ...
    ValueError: Expected `X` with at most max_len=10 steps (the length of the positional table), got 11 steps. Build the model with a larger `max_len`, or feed only the last 10 tokens.
    """

    def __init__(self, d_model, max_len=1000):
        super().__init__()
        self.table = positional_encoding(max_len, d_model)
        self.d_model, self.max_len = self.table.shape[1], self.table.shape[0]
        self._on_device = {}

    def _rows(self, num_steps, device):
        """The first ``num_steps`` rows of the table on ``device`` (kept for the next call)."""
        _core._check_length(num_steps, self.max_len)
        key = (num_steps, str(device))
        if key not in self._on_device:
            self._on_device[key] = mx.np.array(self.table[:num_steps], ctx=device)
        return self._on_device[key]

    def forward(self, X, P=None):
        """``X + P``; ``P`` defaults to the table's first ``X.shape[1]`` rows."""
        if P is None:
            _need_array("X", X)
            _core._check_features("X", X.shape, self.d_model)
            P = self._rows(X.shape[1], X.ctx)
        return super().forward(X, P)

    def hybrid_forward(self, F, X, P):
        return F.np.add(X, P)


@mx.util.use_np
class TransformerBlock(gluon.HybridBlock):
    """One transformer block: self-attention and a feed-forward network, each with a residual.

    With ``norm_first=True`` (pre-norm, as in most language models today) a
    block computes

    .. math::
        \\mathbf{H} = \\mathbf{X} + \\mathrm{MHA}(\\mathrm{LN}_1(\\mathbf{X})), \\qquad
        \\mathbf{Y} = \\mathbf{H} + \\mathrm{FFN}(\\mathrm{LN}_2(\\mathbf{H}))

    and with ``norm_first=False`` (post-norm, as in Vaswani et al., 2017)
    :math:`\\mathbf{H} = \\mathrm{LN}_1(\\mathbf{X} + \\mathrm{MHA}(\\mathbf{X}))`,
    :math:`\\mathbf{Y} = \\mathrm{LN}_2(\\mathbf{H} + \\mathrm{FFN}(\\mathbf{H}))`.
    :math:`\\mathrm{FFN}(\\mathbf{x}) = \\mathrm{ReLU}(\\mathbf{x} W_1 + b_1) W_2 + b_2`
    works on every position alone; LN is layer normalization (Ba et al., 2016).
    Dropout, if any, acts on the two branches before they are added.

    Parameters
    ----------
    d_model : int
    num_heads : int
        Must divide ``d_model``.
    d_ff : int, optional
        Hidden width of the feed-forward network (default ``4 * d_model``).
    dropout : float, default 0.0
    norm_first : bool, default True

    Attributes
    ----------
    attention : MultiHeadAttention
    norm1, norm2 : mxnet.gluon.nn.LayerNorm
    dense1, dense2 : mxnet.gluon.nn.Dense
        The feed-forward network (``dense1`` applies the ReLU).

    Examples
    --------
    >>> from mxnet import np
    >>> from dlbook.mxnet.attention import TransformerBlock, causal_mask
    >>> block = TransformerBlock(d_model=8, num_heads=2, d_ff=16)
    >>> block.initialize()
    >>> block(np.ones((2, 5, 8)), mask=causal_mask(5)).shape
    (2, 5, 8)
    """

    def __init__(self, d_model, num_heads, d_ff=None, dropout=0.0, norm_first=True):
        d_model, num_heads, d_ff, dropout, norm_first = _core._check_block_args(
            d_model, num_heads, d_ff, dropout, norm_first)
        super().__init__()
        self.d_model, self.num_heads, self.d_ff = d_model, num_heads, d_ff
        self.norm_first = norm_first
        with self.name_scope():
            self.attention = MultiHeadAttention(d_model, num_heads)
            self.norm1 = gluon.nn.LayerNorm(in_channels=d_model)
            self.norm2 = gluon.nn.LayerNorm(in_channels=d_model)
            self.dense1 = gluon.nn.Dense(d_ff, activation="relu", flatten=False, in_units=d_model)
            self.dense2 = gluon.nn.Dense(d_model, flatten=False, in_units=d_ff)
            self.dropout = gluon.nn.Dropout(dropout)

    def __call__(self, X, mask=None):  # Gluon's takes no keywords
        return super().__call__(X, mask)

    def forward(self, X, mask=None):
        """``X`` of shape (batch, steps, d_model) -> the same shape; ``mask`` as in MultiHeadAttention."""
        if _is_array(X):
            _core._check_features("X", X.shape, self.d_model)
            scores_shape = (X.shape[0], self.num_heads, X.shape[1], X.shape[1])
            mask = _mask_array(mask, scores_shape, X.ctx, heads_axis=True)
        return super().forward(X, mask)

    def hybrid_forward(self, F, X, mask=None):
        if self.norm_first:
            Z = self.norm1(X)
            H = X + self.dropout(self.attention(Z, Z, Z, mask))
            return H + self.dropout(self.dense2(self.dense1(self.norm2(H))))
        H = self.norm1(X + self.dropout(self.attention(X, X, X, mask)))
        return self.norm2(H + self.dropout(self.dense2(self.dense1(H))))


@mx.util.use_np
class TransformerLM(gluon.HybridBlock):
    """A decoder-only transformer language model: next-token scores for every position.

    Token indices ``(batch, T)`` are embedded (times :math:`\\sqrt{d}`, as in
    Vaswani et al., 2017), the positional table is added, ``num_layers``
    pre-norm :class:`TransformerBlock` s attend under the causal mask (position
    ``t`` sees positions ``0..t`` only), a final layer norm and a dense layer
    give ``vocab_size`` scores per position ``(batch, T, vocab_size)``. Train
    it like the recurrent language model: ``Trainer(net, loss='cross_entropy',
    ...)`` on :class:`~dlbook.mxnet.sequence.SequenceBatches`; unlike an RNN it
    keeps no state between batches, and its context is the batch's ``T <= max_len``
    tokens. The book introduces it in the chapter on attention and the transformer.

    Parameters
    ----------
    vocab_size : int
    d_model : int, default 64
    num_heads : int, default 4
    num_layers : int, default 2
    d_ff : int, optional
        Default ``4 * d_model``.
    max_len : int, default 64
        The longest context (the length of the positional table).
    dropout : float, default 0.0
        On the embeddings and on every block's branches (training only).

    Attributes
    ----------
    embedding : mxnet.gluon.nn.Embedding
    position : PositionalEncoding
    blocks : mxnet.gluon.nn.HybridSequential of TransformerBlock
    norm : mxnet.gluon.nn.LayerNorm
    dense : mxnet.gluon.nn.Dense

    Examples
    --------
    >>> from mxnet import np
    >>> from dlbook.mxnet.attention import TransformerLM
    >>> lm = TransformerLM(vocab_size=30, d_model=16, num_heads=2, num_layers=1, max_len=8)
    >>> lm.initialize()
    >>> lm(np.array([[1, 2, 3], [4, 5, 6]])).shape   # scores for every position
    (2, 3, 30)
    >>> lm(np.zeros((1, 9)))
    Traceback (most recent call last):
    ...
    ValueError: Expected `X` with at most max_len=8 steps (the length of the positional table), got 9 steps. Build the model with a larger `max_len`, or feed only the last 8 tokens.
    """

    def __init__(self, vocab_size, d_model=64, num_heads=4, num_layers=2, d_ff=None, max_len=64,
                 dropout=0.0):
        args = _core._check_lm_args(vocab_size, d_model, num_heads, num_layers, d_ff, max_len,
                                    dropout)
        super().__init__()
        for name, value in args.items():
            setattr(self, name, value)
        with self.name_scope():
            self.embedding = gluon.nn.Embedding(self.vocab_size, self.d_model)
            self.position = PositionalEncoding(self.d_model, self.max_len)
            self.blocks = gluon.nn.HybridSequential()
            for _ in range(self.num_layers):
                self.blocks.add(TransformerBlock(self.d_model, self.num_heads, self.d_ff,
                                                 self.dropout))
            self.norm = gluon.nn.LayerNorm(in_channels=self.d_model)
            self.dense = gluon.nn.Dense(self.vocab_size, flatten=False, in_units=self.d_model)
            self.drop = gluon.nn.Dropout(self.dropout)
        self._masks = {}

    def forward(self, X):
        """Scores ``(batch, T, vocab_size)`` for token indices ``X`` of shape ``(batch, T)``."""
        _need_array("X", X)
        _core._check_tokens(X.shape)
        if X.size:  # an index past the table would read another row without a word
            check_token_range(int(X.min()), int(X.max()), self.vocab_size)
        steps = X.shape[1]
        P = self.position._rows(steps, X.ctx)  # checks steps <= max_len
        key = (steps, str(X.ctx))
        if key not in self._masks:
            self._masks[key] = mx.np.array(causal_mask(steps).astype("float32"), ctx=X.ctx)
        return super().forward(X, P, self._masks[key])

    def hybrid_forward(self, F, X, P, mask):
        H = self.embedding(X) * math.sqrt(self.d_model)
        H = self.drop(self.position(H, P))
        for block in self.blocks:
            H = block(H, mask)
        return self.dense(self.norm(H))


def transformer_lm(vocab_size, d_model=64, num_heads=4, num_layers=2, d_ff=None, max_len=64,
                   dropout=0.0):
    """Build the book's small decoder-only transformer language model (:class:`TransformerLM`).

    Parameters
    ----------
    vocab_size : int
    d_model, num_heads, num_layers, d_ff, max_len, dropout
        As in :class:`TransformerLM`; the defaults (64, 4, 2, 256, 64, 0) are
        the chapter's model, about 108,000 parameters for 61 characters.

    Returns
    -------
    TransformerLM
        Not initialized yet (the Trainer initializes it).

    Examples
    --------
    >>> from dlbook.mxnet.attention import transformer_lm
    >>> from dlbook.mxnet import count_parameters
    >>> lm = transformer_lm(vocab_size=61)
    >>> lm.initialize()
    >>> count_parameters(lm)
    107965
    """
    return TransformerLM(vocab_size, d_model=d_model, num_heads=num_heads,
                         num_layers=num_layers, d_ff=d_ff, max_len=max_len, dropout=dropout)


@mx.util.use_np
def generate(net, prefix, num_chars, vocab, temperature=0.0, seed=None):
    """Continue ``prefix`` with ``num_chars`` tokens generated by a :class:`TransformerLM`.

    The model reads the last ``max_len`` tokens (the prompt, then what it has
    generated) and picks the next token from the scores at the last position:
    the most likely one with ``temperature=0`` (greedy decoding), otherwise a
    sample from :math:`\\mathrm{softmax}(\\mathbf{o} / \\tau)`. The window is
    always ``max_len`` long, padded at the end while the text is shorter: the
    causal mask keeps the padding from changing the scores before it, and one
    input shape means one compiled graph. The unknown token is never generated.

    Parameters
    ----------
    net : TransformerLM
    prefix : str
        The prompt; at least one token.
    num_chars : int
        How many tokens to generate.
    vocab : dlbook.sequence.Vocab
        The vocabulary the model was trained with.
    temperature : float, default 0.0
    seed : int, optional
        Seed of the sampling (with ``temperature > 0``).

    Returns
    -------
    str
        ``prefix`` followed by the generated text.

    See Also
    --------
    dlbook.mxnet.sequence.predict_chars : the same for a recurrent model.

    Examples
    --------
    >>> from dlbook.mxnet.attention import TransformerLM, generate
    >>> from dlbook.mxnet.sequence import Vocab
    >>> vocab = Vocab("abc")
    >>> lm = TransformerLM(len(vocab), d_model=8, num_heads=2, num_layers=1, max_len=4)
    >>> lm.initialize()
    >>> text = generate(lm, "ab", 6, vocab, temperature=1.0, seed=0)
    >>> text[:2], len(text)   # untrained: 6 random characters follow the prompt
    ('ab', 8)
    """
    if not isinstance(net, TransformerLM):
        raise TypeError(f"Expected `net` to be a TransformerLM, got {describe(net)}.")
    ids = _seq._check_generation(vocab, net.vocab_size, "mxnet", prefix, num_chars, temperature)
    device = net.dense.weight.list_ctx()[0]
    tokens = []

    def step(new_ids):
        tokens.extend(new_ids)
        window = tokens[-net.max_len:]
        padded = onp.zeros((1, net.max_len), dtype="int32")
        padded[0, :len(window)] = window
        scores = net(mx.np.array(padded, dtype="int32", ctx=device))
        return scores[0, len(window) - 1].asnumpy()

    return _seq._generate(step, prefix, ids, num_chars, vocab, temperature, seed)
