"""One way to train: a :class:`Trainer` with ``fit``, ``evaluate`` and ``predict``.

It wraps a Gluon network, a loss, a ``gluon.Trainer`` (the optimizer) and
metrics, in the spirit of Keras' ``Model.fit``. The loop itself (epochs,
callbacks, history, progress, validation, the NaN check, schedules) is
:class:`dlbook.training.BaseTrainer`'s, shared with the PyTorch layer; this
module supplies the MXNet step, tensors and devices. The network is
hybridized, metrics are summed on the device, and the host waits for the
device once per epoch, not once per batch.
"""
import inspect

import mxnet as mx
from mxnet import autograd, gluon, init

from .._checks import check_bool, describe
from ..callbacks import History
from ..training import (
    BaseTrainer,
    check_initializer_name,
    check_learning_rate,
    check_optimizer_keys,
    check_optimizer_name,
    check_optimizer_params,
    optimizer_type_error,
)
from ._gluon import give_shape, has_value, is_initialized, params_by_path
from ..checkpoint import CheckpointError
from .checkpoint import check_checkpointable, optimizer_state, restore_optimizer_state
from .data import ArrayLoader
from .distributed import _device_list, _is_sync, check_kvstore, create_kvstore, is_distributed
from .distributed import shard_loader, worker_info
from .metrics import get_loss, get_metric, loss_name
from .utils import _check_block, try_gpu

__all__ = ["History", "Trainer", "get_initializer"]

_INITIALIZERS = {
    "xavier": lambda: init.Xavier(),
    "he": lambda: init.Xavier(rnd_type="gaussian", factor_type="in", magnitude=2),
    "normal": lambda: init.Normal(0.01),
    "uniform": lambda: init.Uniform(0.07),
    "zeros": lambda: init.Zero(),
    "ones": lambda: init.One(),
}


def get_initializer(initializer):
    """An ``mxnet.init.Initializer`` for a name of :data:`dlbook.training.INITIALIZERS`.

    ``'xavier'`` (the default for None) is ``init.Xavier()`` (uniform,
    ``sqrt(6 / (fan_in + fan_out))``), ``'he'`` a normal with standard
    deviation ``sqrt(2 / fan_in)``, ``'normal'`` N(0, 0.01), ``'uniform'``
    U(-0.07, 0.07), ``'zeros'`` and ``'ones'`` constants. Biases start at 0 in
    any case (Gluon layers set that themselves). An Initializer is passed through.

    Parameters
    ----------
    initializer : str, mxnet.init.Initializer or None
        A name of :data:`dlbook.training.INITIALIZERS` (an unknown name raises
        ValueError and lists the names), an Initializer (returned as it is), or
        None for ``'xavier'``. Anything else raises TypeError.

    Returns
    -------
    mxnet.init.Initializer

    Examples
    --------
    >>> from dlbook.mxnet.train import get_initializer
    >>> type(get_initializer("he")).__name__, type(get_initializer(None)).__name__
    ('Xavier', 'Xavier')
    """
    if initializer is None:
        return init.Xavier()
    if isinstance(initializer, str):
        return _INITIALIZERS[check_initializer_name(initializer)]()
    if isinstance(initializer, mx.init.Initializer):
        return initializer
    raise TypeError(
        "Expected `initializer` as a name such as 'xavier' or 'he', or an "
        f"mxnet.init.Initializer, got {describe(initializer)}."
    )


#: Arguments of mx.optimizer.Optimizer that the Trainer sets itself or that name internals.
_INTERNAL_KEYS = {"self", "param_idx2name", "sym", "param_dict", "kwargs"}


def _optimizer_keys(name):
    """The ``optimizer_params`` keys MXNet's optimizer ``name`` takes (its own and the base class's)."""
    keys = set()
    for cls in (mx.optimizer.Optimizer.opt_registry[name], mx.optimizer.Optimizer):
        keys |= set(inspect.signature(cls.__init__).parameters)
    return keys - _INTERNAL_KEYS


