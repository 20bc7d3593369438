"""Small utilities: timing, accumulating, seeding, devices and model summaries."""
import math
import numbers
import os
import random
import re
import time

import mxnet as mx
import numpy as onp
from mxnet import gluon

from .._checks import check_int, describe

__all__ = [
    "Timer",
    "Accumulator",
    "seed_everything",
    "num_gpus",
    "try_gpu",
    "try_all_gpus",
    "count_parameters",
    "summary",
    "derivative",
    "record",
]


class Timer:
    """Record the wall time of several runs.

    Examples
    --------
    >>> from dlbook.mxnet.utils import Timer
    >>> timer = Timer()
    >>> _ = sum(range(1000))
    >>> elapsed = timer.stop()
    >>> len(timer.times), elapsed >= 0
    (1, True)
    """

    def __init__(self):
        self.times = []
        self.start()

    def start(self):
        """Start (or restart) the clock."""
        self._start = time.perf_counter()

    def stop(self):
        """Stop the clock, record the elapsed seconds and return them."""
        self.times.append(time.perf_counter() - self._start)
        return self.times[-1]

    def avg(self):
        """Average of the recorded times (0.0 if none)."""
        return sum(self.times) / len(self.times) if self.times else 0.0

    def sum(self):
        """Total of the recorded times."""
        return float(sum(self.times))

    def cumsum(self):
        """Running totals of the recorded times."""
        return onp.cumsum(self.times).tolist()

    def __repr__(self):
        return f"Timer(runs={len(self.times)}, total={self.sum():.3f}s)"


class Accumulator:
    """Sum ``n`` quantities over many updates (for example loss and accuracy).

    Parameters
    ----------
    n : int
        Number of running sums to keep.

    Examples
    --------
    >>> from dlbook.mxnet.utils import Accumulator
    >>> acc = Accumulator(2)
    >>> acc.add(1.0, 10)
    >>> acc.add(2.0, 20)
    >>> acc[0], acc[1]
    (3.0, 30.0)
    """

    def __init__(self, n):
        self.data = [0.0] * check_int("n", n, minimum=1)

    def add(self, *values):
        """Add one value to each running sum."""
        if len(values) != len(self.data):
            raise ValueError(
                f"Expected {len(self.data)} values for `values`, got {len(values)}."
            )
        self.data = [a + float(b) for a, b in zip(self.data, values)]

    def reset(self):
        """Set every running sum back to zero."""
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]

    def __repr__(self):
        return f"Accumulator({self.data})"


def seed_everything(seed=0):
    """Seed every random source dlbook and the book use.

    Seeds Python's ``random``, NumPy's global generator and MXNet's generators
    (on every device), and sets ``PYTHONHASHSEED`` for child processes.

    Parameters
    ----------
    seed : int, default 0
        A non-negative integer.

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.utils import seed_everything
    >>> seed_everything(42)
    >>> a = mx.np.random.uniform(size=3)
    >>> seed_everything(42)
    >>> b = mx.np.random.uniform(size=3)
    >>> bool((a == b).all())
    True
    """
    seed = check_int("seed", seed, minimum=0, maximum=2**31 - 1)
    random.seed(seed)
    onp.random.seed(seed)
    mx.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)


def num_gpus():
    """Number of GPUs MXNet can use (0 on a CPU-only build or machine).

    Examples
    --------
    >>> from dlbook.mxnet.utils import num_gpus
    >>> num_gpus() >= 0
    True
    """
    try:
        return mx.context.num_gpus()
    except mx.base.MXNetError:
        return 0


def try_gpu(i=0):
    """Return ``mx.gpu(i)`` if that GPU exists, otherwise ``mx.cpu()``.

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.utils import try_gpu, num_gpus
    >>> try_gpu() == (mx.gpu(0) if num_gpus() else mx.cpu())
    True
    """
    i = check_int("i", i, minimum=0)
    return mx.gpu(i) if num_gpus() > i else mx.cpu()


def try_all_gpus():
    """Return every available GPU, or ``[mx.cpu()]`` when there is none.

    Examples
    --------
    >>> from dlbook.mxnet.utils import try_all_gpus
    >>> len(try_all_gpus()) >= 1
    True
    """
    n = num_gpus()
    return [mx.gpu(i) for i in range(n)] if n else [mx.cpu()]


