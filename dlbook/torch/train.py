"""One way to train: a :class:`Trainer` with ``fit``, ``evaluate`` and ``predict`` (PyTorch).

The same trainer as :class:`dlbook.mxnet.train.Trainer`, with the same
arguments, behaviour and error messages: the loop (epochs, callbacks,
history, progress, validation, the NaN check, schedules) is
:class:`dlbook.training.BaseTrainer`'s, and this module supplies the PyTorch
step, tensors and device.

What differs from MXNet, and why:

- The network is a ``torch.nn.Module``. Lazy layers (``nn.LazyLinear``, used by
  :func:`dlbook.torch.models.mlp`, like Gluon's deferred shapes) get their
  shapes from a dry run with the first batch (no gradients, inference mode),
  which happens before the first update; then ``initializer`` sets their
  values and the ``torch.optim`` optimizer is created over them. Until then
  ``trainer.optimizer`` is None.
- PyTorch runs eagerly: ``hybridize`` is accepted and does nothing
  (``torch.compile`` would compile the network, but on a CPU compiling takes
  longer than it saves for the book's small models).
- One device per process. For several GPUs start one worker process per GPU
  with ``kvstore='dist_sync'`` (``dlbook launch --framework torch -n 2 python
  train.py``): the gradients are averaged by an all-reduce
  (:mod:`dlbook.torch.distributed`).
"""
import torch
from torch import nn

from .._checks import check_bool, describe
from ..callbacks import History
from ..checkpoint import CheckpointError, pack_state, unpack_state
from ..training import (
    BaseTrainer,
    check_initializer_name,
    check_learning_rate,
    check_optimizer_keys,
    check_optimizer_name,
    check_optimizer_params,
    optimizer_type_error,
)
from .data import ArrayLoader
from .devices import check_device, try_gpu
from .distributed import check_kvstore, create_kvstore, is_distributed, shard_loader, worker_info
from .metrics import get_loss, get_metric, loss_name
from .summaries import _check_module

__all__ = ["History", "Trainer", "OPTIMIZERS", "get_initializer"]

#: Optimizers by name, with the defaults that differ from PyTorch's so that they match MXNet's.
OPTIMIZERS = {
    "sgd": (torch.optim.SGD, {}),
    "adam": (torch.optim.Adam, {}),
    "rmsprop": (torch.optim.RMSprop, {"alpha": 0.9}),  # MXNet's gamma1 = 0.9
    "adagrad": (torch.optim.Adagrad, {"eps": 1e-7}),  # MXNet's eps
    "adamw": (torch.optim.AdamW, {}),
    # MXNet's NAG is SGD with Nesterov momentum (the same update: v <- m v + g, w <- w - lr (g + m v)).
    "nag": (torch.optim.SGD, {}),
}

# `optimizer_params` keys (MXNet's names) and the torch.optim argument each becomes.
_COMMON_KEYS = {"learning_rate": "lr", "wd": "weight_decay", "clip_gradient": None}
_KEYS = {
    "sgd": {"momentum": "momentum", "nesterov": "nesterov"},
    "nag": {"momentum": "momentum"},
    "adam": {"beta1": "betas", "beta2": "betas", "epsilon": "eps", "amsgrad": "amsgrad"},
    "adamw": {"beta1": "betas", "beta2": "betas", "epsilon": "eps", "amsgrad": "amsgrad"},
    "rmsprop": {"gamma1": "alpha", "epsilon": "eps", "centered": "centered", "momentum": "momentum"},
    "adagrad": {"eps": "eps", "epsilon": "eps"},
}


def _optimizer_arguments(name, params, learning_rate):
    """torch.optim keyword arguments for MXNet-style ``optimizer_params``, and the gradient clip."""
    allowed = {**_COMMON_KEYS, **_KEYS[name]}
    check_optimizer_keys(params, name, allowed)
    kwargs = dict(OPTIMIZERS[name][1])
    kwargs["lr"] = float(params.get("learning_rate", learning_rate))
    betas = [0.9, 0.999]
    for key, value in params.items():
        target = allowed[key]
        if key == "beta1":
            betas[0] = value
        elif key == "beta2":
            betas[1] = value
        elif target is not None and key != "learning_rate":
            kwargs[target] = value
    if "beta1" in params or "beta2" in params:
        kwargs["betas"] = tuple(betas)
    if name == "nag" and kwargs.get("momentum", 0.0) > 0:  # torch refuses Nesterov without momentum;
        kwargs["nesterov"] = True                          # with none, NAG is plain SGD in both
    clip = params.get("clip_gradient")
    return kwargs, None if clip is None else float(clip)


