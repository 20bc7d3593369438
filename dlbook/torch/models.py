"""Model builders: a multilayer perceptron, LeNet and small ResNets, as ``torch.nn`` modules.

The same builders, with the same arguments, checks and architectures (hence
the same parameter counts), as :mod:`dlbook.mxnet.models`. The input sizes
are inferred from the first batch, as in Gluon: dense and convolution layers
are PyTorch's lazy modules (``LazyLinear``, ``LazyConv2d``, ``LazyBatchNorm``),
which become ordinary ``Linear``, ``Conv2d`` and ``BatchNorm`` layers after the
first forward pass. Gluon's ``Dense`` flattens its input by itself; PyTorch's
``Linear`` does not, so the models put an ``nn.Flatten`` before the first one.
"""
import torch
from torch import nn

from .. import _models
from .._models import ACTIVATIONS

__all__ = ["ACTIVATIONS", "Sequential", "activation_layer", "mlp", "lenet", "ResidualBlock",
           "residual_block", "resnet"]


class Sequential(nn.Sequential):
    """``torch.nn.Sequential`` with Gluon's ``add``, so both layers build models alike.

    The constructor is PyTorch's, ``Sequential(*modules)`` (or one
    ``OrderedDict`` of named modules); add the layers with :meth:`add`, which
    takes several at once.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from dlbook.torch.models import Sequential
    >>> net = Sequential()
    >>> net.add(nn.LazyLinear(2))
    >>> tuple(net(torch.ones(3, 4)).shape)
    (3, 2)
    >>> net.add(nn.ReLU(), nn.Linear(2, 1))  # several at once, as in Gluon
    >>> len(net)
    3
    """

    def add(self, *blocks):
        """Append ``blocks`` in order (Gluon's ``add``; PyTorch's ``append`` takes one)."""
        for block in blocks:
            if not isinstance(block, nn.Module):
                raise TypeError(
                    f"Expected torch.nn.Module layers in `add`, got {type(block).__name__}.")
            self.append(block)


