"""The framework-free half of ``dl.models``: activation names and argument checks.

Both layers' ``mlp``, ``lenet`` and ``activation_layer`` check their
arguments here, so they accept the same values and raise the same messages.
"""
import numbers

from ._checks import check_choice, check_fraction, check_int, describe

__all__ = ["ACTIVATIONS"]

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


def check_mlp_args(hidden, num_outputs, activation, dropout):
    """mlp's checks; returns ``(hidden, num_outputs, dropout)`` normalized."""
    hidden = _sizes("hidden", hidden) if hidden != () else ()
    num_outputs = check_int("num_outputs", num_outputs, minimum=1)
    check_activation(activation)
    return hidden, num_outputs, check_fraction("dropout", dropout)


def check_lenet_args(num_classes, activation, pooling):
    """lenet's checks; returns ``num_classes``."""
    num_classes = check_int("num_classes", num_classes, minimum=2)
    check_activation(activation)
    check_choice("pooling", pooling, {"avg", "max"})
    return num_classes