_INITIALIZERS = {
    "xavier": nn.init.xavier_uniform_,
    "he": lambda w: nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu"),
    "normal": lambda w: nn.init.normal_(w, 0.0, 0.01),
    "uniform": lambda w: nn.init.uniform_(w, -0.07, 0.07),
    "zeros": nn.init.zeros_,
    "ones": nn.init.ones_,
}


def get_initializer(initializer):
    """A function that initializes a weight tensor in place, for a name of :data:`dlbook.training.INITIALIZERS`.

    The names mean what they mean in the MXNet layer: ``'xavier'`` (the
    default for None) is ``nn.init.xavier_uniform_`` (``sqrt(6 / (fan_in +
    fan_out))``, as MXNet's ``init.Xavier()``), ``'he'`` a normal with standard
    deviation ``sqrt(2 / fan_in)``, ``'normal'`` N(0, 0.01), ``'uniform'``
    U(-0.07, 0.07), ``'zeros'`` and ``'ones'`` constants. A callable (e.g.
    ``torch.nn.init.orthogonal_``) is passed through.

    Parameters
    ----------
    initializer : str, callable or None
        A name of :data:`dlbook.training.INITIALIZERS` (an unknown name raises
        ValueError and lists the names), a function ``f(weight)`` that
        initializes a tensor in place (returned as it is), or None for
        ``'xavier'``. Anything else raises TypeError.

    Returns
    -------
    callable
        ``f(weight)``, which fills the tensor ``weight`` in place.

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.train import get_initializer
    >>> w = torch.empty(3, 4)
    >>> _ = get_initializer("ones")(w)
    >>> w.sum().item()
    12.0
    """
    if initializer is None:
        return _INITIALIZERS["xavier"]
    if isinstance(initializer, str):
        return _INITIALIZERS[check_initializer_name(initializer)]
    if callable(initializer):
        return initializer
    raise TypeError(
        "Expected `initializer` as a name such as 'xavier' or 'he', or a function that "
        f"initializes a tensor in place (e.g. torch.nn.init.xavier_uniform_), got {describe(initializer)}."
    )


def _is_lazy(tensor):
    return isinstance(tensor, nn.parameter.UninitializedTensorMixin)


