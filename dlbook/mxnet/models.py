"""Model builders: a multilayer perceptron, LeNet and small ResNets, as hybridizable Gluon blocks.

The blocks are built and always run in MXNet's NumPy mode (``mxnet.np``
arrays), whether or not ``npx.set_np()`` was called. The same builders, with
the same arguments and checks, exist in :mod:`dlbook.torch.models`.
"""

import mxnet as mx
from mxnet import gluon

from .. import _models
from .._models import ACTIVATIONS
from ._gluon import always_np

__all__ = ["ACTIVATIONS", "Sequential", "activation_layer", "mlp", "lenet", "ResidualBlock",
           "residual_block", "resnet"]


@mx.util.use_np
class Sequential(gluon.nn.HybridSequential):
    """A ``HybridSequential`` that always runs in MXNet's NumPy mode.

    The constructor is Gluon's; add the layers with :meth:`add`, which takes
    several at once.

    Parameters
    ----------
    prefix : str, optional
        Gluon's name space: the prefix of the names of the block's parameters
        and of the children created in its ``name_scope()``. By default Gluon
        makes a unique one (``sequential0_``, ``sequential1_``, ...).
    params : mxnet.gluon.ParameterDict, optional
        Parameters to share with another block (Gluon's weight sharing). By
        default the block has its own.

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
                                                          dropout, batch_norm)
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
    num_classes = _models.check_lenet_args(num_classes, activation, pooling, batch_norm)
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


# --------------------------------------------------------------- residual networks
def _branch_layers(layer, channels, strides):
    """The layers of a residual branch F(x): two weight layers, batch norm after each."""
    if layer == "conv":
        return [gluon.nn.Conv2D(channels, kernel_size=3, strides=strides, padding=1, use_bias=False),
                gluon.nn.BatchNorm(), activation_layer("relu"),
                gluon.nn.Conv2D(channels, kernel_size=3, padding=1, use_bias=False),
                gluon.nn.BatchNorm()]
    return [gluon.nn.Dense(channels, use_bias=False, flatten=False), gluon.nn.BatchNorm(),
            activation_layer("relu"), gluon.nn.Dense(channels, use_bias=False, flatten=False),
            gluon.nn.BatchNorm()]


def _projection_layers(layer, channels, strides):
    """The shortcut that reshapes x to F(x)'s shape: 1x1 convolution (or dense) and batch norm."""
    if layer == "conv":
        return [gluon.nn.Conv2D(channels, kernel_size=1, strides=strides, use_bias=False),
                gluon.nn.BatchNorm()]
    return [gluon.nn.Dense(channels, use_bias=False, flatten=False), gluon.nn.BatchNorm()]


@mx.util.use_np
class ResidualBlock(gluon.nn.HybridBlock):
    """The basic residual block of He et al. (2016): ``relu(F(x) + shortcut(x))``.

    Built by :func:`residual_block` (the same arguments). ``branch``
    is the residual branch ``F`` (two weight layers with batch normalization),
    ``shortcut`` is None for the identity or the projection block. With
    ``residual=False`` the block computes ``relu(F(x))``: the same layers
    without the shortcut (a "plain" block). The same class exists in
    :mod:`dlbook.torch.models`.

    Parameters
    ----------
    channels : int
        Output channels (``layer='conv'``) or features (``layer='dense'``), at
        least 1.
    strides : int, default 1
        Stride of the first convolution; 2 halves height and width
        (``layer='conv'`` only: another value with ``layer='dense'`` raises
        ValueError).
    layer : {'conv', 'dense'}, default 'conv'
        3x3 convolutions on ``(batch, channels, height, width)`` or dense layers
        on ``(batch, features)``.
    projection : bool, optional
        Put a 1x1 convolution (or a dense layer) with batch norm on the
        shortcut, needed when the input's channels or size differ from the
        output's. Default: only when ``residual`` and ``strides > 1``; True
        with ``residual=False``, or False with ``residual`` and ``strides > 1``,
        raises ValueError.
    residual : bool, default True
        False builds the same layers without the shortcut, ``relu(F(x))``: the
        "plain" block to compare with.

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.models import ResidualBlock
    >>> block = ResidualBlock(4)
    >>> block.initialize()
    >>> block(mx.np.ones((2, 4, 5, 5))).shape
    (2, 4, 5, 5)
    """

    def __init__(self, channels, strides=1, layer="conv", projection=None, residual=True):
        super().__init__()
        channels, strides, projection = _models.check_residual_block_args(
            channels, strides, layer, projection, residual)
        self.channels, self.strides, self.layer = channels, strides, layer
        self.residual = residual
        with self.name_scope():
            self.branch = Sequential()
            self.branch.add(*_branch_layers(layer, channels, strides))
            self.shortcut = None
            if projection:
                self.shortcut = Sequential()
                self.shortcut.add(*_projection_layers(layer, channels, strides))

    def forward(self, x, *args):
        """Check an identity shortcut's input (when ``x`` is an array, not a traced symbol), then run."""
        if self.residual and self.shortcut is None and isinstance(x, mx.np.ndarray):
            _models.check_block_input(self.layer, self.channels, x.shape)
        return super().forward(x, *args)

    def hybrid_forward(self, F, x):
        out = self.branch(x)
        if self.residual:
            if self.shortcut is None:
                # reshape_like fails on any shape mismatch where `+` would broadcast
                # (an input of 1 channel), also inside a hybridized parent network
                out = out + F.npx.reshape_like(x, out)
            else:
                out = out + self.shortcut(x)
        return F.npx.relu(out)


