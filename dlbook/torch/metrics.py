"""Metrics and losses chosen by name, computed on the device (PyTorch).

The same names and semantics as :mod:`dlbook.mxnet.metrics`: every loss gives
one value per example (the mean over that example's outputs), so
``get_loss('mse')`` is the mean squared error and ``get_loss('cross_entropy')``
takes class scores (logits) along the last axis and integer labels. A
metric's running sums stay on the device as tensors; reading the result is
the only synchronization (:class:`dlbook.metrics.Metric`).
"""
import torch
import torch.nn.functional as F
from torch import nn

from ..metrics import LOSS_NAMES, check_loss_name, loss_type_error, make_metric
from ..metrics import Metric as _Metric

__all__ = ["LOSSES", "METRICS", "get_loss", "get_metric", "loss_name", "Metric", "Accuracy",
           "MeanSquaredError", "MeanAbsoluteError", "SoftmaxCrossEntropyLoss",
           "SigmoidBinaryCrossEntropyLoss", "L2Loss", "L1Loss", "HuberLoss"]


class Metric(_Metric):
    """Base class: accumulate a sum and a count on the device, without gradients.

    Subclasses define :meth:`batch_values`, one value per example, with torch
    operations; the accumulation is :class:`dlbook.metrics.Metric`'s.

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.metrics import Metric
    >>> class AbsError(Metric):
    ...     name = "abs_error"
    ...     def batch_values(self, y_hat, y):
    ...         return (y_hat.reshape(-1) - y.reshape(-1)).abs()
    >>> m = AbsError()
    >>> _ = m.update(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 5.0]))
    >>> m.result()  # mean absolute difference over the two examples
    1.5
    """

    def update(self, y_hat, y):
        with torch.no_grad():
            return super().update(y_hat, y)


def _like(y, y_hat):
    """Targets with the outputs' shape and dtype (as Gluon's losses reshape them)."""
    return y.reshape(y_hat.shape).to(y_hat.dtype)


def _per_example(values):
    """The mean of each example's values (all axes but the first)."""
    return values.reshape(values.shape[0], -1).mean(dim=1)


class Accuracy(Metric):
    """Fraction of correct predictions.

    With several output columns the prediction is the arg-max (class scores);
    with one output it is ``y_hat > 0`` (a binary logit).

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.metrics import Accuracy
    >>> acc = Accuracy()
    >>> _ = acc.update(torch.tensor([[0.1, 0.9], [0.8, 0.2]]), torch.tensor([1, 1]))
    >>> acc.result()
    0.5
    """

    name = "accuracy"
    greater_is_better = True

    def batch_values(self, y_hat, y):
        if y_hat.ndim == 2 and y_hat.shape[1] > 1:
            pred = y_hat.argmax(dim=1)
        else:
            pred = y_hat.reshape(-1) > 0
        if y.ndim != 1:  # as few operators per batch as possible
            y = y.reshape(-1)
        if pred.dtype != y.dtype:
            pred = pred.to(y.dtype)
        return pred == y


class MeanSquaredError(Metric):
    """Mean of ``(y_hat - y)**2`` over examples and outputs.

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.metrics import MeanSquaredError
    >>> m = MeanSquaredError()
    >>> _ = m.update(torch.tensor([[1.0], [3.0]]), torch.tensor([[0.0], [1.0]]))
    >>> m.result()  # (1 + 4) / 2
    2.5
    """

    name = "mse"
    greater_is_better = False

    def batch_values(self, y_hat, y):
        return _per_example((y_hat - _like(y, y_hat)) ** 2)


class MeanAbsoluteError(Metric):
    """Mean of ``|y_hat - y|`` over examples and outputs.

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.metrics import MeanAbsoluteError
    >>> m = MeanAbsoluteError()
    >>> _ = m.update(torch.tensor([[1.0], [3.0]]), torch.tensor([[0.0], [1.0]]))
    >>> m.result()  # (1 + 2) / 2
    1.5
    """

    name = "mae"
    greater_is_better = False

    def batch_values(self, y_hat, y):
        return _per_example((y_hat - _like(y, y_hat)).abs())


#: Metric classes by name (the names of :data:`dlbook.metrics.METRIC_NAMES`).
METRICS = {"accuracy": Accuracy, "mse": MeanSquaredError, "mae": MeanAbsoluteError}


def get_metric(metric):
    """Return a fresh metric for a name in :data:`METRICS`; a Metric passes through.

    A plain function ``f(y_true, y_pred) -> float`` of NumPy arrays becomes a
    :class:`dlbook.metrics.FunctionMetric`, computed over each epoch's examples at once.

    Parameters
    ----------
    metric : str, Metric, Metric subclass or callable
        A name in :data:`METRICS` (a fresh metric; an unknown name raises
        ValueError and lists the names), a :class:`dlbook.metrics.Metric`
        (returned as it is), a Metric class (instantiated) or a function
        ``f(y_true, y_pred) -> float``. Anything else raises TypeError.

    Returns
    -------
    dlbook.metrics.Metric

    Examples
    --------
    >>> from dlbook.torch.metrics import get_metric
    >>> get_metric("accuracy")
    Accuracy()
    """
    return make_metric(metric, METRICS)


