"""Sequences without a framework: time-series windows, vocabularies, a public-domain text, batches.

The NumPy half of the chapter on recurrent networks, shared by both framework
layers (``dl.sequence`` re-exports every name of this module):
:func:`make_windows` turns a series into supervised ``(X, y)`` pairs;
:class:`Vocab` maps characters (or tokens) to integers and back;
:func:`load_kjv` reads the King James Bible from Debian's ``bible-kjv``
program; :class:`SequenceBatches` cuts a long token sequence into minibatches
for language modelling (here as NumPy arrays; each layer's ``SequenceBatches``
yields that framework's tensors). The recurrent network itself
(``RNNModel``), ``grad_clipping`` and ``predict_chars`` live in
:mod:`dlbook.mxnet.sequence` and :mod:`dlbook.torch.sequence`.

Cut by concern: the corpus reader, which shells out to a program, is
:mod:`dlbook._kjv` (re-exported here); what the layers' models and training
helpers share is in :mod:`dlbook._sequence_model` and :mod:`dlbook._sequence_train`.
"""
import collections

import numpy as onp

from ._checks import check_bool, check_choice, check_int, describe, to_numpy
from ._kjv import KJV_BOOKS, load_kjv

__all__ = [
    "KJV_BOOKS",
    "make_windows",
    "Vocab",
    "load_kjv",
    "SequenceBatches",
]

load_kjv.__module__ = __name__  # the API pages and tracebacks name it dlbook.sequence.load_kjv


# ------------------------------------------------------------------ windows
def make_windows(series, window, horizon=1):
    """Cut a time series into input windows and the values that follow them.

    Example ``i`` is ``X[i] = series[i : i + window]`` and
    ``y[i] = series[i + window : i + window + horizon]``: the model sees
    ``window`` consecutive values and must predict the next ``horizon`` ones.

    Parameters
    ----------
    series : array-like, shape (T,) or (T, d)
        The values in time order; a 2-D series has ``d`` features per step.
    window : int
        Length of each input window, at least 1.
    horizon : int, default 1
        How many following values each example predicts.

    Returns
    -------
    X : numpy.ndarray, float32
        Shape ``(n, window)`` for a 1-D series, ``(n, window, d)`` for a 2-D one,
        with ``n = T - window - horizon + 1`` examples.
    y : numpy.ndarray, float32
        Shape ``(n, horizon)``, or ``(n, horizon, d)``.

    Raises
    ------
    ValueError
        If the series is shorter than ``window + horizon``, or not 1-D or 2-D.

    See Also
    --------
    RNNModel : reads ``(batch, window)`` or ``(batch, window, d)`` windows.

    Examples
    --------
    >>> from dlbook.sequence import make_windows
    >>> X, y = make_windows([10, 11, 12, 13, 14, 15], window=3)
    >>> X.tolist()
    [[10.0, 11.0, 12.0], [11.0, 12.0, 13.0], [12.0, 13.0, 14.0]]
    >>> y.tolist()
    [[13.0], [14.0], [15.0]]
    >>> X, y = make_windows(range(6), window=2, horizon=3)
    >>> X.shape, y[0].tolist()
    ((2, 2), [2.0, 3.0, 4.0])
    """
    values = to_numpy("series", series, ndim=(1, 2), dtype="float32")
    window = check_int("window", window, minimum=1)
    horizon = check_int("horizon", horizon, minimum=1)
    length = len(values)
    n = length - window - horizon + 1
    if n < 1:
        raise ValueError(
            f"Expected `series` with at least window + horizon = {window + horizon} values, "
            f"got {length}. Use a shorter `window` or `horizon`."
        )
    starts = onp.arange(n)
    X = values[starts[:, None] + onp.arange(window)]
    y = values[starts[:, None] + window + onp.arange(horizon)]
    return onp.ascontiguousarray(X), onp.ascontiguousarray(y)


def _host(value):
    """A PyTorch tensor (on any device, with or without gradient) as a NumPy array."""
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):
        return value.detach().cpu().numpy()
    return value


