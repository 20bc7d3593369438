"""Metrics and losses chosen by name, computed on the device.

A metric's running sums stay on the device as MXNet arrays; reading the result
is the only synchronization, so training loops call it once per epoch.
"""
import mxnet as mx
from mxnet import gluon

from ..metrics import LOSS_NAMES, check_loss_name, loss_type_error, make_metric
from ..metrics import Metric as _Metric
from ._gluon import always_np

__all__ = ["LOSSES", "METRICS", "get_loss", "get_metric", "loss_name", "Metric", "Accuracy",
           "MeanSquaredError", "MeanAbsoluteError"]


@mx.util.use_np
class Metric(_Metric):
    """Base class: accumulate a sum and a count on the device (always in NumPy mode).

    Subclasses define :meth:`batch_values`, one value per example, with MXNet
    operations; the accumulation is :class:`dlbook.metrics.Metric`'s.

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.metrics import Metric
    >>> class AbsError(Metric):
    ...     name = "abs_error"
    ...     def batch_values(self, y_hat, y):
    ...         return mx.np.abs(y_hat.reshape(-1) - y.reshape(-1))
    >>> m = AbsError()
    >>> _ = m.update(mx.np.array([1.0, 2.0]), mx.np.array([1.0, 5.0]))
    >>> m.result()  # mean absolute difference over the two examples
    1.5
    """


class Accuracy(Metric):
    """Fraction of correct predictions.

    With several output columns the prediction is the arg-max (class scores);
    with one output it is ``y_hat > 0`` (a binary logit).

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.metrics import Accuracy
    >>> acc = Accuracy()
    >>> _ = acc.update(mx.np.array([[0.1, 0.9], [0.8, 0.2]]), mx.np.array([1, 1]))
    >>> acc.result()
    0.5
    """

    name = "accuracy"
    greater_is_better = True

    def batch_values(self, y_hat, y):
        if y_hat.ndim == 2 and y_hat.shape[1] > 1:
            pred = y_hat.argmax(axis=1)
        else:
            pred = y_hat.reshape(-1) > 0
        # As few operators as possible: each costs ~25 us of dispatch, and this runs for
        # every batch (eight took 270 us, a quarter of a softmax-regression batch).
        if y.ndim != 1:
            y = y.reshape(-1)
        if pred.dtype != y.dtype:
            pred = pred.astype(y.dtype)
        return pred == y


class MeanSquaredError(Metric):
    """Mean of ``(y_hat - y)**2`` over examples and outputs.

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.metrics import MeanSquaredError
    >>> m = MeanSquaredError()
    >>> _ = m.update(mx.np.array([[1.0], [3.0]]), mx.np.array([[0.0], [1.0]]))
    >>> m.result()  # (1 + 4) / 2
    2.5
    """

    name = "mse"
    greater_is_better = False

    def batch_values(self, y_hat, y):
        diff = y_hat - y.reshape(y_hat.shape).astype(y_hat.dtype)
        return (diff ** 2).reshape(y_hat.shape[0], -1).mean(axis=1)


