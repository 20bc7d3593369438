"""Model builders: a multilayer perceptron and LeNet, as hybridizable Gluon blocks.

The blocks are built and always run in MXNet's NumPy mode (``mxnet.np``
arrays), whether or not ``npx.set_np()`` was called. The same builders, with
the same arguments and checks, exist in :mod:`dlbook.torch.models`.
"""

import mxnet as mx
from mxnet import gluon

from .. import _models
from .._models import ACTIVATIONS
from ._gluon import always_np

__all__ = ["ACTIVATIONS", "Sequential", "activation_layer", "mlp", "lenet"]


@mx.util.use_np
class Sequential(gluon.nn.HybridSequential):
    """A ``HybridSequential`` that always runs in MXNet's NumPy mode.

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.models import Sequential
    >>> net = Sequential()
    >>> net.add(mx.gluon.nn.Dense(2))
    >>> net.initialize()
    >>> net(mx.np.ones((3, 4))).shape
    (3, 2)
    """


@mx.util.use_np
def activation_layer(name):
    """Return a Gluon layer for the activation called ``name``.

    Like the other blocks of this module, the layer runs in MXNet's NumPy mode
    whether or not ``npx.set_np()`` was called.

    Parameters
    ----------
    name : str
        One of :data:`ACTIVATIONS`. ``leaky_relu`` uses slope 0.01 for negative
        inputs.

    Examples
    --------
    >>> from dlbook.mxnet.models import activation_layer
    >>> activation_layer("tanh")
    Activation(tanh)
    """
    _models.check_activation(name)
    if name == "leaky_relu":
        return always_np(gluon.nn.LeakyReLU)(0.01)
    if name == "elu":
        return always_np(gluon.nn.ELU)()
    if name == "gelu":
        return always_np(gluon.nn.GELU)()
    return always_np(gluon.nn.Activation)(name)


@mx.util.use_np
def mlp(hidden=(256,), num_outputs=10, activation="relu", dropout=0.0, batch_norm=False):
    """Build a multilayer perceptron: flatten, hidden dense layers, a linear output.

    Parameters
    ----------
    hidden : int or sequence of int, default (256,)
        Width of each hidden layer; ``()`` gives a linear (softmax-regression) model.
    num_outputs : int, default 10
        Width of the output layer (class scores, or 1 for regression / binary logits).
    activation : str, default 'relu'
        Hidden-layer activation, one of :data:`ACTIVATIONS`.
    dropout : float, default 0.0
        Dropout rate after every hidden layer, in [0, 1). Dropout is active only
        while training (inside ``autograd.record()``), never at inference.
    batch_norm : bool, default False
        Batch normalization between each dense layer and its activation.

    Returns
    -------
    Sequential
        An uninitialized block (call ``initialize``, or let
        :class:`~dlbook.mxnet.train.Trainer` do it).

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.models import mlp
    >>> net = mlp(hidden=(8, 4), num_outputs=3)
    >>> net.initialize()
    >>> net(mx.np.ones((2, 5))).shape
    (2, 3)
    >>> len(net)  # two hidden Dense layers with their activations, one output
    5
    """
    hidden, num_outputs, dropout = _models.check_mlp_args(hidden, num_outputs, activation,
                                                          dropout)
    net = Sequential()
    for width in hidden:
        net.add(gluon.nn.Dense(width))
        if batch_norm:
            net.add(gluon.nn.BatchNorm())
        net.add(activation_layer(activation))
        if dropout > 0:
            net.add(gluon.nn.Dropout(dropout))
    net.add(gluon.nn.Dense(num_outputs))
    return net


@mx.util.use_np
def lenet(num_classes=10, activation="sigmoid", pooling="avg", batch_norm=False):
    """Build LeNet-5 (LeCun et al., 1998) for 1x28x28 images.

    Two convolution blocks (6 and 16 channels of 5x5 filters, each followed by
    2x2 pooling with stride 2) and three dense layers (120, 84, ``num_classes``).
    The defaults give the classic network; ``activation='relu'``,
    ``pooling='max'`` and ``batch_norm=True`` give its modern form.

    Parameters
    ----------
    num_classes : int, default 10
    activation : str, default 'sigmoid'
        One of :data:`ACTIVATIONS`.
    pooling : {'avg', 'max'}, default 'avg'
    batch_norm : bool, default False
        Batch normalization before every activation except the output's.

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.models import lenet
    >>> net = lenet()
    >>> net.initialize()
    >>> net(mx.np.zeros((2, 1, 28, 28))).shape
    (2, 10)
    """
    num_classes = _models.check_lenet_args(num_classes, activation, pooling)
    pool = gluon.nn.AvgPool2D if pooling == "avg" else gluon.nn.MaxPool2D

    def block(layer):
        net.add(layer)
        if batch_norm:
            net.add(gluon.nn.BatchNorm())
        net.add(activation_layer(activation))

    net = Sequential()
    block(gluon.nn.Conv2D(6, kernel_size=5, padding=2))
    net.add(pool(pool_size=2, strides=2))
    block(gluon.nn.Conv2D(16, kernel_size=5))
    net.add(pool(pool_size=2, strides=2))
    block(gluon.nn.Dense(120))
    block(gluon.nn.Dense(84))
    net.add(gluon.nn.Dense(num_classes))
    return net
