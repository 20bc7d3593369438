"""Tools for studying generalization: capacity, weight penalties and the train/validation gap.

* :func:`polynomial_features` and :func:`least_squares` fit polynomials of any
  degree exactly (optionally with an L2 penalty), to show under- and overfitting;
* :func:`weight_values` collects a network's weights for histograms and counts;
* :func:`weight_penalty` and :class:`PenalizedLoss` add an L1 (lasso) and/or L2
  (ridge) penalty to any loss used by :class:`~dlbook.mxnet.train.Trainer`;
* :class:`SoftThreshold` is the proximal step of L1 for plain SGD, which sets
  weights to exactly zero;
* :func:`generalization_gap` reads the train/validation gap from a history.

Conventions: the L1 penalty is ``l1 * sum(|w|)`` and the L2 penalty is
``l2 / 2 * sum(w**2)``, so that the L2 gradient ``l2 * w`` is exactly MXNet's
weight decay ``wd``. Only weights are penalized (parameters whose name ends in
``weight``: dense and convolution kernels), not biases or batch-norm parameters.
"""
import numbers

import mxnet as mx
import numpy as onp
from mxnet import autograd, gluon

from .._checks import check_int, check_same_length, describe, to_numpy
from ..callbacks import Callback
from .metrics import get_loss

__all__ = [
    "polynomial_features",
    "least_squares",
    "weight_values",
    "weight_penalty",
    "PenalizedLoss",
    "SoftThreshold",
    "generalization_gap",
]


def _check_rate(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"Expected `{name}` to be a number >= 0, got {describe(value)}.")
    value = float(value)
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"Expected `{name}` to be a finite number >= 0, got {value}.")
    return value


def polynomial_features(x, degree, include_bias=False):
    """Powers ``x, x**2, ..., x**degree`` of a single input, one column each.

    Parameters
    ----------
    x : array-like, shape (n,) or (n, 1)
        One input value per example.
    degree : int
        Highest power, at least 1.
    include_bias : bool, default False
        Start with a column of ones (``x**0``).

    Returns
    -------
    numpy.ndarray, shape (n, degree) or (n, degree + 1), float64

    Raises
    ------
    ValueError
        If ``x`` has more than one column or ``degree`` < 1.

    See Also
    --------
    least_squares : fit a linear model to these features.

    Examples
    --------
    >>> from dlbook.mxnet.regularization import polynomial_features
    >>> polynomial_features([1.0, 2.0, 3.0], degree=3)
    array([[ 1.,  1.,  1.],
           [ 2.,  4.,  8.],
           [ 3.,  9., 27.]])
    >>> polynomial_features([2.0], degree=2, include_bias=True)
    array([[1., 2., 4.]])
    """
    x = to_numpy("x", x, ndim=(1, 2), dtype="float64")
    if x.ndim == 2:
        if x.shape[1] != 1:
            raise ValueError(
                f"Expected `x` with one input per example, shape (n,) or (n, 1), got shape "
                f"{x.shape}. Pass one column, e.g. X[:, 0]."
            )
        x = x[:, 0]
    degree = check_int("degree", degree, minimum=1)
    start = 0 if include_bias else 1
    return onp.stack([x ** k for k in range(start, degree + 1)], axis=1)


