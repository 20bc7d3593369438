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

Also ``_expects_class_labels()``, ``_shard(loader)``, ``learning_rate``,
``set_learning_rate(lr)``, ``_optimizer_name()``, ``_copy_weights()``,
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

from . import callbacks as _callbacks
from ._checks import check_choice, check_int, describe
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
from .schedules import get_schedule

__all__ = ["BaseTrainer", "BatchLogs", "CallbackList", "History", "INITIALIZERS"]

#: Initializer names both layers' ``Trainer(initializer=...)`` accept: Xavier/Glorot uniform
#: (the default), He/Kaiming normal (fan-in, for ReLU), N(0, 0.01), U(-0.07, 0.07), zeros, ones.
INITIALIZERS = ("xavier", "he", "normal", "uniform", "zeros", "ones")


class BatchLogs(Mapping):
    """The logs of one batch: its loss and metrics, read lazily from the device.

    The values are the batch's sums, kept as device scalars; reading
    ``logs["loss"]`` divides by the batch size and converts, which makes the
    host wait for the device. ``size`` is the number of examples.

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
    """Return ``learning_rate`` as a float after checking it is a finite number > 0."""
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real) \
            or not learning_rate > 0 or math.isinf(learning_rate):
        raise ValueError(f"Expected `learning_rate` > 0, got {learning_rate!r}.")
    return float(learning_rate)


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
        if isinstance(metrics, str):
            metrics = [metrics]
        # Templates: a fresh copy of each is used for every epoch and evaluation.
        self._metrics = [get_metric(m) for m in (metrics or [])]
        self.metric_names = [m.name for m in self._metrics]
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
        self._num_classes = None
        self._explain = False  # wrap shape errors of the network (first batch of a call)

    # ----------------------------------------------------- overridable steps
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
            raise ValueError(
                f"The network could not process a batch of shape {tuple(X.shape)}: {summary}. "
                "Check that the input shape matches the network's first layer."
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

    def _as_loader(self, data, batch_size, shuffle, name):
        if isinstance(data, (tuple, list)) and len(data) == 2 and hasattr(data[0], "shape"):
            if batch_size is None:
                raise ValueError(
                    f"`{name}` was given as arrays (X, y); pass `batch_size` as well, "
                    "or pass a loader such as dl.load_array((X, y), batch_size)."
                )
            return self._ArrayLoader(data[0], data[1], batch_size=batch_size, shuffle=shuffle,
                                     device=self.device)
        if hasattr(data, "__iter__") and not isinstance(data, (str, bytes, dict)):
            if hasattr(data, "__len__") and len(data) == 0:
                raise ValueError(f"`{name}` is empty; it holds no (X, y) batches.")
            return data
        raise TypeError(
            f"Expected `{name}` as a loader of (X, y) batches or a tuple (X, y) of arrays, "
            f"got {describe(data)}."
        )

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
            return self._to_device(loader.X[:loader.batch_size])
        return None

    def _check_labels(self, loader, X):
        """Check once per ``fit`` that class labels fit the network's outputs (before any update)."""
        if not isinstance(loader, BaseArrayLoader) or loader.y is None \
                or not self._expects_class_labels():
            return
        if self._num_classes is None:
            previous = self._set_training(False)
            self._explain = True
            try:
                y_hat = self.predict_step(X)
            finally:
                self._explain = False
                self._set_training(previous)
            self._num_classes = int(y_hat.shape[1]) if y_hat.ndim == 2 else 0
        k = self._num_classes
        if not k:
            return
        low, high = float(loader.y.min().item()), float(loader.y.max().item())
        if low < 0 or high > k - 1:
            raise ValueError(
                f"Expected class labels in [0, {k - 1}] for a network with {k} outputs, "
                f"got labels from {low:g} to {high:g}."
            )

    def _fresh_metrics(self):
        fresh = [copy.copy(m) for m in self._metrics]
        for m in fresh:
            m.reset()
        return fresh

    def _callback_list(self, callbacks, verbose, internal):
        callbacks = list(callbacks or [])
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"Expected Callback objects in `callbacks`, got {describe(cb)}.")
        # A display callback the caller passed replaces the default one of its kind.
        display = [cb for cb in self._default_callbacks(verbose)
                   if not any(isinstance(c, type(cb)) for c in callbacks)]
        return CallbackList(internal + callbacks + display, self)

    def _default_callbacks(self, verbose):
        if verbose is False or verbose == 0:
            return []
        if verbose == "plot":
            return [LivePlot()]
        if verbose is True or verbose == 1:
            return [ProgressBar()]
        if verbose == "auto":
            return [LivePlot()] if _callbacks.in_notebook() else [ProgressBar()]
        raise ValueError(f"Expected `verbose` in ('auto', True, False, 'plot'), got {verbose!r}.")

    # --------------------------------------------------------------- training
    def fit(self, data, epochs=1, validation_data=None, callbacks=None, verbose="auto",
            batch_size=None):
        """Train for ``epochs`` passes over ``data``.

        Parameters
        ----------
        data : loader or tuple (X, y)
            An iterable of ``(X, y)`` batches (e.g. the layer's ``ArrayLoader``),
            or arrays together with ``batch_size`` (shuffled every epoch).
        epochs : int, default 1
        validation_data : loader or tuple (X, y), optional
            Evaluated after every epoch; its metrics get the prefix ``val_``.
        callbacks : sequence of Callback, optional
        verbose : {'auto', True, False, 'plot'}, default 'auto'
            ``'auto'`` draws live learning curves in a notebook and prints a
            line per epoch elsewhere; ``True`` prints; ``'plot'`` plots;
            ``False`` shows nothing. A :class:`~dlbook.callbacks.ProgressBar` or
            :class:`~dlbook.callbacks.LivePlot` in ``callbacks`` replaces the default one.
        batch_size : int, optional
            Only with arrays.

        Returns
        -------
        History
            The trainer's history (it grows over repeated calls of ``fit``).

        Raises
        ------
        FloatingPointError
            If the training loss becomes NaN or infinite (the message names the
            epoch and the first bad batch).
        """
        epochs = check_int("epochs", epochs, minimum=1)
        loader = self._shard(self._as_loader(data, batch_size, True, "data"))
        val_loader = None
        if validation_data is not None:
            val_loader = self._as_loader(validation_data, batch_size, False, "validation_data")
        internal = [TerminateOnNaN(), self.history] + ([self._scheduler] if self._scheduler else [])
        callbacks = self._callback_list(callbacks, verbose, internal)
        num_batches = len(loader) if hasattr(loader, "__len__") else None
        sample = self._sample(loader) if not self._built else None
        if sample is not None:  # before on_train_begin, so callbacks see the optimizer
            self._ensure_built(sample)
        self.stop_training = False
        callbacks.call("on_train_begin", epochs, num_batches)
        first_epoch = len(self.history) + 1
        for epoch in range(first_epoch, first_epoch + epochs):
            callbacks.call("on_epoch_begin", epoch, {})
            start = time.perf_counter()
            logs = self._train_epoch(loader, callbacks, check=epoch == first_epoch)
            if val_loader is not None:
                val_logs = self._test_epoch(val_loader, callbacks, "validation_data")
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            logs["time"] = time.perf_counter() - start
            callbacks.call("on_epoch_end", epoch, logs)
            if self.stop_training:
                break
        callbacks.call("on_train_end", self.history)
        return self.history

    def _train_epoch(self, loader, callbacks=(), check=False):
        """One pass over ``loader``; returns the epoch's logs (one synchronization, plus one per metric)."""
        if not isinstance(callbacks, CallbackList):
            callbacks = CallbackList(callbacks, self)
        begin, end = callbacks.hook("on_train_batch_begin"), callbacks.hook("on_train_batch_end")
        metrics = self._fresh_metrics()
        loss_sum, count = None, 0
        previous = self._set_training(True)
        try:
            for i, batch in enumerate(self._batches(loader, "data"), start=1):
                if i == 1:
                    self._ensure_built(batch[0])
                    if check:  # before the first update changes any parameter
                        self._check_labels(loader, batch[0])
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
    def _test_epoch(self, loader, callbacks, name="data"):
        begin, end = callbacks.hook("on_test_batch_begin"), callbacks.hook("on_test_batch_end")
        metrics = self._fresh_metrics()
        loss_sum, count = None, 0
        previous = self._set_training(False)
        try:
            for i, batch in enumerate(self._batches(loader, name), start=1):
                if i == 1:
                    self._ensure_built(batch[0])
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

    def evaluate(self, data, batch_size=None, callbacks=None):
        """Loss and metrics on ``data`` in inference mode (dropout off, batch-norm running statistics).

        Parameters
        ----------
        data : loader or tuple (X, y)
        batch_size : int, optional
            Only with arrays.
        callbacks : sequence of Callback, optional
            Their ``on_test_batch_begin`` / ``on_test_batch_end`` hooks are called.

        Returns
        -------
        dict
            ``{'loss': ..., 'accuracy': ..., ...}`` (Python floats).
        """
        loader = self._as_loader(data, batch_size, False, "data")
        return self._test_epoch(loader, self._callback_list(callbacks, False, []))

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
