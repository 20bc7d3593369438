"""Tools for studying optimization: 2-D test functions, update-rule runs, contour plots.

The book writes each optimizer (gradient descent, momentum, AdaGrad, RMSProp,
Adam) from its equations as a small *update rule*; this module runs such a rule
on a function (:func:`descend`), draws the path on a contour plot
(:func:`plot_contour`), checks gradients and curvature by finite differences
(:func:`numerical_gradient`, :func:`numerical_hessian`) and records the training
loss after every update of a layer's ``Trainer`` (:class:`LossRecorder`). It
imports no framework. ``dl.optim`` of each framework layer
(:mod:`dlbook.mxnet.optim`, :mod:`dlbook.torch.optim`) offers these names plus
``layer_stds``, which measures how the spread of activations changes through a
deep network.

An update rule is a function ``rule(theta, g, state, **hyperparams)`` that
returns the new parameters. ``theta`` and ``g`` are NumPy arrays of the same
shape; ``state`` is a dict that the rule may use to keep its running averages
between steps, and in which :func:`descend` sets ``state['t']``, the step
number counted from 1.
"""

import numpy as onp

from ._checks import check_choice, check_int, check_number, describe, to_numpy
from .callbacks import Callback

__all__ = [
    "Objective2D",
    "quadratic",
    "rosenbrock",
    "saddle",
    "descend",
    "numerical_gradient",
    "numerical_hessian",
    "plot_contour",
    "LossRecorder",
]


class Objective2D:
    """A function of two variables with its gradient, for optimizer experiments.

    Parameters
    ----------
    name : str
        Shown in plots and in the ``repr``.
    f : callable
        ``f(x, y)``, element-wise on NumPy arrays of any (equal) shape, so it can
        be evaluated on a whole grid for a contour plot.
    grad : callable
        ``grad(x, y)`` returning the two partial derivatives ``(df/dx, df/dy)``.
    minimum : array-like of shape (2,), optional
        Where the global minimum lies, if it exists.

    Examples
    --------
    >>> from dlbook.optim import Objective2D
    >>> bowl = Objective2D("bowl", lambda x, y: x**2 + y**2,
    ...                    lambda x, y: (2 * x, 2 * y), minimum=(0, 0))
    >>> bowl.value([1.0, 2.0]), bowl.gradient([1.0, 2.0]).tolist()
    (5.0, [2.0, 4.0])
    """

    def __init__(self, name, f, grad, minimum=None):
        if not callable(f):
            raise TypeError(f"Expected `f` to be callable, got {describe(f)}.")
        if not callable(grad):
            raise TypeError(f"Expected `grad` to be callable, got {describe(grad)}.")
        self.name = str(name)
        self.f = f
        self.grad = grad
        self.minimum = None if minimum is None else to_numpy("minimum", minimum, ndim=1,
                                                             dtype="float64")
        if self.minimum is not None and self.minimum.shape != (2,):
            raise ValueError(f"Expected `minimum` with shape (2,), got {self.minimum.shape}.")

    def __call__(self, x, y):
        """Evaluate element-wise on arrays ``x`` and ``y`` (e.g. a meshgrid)."""
        return self.f(x, y)

    def _point(self, theta):
        theta = to_numpy("theta", theta, ndim=1, dtype="float64")
        if theta.shape != (2,):
            raise ValueError(
                f"Expected `theta` with shape (2,) (a point (x, y)), got {theta.shape}."
            )
        return theta

    def value(self, theta):
        """The function value at the point ``theta = (x, y)``, as a float."""
        theta = self._point(theta)
        return float(self.f(theta[0], theta[1]))

    def gradient(self, theta):
        """The gradient at ``theta = (x, y)``, as a NumPy array of shape (2,)."""
        theta = self._point(theta)
        return onp.asarray(self.grad(theta[0], theta[1]), dtype="float64").reshape(2)

    def __repr__(self):
        return f"Objective2D({self.name!r}, minimum={None if self.minimum is None else self.minimum.tolist()})"


