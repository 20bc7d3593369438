"""Sequences: time-series windows, vocabularies, a public-domain text, and recurrent networks.

The pieces the chapter on recurrent networks builds on, and that later work
reuses: :func:`make_windows` turns a series into supervised ``(X, y)`` pairs;
:class:`Vocab` maps characters (or tokens) to integers and back;
:func:`load_kjv` reads the King James Bible from Debian's ``bible-kjv``
program; :class:`SequenceBatches` cuts a long token sequence into minibatches
for language modelling; :class:`RNNModel` wraps a Gluon RNN, GRU or LSTM layer
with a dense output; :func:`grad_clipping` bounds the gradient norm; and
:func:`predict_chars` generates text from a trained model.
"""
import collections
import difflib
import functools
import math
import numbers
import re
import shutil
import subprocess

import mxnet as mx
import numpy as onp
from mxnet import gluon

from .._checks import check_choice, check_int, describe, to_numpy

__all__ = [
    "KJV_BOOKS",
    "make_windows",
    "Vocab",
    "load_kjv",
    "SequenceBatches",
    "RNNModel",
    "grad_clipping",
    "predict_chars",
]

#: The 66 books of the King James Bible, in order, named as the ``bible`` program prints them.
KJV_BOOKS = (
    "Genesis", "Exodus", "Leviticus", "Numbers", "Deuteronomy", "Joshua", "Judges", "Ruth",
    "1 Samuel", "2 Samuel", "1 Kings", "2 Kings", "1 Chronicles", "2 Chronicles", "Ezra",
    "Nehemiah", "Esther", "Job", "Psalms", "Proverbs", "Ecclesiastes", "Song of Solomon",
    "Isaiah", "Jeremiah", "Lamentations", "Ezekiel", "Daniel", "Hosea", "Joel", "Amos",
    "Obadiah", "Jonah", "Micah", "Nahum", "Habakkuk", "Zephaniah", "Haggai", "Zechariah",
    "Malachi", "Matthew", "Mark", "Luke", "John", "Acts", "Romans", "1 Corinthians",
    "2 Corinthians", "Galatians", "Ephesians", "Philippians", "Colossians",
    "1 Thessalonians", "2 Thessalonians", "1 Timothy", "2 Timothy", "Titus", "Philemon",
    "Hebrews", "James", "1 Peter", "2 Peter", "1 John", "2 John", "3 John", "Jude",
    "Revelation",
)


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
    >>> from dlbook.mxnet.sequence import make_windows
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
    >>> from dlbook.mxnet.sequence import Vocab
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
        values = to_numpy("indices", indices, ndim=(0, 1), allow_empty=True).reshape(-1)
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


# ----------------------------------------------------------------- the text
_HEADER = re.compile(r"^(\S.*) (\d+)$")
_VERSE = re.compile(r"^\s+(\d+) (.*)$")


def _book_name(name):
    if not isinstance(name, str):
        raise TypeError(f"Expected book names as strings, got {describe(name)}.")
    lookup = {b.lower(): b for b in KJV_BOOKS}
    key = " ".join(name.split()).lower()
    if key not in lookup:
        close = difflib.get_close_matches(name, KJV_BOOKS, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"Unknown book {name!r}.{hint} Expected a name from `dlbook.mxnet.sequence.KJV_BOOKS`, "
            "e.g. 'Genesis', '1 Samuel' or 'Song of Solomon'."
        )
    return lookup[key]