def residual_block(channels, strides=1, layer="conv", projection=None, residual=True):
    """Build one residual block (He et al., 2016): ``relu(F(x) + x)``.

    The residual branch ``F`` is weight layer, batch norm, ReLU, weight layer,
    batch norm, with 3x3 convolutions (padding 1) or dense layers, all without
    bias (the batch norm that follows supplies the shift). The block adds its
    input back before the last ReLU, so it only has to learn the change
    ``F(x) = H(x) - x`` of what it computes, and the gradient reaches ``x``
    through the identity. Introduced in the book's chapter on modern
    convolutional networks.

    Parameters
    ----------
    channels : int
        Output channels (``layer='conv'``) or features (``layer='dense'``).
    strides : int, default 1
        Stride of the first convolution; 2 halves height and width
        (``layer='conv'`` only).
    layer : {'conv', 'dense'}, default 'conv'
        3x3 convolutions on ``(batch, channels, height, width)`` or dense layers
        on ``(batch, features)``.
    projection : bool, optional
        Put a 1x1 convolution (or a dense layer) with batch norm on the
        shortcut, needed when the input's channels or size differ from the
        output's. Default (None): True exactly when ``residual`` and
        ``strides > 1`` (the shortcut must then shrink the input as the branch
        does), else False. True with ``residual=False``, or False with
        ``residual`` and ``strides > 1``, raises ValueError.
    residual : bool, default True
        False builds the same layers without the shortcut, ``relu(F(x))``: the
        "plain" block to compare with.

    Returns
    -------
    ResidualBlock
        An uninitialized block (call ``initialize``, or let the Trainer do it).

    Raises
    ------
    ValueError
        For bad arguments; and when called, for an input whose channels differ
        from ``channels`` with an identity shortcut (pass ``projection=True``).

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.models import residual_block
    >>> block = residual_block(8, strides=2)  # halves the size: a 1x1 projection shortcut
    >>> block.initialize()
    >>> block(mx.np.ones((2, 4, 14, 14))).shape
    (2, 8, 7, 7)
    >>> plain = residual_block(16, layer="dense", residual=False)
    >>> plain.initialize()
    >>> plain(mx.np.ones((3, 5))).shape
    (3, 16)
    >>> residual_block(8)(mx.np.ones((2, 1, 14, 14)))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: The residual block (8 channels) adds its input to its output, but the input has 1 channels ... Pass projection=True ...
    """
    return ResidualBlock(channels, strides=strides, layer=layer, projection=projection,
                         residual=residual)


@mx.util.use_np
def resnet(channels=(16, 32), blocks=1, num_classes=10, residual=True, head="gap"):
    """Build a small ResNet for images: ``Sequential(body, head)``.

    The body is a stem (3x3 convolution, batch norm, ReLU) with ``channels[0]``
    channels, then one stage per entry of ``channels`` of ``blocks`` residual
    blocks each (:func:`residual_block`); every stage after the first starts
    with a block of stride 2 and a projection shortcut, so it halves height and
    width as it changes the channels. The body ends in global average pooling
    (``head='gap'``: one value per channel) or flattens the last feature maps
    (``head='flatten'``), giving ``(batch, features)``; ``net[1]``, the head,
    is one dense layer of ``num_classes`` outputs. ``net[0]``, the body, can
    be reused under a new head (transfer learning).

    Parameters
    ----------
    channels : int or sequence of int, default (16, 32)
        Channels of each stage.
    blocks : int or sequence of int, default 1
        Residual blocks per stage (one number for every stage, or one per stage).
    num_classes : int, default 10
    residual : bool, default True
        False builds the same network with plain blocks (no shortcuts).
    head : {'gap', 'flatten'}, default 'gap'
        Global average pooling before the dense layer, or flattening.

    Returns
    -------
    Sequential
        An uninitialized network (call ``initialize``, or let the Trainer do it).

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.models import resnet
    >>> from dlbook.mxnet.summaries import count_parameters
    >>> net = resnet(channels=(8, 16), num_classes=5)
    >>> net.initialize()
    >>> net(mx.np.zeros((2, 1, 14, 14))).shape
    (2, 5)
    >>> net[0](mx.np.zeros((2, 1, 14, 14))).shape  # the body: 16 features per image
    (2, 16)
    >>> count_parameters(net[1])  # the head: 16 * 5 weights + 5 biases
    85
    """
    channels, blocks, num_classes = _models.check_resnet_args(channels, blocks, num_classes,
                                                              residual, head)
    body = Sequential()
    body.add(gluon.nn.Conv2D(channels[0], kernel_size=3, padding=1, use_bias=False),
             gluon.nn.BatchNorm(), activation_layer("relu"))
    for stage, (width, count) in enumerate(zip(channels, blocks)):
        for i in range(count):
            strides = 2 if stage > 0 and i == 0 else 1
            body.add(residual_block(width, strides=strides, residual=residual))
    if head == "gap":
        body.add(gluon.nn.GlobalAvgPool2D())
    body.add(gluon.nn.Flatten())
    net = Sequential()
    net.add(body, gluon.nn.Dense(num_classes))
    return net
