"""The training loop, written once for both frameworks: ``fit``, ``evaluate``, ``predict``.

:class:`BaseTrainer` holds everything of a trainer that does not depend on
the framework: epochs and batches, callbacks and their events, the history,
progress display (``verbose``), validation, the NaN/inf check, learning-rate
schedules, argument checks and error messages. A framework layer's
``Trainer`` (:class:`dlbook.mxnet.train.Trainer`,
:class:`dlbook.torch.train.Trainer`) subclasses it and supplies the step, the
tensors and the devices, in the spirit of Keras 3, whose ``Trainer`` runs
the loop and whose backends supply ``train_step``.

What the layer supplies
-----------------------
``train_step(batch)``
    One update: forward, loss, backward, optimizer step. Returns
    ``(y_hat, loss)``: the outputs and one loss value per example, on the
    device (the loop adds them up there, so nothing waits for the device).
``_no_grad()``
    A context without gradient recording (``test_step`` and ``predict_step``,
    written here, run in it).
``_to_device(array)``, ``_detach(array)``, ``_outputs_to_numpy(list)``
    Tensors: move one to ``self.device``; cut it from the autograd graph;
    concatenate predictions and copy them to the host once.
``_set_training(flag)``
    Training or inference mode of the network (dropout, batch norm); returns
    the previous mode so that ``evaluate`` inside ``fit`` (e.g. from a
    callback) leaves training as it found it.
``_build(X)``
    What needs a first batch ``X`` (PyTorch's lazy layers, the optimizer
    over their parameters); called once, before the first update.

Also ``_loss_name()`` (the loss's name, for :func:`check_targets`),
``_shard(loader)``, ``learning_rate``, ``set_learning_rate(lr)``,
``_optimizer_name()``, ``_copy_weights()``,
``_restore_weights(copy)`` and the checkpoint hooks of :mod:`dlbook.checkpoint`.
Class attributes: ``_ArrayLoader`` (the layer's loader) and ``_shape_errors``
(what the framework raises for an input of the wrong shape).

The host waits for the device once per epoch (reading the summed loss) plus
once per metric; the per-batch logs that callbacks receive convert a value
only when one is read (:class:`BatchLogs`).
"""
import copy
import math
import numbers
import time
from collections.abc import Mapping

import numpy as onp

from . import callbacks as _callbacks
from ._checks import check_choice, check_fraction, check_int, check_number, describe
from .callbacks import (
    HOOKS,
    Callback,
    History,
    LearningRateScheduler,
    LivePlot,
    ProgressBar,
    TerminateOnNaN,
    _takes_logs,
    overrides,
)
from .data import BaseArrayLoader
from .metrics import REGRESSION_LOSSES, Metric, _host
from .schedules import get_schedule

__all__ = ["BaseTrainer", "BatchLogs", "CallbackList", "History", "INITIALIZERS", "check_targets"]

#: Examples per batch when ``fit``, ``evaluate`` get arrays without ``batch_size`` (as Keras).
DEFAULT_BATCH_SIZE = 32

#: Initializer names both layers' ``Trainer(initializer=...)`` accept: Xavier/Glorot uniform
#: (the default), He/Kaiming normal (fan-in, for ReLU), N(0, 0.01), U(-0.07, 0.07), zeros, ones.
INITIALIZERS = ("xavier", "he", "normal", "uniform", "zeros", "ones")


class BatchLogs(Mapping):
    """The logs of one batch: its loss and metrics, read lazily from the device.

    The values are the batch's sums, kept as device scalars; reading
    ``logs["loss"]`` divides by the batch size and converts, which makes the
    host wait for the device. ``size`` is the number of examples.

    Parameters
    ----------
    size : int
        The number of examples in the batch (positive: the means divide by it).
    sums : dict
        ``{key: sum over the batch}`` for the loss and each metric: device
        scalars (anything with ``.item()``) or plain numbers. Kept, not copied.

    Examples
    --------
    >>> from dlbook.training import BatchLogs
    >>> logs = BatchLogs(4, {"loss": 2.0, "accuracy": 3.0})
    >>> logs.size, logs["loss"], dict(logs)
    (4, 0.5, {'loss': 0.5, 'accuracy': 0.75})
    """

    __slots__ = ("size", "_sums", "_means")

    def __init__(self, size, sums):
        self.size = size
        self._sums = sums
        self._means = {}

    def raw(self, key):
        """The batch's sum for ``key`` as the device holds it (no synchronization)."""
        return self._sums[key]

    def __getitem__(self, key):
        if key not in self._means:
            value = self._sums[key]
            value = float(value.item()) if hasattr(value, "item") else float(value)
            self._means[key] = value / self.size
        return self._means[key]

    def __iter__(self):
        return iter(self._sums)

    def __len__(self):
        return len(self._sums)

    def __repr__(self):
        return f"BatchLogs(size={self.size}, keys={list(self._sums)})"