def _known_shape(module, attr):
    """What a lazy layer already knows of its parameter ``attr``'s shape, None where nothing.

    ``nn.LazyLinear(5)`` has a weight of shape ``(5, None)`` and a bias of ``(5,)``
    before its first batch; a lazy convolution knows its output channels and kernel
    size. A checkpoint of another width must not fill them silently.
    """
    out = getattr(module, "out_features", None) or getattr(module, "out_channels", None)
    if not out or attr not in ("weight", "bias"):
        return None
    if attr == "bias":
        return (out,)
    kernel = tuple(getattr(module, "kernel_size", ()))
    if isinstance(module, nn.modules.conv._ConvTransposeNd):  # (in, out / groups, *kernel)
        return (None, out // module.groups, *kernel)
    return (out, None, *kernel)


def _device_list(device):
    """``device`` as a list of one ``torch.device`` (``None`` stays ``None``)."""
    if device is None:
        return None
    items = list(device) if isinstance(device, (list, tuple)) else [device]
    if not items or not all(isinstance(d, (torch.device, str)) for d in items):
        raise TypeError(
            "Expected `device` as a torch.device or a non-empty list of them, e.g. "
            f"torch.device('cpu') or [torch.device('cuda:0')], got {describe(device)}."
        )
    try:
        devices = [check_device(d) for d in items]  # a GPU this machine lacks: a clear error
    except RuntimeError as err:
        raise ValueError(f"Unknown `device` {device!r}: {err}") from err
    if len(set(map(str, devices))) != len(devices):
        raise ValueError(f"Expected different devices in `device`, got {list(device)}.")
    if len(devices) > 1:
        raise NotImplementedError(
            f"The PyTorch layer's Trainer trains on one device per process; got {len(devices)} "
            "devices in `device`. Pass one, or train on several GPUs with one worker process per "
            "GPU: kvstore='dist_sync', started by `dlbook launch --framework torch -n 2 python "
            "train.py`."
        )
    return devices


class Trainer(BaseTrainer):
    """Train, evaluate and use a PyTorch network.

    Introduced in the book's chapter on training; the loop is shared with
    :class:`dlbook.mxnet.train.Trainer` (same arguments, same behaviour).

    Parameters
    ----------
    net : torch.nn.Module
        The network; it is moved to ``device``. Lazy layers get their shapes from
        the first batch.
    loss : str or callable
        A name from :data:`dlbook.torch.metrics.LOSSES` (``'cross_entropy'``, ``'mse'``, ...)
        or a callable ``loss(y_hat, y)`` returning one value per example.
    optimizer : str or torch.optim.Optimizer, default 'sgd'
        ``'sgd'``, ``'nag'`` (SGD with Nesterov momentum, as MXNet's), ``'adam'``,
        ``'rmsprop'``, ``'adagrad'`` or ``'adamw'`` (see
        :data:`OPTIMIZERS`), or an optimizer already built over ``net.parameters()``.
    learning_rate : float, default 0.1
    optimizer_params : dict, optional
        Further settings under the MXNet layer's names: ``'momentum'``, ``'wd'``
        (weight decay), ``'beta1'``, ``'beta2'``, ``'epsilon'``, ``'gamma1'``
        (RMSProp's decay), ``'centered'``, ``'clip_gradient'`` (clip each
        gradient element to ``[-c, c]``), ``'learning_rate'``.
    metrics : str, dlbook.metrics.Metric, function or a sequence of them, optional
        What to report besides the loss: names from :data:`dlbook.torch.metrics.METRICS`
        (``'accuracy'``, ``'mse'``, ``'mae'``), :class:`dlbook.torch.metrics.Metric`
        objects, or functions ``f(y_true, y_pred) -> float`` of NumPy arrays
        (:class:`dlbook.metrics.FunctionMetric`: exact over each epoch).
    device : torch.device, str or list of one, optional
        Default: the first GPU if there is one, else the CPU (``self.device``).
        Several devices raise ``NotImplementedError``: use one worker process
        per GPU (``kvstore='dist_sync'``).
    initializer : str or callable, optional
        A name of :data:`dlbook.training.INITIALIZERS` or a function such as
        ``torch.nn.init.orthogonal_``. It sets every weight of two or more
        dimensions, and biases to 0. Left as None, lazy layers get
        ``'xavier'`` when they get their shapes (like MXNet's deferred
        parameters) and the other layers keep the values they have; given, it
        (re)initializes all parameters (PyTorch cannot tell a fresh layer from
        a trained one).
    hybridize : bool, default True
        Accepted for the MXNet layer's signature; does nothing (PyTorch runs eagerly).
    kvstore : str, KVStore or None, default 'device'
        ``'device'``, ``'local'`` or None: one process. ``'dist_sync'``: one of
        several worker processes (``dlbook launch --framework torch``) that
        average their gradients after every backward pass; ``fit`` trains each
        worker on its own shard of an :class:`~dlbook.torch.data.ArrayLoader`
        (see :mod:`dlbook.torch.distributed`), and ``rank`` and ``num_workers``
        tell the workers apart.
    lr_schedule : str or dlbook.schedules.Schedule, optional
        Scale the learning rate before every update: ``'cosine'``, ``'step'``,
        ``'warmup'``, ``'constant'`` or a schedule object (see :mod:`dlbook.schedules`).

    Notes
    -----
    Parameters whose shapes come from the data (lazy layers such as ``nn.LazyLinear``,
    which ``mlp`` and ``lenet`` use) are drawn at the first batch, from the framework's
    global random generator as it is then, not when the Trainer is built. Two Trainers
    built one after the other start from weights that depend on which of them sees a
    batch first: seed (``seed_everything``) right before each one's first ``fit``,
    ``evaluate`` or ``predict`` for weights that do not.

    Examples
    --------
    >>> from dlbook.torch import Trainer, mlp, seed_everything, xor_data, load_array
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
    _shape_errors = (RuntimeError, ValueError, IndexError)  # IndexError: nn.Flatten of 1-D input
    _framework = "torch"

    def __init__(self, net, loss, optimizer="sgd", learning_rate=0.1, optimizer_params=None,
                 metrics=None, device=None, initializer=None, hybridize=True,
                 kvstore="device", lr_schedule=None):
        _check_module(net)
        hybridize = check_bool("hybridize", hybridize)
        devices = _device_list(device)
        kvstore = check_kvstore(kvstore)
        learning_rate = check_learning_rate(learning_rate)
        opt_params = check_optimizer_params(optimizer_params)
        self._clip = None
        if isinstance(optimizer, str):
            name = check_optimizer_name(optimizer, OPTIMIZERS)
            self._optimizer_class = OPTIMIZERS[name][0]
            self._optimizer_kwargs, self._clip = _optimizer_arguments(name, opt_params, learning_rate)
            base_lr = self._optimizer_kwargs["lr"]
            self.optimizer = None  # created over the parameters once they all have shapes
        elif isinstance(optimizer, torch.optim.Optimizer):
            self._optimizer_class, self._optimizer_kwargs = type(optimizer), None
            base_lr = optimizer.param_groups[0]["lr"]
            self.optimizer = optimizer
        else:
            raise optimizer_type_error(optimizer)
        self._initializer = get_initializer(initializer)
        self._init_loop(metrics, lr_schedule, base_lr, get_metric)
        self.devices = devices or [try_gpu()]
        self.device = self.devices[0]
        self.net = net.to(self.device)
        self.loss = get_loss(loss)
        if isinstance(self.loss, nn.Module):
            self.loss.to(self.device)
        self.hybridize = hybridize  # PyTorch runs eagerly; nothing to compile
        if initializer is not None:  # an explicit initializer sets every parameter
            self._initialize([(n, p) for n, p in net.named_parameters() if not _is_lazy(p)])
        self._kv = create_kvstore(kvstore) if is_distributed(kvstore) else None
        self.kvstore = self._kv if self._kv is not None else kvstore
        self.rank, self.num_workers = worker_info(self._kv if self._kv is not None else kvstore)
        self._step_scale = 1  # the all-reduce averages: each worker's loss is its batch mean
        self._built = False
        if not self._lazy_parameters():
            self._ensure_built(None)

    # ------------------------------------------------------------ building
    def _lazy_parameters(self):
        return [(n, p) for n, p in self.net.named_parameters() if _is_lazy(p)] + \
            [(n, b) for n, b in self.net.named_buffers() if _is_lazy(b)]

    def _initialize(self, named):
        with torch.no_grad():
            for name, param in named:
                if name.rsplit(".", 1)[-1].startswith("bias"):
                    param.zero_()
                elif param.dim() >= 2:
                    self._initializer(param)

    def _build(self, X):
        lazy = self._lazy_parameters()
        if lazy:
            if X is None:
                raise ValueError(
                    "The network has lazy layers whose shapes come from the first batch; "
                    "train, evaluate or predict once (or load a checkpoint) first.")
            previous = self._set_training(False)
            try:
                self.predict_step(X)  # the dry run: lazy layers take their shapes
            finally:
                self._set_training(previous)
            lazy_ids = {id(p) for _, p in lazy}
            self._initialize([(n, p) for n, p in self.net.named_parameters() if id(p) in lazy_ids])
        if self.optimizer is None:
            self.optimizer = self._optimizer_class(self.net.parameters(), **self._optimizer_kwargs)

    # ------------------------------------------------------------ the step
    def train_step(self, batch):
        """One update with ``batch = (X, y)``; returns ``(y_hat, loss)``, one loss per example.

        Override it to change how a batch trains the network; the loop
        (callbacks, history, metrics, validation, training mode) stays the
        same. Return the outputs and the per-example losses without reading
        them (no ``.item()``): the loop adds them up on the device.

        Examples
        --------
        Clip the gradient norm before every update:

        >>> import torch
        >>> from dlbook.torch import Trainer, mlp, load_array, xor_data
        >>> class ClippedTrainer(Trainer):
        ...     def train_step(self, batch):
        ...         X, y = batch
        ...         y_hat = self.net(X)
        ...         loss = self.loss(y_hat, y)
        ...         self.optimizer.zero_grad()
        ...         loss.mean().backward()
        ...         torch.nn.utils.clip_grad_norm_(self.net.parameters(), max_norm=1.0)
        ...         self.optimizer.step()
        ...         return y_hat, loss
        >>> trainer = ClippedTrainer(mlp(hidden=4, num_outputs=2), "cross_entropy")
        >>> len(trainer.fit(load_array(xor_data(), batch_size=2), epochs=2, verbose=False))
        2
        """
        X, y = batch
        y_hat = self._forward(X)
        loss = self.loss(y_hat, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.mean().backward()  # the gradient of the batch's mean loss, as MXNet's step(n)
        self._reduce_gradients()
        self.optimizer.step()
        return y_hat, loss

    def _reduce_gradients(self):
        """Between backward and the update: average over workers, clip elements."""
        if self._kv is not None:
            self._kv.allreduce_grads(self.net)
        if self._clip is not None:
            for p in self.net.parameters():
                if p.grad is not None:
                    p.grad.clamp_(-self._clip, self._clip)

    # ------------------------------------------------------- layer hooks
    def _no_grad(self):
        return torch.no_grad()

    def _to_device(self, array):
        if isinstance(array, torch.Tensor):
            return array.to(self.device)
        return torch.as_tensor(array, device=self.device)

    def _detach(self, array):
        return array.detach() if isinstance(array, torch.Tensor) else array

    def _outputs_to_numpy(self, outputs):
        return torch.cat(outputs, dim=0).cpu().numpy()

    def _set_training(self, flag):
        previous = self.net.training
        if flag is not None and flag != previous:
            self.net.train(flag)
        return previous

    def _loss_name(self):
        return loss_name(self.loss)

    def _shard(self, loader):
        if self._kv is not None and isinstance(loader, ArrayLoader):
            return shard_loader(loader, self.rank, self.num_workers)
        return loader

    @property
    def learning_rate(self):
        """The learning rate of the next update (``lr_schedule`` changes it)."""
        if self.optimizer is None:
            return self._optimizer_kwargs["lr"]
        return self.optimizer.param_groups[0]["lr"]

    def set_learning_rate(self, learning_rate):
        """Use ``learning_rate`` from the next update on (in every parameter group)."""
        if self.optimizer is None:
            self._optimizer_kwargs["lr"] = float(learning_rate)
            return
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate

    def _optimizer_name(self):
        return self._optimizer_class.__name__

    def _copy_weights(self):
        return {k: v.detach().clone() for k, v in self.net.state_dict().items()}

    def _restore_weights(self, weights):
        self.net.load_state_dict(weights)

    # ------------------------------------------------- checkpoint hooks
    def _require_built(self):
        if not self._built:
            raise CheckpointError(
                "Nothing to save yet: the network's lazy layers get their shapes from the "
                "first batch. Train, evaluate or predict once before saving.")

    def _checkpoint_params(self):
        self._require_built()
        return {k: v.detach().cpu().numpy().copy() for k, v in self.net.state_dict().items()}

    def _param_shapes(self):
        """Each entry's shape; for a lazy layer what it knows already (None: a dimension it does not)."""
        shapes = {}
        for key, value in self.net.state_dict().items():
            if _is_lazy(value):
                module, _, attr = key.rpartition(".")
                shapes[key] = _known_shape(self.net.get_submodule(module), attr)
            else:
                shapes[key] = tuple(value.shape)
        return shapes

    def _checkpoint_optimizer(self, arrays):
        self._require_built()
        spec = pack_state(self.optimizer.state_dict(), "opt", arrays, torch.is_tensor,
                          lambda t: t.detach().cpu().numpy().copy())
        return {"optimizer": self._optimizer_name(), "optimizer_state": spec}

    def _restore_params(self, values):
        state = {k: torch.from_numpy(_copy(v)) for k, v in values.items()}
        self.net.load_state_dict(state)  # gives lazy layers their shapes too
        self._ensure_built(None)

    def _restore_optimizer(self, manifest, arrays):
        state = unpack_state(manifest["optimizer_state"], arrays,
                             lambda a, dtype: torch.from_numpy(_copy(a)))
        self.optimizer.load_state_dict(state)

    def _checkpoint_rng(self, arrays):
        """PyTorch's generator states (CPU, and each CUDA device in use): dropout draws from them."""
        arrays["rng/cpu"] = torch.get_rng_state().numpy().copy()
        cuda = torch.cuda.device_count() if torch.cuda.is_initialized() else 0
        for index in range(cuda):
            arrays[f"rng/cuda{index}"] = torch.cuda.get_rng_state(index).numpy().copy()
        return {"cpu": "rng/cpu", "cuda": [f"rng/cuda{i}" for i in range(cuda)]}

    def _restore_rng(self, spec, arrays):
        if not spec:  # a checkpoint written before dlbook saved generator states
            return
        try:
            torch.set_rng_state(torch.from_numpy(_copy(arrays[spec["cpu"]])))
            for index, key in enumerate(spec.get("cuda", [])):
                if index < torch.cuda.device_count():
                    torch.cuda.set_rng_state(torch.from_numpy(_copy(arrays[key])), index)
        except (KeyError, TypeError, RuntimeError) as err:
            raise CheckpointError(f"The checkpoint's random generator state is damaged: {err}") \
                from err


def _copy(array):
    """A writable, contiguous copy of a NumPy array (``torch.from_numpy`` shares memory)."""
    return array.copy(order="C")
