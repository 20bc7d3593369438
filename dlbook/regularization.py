"""Generalization without a framework: polynomial fits, the train/validation gap, penalties.

* :func:`polynomial_features` and :func:`least_squares` fit polynomials of any
  degree exactly (optionally with an L2 penalty), to show under- and overfitting;
* :func:`generalization_gap` reads the train/validation gap from a history.

Each framework layer's ``dl.regularization`` offers these names too, plus the
ones that touch a network's weights: ``weight_values``, ``weight_penalty``,
``PenalizedLoss`` and ``SoftThreshold`` (:mod:`dlbook.mxnet.regularization`,
:mod:`dlbook.torch.regularization`). Their shared logic, checks and messages
live here.

Conventions: the L1 penalty is ``l1 * sum(|w|)`` and the L2 penalty is
``l2 / 2 * sum(w**2)``, so that the L2 gradient ``l2 * w`` is exactly the
weight decay ``wd`` of an optimizer. Only weights are penalized (dense,
convolution, recurrent and embedding kernels), not biases or the scale and
shift of normalization layers.
"""

import numpy as onp

from ._checks import check_bool, check_int, check_number, check_same_length, describe, to_numpy
from .callbacks import Callback

__all__ = [
    "polynomial_features",
    "least_squares",
    "generalization_gap",
]


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
    >>> from dlbook.regularization import polynomial_features
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
    start = 0 if check_bool("include_bias", include_bias) else 1
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
    >>> from dlbook.regularization import least_squares
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
    l2 = check_number("l2", l2, minimum=0)
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


def generalization_gap(history, metric="loss"):
    """Per-epoch gap between training and validation, positive when validation is worse.

    For a loss (lower is better) the gap is ``val - train``; for accuracy
    (higher is better) it is ``train - val``.

    Parameters
    ----------
    history : History or dict of lists
        A layer's ``History`` (returned by ``Trainer.fit``) or its ``.history``.
        Must hold ``metric`` and ``'val_' + metric`` (train with ``validation_data``).
    metric : str, default 'loss'

    Returns
    -------
    numpy.ndarray, shape (epochs,)

    Examples
    --------
    >>> from dlbook.regularization import generalization_gap
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


# ------------------------------------------- shared by the layers' classes
def _no_weights_error(name):
    return ValueError(f"`{name}` has no weights (parameters named '*weight') to penalize.")


def _no_value_error(param, name):
    return RuntimeError(
        f"Parameter `{param}` of `{name}` has no value yet. Initialize the network "
        "and run one forward pass (or create the Trainer) first."
    )


class _PenalizedLoss:
    """The layers' PenalizedLoss: a loss plus an L1 and/or L2 penalty while training.

    A layer's subclass supplies ``_get_loss(loss)``, ``_check_net(net)``,
    ``_training()``, ``_weights(net)`` and ``_penalty(params, l1, l2)``.
    """

    def __init__(self, loss, net, l1=0.0, l2=0.0):
        self._name = loss if isinstance(loss, str) else type(loss).__name__
        self.base = self._get_loss(loss)
        self._check_net(net)
        self.net = net
        self.l1 = check_number("l1", l1, minimum=0)
        self.l2 = check_number("l2", l2, minimum=0)
        self._params = None

    def __call__(self, y_hat, y):
        values = self.base(y_hat, y)
        if (self.l1 or self.l2) and self._training():
            if self._params is None:  # shapes are known after the first forward pass
                self._params = self._weights(self.net)
            values = values + self._penalty(self._params, self.l1, self.l2)
        return values

    def __repr__(self):
        return f"PenalizedLoss(loss={self._name!r}, l1={self.l1}, l2={self.l2})"


class _SoftThreshold(Callback):
    """The layers' SoftThreshold callback: after every SGD update, shrink each weight.

    A layer's subclass supplies ``_momentum()`` (of the trainer's optimizer,
    None if it has none), ``_weights(net, need_values)`` and
    ``_shrink(params, threshold)``; the trainer's ``learning_rate`` (which
    ``lr_schedule`` changes) gives the threshold.
    """

    def __init__(self, l1):
        self.l1 = check_number("l1", l1, above=0, fix="SoftThreshold shrinks the weights by "
                               "learning_rate * l1 after each update.")

    def on_train_begin(self, epochs, num_batches):
        name, momentum = self.trainer._optimizer_name(), self._momentum()
        if name != "SGD" or momentum:
            raise ValueError(
                "SoftThreshold is the proximal L1 step of plain SGD, but the trainer uses "
                f"{name} (momentum={momentum}). Use optimizer='sgd' without momentum, or "
                "PenalizedLoss(..., l1=...) for other optimizers."
            )
        # Shapes may still be deferred here; values exist after the first update.
        self._params = self._weights(self.trainer.net, need_values=False)

    def on_train_batch_end(self, batch, logs=None):
        self._shrink(self._params, self.trainer.learning_rate * self.l1)

    def __repr__(self):
        return f"SoftThreshold(l1={self.l1})"
