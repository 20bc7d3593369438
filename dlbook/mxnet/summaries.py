"""Parameter counts and a layer-by-layer summary table of a Gluon network.

The table's layout and the messages are shared with the PyTorch layer
(:mod:`dlbook.summaries`). The book introduces ``summary`` with LeNet in the
chapter on convolutional networks.
"""
import mxnet as mx
import numpy as onp
from mxnet import gluon

from .._checks import check_bool, describe
from ..summaries import check_input_shape, format_summary, note_failed_pass, unknown_shape_error
from ._gluon import build_state, is_initialized, restore_build_state, value_of
from .devices import check_device

__all__ = ["count_parameters", "summary"]


def _check_block(net):
    if not isinstance(net, gluon.Block):
        raise TypeError(f"Expected `net` to be a gluon Block, got {describe(net)}.")
    for name, param in net.collect_params().items():
        data = value_of(param)
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
    >>> from dlbook.mxnet.summaries import count_parameters
    >>> layer = gluon.nn.Dense(3, in_units=4)
    >>> count_parameters(layer)  # 4*3 weights + 3 biases
    15
    """
    _check_block(net)
    check_bool("trainable_only", trainable_only)
    total = 0
    for name, param in net.collect_params().items():
        if trainable_only and param.grad_req == "null":
            continue
        shape = param.shape
        if shape is None or any(d <= 0 for d in shape):
            raise unknown_shape_error(name, shape)
        total += int(onp.prod(shape))
    return total


def summary(net, input_shape, device=None):
    """Print a layer-by-layer table of output shapes and parameter counts.

    The table ends with the total and the trainable number of parameters. The
    network is run once on zeros of ``input_shape`` to infer shapes: like a
    first batch, this completes deferred initialization with the input width of
    ``input_shape``. If that pass fails, the error says so and ``net`` is left
    as it was (no parameter keeps a shape from the failed pass).

    Parameters
    ----------
    net : mxnet.gluon.Block
        An initialized network.
    input_shape : tuple of int
        Shape of one input batch, batch axis first, e.g. ``(1, 1, 28, 28)``
        or ``(1, 3)`` (``(3,)`` lacks the batch axis and is refused).
    device : mxnet.Context, optional
        Where to run the forward pass (default: the CPU).

    Returns
    -------
    str
        The printed table.

    Raises
    ------
    TypeError
        If ``input_shape`` is not a tuple or list of integers.
    ValueError
        If ``input_shape`` is not a shape with the batch axis first (empty, an
        entry < 1, or one axis only).
    RuntimeError
        If ``net`` has parameters that were never initialized.

    Examples
    --------
    >>> from dlbook.mxnet.models import mlp
    >>> from dlbook.mxnet.summaries import summary
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
    input_shape = check_input_shape(input_shape)
    device = mx.cpu() if device is None else check_device(device)
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

    params = list(net.collect_params().values())
    if not all(is_initialized(p) for p in params):
        raise RuntimeError(
            "`net` has uninitialized parameters. Call `net.initialize()` before `summary`."
        )
    collect(net, "")
    shapes = {}
    unbuilt = build_state(params)  # to undo a failed pass's deferred initialization
    handles = [leaf.register_forward_hook(record) for leaf in leaves]
    was_active = getattr(net, "_active", False)
    flags = dict(getattr(net, "_flags", {}))
    if was_active:
        net.hybridize(False)
    try:
        with mx.util.np_shape(True), mx.util.np_array(True):
            x = mx.np.zeros(tuple(input_shape), ctx=device)
            try:
                net(x)
            except Exception as err:
                restore_build_state(unbuilt)
                raise note_failed_pass(err, input_shape)
    finally:
        for handle in handles:
            handle.detach()
        if was_active:
            net.hybridize(True, **flags)
    rows = []
    for leaf in leaves:
        params = sum(int(onp.prod(p.shape)) for p in leaf.collect_params().values())
        rows.append((f"{paths[id(leaf)]}: {type(leaf).__name__}", shapes.get(id(leaf)), params))
    table = format_summary(rows, count_parameters(net), count_parameters(net, trainable_only=True))
    print(table)
    return table