# --------------------------------------------------------------- vocabulary
class Vocab:
    """Map tokens (characters or words) to integer indices and back.

    Index 0 is the unknown token; the other tokens follow by decreasing
    frequency (ties in alphabetical order), so the mapping is reproducible.

    Parameters
    ----------
    tokens : str or iterable of str
        The training text. A string makes a character vocabulary (every
        character is a token); an iterable of strings (e.g. ``text.split()``)
        makes a token vocabulary.
    min_freq : int, default 1
        Tokens seen fewer times become the unknown token.
    unknown : str, default '<unk>'
        The token that stands for everything not in the vocabulary.

    Attributes
    ----------
    idx_to_token : list of str
        The token of every index.
    token_to_idx : dict of str to int
    counts : collections.Counter
        How often each token occurs in ``tokens``.
    char_level : bool
        True for a character vocabulary: :meth:`encode` splits a string into
        characters and :meth:`decode` joins with ``''`` (otherwise: split on
        whitespace, join with ``' '``).

    Examples
    --------
    >>> from dlbook.sequence import Vocab
    >>> vocab = Vocab("hello world")
    >>> len(vocab)  # 8 different characters and '<unk>'
    9
    >>> vocab.idx_to_token[:4]  # 'l' is the most frequent, then 'o'
    ['<unk>', 'l', 'o', ' ']
    >>> vocab.encode("hold!").tolist()  # '!' was never seen: index 0
    [6, 2, 1, 4, 0]
    >>> vocab.decode([6, 2, 1, 4])
    'hold'
    >>> words = Vocab("the cat and the dog".split())
    >>> words.encode("the dog").tolist(), words.decode([1, 4])
    ([1, 4], 'the dog')
    """

    def __init__(self, tokens, min_freq=1, unknown="<unk>"):
        if not isinstance(unknown, str) or not unknown:
            raise TypeError(
                f"Expected `unknown` to be a non-empty string, got {describe(unknown)}."
            )
        self.char_level = isinstance(tokens, str)
        if not self.char_level:
            if isinstance(tokens, (bytes, dict)) or not hasattr(tokens, "__iter__"):
                raise TypeError(
                    "Expected `tokens` as a string (character vocabulary) or an iterable of "
                    f"strings (token vocabulary), got {describe(tokens)}."
                )
            tokens = list(tokens)
            for i, token in enumerate(tokens):
                if not isinstance(token, str):
                    raise TypeError(
                        f"Expected every token to be a string, got {describe(token)} at "
                        f"position {i}. Split text into tokens first, e.g. text.split()."
                    )
        if len(tokens) == 0:
            raise ValueError("Expected non-empty `tokens`, got an empty text.")
        self.min_freq = check_int("min_freq", min_freq, minimum=1)
        self.unknown = unknown
        self.counts = collections.Counter(tokens)
        kept = sorted((t for t, c in self.counts.items() if c >= self.min_freq and t != unknown),
                      key=lambda t: (-self.counts[t], t))
        self.idx_to_token = [unknown] + kept
        self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}

    @property
    def unk(self):
        """Index of the unknown token (always 0)."""
        return 0

    def __len__(self):
        return len(self.idx_to_token)

    def __contains__(self, token):
        return token in self.token_to_idx

    def __getitem__(self, token):
        """Index of one token (0 if unknown)."""
        return self.token_to_idx.get(token, self.unk)

    def _split(self, tokens, name):
        if isinstance(tokens, str):
            return list(tokens) if self.char_level else tokens.split()
        if not hasattr(tokens, "__iter__"):
            raise TypeError(
                f"Expected `{name}` as a string or a list of tokens, got {describe(tokens)}."
            )
        return list(tokens)

    def encode(self, tokens):
        """Indices of ``tokens`` (a string, or a list of tokens), unknown ones as 0.

        Returns
        -------
        numpy.ndarray of int32, shape (len(tokens),)
        """
        parts = self._split(tokens, "tokens")
        return onp.array([self.token_to_idx.get(t, self.unk) for t in parts], dtype="int32")

    def decode(self, indices):
        """The text for a sequence of indices (joined with '' or ' ', see ``char_level``).

        Raises
        ------
        ValueError
            If an index is outside ``[0, len(vocab) - 1]``.
        """
        values = to_numpy("indices", _host(indices), ndim=(0, 1), allow_empty=True).reshape(-1)
        if values.size and not onp.all(values == onp.round(values)):
            raise ValueError("Expected integer token indices in `indices`, got fractional values.")
        values = values.astype("int64")
        if values.size and (values.min() < 0 or values.max() >= len(self)):
            raise ValueError(
                f"Expected `indices` in [0, {len(self) - 1}] for a vocabulary of {len(self)} "
                f"tokens, got values from {values.min()} to {values.max()}."
            )
        sep = "" if self.char_level else " "
        return sep.join(self.idx_to_token[i] for i in values)

    def __repr__(self):
        return f"Vocab(size={len(self)}, char_level={self.char_level}, unknown={self.unknown!r})"