def quadratic(a=1.0, b=10.0):
    """The elongated bowl ``f(x, y) = (a x^2 + b y^2) / 2``.

    Its Hessian is ``diag(a, b)``; the condition number ``max(a, b) / min(a, b)``
    says how much steeper one direction is than the other.

    Parameters
    ----------
    a, b : float, default 1.0 and 10.0
        Curvatures along ``x`` and ``y`` (positive).

    Examples
    --------
    >>> from dlbook.optim import quadratic
    >>> f = quadratic(a=1.0, b=10.0)
    >>> f.value([1.0, 1.0]), f.gradient([1.0, 1.0]).tolist()
    (5.5, [1.0, 10.0])
    """
    a, b = check_number("a", a, above=0), check_number("b", b, above=0)
    return Objective2D(f"quadratic(a={a:g}, b={b:g})",
                       lambda x, y: 0.5 * (a * x ** 2 + b * y ** 2),
                       lambda x, y: (a * x, b * y), minimum=(0.0, 0.0))


def rosenbrock(a=1.0, b=100.0):
    """Rosenbrock's banana valley ``f(x, y) = (a - x)^2 + b (y - x^2)^2``.

    The minimum ``f = 0`` lies at ``(a, a^2)`` at the end of a long, curved,
    nearly flat valley: easy to find, slow to follow.

    Parameters
    ----------
    a : float, default 1.0
        Where the minimum lies: ``(a, a^2)``. Any finite real number.
    b : float, default 100.0
        Steepness of the valley's walls (positive).

    Returns
    -------
    Objective2D

    Examples
    --------
    >>> from dlbook.optim import rosenbrock
    >>> f = rosenbrock()
    >>> f.value(f.minimum), f.gradient([1.0, 1.0]).tolist()
    (0.0, [0.0, 0.0])
    >>> f.gradient([0.0, 0.0]).tolist()
    [-2.0, 0.0]
    """
    a, b = check_number("a", a), check_number("b", b, above=0)
    return Objective2D(f"rosenbrock(a={a:g}, b={b:g})",
                       lambda x, y: (a - x) ** 2 + b * (y - x ** 2) ** 2,
                       lambda x, y: (-2 * (a - x) - 4 * b * x * (y - x ** 2),
                                     2 * b * (y - x ** 2)),
                       minimum=(a, a * a))


def saddle():
    """The saddle ``f(x, y) = x^2 - y^2``: zero gradient at the origin, but no minimum.

    Examples
    --------
    >>> from dlbook.optim import saddle
    >>> f = saddle()
    >>> f.gradient([0.0, 0.0]).tolist(), f.value([0.0, 1.0])
    ([0.0, -0.0], -1.0)
    """
    return Objective2D("saddle", lambda x, y: x ** 2 - y ** 2,
                       lambda x, y: (2 * x, -2 * y), minimum=None)


def descend(rule, grad, start, num_steps, **hyperparams):
    """Run an update rule from ``start`` and return every point it visits.

    Parameters
    ----------
    rule : callable
        ``rule(theta, g, state, **hyperparams) -> new theta``. ``state`` is a
        dict kept between steps; ``state['t']`` is the step number (1, 2, ...).
    grad : callable or Objective2D
        ``grad(theta)`` returns the gradient at ``theta`` (an array shaped like
        ``theta``); for an :class:`Objective2D` its ``gradient`` is used.
    start : array-like
        The first point (any shape; two values for a 2-D function).
    num_steps : int
        Number of updates (0 or more).
    **hyperparams
        Passed to every call of ``rule`` (e.g. ``eta=0.1``).

    Returns
    -------
    numpy.ndarray, shape (num_steps + 1, *start.shape)
        The points ``theta_0 = start, theta_1, ...``. If a point stops being
        finite (the run diverged), the run ends there and the array holds
        only the finite points before it.

    Raises
    ------
    TypeError
        If ``rule`` or ``grad`` is not callable.
    ValueError
        If ``rule`` or ``grad`` returns an array of the wrong shape.

    Examples
    --------
    >>> from dlbook.optim import descend, quadratic
    >>> def gd(theta, g, state, eta):
    ...     return theta - eta * g
    >>> path = descend(gd, quadratic(a=1.0, b=1.0), start=[1.0, -2.0], num_steps=2, eta=0.5)
    >>> path.tolist()  # each step halves the distance to (0, 0)
    [[1.0, -2.0], [0.5, -1.0], [0.25, -0.5]]
    """
    if not callable(rule):
        raise TypeError(f"Expected `rule` to be callable, got {describe(rule)}.")
    if isinstance(grad, Objective2D):
        grad = grad.gradient
    if not callable(grad):
        raise TypeError(
            f"Expected `grad` to be callable or an Objective2D, got {describe(grad)}."
        )
    theta = to_numpy("start", start, dtype="float64").copy()
    num_steps = check_int("num_steps", num_steps, minimum=0)
    path = [theta.copy()]
    state = {}
    for t in range(1, num_steps + 1):
        with onp.errstate(over="ignore", invalid="ignore"):  # divergence is reported by stopping
            g = onp.asarray(grad(theta), dtype="float64")
        if g.shape != theta.shape:
            raise ValueError(
                f"Expected `grad` to return an array of shape {theta.shape} like `start`, "
                f"got shape {g.shape}."
            )
        state["t"] = t
        with onp.errstate(over="ignore", invalid="ignore"):
            new = rule(theta.copy(), g, state, **hyperparams)
        if new is None:
            raise ValueError(
                "Expected `rule` to return the new parameters, got None. "
                "Does the rule end with `return theta - ...`?"
            )
        new = onp.asarray(new, dtype="float64")
        if new.shape != theta.shape:
            raise ValueError(
                f"Expected `rule` to return an array of shape {theta.shape} like `start`, "
                f"got shape {new.shape}."
            )
        if not onp.all(onp.isfinite(new)):
            break
        theta = new
        path.append(theta.copy())
    return onp.stack(path)


