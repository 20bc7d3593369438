"""Derivatives of element-wise functions: the framework-neutral part.

Each layer's ``derivative`` (:func:`dlbook.mxnet.derivatives.derivative`,
:func:`dlbook.torch.derivatives.derivative`) computes ``f'(x)`` with its
framework's automatic differentiation; :func:`numerical_derivative` is the
framework-free fallback (central differences on NumPy) that the core
:func:`dlbook.plot.plot_function` uses when it is given no ``differentiate``.
The book introduces derivatives by autograd in the chapter on tensors and
automatic differentiation, and plots them in the chapter on activation functions.
"""
import numpy as onp

from ._checks import to_numpy

__all__ = ["check_elementwise", "numerical_derivative"]


def check_elementwise(x_shape, y_shape):
    """Raise a ``ValueError`` unless ``f(x)`` (shape ``y_shape``) has the shape of ``x``.

    Parameters
    ----------
    x_shape : tuple of int
        Shape of the input ``x``.
    y_shape : tuple of int
        Shape of the output ``f(x)``; any other shape than ``x_shape`` raises
        ValueError.

    Examples
    --------
    >>> from dlbook.derivatives import check_elementwise
    >>> check_elementwise((2,), ())
    Traceback (most recent call last):
    ...
    ValueError: Expected `f` to be element-wise (output shape (2,)), got output shape ().
    """
    if tuple(y_shape) != tuple(x_shape):
        raise ValueError(
            f"Expected `f` to be element-wise (output shape {tuple(x_shape)}), "
            f"got output shape {tuple(y_shape)}."
        )


def numerical_derivative(f, x, eps=1e-4):
    """Values and element-wise derivative of ``f`` at ``x`` by central differences.

    ``f'(x) ~ (f(x + eps) - f(x - eps)) / (2 eps)``, computed in ``float64``.
    Exact for polynomials up to degree 2; at a kink (ReLU at 0) it gives the
    mean of the two one-sided slopes, where autograd picks one of them.

    Parameters
    ----------
    f : callable
        Element-wise function of a NumPy array.
    x : array-like
    eps : float, default 1e-4
        Half the step.

    Returns
    -------
    y, dy : numpy.ndarray
        ``f(x)`` and ``f'(x)`` as ``float32``.

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.derivatives import numerical_derivative
    >>> y, dy = numerical_derivative(onp.tanh, [0.0, 1.0])
    >>> onp.round(dy, 4).tolist()  # 1 - tanh(x)^2
    [1.0, 0.42]
    """
    values = to_numpy("x", x, dtype="float64")
    y = onp.asarray(f(values), dtype="float64")
    check_elementwise(values.shape, y.shape)
    slope = (onp.asarray(f(values + eps), dtype="float64")
             - onp.asarray(f(values - eps), dtype="float64")) / (2 * eps)
    return y.astype("float32"), slope.astype("float32")