def load_kjv(books=None, references=False, program="bible"):
    """Read the King James Bible (public domain) with Debian's ``bible`` program.

    The text comes from the packages ``bible-kjv`` (the program) and
    ``bible-kjv-text`` (the data); nothing is downloaded. The program prints
    chapter headings ("Genesis 1") and numbered verses; this function drops the
    headings and the verse numbers and returns one verse per line.

    Parameters
    ----------
    books : str or sequence of str, optional
        Names from :data:`KJV_BOOKS` (case does not matter), e.g. ``'Genesis'``
        or ``['Matthew', 'Mark']``. Default: all 66 books.
    references : bool, default False
        Start every line with its reference, e.g. ``'Genesis 1:1 In the ...'``.
    program : str, default 'bible'
        The program to run (a name on ``PATH`` or a path).

    Returns
    -------
    str
        The verses, separated by ``'\\n'``.

    Raises
    ------
    FileNotFoundError
        If the program is missing; the message names the Debian packages.
    ValueError
        For an unknown book name.
    RuntimeError
        If the program fails or prints no verses.

    Examples
    --------
    >>> from dlbook.mxnet.sequence import load_kjv
    >>> genesis = load_kjv("Genesis")
    >>> genesis[:55]
    'In the beginning God created the heaven and the earth.\\n'
    >>> len(genesis.splitlines())  # Genesis has 1,533 verses
    1533
    >>> load_kjv(["John"], references=True).splitlines()[-1][:25]
    'John 21:25 And there are '
    """
    if books is None:
        names = list(KJV_BOOKS)
    elif isinstance(books, str):
        names = [_book_name(books)]
    elif isinstance(books, (list, tuple)) and books:
        names = [_book_name(b) for b in books]
    else:
        raise TypeError(
            "Expected `books` as a book name, a non-empty list of names, or None (all), "
            f"got {describe(books)}."
        )
    if not isinstance(program, str) or not program:
        raise TypeError(f"Expected `program` as a non-empty string, got {describe(program)}.")
    executable = shutil.which(program)
    if executable is None:
        raise FileNotFoundError(
            f"The program {program!r} that prints the King James Bible was not found. It "
            "comes from Debian's packages `bible-kjv` (the program) and `bible-kjv-text` "
            "(the text): install them with `sudo apt install bible-kjv bible-kjv-text`."
        )
    # "Gen1:1-Gen999:999" asks for a whole book: the program stops at its last verse.
    specs = [f"{n.replace(' ', '')}1:1-{n.replace(' ', '')}999:999" for n in names]
    proc = subprocess.run([executable, "-l100000", *specs], capture_output=True, text=True,
                          timeout=120, check=False)
    errors = proc.stderr.strip()
    if proc.returncode != 0 or errors:
        raise RuntimeError(
            f"{program!r} failed (exit status {proc.returncode}): {errors[:300] or 'no message'}. "
            "Check that Debian's `bible-kjv-text` (the text file) is installed."
        )
    lines, book, chapter = [], None, None
    for line in proc.stdout.splitlines():
        header = _HEADER.match(line)
        if header:
            book, chapter = header.group(1), header.group(2)
            continue
        verse = _VERSE.match(line)
        if verse:
            text = verse.group(2).strip()
            lines.append(f"{book} {chapter}:{verse.group(1)} {text}" if references else text)
    if not lines:
        raise RuntimeError(
            f"{program!r} printed no verses for {names}. Is `bible-kjv-text` installed?"
        )
    return "\n".join(lines)


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
    device : mxnet.Context, optional
        Where the batches are placed (default: the CPU).

    The property ``carries_state`` tells whether row ``b`` of a batch continues
    row ``b`` of the previous one (true for sequential partitioning).

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.mxnet.sequence import SequenceBatches
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
                 seed=None, device=None):
        tokens = to_numpy("corpus", corpus, ndim=1)
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
        self.shuffle = bool(shuffle)
        if seed is None:
            seed = int(onp.random.randint(0, 2**31 - 1))
        self.seed = check_int("seed", seed, minimum=0)
        self._rng = onp.random.default_rng(self.seed)
        self.device = device or mx.cpu()
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
        with mx.util.np_shape(True), mx.util.np_array(True):
            for X, Y in pieces:
                yield (mx.np.array(X, dtype="int32", ctx=self.device),
                       mx.np.array(Y, dtype="int32", ctx=self.device))

    def __repr__(self):
        return (f"SequenceBatches(num_tokens={len(self.corpus)}, batch_size={self.batch_size}, "
                f"num_steps={self.num_steps}, partition={self.partition!r}, batches={len(self)})")


# -------------------------------------------------------------------- model
# Gluon's plain RNN layer uses ReLU unless told otherwise; the classic recurrent neuron uses tanh.
_CELLS = {"rnn": functools.partial(gluon.rnn.RNN, activation="tanh"), "gru": gluon.rnn.GRU,
          "lstm": gluon.rnn.LSTM}


