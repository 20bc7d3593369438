"""Recurrent networks in PyTorch, and the sequence tools of the core.

The pieces the chapter on recurrent networks builds on: :class:`RNNModel`
wraps a ``torch.nn`` RNN, GRU or LSTM layer with a linear output;
:func:`grad_clipping` bounds the gradient norm; :func:`predict_chars`
generates text from a trained model; :class:`SequenceBatches` cuts a long
token sequence into minibatches of tensors. The framework-free tools
(:func:`make_windows`, :class:`Vocab`, :func:`load_kjv`, :data:`KJV_BOOKS`)
come from :mod:`dlbook.sequence` and are offered here too. The same names
exist in :mod:`dlbook.mxnet.sequence`.
"""
import functools
import math

import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedParameter

from .._checks import check_int, describe
from .. import _sequence_model as _model, _sequence_train as _train, sequence as _core
from ..sequence import KJV_BOOKS, Vocab, load_kjv, make_windows

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


# ---------------------------------------------------------- language model
class SequenceBatches(_core.SequenceBatches):
    """Minibatches ``(X, Y)`` of ``torch`` tensors for a language model.

    The batches of :class:`dlbook.sequence.SequenceBatches` (see there for
    ``partition``, ``shuffle`` and ``carries_state``) as ``int64`` tensors on
    ``device`` (PyTorch's type for class indices, which its losses and
    ``one_hot`` expect); ``Y`` is ``X`` shifted by one token.

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
    device : torch.device or str, optional
        Where the batches are placed (default: the CPU).

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.torch.sequence import SequenceBatches
    >>> batches = SequenceBatches(onp.arange(22), batch_size=2, num_steps=3, shuffle=False)
    >>> len(batches), batches.carries_state
    (3, True)
    >>> X, Y = next(iter(batches))
    >>> type(X).__name__, X.dtype, tuple(X.shape)
    ('Tensor', torch.int64, (2, 3))
    >>> X.tolist(), Y.tolist()  # two streams: 0, 1, 2, ... and 9, 10, 11, ...
    ([[0, 1, 2], [9, 10, 11]], [[1, 2, 3], [10, 11, 12]])
    >>> [X[0, 0].item() for X, Y in batches]  # each batch continues the previous one
    [0, 3, 6]
    """

    def __init__(self, corpus, batch_size, num_steps, partition="sequential", shuffle=True,
                 seed=None, device=None):
        super().__init__(corpus, batch_size, num_steps, partition=partition, shuffle=shuffle,
                         seed=seed)
        self.device = torch.device("cpu") if device is None else torch.device(device)

    def _to_tensors(self, X, Y):
        return (torch.as_tensor(X, dtype=torch.int64, device=self.device),
                torch.as_tensor(Y, dtype=torch.int64, device=self.device))


# -------------------------------------------------------------------- model
class _LazyInput(LazyModuleMixin):
    """A torch recurrent layer whose input size is inferred at its first call, as in Gluon.

    Only ``weight_ih_l0`` depends on the input size; it stays an
    ``UninitializedParameter`` until the first batch, then gets PyTorch's
    usual initialization (uniform in ``±1/sqrt(hidden_size)``), and the layer
    becomes a plain ``nn.RNN``, ``nn.GRU`` or ``nn.LSTM``.
    """

    def __init__(self, hidden_size, **kwargs):
        super().__init__(1, hidden_size, **kwargs)
        like = self.weight_hh_l0
        self.weight_ih_l0 = UninitializedParameter(device=like.device, dtype=like.dtype)
        self.input_size = 0

    def reset_parameters(self):
        if not self.has_uninitialized_params():
            super().reset_parameters()

    def initialize_parameters(self, input, hx=None):  # noqa: A002 (torch's hook signature)
        if self.has_uninitialized_params():
            with torch.no_grad():
                self.weight_ih_l0.materialize((self.weight_hh_l0.shape[0], input.shape[-1]))
                bound = 1.0 / math.sqrt(self.hidden_size)
                nn.init.uniform_(self.weight_ih_l0, -bound, bound)
        self.input_size = self.weight_ih_l0.shape[1]  # also after load_state_dict
        self._init_flat_weights()