def numerical_gradient(f, theta, eps=1e-6):
    """Estimate the gradient of a scalar function by central differences.

    Each partial derivative is ``(f(theta + eps e_i) - f(theta - eps e_i)) / (2 eps)``,
    computed in float64. Use it to check a hand-derived or automatic gradient
    (gradient checking); it costs two evaluations of ``f`` per parameter.

    Parameters
    ----------
    f : callable
        Maps a NumPy array shaped like ``theta`` to a number.
    theta : array-like
        Where to differentiate (any shape).
    eps : float, default 1e-6
        Step of the differences.

    Returns
    -------
    numpy.ndarray
        Shaped like ``theta``.

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.optim import numerical_gradient
    >>> g = numerical_gradient(lambda w: (w ** 3).sum(), onp.array([1.0, 2.0]))
    >>> onp.round(g, 6).tolist()  # 3 w^2
    [3.0, 12.0]
    """
    if not callable(f):
        raise TypeError(f"Expected `f` to be callable, got {describe(f)}.")
    eps = check_number("eps", eps, above=0)
    theta = to_numpy("theta", theta, dtype="float64").copy()
    grad = onp.zeros_like(theta)
    flat, gflat = theta.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = float(f(theta))
        flat[i] = old - eps
        down = float(f(theta))
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return grad


def numerical_hessian(f, theta, eps=1e-4):
    """Estimate the Hessian (matrix of second derivatives) by central differences.

    Parameters
    ----------
    f : callable
        Maps a 1-D NumPy array to a number.
    theta : array-like, shape (d,)
    eps : float, default 1e-4

    Returns
    -------
    numpy.ndarray, shape (d, d)
        Symmetric. Its eigenvalues (``numpy.linalg.eigvalsh``) classify a
        critical point: all positive, a minimum; all negative, a maximum;
        mixed signs, a saddle point.

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.optim import numerical_hessian, saddle
    >>> H = numerical_hessian(saddle().value, [0.0, 0.0])
    >>> onp.round(H, 6).tolist()
    [[2.0, 0.0], [0.0, -2.0]]
    """
    if not callable(f):
        raise TypeError(f"Expected `f` to be callable, got {describe(f)}.")
    eps = check_number("eps", eps, above=0)
    theta = to_numpy("theta", theta, ndim=1, dtype="float64")
    d = theta.size
    eye = onp.eye(d) * eps
    H = onp.zeros((d, d))
    for i in range(d):
        for j in range(i, d):
            pp = f(theta + eye[i] + eye[j])
            pm = f(theta + eye[i] - eye[j])
            mp = f(theta - eye[i] + eye[j])
            mm = f(theta - eye[i] - eye[j])
            H[i, j] = H[j, i] = (pp - pm - mp + mm) / (4 * eps * eps)
    return H


