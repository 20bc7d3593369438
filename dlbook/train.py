"""One way to train: a :class:`Trainer` with ``fit``, ``evaluate`` and ``predict``.

It wraps a Gluon network, a loss, a ``gluon.Trainer`` (the optimizer) and
metrics, in the spirit of Keras' ``Model.fit``. The network is hybridized,
metrics are summed on the device, and the host waits for the device once per
epoch, not once per batch.
"""
import math
import time

import mxnet as mx
from mxnet import autograd, gluon, init

from ._checks import check_int, describe
from .callbacks import Callback, LivePlot, ProgressBar, in_notebook
from .data import ArrayLoader
from .metrics import get_loss, get_metric
from .utils import _check_block, try_gpu

__all__ = ["History", "Trainer"]


class History:
    """Per-epoch values recorded by :meth:`Trainer.fit`.

    Attributes
    ----------
    history : dict of str to list of float
        For each metric (``loss``, ``accuracy``, ``val_loss``, ..., ``time``) its
        value after every epoch.
    epoch : list of int
        The epochs recorded, counted from 1.

    Examples
    --------
    >>> from dlbook.train import History
    >>> h = History()
    >>> h.append(1, {"loss": 0.9})
    >>> h.append(2, {"loss": 0.5})
    >>> h["loss"], h.last("loss")
    ([0.9, 0.5], 0.5)
    """

    def __init__(self):
        self.history = {}
        self.epoch = []

    def append(self, epoch, logs):
        """Record the logs of one epoch."""
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    def __getitem__(self, key):
        if key not in self.history:
            raise KeyError(f"No metric `{key}` in the history. Available: {sorted(self.history)}.")
        return self.history[key]

    def last(self, key):
        """The value of ``key`` after the last epoch."""
        return self[key][-1]

    def __len__(self):
        return len(self.epoch)

    def __repr__(self):
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if k != "time")
        return f"History(epochs={len(self)}, {last})"


def _is_initialized(param):
    return param._data is not None or bool(param._deferred_init)