class CallbackList:
    """The callbacks of one run; calls only the hooks each callback overrides.

    Parameters
    ----------
    callbacks : iterable of dlbook.callbacks.Callback
        The run's callbacks, called in this order. An ``on_epoch_begin(epoch)``
        without ``logs`` (dlbook 0.1's signature) is called without them.
    trainer : dlbook.training.BaseTrainer or None
        Set as each callback's ``trainer`` attribute.

    Examples
    --------
    >>> from dlbook.callbacks import Callback
    >>> from dlbook.training import CallbackList
    >>> class Printer(Callback):
    ...     def on_epoch_begin(self, epoch):  # dlbook 0.1's signature still works
    ...         print("epoch", epoch)
    >>> callbacks = CallbackList([Printer()], trainer=None)
    >>> callbacks.call("on_epoch_begin", 1, {})
    epoch 1
    >>> callbacks.hook("on_train_batch_end")
    []
    """

    def __init__(self, callbacks, trainer):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            cb.trainer = trainer
        self._hooks = {hook: [getattr(cb, hook) for cb in self.callbacks if overrides(cb, hook)]
                       for hook in HOOKS}
        self._hooks["on_epoch_begin"] = [
            m if _takes_logs(m) else (lambda epoch, logs, _m=m: _m(epoch))
            for m in self._hooks["on_epoch_begin"]]

    def hook(self, name):
        """The bound methods to call for hook ``name`` (empty if nobody listens)."""
        return self._hooks[name]

    def call(self, name, *args):
        """Call hook ``name`` of every callback that overrides it."""
        for method in self._hooks[name]:
            method(*args)


def check_learning_rate(learning_rate):
    """Return ``learning_rate`` as a float after checking it is a finite number > 0.

    NumPy scalars are numbers too:

    >>> import numpy as onp
    >>> check_learning_rate(onp.float32(0.5)), check_learning_rate(onp.int64(1))
    (0.5, 1.0)
    >>> check_learning_rate("0.1")
    Traceback (most recent call last):
    ...
    TypeError: Expected `learning_rate` as a number > 0, got '0.1' (str). Pass a number, e.g. learning_rate=0.1.
    """
    return check_number("learning_rate", learning_rate, above=0,
                        fix="Pass a number, e.g. learning_rate=0.1.")


def check_optimizer_params(optimizer_params):
    """Return a copy of ``optimizer_params`` as a dict (``{}`` for None)."""
    if optimizer_params is not None and not isinstance(optimizer_params, dict):
        raise TypeError(f"Expected `optimizer_params` as a dict, got {describe(optimizer_params)}.")
    return dict(optimizer_params or {})


#: torch.optim's argument names, and the names ``optimizer_params`` takes in both layers.
TORCH_OPTIMIZER_NAMES = {"lr": "'learning_rate'", "weight_decay": "'wd'", "eps": "'epsilon'",
                         "betas": "'beta1' and 'beta2'", "alpha": "'gamma1'"}


def check_optimizer_keys(params, optimizer, allowed):
    """Raise a ValueError for a key of ``params`` that ``optimizer`` does not take.

    Both layers take MXNet's names (``'wd'``, ``'beta1'``, ...); a key that is
    torch.optim's name for one of them gets the name to use.

    >>> check_optimizer_keys({"weight_decay": 1e-4}, "sgd", {"learning_rate", "wd"})
    Traceback (most recent call last):
    ...
    ValueError: Unknown key 'weight_decay' in `optimizer_params` for optimizer 'sgd' (use 'wd': both layers take MXNet's names). Expected keys (MXNet's names): 'learning_rate', 'wd'.
    """
    unknown = sorted(set(params) - set(allowed))
    if not unknown:
        return
    key = unknown[0]
    hint = ""
    if key in TORCH_OPTIMIZER_NAMES:
        hint = f" (use {TORCH_OPTIMIZER_NAMES[key]}: both layers take MXNet's names)"
    raise ValueError(
        f"Unknown key {key!r} in `optimizer_params` for optimizer {optimizer!r}{hint}. "
        f"Expected keys (MXNet's names): {', '.join(repr(k) for k in sorted(allowed))}."
    )


def check_optimizer_name(optimizer, known):
    """Return the lower-cased name if it is one of ``known``; the error lists them."""
    if optimizer.lower() not in known:
        raise ValueError(
            f"Unknown `optimizer` {optimizer!r}. Expected one of: {', '.join(sorted(known))}.")
    return optimizer.lower()


def check_initializer_name(initializer):
    """Return ``initializer`` if it is a name in :data:`INITIALIZERS`."""
    return check_choice("initializer", initializer, set(INITIALIZERS))


def optimizer_type_error(optimizer):
    """The TypeError of both layers for an ``optimizer`` that is neither a name nor an Optimizer."""
    return TypeError(f"Expected `optimizer` as a name or an Optimizer, got {describe(optimizer)}.")


# ------------------------------------------------------------ target checks
def _non_integer(y):
    """The first value of ``y`` that is not a whole number, or None."""
    if y.dtype.kind in "biu":
        return None
    bad = y[~(y == onp.round(y))]
    return bad.flat[0] if bad.size else None


def _per_example(shape):
    return int(onp.prod(shape[1:], dtype="int64"))


def _shape(dims):
    return "(" + ", ".join(["n", *map(str, dims)]) + ("," if not dims else "") + ")"


