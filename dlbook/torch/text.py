"""Embeddings in PyTorch, and the text tools of the core.

The pieces the chapter on embeddings and tokenization builds on:
:class:`SkipGram` learns word vectors with negative sampling from the
batches of :class:`SkipGramBatches` (here as ``torch`` tensors);
:class:`EmbeddingRNN` is the character language model of the chapter on
recurrent networks with an embedding in place of the one-hot input. The
framework-free tools (Korean text, tokenizers, :class:`Vocabulary`,
skip-gram pairs, cosine similarity and neighbours) come from
:mod:`dlbook.text` and are offered here too. The same names exist in
:mod:`dlbook.mxnet.text`.
"""
import torch
from torch import nn

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
from .. import _sequence_model as _seq_core
from .sequence import _CELLS, RNNModel

# The core's names (re-exported above), then the layer's models.
__all__ = [*_core.__all__, "SkipGram", "EmbeddingRNN"]


class SkipGramBatches(_core.SkipGramBatches):
    """Minibatches ``(X, Y)`` of ``torch`` tensors for skip-gram with negative sampling.

    The batches of :class:`dlbook.text.SkipGramBatches` (see there for
    subsampling, the dynamic window and the negatives), made afresh every
    epoch: ``X`` rows ``[center, context, negative_1, ..., negative_K]`` as
    ``int64`` (PyTorch's type for indices), ``Y`` rows ``[1, 0, ..., 0]`` as
    ``float32``, on ``device``.

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
    device : torch.device or str, optional
        Where the batches are placed (default: the CPU).

    Examples
    --------
    >>> from dlbook.torch.text import SkipGramBatches, Vocabulary
    >>> tokens = "the cat sat on the mat".split()
    >>> vocab = Vocabulary(tokens)
    >>> X, Y = next(iter(SkipGramBatches(vocab.encode(tokens), vocab, window=1, batch_size=4,
    ...                                  subsample=None, seed=0)))
    >>> type(X).__name__, X.dtype, tuple(X.shape), tuple(Y.shape)
    ('Tensor', torch.int64, (4, 7), (4, 6))
    """

    def __init__(self, corpus, vocab, window=5, num_negatives=5, batch_size=1024, subsample=1e-4,
                 seed=None, device=None):
        super().__init__(corpus, vocab, window=window, num_negatives=num_negatives,
                         batch_size=batch_size, subsample=subsample, seed=seed)
        self.device = torch.device("cpu") if device is None else torch.device(device)

    def _to_tensors(self, X, Y):
        return (torch.as_tensor(X, dtype=torch.int64, device=self.device),
                torch.as_tensor(Y, dtype=torch.float32, device=self.device))


def _check_indices(X, vocab_size, name="X"):
    """Token indices must lie in [0, vocab_size) (the same check as the MXNet layer's)."""
    if X.numel() == 0:
        return
    check_token_range(int(X.min()), int(X.max()), vocab_size, name)


def _check_array(X):
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"Expected `X` as a torch tensor, got {describe(X)}. Convert it with "
                        "torch.as_tensor(X).")


class SkipGram(nn.Module):
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
    center, context : torch.nn.Embedding

    Raises
    ------
    ValueError
        When called with indices outside ``[0, vocab_size)`` (a vocabulary
        mismatch), or ``X`` without the columns ``[center, context, ...]``.

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.text import SkipGram
    >>> net = SkipGram(vocab_size=10, embedding_dim=4)
    >>> X = torch.tensor([[1, 2, 7, 9], [3, 4, 0, 5]])  # center, context, 2 negatives
    >>> tuple(net(X).shape)  # a score for the context and for each negative
    (2, 3)
    >>> net.embeddings().shape  # the center vectors, as NumPy
    (10, 4)
    >>> net(torch.tensor([[1, 12]]))
    Traceback (most recent call last):
    ...
    ValueError: Vocabulary mismatch: `X` holds token indices from 1 to 12, but the model was built for vocab_size=10 (indices 0 to 9). Build it with len(vocab) of the vocabulary that encoded the data.
    """

    def __init__(self, vocab_size, embedding_dim):
        super().__init__()
        self.vocab_size = check_int("vocab_size", vocab_size, minimum=2)
        self.embedding_dim = check_int("embedding_dim", embedding_dim, minimum=1)
        d = self.embedding_dim
        self.center = nn.Embedding(self.vocab_size, d)
        self.context = nn.Embedding(self.vocab_size, d)
        with torch.no_grad():
            self.center.weight.uniform_(-0.5 / d, 0.5 / d)
            self.context.weight.zero_()

    def forward(self, X):
        _check_array(X)
        if X.ndim != 2 or X.shape[1] < 2:
            raise ValueError(
                "Expected `X` with 2 dimensions and at least 2 columns [center, context, "
                f"negatives...], got shape {tuple(X.shape)}. SkipGramBatches makes such rows.")
        _check_indices(X, self.vocab_size)
        v = self.center(X[:, :1])                  # (batch, 1, d)
        u = self.context(X[:, 1:])                 # (batch, 1 + K, d)
        return (u * v).sum(dim=-1)                 # (batch, 1 + K): one dot product each

    def embeddings(self):
        """The word vectors (the center table) as a NumPy array of shape ``(vocab_size, d)``."""
        return self.center.weight.detach().cpu().numpy().copy()


class EmbeddingRNN(RNNModel):
    """A character (or word) language model whose input is an embedding instead of one-hot vectors.

    :class:`~dlbook.torch.sequence.RNNModel` built with ``vocab_size`` turns
    each token index into a one-hot vector of length ``V``; this model looks
    up a learned vector of length ``embedding_dim`` instead (:attr:`embedding`)
    and feeds that to the recurrent layer. Everything else is ``RNNModel``'s:
    the states, ``stateful``, ``begin_state``, the linear output of ``V``
    scores per step, and :func:`~dlbook.torch.sequence.predict_chars`. The
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
    embedding : torch.nn.Embedding
    rnn, dense : the recurrent and the output layer, as in ``RNNModel``.

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.text import EmbeddingRNN
    >>> from dlbook.torch.summaries import count_parameters
    >>> lm = EmbeddingRNN(vocab_size=61, embedding_dim=16, num_hiddens=32)
    >>> tuple(lm(torch.tensor([[1, 2, 3], [4, 5, 6]])).shape)  # (batch, time, V)
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
        self.embedding = nn.Embedding(self.vocab_size, self.embedding_dim)
        # The recurrent layer reads vectors of length d instead of one-hot vectors of length V.
        self.rnn = _CELLS[self.cell](self.embedding_dim, self.num_hiddens,
                                     num_layers=self.num_layers, batch_first=True,
                                     dropout=self.dropout if self.num_layers > 1 else 0.0)

    def _check_input(self, X):
        _check_array(X)
        if X.ndim != 2:
            raise _seq_core._input_error(X.shape, self.vocab_size)
        _check_indices(X, self.vocab_size)
        return self.embedding(X.long())