def _check_block(net):
    if not isinstance(net, gluon.Block):
        raise TypeError(f"Expected `net` to be a gluon Block, got {describe(net)}.")
    for name, param in net.collect_params().items():
        data = param._data[0] if param._data else None
        if data is not None and not isinstance(data, mx.np.ndarray):
            raise TypeError(
                f"Parameter `{name}` of `net` is a legacy mx.nd array: the network was "
                "initialized outside MXNet's NumPy mode. Call `mx.npx.set_np()` (or "
                "`dlbook.setup()`) before building and initializing it, or build it with "
                "dlbook.mxnet.models."
            )


def count_parameters(net, trainable_only=False):
    """Count the scalar parameters of a Gluon block.

    Parameters
    ----------
    net : mxnet.gluon.Block
        An initialized block whose parameter shapes are known (run one forward
        pass first if it uses deferred initialization).
    trainable_only : bool, default False
        Count only parameters that receive gradients.

    Returns
    -------
    int

    Raises
    ------
    RuntimeError
        If a parameter's shape is not known yet.

    Examples
    --------
    >>> from mxnet import gluon
    >>> from dlbook.mxnet.utils import count_parameters
    >>> layer = gluon.nn.Dense(3, in_units=4)
    >>> count_parameters(layer)  # 4*3 weights + 3 biases
    15
    """
    _check_block(net)
    total = 0
    for name, param in net.collect_params().items():
        if trainable_only and param.grad_req == "null":
            continue
        shape = param.shape
        if shape is None or any(d <= 0 for d in shape):
            raise RuntimeError(
                f"The shape of parameter `{name}` is not known yet ({shape}). Initialize "
                "the network and run one forward pass (or call `summary(net, input_shape)`) "
                "before counting parameters."
            )
        total += int(onp.prod(shape))
    return total


def summary(net, input_shape, device=None):
    """Print a layer-by-layer table of output shapes and parameter counts.

    The table ends with the total and the trainable number of parameters. The
    network is run once on zeros of ``input_shape`` to infer shapes.

    Parameters
    ----------
    net : mxnet.gluon.Block
        An initialized network.
    input_shape : tuple of int
        Shape of one input batch, batch axis first, e.g. ``(1, 1, 28, 28)``.
    device : mxnet.Context, optional
        Where to run the forward pass (default: the CPU).

    Returns
    -------
    str
        The printed table.

    Examples
    --------
    >>> from dlbook.mxnet.models import mlp
    >>> from dlbook.mxnet.utils import summary
    >>> net = mlp(hidden=4, num_outputs=2)
    >>> net.initialize()
    >>> _ = summary(net, (1, 3))  # doctest: +NORMALIZE_WHITESPACE
    Layer (type)   Output shape        Param #
    ==========================================
    0: Dense       (1, 4)                   16
    1: Activation  (1, 4)                    0
    2: Dense       (1, 2)                   10
    ==========================================
    Total params: 26
    Trainable params: 26
    Non-trainable params: 0
    """
    _check_block(net)
    if not isinstance(input_shape, (tuple, list)) or not input_shape or not all(
        isinstance(d, int) and d > 0 for d in input_shape
    ):
        raise ValueError(
            "Expected `input_shape` as a tuple of positive ints with the batch axis first, "
            f"e.g. (1, 1, 28, 28); got {input_shape!r}."
        )
    device = device or mx.cpu()
    leaves, paths = [], {}

    def collect(block, path):
        # A layer owns parameters (a Dense with its activation is one layer);
        # a container owns none and is opened up.
        children = list(block._children.items())
        if not children or block._reg_params:
            leaves.append(block)
            paths[id(block)] = path or "0"
            return
        for key, child in children:
            collect(child, f"{path}.{key}" if path else str(key))

    def record(blk, _inputs, out):
        if hasattr(out, "shape"):  # skip the symbolic pass of deferred init
            shapes[id(blk)] = tuple(out.shape)

    collect(net, "")
    shapes = {}
    handles = [
leaf.register_forward_hook(record) for leaf in leaves
    ]
    was_active = getattr(net, "_active", False)
    flags = dict(getattr(net, "_flags", {}))
    if was_active:
        net.hybridize(False)
    try:
        with mx.util.np_shape(True), mx.util.np_array(True):
            x = mx.np.zeros(tuple(input_shape), ctx=device)
            try:
                net(x)
            except RuntimeError as err:
                if "initialize" in str(err).lower():
                    raise RuntimeError(
                        "`net` has uninitialized parameters. Call `net.initialize()` "
                        "before `summary`."
                    ) from err
                raise
    finally:
        for handle in handles:
            handle.detach()
        if was_active:
            net.hybridize(True, **flags)
    rows = []
    for leaf in leaves:
        params = sum(int(onp.prod(p.shape)) for p in leaf.collect_params().values())
        rows.append((f"{paths[id(leaf)]}: {type(leaf).__name__}", str(shapes.get(id(leaf), "-")), params))
    total = count_parameters(net)
    trainable = count_parameters(net, trainable_only=True)
    width = max([len(r[0]) for r in rows] + [len("Layer (type)")]) + 2
    lines = [f"{'Layer (type)':<{width}}{'Output shape':<16}{'Param #':>11}"]
    rule = "=" * len(lines[0])
    lines.append(rule)
    lines += [f"{n:<{width}}{s:<16}{p:>11,}" for n, s, p in rows]
    lines += [
        rule,
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
    ]
    table = "\n".join(lines)
    print(table)
    return table