def check_targets(loss, y, output_shape=None, metrics=(), where=""):
    """Check targets against the loss, the metrics and the network's outputs; raise a ValueError.

    What both layers' ``Trainer`` checks before the first update (and before
    evaluating), so that a mistake that the frameworks would accept silently
    or report in their own terms ("Shape inconsistent", "Cannot reshape")
    gets a message that names the fix.

    Parameters
    ----------
    loss : str or None
        A name of :data:`dlbook.metrics.LOSS_NAMES`, or None for a loss dlbook
        does not know (then only the metrics are checked).
    y : numpy.ndarray, shape (n, ...)
        Targets: a batch, or all of a data set.
    output_shape : tuple, optional
        The shape of the network's outputs for a batch (any batch size);
        None when unknown (the checks that need it are skipped).
    metrics : sequence of str
        The metrics' names.
    where : str
        Said after "labels" in the messages, e.g. ``" in `validation_data`"``.

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.training import check_targets
    >>> check_targets("cross_entropy", onp.array([0, 2, 1]), (16, 3))  # fine: returns None
    >>> check_targets("cross_entropy", onp.eye(3)[[0, 2, 1]], (16, 3))
    Traceback (most recent call last):
    ...
    ValueError: Expected class indices for `loss='cross_entropy'`, but the labels look one-hot: shape (3, 3) matches the network's outputs (n, 3). Pass class indices, e.g. y.argmax(axis=1).
    >>> check_targets("binary_cross_entropy", onp.array([0, 1]), (16, 2))
    Traceback (most recent call last):
    ...
    ValueError: `loss='binary_cross_entropy'` takes one logit per example, but the network has 2 outputs. Use 1 output (e.g. mlp(num_outputs=1)), or loss='cross_entropy' with the 2 outputs as class scores.
    """
    if y.ndim == 0:
        return
    out = None if output_shape is None else tuple(int(d) for d in output_shape)
    bad = _non_integer(y)
    if loss == "cross_entropy":
        k = out[-1] if out is not None and len(out) >= 2 else None
        if k is not None and k > 1 and y.shape[1:] == out[1:]:
            raise ValueError(
                f"Expected class indices{where} for `loss='cross_entropy'`, but the labels look "
                f"one-hot: shape {y.shape} matches the network's outputs {_shape(out[1:])}. Pass "
                "class indices, e.g. y.argmax(axis=1).")
        if bad is not None:
            raise ValueError(
                f"Expected integer class labels{where} for `loss='cross_entropy'`, got non-integer "
                f"labels such as {bad:g}. Pass class indices 0, 1, ..., k-1 for k classes; for "
                "real-valued targets use a regression loss such as loss='mse'.")
        if k is None:
            return
        positions = _per_example(out[:-1])
        if _per_example(y.shape) != positions:
            raise ValueError(
                f"Expected labels{where} of shape {_shape(out[1:-1])} (one class index per "
                f"{'example' if len(out) == 2 else 'position'}) for the network's outputs "
                f"{_shape(out[1:])} with `loss='cross_entropy'`, got shape {y.shape}.")
        if k == 1:
            raise ValueError(
                "`loss='cross_entropy'` needs one output per class, but the network has 1 output. "
                "For two classes use 2 outputs (e.g. mlp(num_outputs=2)), or "
                "loss='binary_cross_entropy' with 1 output.")
        low, high = float(y.min()), float(y.max())
        if low < 0 or high > k - 1:
            raise ValueError(
                f"Expected class labels in [0, {k - 1}] for a network with {k} outputs, "
                f"got labels from {low:g} to {high:g}{where}.")
    elif loss == "binary_cross_entropy":
        if out is not None and _per_example(out) != _per_example(y.shape):
            p, q = _per_example(out), _per_example(y.shape)
            if q == 1:
                raise ValueError(
                    f"`loss='binary_cross_entropy'` takes one logit per example, but the network "
                    f"has {p} outputs. Use 1 output (e.g. mlp(num_outputs=1)), or "
                    f"loss='cross_entropy' with the {p} outputs as class scores.")
            raise ValueError(
                f"`loss='binary_cross_entropy'` takes one 0/1 label per output, but the network "
                f"has {p} outputs per example and the labels{where} have shape {y.shape}.")
        low, high = float(y.min()), float(y.max())
        if low < 0 or high > 1:
            raise ValueError(
                f"Expected labels{where} in [0, 1] for `loss='binary_cross_entropy'`, got labels "
                f"from {low:g} to {high:g}. For more than two classes use loss='cross_entropy' "
                "with one output per class.")
    elif loss in REGRESSION_LOSSES and out is not None:
        p, q = _per_example(out), _per_example(y.shape)
        if p != q:
            hint = " For class labels use loss='cross_entropy'." if q == 1 and bad is None else ""
            raise ValueError(
                f"Expected {p} target value{'s' if p > 1 else ''} per example{where} for a network "
                f"with outputs {_shape(out[1:])} and `loss='{loss}'`, got targets of shape "
                f"{y.shape}.{hint}")
    if "accuracy" in metrics and bad is not None:
        raise ValueError(
            f"`metrics=['accuracy']` compares class labels, but the targets{where} are not "
            f"integers (e.g. {bad:g}). For real-valued targets use metrics=['mae'] or ['mse'].")


