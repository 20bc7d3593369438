"""Optimization tools for PyTorch modules: ``layer_stds``, and everything of :mod:`dlbook.optim`.

``dl.optim`` in the PyTorch layer. The 2-D test functions, update-rule runs,
contour plots, finite differences and :class:`~dlbook.optim.LossRecorder` are
framework-free and come from :mod:`dlbook.optim`; :func:`layer_stds` runs a
``torch.nn.Sequential`` layer by layer. The same names exist in
:mod:`dlbook.mxnet.optim`.
"""
import torch
from torch import nn

from .._checks import describe
from .. import optim as _core
from ..optim import (
    LossRecorder,
    Objective2D,
    descend,
    numerical_gradient,
    numerical_hessian,
    plot_contour,
    quadratic,
    rosenbrock,
    saddle,
)

__all__ = [
    "Objective2D",
    "quadratic",
    "rosenbrock",
    "saddle",
    "descend",
    "numerical_gradient",
    "numerical_hessian",
    "plot_contour",
    "LossRecorder",
    "layer_stds",
]

_ACTIVATION_TYPES = (nn.ReLU, nn.Sigmoid, nn.Tanh, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU,
                     nn.GELU, nn.SiLU, nn.Softplus, nn.Mish, nn.Hardswish)


def _kind_of(layer):
    if isinstance(layer, nn.Linear):  # also a LazyLinear before its first call
        return "dense"
    if isinstance(layer, _ACTIVATION_TYPES):
        return "activation"
    return "reshape" if isinstance(layer, (nn.Flatten, nn.Unflatten)) else None


def layer_stds(net, X, kind="activation"):
    """Standard deviation of each layer's output for one batch, layer by layer.

    The batch ``X`` is passed through the layers of a sequential network one
    at a time (evaluation mode, no gradients; the network's mode is restored
    afterwards). A well-initialized deep network keeps these values of the
    same order; a badly initialized one makes them shrink or grow
    geometrically with depth. The book introduces it in the chapter on
    optimization, with initialization.

    Parameters
    ----------
    net : torch.nn.Sequential
        A sequential network (e.g. from :func:`dlbook.torch.models.mlp`).
    X : array-like, shape (batch, ...)
        Input batch (NumPy or a tensor); it goes to the device of ``net``.
    kind : {'activation', 'dense', 'all'}, default 'activation'
        Which outputs to measure: those of activation layers (the hidden
        outputs ``h``), of ``Linear`` layers (the net inputs ``z``), or of
        every layer but ``Flatten``, which only reshapes (so the counts equal
        the MXNet layer's for the same model).

    Returns
    -------
    numpy.ndarray
        One standard deviation per measured layer, from input to output.

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.models import mlp
    >>> from dlbook.torch.optim import layer_stds
    >>> net = mlp(hidden=(4, 4), num_outputs=2)
    >>> layer_stds(net, torch.ones(3, 5)).shape  # two hidden ReLU layers
    (2,)
    """
    if not isinstance(net, nn.Sequential):
        raise TypeError(
            "Expected `net` to be a torch.nn.Sequential (e.g. from dlbook.mlp), got "
            f"{describe(net)}."
        )
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    params = [p for p in net.parameters() if not nn.parameter.is_lazy(p)]
    device = params[0].device if params else torch.device("cpu")
    training = net.training
    net.eval()
    try:
        with torch.no_grad():
            return _core._layer_stds(list(net), X, kind,
                                     start=lambda v: torch.as_tensor(v, device=device),
                                     forward=lambda layer, h: layer(h),
                                     host=lambda h: h.cpu().numpy(), kind_of=_kind_of)
    finally:
        net.train(training)