def plot_contour(objective, xlim, ylim, trajectories=None, levels=20, num=200, ax=None,
                 figsize=(4.5, 3.5), title=None):
    """Draw the contour lines of a 2-D function and, on top, optimizer paths.

    Parameters
    ----------
    objective : Objective2D or callable
        ``objective(x, y)``, element-wise on grids.
    xlim, ylim : tuple of float
        The plotted region ``(low, high)`` along each axis.
    trajectories : dict of str to array-like, optional
        For each label, the points of a path, shape ``(k, 2)`` (e.g. from
        :func:`descend`). Each starts with a circle and ends with a square.
    levels : int or sequence of float, default 20
        Number of contour lines or their values (e.g. ``numpy.logspace(...)``
        for a function with a wide range of values).
    num : int, default 200
        Grid points per axis.
    ax : matplotlib.axes.Axes, optional
    figsize : tuple, default (4.5, 3.5)
    title : str, optional
        Default: the objective's name.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from dlbook.optim import plot_contour, quadratic
    >>> from dlbook.plot import use_korean_font
    >>> _ = use_korean_font()
    >>> path = [[-2.0, 1.0], [-1.0, 0.5], [0.0, 0.0]]
    >>> ax = plot_contour(quadratic(), (-2.5, 2.5), (-1.5, 1.5), {"경사 하강법": path})
    >>> [line.get_label() for line in ax.get_lines()][:1]
    ['경사 하강법']
    """
    import matplotlib.pyplot as plt

    from .plot import _ensure_korean_font

    _ensure_korean_font()  # Korean labels without dl.setup(), as the plot module's functions
    if not callable(objective):
        raise TypeError(f"Expected `objective` to be an Objective2D or callable f(x, y), "
                        f"got {describe(objective)}.")
    limits = {}
    for name, lim in (("xlim", xlim), ("ylim", ylim)):
        values = to_numpy(name, lim, ndim=1, dtype="float64")
        if values.shape != (2,) or not values[0] < values[1]:
            raise ValueError(f"Expected `{name}` as (low, high) with low < high, got {lim!r}.")
        limits[name] = values
    num = check_int("num", num, minimum=2)
    paths = {}
    for label, points in (trajectories or {}).items():
        points = to_numpy(f"trajectories[{label!r}]", points, ndim=2, dtype="float64")
        if points.shape[1] != 2:
            raise ValueError(
                f"Expected `trajectories[{label!r}]` with shape (k, 2), got {points.shape}."
            )
        paths[label] = points
    xs = onp.linspace(*limits["xlim"], num)
    ys = onp.linspace(*limits["ylim"], num)
    X, Y = onp.meshgrid(xs, ys)
    Z = objective(X, Y)
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    ax.contour(X, Y, Z, levels=levels, colors="0.65", linewidths=0.7)
    for k, (label, points) in enumerate(paths.items()):
        color = f"C{k % 10}"
        ax.plot(points[:, 0], points[:, 1], "-", color=color, marker=".", markersize=3,
                linewidth=1.2, label=label)
        ax.plot(*points[0], "o", color=color, markersize=5)
        ax.plot(*points[-1], "s", color=color, markersize=5)
    minimum = getattr(objective, "minimum", None)
    if minimum is not None:
        ax.plot(*minimum, "*", color="black", markersize=10)
    ax.set_xlim(*limits["xlim"])
    ax.set_ylim(*limits["ylim"])
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    ax.set_title(title if title is not None else getattr(objective, "name", ""))
    if paths:
        ax.legend(fontsize=8)
    return ax