class BaseTrainer:
    """The framework-free part of ``Trainer``: the loop around a layer's ``train_step``.

    Not used directly: ``from dlbook import mxnet as dl`` or ``from dlbook import
    torch as dl``, then ``dl.Trainer``. A layer's ``__init__`` sets ``net``,
    ``loss``, ``device``, ``devices``, ``kvstore``, ``rank``, ``num_workers`` and
    the optimizer, then calls :meth:`_init_loop`.

    Attributes
    ----------
    history : History
        Per-epoch logs; grows over repeated calls of :meth:`fit`.
    num_updates : int
        Optimizer updates done so far (the clock of ``lr_schedule``).
    base_learning_rate : float
        The learning rate that ``lr_schedule`` scales.
    stop_training : bool
        Set by a callback (e.g. EarlyStopping) to end ``fit`` after the epoch.

    Examples
    --------
    Both layers' trainers are this class with a different step:

    >>> from dlbook.training import BaseTrainer
    >>> from dlbook import mxnet as mx_dl, torch as torch_dl
    >>> issubclass(mx_dl.Trainer, BaseTrainer), issubclass(torch_dl.Trainer, BaseTrainer)
    (True, True)
    >>> mx_dl.Trainer.train_step is torch_dl.Trainer.train_step  # each layer's own
    False
    >>> torch_dl.Trainer.test_step is BaseTrainer.test_step  # written once
    True
    """

    _ArrayLoader = BaseArrayLoader
    _shape_errors = (ValueError,)
    _built = False

    # ------------------------------------------------------------ set-up
    def _init_loop(self, metrics, lr_schedule, base_learning_rate, get_metric):
        if metrics is None:
            metrics = []
        elif isinstance(metrics, (str, Metric, type)) or callable(metrics):
            metrics = [metrics]  # one metric without a list
        elif not hasattr(metrics, "__iter__") or isinstance(metrics, (bytes, dict)):
            raise TypeError(f"Expected `metrics` as a list of metrics, got {describe(metrics)}.")
        # Templates: a fresh copy of each is used for every epoch and evaluation.
        self._metrics = [get_metric(m) for m in metrics]
        self.metric_names = [m.name for m in self._metrics]
        names = self.metric_names
        if "loss" in names or len(set(names)) < len(names):
            raise ValueError(
                f"Expected metrics with distinct names, none of them 'loss' (the names are the "
                f"keys of the logs and the history), got {names}.")
        self.base_learning_rate = float(base_learning_rate)
        self.lr_schedule = None
        self._scheduler = None
        if lr_schedule is not None:
            # A copy: the first fit fixes the lengths left open, for this trainer only.
            self.lr_schedule = copy.copy(get_schedule(lr_schedule))
            self._scheduler = LearningRateScheduler(self.lr_schedule)
        self.history = History()
        self.stop_training = False
        self.num_updates = 0
        self._output_shapes = {}  # per-example input shape -> per-example output shape
        self._explain = False  # wrap shape errors of the network (first batch of a call)

    # ----------------------------------------------------- overridable steps
    # Checkpoints (dlbook.checkpoint): the framework's random number generators. MXNet's
    # cannot be read or set from Python, so by default there is nothing to save.
    def _checkpoint_rng(self, arrays):
        return None

    def _check_checkpointable(self, loading=False):
        """Raise CheckpointError if this trainer's state cannot be saved (or, loading, restored)."""

    def _restore_rng(self, spec, arrays):
        pass

    def train_step(self, batch):  # pragma: no cover - each layer defines it
        """One update with ``batch = (X, y)`` (on the device); returns ``(y_hat, loss)``."""
        raise NotImplementedError

    def test_step(self, batch):
        """Outputs and per-example losses of ``batch = (X, y)``, without gradients.

        Override it (like :meth:`train_step`) for a network whose evaluation
        differs from ``loss(net(X), y)``; return ``(y_hat, loss)``.
        """
        X, y = batch
        with self._no_grad():
            y_hat = self._forward(X)
            return y_hat, self.loss(y_hat, y)

    def predict_step(self, X):
        """The network's outputs for one batch ``X``, without gradients."""
        with self._no_grad():
            return self._forward(X)

    # ----------------------------------------------------------- helpers
    def _forward(self, X):
        """``net(X)``; on the first batch of a call, a shape mismatch becomes a clear error."""
        if not self._explain:
            return self.net(X)
        try:
            return self.net(X)
        except self._shape_errors as err:
            summary = str(err).strip().splitlines()[0][:300] if str(err).strip() else type(err).__name__
            hint = (" A batch has its examples along the first axis: for a single example, "
                    "add that axis (X[None], shape (1, ...))." if len(X.shape) == 1 else "")
            raise ValueError(
                f"The network could not process a batch of shape {tuple(X.shape)}: {summary}. "
                f"Check that the input shape matches the network's first layer.{hint}"
            ) from err

    def _ensure_built(self, X):
        if not self._built:
            self._explain = True
            try:
                self._build(X)
            finally:
                self._explain = False
            self._built = True

    def _build(self, X):
        """Layer hook: get ready for the first update, given a batch ``X``."""

    def _shard(self, loader):
        """Layer hook: this worker's part of ``loader`` in distributed training."""
        return loader

    def _step_outputs(self, outputs, step):
        if not isinstance(outputs, (tuple, list)) or len(outputs) != 2:
            raise TypeError(
                f"Expected `{step}` to return (y_hat, loss) with one loss value per example, "
                f"got {describe(outputs)}."
            )
        return self._detach(outputs[0]), self._detach(outputs[1])

    @staticmethod
    def _is_array(value):
        """Whether ``value`` is one array (NumPy, pandas, the layer's), not a loader or a pair."""
        return hasattr(value, "shape") and hasattr(value, "__len__")

    def _arrays(self, x, y, name):
        """``(X, Y)`` when ``x`` (with ``y``) holds arrays, None for a loader; mixed use raises."""
        # (X, y) as one argument; with `y` given, a list is examples (rows), not a pair
        pair = (isinstance(x, tuple) or isinstance(x, list) and y is None) and len(x) == 2 \
            and hasattr(x[0], "shape")
        if y is None:
            if pair:
                return x[0], x[1]
            if self._is_array(x):
                fix = ("pass it as a tuple (X_val, y_val)" if name == "validation_data" else
                       "pass the targets too, e.g. fit(X, y, batch_size=32)")
                raise ValueError(f"`{name}` is an array ({describe(x)}) without targets: {fix}.")
            return None
        if isinstance(y, (numbers.Number, str, bytes)) or not (
                hasattr(y, "shape") or isinstance(y, (list, tuple))):
            raise TypeError(
                f"Expected `y` as an array of targets, got {describe(y)}. The second argument "
                "is `y`, as in Keras: pass `epochs` and `batch_size` by name, e.g. "
                "fit(loader, epochs=5).")
        if pair:
            raise ValueError(
                f"`{name}` is a tuple (X, y) and `y` is given too: pass either fit((X, y)) or "
                "fit(X, y).")
        if not (self._is_array(x) or isinstance(x, list)):
            raise ValueError(
                f"`y` is given, but `{name}` is a loader ({type(x).__name__}) that yields (X, y) "
                "batches itself. Pass `y` only with an array, e.g. fit(X, y, batch_size=32).")
        return x, y

    def _loader(self, arrays, data, batch_size, shuffle, name, cap=False):
        """A loader over ``arrays`` (an ArrayLoader), or ``data`` itself, checked, if it is a loader."""
        if arrays is not None:
            X, Y = arrays
            n = len(X) if hasattr(X, "__len__") else 1
            if batch_size is None:
                batch_size = min(DEFAULT_BATCH_SIZE, n)
            elif cap and isinstance(batch_size, numbers.Integral):
                batch_size = min(batch_size, n)  # evaluation: a batch larger than the data is all of it
            return self._ArrayLoader(X, Y, batch_size=batch_size, shuffle=shuffle, device=self.device)
        if hasattr(data, "__iter__") and not isinstance(data, (str, bytes, dict)):
            if hasattr(data, "__len__") and len(data) == 0:
                raise ValueError(f"`{name}` is empty; it holds no (X, y) batches.")
            return data
        raise TypeError(
            f"Expected `{name}` as a loader of (X, y) batches or arrays (X, y), "
            f"got {describe(data)}."
        )

    def _as_loader(self, data, batch_size, shuffle, name):
        """``data`` (a loader or a tuple of arrays) as a loader (used by layer modules and tests)."""
        return self._loader(self._arrays(data, None, name), data, batch_size, shuffle, name)

    @staticmethod
    def _unused_batch_size(batch_size, name):
        if batch_size is not None:
            raise ValueError(
                f"`batch_size` applies to arrays, but `{name}` is a loader whose batches are "
                f"already made. Remove `batch_size={batch_size!r}`, or pass arrays.")

    def _batches(self, loader, name):
        count = 0
        for batch in loader:
            if not isinstance(batch, (tuple, list)) or len(batch) != 2:
                raise ValueError(
                    f"Expected `{name}` to yield (X, y) pairs, got a batch of {describe(batch)}."
                )
            count += 1
            yield self._to_device(batch[0]), self._to_device(batch[1])
        if count == 0:
            raise ValueError(f"`{name}` yielded no batches; it is empty.")

    def _sample(self, loader):
        """A first batch of inputs without touching the loader's shuffling (None if unknown)."""
        if isinstance(loader, BaseArrayLoader):
            return self._to_device(loader.sample_inputs())
        return None

    def _loss_name(self):
        """Layer hook: the name in :data:`dlbook.metrics.LOSS_NAMES` of ``self.loss``, or None."""
        return None

    def _check_loss_and_metrics(self):
        loss = self._loss_name()
        if loss in REGRESSION_LOSSES and "accuracy" in self.metric_names:
            raise ValueError(
                "`metrics=['accuracy']` compares class labels and needs a classification loss "
                f"('cross_entropy' or 'binary_cross_entropy'), but `loss` is '{loss}', a "
                "regression loss. For a regression use metrics=['mae'] or ['mse'].")

    def _output_shape(self, X):
        """The shape of the outputs for the batch ``X`` (a dry run, once per input shape), or None."""
        key = tuple(X.shape[1:])
        if key not in self._output_shapes:
            if getattr(self.net, "stateful", False):
                return None  # a dry run would move the state the model carries between batches
            previous = self._set_training(False)
            self._explain = True
            try:
                y_hat = self.predict_step(X)
            finally:
                self._explain = False
                self._set_training(previous)
            self._output_shapes[key] = tuple(y_hat.shape[1:]) if hasattr(y_hat, "shape") else None
        shape = self._output_shapes[key]
        return None if shape is None else (int(X.shape[0]), *shape)

    def _check_targets(self, loader, X, y, name):
        """Check the targets before they are used: all of an ArrayLoader's, else the batch's ``y``."""
        loss = self._loss_name()
        if loss is None and "accuracy" not in self.metric_names:
            return
        if isinstance(loader, BaseArrayLoader) and loader.y is not None:
            labels = loader._to_host(loader.y)
        elif y is not None:
            labels = _host(y)
        else:
            return
        out = None
        if loss is not None:
            self._ensure_built(X)
            out = self._output_shape(X)
        where = "" if name == "x" else f" in `{name}`"
        check_targets(loss, onp.asarray(labels), out, self.metric_names, where)

    def _fresh_metrics(self):
        fresh = [copy.copy(m) for m in self._metrics]
        for m in fresh:
            m.reset()
        return fresh

    def _callback_list(self, callbacks, verbose, internal):
        if callbacks is None:
            callbacks = []
        elif isinstance(callbacks, Callback):
            callbacks = [callbacks]  # one callback without a list
        elif not hasattr(callbacks, "__iter__") or isinstance(callbacks, (str, bytes, dict)):
            raise TypeError(
                f"Expected `callbacks` as a Callback or a list of them, got {describe(callbacks)}.")
        callbacks = list(callbacks)
        for cb in callbacks:
            if isinstance(cb, type) and issubclass(cb, Callback):
                raise TypeError(
                    f"Expected Callback objects in `callbacks`, got the class {cb.__name__}: pass "
                    f"an instance, e.g. {cb.__name__}().")
            if not isinstance(cb, Callback):
                raise TypeError(f"Expected Callback objects in `callbacks`, got {describe(cb)}.")
        # A display callback the caller passed replaces the default one of its kind.
        display = [cb for cb in self._default_callbacks(verbose)
                   if not any(isinstance(c, type(cb)) for c in callbacks)]
        return CallbackList(internal + callbacks + display, self)

    def _default_callbacks(self, verbose):
        if verbose is False or (verbose == 0 and not isinstance(verbose, str)):
            return []
        if verbose == "plot":
            return [LivePlot()]  # it warns outside a notebook, where it shows nothing
        if verbose is True or (verbose == 1 and not isinstance(verbose, str)):
            return [ProgressBar()]
        if verbose == 2 and not isinstance(verbose, bool):
            return [ProgressBar(bar=False)]
        if verbose == "auto":
            return [LivePlot()] if _callbacks.in_notebook() else [ProgressBar()]
        raise ValueError(
            f"Expected `verbose` in ('auto', True, False, 'plot', 2), got {verbose!r}.")

    # --------------------------------------------------------------- training
    def fit(self, x, y=None, epochs=1, validation_data=None, callbacks=None, verbose="auto",
            batch_size=None, validation_split=None):
        """Train for ``epochs`` passes over the training data.

        The data come as Keras takes them: arrays ``fit(X, y, ...)``, a tuple
        ``fit((X, y), ...)`` (both shuffled every epoch), or a loader of
        ``(X, y)`` batches ``fit(loader, ...)``. Before the first update the
        targets are checked against the loss, the metrics and the network's
        outputs (all of an ArrayLoader's or the arrays' targets, else the first
        batch's): class labels that are not integers, out of range or one-hot
        for ``'cross_entropy'``, a binary loss on a network with several
        outputs, ``'accuracy'`` on real-valued targets raise a ValueError that
        names the fix.

        Parameters
        ----------
        x : array-like, tuple (X, y) or loader
            Inputs (NumPy, pandas, a list, the layer's arrays) with targets
            ``y``; or a tuple ``(X, y)``; or an iterable of ``(X, y)``
            batches (e.g. the layer's ``ArrayLoader`` or a framework's
            ``DataLoader``), without ``y``.
        y : array-like, optional
            Targets, when ``x`` is an array.
        epochs : int, default 1
            Passes over the data. They continue the count of earlier calls:
            the history grows, and the progress line of a second
            ``fit(..., epochs=2)`` after 3 epochs reads ``epoch 4/5``, ``epoch 5/5``.
        validation_data : loader or tuple (X, y), optional
            Evaluated after every epoch; its metrics get the prefix ``val_``.
        callbacks : Callback or sequence of Callback, optional
        verbose : {'auto', True, False, 'plot', 2}, default 'auto'
            ``'auto'`` draws live learning curves in a notebook and prints
            progress elsewhere; ``True`` prints (in a terminal a bar during the
            epoch, then one line per epoch); ``2`` one line per epoch only;
            ``'plot'`` plots (in a notebook only: elsewhere it warns and shows
            nothing); ``False`` shows nothing. A
            :class:`~dlbook.callbacks.ProgressBar` or
            :class:`~dlbook.callbacks.LivePlot` in ``callbacks`` replaces the default one.
        batch_size : int, optional
            Examples per batch of arrays (default 32, or all examples if fewer,
            as Keras); a loader has its own (passing one raises).
        validation_split : float, optional
            With arrays: hold out this fraction of the examples, the last ones
            before shuffling (as Keras), and validate on them after every epoch.

        Returns
        -------
        History
            The trainer's history (it grows over repeated calls of ``fit``).

        Raises
        ------
        ValueError
            For targets that do not fit the loss, the metrics or the network
            (checked before the first update), and for ambiguous arguments, e.g.
            ``y`` with a loader, or both ``validation_data`` and ``validation_split``.
        FloatingPointError
            If the training loss becomes NaN or infinite (the message names the
            epoch and the first bad batch).

        Examples
        --------
        Arrays as Keras takes them, the last quarter held out for validation,
        and one callback without a list:

        >>> from dlbook.mxnet import EarlyStopping, Trainer, mlp, seed_everything, xor_data
        >>> seed_everything(0)
        >>> X, y = xor_data(num_examples=200, noise=0.1)
        >>> trainer = Trainer(mlp(hidden=8, num_outputs=2, activation="tanh"), "cross_entropy",
        ...                   optimizer="adam", learning_rate=0.05, metrics="accuracy")
        >>> history = trainer.fit(X, y, epochs=3, batch_size=20, validation_split=0.25,
        ...                       callbacks=EarlyStopping(patience=2), verbose=False)
        >>> len(history), sorted(history.history)
        (3, ['accuracy', 'loss', 'time', 'val_accuracy', 'val_loss'])

        Labels that do not fit the loss are an error before the first update:

        >>> import numpy as onp
        >>> trainer.fit(X, onp.eye(2)[y], verbose=False)  # one-hot labels
        Traceback (most recent call last):
        ...
        ValueError: Expected class indices for `loss='cross_entropy'`, but the labels look one-hot: shape (200, 2) matches the network's outputs (n, 2). Pass class indices, e.g. y.argmax(axis=1).
        """
        epochs = check_int("epochs", epochs, minimum=1)
        self._check_loss_and_metrics()
        arrays = self._arrays(x, y, "x")
        if validation_split is not None:
            arrays, validation_data = self._split_validation(arrays, validation_data,
                                                             validation_split)
        val_arrays = None
        if validation_data is not None:
            val_arrays = self._arrays(validation_data, None, "validation_data")
        if arrays is None and val_arrays is None:
            self._unused_batch_size(batch_size, "x")
        loader = self._shard(self._loader(arrays, x, batch_size, True, "x"))
        val_loader = None
        if validation_data is not None:
            val_loader = self._loader(val_arrays, validation_data, batch_size, False,
                                      "validation_data", cap=True)
        internal = [TerminateOnNaN(), self.history] + ([self._scheduler] if self._scheduler else [])
        callbacks = self._callback_list(callbacks, verbose, internal)
        num_batches = len(loader) if hasattr(loader, "__len__") else None
        names = ["loss", *self.metric_names]
        val_keys = [f"val_{n}" for n in names] if val_loader is not None else []
        self._log_keys = [*names, *val_keys, "time"]  # what the epochs log, for callbacks' checks
        sample = self._sample(loader) if not self._built else None
        if sample is not None:  # before on_train_begin, so callbacks see the optimizer
            self._ensure_built(sample)
        if isinstance(val_loader, BaseArrayLoader):  # all its targets, before any update
            self._check_targets(val_loader, self._sample(val_loader), None, "validation_data")
        self.stop_training = False
        callbacks.call("on_train_begin", epochs, num_batches)
        first_epoch = len(self.history) + 1
        for epoch in range(first_epoch, first_epoch + epochs):
            callbacks.call("on_epoch_begin", epoch, {})
            start = time.perf_counter()
            logs = self._train_epoch(loader, callbacks, check=epoch == first_epoch)
            if val_loader is not None:
                check = epoch == first_epoch and not isinstance(val_loader, BaseArrayLoader)
                val_logs = self._test_epoch(val_loader, callbacks, "validation_data", check=check)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            logs["time"] = time.perf_counter() - start
            callbacks.call("on_epoch_end", epoch, logs)
            if self.stop_training:
                break
        callbacks.call("on_train_end", self.history)
        return self.history

    @staticmethod
    def _split_validation(arrays, validation_data, validation_split):
        """Keras' ``validation_split``: the last fraction of the arrays, before shuffling."""
        fraction = check_fraction("validation_split", validation_split, 0.0, 1.0,
                                  include_low=False)
        if arrays is None:
            raise ValueError(
                "`validation_split` holds out part of arrays, but `x` is a loader. Pass "
                "`validation_data` instead (e.g. a second loader), or pass arrays.")
        if validation_data is not None:
            raise ValueError("Pass either `validation_data` or `validation_split`, not both.")
        X, Y = arrays
        n = len(X)
        split_at = int(math.floor(n * (1.0 - fraction)))
        if split_at == 0 or split_at == n:
            raise ValueError(
                f"`validation_split={validation_split}` of {n} examples leaves "
                f"{'no examples to train on' if split_at == 0 else 'no examples to validate on'}. "
                "Pass more examples or another fraction.")
        return (X[:split_at], Y[:split_at]), (X[split_at:], Y[split_at:])

    def _train_epoch(self, loader, callbacks=(), check=False):
        """One pass over ``loader``; returns the epoch's logs (one synchronization, plus one per metric)."""
        if not isinstance(callbacks, CallbackList):
            callbacks = CallbackList(callbacks, self)
        begin, end = callbacks.hook("on_train_batch_begin"), callbacks.hook("on_train_batch_end")
        metrics = self._fresh_metrics()
        loss_sum, count = None, 0
        previous = self._set_training(True)
        try:
            for i, batch in enumerate(self._batches(loader, "x"), start=1):
                if i == 1:
                    self._ensure_built(batch[0])
                    if check:  # before the first update changes any parameter
                        self._check_targets(loader, batch[0], batch[1], "x")
                    self._explain = True
                for method in begin:
                    method(i, None)
                y_hat, values = self._step_outputs(self.train_step(batch), "train_step")
                self._explain = False
                self.num_updates += 1
                total = values.sum()  # kept on the device: no synchronization here
                loss_sum = total if loss_sum is None else loss_sum + total
                n = int(batch[1].shape[0])
                count += n
                sums = [m.update(y_hat, batch[1]) for m in metrics]
                if end:
                    logs = BatchLogs(n, {"loss": total, **{m.name: s for m, s in zip(metrics, sums)}})
                    for method in end:
                        method(i, logs)
        finally:
            self._explain = False
            self._set_training(previous)
        logs = {"loss": float(loss_sum.item()) / count}  # the one synchronization
        if math.isfinite(logs["loss"]):
            logs.update({m.name: m.result() for m in metrics})
        return logs

    # ------------------------------------------------------------- inference
    def _test_epoch(self, loader, callbacks, name="x", check=False):
        begin, end = callbacks.hook("on_test_batch_begin"), callbacks.hook("on_test_batch_end")
        metrics = self._fresh_metrics()
        loss_sum, count = None, 0
        previous = self._set_training(False)
        try:
            for i, batch in enumerate(self._batches(loader, name), start=1):
                if i == 1:
                    self._ensure_built(batch[0])
                    if check:
                        self._check_targets(loader, batch[0], batch[1], name)
                    self._explain = True
                for method in begin:
                    method(i, None)
                y_hat, values = self._step_outputs(self.test_step(batch), "test_step")
                self._explain = False
                total = values.sum()
                loss_sum = total if loss_sum is None else loss_sum + total
                n = int(batch[1].shape[0])
                count += n
                sums = [m.update(y_hat, batch[1]) for m in metrics]
                if end:
                    logs = BatchLogs(n, {"loss": total, **{m.name: s for m, s in zip(metrics, sums)}})
                    for method in end:
                        method(i, logs)
        finally:
            self._explain = False
            self._set_training(previous)
        logs = {"loss": float(loss_sum.item()) / count}
        logs.update({m.name: m.result() for m in metrics})
        return logs

    def evaluate(self, x, y=None, batch_size=None, callbacks=None):
        """Loss and metrics on data in inference mode (dropout off, batch-norm running statistics).

        Parameters
        ----------
        x : array-like, tuple (X, y) or loader
            As in :meth:`fit`: arrays with ``y``, a tuple ``(X, y)``, or a loader.
        y : array-like, optional
            Targets, when ``x`` is an array.
        batch_size : int, optional
            Examples per batch of arrays (default 32; at most all of them).
        callbacks : Callback or sequence of Callback, optional
            Their ``on_test_batch_begin`` / ``on_test_batch_end`` hooks are called.

        Returns
        -------
        dict
            ``{'loss': ..., 'accuracy': ..., ...}`` (Python floats).

        Examples
        --------
        >>> from dlbook.torch import Trainer, mlp, xor_data
        >>> X, y = xor_data()
        >>> trainer = Trainer(mlp(hidden=4, num_outputs=2), "cross_entropy", metrics="accuracy")
        >>> sorted(trainer.evaluate(X, y))
        ['accuracy', 'loss']
        """
        self._check_loss_and_metrics()
        arrays = self._arrays(x, y, "x")
        if arrays is None:
            self._unused_batch_size(batch_size, "x")
        loader = self._loader(arrays, x, batch_size, False, "x", cap=True)
        return self._test_epoch(loader, self._callback_list(callbacks, False, []), "x", check=True)

    def predict(self, X, batch_size=256):
        """Network outputs for ``X`` in inference mode, as a NumPy array.

        Parameters
        ----------
        X : array-like or loader
            Examples (NumPy, a list, the layer's arrays), or a loader whose
            batches are ``X`` or ``(X, y)`` (``y`` is ignored).
        batch_size : int, default 256
            Examples per forward pass (arrays only).

        Returns
        -------
        numpy.ndarray
            One row of outputs per example (class scores or logits, not probabilities).
        """
        batch_size = check_int("batch_size", batch_size, minimum=1)
        if isinstance(X, BaseArrayLoader) or not (hasattr(X, "shape") or isinstance(X, (list, tuple))) \
                and hasattr(X, "__iter__") and not isinstance(X, (str, bytes, dict)):
            batches = (b[0] if isinstance(b, (tuple, list)) else b for b in X)
        else:
            batches = self._ArrayLoader(X, batch_size=min(batch_size, len(X) if hasattr(X, "__len__") else 1),
                                        device=self.device)
        outputs = []
        previous = self._set_training(False)
        try:
            for i, xb in enumerate(batches):
                xb = self._to_device(xb)
                if i == 0:
                    self._ensure_built(xb)
                    self._explain = True
                outputs.append(self._detach(self.predict_step(xb)))
                self._explain = False
        finally:
            self._explain = False
            self._set_training(previous)
        if not outputs:
            raise ValueError("`X` yielded no batches; it is empty.")
        return self._outputs_to_numpy(outputs)

    def __repr__(self):
        return (f"Trainer(net={type(self.net).__name__}, loss={type(self.loss).__name__}, "
                f"optimizer={self._optimizer_name()}, metrics={self.metric_names}, "
                f"device={self.device}, epochs={len(self.history)})")
