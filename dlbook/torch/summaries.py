"""Parameter counts and a layer-by-layer summary table of a PyTorch network.

The table's layout and the messages are shared with the MXNet layer
(:mod:`dlbook.summaries`). As in Gluon and Keras, the running statistics of
batch normalization count as non-trainable parameters (in PyTorch they are
floating-point buffers); integer buffers such as ``num_batches_tracked`` are
not counted. The book introduces ``summary`` with LeNet in the chapter on
convolutional networks.
"""
import copy

import torch
from torch.nn.parameter import UninitializedBuffer, is_lazy

from .._checks import check_bool, describe
from ..summaries import check_input_shape, format_summary, note_failed_pass, unknown_shape_error
from .devices import check_device

__all__ = ["count_parameters", "summary"]


def _check_module(net):
    if not isinstance(net, torch.nn.Module):
        raise TypeError(f"Expected `net` to be a torch.nn.Module, got {describe(net)}.")


def _counted(module):
    """(name, tensor, trainable) for every parameter and floating-point buffer of ``module``."""
    for name, param in module.named_parameters():
        yield name, param, param.requires_grad
    for name, buffer in module.named_buffers():
        if is_lazy(buffer) or buffer.is_floating_point():
            yield name, buffer, False


def count_parameters(net, trainable_only=False):
    """Count the scalar parameters of a PyTorch module.

    Parameters
    ----------
    net : torch.nn.Module
        A module whose parameter shapes are known: a lazy module
        (``torch.nn.LazyLinear``, as in :func:`dlbook.torch.models.mlp`) needs
        one forward pass first.
    trainable_only : bool, default False
        Count only parameters that receive gradients (``requires_grad``).
        Otherwise floating-point buffers (batch-norm statistics) count too.

    Returns
    -------
    int

    Raises
    ------
    RuntimeError
        If a parameter's shape is not known yet (a lazy module before its first
        forward pass).

    Examples
    --------
    >>> from torch import nn
    >>> from dlbook.torch.summaries import count_parameters
    >>> count_parameters(nn.Linear(4, 3))  # 4*3 weights + 3 biases
    15
    >>> count_parameters(nn.BatchNorm1d(8)), count_parameters(nn.BatchNorm1d(8), True)
    (32, 16)
    """
    _check_module(net)
    check_bool("trainable_only", trainable_only)
    total = 0
    for name, tensor, trainable in _counted(net):
        if is_lazy(tensor):
            raise unknown_shape_error(name, "uninitialized")
        if trainable or not trainable_only:
            total += tensor.numel()
    return int(total)


def _leaves(net):
    """The layers of ``net`` with their paths: modules that own parameters or have no children."""
    found = []

    def collect(module, path):
        children = list(module.named_children())
        if not children or list(module.named_parameters(recurse=False)):
            found.append((path or "0", module))
            return
        for key, child in children:
            collect(child, f"{path}.{key}" if path else key)

    collect(net, "")
    return found


def _is_lazy_net(net):
    return any(is_lazy(t) for t in (*net.parameters(), *net.buffers()))


def _trial_pass(net, x):
    """Run a copy of the lazy ``net`` on ``x``, leaving ``net`` and the random state untouched.

    A failed pass of ``net`` itself would leave some lazy layers built with the
    wrong width; on the copy it changes nothing, and the random state is put
    back so that ``net`` is later built with the same draws as without it.
    """
    # torch cannot deepcopy a lazy buffer (LazyBatchNorm's running statistics): the copy
    # gets fresh ones of the same kind.
    memo = {id(b): UninitializedBuffer(device=b.device, dtype=b.dtype)
            for b in net.buffers() if is_lazy(b)}
    trial = copy.deepcopy(net, memo)
    devices = [x.device] if x.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        trial(x)


def _default_device(net):
    for tensor in (*net.parameters(), *net.buffers()):
        return tensor.device
    return torch.device("cpu")


def summary(net, input_shape, device=None):
    """Print a layer-by-layer table of output shapes and parameter counts.

    The table ends with the total and the trainable number of parameters. The
    network is run once on zeros of ``input_shape`` to infer shapes (and, like
    a first batch, to build lazy layers with the input width of
    ``input_shape``), in evaluation mode and without gradients; each module's
    training mode is restored afterwards. If that pass fails, the error says so
    and ``net`` is left as it was (a lazy network is first tried on a copy).

    Parameters
    ----------
    net : torch.nn.Module
    input_shape : tuple of int
        Shape of one input batch, batch axis first, e.g. ``(1, 1, 28, 28)``
        or ``(1, 3)`` (``(3,)`` lacks the batch axis and is refused).
    device : torch.device or str, optional
        Where to run the forward pass (default: where ``net``'s parameters are,
        or the CPU).

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

    Examples
    --------
    >>> from torch import nn
    >>> from dlbook.torch.summaries import summary
    >>> net = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyLinear(2))
    >>> _ = summary(net, (1, 3))  # doctest: +NORMALIZE_WHITESPACE
    Layer (type)  Output shape        Param #
    =========================================
    0: Linear     (1, 4)                   16
    1: ReLU       (1, 4)                    0
    2: Linear     (1, 2)                   10
    =========================================
    Total params: 26
    Trainable params: 26
    Non-trainable params: 0
    """
    _check_module(net)
    input_shape = check_input_shape(input_shape)
    device = _default_device(net) if device is None else check_device(device)
    leaves = _leaves(net)
    shapes = {}

    def record(module, _inputs, out):
        if isinstance(out, torch.Tensor):
            shapes[id(module)] = tuple(out.shape)

    handles = [leaf.register_forward_hook(record) for _, leaf in leaves]
    modes = [(module, module.training) for module in net.modules()]
    net.eval()
    try:
        with torch.no_grad():
            x = torch.zeros(input_shape, device=device)
            try:
                if _is_lazy_net(net):
                    _trial_pass(net, x)
                net(x)
            except Exception as err:
                raise note_failed_pass(err, input_shape)
    finally:
        for handle in handles:
            handle.remove()
        for module, training in modes:
            module.training = training
    rows = []
    for path, leaf in leaves:
        params = sum(t.numel() for _, t, _ in _counted(leaf) if not is_lazy(t))
        rows.append((f"{path}: {type(leaf).__name__}", shapes.get(id(leaf)), params))
    table = format_summary(rows, count_parameters(net), count_parameters(net, trainable_only=True))
    print(table)
    return table