def activation_layer(name):
    """Return a ``torch.nn`` layer for the activation called ``name``.

    Parameters
    ----------
    name : str
        One of :data:`ACTIVATIONS`. ``leaky_relu`` uses slope 0.01 for negative
        inputs, ``gelu`` the exact form with the Gaussian CDF, ``softrelu`` is
        ``nn.Softplus`` (``log(1 + exp(x))``).

    Examples
    --------
    >>> from dlbook.torch.models import activation_layer
    >>> activation_layer("tanh")
    Tanh()
    >>> activation_layer("leaky_relu")
    LeakyReLU(negative_slope=0.01)
    """
    _models.check_activation(name)
    layers = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "elu": nn.ELU,
              "gelu": nn.GELU, "softrelu": nn.Softplus}
    if name == "leaky_relu":
        return nn.LeakyReLU(0.01)
    return layers[name]()


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
        in training mode (``net.train()``, PyTorch's default for a new module;
        the Trainer switches it), never after ``net.eval()``.
    batch_norm : bool, default False
        Batch normalization between each dense layer and its activation.

    Returns
    -------
    Sequential
        ``nn.Flatten``, then the layers of :func:`dlbook.mxnet.models.mlp`, with
        ``nn.LazyLinear`` for Gluon's ``Dense``. The input width is inferred
        from the first batch.

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.models import mlp
    >>> net = mlp(hidden=(8, 4), num_outputs=3)
    >>> tuple(net(torch.ones(2, 5)).shape)
    (2, 3)
    >>> len(net)  # Flatten, two hidden Linear layers with their activations, one output
    6
    """
    hidden, num_outputs, dropout = _models.check_mlp_args(hidden, num_outputs, activation,
                                                          dropout, batch_norm)
    net = Sequential(nn.Flatten())
    for width in hidden:
        net.add(nn.LazyLinear(width))
        if batch_norm:
            net.add(nn.LazyBatchNorm1d())
        net.add(activation_layer(activation))
        if dropout > 0:
            net.add(nn.Dropout(dropout))
    net.add(nn.LazyLinear(num_outputs))
    return net


def lenet(num_classes=10, activation="sigmoid", pooling="avg", batch_norm=False):
    """Build LeNet-5 (LeCun et al., 1998) for 1x28x28 images.

    Two convolution blocks (6 and 16 channels of 5x5 filters, each followed by
    2x2 pooling with stride 2) and three dense layers (120, 84, ``num_classes``).
    The defaults give the classic network; ``activation='relu'``,
    ``pooling='max'`` and ``batch_norm=True`` give its modern form. The
    architecture and parameter count (61,706 for the classic one) are those of
    :func:`dlbook.mxnet.models.lenet`; an ``nn.Flatten`` stands between the
    convolutions and the dense layers, where Gluon's ``Dense`` flattens by itself.

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
    >>> import torch
    >>> from dlbook.torch.models import lenet
    >>> net = lenet()
    >>> tuple(net(torch.zeros(2, 1, 28, 28)).shape)
    (2, 10)
    >>> sum(p.numel() for p in net.parameters())
    61706
    """
    num_classes = _models.check_lenet_args(num_classes, activation, pooling, batch_norm)
    pool = nn.AvgPool2d if pooling == "avg" else nn.MaxPool2d

    def block(layer, norm):
        net.add(layer)
        if batch_norm:
            net.add(norm())
        net.add(activation_layer(activation))

    net = Sequential()
    block(nn.LazyConv2d(6, kernel_size=5, padding=2), nn.LazyBatchNorm2d)
    net.add(pool(kernel_size=2, stride=2))
    block(nn.LazyConv2d(16, kernel_size=5), nn.LazyBatchNorm2d)
    net.add(pool(kernel_size=2, stride=2))
    net.add(nn.Flatten())
    block(nn.LazyLinear(120), nn.LazyBatchNorm1d)
    block(nn.LazyLinear(84), nn.LazyBatchNorm1d)
    net.add(nn.LazyLinear(num_classes))
    return net


# --------------------------------------------------------------- residual networks
def _branch_layers(layer, channels, strides):
    """The layers of a residual branch F(x): two weight layers, batch norm after each."""
    if layer == "conv":
        return [nn.LazyConv2d(channels, kernel_size=3, stride=strides, padding=1, bias=False),
                nn.LazyBatchNorm2d(), nn.ReLU(),
                nn.LazyConv2d(channels, kernel_size=3, padding=1, bias=False),
                nn.LazyBatchNorm2d()]
    return [nn.LazyLinear(channels, bias=False), nn.LazyBatchNorm1d(), nn.ReLU(),
            nn.LazyLinear(channels, bias=False), nn.LazyBatchNorm1d()]


def _projection_layers(layer, channels, strides):
    """The shortcut that reshapes x to F(x)'s shape: 1x1 convolution (or dense) and batch norm."""
    if layer == "conv":
        return [nn.LazyConv2d(channels, kernel_size=1, stride=strides, bias=False),
                nn.LazyBatchNorm2d()]
    return [nn.LazyLinear(channels, bias=False), nn.LazyBatchNorm1d()]