class _LazyRNN(_LazyInput, nn.RNN):
    cls_to_become = nn.RNN


class _LazyGRU(_LazyInput, nn.GRU):
    cls_to_become = nn.GRU


class _LazyLSTM(_LazyInput, nn.LSTM):
    cls_to_become = nn.LSTM


# PyTorch's plain RNN uses tanh by default, the classic recurrent neuron (as in the MXNet layer).
_CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
_LAZY_CELLS = {"rnn": _LazyRNN, "gru": _LazyGRU, "lstm": _LazyLSTM}


class RNNModel(_model._StateKeeper, nn.Module):
    """A recurrent layer (RNN, GRU or LSTM) followed by a linear output layer.

    One module serves two tasks:

    * **forecasting** (``vocab_size=None``): the input is a batch of windows,
      ``(batch, T)`` for one value per step or ``(batch, T, d)``; by default the
      linear layer reads the last hidden state, giving ``(batch, num_outputs)``.
      As in Gluon, ``d`` is inferred from the first batch.
    * **language modelling** (``vocab_size=V``): the input is ``(batch, T)``
      token indices, one-hot encoded inside; by default the linear layer reads
      every step, giving scores ``(batch, T, num_outputs)``.

    Called as ``net(X)`` it starts from a zero state and returns the outputs;
    called as ``net(X, state)`` it returns ``(outputs, new_state)``, so a
    training loop can carry the state from batch to batch. With
    ``stateful=True`` the model carries it by itself: ``net(X)`` starts from
    the state the previous call left, detached from its graph, so the
    :class:`~dlbook.torch.train.Trainer` can train a language model on
    :class:`SequenceBatches` with truncated backpropagation through time
    (:meth:`reset_state` starts afresh). The book introduces it in the chapter
    on recurrent neural networks.

    Parameters
    ----------
    num_outputs : int
        Width of the linear output (e.g. 1 for a forecast, ``V`` for next-token scores).
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
        Dropout between stacked recurrent layers (in training mode only).
    stateful : bool, default False
        Keep the last state of a call ``net(X)`` and start the next such call
        from it (detached). It starts from zeros instead on the first call,
        after :meth:`reset_state` or a call of ``net.train()`` or
        ``net.eval()``, and when the batch size or the device changed since the
        previous call. Use it with sequential partitioning, whose rows continue
        from batch to batch. The Trainer switches the mode for every
        validation pass, ``evaluate`` and ``predict``, so each of them, and the
        training epoch after a validation pass, start from zeros.

    Attributes
    ----------
    rnn : torch.nn.RNN, GRU or LSTM
        The recurrent layer (``batch_first=True``).
    dense : torch.nn.Linear
        The output layer.

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.sequence import RNNModel
    >>> forecaster = RNNModel(num_outputs=1, num_hiddens=8, cell="gru")
    >>> tuple(forecaster(torch.zeros(4, 12)).shape)  # 4 windows of 12 values
    (4, 1)
    >>> lm = RNNModel(num_outputs=30, num_hiddens=16, vocab_size=30)
    >>> state = lm.begin_state(batch_size=2)
    >>> [tuple(s.shape) for s in state]  # an LSTM has a hidden state h and a memory cell c
    [(1, 2, 16), (1, 2, 16)]
    >>> Y, state = lm(torch.tensor([[1, 2, 3], [4, 5, 6]]), state)
    >>> tuple(Y.shape)
    (2, 3, 30)
    >>> carried = RNNModel(num_outputs=30, num_hiddens=16, vocab_size=30, stateful=True)
    >>> X = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]])
    >>> with torch.no_grad():
    ...     halves = torch.cat([carried(X[:, :2]), carried(X[:, 2:])], dim=1)
    ...     carried.reset_state()
    ...     whole = carried(X)
    >>> torch.allclose(halves, whole, atol=1e-6)  # the second half continued the first
    True
    """

    def __init__(self, num_outputs, num_hiddens=64, cell="lstm", num_layers=1, vocab_size=None,
                 return_sequences=None, dropout=0.0, stateful=False):
        args = _model._check_rnn_args(num_outputs, num_hiddens, cell, num_layers, vocab_size,
                                     return_sequences, dropout, stateful)
        super().__init__()
        for name, value in args.items():
            setattr(self, name, value)
        # torch warns about dropout with one layer, where it has no effect (as in Gluon).
        options = dict(num_layers=self.num_layers, batch_first=True,
                       dropout=self.dropout if self.num_layers > 1 else 0.0)
        if self.vocab_size is None:
            self.rnn = _LAZY_CELLS[self.cell](self.num_hiddens, **options)
        else:
            self.rnn = _CELLS[self.cell](self.vocab_size, self.num_hiddens, **options)
        self.dense = nn.Linear(self.num_hiddens, self.num_outputs)

    def train(self, mode=True):
        """Set training or evaluation mode (``nn.Module.train``); a stateful model starts afresh.

        The Trainer switches to evaluation mode for every validation pass,
        ``evaluate`` and ``predict`` (and back afterwards), so each of them reads its
        batches from a zero state, and so does the training epoch after a
        validation pass.
        """
        self.reset_state()
        return super().train(mode)

    def begin_state(self, batch_size, device=None):
        """A zero state for ``batch_size`` sequences: a list of tensors ``(num_layers, batch, H)``.

        The LSTM's list has two tensors (hidden state and memory cell), the
        others one. ``device`` defaults to the device of the model's parameters.

        Examples
        --------
        >>> from dlbook.torch.sequence import RNNModel
        >>> [tuple(s.shape) for s in RNNModel(1, num_hiddens=5, cell="gru").begin_state(3)]
        [(1, 3, 5)]
        """
        batch_size = check_int("batch_size", batch_size, minimum=1)
        weight = self.dense.weight
        device = weight.device if device is None else device
        shape = (self.num_layers, batch_size, self.num_hiddens)
        return [torch.zeros(shape, device=device, dtype=weight.dtype)
                for _ in range(2 if self.cell == "lstm" else 1)]

    def _check_input(self, X):
        if not isinstance(X, torch.Tensor):
            raise TypeError(
                f"Expected `X` as a torch tensor, got {describe(X)}. Convert it with "
                "torch.as_tensor(X)."
            )
        dtype = self.dense.weight.dtype
        if self.vocab_size is not None:
            if X.ndim != 2:
                raise _model._input_error(X.shape, self.vocab_size)
            return nn.functional.one_hot(X.long(), self.vocab_size).to(dtype)
        if X.ndim == 2:
            X = X.unsqueeze(-1)
        if X.ndim != 3:
            raise _model._input_error(X.shape, self.vocab_size)
        _model._check_features(X.shape, self.rnn.input_size)
        return X.to(dtype)

    def forward(self, X, state=None):
        X = self._check_input(X)
        given = state is not None
        key = (X.shape[0], str(X.device), self.training)
        if not given:
            zeros = functools.partial(self.begin_state, X.shape[0], X.device)
            state = self._initial_state(key, zeros) if self.stateful else zeros()
        elif isinstance(state, torch.Tensor):
            state = [state]
        expected = 2 if self.cell == "lstm" else 1
        if not isinstance(state, (list, tuple)) or len(state) != expected:
            raise _model._state_error(expected, state)
        outputs, new = self.rnn(X, tuple(state) if expected == 2 else state[0])
        new_state = list(new) if expected == 2 else [new]
        if not self.return_sequences:
            outputs = outputs[:, -1, :]
        outputs = self.dense(outputs)
        if given:
            return outputs, new_state
        if self.stateful:
            self._keep(key, new_state)
        return outputs