# ---------------------------------------------------------- language model
class SequenceBatches:
    """Minibatches ``(X, Y)`` for a language model, ``Y`` being ``X`` shifted by one token.

    Both arrays have shape ``(batch_size, num_steps)``; ``Y[b, t]`` is the token
    that follows ``X[b, t]`` in the corpus.

    * ``partition='sequential'``: the corpus is split into ``batch_size``
      contiguous streams, read side by side. Row ``b`` of a batch continues row
      ``b`` of the previous batch, so a model may carry its hidden state from one
      batch to the next (truncated backpropagation through time).
    * ``partition='random'``: the corpus is cut into pieces of ``num_steps``
      tokens that are shuffled; neighbouring batches are unrelated, so the state
      must start afresh for every batch.

    With ``shuffle=True`` every epoch starts at a random offset in
    ``[0, num_steps)``, so the pieces' boundaries move between epochs.

    Parameters
    ----------
    corpus : array-like of int, shape (n,)
        Token indices (e.g. from :meth:`Vocab.encode`).
    batch_size : int
    num_steps : int
        Time steps per example (the truncation length of backpropagation).
    partition : {'sequential', 'random'}, default 'sequential'
    shuffle : bool, default True
        Random offsets (and, for ``'random'``, a random order) every epoch.
    seed : int, optional
        Seed of the generator; drawn from NumPy's global one when omitted.

    Notes
    -----
    The property ``carries_state`` tells whether row ``b`` of a batch continues
    row ``b`` of the previous one (true for sequential partitioning).

    This class yields NumPy ``int32`` arrays. ``dl.sequence.SequenceBatches`` of
    each framework layer takes the same arguments and a ``device``, and yields
    that framework's tensors (:mod:`dlbook.mxnet.sequence`, :mod:`dlbook.torch.sequence`).

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.sequence import SequenceBatches
    >>> batches = SequenceBatches(onp.arange(22), batch_size=2, num_steps=3, shuffle=False)
    >>> len(batches)
    3
    >>> X, Y = next(iter(batches))
    >>> X.tolist(), Y.tolist()  # two streams: 0, 1, 2, ... and 9, 10, 11, ...
    ([[0, 1, 2], [9, 10, 11]], [[1, 2, 3], [10, 11, 12]])
    >>> [X[0, 0].item() for X, Y in batches]  # each batch continues the previous one
    [0, 3, 6]
    """

    def __init__(self, corpus, batch_size, num_steps, partition="sequential", shuffle=True,
                 seed=None):
        tokens = to_numpy("corpus", _host(corpus), ndim=1)
        if not onp.issubdtype(tokens.dtype, onp.integer):
            if not onp.all(tokens == onp.round(tokens)):
                raise ValueError(
                    "Expected integer token indices in `corpus`, got fractional values."
                )
        if tokens.min() < 0:
            raise ValueError(f"Expected token indices >= 0 in `corpus`, got {tokens.min()}.")
        self.corpus = tokens.astype("int32")
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.num_steps = check_int("num_steps", num_steps, minimum=1)
        self.partition = check_choice("partition", partition, {"sequential", "random"})
        self.shuffle = check_bool("shuffle", shuffle)
        if seed is None:
            seed = int(onp.random.randint(0, 2**31 - 1))
        self.seed = check_int("seed", seed, minimum=0)
        self._rng = onp.random.default_rng(self.seed)
        if len(self) == 0:
            n, b, t = len(self.corpus), self.batch_size, self.num_steps
            raise ValueError(
                f"A `corpus` of {n} tokens gives no batch of batch_size={b} x num_steps={t} "
                f"(each epoch needs at least about {b * t + t} tokens). Use a smaller "
                "`batch_size` or `num_steps`, or more text."
            )

    @property
    def carries_state(self):
        """Whether row ``b`` of a batch continues row ``b`` of the previous one."""
        return self.partition == "sequential"

    def __len__(self):
        n, b, t = len(self.corpus), self.batch_size, self.num_steps
        # The counts hold for every offset in [0, t), so all epochs have the same length.
        if self.partition == "sequential":
            stream = (n - t) // b
            return stream // t
        return ((n - t) // t) // b

    def __iter__(self):
        t, b = self.num_steps, self.batch_size
        offset = int(self._rng.integers(0, t)) if self.shuffle else 0
        if self.partition == "sequential":
            length = len(self) * t
            stream = (len(self.corpus) - t) // b
            starts = offset + stream * onp.arange(b)
            X_all = self.corpus[starts[:, None] + onp.arange(length)]
            Y_all = self.corpus[starts[:, None] + onp.arange(length) + 1]
            pieces = [(X_all[:, k * t:(k + 1) * t], Y_all[:, k * t:(k + 1) * t])
                      for k in range(len(self))]
        else:
            count = len(self) * b
            starts = offset + t * onp.arange(count)
            if self.shuffle:
                starts = self._rng.permutation(starts)
            pieces = []
            for k in range(len(self)):
                s = starts[k * b:(k + 1) * b]
                pieces.append((self.corpus[s[:, None] + onp.arange(t)],
                               self.corpus[s[:, None] + onp.arange(t) + 1]))
        for X, Y in pieces:
            yield self._to_tensors(onp.ascontiguousarray(X), onp.ascontiguousarray(Y))

    def _to_tensors(self, X, Y):
        """Hook of the framework layers: turn one NumPy batch into their tensors."""
        return X, Y

    def __repr__(self):
        return (f"{type(self).__name__}(num_tokens={len(self.corpus)}, "
                f"batch_size={self.batch_size}, "
                f"num_steps={self.num_steps}, partition={self.partition!r}, batches={len(self)})")