def least_squares(X, y, l2=0.0):
    """Fit ``y ≈ X w + b`` exactly by (ridge-penalized) least squares.

    Minimizes the mean squared error plus an L2 penalty on ``w`` (not on ``b``)::

        mean((y - X w - b)**2) + l2 / 2 * sum(w**2)

    With ``l2=0`` this is ordinary least squares; with ``l2 > 0`` it is ridge
    regression (scikit-learn's ``Ridge(alpha=n * l2 / 2)`` for ``n`` examples).

    Parameters
    ----------
    X : array-like, shape (n, d)
    y : array-like, shape (n,) or (n, 1)
    l2 : float, default 0.0
        Regularization rate of the L2 penalty, >= 0.

    Returns
    -------
    w : numpy.ndarray, shape (d,)
    b : float

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.mxnet.regularization import least_squares
    >>> X = onp.array([[0.0], [1.0], [2.0], [3.0]])
    >>> w, b = least_squares(X, 2 * X[:, 0] + 1)
    >>> onp.round(w, 6).tolist(), round(b, 6)
    ([2.0], 1.0)
    >>> w_ridge, _ = least_squares(X, 2 * X[:, 0] + 1, l2=1.0)
    >>> bool(abs(w_ridge[0]) < abs(w[0]))  # the penalty shrinks the weight
    True
    """
    X = to_numpy("X", X, ndim=2, dtype="float64")
    y = to_numpy("y", y, ndim=(1, 2), dtype="float64")
    if y.ndim == 2:
        if y.shape[1] != 1:
            raise ValueError(f"Expected `y` with one target per example, got shape {y.shape}.")
        y = y[:, 0]
    check_same_length(["X", "y"], [X, y])
    l2 = _check_rate("l2", l2)
    n, d = X.shape
    # The intercept is not penalized: centre X and y, solve for w, then recover b.
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    if l2 > 0:
        # Setting the gradient to zero gives (Xc^T Xc + n*l2/2 I) w = Xc^T yc; the same
        # solution comes from appending sqrt(n*l2/2) I as extra rows, which is better conditioned.
        Xc = onp.vstack([Xc, onp.sqrt(n * l2 / 2) * onp.eye(d)])
        yc = onp.concatenate([yc, onp.zeros(d)])
    w = onp.linalg.lstsq(Xc, yc, rcond=None)[0]
    return w, float(y_mean - x_mean @ w)


def _weights(net, name="net", need_values=True):
    if not isinstance(net, gluon.Block):
        raise TypeError(f"Expected `{name}` to be a gluon Block, got {describe(net)}.")
    params = [p for key, p in net.collect_params().items()
              if key.endswith("weight") and p.grad_req != "null"]
    if not params:
        raise ValueError(f"`{name}` has no weights (parameters named '*weight') to penalize.")
    for p in params if need_values else ():
        if p._data is None:
            raise RuntimeError(
                f"Parameter `{p.name}` of `{name}` has no value yet. Initialize the network "
                "and run one forward pass (or create the Trainer) first."
            )
    return params


def weight_values(net):
    """All weights of a network (no biases, no batch-norm parameters) as one flat array.

    Parameters
    ----------
    net : mxnet.gluon.Block
        An initialized network whose shapes are known.

    Returns
    -------
    numpy.ndarray, shape (number of weights,)

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.models import mlp
    >>> from dlbook.mxnet.regularization import weight_values
    >>> net = mlp(hidden=3, num_outputs=2)
    >>> net.initialize()
    >>> _ = net(mx.np.ones((1, 4)))
    >>> weight_values(net).shape  # 4*3 + 3*2 weights; the 5 biases are left out
    (18,)
    """
    return onp.concatenate([p.data().asnumpy().ravel() for p in _weights(net)])


@mx.util.use_np
def weight_penalty(net, l1=0.0, l2=0.0):
    """The penalty ``l1 * sum(|w|) + l2 / 2 * sum(w**2)`` over a network's weights.

    Computed with MXNet operations, so inside ``autograd.record()`` its gradient
    (``l1 * sign(w) + l2 * w``) flows into the weights.

    Parameters
    ----------
    net : mxnet.gluon.Block
    l1, l2 : float, default 0.0
        Regularization rates of the L1 (lasso) and L2 (ridge) penalties, >= 0.

    Returns
    -------
    mxnet.numpy.ndarray
        A scalar.

    Examples
    --------
    >>> import mxnet as mx
    >>> from mxnet import gluon
    >>> from dlbook.mxnet.regularization import weight_penalty
    >>> layer = gluon.nn.Dense(1, in_units=2)
    >>> layer.initialize()
    >>> layer.weight.set_data(mx.nd.array([[3.0, -4.0]]))
    >>> float(weight_penalty(layer, l1=0.1)), float(weight_penalty(layer, l2=0.1))
    (0.7, 1.25)
    """
    return _penalty(_weights(net), _check_rate("l1", l1), _check_rate("l2", l2))