@mx.util.use_np
class RNNModel(gluon.HybridBlock):
    """A recurrent layer (RNN, GRU or LSTM) followed by a dense output layer.

    One block serves two tasks:

    * **forecasting** (``vocab_size=None``): the input is a batch of windows,
      ``(batch, T)`` for one value per step or ``(batch, T, d)``; by default the
      dense layer reads the last hidden state, giving ``(batch, num_outputs)``.
    * **language modelling** (``vocab_size=V``): the input is ``(batch, T)``
      token indices, one-hot encoded inside; by default the dense layer reads
      every step, giving scores ``(batch, T, num_outputs)``.

    Called as ``net(X)`` it starts from a zero state and returns the outputs;
    called as ``net(X, state)`` it returns ``(outputs, new_state)``, so a
    training loop can carry the state from batch to batch. The block is
    hybridizable and runs in MXNet's NumPy mode whether or not
    ``npx.set_np()`` was called.

    Parameters
    ----------
    num_outputs : int
        Width of the dense output (e.g. 1 for a forecast, ``V`` for next-token scores).
    num_hiddens : int, default 64
        Size of the hidden state.
    cell : {'rnn', 'gru', 'lstm'}, default 'lstm'
        ``'rnn'`` is the plain recurrent layer with tanh.
    num_layers : int, default 1
        Stacked recurrent layers.
    vocab_size : int, optional
        Number of tokens; when given, inputs are token indices.
    return_sequences : bool, optional
        Output at every step (True) or at the last step only (False). Default:
        True with ``vocab_size``, False without.
    dropout : float, default 0.0
        Dropout between stacked recurrent layers (training only).

    Attributes
    ----------
    rnn : mxnet.gluon.rnn.RNN, GRU or LSTM
        The recurrent layer (batch-major layout ``'NTC'``).
    dense : mxnet.gluon.nn.Dense
        The output layer.

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.sequence import RNNModel
    >>> forecaster = RNNModel(num_outputs=1, num_hiddens=8, cell="gru")
    >>> forecaster.initialize()
    >>> forecaster(mx.np.zeros((4, 12))).shape  # 4 windows of 12 values
    (4, 1)
    >>> lm = RNNModel(num_outputs=30, num_hiddens=16, vocab_size=30)
    >>> lm.initialize()
    >>> state = lm.begin_state(batch_size=2)
    >>> [s.shape for s in state]  # an LSTM has a hidden state h and a memory cell c
    [(1, 2, 16), (1, 2, 16)]
    >>> Y, state = lm(mx.np.array([[1, 2, 3], [4, 5, 6]]), state)
    >>> Y.shape
    (2, 3, 30)
    """

    def __init__(self, num_outputs, num_hiddens=64, cell="lstm", num_layers=1, vocab_size=None,
                 return_sequences=None, dropout=0.0):
        super().__init__()
        self.num_outputs = check_int("num_outputs", num_outputs, minimum=1)
        self.num_hiddens = check_int("num_hiddens", num_hiddens, minimum=1)
        self.cell = check_choice("cell", cell, set(_CELLS))
        self.num_layers = check_int("num_layers", num_layers, minimum=1)
        self.vocab_size = None if vocab_size is None else check_int("vocab_size", vocab_size,
                                                                    minimum=1)
        if return_sequences is None:
            return_sequences = self.vocab_size is not None
        if not isinstance(return_sequences, bool):
            raise TypeError(f"Expected `return_sequences` as True or False, got "
                            f"{describe(return_sequences)}.")
        self.return_sequences = return_sequences
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) \
                or not 0.0 <= dropout < 1.0:
            raise ValueError(f"Expected `dropout` in [0.0, 1.0), got {dropout!r}.")
        with self.name_scope():
            self.rnn = _CELLS[cell](self.num_hiddens, num_layers=self.num_layers, layout="NTC",
                                    dropout=float(dropout))
            self.dense = gluon.nn.Dense(self.num_outputs, flatten=False)

    def begin_state(self, batch_size, device=None):
        """A zero state for ``batch_size`` sequences: a list of arrays ``(num_layers, batch, H)``.

        The LSTM's list has two arrays (hidden state and memory cell), the
        others one.

        Examples
        --------
        >>> from dlbook.mxnet.sequence import RNNModel
        >>> [s.shape for s in RNNModel(1, num_hiddens=5, cell="gru").begin_state(3)]
        [(1, 3, 5)]
        """
        batch_size = check_int("batch_size", batch_size, minimum=1)
        device = device or mx.cpu()
        return [mx.np.zeros(info["shape"], ctx=device)
                for info in self.rnn.state_info(batch_size)]

    def _check_input(self, X):
        if not isinstance(X, mx.np.ndarray):
            raise TypeError(
                f"Expected `X` as an mxnet.np array, got {describe(X)}. Convert it with "
                "mx.np.array(X)."
            )
        if self.vocab_size is not None:
            if X.ndim != 2:
                raise ValueError(
                    f"Expected `X` with 2 dimensions (batch, time) of token indices, got shape "
                    f"{tuple(X.shape)}. For one sequence use X.reshape(1, -1)."
                )
            return X
        if X.ndim == 2:
            X = X.reshape(X.shape + (1,))
        if X.ndim != 3:
            raise ValueError(
                f"Expected `X` with 2 (batch, time) or 3 (batch, time, features) dimensions, "
                f"got shape {tuple(X.shape)}. For one window use X.reshape(1, -1)."
            )
        known = self.rnn.l0_i2h_weight.shape
        if known and len(known) == 2 and known[1] > 0 and X.shape[2] != known[1]:
            raise ValueError(
                f"Expected `X` with {known[1]} feature(s) per time step, the number the model "
                f"was first called with, got shape {tuple(X.shape)}."
            )
        return X

    def forward(self, X, state=None):
        X = self._check_input(X)
        given = state is not None
        if not given:
            state = self.begin_state(X.shape[0], X.ctx)
        elif isinstance(state, mx.np.ndarray):
            state = [state]
        expected = len(self.rnn.state_info(1))
        if not isinstance(state, (list, tuple)) or len(state) != expected:
            raise ValueError(
                f"Expected `state` as a list of {expected} array(s) from `begin_state`, got "
                f"{describe(state)}."
            )
        outputs, new_state = super().forward(X, list(state))
        return (outputs, new_state) if given else outputs

    def hybrid_forward(self, F, X, state):
        if self.vocab_size is not None:
            X = F.npx.one_hot(X, self.vocab_size)
        outputs, new_state = self.rnn(X, state)
        if not self.return_sequences:
            outputs = outputs[:, -1, :]
        return self.dense(outputs), new_state


