"""Model builders: a multilayer perceptron and LeNet, as ``torch.nn`` modules.

The same builders, with the same arguments, checks and architectures (hence
the same parameter counts), as :mod:`dlbook.mxnet.models`. The input sizes
are inferred from the first batch, as in Gluon: dense and convolution layers
are PyTorch's lazy modules (``LazyLinear``, ``LazyConv2d``, ``LazyBatchNorm``),
which become ordinary ``Linear``, ``Conv2d`` and ``BatchNorm`` layers after the
first forward pass. Gluon's ``Dense`` flattens its input by itself; PyTorch's
``Linear`` does not, so the models put an ``nn.Flatten`` before the first one.
"""
from torch import nn

from .. import _models
from .._models import ACTIVATIONS

__all__ = ["ACTIVATIONS", "Sequential", "activation_layer", "mlp", "lenet"]


class Sequential(nn.Sequential):
    """``torch.nn.Sequential`` with Gluon's ``add``, so both layers build models alike.

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
                                                          dropout)
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
    num_classes = _models.check_lenet_args(num_classes, activation, pooling)
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
