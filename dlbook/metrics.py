"""Metrics and losses: their names, the running mean both layers share, and NumPy versions.

Each framework layer computes its metrics on the device (``dlbook.mxnet.metrics``,
``dlbook.torch.metrics``): a :class:`Metric` adds up one value per example
without waiting for the device, and reading :meth:`Metric.result` is the one
synchronization, so a training loop reads it once per epoch. This module holds
what does not depend on the framework: the accumulation, the names accepted
by ``get_metric`` and ``get_loss`` (with the same error messages in both
layers), and the same metrics on NumPy arrays, e.g. for the predictions that
``Trainer.predict`` returns.
"""
import numpy as onp

from ._checks import check_choice, describe, to_numpy

__all__ = ["METRIC_NAMES", "LOSS_NAMES", "Metric", "accuracy", "mean_squared_error",
           "mean_absolute_error"]

#: Metric names both layers' ``get_metric`` accept (and ``Trainer(metrics=...)``).
METRIC_NAMES = ("accuracy", "mse", "mae")

#: Loss names both layers' ``get_loss`` accept; each loss gives one value per example.
LOSS_NAMES = ("cross_entropy", "binary_cross_entropy", "mse", "mae", "huber")


class Metric:
    """Base class: a running mean of one value per example, kept on the device.

    A layer's metric defines :meth:`batch_values` with that framework's
    operations; adding up the batches and reading the mean are written here
    once, with nothing but ``+``, ``.sum()`` and ``.item()``, which MXNet and
    PyTorch arrays share.

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.metrics import Metric
    >>> class AbsError(Metric):
    ...     name = "abs_error"
    ...     def batch_values(self, y_hat, y):
    ...         return onp.abs(y_hat.reshape(-1) - y.reshape(-1))
    >>> m = AbsError()
    >>> m.update(onp.array([1.0, 2.0]), onp.array([1.0, 5.0]))  # returns the batch's sum
    3.0
    >>> m.result()  # mean absolute difference over the two examples
    1.5
    """

    name = "metric"

    def __init__(self):
        self.reset()

    def reset(self):
        """Forget everything accumulated."""
        self._sum = None
        self._count = 0

    def batch_values(self, y_hat, y):  # pragma: no cover - abstract
        """Per-example values for one batch (an array of the layer's framework)."""
        raise NotImplementedError

    def update(self, y_hat, y):
        """Add one batch without synchronizing with the device; return the batch's sum (on the device)."""
        values = self.batch_values(y_hat, y).sum()
        self._sum = values if self._sum is None else self._sum + values
        self._count += int(y.shape[0])
        return values

    def result(self):
        """The mean over everything seen (synchronizes once)."""
        if self._count == 0:
            return float("nan")
        return float(self._sum.item()) / self._count

    def __repr__(self):
        return f"{type(self).__name__}()"


def check_metric_name(metric):
    """Return ``metric`` if it is a name in :data:`METRIC_NAMES`; the error lists them."""
    return check_choice("metrics", metric, set(METRIC_NAMES))


def check_loss_name(loss):
    """Return ``loss`` if it is a name in :data:`LOSS_NAMES`; the error lists them."""
    return check_choice("loss", loss, set(LOSS_NAMES))


def loss_type_error(loss):
    """The TypeError of both layers' ``get_loss`` for something neither a name nor callable."""
    return TypeError(f"Expected `loss` as a name or a callable, got {describe(loss)}.")


def _pair(y_true, y_pred, pred_name):
    y_true = to_numpy("y_true", y_true)
    y_pred = to_numpy(pred_name, y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"Expected the same number of examples, but `y_true` has {len(y_true)} and "
            f"`{pred_name}` has {len(y_pred)}.")
    return y_true, y_pred


def accuracy(y_true, scores):
    """Fraction of correct predictions, as the layers' ``Accuracy`` computes it.

    Parameters
    ----------
    y_true : array-like, shape (n,)
        Class labels (0/1 for a binary logit).
    scores : array-like, shape (n, k) or (n,) or (n, 1)
        Class scores (the prediction is the arg-max) or, with one column, a
        binary logit (the prediction is ``scores > 0``).

    Returns
    -------
    float

    Examples
    --------
    >>> from dlbook.metrics import accuracy
    >>> accuracy([1, 1], [[0.1, 0.9], [0.8, 0.2]])
    0.5
    >>> accuracy([1, 0, 0], [2.0, -1.0, 0.5])
    0.6666666666666666
    """
    y_true, scores = _pair(y_true, scores, "scores")
    if scores.ndim == 2 and scores.shape[1] > 1:
        pred = scores.argmax(axis=1)
    else:
        pred = scores.reshape(len(scores)) > 0
    return float(onp.mean(pred.astype("float64") == y_true.reshape(len(y_true)).astype("float64")))


def mean_squared_error(y_true, y_pred):
    """Mean of ``(y_pred - y_true)**2`` over examples and outputs (``y_true`` reshaped like ``y_pred``).

    Examples
    --------
    >>> from dlbook.metrics import mean_squared_error
    >>> mean_squared_error([0.0, 1.0], [[1.0], [3.0]])
    2.5
    """
    y_true, y_pred = _pair(y_true, y_pred, "y_pred")
    diff = y_pred.astype("float64") - y_true.reshape(y_pred.shape)
    return float(onp.mean(diff ** 2))


def mean_absolute_error(y_true, y_pred):
    """Mean of ``|y_pred - y_true|`` over examples and outputs (``y_true`` reshaped like ``y_pred``).

    Examples
    --------
    >>> from dlbook.metrics import mean_absolute_error
    >>> mean_absolute_error([0.0, 1.0], [[1.0], [3.0]])
    1.5
    """
    y_true, y_pred = _pair(y_true, y_pred, "y_pred")
    return float(onp.mean(onp.abs(y_pred.astype("float64") - y_true.reshape(y_pred.shape))))
