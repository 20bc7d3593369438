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

__all__ = ["METRIC_NAMES", "LOSS_NAMES", "REGRESSION_LOSSES", "Metric", "FunctionMetric",
           "accuracy", "mean_squared_error", "mean_absolute_error", "perplexity"]

#: Metric names both layers' ``get_metric`` accept (and ``Trainer(metrics=...)``).
METRIC_NAMES = ("accuracy", "mse", "mae")

#: Loss names both layers' ``get_loss`` accept; each loss gives one value per example.
LOSS_NAMES = ("cross_entropy", "binary_cross_entropy", "mse", "mae", "huber")

#: The losses of :data:`LOSS_NAMES` whose targets are real values, not class labels.
REGRESSION_LOSSES = ("mse", "mae", "huber")


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
    #: True if larger is better (accuracy), False if smaller is (errors), None if unknown;
    #: ``EarlyStopping(mode='auto')`` and ``ModelCheckpoint`` read it.
    greater_is_better = None

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


def _host(array):
    """A layer's array (MXNet, PyTorch, NumPy) as a NumPy array on the host."""
    if hasattr(array, "asnumpy"):
        return array.asnumpy()
    if hasattr(array, "detach"):
        return array.detach().cpu().numpy()
    return onp.asarray(array)


class _BatchValue:
    """A function metric's value for one batch, computed only when read (``.item()``)."""

    __slots__ = ("_metric", "_y_hat", "_y")

    def __init__(self, metric, y_hat, y):
        self._metric, self._y_hat, self._y = metric, y_hat, y

    def item(self):  # BatchLogs divides by the batch size
        return self._metric._call(_host(self._y), _host(self._y_hat)) * int(self._y.shape[0])


class FunctionMetric(Metric):
    """A metric from a function ``fn(y_true, y_pred)`` of NumPy arrays, in both layers alike.

    ``Trainer(metrics=[fn])`` wraps a plain function in it. The outputs and
    targets of an epoch stay on the device; :meth:`result` copies them to the
    host once and calls ``fn`` on all examples together, so a metric that is
    not a mean over examples (an F1 score, a median) is exact. ``y_true`` is
    the targets as the loader holds them; ``y_pred`` is the network's outputs,
    as ``Trainer.predict`` returns them (class scores or logits, not
    probabilities: take ``y_pred.argmax(axis=1)`` for classes). ``fn`` returns
    a number, or one value per example (their mean is the result).

    Parameters
    ----------
    fn : callable
        ``fn(y_true, y_pred) -> float``.
    name : str, optional
        The key in the logs and the history (default: ``fn.__name__``).
    greater_is_better : bool, optional
        Whether larger is better, for ``EarlyStopping(mode='auto')``.

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.metrics import FunctionMetric
    >>> def error_rate(y_true, y_pred):
    ...     return float((y_pred.argmax(axis=1) != y_true).mean())
    >>> m = FunctionMetric(error_rate)
    >>> _ = m.update(onp.array([[0.1, 0.9], [0.8, 0.2]]), onp.array([1, 1]))
    >>> _ = m.update(onp.array([[0.3, 0.7]]), onp.array([0]))
    >>> m.name, round(m.result(), 4)  # 2 of 3 wrong, computed over all 3 at once
    ('error_rate', 0.6667)
    """

    def __init__(self, fn, name=None, greater_is_better=None):
        if not callable(fn):
            raise TypeError(f"Expected `fn` as a function fn(y_true, y_pred), got {describe(fn)}.")
        name = getattr(fn, "__name__", None) if name is None else name
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(
                f"A metric function needs a name for the logs, got {name!r}. Define it with "
                "`def` (its name becomes the key) or pass FunctionMetric(fn, name='...').")
        self.fn, self.name, self.greater_is_better = fn, name, greater_is_better
        super().__init__()

    def reset(self):
        super().reset()
        self._outputs, self._targets = [], []

    def update(self, y_hat, y):
        """Keep the batch (on the device, nothing is read); return its value, computed when read."""
        self._outputs.append(y_hat)
        self._targets.append(y)
        self._count += int(y.shape[0])
        return _BatchValue(self, y_hat, y)

    def _call(self, y_true, y_pred):
        value = onp.asarray(self.fn(y_true, y_pred), dtype="float64")
        if value.ndim == 1 and len(value) == len(y_true):
            value = value.mean()
        if value.size != 1:
            raise TypeError(
                f"Expected the metric function `{self.name}` to return a number or one value per "
                f"example, got an array of shape {value.shape}.")
        return float(value.reshape(()))

    def result(self):
        if self._count == 0:
            return float("nan")
        return self._call(onp.concatenate([_host(t) for t in self._targets]),
                          onp.concatenate([_host(o) for o in self._outputs]))

    def __repr__(self):
        return f"FunctionMetric({self.name})"


def check_metric_name(metric):
    """Return ``metric`` if it is a name in :data:`METRIC_NAMES`; the error lists them."""
    return check_choice("metrics", metric, set(METRIC_NAMES))