# ---------------------------------------------------------------- training
def _parameters(params):
    if isinstance(params, nn.Module):
        params = list(params.parameters())
    elif isinstance(params, torch.Tensor):
        params = [params]
    elif hasattr(params, "__iter__") and not isinstance(params, (str, bytes, dict)):
        params = list(params)
    if not isinstance(params, list) or not all(isinstance(p, torch.Tensor) for p in params):
        raise TypeError(
            "Expected `params` as a torch.nn.Module, its parameters() or a list of "
            f"Parameters, got {describe(params)}."
        )
    return [p for p in params if p.requires_grad]


def grad_clipping(params, theta):
    """Rescale the gradients so that their joint norm is at most ``theta``.

    With all gradients stacked into one vector :math:`\\mathbf{g}`, the update is
    :math:`\\mathbf{g} \\leftarrow \\min(1, \\theta / \\lVert \\mathbf{g} \\rVert)\\, \\mathbf{g}`:
    the direction stays, only a too-long step is shortened. Call it after
    ``backward()`` and before the optimizer's ``step``.

    Parameters
    ----------
    params : torch.nn.Module, or an iterable of Parameter (e.g. ``net.parameters()``)
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
    torch.nn.utils.clip_grad_norm_ : nearly the same (it divides by the norm plus 1e-6).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from dlbook.torch.sequence import grad_clipping
    >>> layer = nn.Linear(2, 1, bias=False)
    >>> _ = nn.init.constant_(layer.weight, 1.0)
    >>> x = torch.tensor([[30.0, 40.0]])
    >>> layer(x).sum().backward()  # the gradient is x, of norm 50
    >>> grad_clipping(layer, theta=5.0)
    50.0
    >>> layer.weight.grad.tolist()  # same direction, norm 5
    [[3.0, 4.0]]
    """
    plist = _parameters(params)
    theta = _train._check_theta(theta)
    grads = [p.grad for p in plist if p.grad is not None]
    if not grads:
        raise ValueError("No parameter in `params` has a gradient (all have "
                         "requires_grad=False, or backward() has not been called).")
    with torch.no_grad():
        total = sum((g.float() ** 2).sum() for g in grads)
        norm = math.sqrt(float(total.item()))
        if norm > theta:
            for g in grads:
                g.mul_(theta / norm)
    return norm


