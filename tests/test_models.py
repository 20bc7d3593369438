"""Tests of the models of both layers (mlp, lenet, activation_layer, Sequential).

Tests that take the ``dl`` fixture run for MXNet and PyTorch; the others test
Gluon specifics (NumPy-mode scoping, layer names) or PyTorch specifics.
"""
import math

import mxnet as mx
import numpy as onp
import pytest
import torch
from mxnet import autograd
from torch import nn

from dlbook.mxnet.models import ACTIVATIONS, Sequential, activation_layer, lenet, mlp
from dlbook.mxnet.summaries import count_parameters


def _run(dl, net, shape):
    """Initialize (MXNet) and call ``net`` on zeros of ``shape``; return the output as NumPy."""
    if dl.FRAMEWORK == "mxnet":
        net.initialize()
        return net(mx.np.zeros(shape)).asnumpy()
    return net(torch.zeros(shape)).detach().numpy()


def _apply(dl, layer, values):
    if dl.FRAMEWORK == "mxnet":
        layer.initialize()
        return layer(mx.np.array(values)).asnumpy()
    return layer(torch.as_tensor(values)).detach().numpy()


def _layer_types(net):
    return [type(layer).__name__ for layer in net]


def _built(net, input_shape):
    net.initialize()
    out = net(mx.np.zeros(input_shape))
    return net, out


# ------------------------------------------------------------------- mlp
@pytest.mark.parametrize("hidden, d, k, expected", [
    ((8, 4), 5, 3, (5 * 8 + 8) + (8 * 4 + 4) + (4 * 3 + 3)),  # 99
    ((), 784, 10, 784 * 10 + 10),  # softmax regression: 7,850
    (256, 784, 10, (784 * 256 + 256) + (256 * 10 + 10)),  # 203,530
    ([3], 2, 1, (2 * 3 + 3) + (3 * 1 + 1)),  # 13
])
def test_mlp_output_shape_and_parameter_count(np_mode, hidden, d, k, expected):
    net, out = _built(mlp(hidden=hidden, num_outputs=k), (7, d))
    assert isinstance(out, mx.np.ndarray) and out.shape == (7, k)
    assert count_parameters(net) == expected


def test_mlp_flattens_image_batches():
    net, out = _built(mlp(hidden=16, num_outputs=10), (3, 1, 28, 28))
    assert out.shape == (3, 10)
    assert count_parameters(net) == 784 * 16 + 16 + 16 * 10 + 10


def test_mlp_layers_in_order():
    assert _layer_types(mlp(hidden=(8, 4), activation="tanh")) == [
        "Dense", "Activation", "Dense", "Activation", "Dense"]
    assert _layer_types(mlp(hidden=(8, 4), dropout=0.5)) == [
        "Dense", "Activation", "Dropout", "Dense", "Activation", "Dropout", "Dense"]
    assert _layer_types(mlp(hidden=8, batch_norm=True, activation="elu")) == [
        "Dense", "BatchNorm", "ELU", "Dense"]
    assert _layer_types(mlp(hidden=())) == ["Dense"]
    assert mlp(hidden=8, activation="sigmoid")[1]._act_type == "sigmoid"


def test_mlp_batch_norm_parameters_are_partly_trainable():
    net, _ = _built(mlp(hidden=8, num_outputs=3, batch_norm=True), (4, 5))
    # Dense 5*8+8, BatchNorm gamma+beta (trainable) and running mean+var, Dense 8*3+3.
    assert count_parameters(net) == 48 + 4 * 8 + 27
    assert count_parameters(net, trainable_only=True) == 48 + 2 * 8 + 27


def test_dropout_is_active_only_while_training(np_mode):
    net, _ = _built(mlp(hidden=64, num_outputs=4, dropout=0.5), (2, 8))
    x = mx.np.ones((2, 8))
    inference = [net(x).asnumpy() for _ in range(2)]
    onp.testing.assert_array_equal(inference[0], inference[1])
    with autograd.record():
        training = [net(x).asnumpy() for _ in range(2)]
    assert not onp.allclose(training[0], training[1])
    assert not onp.allclose(training[0], inference[0])