# ---------------------------------------------------------------- training
def _parameters(params):
    if isinstance(params, gluon.Block):
        params = params.collect_params()
    if hasattr(params, "values") and callable(params.values):
        params = list(params.values())
    if not isinstance(params, (list, tuple)) or not all(
            isinstance(p, gluon.Parameter) for p in params):
        raise TypeError(
            "Expected `params` as a Gluon Block, its collect_params() or a list of "
            f"Parameters, got {describe(params)}."
        )
    return [p for p in params if p.grad_req != "null"]


def grad_clipping(params, theta):
    """Rescale the gradients so that their joint norm is at most ``theta``.

    With all gradients stacked into one vector :math:`\\mathbf{g}`, the update is
    :math:`\\mathbf{g} \\leftarrow \\min(1, \\theta / \\lVert \\mathbf{g} \\rVert)\\, \\mathbf{g}`:
    the direction stays, only a too-long step is shortened. Call it after
    ``backward()`` and before the optimizer's ``step``.

    Parameters
    ----------
    params : mxnet.gluon.Block, ParameterDict or list of Parameter
    theta : float
        The largest allowed norm, > 0.

    Returns
    -------
    float
        The norm before clipping.

    Raises
    ------
    ValueError
        If ``theta`` is not positive or no parameter has a gradient.

    See Also
    --------
    mxnet.gluon.utils.clip_global_norm : the same operation for arrays.

    Examples
    --------
    >>> import mxnet as mx
    >>> from mxnet import autograd, gluon
    >>> from dlbook.mxnet.sequence import grad_clipping
    >>> mx.npx.set_np()
    >>> layer = gluon.nn.Dense(1, in_units=2, use_bias=False)
    >>> layer.initialize(mx.init.Constant(1.0))
    >>> x = mx.np.array([[30.0, 40.0]])
    >>> with autograd.record():
    ...     y = layer(x).sum()
    >>> y.backward()  # the gradient is x, of norm 50
    >>> grad_clipping(layer, theta=5.0)
    50.0
    >>> layer.weight.grad().tolist()  # same direction, norm 5
    [[3.0, 4.0]]
    """
    plist = _parameters(params)
    if isinstance(theta, bool) or not isinstance(theta, numbers.Real) or not theta > 0 \
            or math.isinf(theta):
        raise ValueError(f"Expected `theta` > 0 (the largest gradient norm), got {theta!r}.")
    if not plist:
        raise ValueError("No parameter in `params` has a gradient (all have grad_req='null').")
    with mx.util.np_shape(True), mx.util.np_array(True):
        total = None
        for p in plist:
            g = p.grad().as_np_ndarray() if not isinstance(p.grad(), mx.np.ndarray) else p.grad()
            s = (g.astype("float32") ** 2).sum()
            total = s if total is None else total + s
        norm = math.sqrt(float(total.item()))
        if norm > theta:
            scale = theta / norm
            for p in plist:
                for g in p.list_grad():
                    g[:] *= scale
    return norm