# --------------------------------------------------------------- generation
def predict_chars(net, prefix, num_chars, vocab, temperature=0.0, seed=None):
    """Continue ``prefix`` with ``num_chars`` tokens generated by a language model.

    The model first reads the whole prefix (its state then summarizes it),
    then repeatedly picks the next token and feeds it back in. With
    ``temperature=0`` it takes the most likely token (greedy decoding); with
    ``temperature`` :math:`\\tau > 0` it samples from
    :math:`\\mathrm{softmax}(\\mathbf{o} / \\tau)`, where :math:`\\mathbf{o}` are
    the output scores: small :math:`\\tau` is cautious, large :math:`\\tau` adventurous.
    The unknown token is never generated. The model runs in evaluation mode
    without gradients; its mode is restored afterwards.

    Parameters
    ----------
    net : RNNModel
        A language model (built with ``vocab_size``).
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
    >>> import torch
    >>> from dlbook.torch.sequence import RNNModel, Vocab, predict_chars
    >>> _ = torch.manual_seed(0)
    >>> vocab = Vocab("abc")
    >>> net = RNNModel(len(vocab), num_hiddens=8, vocab_size=len(vocab))
    >>> text = predict_chars(net, "ab", 5, vocab, temperature=1.0, seed=0)
    >>> text[:2], len(text)  # untrained: 5 random characters follow the prompt
    ('ab', 7)
    """
    if not isinstance(net, RNNModel) or net.vocab_size is None or not net.return_sequences:
        raise TypeError(
            "Expected `net` to be a language model: an RNNModel built with `vocab_size` "
            f"(and return_sequences=True), got {describe(net)}."
        )
    ids = _train._check_generation(vocab, net.vocab_size, "torch", prefix, num_chars,
                                  temperature)
    device = net.dense.weight.device
    state = None

    def step(inputs):
        nonlocal state
        if state is None:
            state = net.begin_state(1, device=device)
        Y, state = net(torch.tensor([inputs], dtype=torch.int64, device=device), state)
        return Y[0, -1].cpu().numpy()

    training = net.training
    net.eval()
    try:
        with torch.no_grad():
            return _train._generate(step, prefix, ids, num_chars, vocab, temperature, seed)
    finally:
        net.train(training)
