"""Recurrent networks in MXNet Gluon, and the sequence tools of the core.

The pieces the chapter on recurrent networks builds on: :class:`RNNModel`
wraps a Gluon RNN, GRU or LSTM layer with a dense output;
:func:`grad_clipping` bounds the gradient norm; :func:`predict_chars`
generates text from a trained model; :class:`SequenceBatches` cuts a long
token sequence into minibatches of ``mxnet.np`` arrays. The framework-free
tools (:func:`make_windows`, :class:`Vocab`, :func:`load_kjv`,
:data:`KJV_BOOKS`) come from :mod:`dlbook.sequence` and are offered here too.
The same names exist in :mod:`dlbook.torch.sequence`.
"""
import functools
import math

import mxnet as mx
from mxnet import autograd, gluon

from .._checks import check_int, describe
from .. import _sequence_model as _model, _sequence_train as _train, sequence as _core
from ..sequence import KJV_BOOKS, Vocab, load_kjv, make_windows
from ._gluon import has_value

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
    """Minibatches ``(X, Y)`` of ``mxnet.np`` arrays for a language model.

    The batches of :class:`dlbook.sequence.SequenceBatches` (see there for
    ``partition``, ``shuffle`` and ``carries_state``) as ``int32`` arrays on
    ``device``; ``Y`` is ``X`` shifted by one token.

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

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.mxnet.sequence import SequenceBatches
    >>> batches = SequenceBatches(onp.arange(22), batch_size=2, num_steps=3, shuffle=False)
    >>> len(batches), batches.carries_state
    (3, True)
    >>> X, Y = next(iter(batches))
    >>> type(X).__module__, X.dtype, X.shape
    ('mxnet.numpy', dtype('int32'), (2, 3))
    >>> X.tolist(), Y.tolist()  # two streams: 0, 1, 2, ... and 9, 10, 11, ...
    ([[0, 1, 2], [9, 10, 11]], [[1, 2, 3], [10, 11, 12]])
    >>> [X[0, 0].item() for X, Y in batches]  # each batch continues the previous one
    [0, 3, 6]
    """

    def __init__(self, corpus, batch_size, num_steps, partition="sequential", shuffle=True,
                 seed=None, device=None):
        super().__init__(corpus, batch_size, num_steps, partition=partition, shuffle=shuffle,
                         seed=seed)
        self.device = device or mx.cpu()

    def _to_tensors(self, X, Y):
        with mx.util.np_shape(True), mx.util.np_array(True):
            return (mx.np.array(X, dtype="int32", ctx=self.device),
                    mx.np.array(Y, dtype="int32", ctx=self.device))


# -------------------------------------------------------------------- model
# Gluon's plain RNN layer uses ReLU unless told otherwise; the classic recurrent neuron uses tanh.
_CELLS = {"rnn": functools.partial(gluon.rnn.RNN, activation="tanh"), "gru": gluon.rnn.GRU,
          "lstm": gluon.rnn.LSTM}


@mx.util.use_np
class RNNModel(_model._StateKeeper, gluon.HybridBlock):
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
    training loop can carry the state from batch to batch. With
    ``stateful=True`` the model carries it by itself: ``net(X)`` starts from
    the state the previous call left, detached from its graph, so the
    :class:`~dlbook.mxnet.train.Trainer` can train a language model on
    :class:`SequenceBatches` with truncated backpropagation through time
    (:meth:`reset_state` starts afresh). The block is hybridizable and runs in
    MXNet's NumPy mode whether or not ``npx.set_np()`` was called. The book
    introduces it in the chapter on recurrent neural networks.

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
    stateful : bool, default False
        Keep the last state of a call ``net(X)`` and start the next such call
        from it (detached). It starts from zeros instead on the first call,
        after :meth:`reset_state`, and when the batch size, the device or the
        mode (training inside ``autograd.record()``, or inference) changed
        since the previous call. Use it with sequential partitioning, whose
        rows continue from batch to batch. The Trainer resets the state before
        every validation pass, ``evaluate`` and ``predict`` (as the PyTorch
        layer's model resets when the Trainer switches it to evaluation mode),
        so each of them, and the training epoch after a validation pass, start
        from zeros.

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
    >>> import numpy as onp
    >>> carried = RNNModel(num_outputs=30, num_hiddens=16, vocab_size=30, stateful=True)
    >>> carried.initialize()
    >>> X = mx.np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    >>> halves = mx.np.concatenate([carried(X[:, :2]), carried(X[:, 2:])], axis=1)
    >>> carried.reset_state()
    >>> onp.allclose(halves.asnumpy(), carried(X).asnumpy(), atol=1e-6)  # the halves continue
    True
    """

    def __init__(self, num_outputs, num_hiddens=64, cell="lstm", num_layers=1, vocab_size=None,
                 return_sequences=None, dropout=0.0, stateful=False):
        args = _model._check_rnn_args(num_outputs, num_hiddens, cell, num_layers, vocab_size,
                                     return_sequences, dropout, stateful)
        super().__init__()
        for name, value in args.items():
            setattr(self, name, value)
        with self.name_scope():
            self.rnn = _CELLS[self.cell](self.num_hiddens, num_layers=self.num_layers,
                                         layout="NTC", dropout=self.dropout)
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
                raise _model._input_error(X.shape, self.vocab_size)
            return X
        if X.ndim == 2:
            X = X.reshape(X.shape + (1,))
        if X.ndim != 3:
            raise _model._input_error(X.shape, self.vocab_size)
        known = self.rnn.l0_i2h_weight.shape
        if known and len(known) == 2 and known[1] > 0:
            _model._check_features(X.shape, known[1])
        return X

    def forward(self, X, state=None):
        X = self._check_input(X)
        given = state is not None
        key = (X.shape[0], str(X.ctx), autograd.is_training())
        if not given:
            zeros = functools.partial(self.begin_state, X.shape[0], X.ctx)
            state = self._initial_state(key, zeros) if self.stateful else zeros()
        elif isinstance(state, mx.np.ndarray):
            state = [state]
        expected = len(self.rnn.state_info(1))
        if not isinstance(state, (list, tuple)) or len(state) != expected:
            raise _model._state_error(expected, state)
        outputs, new_state = super().forward(X, list(state))
        if given:
            return outputs, new_state
        if self.stateful:
            self._keep(key, new_state)
        return outputs

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
    _train._check_theta(theta)
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
        if has_value(p):
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
    ids = _train._check_generation(vocab, net.vocab_size, "mxnet", prefix, num_chars,
                                  temperature)
    device = _device_of(net)
    state = None

    def step(inputs):
        nonlocal state
        if state is None:
            state = net.begin_state(1, device=device)
        X = mx.np.array([inputs], dtype="int32", ctx=device)
        Y, state = net(X, state)
        return Y[0, -1].asnumpy()

    with mx.util.np_shape(True), mx.util.np_array(True):
        return _train._generate(step, prefix, ids, num_chars, vocab, temperature, seed)