# ----------------------------------------------------------------- LeNet
def test_lenet_classic_has_61706_parameters(np_mode):
    net, out = _built(lenet(), (2, 1, 28, 28))
    assert out.shape == (2, 10) and isinstance(out, mx.np.ndarray)
    # the classic shapes: 5x5 kernels to 6 and 16 channels, a 16x5x5 map flattened into
    # dense layers of 120, 84 and 10 units, each with a bias
    shapes = [tuple(p.shape) for p in net.collect_params().values()]
    assert shapes == [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,),
                      (120, 16 * 5 * 5), (120,), (84, 120), (84,), (10, 84), (10,)]
    assert count_parameters(net) == sum(math.prod(shape) for shape in shapes) == 61706
    assert _layer_types(net) == [
        "Conv2D", "Activation", "AvgPool2D", "Conv2D", "Activation", "AvgPool2D",
        "Dense", "Activation", "Dense", "Activation", "Dense"]
    assert net[1]._act_type == "sigmoid"


def test_lenet_modern_variant():
    net, out = _built(lenet(num_classes=5, activation="relu", pooling="max", batch_norm=True),
                      (3, 1, 28, 28))
    assert out.shape == (3, 5)
    channels = 6 + 16 + 120 + 84  # one BatchNorm per activation
    base = 61706 - (84 * 10 + 10) + (84 * 5 + 5)
    assert count_parameters(net) == base + 4 * channels
    assert count_parameters(net, trainable_only=True) == base + 2 * channels
    types = _layer_types(net)
    assert types.count("MaxPool2D") == 2 and types.count("BatchNorm") == 4
    assert "AvgPool2D" not in types


def test_models_are_numpy_mode_sequentials(np_mode):
    net = mlp(hidden=4, num_outputs=2)
    assert isinstance(net, Sequential)
    net.initialize()
    net.hybridize()
    out = net(mx.np.ones((3, 6)))
    assert isinstance(out, mx.np.ndarray) and out.shape == (3, 2)
    assert mx.util.is_np_array() == np_mode  # the model did not switch the mode globally


# ----------------------------------------------------------- activations
_X = onp.array([-3.0, -1.0, -0.25, 0.25, 1.0, 3.0], dtype="float32")
_ERF = onp.vectorize(math.erf)
REFERENCES = {
    "relu": lambda x: onp.maximum(x, 0.0),
    "sigmoid": lambda x: 1.0 / (1.0 + onp.exp(-x)),
    "tanh": onp.tanh,
    "leaky_relu": lambda x: onp.where(x > 0, x, 0.01 * x),
    "elu": lambda x: onp.where(x > 0, x, onp.exp(x) - 1.0),
    "gelu": lambda x: x * 0.5 * (1.0 + _ERF(x / onp.sqrt(2.0))),
    "softrelu": lambda x: onp.log1p(onp.exp(x)),
}


def test_every_activation_has_a_reference():
    assert set(REFERENCES) == set(ACTIVATIONS)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_layer_matches_its_formula(np_mode, name):
    layer = activation_layer(name)
    layer.initialize()
    out = layer(mx.np.array(_X))
    assert isinstance(out, mx.np.ndarray)
    onp.testing.assert_allclose(out.asnumpy(), REFERENCES[name](_X), rtol=1e-4, atol=1e-5)


def test_activation_layer_repr():
    assert repr(activation_layer("tanh")) == "Activation(tanh)"
    assert repr(activation_layer("leaky_relu")) == "LeakyReLU(0.01)"


# ------------------------------------------------------------- bad input
BAD_INPUTS = [
    ("mlp", dict(activation="swish"), ValueError,
     r"Unknown `activation` 'swish'. Expected one of: 'elu'"),
    ("mlp", dict(hidden=(8, 0)), ValueError, r"`hidden\[1\]` >= 1, got 0"),
    ("mlp", dict(hidden=-3), ValueError, r"`hidden\[0\]` >= 1, got -3"),
    ("mlp", dict(hidden="8"), TypeError, r"`hidden` as an int or a sequence of ints, got '8'"),
    ("mlp", dict(hidden=2.5), TypeError, r"`hidden` as an int or a sequence of ints"),
    ("mlp", dict(hidden=(8, 2.5)), TypeError, r"`hidden\[1\]` to be an integer"),
    ("mlp", dict(num_outputs=0), ValueError, r"`num_outputs` >= 1"),
    ("mlp", dict(dropout=1.0), ValueError, r"`dropout` in \[0.0, 1.0\), got 1.0"),
    ("mlp", dict(dropout=-0.1), ValueError, r"`dropout` in \[0.0, 1.0\)"),
    ("mlp", dict(dropout="0.5"), TypeError, r"`dropout` to be a number"),
    ("lenet", dict(num_classes=1), ValueError, r"`num_classes` >= 2"),
    ("lenet", dict(pooling="min"), ValueError,
     r"Unknown `pooling` 'min'. Expected one of: 'avg', 'max'"),
    ("lenet", dict(activation="step"), ValueError, r"Unknown `activation` 'step'"),
    ("activation_layer", dict(name="softmax"), ValueError, r"Unknown `activation` 'softmax'"),
]