@mx.optimizer.Optimizer.register
class AdamW(mx.optimizer.Optimizer):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), MXNet's optimizer ``'adamw'``.

    MXNet 1.9 has no AdamW optimizer (only the ``adamw_update`` operator); this
    one, registered when ``dlbook.mxnet`` is imported, takes the steps of
    ``torch.optim.AdamW``, so ``Trainer(..., optimizer='adamw')`` trains alike
    in both layers. Introduced in the book's chapter on optimization. Per
    parameter and update ``t``, with ``g`` the (rescaled, clipped) gradient::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        w = w * (1 - lr * wd) - lr / (1 - beta1 ** t) * m / (sqrt(v / (1 - beta2 ** t)) + epsilon)

    ``'adam'`` with ``wd`` instead adds ``wd * w`` to the gradient (an L2
    penalty), which Adam then divides by ``sqrt(v)``; here every weight shrinks
    by the same factor ``1 - lr * wd``, apart from the gradient step.

    Parameters
    ----------
    learning_rate : float, default 0.001
    beta1 : float, default 0.9
    beta2 : float, default 0.999
    epsilon : float, default 1e-8
    wd : float, default 0.01
        The decoupled weight decay (PyTorch's default for AdamW).
    **kwargs
        Other arguments of ``mxnet.optimizer.Optimizer`` (``clip_gradient``, ...).

    Examples
    --------
    >>> import mxnet as mx
    >>> import dlbook.mxnet  # registers 'adamw'
    >>> opt = mx.optimizer.create("adamw", learning_rate=0.1, wd=0.5)
    >>> w, g = mx.nd.array([1.0, -2.0]), mx.nd.array([0.0, 0.0])
    >>> opt.update(0, w, g, opt.create_state(0, w))  # a zero gradient: only the decay
    >>> w.asnumpy().round(3).tolist()
    [0.95, -1.9]
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, wd=0.01,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, wd=wd, **kwargs)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon

    def create_state(self, index, weight):
        """The two moving averages (mean, variance), zeros like ``weight``."""
        return (mx.nd.zeros(weight.shape, weight.context, dtype=weight.dtype),
                mx.nd.zeros(weight.shape, weight.context, dtype=weight.dtype))

    def update(self, index, weight, grad, state):
        """One AdamW step of ``weight`` (in place)."""
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        t = self._index_update_count[index]
        grad = grad * self.rescale_grad
        if self.clip_gradient is not None:
            grad = mx.nd.clip(grad, -self.clip_gradient, self.clip_gradient)
        mean, var = state
        mean[:] = self.beta1 * mean + (1.0 - self.beta1) * grad
        var[:] = self.beta2 * var + (1.0 - self.beta2) * grad * grad
        denom = mx.nd.sqrt(var) / ((1.0 - self.beta2 ** t) ** 0.5) + self.epsilon
        weight[:] = weight * (1.0 - lr * wd) - (lr / (1.0 - self.beta1 ** t)) * mean / denom