# ------------------------------------------------------------------ losses
class SoftmaxCrossEntropyLoss(nn.Module):
    """Cross-entropy of class scores (logits, classes on the last axis) and integer labels.

    One value per example: for outputs of shape ``(n, k)`` and labels ``(n,)``
    the loss of each example; for ``(n, T, k)`` and ``(n, T)`` (a sequence) the
    mean over its ``T`` positions, as Gluon's ``SoftmaxCrossEntropyLoss``.

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.metrics import SoftmaxCrossEntropyLoss
    >>> loss = SoftmaxCrossEntropyLoss()
    >>> loss(torch.tensor([[0.0, 0.0]]), torch.tensor([1])).tolist()  # log 2
    [0.6931471824645996]
    """

    def forward(self, y_hat, y):
        if y.dtype != torch.int64:
            y = y.long()
        if y_hat.ndim == 2:  # the common case, without reshapes
            return F.cross_entropy(y_hat, y.reshape(-1) if y.ndim > 1 else y, reduction="none")
        k = y_hat.shape[-1]
        values = F.cross_entropy(y_hat.reshape(-1, k), y.reshape(-1), reduction="none")
        return values.reshape(y_hat.shape[0], -1).mean(dim=1)


class SigmoidBinaryCrossEntropyLoss(nn.Module):
    """Binary cross-entropy of logits and 0/1 labels (reshaped like the logits), per example.

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.metrics import SigmoidBinaryCrossEntropyLoss
    >>> SigmoidBinaryCrossEntropyLoss()(torch.tensor([[0.0]]), torch.tensor([1])).tolist()
    [0.6931471824645996]
    """

    def forward(self, y_hat, y):
        return _per_example(F.binary_cross_entropy_with_logits(y_hat, _like(y, y_hat),
                                                               reduction="none"))


class L2Loss(nn.Module):
    """The squared error ``(y_hat - y)**2``, averaged over each example's outputs (``'mse'``).

    MXNet's ``get_loss('mse')`` is Gluon's ``L2Loss`` with weight 2 (Gluon's
    halves the square); both layers give the plain mean squared error.

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.metrics import L2Loss
    >>> L2Loss()(torch.tensor([[3.0]]), torch.tensor([[1.0]])).tolist()
    [4.0]
    """

    def forward(self, y_hat, y):
        return _per_example((y_hat - _like(y, y_hat)) ** 2)


class L1Loss(nn.Module):
    """The absolute error ``|y_hat - y|``, averaged over each example's outputs (``'mae'``).

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.metrics import L1Loss
    >>> L1Loss()(torch.tensor([[3.0]]), torch.tensor([[1.0]])).tolist()
    [2.0]
    """

    def forward(self, y_hat, y):
        return _per_example((y_hat - _like(y, y_hat)).abs())


class HuberLoss(nn.Module):
    """Huber's loss with ``rho = 1``: ``d - 1/2`` for ``d = |y_hat - y| > 1``, else ``d**2 / 2``.

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.metrics import HuberLoss
    >>> HuberLoss()(torch.tensor([[3.0], [0.5]]), torch.tensor([[1.0], [0.0]])).tolist()
    [1.5, 0.125]
    """

    rho = 1.0

    def forward(self, y_hat, y):
        d = (y_hat - _like(y, y_hat)).abs()
        return _per_example(torch.where(d > self.rho, d - 0.5 * self.rho, (0.5 / self.rho) * d ** 2))


_LOSS_CLASSES = {
    "cross_entropy": SoftmaxCrossEntropyLoss,
    "binary_cross_entropy": SigmoidBinaryCrossEntropyLoss,
    "mse": L2Loss,
    "mae": L1Loss,
    "huber": HuberLoss,
}

#: Loss names accepted by :func:`get_loss` and the trainer.
LOSSES = LOSS_NAMES


def get_loss(loss):
    """Return a loss module for a name in :data:`LOSSES`.

    ``cross_entropy`` expects class scores (logits) and integer labels;
    ``binary_cross_entropy`` one logit per example and 0/1 labels. Any
    callable ``loss(y_hat, y)`` returning one value per example is passed
    through.

    Parameters
    ----------
    loss : str or callable
        A name in :data:`LOSSES` (a new loss module; an unknown name raises
        ValueError and lists the names) or a callable ``loss(y_hat, y)``,
        returned as it is. Anything else raises TypeError.

    Returns
    -------
    torch.nn.Module or callable

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.metrics import get_loss
    >>> mse = get_loss("mse")
    >>> float(mse(torch.tensor([[3.0]]), torch.tensor([[1.0]]))[0])
    4.0
    """
    if isinstance(loss, str):
        return _LOSS_CLASSES[check_loss_name(loss)]()
    if callable(loss):
        return loss
    raise loss_type_error(loss)


def loss_name(loss):
    """The name in :data:`LOSSES` of what ``loss`` computes, or None for a loss of its own.

    The Trainer checks the targets against it before the first update (class
    labels for ``'cross_entropy'``, one 0/1 label per output for
    ``'binary_cross_entropy'``, ...). This layer's loss modules are recognized;
    any other callable is a loss of its own.

    Parameters
    ----------
    loss : object
        A loss, e.g. what :func:`get_loss` returns or one of this layer's loss
        modules; any other object (a function of its own) is allowed and gives
        None.

    Returns
    -------
    str or None

    Examples
    --------
    >>> from dlbook.torch.metrics import L1Loss, get_loss, loss_name
    >>> loss_name(get_loss("cross_entropy")), loss_name(L1Loss()), loss_name(abs)
    ('cross_entropy', 'mae', None)
    """
    for name, cls in _LOSS_CLASSES.items():
        if isinstance(loss, cls):
            return name
    return None
