"""Embeddings in MXNet Gluon, and the text tools of the core.

The pieces the chapter on embeddings and tokenization builds on:
:class:`SkipGram` learns word vectors with negative sampling from the
batches of :class:`SkipGramBatches` (here as ``mxnet.np`` arrays);
:class:`EmbeddingRNN` is the character language model of the chapter on
recurrent networks with an embedding in place of the one-hot input. The
framework-free tools (Korean text, tokenizers, :class:`Vocabulary`,
skip-gram pairs, cosine similarity and neighbours) come from
:mod:`dlbook.text` and are offered here too. The same names exist in
:mod:`dlbook.torch.text`.
"""
import mxnet as mx
from mxnet import gluon

from .._checks import check_int, check_token_range, describe
from .. import text as _core
from ..text import (
    KOREAN_SOURCES,
    TOKENIZERS,
    MorphemeTokenizer,
    NegativeSampler,
    SentencePieceTokenizer,
    SyllableTokenizer,
    Tokenizer,
    Vocabulary,
    WordTokenizer,
    cosine_similarity,
    english_words,
    get_tokenizer,
    load_korean_text,
    nearest_neighbors,
    skipgram_pairs,
)
from .sequence import _CELLS, RNNModel

# The core's names (re-exported above), then the layer's models.
__all__ = [*_core.__all__, "SkipGram", "EmbeddingRNN"]


class SkipGramBatches(_core.SkipGramBatches):
    """Minibatches ``(X, Y)`` of ``mxnet.np`` arrays for skip-gram with negative sampling.

    The batches of :class:`dlbook.text.SkipGramBatches` (see there for
    subsampling, the dynamic window and the negatives), made afresh every
    epoch: ``X`` rows ``[center, context, negative_1, ..., negative_K]`` as
    ``int32``, ``Y`` rows ``[1, 0, ..., 0]`` as ``float32``, on ``device``.

    Parameters
    ----------
    corpus : array-like of int, shape (n,)
        Token indices made with ``vocab``.
    vocab : Vocabulary
    window : int, default 5
    num_negatives : int, default 5
    batch_size : int, default 1024
    subsample : float or None, default 1e-4
    seed : int, optional
    device : mxnet.Context, optional
        Where the batches are placed (default: the CPU).

    Examples
    --------
    >>> from dlbook.mxnet.text import SkipGramBatches, Vocabulary
    >>> tokens = "the cat sat on the mat".split()
    >>> vocab = Vocabulary(tokens)
    >>> X, Y = next(iter(SkipGramBatches(vocab.encode(tokens), vocab, window=1, batch_size=4,
    ...                                  subsample=None, seed=0)))
    >>> type(X).__module__, X.dtype, X.shape, Y.shape
    ('mxnet.numpy', dtype('int32'), (4, 7), (4, 6))
    """

    def __init__(self, corpus, vocab, window=5, num_negatives=5, batch_size=1024, subsample=1e-4,
                 seed=None, device=None):
        super().__init__(corpus, vocab, window=window, num_negatives=num_negatives,
                         batch_size=batch_size, subsample=subsample, seed=seed)
        self.device = device or mx.cpu()

    def _to_tensors(self, X, Y):
        with mx.util.np_shape(True), mx.util.np_array(True):
            return (mx.np.array(X, dtype="int32", ctx=self.device),
                    mx.np.array(Y, dtype="float32", ctx=self.device))


def _check_indices(X, vocab_size, name="X"):
    """Token indices must lie in [0, vocab_size): Gluon's Embedding would clip them silently."""
    if X.size == 0:
        return
    check_token_range(int(X.min().item()), int(X.max().item()), vocab_size, name)


def _check_array(X):
    if not isinstance(X, mx.np.ndarray):
        raise TypeError(f"Expected `X` as an mxnet.np array, got {describe(X)}. Convert it with "
                        "mx.np.array(X).")