def make_metric(metric, table):
    """What each layer's ``get_metric`` does, with ``table`` its metric classes by name.

    A name becomes a fresh metric of ``table``, a Metric passes through, a
    Metric class is instantiated and a plain function becomes a
    :class:`FunctionMetric`; anything else is a TypeError that says what a
    metric must be.

    >>> make_metric(3, {})
    Traceback (most recent call last):
    ...
    TypeError: Expected each of `metrics` as a name ('accuracy', 'mae', 'mse'), a dlbook.metrics.Metric object or a function f(y_true, y_pred) -> float, got 3 (int).
    """
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, str):
        return table[check_metric_name(metric)]()
    if isinstance(metric, type) and issubclass(metric, Metric):
        return metric()
    if callable(metric) and not isinstance(metric, type):
        return FunctionMetric(metric)
    names = ", ".join(repr(n) for n in sorted(METRIC_NAMES))
    raise TypeError(
        f"Expected each of `metrics` as a name ({names}), a dlbook.metrics.Metric object or a "
        f"function f(y_true, y_pred) -> float, got {describe(metric)}.")


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


def _targets_like(y_true, y_pred):
    """``y_true`` reshaped like ``y_pred``, or a ValueError naming both shapes."""
    if y_true.size != y_pred.size:
        raise ValueError(
            f"Expected `y_true` with as many values as `y_pred` (one target per prediction), "
            f"got `y_true` of shape {y_true.shape} and `y_pred` of shape {y_pred.shape}. Pass "
            f"targets of shape {y_pred.shape}, or predictions with one output per target.")
    return y_true.reshape(y_pred.shape)


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

    Parameters
    ----------
    y_true : array-like, shape (n, ...)
        Targets: ``n`` examples with as many values in all as ``y_pred`` (else
        ValueError, naming both shapes).
    y_pred : array-like, shape (n, ...)
        Predictions, with the same number of examples (else ValueError).

    Returns
    -------
    float

    Examples
    --------
    >>> from dlbook.metrics import mean_squared_error
    >>> mean_squared_error([0.0, 1.0], [[1.0], [3.0]])
    2.5
    """
    y_true, y_pred = _pair(y_true, y_pred, "y_pred")
    diff = y_pred.astype("float64") - _targets_like(y_true, y_pred)
    return float(onp.mean(diff ** 2))


def mean_absolute_error(y_true, y_pred):
    """Mean of ``|y_pred - y_true|`` over examples and outputs (``y_true`` reshaped like ``y_pred``).

    Parameters
    ----------
    y_true : array-like, shape (n, ...)
        Targets: ``n`` examples with as many values in all as ``y_pred`` (else
        ValueError, naming both shapes).
    y_pred : array-like, shape (n, ...)
        Predictions, with the same number of examples (else ValueError).

    Returns
    -------
    float

    Examples
    --------
    >>> from dlbook.metrics import mean_absolute_error
    >>> mean_absolute_error([0.0, 1.0], [[1.0], [3.0]])
    1.5
    """
    y_true, y_pred = _pair(y_true, y_pred, "y_pred")
    return float(onp.mean(onp.abs(y_pred.astype("float64") - _targets_like(y_true, y_pred))))


def perplexity(y_true, scores):
    """Perplexity of a language model: ``exp`` of the mean cross-entropy of ``scores`` at ``y_true``.

    :math:`\\mathrm{PP} = \\exp\\big(-\\frac{1}{N}\\sum_t \\log \\mathrm{softmax}(\\mathbf{o}_t)_{y_t}\\big)`:
    a model that spreads its probability evenly over ``V`` tokens has
    perplexity ``V``, one that is always sure and right has 1. It is
    ``exp(loss)`` of the ``'cross_entropy'`` loss averaged over all tokens.
    The book introduces perplexity in the chapter on recurrent neural
    networks and uses this function in the chapter on attention and the transformer.

    Parameters
    ----------
    y_true : array-like of int, shape (...)
        The tokens that came next, e.g. ``(batch, steps)``.
    scores : array-like, shape (..., V)
        The model's scores (logits) for every position, classes on the last axis.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes do not match or a label is outside ``[0, V - 1]``.

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.metrics import perplexity
    >>> perplexity([[0, 1, 2]], onp.zeros((1, 3, 4)))  # uniform over 4 tokens
    4.0
    >>> round(perplexity([1, 0], [[0.0, 10.0], [10.0, 0.0]]), 4)  # sure and right
    1.0
    """
    y_true = to_numpy("y_true", y_true, allow_empty=False)
    scores = to_numpy("scores", scores).astype("float64")
    if scores.ndim < 1 or scores.shape[:-1] != y_true.shape:
        raise ValueError(
            f"Expected `scores` of shape {y_true.shape + ('V',)} (the shape of `y_true` plus "
            f"the classes), got shape {scores.shape}.")
    if not onp.all(y_true == onp.round(y_true)):
        raise ValueError("Expected integer token indices in `y_true`, got fractional values.")
    labels = y_true.astype("int64").reshape(-1)
    num_classes = scores.shape[-1]
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(
            f"Expected `y_true` in [0, {num_classes - 1}] for scores over {num_classes} classes, "
            f"got values from {labels.min()} to {labels.max()}.")
    z = scores.reshape(-1, num_classes)
    z = z - z.max(axis=1, keepdims=True)
    log_p = z[onp.arange(len(labels)), labels] - onp.log(onp.exp(z).sum(axis=1))
    return float(onp.exp(-log_p.mean()))