# --------------------------------------------------------------- generation
def _device_of(net):
    for p in net.collect_params().values():
        if p._data is not None:
            return p.list_ctx()[0]
    raise RuntimeError("`net` has no initialized parameters; train or initialize it first.")


def predict_chars(net, prefix, num_chars, vocab, temperature=0.0, seed=None):
    """Continue ``prefix`` with ``num_chars`` tokens generated by a language model.

    The model first reads the whole prefix (its state then summarizes it),
    then repeatedly picks the next token and feeds it back in. With
    ``temperature=0`` it takes the most likely token (greedy decoding); with
    ``temperature`` :math:`\\tau > 0` it samples from
    :math:`\\mathrm{softmax}(\\mathbf{o} / \\tau)`, where :math:`\\mathbf{o}` are
    the output scores: small :math:`\\tau` is cautious, large :math:`\\tau` adventurous.
    The unknown token is never generated.

    Parameters
    ----------
    net : RNNModel
        A language model (built with ``vocab_size``), initialized.
    prefix : str
        The prompt; at least one token.
    num_chars : int
        How many tokens to generate (0 returns the prefix).
    vocab : Vocab
        The vocabulary the model was trained with.
    temperature : float, default 0.0
    seed : int, optional
        Seed of the sampling (only used with ``temperature > 0``).

    Returns
    -------
    str
        ``prefix`` followed by the generated text.

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.sequence import RNNModel, Vocab, predict_chars
    >>> mx.random.seed(0)
    >>> vocab = Vocab("abc")
    >>> net = RNNModel(len(vocab), num_hiddens=8, vocab_size=len(vocab))
    >>> net.initialize()
    >>> text = predict_chars(net, "ab", 5, vocab, temperature=1.0, seed=0)
    >>> text[:2], len(text)  # untrained: 5 random characters follow the prompt
    ('ab', 7)
    """
    if not isinstance(net, RNNModel) or net.vocab_size is None or not net.return_sequences:
        raise TypeError(
            "Expected `net` to be a language model: an RNNModel built with `vocab_size` "
            f"(and return_sequences=True), got {describe(net)}."
        )
    if not isinstance(vocab, Vocab):
        raise TypeError(f"Expected `vocab` to be a dlbook.mxnet.sequence.Vocab, got {describe(vocab)}.")
    if len(vocab) > net.vocab_size:
        raise ValueError(
            f"`vocab` has {len(vocab)} tokens but `net` was built for vocab_size="
            f"{net.vocab_size}; use the vocabulary the model was trained with."
        )
    if not isinstance(prefix, str):
        raise TypeError(f"Expected `prefix` as a string, got {describe(prefix)}.")
    ids = vocab.encode(prefix).tolist()
    if not ids:
        raise ValueError("Expected a non-empty `prefix` (at least one token) to start from.")
    num_chars = check_int("num_chars", num_chars, minimum=0)
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real) \
            or not temperature >= 0 or math.isinf(temperature):
        raise ValueError(f"Expected `temperature` >= 0, got {temperature!r}.")
    rng = onp.random.default_rng(seed)
    device = _device_of(net)
    generated = []
    with mx.util.np_shape(True), mx.util.np_array(True):
        state = net.begin_state(1, device=device)
        X = mx.np.array([ids], dtype="int32", ctx=device)
        for _ in range(num_chars):
            Y, state = net(X, state)
            scores = Y[0, -1].asnumpy().astype("float64")[:len(vocab)]
            if len(vocab) > 1:
                scores[vocab.unk] = -onp.inf  # never generate the unknown token
            if temperature == 0:
                nxt = int(scores.argmax())
            else:
                z = scores / temperature
                p = onp.exp(z - z.max())
                nxt = int(rng.choice(len(p), p=p / p.sum()))
            generated.append(nxt)
            X = mx.np.array([[nxt]], dtype="int32", ctx=device)
    sep = "" if vocab.char_level else " "
    rest = vocab.decode(generated)
    return prefix + (sep if rest and sep and not prefix.endswith(sep) else "") + rest