@mx.util.use_np
def _penalty(params, l1, l2):
    total = 0.0
    for p in params:
        w = p.data()
        if not isinstance(w, mx.np.ndarray):
            w = w.as_np_ndarray()
        if l1:
            total = total + l1 * mx.np.abs(w).sum()
        if l2:
            total = total + (l2 / 2) * (w * w).sum()
    if not isinstance(total, mx.np.ndarray):
        total = mx.np.array(total)
    return total


class PenalizedLoss:
    """A loss plus an L1 and/or L2 penalty on a network's weights, for the Trainer.

    While training (inside ``autograd.record()``) every example's loss gets the
    penalty added, so the mean over a batch is ``mean(loss) + penalty``: the
    regularized objective. Outside training (``evaluate``, validation, ``predict``)
    the loss alone is returned, so validation losses stay comparable between
    penalized and unpenalized models.

    Parameters
    ----------
    loss : str or callable
        A name from :data:`dlbook.mxnet.metrics.LOSSES` or a callable ``loss(y_hat, y)``
        returning one value per example.
    net : mxnet.gluon.Block
        The network whose weights are penalized (the one given to the Trainer).
    l1 : float, default 0.0
        Rate of the L1 (lasso) penalty ``l1 * sum(|w|)``.
    l2 : float, default 0.0
        Rate of the L2 (ridge) penalty ``l2 / 2 * sum(w**2)``; with plain SGD it
        equals ``optimizer_params={'wd': l2}`` applied to the weights only.

    See Also
    --------
    SoftThreshold : the L1 step that produces exact zeros.

    Examples
    --------
    >>> from dlbook.mxnet import Trainer, mlp, load_array, xor_data
    >>> from dlbook.mxnet.regularization import PenalizedLoss, weight_values
    >>> net = mlp(hidden=8, num_outputs=2)
    >>> trainer = Trainer(net, loss=PenalizedLoss("cross_entropy", net, l1=0.01))
    >>> trainer.loss
    PenalizedLoss(loss='cross_entropy', l1=0.01, l2=0.0)
    >>> _ = trainer.fit(load_array(xor_data(), batch_size=4), epochs=2, verbose=False)
    >>> weight_values(net).shape  # 2*8 + 8*2 weights
    (32,)
    """

    def __init__(self, loss, net, l1=0.0, l2=0.0):
        self._name = loss if isinstance(loss, str) else type(loss).__name__
        self.base = get_loss(loss)
        _check_block(net)
        self.net = net
        self.l1 = _check_rate("l1", l1)
        self.l2 = _check_rate("l2", l2)
        self._params = None

    def __call__(self, y_hat, y):
        values = self.base(y_hat, y)
        if autograd.is_recording() and (self.l1 or self.l2):
            if self._params is None:  # shapes are known after the first forward pass
                self._params = _weights(self.net)
            values = values + _penalty(self._params, self.l1, self.l2)
        return values

    def __repr__(self):
        return f"PenalizedLoss(loss={self._name!r}, l1={self.l1}, l2={self.l2})"


def _check_block(net):
    if not isinstance(net, gluon.Block):
        raise TypeError(f"Expected `net` to be a gluon Block, got {describe(net)}.")


