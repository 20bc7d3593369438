"""One way to train: a :class:`Trainer` with ``fit``, ``evaluate`` and ``predict``.

It wraps a Gluon network, a loss, a ``gluon.Trainer`` (the optimizer) and
metrics, in the spirit of Keras' ``Model.fit``. The network is hybridized,
metrics are summed on the device, and the host waits for the device once per
epoch, not once per batch.
"""
import copy
import math
import time

import mxnet as mx
from mxnet import autograd, gluon, init

from .._checks import check_int, describe
from ..callbacks import Callback, LivePlot, ProgressBar, in_notebook
from .data import ArrayLoader
from .distributed import _device_list, _is_sync, check_kvstore, create_kvstore, is_distributed
from .distributed import shard_loader, worker_info
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
    >>> from dlbook.mxnet.train import History
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
        A name from :data:`dlbook.mxnet.metrics.LOSSES` (``'cross_entropy'``, ``'mse'``, ...)
        or a Gluon loss returning one value per example.
    optimizer : str or mxnet.optimizer.Optimizer, default 'sgd'
        Any optimizer MXNet knows by name (``'sgd'``, ``'adam'``, ``'rmsprop'``, ...).
    learning_rate : float, default 0.1
    optimizer_params : dict, optional
        Further optimizer settings, e.g. ``{'momentum': 0.9, 'wd': 1e-4}``.
    metrics : sequence of str, optional
        Names from :data:`dlbook.mxnet.metrics.METRICS` to report besides the loss.
    device : mxnet.Context or list of mxnet.Context, optional
        Default: the first GPU if there is one, else the CPU. With several
        devices every batch is split across them (data parallelism) and their
        gradients are summed by the kvstore; ``self.device`` is the first one.
    initializer : mxnet.init.Initializer, optional
        For uninitialized parameters (default ``init.Xavier()``).
    hybridize : bool, default True
        Compile the network (and loss) into a static graph for speed.
    kvstore : str, mxnet.kvstore.KVStore or None, default 'device'
        How gradients are aggregated (see :data:`dlbook.mxnet.distributed.KVSTORE_TYPES`):
        ``'device'`` or ``'local'`` across the devices of this process;
        ``'dist_sync'`` or ``'dist_async'`` across worker processes through
        MXNet's parameter servers (start the script with ``dlbook launch``).
        In distributed mode ``fit`` trains each worker on its own shard of an
        :class:`~dlbook.mxnet.data.ArrayLoader` (or arrays), with equal-sized batches,
        and ``rank`` and ``num_workers`` tell the workers apart; the history
        records each worker's own training loss. Other loaders must already
        give each worker its own examples in equal-sized batches, and callbacks
        that stop training must decide alike on every worker (e.g. monitor a
        validation metric), or the other workers wait forever.

    Examples
    --------
    >>> from dlbook.mxnet import Trainer, mlp, seed_everything, xor_data, load_array
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
                 metrics=None, device=None, initializer=None, hybridize=True,
                 kvstore="device"):
        _check_block(net)
        devices = _device_list(device)
        kvstore = check_kvstore(kvstore)
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
        # Templates: a fresh copy of each is used for every epoch and evaluation.
        self._metrics = [get_metric(m) for m in (metrics or [])]
        self.metric_names = [m.name for m in self._metrics]
        self.net = net
        self.loss = get_loss(loss)
        self.devices = devices or [try_gpu()]
        self.device = self.devices[0]
        params = net.collect_params()
        fresh = [p for p in params.values() if not _is_initialized(p)]
        if fresh:
            net.initialize(initializer or init.Xavier(), ctx=self.devices)
        elif any(set(map(str, p.list_ctx())) != set(map(str, self.devices))
                 for p in params.values() if p._data is not None):
            params.reset_ctx(self.devices)
        if hybridize:
            if isinstance(net, gluon.HybridBlock):
                net.hybridize(static_alloc=True)
            if isinstance(self.loss, gluon.HybridBlock):
                self.loss.hybridize(static_alloc=True)
        opt_params = dict(optimizer_params or {})
        if isinstance(optimizer, str):
            opt_params.setdefault("learning_rate", float(learning_rate))
        if is_distributed(kvstore):
            kvstore = create_kvstore(kvstore)  # clear errors outside a launched worker
        self.kvstore = kvstore
        self.rank, self.num_workers = worker_info(kvstore)
        # Servers add up the workers' gradients: normalize by the global batch.
        self._step_scale = self.num_workers if _is_sync(kvstore) else 1
        self.optimizer = gluon.Trainer(params, optimizer, opt_params if isinstance(optimizer, str) else None,
                                       kvstore=kvstore)
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
        except (mx.base.MXNetError, ValueError) as err:  # ValueError: failed deferred init
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
            An iterable of ``(X, y)`` batches (e.g. :class:`~dlbook.mxnet.data.ArrayLoader`),
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
            If the training loss becomes NaN or infinite.
        """
        epochs = check_int("epochs", epochs, minimum=1)
        loader = self._as_loader(data, batch_size, True, "data")
        if is_distributed(self.kvstore) and isinstance(loader, ArrayLoader):
            loader = shard_loader(loader, self.rank, self.num_workers)
        val_loader = None
        if validation_data is not None:
            val_loader = self._as_loader(validation_data, batch_size, False, "validation_data")
        callbacks = list(callbacks or [])
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"Expected Callback objects in `callbacks`, got {describe(cb)}.")
        # A display callback the caller passed replaces the default one of its kind.
        callbacks += [cb for cb in self._default_callbacks(verbose)
                      if not any(isinstance(c, type(cb)) for c in callbacks)]
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
                where = f"epoch {epoch}"
                if logs.get("first_bad_batch"):
                    where += f", batch {logs['first_bad_batch']} of {len(loader) if hasattr(loader, '__len__') else '?'}"
                raise FloatingPointError(
                    f"The training loss became {logs['loss']} in {where}. Training stopped "
                    "(the parameters are no longer usable); try a smaller `learning_rate`, "
                    "scaled inputs or gradient clipping."
                )
            if val_loader is not None:
                val_logs = self._evaluate(val_loader, "validation_data")
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
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

    def _fresh_metrics(self):
        fresh = [copy.copy(m) for m in self._metrics]
        for m in fresh:
            m.reset()
        return fresh

    def _train_epoch(self, loader, callbacks, check):
        metrics = self._fresh_metrics()
        loss_sum, count, batch_totals = None, 0, []
        for i, (X, y) in enumerate(self._batches(loader, "data"), start=1):
            if len(self.devices) == 1:
                with autograd.record():
                    y_hat = self._forward(X, first=check and i == 1)
                    loss = self.loss(y_hat, y)
                if check and i == 1:  # before the first update changes any parameter
                    self._check_labels(loader, y_hat)
                loss.backward()
                total = loss.sum()
            else:
                y_hat, total = self._split_forward_backward(X, y, loader, first=check and i == 1)
            self.optimizer.step(X.shape[0] * self._step_scale)
            loss_sum = total if loss_sum is None else loss_sum + total
            batch_totals.append(total)  # kept on the device: no synchronization here
            count += X.shape[0]
            for m in metrics:
                m.update(y_hat, y)
            for cb in callbacks:
                cb.on_batch_end(i)
        logs = {"loss": float(loss_sum.item()) / count}  # the one synchronization
        if not math.isfinite(logs["loss"]):
            totals = mx.np.stack([t.as_in_ctx(self.device) for t in batch_totals]).asnumpy()
            bad = [k for k, t in enumerate(totals, start=1) if not math.isfinite(float(t))]
            logs["first_bad_batch"] = bad[0] if bad else None
            return logs
        logs.update({m.name: m.result() for m in metrics})
        return logs

    def _split_forward_backward(self, X, y, loader, first):
        """Data parallelism in one process: a slice of the batch on each device."""
        if X.shape[0] < len(self.devices):
            raise ValueError(
                f"A batch of {X.shape[0]} examples cannot be split across {len(self.devices)} "
                "devices. Use a batch size (and number of examples) that leaves at least one "
                "example per device in every batch, e.g. a loader with drop_last=True."
            )
        Xs = gluon.utils.split_and_load(X, self.devices, even_split=False)
        ys = gluon.utils.split_and_load(y, self.devices, even_split=False)
        with autograd.record():
            y_hats = [self._forward(Xk, first=first and k == 0) for k, Xk in enumerate(Xs)]
            losses = [self.loss(y_hat, yk) for y_hat, yk in zip(y_hats, ys)]
        if first:
            self._check_labels(loader, y_hats[0])
        for loss in losses:
            loss.backward()
        y_hat = mx.np.concatenate([yh.as_in_ctx(self.device) for yh in y_hats], axis=0)
        total = losses[0].sum()
        for loss in losses[1:]:
            total = total + loss.sum().as_in_ctx(self.device)
        return y_hat, total

    # ------------------------------------------------------------- inference
    def _evaluate(self, loader, name="data"):
        metrics = self._fresh_metrics()
        loss_sum, count = None, 0
        for i, (X, y) in enumerate(self._batches(loader, name), start=1):
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
