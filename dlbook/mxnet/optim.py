"""Optimization tools for Gluon networks: ``layer_stds``, and everything of :mod:`dlbook.optim`.

``dl.optim`` in the MXNet layer. The 2-D test functions, update-rule runs,
contour plots, finite differences and :class:`~dlbook.optim.LossRecorder` are
framework-free and come from :mod:`dlbook.optim`; :func:`layer_stds` runs a
Gluon network layer by layer. The same names exist in :mod:`dlbook.torch.optim`.
"""
import mxnet as mx
from mxnet import gluon

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

_ACTIVATION_TYPES = ("Activation", "LeakyReLU", "PReLU", "ELU", "SELU", "GELU", "Swish",
                     "SiLU")


def _kind_of(layer):
    name = type(layer).__name__
    if name == "Dense":
        return "dense"
    if name in _ACTIVATION_TYPES:
        return "activation"
    return "reshape" if name == "Flatten" else None


def layer_stds(net, X, kind="activation"):
    """Standard deviation of each layer's output for one batch, layer by layer.

    The batch ``X`` is passed through the layers of a sequential network one
    at a time (inference mode, no gradients). A well-initialized deep network
    keeps these values of the same order; a badly initialized one makes them
    shrink or grow geometrically with depth. The book introduces it in the
    chapter on optimization, with initialization.

    Parameters
    ----------
    net : mxnet.gluon.nn.Sequential or HybridSequential
        An initialized sequential network (e.g. from :func:`dlbook.mxnet.models.mlp`).
    X : array-like, shape (batch, ...)
        Input batch.
    kind : {'activation', 'dense', 'all'}, default 'activation'
        Which outputs to measure: those of activation layers (the hidden
        outputs ``h``), of ``Dense`` layers (the net inputs ``z``), or of
        every layer (but ``Flatten``, which only reshapes).

    Returns
    -------
    numpy.ndarray
        One standard deviation per measured layer, from input to output.

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.models import mlp
    >>> from dlbook.mxnet.optim import layer_stds
    >>> net = mlp(hidden=(4, 4), num_outputs=2)
    >>> net.initialize(mx.init.Normal(0.5))
    >>> layer_stds(net, mx.np.ones((3, 5))).shape  # two hidden ReLU layers
    (2,)
    """
    if not isinstance(net, (gluon.nn.Sequential, gluon.nn.HybridSequential)):
        raise TypeError(
            "Expected `net` to be a gluon.nn.Sequential or HybridSequential (e.g. from "
            f"dlbook.mlp), got {describe(net)}."
        )
    with mx.util.np_shape(True), mx.util.np_array(True):
        return _core._layer_stds([net[i] for i in range(len(net))], X, kind,
                                 start=mx.np.array, forward=lambda layer, h: layer(h),
                                 host=lambda h: h.asnumpy(), kind_of=_kind_of)