def derivative(f, x):
    """Values and element-wise derivative of ``f`` at ``x``, computed by autograd.

    For an element-wise ``f``, the gradient of ``sum(f(x))`` with respect to
    ``x`` is exactly ``f'(x)`` at every point.

    Parameters
    ----------
    f : callable
        Element-wise function of an ``mxnet.np`` array.
    x : array-like

    Returns
    -------
    y, dy : numpy.ndarray
        ``f(x)`` and ``f'(x)``.

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.utils import derivative
    >>> y, dy = derivative(mx.np.tanh, [0.0])
    >>> float(y[0]), float(dy[0])
    (0.0, 1.0)
    """
    from mxnet import autograd

    from .._checks import to_numpy

    values = to_numpy("x", x, dtype="float32")
    with mx.util.np_shape(True), mx.util.np_array(True):
        xs = mx.np.array(values)
        xs.attach_grad()
        with autograd.record():
            y = f(xs)
        if tuple(y.shape) != tuple(xs.shape):
            raise ValueError(
                f"Expected `f` to be element-wise (output shape {tuple(xs.shape)}), "
                f"got output shape {tuple(y.shape)}."
            )
        y.backward()
        return y.asnumpy(), xs.grad.asnumpy()


def record(name, value):
    """Record a measured number under ``name`` so that other pages of the book can show it.

    Inside a Jupyter kernel with MyST-NB installed (the book's build), the value
    is glued to the notebook without being displayed, and the results page
    shows it with ``{glue:text}`chapter::name:.3f```. Anywhere else it only
    checks the value. Either way the value comes back as a float.

    Parameters
    ----------
    name : str
        A key made of letters, digits and underscores, e.g. ``'lenet_test_accuracy'``.
    value : real number or one-element array
        A finite number (a NumPy or MXNet scalar is converted).

    Returns
    -------
    float

    Examples
    --------
    >>> from dlbook.mxnet.utils import record
    >>> record("softmax_test_accuracy", 0.8462)
    0.8462
    >>> record("bad name", 1.0)
    Traceback (most recent call last):
    ...
    ValueError: Expected `name` made of letters, digits and underscores, got 'bad name'.
    """
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(
            f"Expected `name` made of letters, digits and underscores, got {name!r}."
        )
    if hasattr(value, "item") and getattr(value, "size", 1) == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(float(value)):
        raise ValueError(f"Expected `value` as a finite number, got {describe(value)}.")
    value = float(value)
    from ..callbacks import in_notebook

    if in_notebook():
        try:
            from myst_nb import glue
        except ImportError:  # a reader's notebook without the book's tools
            return value
        glue(name, value, display=False)
    return value
