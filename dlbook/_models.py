"""The framework-free half of ``dl.models``: activation names and argument checks.

Both layers' ``mlp``, ``lenet`` and ``activation_layer`` check their
arguments here, so they accept the same values and raise the same messages.
"""
import numbers

from ._checks import check_bool, check_choice, check_fraction, check_int, describe

__all__ = ["ACTIVATIONS", "BLOCK_LAYERS", "RESNET_HEADS"]

#: Activation names accepted by ``mlp``, ``lenet`` and ``activation_layer`` (both layers).
ACTIVATIONS = ("relu", "sigmoid", "tanh", "leaky_relu", "elu", "gelu", "softrelu")


def check_activation(name):
    return check_choice("activation", name, set(ACTIVATIONS))


def _sizes(name, value):
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (tuple, list)):
        raise TypeError(
            f"Expected `{name}` as an int or a sequence of ints, got {describe(value)}.")
    return tuple(check_int(f"{name}[{i}]", v, minimum=1) for i, v in enumerate(value))


def check_mlp_args(hidden, num_outputs, activation, dropout, batch_norm=False):
    """mlp's checks; returns ``(hidden, num_outputs, dropout)`` normalized."""
    check_bool("batch_norm", batch_norm)
    hidden = _sizes("hidden", hidden) if hidden != () else ()
    num_outputs = check_int("num_outputs", num_outputs, minimum=1)
    check_activation(activation)
    return hidden, num_outputs, check_fraction("dropout", dropout)


def check_lenet_args(num_classes, activation, pooling, batch_norm=False):
    """lenet's checks; returns ``num_classes``."""
    check_bool("batch_norm", batch_norm)
    num_classes = check_int("num_classes", num_classes, minimum=2)
    check_activation(activation)
    check_choice("pooling", pooling, {"avg", "max"})
    return num_classes


# --- residual networks (book/modern-cnn.md) ---
#: The layer kinds of ``residual_block``: 3x3 convolutions, or dense layers on (batch, features).
BLOCK_LAYERS = ("conv", "dense")
#: The heads of ``resnet``: global average pooling, or flattening the last feature maps.
RESNET_HEADS = ("gap", "flatten")


def check_residual_block_args(channels, strides, layer, projection, residual):
    """residual_block's checks; returns ``(channels, strides, projection)`` normalized.

    ``projection=None`` becomes True exactly when the block is residual and strides > 1
    (the shortcut must then shrink the input as the branch does).
    """
    channels = check_int("channels", channels, minimum=1)
    strides = check_int("strides", strides, minimum=1)
    check_choice("layer", layer, set(BLOCK_LAYERS))
    check_bool("residual", residual)
    if projection is not None:
        check_bool("projection", projection)
    if layer == "dense" and strides != 1:
        raise ValueError(
            f"`strides` applies to layer='conv' only, got strides={strides} with layer='dense'. "
            "Use strides=1 for dense blocks.")
    if projection and not residual:
        raise ValueError(
            "`projection=True` makes a shortcut, but `residual=False` builds a block without "
            "one. Leave `projection` as None for a plain block.")
    if projection is False and residual and strides > 1:
        raise ValueError(
            f"`projection=False` keeps an identity shortcut, but strides={strides} shrinks the "
            "branch's output, so the input cannot be added to it. Leave `projection` as None "
            "(a 1x1 convolution of the same stride on the shortcut), or use strides=1.")
    if projection is None:
        projection = residual and strides > 1
    return channels, strides, projection


def check_block_input(layer, channels, shape):
    """Raise a clear error if a residual block with an identity shortcut cannot take ``shape``.

    >>> check_block_input("conv", 8, (2, 1, 14, 14))
    Traceback (most recent call last):
    ...
    ValueError: The residual block (8 channels) adds its input to its output, but the input has 1 channels (shape (2, 1, 14, 14)). Pass projection=True (a 1x1 convolution on the shortcut), or give the block 1 channels.
    """
    ndim = 4 if layer == "conv" else 2
    what = "(batch, channels, height, width)" if layer == "conv" else "(batch, features)"
    if len(shape) != ndim:
        raise ValueError(
            f"Expected the input of a layer={layer!r} residual block with {ndim} dimensions "
            f"{what}, got shape {tuple(shape)}.")
    if shape[1] != channels:
        unit = "channels" if layer == "conv" else "features"
        fix = ("a 1x1 convolution on the shortcut" if layer == "conv"
               else "a dense layer on the shortcut")
        raise ValueError(
            f"The residual block ({channels} {unit}) adds its input to its output, but the input "
            f"has {shape[1]} {unit} (shape {tuple(shape)}). Pass projection=True ({fix}), or "
            f"give the block {shape[1]} {unit}.")


def check_resnet_args(channels, blocks, num_classes, residual, head):
    """resnet's checks; returns ``(channels, blocks, num_classes)`` with ``blocks`` per stage."""
    channels = _sizes("channels", channels)
    if not channels:
        raise ValueError("Expected at least one stage in `channels`, got (). Pass e.g. "
                         "channels=(16, 32).")
    if isinstance(blocks, numbers.Integral) and not isinstance(blocks, bool):
        blocks = (check_int("blocks", blocks, minimum=1),) * len(channels)
    else:
        blocks = _sizes("blocks", blocks)
        if len(blocks) != len(channels):
            raise ValueError(
                f"Expected one entry of `blocks` per stage ({len(channels)} stages in "
                f"`channels`), got {len(blocks)}: blocks={list(blocks)}. Pass an int for the "
                "same number in every stage.")
    num_classes = check_int("num_classes", num_classes, minimum=2)
    check_bool("residual", residual)
    check_choice("head", head, set(RESNET_HEADS))
    return channels, blocks, num_classes