@mx.util.use_np
class SkipGram(gluon.HybridBlock):
    """Skip-gram with negative sampling (word2vec): two embedding tables and a dot product.

    Token ``i`` has a center vector :math:`\\mathbf{v}_i` (row ``i`` of
    :attr:`center`, the word vectors one keeps) and a context vector
    :math:`\\mathbf{u}_i` (row ``i`` of :attr:`context`). A row
    ``[c, o, n_1, ..., n_K]`` of ``X`` gets the scores
    :math:`\\mathbf{u}_o^\\top \\mathbf{v}_c, \\mathbf{u}_{n_1}^\\top \\mathbf{v}_c, \\dots`;
    with the binary cross-entropy against ``[1, 0, ..., 0]`` this is the
    negative-sampling loss. As in word2vec, the center vectors start uniform in
    :math:`\\pm 0.5 / d` and the context vectors at zero. Introduced in the
    book's chapter on embeddings and tokenization.

    Parameters
    ----------
    vocab_size : int
        Rows of both tables: ``len(vocab)``.
    embedding_dim : int
        The length ``d`` of each vector.

    Attributes
    ----------
    center, context : mxnet.gluon.nn.Embedding

    Raises
    ------
    ValueError
        When called with indices outside ``[0, vocab_size)`` (a vocabulary
        mismatch), or ``X`` without the columns ``[center, context, ...]``.

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.text import SkipGram
    >>> net = SkipGram(vocab_size=10, embedding_dim=4)
    >>> net.initialize()
    >>> X = mx.np.array([[1, 2, 7, 9], [3, 4, 0, 5]], dtype="int32")  # center, context, 2 negatives
    >>> net(X).shape  # a score for the context and for each negative
    (2, 3)
    >>> net.embeddings().shape  # the center vectors, as NumPy
    (10, 4)
    >>> net(mx.np.array([[1, 12]], dtype="int32"))
    Traceback (most recent call last):
    ...
    ValueError: Vocabulary mismatch: `X` holds token indices from 1 to 12, but the model was built for vocab_size=10 (indices 0 to 9). Build it with len(vocab) of the vocabulary that encoded the data.
    """

    def __init__(self, vocab_size, embedding_dim):
        super().__init__()
        self.vocab_size = check_int("vocab_size", vocab_size, minimum=2)
        self.embedding_dim = check_int("embedding_dim", embedding_dim, minimum=1)
        d = self.embedding_dim
        with self.name_scope():
            self.center = gluon.nn.Embedding(self.vocab_size, d,
                                             weight_initializer=mx.init.Uniform(0.5 / d))
            self.context = gluon.nn.Embedding(self.vocab_size, d, weight_initializer=mx.init.Zero())

    def forward(self, X):
        _check_array(X)
        if X.ndim != 2 or X.shape[1] < 2:
            raise ValueError(
                "Expected `X` with 2 dimensions and at least 2 columns [center, context, "
                f"negatives...], got shape {tuple(X.shape)}. SkipGramBatches makes such rows.")
        _check_indices(X, self.vocab_size)
        return super().forward(X)

    def hybrid_forward(self, F, X):
        v = self.center(X[:, :1])                  # (batch, 1, d)
        u = self.context(X[:, 1:])                 # (batch, 1 + K, d)
        # One dot product per context and negative: (batch, 1 + K, 1). batch_dot's backward is
        # several times faster than that of the broadcast product (u * v).sum(axis=-1).
        return F.npx.batch_dot(u, v, transpose_b=True).squeeze(axis=-1)

    def embeddings(self):
        """The word vectors (the center table) as a NumPy array of shape ``(vocab_size, d)``."""
        return self.center.weight.data().asnumpy()


@mx.util.use_np
class EmbeddingRNN(RNNModel):
    """A character (or word) language model whose input is an embedding instead of one-hot vectors.

    :class:`~dlbook.mxnet.sequence.RNNModel` built with ``vocab_size`` turns
    each token index into a one-hot vector of length ``V``; this model looks
    up a learned vector of length ``embedding_dim`` instead (:attr:`embedding`)
    and feeds that to the recurrent layer. Everything else is ``RNNModel``'s:
    the states, ``stateful``, ``begin_state``, the dense output of ``V``
    scores per step, and :func:`~dlbook.mxnet.sequence.predict_chars`. The
    input weights shrink from ``4 h V`` (LSTM) to ``V d + 4 h d``. Introduced in
    the book's chapter on embeddings and tokenization.

    Parameters
    ----------
    vocab_size : int
        ``V``: number of tokens, and of output scores per step.
    embedding_dim : int
        ``d``: the length of each token's vector.
    num_hiddens : int, default 64
    cell : {'rnn', 'gru', 'lstm'}, default 'lstm'
    num_layers : int, default 1
    dropout : float, default 0.0
    stateful : bool, default False
        As for ``RNNModel``.

    Attributes
    ----------
    embedding : mxnet.gluon.nn.Embedding
    rnn, dense : the recurrent and the output layer, as in ``RNNModel``.

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.text import EmbeddingRNN
    >>> from dlbook.mxnet.summaries import count_parameters
    >>> lm = EmbeddingRNN(vocab_size=61, embedding_dim=16, num_hiddens=32)
    >>> lm.initialize()
    >>> lm(mx.np.array([[1, 2, 3], [4, 5, 6]], dtype="int32")).shape  # (batch, time, V)
    (2, 3, 61)
    >>> count_parameters(lm)  # 61*16 + 4*32*(16 + 32 + 2) + 32*61 + 61
    9389
    """

    def __init__(self, vocab_size, embedding_dim, num_hiddens=64, cell="lstm", num_layers=1,
                 dropout=0.0, stateful=False):
        super().__init__(vocab_size, num_hiddens=num_hiddens, cell=cell, num_layers=num_layers,
                         vocab_size=vocab_size, return_sequences=True, dropout=dropout,
                         stateful=stateful)
        self.embedding_dim = check_int("embedding_dim", embedding_dim, minimum=1)
        with self.name_scope():
            # The recurrent layer reads vectors of length d instead of one-hot vectors of length V.
            self.rnn = _CELLS[self.cell](self.num_hiddens, num_layers=self.num_layers,
                                         layout="NTC", dropout=self.dropout,
                                         input_size=self.embedding_dim)
            self.embedding = gluon.nn.Embedding(self.vocab_size, self.embedding_dim)

    def _check_input(self, X):
        X = super()._check_input(X)
        _check_indices(X, self.vocab_size)
        return X

    def hybrid_forward(self, F, X, state):
        outputs, new_state = self.rnn(self.embedding(X), state)
        return self.dense(outputs), new_state