class SGD(mx.optimizer.SGD):
    """MXNet's SGD with one ``sgd_update`` per parameter: the optimizer behind ``optimizer='sgd'``.

    The same update rule, arguments and states as ``mx.optimizer.SGD`` (the
    weights come out bit for bit the same), only faster: MXNet 1.9's SGD sends
    every dense parameter through the fused ``multi_sgd_update`` operator, which
    on a CPU takes about twice as long as ``sgd_update`` (``sgd_mom_update``
    with momentum), one parameter at a time (``bench/experiments.md``: the MLP
    of the benchmark trains 1.18 times as fast). Half-precision weights with
    ``multi_precision`` and sparse gradients take MXNet's own path. The
    Trainer uses it for ``'sgd'`` in one process; a distributed kvstore gets
    MXNet's, which its servers unpickle.

    Parameters
    ----------
    momentum : float, default 0.0
        The momentum; 0 keeps no state.
    lazy_update : bool, default True
        For row-sparse weights and gradients, update only the rows present.
    **kwargs
        Arguments of ``mxnet.optimizer.Optimizer``: ``learning_rate``, ``wd``,
        ``clip_gradient``, ``rescale_grad``, ``multi_precision``, ...

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.train import SGD
    >>> w, g = mx.nd.array([1.0, -2.0]), mx.nd.array([0.5, 0.5])
    >>> w2 = w.copy()
    >>> SGD(learning_rate=0.1).update(0, w, g, None)
    >>> mx.optimizer.SGD(learning_rate=0.1).update(0, w2, g, None)
    >>> w.asnumpy().tolist(), (w == w2).asnumpy().all()
    ([0.949999988079071, -2.049999952316284], True)
    """

    def __init__(self, momentum=0.0, lazy_update=True, **kwargs):
        super().__init__(momentum=momentum, lazy_update=lazy_update, **kwargs)
        self.aggregate_num = 0  # the updater hands over one parameter at a time

    def _update_impl(self, indices, weights, grads, states, multi_precision=False):
        if not isinstance(indices, (tuple, list)):
            indices, weights, grads, states = [indices], [weights], [grads], [states]
        if multi_precision or any(a.stype != "default" for a in (*weights, *grads)):
            return super()._update_impl(indices, weights, grads, states, multi_precision)
        self._update_count(indices)
        kwargs = {"rescale_grad": self.rescale_grad}
        if self.clip_gradient:
            kwargs["clip_gradient"] = self.clip_gradient
        for weight, grad, state, lr, wd in zip(weights, grads, states, self._get_lrs(indices),
                                               self._get_wds(indices)):
            if state is not None:
                mx.nd.sgd_mom_update(weight, grad, state, out=weight, lr=lr, wd=wd,
                                     momentum=self.momentum, lazy_update=self.lazy_update,
                                     **kwargs)
            else:
                mx.nd.sgd_update(weight, grad, out=weight, lr=lr, wd=wd,
                                 lazy_update=self.lazy_update, **kwargs)
        return None