class LossRecorder(Callback):
    """Record the loss on a whole data set after every few updates of a Trainer.

    A ``Trainer`` reports one loss per epoch, the average over the mini-batches
    it trained on. This callback instead evaluates the current network on all
    examples of ``loader`` (one batch with every example, in inference mode,
    through the trainer's ``evaluate``) before training and after every
    ``every`` updates, so runs with different batch sizes can be compared
    update by update and example by example. It works with the Trainer of
    either framework layer.

    Parameters
    ----------
    loader : dlbook.mxnet.data.ArrayLoader or dlbook.torch.data.ArrayLoader
        A layer's ``dl.ArrayLoader`` with targets (usually the training loader
        passed to ``fit``); its batch size and number of examples also give the
        examples seen. Its shuffling order is not touched.
    every : int, default 1
        Record after every ``every``-th update (and after the last of each epoch).

    Attributes
    ----------
    updates : list of int
        Updates done when each loss was recorded (0 = before training).
    examples : list of int
        Training examples processed by then (``updates`` times the batch size,
        counting a smaller last batch correctly).
    losses : list of float
        The mean loss over all examples of ``loader``.

    Examples
    --------
    >>> from dlbook.mxnet import ArrayLoader, Trainer, mlp, seed_everything, synthetic_linear
    >>> from dlbook.optim import LossRecorder
    >>> seed_everything(0)
    >>> X, y = synthetic_linear([2.0, -1.0], 0.5, num_examples=10)
    >>> loader = ArrayLoader(X, y, batch_size=4, shuffle=True)
    >>> recorder = LossRecorder(loader)
    >>> trainer = Trainer(mlp(hidden=(), num_outputs=1), loss="mse", learning_rate=0.1)
    >>> _ = trainer.fit(loader, epochs=2, callbacks=[recorder], verbose=False)
    >>> recorder.updates  # 3 batches per epoch: 4 + 4 + 2 examples
    [0, 1, 2, 3, 4, 5, 6]
    >>> recorder.examples
    [0, 4, 8, 10, 14, 18, 20]
    >>> bool(recorder.losses[-1] < recorder.losses[0])
    True
    """

    def __init__(self, loader, every=1):
        if not all(hasattr(loader, a) for a in ("X", "y", "batch_size", "num_examples")) \
                or loader.y is None:
            raise TypeError(
                "Expected `loader` to be a dlbook.ArrayLoader with targets `y`, got "
                f"{describe(loader)}. Wrap the arrays: dl.ArrayLoader(X, y, batch_size=...)."
            )
        self.loader = loader
        self.every = check_int("every", every, minimum=1)
        self.updates, self.examples, self.losses = [], [], []
        self._updates = self._examples = 0
        self._epoch_start = (0, 0)
        self.num_batches = len(loader)
        self._whole = None

    def _record(self):
        if self._whole is None:  # every example in one batch, in a fixed order
            loader = self.loader
            self._whole = type(loader)(loader.X, loader.y, batch_size=loader.num_examples,
                                       seed=0, device=getattr(self.trainer, "device", None))
        self.updates.append(self._updates)
        self.examples.append(self._examples)
        self.losses.append(float(self.trainer.evaluate(self._whole)["loss"]))

    def on_train_begin(self, epochs, num_batches):
        if num_batches is not None:
            self.num_batches = num_batches
        if not self.losses:  # the loss before the first update
            self._record()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = (self._updates, self._examples)

    def on_train_batch_end(self, batch, logs=None):
        updates, examples = self._epoch_start
        self._updates = updates + batch
        self._examples = examples + min(batch * self.loader.batch_size,
                                        self.loader.num_examples)
        if self._updates % self.every == 0 or batch == self.num_batches:
            self._record()

    def __repr__(self):
        return f"LossRecorder(every={self.every}, records={len(self.losses)})"


def _layer_stds(layers, X, kind, start, forward, host, kind_of):
    """The loop of both layers' ``layer_stds``.

    ``start(values)`` puts the checked NumPy batch on the framework,
    ``forward(layer, h)`` runs one layer, ``host(h)`` brings an output back as
    NumPy, and ``kind_of(layer)`` says ``'activation'``, ``'dense'``,
    ``'reshape'`` (never measured: it only moves values) or ``None``.
    """
    check_choice("kind", kind, {"activation", "dense", "all"})
    values = to_numpy("X", X, dtype="float32")
    if values.ndim < 2:
        raise ValueError(
            f"Expected `X` as a batch with the example axis first, got shape {values.shape}. "
            "Add the batch axis, e.g. X.reshape(1, -1)."
        )
    stds, h = [], start(values)
    for layer in layers:
        h = forward(layer, h)
        found = kind_of(layer)
        if found != "reshape" and (kind == "all" or found == kind):
            stds.append(float(host(h).std(dtype="float64")))
    if not stds:
        raise ValueError(
            f"`net` has no layer of the kind {kind!r}; use kind='all' to measure every layer."
        )
    return onp.asarray(stds)
