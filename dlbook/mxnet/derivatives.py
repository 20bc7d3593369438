"""Derivatives of element-wise functions by MXNet's autograd, and plots of them.

Introduced in the chapter on tensors and automatic differentiation; the
chapter on activation functions plots each function with its derivative.
"""
import mxnet as mx

from .._checks import to_numpy
from ..derivatives import check_elementwise
from ..plot import plot_function as _plot_function

__all__ = ["derivative", "plot_function"]


def derivative(f, x):
    """Values and element-wise derivative of ``f`` at ``x``, computed by autograd.

    For an element-wise ``f``, the gradient of ``sum(f(x))`` with respect to
    ``x`` is exactly ``f'(x)`` at every point.

    Parameters
    ----------
    f : callable
        Element-wise function of an ``mxnet.np`` array.
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
    >>> import mxnet as mx
    >>> from dlbook.mxnet.derivatives import derivative
    >>> y, dy = derivative(mx.np.tanh, [0.0])
    >>> float(y[0]), float(dy[0])
    (0.0, 1.0)
    """
    from mxnet import autograd

    values = to_numpy("x", x, dtype="float32")
    with mx.util.np_shape(True), mx.util.np_array(True):
        xs = mx.np.array(values)
        xs.attach_grad()
        with autograd.record():
            y = f(xs)
        check_elementwise(xs.shape, y.shape)
        y.backward()
        return y.asnumpy(), xs.grad.asnumpy()


def plot_function(f, x, name=None, derivative=True, xlabel="x", ylabel=None, ax=None,
                  figsize=(4.5, 3)):
    """Plot an element-wise function of ``mxnet.np`` arrays and its derivative by autograd.

    :func:`dlbook.plot.plot_function` with this layer's :func:`derivative`.

    Parameters
    ----------
    f : callable
        Maps an ``mxnet.np`` array to an array of the same shape, element-wise.
    x : array-like, shape (n,)
        Where to evaluate it.
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
    >>> from mxnet import np, npx
    >>> from dlbook.mxnet import plot_function, use_korean_font
    >>> _ = use_korean_font()
    >>> ax = plot_function(npx.relu, np.array([-1.0, 0.5, 2.0]), name="ReLU")
    >>> ax.get_lines()[1].get_ydata().tolist()
    [0.0, 1.0, 1.0]
    """
    return _plot_function(f, x, name=name, derivative=derivative, xlabel=xlabel, ylabel=ylabel,
                          ax=ax, figsize=figsize, differentiate=_derivative)


_derivative = derivative  # the parameter `derivative` of plot_function hides the function
