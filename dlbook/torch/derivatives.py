"""Derivatives of element-wise functions by PyTorch's autograd, and plots of them.

Introduced in the chapter on tensors and automatic differentiation; the
chapter on activation functions plots each function with its derivative.
"""
import torch

from .._checks import to_numpy
from ..derivatives import check_elementwise
from ..plot import plot_function as _plot_function
from .data import to_host

__all__ = ["derivative", "plot_function"]


def derivative(f, x):
    """Values and element-wise derivative of ``f`` at ``x``, computed by autograd.

    For an element-wise ``f``, the gradient of ``sum(f(x))`` with respect to
    ``x`` is exactly ``f'(x)`` at every point. Where ``f``'s output does not
    depend on ``x`` through autograd (a step function built with ``>``, a
    constant), the derivative is zero.

    Parameters
    ----------
    f : callable
        Element-wise function of a ``torch.Tensor`` (``float32``, on the CPU).
    x : array-like

    Returns
    -------
    y, dy : numpy.ndarray
        ``f(x)`` and ``f'(x)``.

    See Also
    --------
    dlbook.derivatives.numerical_derivative : the same by central differences.

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.derivatives import derivative
    >>> y, dy = derivative(torch.tanh, [0.0])
    >>> float(y[0]), float(dy[0])
    (0.0, 1.0)
    """
    values = to_numpy("x", to_host(x), dtype="float32")
    xs = torch.tensor(values, requires_grad=True)
    y = f(xs)
    check_elementwise(xs.shape, y.shape)
    if y.requires_grad:
        y.sum().backward()
    grad = xs.grad if xs.grad is not None else torch.zeros_like(xs)
    return y.detach().numpy().astype("float32", copy=False), grad.numpy()


def plot_function(f, x, name=None, derivative=True, xlabel="x", ylabel=None, ax=None,
                  figsize=(4.5, 3)):
    """Plot an element-wise function of tensors and its derivative by autograd.

    :func:`dlbook.plot.plot_function` with this layer's :func:`derivative`.

    Parameters
    ----------
    f : callable
        Maps a ``torch.Tensor`` to a tensor of the same shape, element-wise.
    x : array-like, shape (n,)
        Where to evaluate it (NumPy, a tensor or a list).
    name : str, optional
        Used in the legend and title (e.g. ``'ReLU'``).
    derivative : bool, default True
        Draw the derivative too.
    xlabel, ylabel : str, optional
    ax : matplotlib.axes.Axes, optional
    figsize : tuple, default (4.5, 3)

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch import plot_function, use_korean_font
    >>> _ = use_korean_font()
    >>> ax = plot_function(torch.relu, torch.tensor([-1.0, 0.5, 2.0]), name="ReLU")
    >>> ax.get_lines()[1].get_ydata().tolist()
    [0.0, 1.0, 1.0]
    """
    return _plot_function(f, to_host(x), name=name, derivative=derivative, xlabel=xlabel,
                          ylabel=ylabel, ax=ax, figsize=figsize, differentiate=_derivative)


_derivative = derivative  # the parameter `derivative` of plot_function hides the function