class MeanAbsoluteError(Metric):
    """Mean of ``|y_hat - y|`` over examples and outputs.

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.metrics import MeanAbsoluteError
    >>> m = MeanAbsoluteError()
    >>> _ = m.update(mx.np.array([[1.0], [3.0]]), mx.np.array([[0.0], [1.0]]))
    >>> m.result()  # (1 + 2) / 2
    1.5
    """

    name = "mae"
    greater_is_better = False

    def batch_values(self, y_hat, y):
        diff = y_hat - y.reshape(y_hat.shape).astype(y_hat.dtype)
        return mx.np.abs(diff).reshape(y_hat.shape[0], -1).mean(axis=1)


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
    >>> from dlbook.mxnet.metrics import get_metric
    >>> get_metric("accuracy")
    Accuracy()
    """
    return make_metric(metric, METRICS)


def _huber_forward(self, F, pred, label, sample_weight=None):
    """HuberLoss.hybrid_forward with NumPy-mode operators (MXNet 1.9.1's uses legacy ones)."""
    from mxnet.gluon.loss import _apply_weighting, _reshape_like

    diff = F.np.abs(_reshape_like(F, label, pred) - pred)
    loss = F.np.where(diff > self._rho, diff - 0.5 * self._rho,
                      (0.5 / self._rho) * F.np.square(diff))
    loss = _apply_weighting(F, loss, self._weight, sample_weight)
    if F is mx.ndarray:
        return F.np.mean(loss, axis=tuple(range(1, loss.ndim)))
    return F.npx.batch_flatten(loss).mean(axis=1)


def _loss_table():
    return {
        "cross_entropy": lambda: always_np(gluon.loss.SoftmaxCrossEntropyLoss)(),
        "binary_cross_entropy": lambda: always_np(gluon.loss.SigmoidBinaryCrossEntropyLoss)(),
        # Gluon's L2Loss is (y_hat - y)**2 / 2; weight 2 gives the usual MSE.
        "mse": lambda: always_np(gluon.loss.L2Loss)(weight=2.0),
        "mae": lambda: always_np(gluon.loss.L1Loss)(),
        "huber": lambda: always_np(gluon.loss.HuberLoss, hybrid_forward=_huber_forward)(),
    }


#: Loss names accepted by :func:`get_loss` and the trainer.
LOSSES = LOSS_NAMES


def get_loss(loss):
    """Return a Gluon loss block for a name in :data:`LOSSES`.

    ``cross_entropy`` expects class scores (logits) and integer labels;
    ``binary_cross_entropy`` one logit per example and 0/1 labels. A Gluon
    ``Loss`` (or any callable ``loss(y_hat, y)`` returning one value per
    example) is passed through.

    Parameters
    ----------
    loss : str or callable
        A name in :data:`LOSSES` (a new Gluon loss block; an unknown name raises
        ValueError and lists the names) or a callable ``loss(y_hat, y)``,
        returned as it is. Anything else raises TypeError.

    Returns
    -------
    mxnet.gluon.loss.Loss or callable

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.metrics import get_loss
    >>> mse = get_loss("mse")
    >>> float(mse(mx.np.array([[3.0]]), mx.np.array([[1.0]]))[0])
    4.0
    """
    if isinstance(loss, str):
        return _loss_table()[check_loss_name(loss)]()
    if callable(loss):
        return loss
    raise loss_type_error(loss)


def loss_name(loss):
    """The name in :data:`LOSSES` of what ``loss`` computes, or None for a loss of its own.

    The Trainer checks the targets against it before the first update (class
    labels for ``'cross_entropy'``, one 0/1 label per output for
    ``'binary_cross_entropy'``, ...). Gluon's own loss blocks are recognized
    too; a ``SoftmaxCrossEntropyLoss(sparse_label=False)`` takes
    probabilities, not class labels, and is not.

    Parameters
    ----------
    loss : object
        A loss, e.g. what :func:`get_loss` returns or a Gluon loss block; any
        other object (a function of its own) is allowed and gives None.

    Returns
    -------
    str or None

    Examples
    --------
    >>> from mxnet import gluon
    >>> from dlbook.mxnet.metrics import get_loss, loss_name
    >>> loss_name(get_loss("cross_entropy")), loss_name(gluon.loss.L1Loss()), loss_name(abs)
    ('cross_entropy', 'mae', None)
    """
    if isinstance(loss, gluon.loss.SoftmaxCrossEntropyLoss):
        return "cross_entropy" if getattr(loss, "_sparse_label", True) else None
    for cls, name in ((gluon.loss.SigmoidBinaryCrossEntropyLoss, "binary_cross_entropy"),
                      (gluon.loss.L2Loss, "mse"), (gluon.loss.L1Loss, "mae"),
                      (gluon.loss.HuberLoss, "huber")):
        if isinstance(loss, cls):
            return name
    return None