class Trainer(BaseTrainer):
    """Train, evaluate and use a Gluon network.

    Introduced in the book's chapter on training; the loop is shared with
    :class:`dlbook.torch.train.Trainer` (same arguments, same behaviour).

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
    metrics : str, dlbook.metrics.Metric, function or a sequence of them, optional
        What to report besides the loss: names from :data:`dlbook.mxnet.metrics.METRICS`
        (``'accuracy'``, ``'mse'``, ``'mae'``), :class:`dlbook.mxnet.metrics.Metric`
        objects, or functions ``f(y_true, y_pred) -> float`` of NumPy arrays
        (:class:`dlbook.metrics.FunctionMetric`: exact over each epoch).
    device : mxnet.Context or list of mxnet.Context, optional
        Default: the first GPU if there is one, else the CPU. With several
        devices every batch is split across them (data parallelism) and their
        gradients are summed by the kvstore; ``self.device`` is the first one.
    initializer : str or mxnet.init.Initializer, optional
        For uninitialized parameters: a name of :data:`dlbook.training.INITIALIZERS`
        (``'xavier'``, the default, ``'he'``, ``'normal'``, ...) or an Initializer.
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
    lr_schedule : str or dlbook.schedules.Schedule, optional
        Scale the learning rate before every update: ``'cosine'``, ``'step'``,
        ``'warmup'``, ``'constant'`` or a schedule object such as
        ``dlbook.schedules.Cosine(total=1000, warmup=100)`` (see :mod:`dlbook.schedules`).

    Notes
    -----
    Parameters whose shapes come from the data (Gluon's deferred initialization, e.g.
    ``Dense`` without ``in_units``) are drawn at the first batch, from the framework's
    global random generator as it is then, not when the Trainer is built. Two Trainers
    built one after the other start from weights that depend on which of them sees a
    batch first: seed (``seed_everything``) right before each one's first ``fit``,
    ``evaluate`` or ``predict`` for weights that do not.

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
    >>> trainer.predict(X[:3]).shape  # a NumPy array
    (3, 2)
    """

    _ArrayLoader = ArrayLoader
    _shape_errors = (mx.base.MXNetError, ValueError)  # ValueError: failed deferred init
    _framework = "mxnet"
    _built = True  # Gluon initializes deferred parameters in the first forward pass

    def __init__(self, net, loss, optimizer="sgd", learning_rate=0.1, optimizer_params=None,
                 metrics=None, device=None, initializer=None, hybridize=True,
                 kvstore="device", lr_schedule=None):
        _check_block(net)
        hybridize = check_bool("hybridize", hybridize)
        devices = _device_list(device)
        kvstore = check_kvstore(kvstore)
        learning_rate = check_learning_rate(learning_rate)
        opt_params = check_optimizer_params(optimizer_params)
        if isinstance(optimizer, str):
            name = check_optimizer_name(optimizer, mx.optimizer.Optimizer.opt_registry)
            check_optimizer_keys(opt_params, name, _optimizer_keys(name))
            opt_params.setdefault("learning_rate", learning_rate)
            base_lr = opt_params["learning_rate"]
        elif isinstance(optimizer, mx.optimizer.Optimizer):
            base_lr = optimizer.learning_rate
        else:
            raise optimizer_type_error(optimizer)
        initializer = get_initializer(initializer)
        self._init_loop(metrics, lr_schedule, base_lr, get_metric)
        self.net = net
        self.loss = get_loss(loss)
        self.devices = devices or [try_gpu()]
        self.device = self.devices[0]
        params = net.collect_params()
        fresh = [p for p in params.values() if not is_initialized(p)]
        if fresh:
            net.initialize(initializer, ctx=self.devices)
        elif any(set(map(str, p.list_ctx())) != set(map(str, self.devices))
                 for p in params.values() if has_value(p)):
            params.reset_ctx(self.devices)
        if hybridize:
            if isinstance(net, gluon.HybridBlock):
                net.hybridize(static_alloc=True)
            if isinstance(self.loss, gluon.HybridBlock):
                self.loss.hybridize(static_alloc=True)
        if is_distributed(kvstore):
            kvstore = create_kvstore(kvstore)  # clear errors outside a launched worker
        self.kvstore = kvstore
        self.rank, self.num_workers = worker_info(kvstore)
        # Servers add up the workers' gradients: normalize by the global batch.
        self._step_scale = self.num_workers if _is_sync(kvstore) else 1
        if isinstance(optimizer, str):
            if name == "sgd" and not is_distributed(kvstore):  # the same rule, faster
                optimizer, opt_params = SGD(**opt_params), None
        else:
            opt_params = None
        self.optimizer = gluon.Trainer(params, optimizer, opt_params, kvstore=kvstore)

    # ------------------------------------------------------------------ the step
    def train_step(self, batch):
        """One update with ``batch = (X, y)``; returns ``(y_hat, loss)``, one loss per example.

        Override it to change how a batch trains the network; the loop
        (callbacks, history, metrics, validation) stays the same. Return the
        outputs and the per-example losses without reading them (no
        ``.item()``, ``.asnumpy()``): the loop adds them up on the device.

        Examples
        --------
        Clip the gradient norm before every update. The step backpropagates the
        batch's mean loss (and steps by 1), so the norm that is clipped is that of
        the gradient the update uses; the default step backpropagates the sum and
        divides by the batch size in ``step``:

        >>> from mxnet import autograd
        >>> from dlbook.mxnet import Trainer, mlp, load_array, xor_data
        >>> from dlbook.mxnet.sequence import grad_clipping
        >>> class ClippedTrainer(Trainer):
        ...     def train_step(self, batch):
        ...         X, y = batch
        ...         with autograd.record():
        ...             y_hat = self.net(X)
        ...             loss = self.loss(y_hat, y)
        ...             mean = loss.mean()
        ...         mean.backward()
        ...         grad_clipping(self.net, 1.0)  # reads the norm: one wait per batch
        ...         self.optimizer.step(1)
        ...         return y_hat, loss
        >>> trainer = ClippedTrainer(mlp(hidden=4, num_outputs=2), "cross_entropy")
        >>> len(trainer.fit(load_array(xor_data(), batch_size=2), epochs=2, verbose=False))
        2
        """
        X, y = batch
        if len(self.devices) == 1:
            with autograd.record():
                y_hat = self._forward(X)
                loss = self.loss(y_hat, y)
            loss.backward()
        else:
            y_hat, loss = self._split_forward_backward(X, y)
        self.optimizer.step(X.shape[0] * self._step_scale)
        return y_hat, loss

    def _split_forward_backward(self, X, y):
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
            y_hats = [self._forward(Xk) for Xk in Xs]
            losses = [self.loss(y_hat, yk) for y_hat, yk in zip(y_hats, ys)]
        for loss in losses:
            loss.backward()
        y_hat = mx.np.concatenate([yh.as_in_ctx(self.device) for yh in y_hats], axis=0)
        loss = mx.np.concatenate([lk.as_in_ctx(self.device) for lk in losses], axis=0)
        return y_hat, loss

    # ------------------------------------------------------- layer hooks
    def _no_grad(self):
        return autograd.pause(train_mode=False)

    def _to_device(self, array):
        if hasattr(array, "as_in_ctx"):
            return array.as_in_ctx(self.device)
        return mx.np.array(array, ctx=self.device)

    def _detach(self, array):
        return array  # nothing is recorded outside autograd.record()

    def _outputs_to_numpy(self, outputs):
        return mx.np.concatenate(outputs, axis=0).asnumpy()

    def _set_training(self, flag):
        # Gluon's mode is set per call by autograd.record(). A stateful network
        # (sequence.RNNModel) starts an inference pass from zeros, as a torch module does
        # when the Trainer calls its eval().
        if flag is False and callable(getattr(self.net, "reset_state", None)):
            self.net.reset_state()
        return None

    def _loss_name(self):
        return loss_name(self.loss)

    def _shard(self, loader):
        if is_distributed(self.kvstore) and isinstance(loader, ArrayLoader):
            return shard_loader(loader, self.rank, self.num_workers)
        return loader

    @property
    def learning_rate(self):
        """The learning rate of the next update (``lr_schedule`` changes it)."""
        return self.optimizer.learning_rate

    def set_learning_rate(self, learning_rate):
        """Use ``learning_rate`` from the next update on."""
        self.optimizer.set_learning_rate(learning_rate)

    def _optimizer_name(self):
        return type(self.optimizer._optimizer).__name__

    def _copy_weights(self):
        return {k: p.data().copy() for k, p in self.net.collect_params().items()}

    def _restore_weights(self, weights):
        for k, p in self.net.collect_params().items():
            p.set_data(weights[k])

    # ------------------------------------------------- checkpoint hooks
    def _checkpoint_params(self):
        params = params_by_path(self.net)  # structural names: "0.weight", ...
        if not all(has_value(p) for p in params.values()):  # shapes still deferred
            raise CheckpointError(
                "Nothing to save yet: the network's deferred parameters get their shapes from "
                "the first batch. Train, evaluate or predict once before saving.")
        return {name: p.data().asnumpy() for name, p in params.items()}

    def _param_shapes(self):
        params = params_by_path(self.net)
        # a deferred dimension is 0 in Gluon (Dense(5) without in_units: (5, 0)); None here
        return {name: None if p.shape is None else tuple(d if d > 0 else None for d in p.shape)
                for name, p in params.items()}

    def _checkpoint_optimizer(self, arrays):
        return optimizer_state(self, arrays)

    def _restore_params(self, values):
        params = params_by_path(self.net)
        for name, array in values.items():
            param = params[name]
            value = mx.np.array(array, dtype=array.dtype, ctx=self.device)
            if not has_value(param):  # deferred initialization: give it its shape now
                give_shape(param, value.shape)
            param.set_data(value)

    def _restore_optimizer(self, manifest, arrays):
        restore_optimizer_state(self, manifest, arrays)

    def _check_checkpointable(self, loading=False):
        check_checkpointable(self, loading)


# MXNet's NumPy mode for every entry point (the loop's methods run inside them). Not
# `@use_np` on the class: that wraps every small hook too, and each wrapped call costs
# about 8 microseconds, several times per batch.
for _name in ("__init__", "fit", "evaluate", "predict", "_train_epoch", "_copy_weights",
              "_restore_weights", "_checkpoint_params", "_param_shapes", "_checkpoint_optimizer",
              "_restore_params", "_restore_optimizer"):
    setattr(Trainer, _name, mx.util.use_np(getattr(Trainer, _name)))
del _name
