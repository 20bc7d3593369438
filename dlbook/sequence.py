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
"""
import collections
import difflib
import re
import shutil
import subprocess

import numpy as onp

from ._checks import check_choice, check_int, check_number, describe, to_numpy

__all__ = [
    "KJV_BOOKS",
    "make_windows",
    "Vocab",
    "load_kjv",
    "SequenceBatches",
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
            f"Unknown book {name!r}.{hint} Expected a name from `dl.sequence.KJV_BOOKS`, "
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
    >>> from dlbook.sequence import load_kjv
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
        self.shuffle = bool(shuffle)
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


# ------------------------------------------- shared by the layers' RNNModel
#: Recurrent cells offered by ``RNNModel`` in both layers.
CELLS = ("rnn", "gru", "lstm")


def _check_rnn_args(num_outputs, num_hiddens, cell, num_layers, vocab_size, return_sequences,
                    dropout, stateful):
    """Check RNNModel's arguments (both layers) and return them normalized, as a dict."""
    args = {
        "num_outputs": check_int("num_outputs", num_outputs, minimum=1),
        "num_hiddens": check_int("num_hiddens", num_hiddens, minimum=1),
        "cell": check_choice("cell", cell, set(CELLS)),
        "num_layers": check_int("num_layers", num_layers, minimum=1),
        "vocab_size": None if vocab_size is None else check_int("vocab_size", vocab_size,
                                                                 minimum=1),
    }
    if return_sequences is None:
        return_sequences = args["vocab_size"] is not None
    if not isinstance(return_sequences, bool):
        raise TypeError(f"Expected `return_sequences` as True or False, got "
                        f"{describe(return_sequences)}.")
    args["return_sequences"] = return_sequences
    args["dropout"] = check_number("dropout", dropout, minimum=0.0, below=1.0)
    if not isinstance(stateful, bool):
        raise TypeError(f"Expected `stateful` as True or False, got {describe(stateful)}.")
    args["stateful"] = stateful
    return args


def _check_features(X_shape, known):
    """The forecaster's check that every call has the feature count of the first one."""
    if known and X_shape[2] != known:
        raise ValueError(
            f"Expected `X` with {known} feature(s) per time step, the number the model "
            f"was first called with, got shape {tuple(X_shape)}."
        )


def _input_error(X_shape, vocab_size):
    """The error for an input of the wrong rank (both layers)."""
    if vocab_size is not None:
        return ValueError(
            f"Expected `X` with 2 dimensions (batch, time) of token indices, got shape "
            f"{tuple(X_shape)}. For one sequence use X.reshape(1, -1)."
        )
    return ValueError(
        f"Expected `X` with 2 (batch, time) or 3 (batch, time, features) dimensions, "
        f"got shape {tuple(X_shape)}. For one window use X.reshape(1, -1)."
    )


def _state_error(expected, state):
    return ValueError(
        f"Expected `state` as a list of {expected} array(s) from `begin_state`, got "
        f"{describe(state)}."
    )


class _StateKeeper:
    """What a ``stateful`` RNNModel does between calls, in both layers.

    A stateful model called without a state starts from the state its previous
    call left (detached: the value passes on, the gradient path is cut), so a
    training loop that only calls ``net(X)``, such as the Trainer's, does
    truncated backpropagation through time over consecutive batches. It starts
    from zeros instead on the first call, after :meth:`reset_state`, and when
    the batch size, the device or the mode (training or inference) differs
    from the previous call's.
    """

    _kept = None

    def reset_state(self):
        """Forget the kept state; the next call of a stateful model starts from zeros."""
        self._kept = None

    def _initial_state(self, key, zeros):
        if self._kept is not None and self._kept[0] == key:
            return self._kept[1]
        return zeros()

    def _keep(self, key, state):
        self._kept = (key, [s.detach() for s in state])


def _check_theta(theta):
    """grad_clipping's check of the largest norm (both layers)."""
    return check_number("theta", theta, above=0, what="a gradient norm")


def _check_generation(vocab, vocab_size, layer, prefix, num_chars, temperature):
    """predict_chars' checks after the model's (both layers); returns the prefix's indices."""
    if not isinstance(vocab, Vocab):
        raise TypeError(
            f"Expected `vocab` to be a dlbook.{layer}.sequence.Vocab, got {describe(vocab)}.")
    if len(vocab) > vocab_size:
        raise ValueError(
            f"`vocab` has {len(vocab)} tokens but `net` was built for vocab_size="
            f"{vocab_size}; use the vocabulary the model was trained with."
        )
    if not isinstance(prefix, str):
        raise TypeError(f"Expected `prefix` as a string, got {describe(prefix)}.")
    ids = vocab.encode(prefix).tolist()
    if not ids:
        raise ValueError("Expected a non-empty `prefix` (at least one token) to start from.")
    check_int("num_chars", num_chars, minimum=0)
    check_number("temperature", temperature, minimum=0,
                 fix="Pass 0 for the likeliest token, 1 to sample from the model's distribution.")
    return ids


def _generate(step, prefix, ids, num_chars, vocab, temperature, seed):
    """The decoding loop of predict_chars (both layers).

    ``step(ids)`` feeds the token indices ``ids`` to the model, which keeps its
    state between calls, and returns the scores after the last one as a 1-D
    array.
    """
    rng = onp.random.default_rng(seed)
    generated, inputs = [], ids
    for _ in range(int(num_chars)):
        scores = onp.array(step(inputs), dtype="float64")[:len(vocab)]
        if len(vocab) > 1:
            scores[vocab.unk] = -onp.inf  # never generate the unknown token
        if temperature == 0:
            nxt = int(scores.argmax())
        else:
            z = scores / temperature
            p = onp.exp(z - z.max())
            nxt = int(rng.choice(len(p), p=p / p.sum()))
        generated.append(nxt)
        inputs = [nxt]
    sep = "" if vocab.char_level else " "
    rest = vocab.decode(generated)
    return prefix + (sep if rest and sep and not prefix.endswith(sep) else "") + rest