@mx.util.use_np
class Trainer:
    """Train, evaluate and use a Gluon network.

    Parameters
    ----------
    net : mxnet.gluon.Block
        The network. Uninitialized parameters are initialized with ``initializer``.
    loss : str or callable
        A name from :data:`dlbook.metrics.LOSSES` (``'cross_entropy'``, ``'mse'``, ...)
        or a Gluon loss returning one value per example.
    optimizer : str or mxnet.optimizer.Optimizer, default 'sgd'
        Any optimizer MXNet knows by name (``'sgd'``, ``'adam'``, ``'rmsprop'``, ...).
    learning_rate : float, default 0.1
    optimizer_params : dict, optional
        Further optimizer settings, e.g. ``{'momentum': 0.9, 'wd': 1e-4}``.
    metrics : sequence of str, optional
        Names from :data:`dlbook.metrics.METRICS` to report besides the loss.
    device : mxnet.Context, optional
        Default: the first GPU if there is one, else the CPU.
    initializer : mxnet.init.Initializer, optional
        For uninitialized parameters (default ``init.Xavier()``).
    hybridize : bool, default True
        Compile the network (and loss) into a static graph for speed.

    Examples
    --------
    >>> from dlbook import Trainer, mlp, seed_everything, xor_data, load_array
    >>> seed_everything(0)
    >>> X, y = xor_data(num_examples=200, noise=0.1)
    >>> trainer = Trainer(mlp(hidden=8, num_outputs=2, activation="tanh"),
    ...                   loss="cross_entropy", optimizer="adam", learning_rate=0.05,
    ...                   metrics=["accuracy"])
    >>> history = trainer.fit(load_array((X, y), batch_size=20), epochs=20, verbose=False)
    >>> history.last("accuracy")
    1.0
    """

    def __init__(self, net, loss, optimizer="sgd", learning_rate=0.1, optimizer_params=None,
                 metrics=None, device=None, initializer=None, hybridize=True):
        _check_block(net)
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) \
                or not learning_rate > 0 or math.isinf(learning_rate):
            raise ValueError(f"Expected `learning_rate` > 0, got {learning_rate!r}.")
        if optimizer_params is not None and not isinstance(optimizer_params, dict):
            raise TypeError(f"Expected `optimizer_params` as a dict, got {describe(optimizer_params)}.")
        if isinstance(optimizer, str):
            known = mx.optimizer.Optimizer.opt_registry
            if optimizer.lower() not in known:
                raise ValueError(
                    f"Unknown `optimizer` {optimizer!r}. Expected one of: "
                    f"{', '.join(sorted(known))}."
                )
        elif not isinstance(optimizer, mx.optimizer.Optimizer):
            raise TypeError(f"Expected `optimizer` as a name or an Optimizer, got {describe(optimizer)}.")
        if isinstance(metrics, str):
            metrics = [metrics]
        self.metric_names = [get_metric(m).name for m in (metrics or [])]
        self.net = net
        self.loss = get_loss(loss)
        self.device = device or try_gpu()
        params = net.collect_params()
        fresh = [p for p in params.values() if not _is_initialized(p)]
        if fresh:
            net.initialize(initializer or init.Xavier(), ctx=self.device)
        elif any(self.device not in p.list_ctx() for p in params.values() if p._data is not None):
            params.reset_ctx(self.device)
        if hybridize:
            if isinstance(net, gluon.HybridBlock):
                net.hybridize(static_alloc=True)
            if isinstance(self.loss, gluon.HybridBlock):
                self.loss.hybridize(static_alloc=True)
        opt_params = dict(optimizer_params or {})
        if isinstance(optimizer, str):
            opt_params.setdefault("learning_rate", float(learning_rate))
        self.optimizer = gluon.Trainer(params, optimizer, opt_params if isinstance(optimizer, str) else None)
        self.history = History()
        self.stop_training = False

    # ------------------------------------------------------------------ data
    def _as_loader(self, data, batch_size, shuffle, name):
        if isinstance(data, (tuple, list)) and len(data) == 2 and hasattr(data[0], "shape"):
            if batch_size is None:
                raise ValueError(
                    f"`{name}` was given as arrays (X, y); pass `batch_size` as well, "
                    "or pass a loader such as dlbook.load_array((X, y), batch_size)."
                )
            return ArrayLoader(data[0], data[1], batch_size=batch_size, shuffle=shuffle,
                               device=self.device)
        if isinstance(data, (ArrayLoader, gluon.data.DataLoader)) or (
                hasattr(data, "__iter__") and not isinstance(data, (str, bytes, dict))):
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
            X, y = batch
            count += 1
            yield X.as_in_ctx(self.device), y.as_in_ctx(self.device)
        if count == 0:
            raise ValueError(f"`{name}` yielded no batches; it is empty.")

    def _forward(self, X, first):
        if not first:
            return self.net(X)
        try:
            return self.net(X)
        except mx.base.MXNetError as err:
            summary = str(err).strip().splitlines()[0][:300]
            raise ValueError(
                f"The network could not process a batch of shape {tuple(X.shape)}: {summary}. "
                "Check that the input shape matches the network's first layer."
            ) from err

    def _check_labels(self, loader, y_hat):
        """Check once per call that class labels fit the network's outputs."""
        if not isinstance(loader, ArrayLoader) or loader.y is None:
            return
        if type(self.loss).__name__ != "SoftmaxCrossEntropyLoss" or y_hat.ndim != 2:
            return
        low, high = float(loader.y.min().item()), float(loader.y.max().item())
        k = int(y_hat.shape[1])
        if low < 0 or high > k - 1:
            raise ValueError(
                f"Expected class labels in [0, {k - 1}] for a network with {k} outputs, "
                f"got labels from {low:g} to {high:g}."
            )

    # --------------------------------------------------------------- training
    def fit(self, data, epochs=1, validation_data=None, callbacks=None, verbose="auto",
            batch_size=None):
        """Train for ``epochs`` passes over ``data``.

        Parameters
        ----------
        data : loader or tuple (X, y)
            An iterable of ``(X, y)`` batches (e.g. :class:`~dlbook.data.ArrayLoader`),
            or arrays together with ``batch_size`` (shuffled every epoch).
        epochs : int, default 1
        validation_data : loader or tuple (X, y), optional
            Evaluated after every epoch; its metrics get the prefix ``val_``.
        callbacks : sequence of Callback, optional
        verbose : {'auto', True, False, 'plot'}, default 'auto'
            ``'auto'`` draws live learning curves in a notebook and prints a
            line per epoch elsewhere; ``True`` prints; ``'plot'`` plots;
            ``False`` shows nothing.
        batch_size : int, optional
            Only with arrays.

        Returns
        -------
        History
            The trainer's history (it grows over repeated calls of ``fit``).

        Raises
        ------
        FloatingPointError
            If the training loss becomes NaN or infinite.
        """
        epochs = check_int("epochs", epochs, minimum=1)
        loader = self._as_loader(data, batch_size, True, "data")
        val_loader = None
        if validation_data is not None:
            val_loader = self._as_loader(validation_data, batch_size, False, "validation_data")
        callbacks = list(callbacks or [])
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"Expected Callback objects in `callbacks`, got {describe(cb)}.")
        callbacks += self._default_callbacks(verbose)
        for cb in callbacks:
            cb.trainer = self
        num_batches = len(loader) if hasattr(loader, "__len__") else None
        self.stop_training = False
        for cb in callbacks:
            cb.on_train_begin(epochs, num_batches)
        first_epoch = len(self.history) + 1
        for epoch in range(first_epoch, first_epoch + epochs):
            for cb in callbacks:
                cb.on_epoch_begin(epoch)
            start = time.perf_counter()
            logs = self._train_epoch(loader, callbacks, check=epoch == first_epoch)
            if not math.isfinite(logs["loss"]):
                raise FloatingPointError(
                    f"The training loss became {logs['loss']} in epoch {epoch}. Training "
                    "stopped; try a smaller `learning_rate`, scaled inputs or gradient clipping."
                )
            if val_loader is not None:
                logs.update({f"val_{k}": v for k, v in self._evaluate(val_loader).items()})
            logs["time"] = time.perf_counter() - start
            self.history.append(epoch, logs)
            for cb in callbacks:
                cb.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        for cb in callbacks:
            cb.on_train_end(self.history)
        return self.history

    def _default_callbacks(self, verbose):
        if verbose is False or verbose == 0:
            return []
        if verbose == "plot":
            return [LivePlot()]
        if verbose is True or verbose == 1:
            return [ProgressBar()]
        if verbose == "auto":
            return [LivePlot()] if in_notebook() else [ProgressBar()]
        raise ValueError(f"Expected `verbose` in ('auto', True, False, 'plot'), got {verbose!r}.")

    def _train_epoch(self, loader, callbacks, check):
        metrics = [get_metric(m) for m in self.metric_names]
        loss_sum, count = None, 0
        for i, (X, y) in enumerate(self._batches(loader, "data"), start=1):
            with autograd.record():
                y_hat = self._forward(X, first=check and i == 1)
                loss = self.loss(y_hat, y)
            loss.backward()
            self.optimizer.step(X.shape[0])
            if check and i == 1:
                self._check_labels(loader, y_hat)
            total = loss.sum()
            loss_sum = total if loss_sum is None else loss_sum + total
            count += X.shape[0]
            for m in metrics:
                m.update(y_hat, y)
            for cb in callbacks:
                cb.on_batch_end(i)
        logs = {"loss": float(loss_sum.item()) / count}  # the one synchronization
        logs.update({m.name: m.result() for m in metrics})
        return logs

    # ------------------------------------------------------------- inference
    def _evaluate(self, loader):
        metrics = [get_metric(m) for m in self.metric_names]
        loss_sum, count = None, 0
        for i, (X, y) in enumerate(self._batches(loader, "data"), start=1):
            y_hat = self._forward(X, first=i == 1)
            total = self.loss(y_hat, y).sum()
            loss_sum = total if loss_sum is None else loss_sum + total
            count += X.shape[0]
            for m in metrics:
                m.update(y_hat, y)
        logs = {"loss": float(loss_sum.item()) / count}
        logs.update({m.name: m.result() for m in metrics})
        return logs

    def evaluate(self, data, batch_size=None):
        """Loss and metrics on ``data`` in inference mode (dropout off, batch-norm running statistics).

        Returns
        -------
        dict
            ``{'loss': ..., 'accuracy': ..., ...}``
        """
        return self._evaluate(self._as_loader(data, batch_size, False, "data"))

    def predict(self, X, batch_size=256):
        """Network outputs for ``X`` (an array of examples), in inference mode.

        Returns
        -------
        mxnet.numpy.ndarray
            One row of outputs per example (class scores or logits, not probabilities).
        """
        loader = ArrayLoader(X, batch_size=min(check_int("batch_size", batch_size, minimum=1),
                                               len(X) if hasattr(X, "__len__") else 1),
                             device=self.device)
        outputs = [self._forward(xb, first=i == 0) for i, xb in enumerate(loader)]
        return mx.np.concatenate(outputs, axis=0)

    def __repr__(self):
        return (f"Trainer(net={type(self.net).__name__}, loss={type(self.loss).__name__}, "
                f"optimizer={type(self.optimizer._optimizer).__name__}, "
                f"metrics={self.metric_names}, device={self.device}, epochs={len(self.history)})")