@mx.util.use_np
class SoftThreshold(Callback):
    """The proximal L1 step: after every SGD update, move each weight ``lr * l1`` towards 0.

    Plain SGD on ``loss + l1 * sum(|w|)`` uses the subgradient ``l1 * sign(w)``,
    which makes small weights jump back and forth across zero: they get *near*
    zero but rarely *exactly* zero. Proximal gradient descent (ISTA) instead
    takes the ordinary SGD step on the loss and then applies soft thresholding,
    ``w <- sign(w) * max(|w| - lr * l1, 0)``, which sets every weight whose
    magnitude is below ``lr * l1`` to exactly zero, as the lasso solution has.

    Parameters
    ----------
    l1 : float
        Rate of the L1 penalty ``l1 * sum(|w|)``, > 0.

    Raises
    ------
    ValueError
        At the start of training, if the optimizer is not plain SGD (no momentum):
        the step is only the exact proximal step for plain SGD.

    Examples
    --------
    >>> from dlbook.mxnet import Trainer, load_array, synthetic_linear
    >>> from dlbook.mxnet.models import mlp
    >>> from dlbook.mxnet.regularization import SoftThreshold, weight_values
    >>> X, y = synthetic_linear([2.0, 0.0, 0.0, 0.0], 0.0, num_examples=100, noise=0.1)
    >>> net = mlp(hidden=(), num_outputs=1)
    >>> trainer = Trainer(net, loss="mse", optimizer="sgd", learning_rate=0.05)
    >>> _ = trainer.fit(load_array((X, y), batch_size=20), epochs=30, verbose=False,
    ...                 callbacks=[SoftThreshold(l1=0.2)])
    >>> w = weight_values(net)
    >>> round(float(w[0]), 1), int((w == 0).sum())  # the three useless inputs get exactly 0
    (1.9, 3)
    """

    def __init__(self, l1):
        self.l1 = _check_rate("l1", l1)
        if self.l1 == 0:
            raise ValueError("Expected `l1` > 0 for SoftThreshold, got 0.0.")

    def on_train_begin(self, epochs, num_batches):
        opt = self.trainer.optimizer._optimizer
        if type(opt).__name__ != "SGD" or getattr(opt, "momentum", 0.0):
            raise ValueError(
                "SoftThreshold is the proximal L1 step of plain SGD, but the trainer uses "
                f"{type(opt).__name__} (momentum={getattr(opt, 'momentum', None)}). Use "
                "optimizer='sgd' without momentum, or PenalizedLoss(..., l1=...) for other "
                "optimizers."
            )
        # Shapes may still be deferred here; values exist after the first update.
        self._params = _weights(self.trainer.net, need_values=False)

    def on_batch_end(self, batch):
        threshold = self.trainer.optimizer.learning_rate * self.l1
        for p in self._params:
            w = p.data()
            p.set_data(mx.np.sign(w) * mx.np.maximum(mx.np.abs(w) - threshold, 0.0))

    def __repr__(self):
        return f"SoftThreshold(l1={self.l1})"


def generalization_gap(history, metric="loss"):
    """Per-epoch gap between training and validation, positive when validation is worse.

    For a loss (lower is better) the gap is ``val - train``; for accuracy
    (higher is better) it is ``train - val``.

    Parameters
    ----------
    history : dlbook.mxnet.train.History or dict of lists
        Must hold ``metric`` and ``'val_' + metric`` (train with ``validation_data``).
    metric : str, default 'loss'

    Returns
    -------
    numpy.ndarray, shape (epochs,)

    Examples
    --------
    >>> from dlbook.mxnet.regularization import generalization_gap
    >>> h = {"loss": [0.9, 0.3], "val_loss": [1.0, 0.8],
    ...      "accuracy": [0.7, 0.95], "val_accuracy": [0.7, 0.8]}
    >>> generalization_gap(h).round(2).tolist()
    [0.1, 0.5]
    >>> generalization_gap(h, "accuracy").round(2).tolist()
    [0.0, 0.15]
    """
    data = getattr(history, "history", history)
    if not isinstance(data, dict):
        raise TypeError(
            f"Expected a History or a dict of lists as `history`, got {describe(history)}."
        )
    if not isinstance(metric, str):
        raise TypeError(f"Expected `metric` as a str, got {describe(metric)}.")
    for key in (metric, f"val_{metric}"):
        if key not in data:
            raise KeyError(
                f"No `{key}` in the history. Available: {sorted(data)}. Train with "
                "`validation_data` to record validation metrics."
            )
    train = onp.asarray(data[metric], dtype="float64")
    val = onp.asarray(data[f"val_{metric}"], dtype="float64")
    return train - val if "acc" in metric else val - train