@pytest.mark.parametrize("builder, kwargs, error, pattern", BAD_INPUTS)
def test_bad_input_raises_the_same_clear_error_in_both_layers(dl, builder, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        getattr(dl.models, builder)(**kwargs)


# ------------------------------------------------------------ both layers
@pytest.mark.parametrize("hidden, d, k, expected", [
    ((8, 4), 5, 3, 99), ((), 784, 10, 7850), ([3], 2, 1, 13),
])
def test_mlp_shapes_and_counts_in_both_layers(dl, hidden, d, k, expected):
    net = dl.mlp(hidden=hidden, num_outputs=k)
    assert _run(dl, net, (7, d)).shape == (7, k)
    assert dl.count_parameters(net) == expected


def test_both_layers_build_the_same_models():
    from dlbook import mxnet as dlm, torch as dlt

    builds = [
        (lambda dl: dl.mlp(hidden=(16, 8), num_outputs=4, batch_norm=True, dropout=0.2),
         (2, 1, 6, 6)),
        (lambda dl: dl.lenet(), (2, 1, 28, 28)),
        (lambda dl: dl.lenet(num_classes=5, activation="relu", pooling="max", batch_norm=True),
         (2, 1, 28, 28)),
    ]
    for build, shape in builds:
        counts = {}
        for dl in (dlm, dlt):
            net = build(dl)
            out = _run(dl, net, shape)
            counts[dl.FRAMEWORK] = (out.shape, dl.count_parameters(net),
                                    dl.count_parameters(net, trainable_only=True))
        assert counts["mxnet"] == counts["torch"], counts
    assert counts["torch"][1:] == (61706 - 850 + 425 + 4 * 226, 61706 - 850 + 425 + 2 * 226)


def test_torch_lenet_architecture():
    from dlbook.torch.models import lenet as torch_lenet

    net = torch_lenet()
    net(torch.zeros(1, 1, 28, 28))
    assert [type(layer).__name__ for layer in net] == [
        "Conv2d", "Sigmoid", "AvgPool2d", "Conv2d", "Sigmoid", "AvgPool2d", "Flatten",
        "Linear", "Sigmoid", "Linear", "Sigmoid", "Linear"]
    assert (net[0].in_channels, net[0].out_channels, net[0].kernel_size, net[0].padding) == \
        (1, 6, (5, 5), (2, 2))
    assert net[7].in_features == 16 * 5 * 5


def test_torch_mlp_layers_in_order_and_flattening():
    from dlbook.torch.models import mlp as torch_mlp

    net = torch_mlp(hidden=(8, 4), dropout=0.5, batch_norm=True, activation="elu")
    assert [type(layer).__name__ for layer in net] == [
        "Flatten", "LazyLinear", "LazyBatchNorm1d", "ELU", "Dropout",
        "LazyLinear", "LazyBatchNorm1d", "ELU", "Dropout", "LazyLinear"]
    net = torch_mlp(hidden=16, num_outputs=10)
    assert tuple(net(torch.zeros(3, 1, 28, 28)).shape) == (3, 10)  # images are flattened
    assert net[1].in_features == 784 and type(net[1]).__name__ == "Linear"


def test_torch_dropout_is_active_only_in_training_mode():
    from dlbook.torch.models import mlp as torch_mlp

    net = torch_mlp(hidden=64, num_outputs=4, dropout=0.5)
    x = torch.ones(2, 8)
    net.eval()
    inference = [net(x).detach().numpy() for _ in range(2)]
    onp.testing.assert_array_equal(inference[0], inference[1])
    net.train()
    training = [net(x).detach().numpy() for _ in range(2)]
    assert not onp.allclose(training[0], training[1])
    assert not onp.allclose(training[0], inference[0])


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_layers_of_both_layers_match_the_formula(dl, name):
    out = _apply(dl, dl.models.activation_layer(name), _X)
    onp.testing.assert_allclose(out, REFERENCES[name](_X), rtol=1e-4, atol=1e-5)


def test_torch_sequential_adds_like_gluon():
    from dlbook.torch.models import Sequential as TorchSequential

    net = TorchSequential()
    assert net.add(nn.LazyLinear(3), nn.ReLU()) is None
    net.add(nn.Linear(3, 2))
    assert len(net) == 3 and tuple(net(torch.ones(4, 5)).shape) == (4, 2)
    assert isinstance(net, nn.Sequential)
    with pytest.raises(TypeError, match="Expected torch.nn.Module layers in `add`, got int"):
        net.add(3)


def test_both_layers_share_the_activation_names():
    from dlbook.torch import models as torch_models

    assert torch_models.ACTIVATIONS == ACTIVATIONS


# ------------------------------------------------- residual_block and resnet (modern-cnn.md)
def _apply_eval(dl, net, x):
    """``net(x)`` in inference mode (batch norm with its running averages), as NumPy."""
    if dl.FRAMEWORK == "mxnet":
        return net(mx.np.array(x)).asnumpy()
    net.eval()
    with torch.no_grad():
        return net(torch.as_tensor(x)).numpy()


@pytest.mark.parametrize("kwargs, shape, out_shape, expected", [
    (dict(channels=8), (2, 8, 6, 6), (2, 8, 6, 6), 2 * 8 * 8 * 9 + 2 * 4 * 8),       # 1,216
    (dict(channels=8, residual=False), (2, 8, 6, 6), (2, 8, 6, 6), 1216),           # same layers
    (dict(channels=16, strides=2), (2, 8, 6, 6), (2, 16, 3, 3),
     16 * 8 * 9 + 16 * 16 * 9 + 2 * 4 * 16 + 16 * 8 + 4 * 16),                     # projection
    (dict(channels=16, projection=True), (2, 8, 6, 6), (2, 16, 6, 6), 3776),
    (dict(channels=5, layer="dense"), (3, 5), (3, 5), 2 * 5 * 5 + 2 * 4 * 5),
    (dict(channels=6, layer="dense", projection=True), (3, 4), (3, 6),
     6 * 4 + 6 * 6 + 2 * 4 * 6 + 6 * 4 + 4 * 6),
])
def test_residual_block_shapes_and_counts_in_both_layers(dl, kwargs, shape, out_shape, expected):
    block = dl.residual_block(**kwargs)
    assert _run(dl, block, shape).shape == out_shape
    assert dl.count_parameters(block) == expected
    assert isinstance(block, dl.models.ResidualBlock)


def test_residual_block_computes_relu_of_branch_plus_input(dl):
    x = onp.random.default_rng(0).standard_normal((3, 4, 5, 5)).astype("float32")
    for residual in (True, False):
        block = dl.residual_block(4, residual=residual)
        _run(dl, block, x.shape)
        out, branch = _apply_eval(dl, block, x), _apply_eval(dl, block.branch, x)
        expected = onp.maximum(branch + x, 0) if residual else onp.maximum(branch, 0)
        onp.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    assert (dl.residual_block(4).shortcut is None) and dl.residual_block(8, strides=2).shortcut


def test_residual_block_says_how_to_fix_a_channel_mismatch(dl):
    block = dl.residual_block(8)
    with pytest.raises(ValueError, match=r"\(8 channels\) adds its input to its output, but the "
                                         r"input has 1 channels \(shape \(2, 1, 5, 5\)\)\. Pass "
                                         r"projection=True"):
        _run(dl, block, (2, 1, 5, 5))
    with pytest.raises(ValueError, match=r"layer='dense' residual block with 2 dimensions "
                                         r"\(batch, features\), got shape \(2, 8, 3\)"):
        _run(dl, dl.residual_block(8, layer="dense"), (2, 8, 3))
    with pytest.raises(ValueError, match=r"\(4 features\) .* has 3 features .*a dense layer"):
        _run(dl, dl.residual_block(4, layer="dense"), (2, 3))


@pytest.mark.parametrize("kwargs, shape, out_shape, body_features, expected", [
    (dict(), (2, 1, 14, 14), (2, 10), 32, 19994),
    (dict(head="flatten"), (2, 1, 14, 14), (2, 10), 32 * 7 * 7, 19994 - 330 + 15690),
    (dict(channels=(8, 16), num_classes=5), (2, 1, 14, 14), (2, 5), 16, None),
    (dict(channels=4, blocks=2, num_classes=3), (2, 3, 6, 6), (2, 3), 4, None),
    (dict(channels=(4, 8, 8), blocks=(1, 2, 1)), (1, 1, 16, 16), (1, 10), 8, None),
])
def test_resnet_shapes_and_counts_in_both_layers(dl, kwargs, shape, out_shape, body_features,
                                                 expected):
    net = dl.resnet(**kwargs)
    assert _run(dl, net, shape).shape == out_shape
    assert _apply_eval(dl, net[0], onp.zeros(shape, dtype="float32")).shape == \
        (shape[0], body_features)
    if expected is not None:
        assert dl.count_parameters(net) == expected


def test_resnet_gap_head_takes_other_image_sizes(dl):
    net = dl.resnet(channels=(4, 8))
    _run(dl, net, (2, 1, 14, 14))
    assert _apply_eval(dl, net, onp.zeros((2, 1, 28, 28), dtype="float32")).shape == (2, 10)


def test_both_layers_build_the_same_residual_networks():
    from dlbook import mxnet as dlm, torch as dlt

    builds = [
        (lambda dl: dl.residual_block(8, strides=2), (2, 4, 10, 10)),
        (lambda dl: dl.residual_block(16, layer="dense", residual=False), (3, 16)),
        (lambda dl: dl.resnet(), (2, 1, 14, 14)),
        (lambda dl: dl.resnet(channels=(8, 16, 32), blocks=(2, 1, 1), residual=False,
                              head="flatten", num_classes=4), (2, 3, 16, 16)),
    ]
    for build, shape in builds:
        counts = {}
        for dl in (dlm, dlt):
            net = build(dl)
            out = _run(dl, net, shape)
            counts[dl.FRAMEWORK] = (out.shape, dl.count_parameters(net),
                                    dl.count_parameters(net, trainable_only=True))
        assert counts["mxnet"] == counts["torch"], counts


def test_mxnet_resnet_hybridizes():
    from dlbook.mxnet.models import resnet

    net = resnet(channels=(4, 8), blocks=(1, 2))
    net.initialize()
    eager = net(mx.np.ones((2, 1, 8, 8))).asnumpy()
    net.hybridize()
    onp.testing.assert_allclose(net(mx.np.ones((2, 1, 8, 8))).asnumpy(), eager, rtol=1e-5,
                                atol=1e-6)


BAD_RESIDUAL_INPUTS = [
    ("residual_block", dict(channels=0), ValueError, r"Expected `channels` >= 1, got 0"),
    ("residual_block", dict(channels=8.0), TypeError, r"Expected `channels` to be an integer"),
    ("residual_block", dict(channels=8, strides=0), ValueError, r"Expected `strides` >= 1, got 0"),
    ("residual_block", dict(channels=8, layer="pool"), ValueError,
     r"Unknown `layer` 'pool'. Expected one of: 'conv', 'dense'"),
    ("residual_block", dict(channels=8, layer="dense", strides=2), ValueError,
     r"`strides` applies to layer='conv' only, got strides=2 with layer='dense'"),
    ("residual_block", dict(channels=8, residual="yes"), TypeError,
     r"Expected `residual` as True or False, got 'yes'"),
    ("residual_block", dict(channels=8, projection=1), TypeError,
     r"Expected `projection` as True or False, got 1"),
    ("residual_block", dict(channels=8, strides=2, projection=False), ValueError,
     r"`projection=False` keeps an identity shortcut, but strides=2 shrinks"),
    ("residual_block", dict(channels=8, projection=True, residual=False), ValueError,
     r"`projection=True` makes a shortcut, but `residual=False`"),
    ("resnet", dict(channels=()), ValueError, r"Expected at least one stage in `channels`, got \(\)"),
    ("resnet", dict(channels=(8, 0)), ValueError, r"`channels\[1\]` >= 1, got 0"),
    ("resnet", dict(blocks=0), ValueError, r"Expected `blocks` >= 1, got 0"),
    ("resnet", dict(channels=(8, 16), blocks=(1, 1, 1)), ValueError,
     r"one entry of `blocks` per stage \(2 stages in `channels`\), got 3: blocks=\[1, 1, 1\]"),
    ("resnet", dict(num_classes=1), ValueError, r"Expected `num_classes` >= 2, got 1"),
    ("resnet", dict(head="max"), ValueError, r"Unknown `head` 'max'. Expected one of: 'flatten', 'gap'"),
    ("resnet", dict(residual=None), TypeError, r"Expected `residual` as True or False"),
]


@pytest.mark.parametrize("builder, kwargs, error, pattern", BAD_RESIDUAL_INPUTS)
def test_bad_residual_arguments_raise_the_same_clear_error_in_both_layers(dl, builder, kwargs,
                                                                          error, pattern):
    with pytest.raises(error, match=pattern):
        getattr(dl, builder)(**kwargs)