class ResidualBlock(nn.Module):
    """The basic residual block of He et al. (2016): ``relu(F(x) + shortcut(x))``.

    Built by :func:`residual_block` (the same arguments). ``branch``
    is the residual branch ``F`` (two weight layers with batch normalization),
    ``shortcut`` is None for the identity or the projection block. With
    ``residual=False`` the block computes ``relu(F(x))``: the same layers
    without the shortcut (a "plain" block). The same class exists in
    :mod:`dlbook.mxnet.models`; its layers are lazy, as in the other builders.

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
    >>> import torch
    >>> from dlbook.torch.models import ResidualBlock
    >>> block = ResidualBlock(4)
    >>> tuple(block(torch.ones(2, 4, 5, 5)).shape)
    (2, 4, 5, 5)
    """

    def __init__(self, channels, strides=1, layer="conv", projection=None, residual=True):
        super().__init__()
        channels, strides, projection = _models.check_residual_block_args(
            channels, strides, layer, projection, residual)
        self.channels, self.strides, self.layer = channels, strides, layer
        self.residual = residual
        self.branch = Sequential(*_branch_layers(layer, channels, strides))
        self.shortcut = Sequential(*_projection_layers(layer, channels, strides)) \
            if projection else None

    def forward(self, x):
        if self.residual and self.shortcut is None:
            _models.check_block_input(self.layer, self.channels, tuple(x.shape))
        out = self.branch(x)
        if self.residual:
            out = out + (x if self.shortcut is None else self.shortcut(x))
        return torch.relu(out)


def residual_block(channels, strides=1, layer="conv", projection=None, residual=True):
    """Build one residual block (He et al., 2016): ``relu(F(x) + x)``.

    The residual branch ``F`` is weight layer, batch norm, ReLU, weight layer,
    batch norm, with 3x3 convolutions (padding 1) or dense layers, all without
    bias (the batch norm that follows supplies the shift). The block adds its
    input back before the last ReLU, so it only has to learn the change
    ``F(x) = H(x) - x`` of what it computes, and the gradient reaches ``x``
    through the identity. Introduced in the book's chapter on modern
    convolutional networks; the same builder as :func:`dlbook.mxnet.models.residual_block`.

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
        A block of lazy layers (their input sizes come from the first batch).

    Raises
    ------
    ValueError
        For bad arguments; and when called, for an input whose channels differ
        from ``channels`` with an identity shortcut (pass ``projection=True``).

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.models import residual_block
    >>> block = residual_block(8, strides=2)  # halves the size: a 1x1 projection shortcut
    >>> tuple(block(torch.ones(2, 4, 14, 14)).shape)
    (2, 8, 7, 7)
    >>> plain = residual_block(16, layer="dense", residual=False)
    >>> tuple(plain(torch.ones(3, 5)).shape)
    (3, 16)
    >>> residual_block(8)(torch.ones(2, 1, 14, 14))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: The residual block (8 channels) adds its input to its output, but the input has 1 channels ... Pass projection=True ...
    """
    return ResidualBlock(channels, strides=strides, layer=layer, projection=projection,
                         residual=residual)


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
    be reused under a new head (transfer learning). The architecture and
    parameter count are those of :func:`dlbook.mxnet.models.resnet`.

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
        A network of lazy layers (their input sizes come from the first batch).

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.models import resnet
    >>> from dlbook.torch.summaries import count_parameters
    >>> net = resnet(channels=(8, 16), num_classes=5)
    >>> tuple(net(torch.zeros(2, 1, 14, 14)).shape)
    (2, 5)
    >>> tuple(net[0](torch.zeros(2, 1, 14, 14)).shape)  # the body: 16 features per image
    (2, 16)
    >>> count_parameters(net[1])  # the head: 16 * 5 weights + 5 biases
    85
    """
    channels, blocks, num_classes = _models.check_resnet_args(channels, blocks, num_classes,
                                                              residual, head)
    body = Sequential(nn.LazyConv2d(channels[0], kernel_size=3, padding=1, bias=False),
                      nn.LazyBatchNorm2d(), nn.ReLU())
    for stage, (width, count) in enumerate(zip(channels, blocks)):
        for i in range(count):
            strides = 2 if stage > 0 and i == 0 else 1
            body.add(residual_block(width, strides=strides, residual=residual))
    if head == "gap":
        body.add(nn.AdaptiveAvgPool2d(1))
    body.add(nn.Flatten())
    return Sequential(body, nn.LazyLinear(num_classes))
