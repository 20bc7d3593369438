"""Generative models without a framework: the Gaussian KL, the Bernoulli likelihood, latent grids.

The NumPy half of the chapter on generative models. :func:`gaussian_kl` is the
closed-form Kullback-Leibler divergence of a diagonal Gaussian from the standard
normal, the term of the variational autoencoder's loss that pulls the codes to
the prior; :func:`bernoulli_nll` is the reconstruction term, the negative
log-likelihood of pixels in [0, 1] under independent Bernoulli distributions
given by logits; :func:`latent_grid` lays out points of a 2-D latent space
evenly in probability under the prior, to decode them into a map of what the
decoder has learned. The layers (``reparameterize``, ``gaussian_kl``,
``reconstruction_loss``, ``vae_loss`` and the block ``VAE``) live in
:mod:`dlbook.mxnet.generative` and :mod:`dlbook.torch.generative`, with the same
names, arguments and messages; these NumPy versions are what their tests
compare with.

A small denoising diffusion model needs no layer of its own: the network is an
ordinary MLP that predicts noise. :class:`DiffusionSchedule` holds the noise
levels of the forward process, noises data in closed form and runs the reverse
(sampling) chain around any function that predicts noise, for instance a
``Trainer``'s ``predict``; :class:`DiffusionLoader` makes the training pairs
(noised data with its time, the noise) that either layer's ``Trainer.fit`` takes.
"""
import numbers
from statistics import NormalDist

import numpy as onp

from ._checks import check_fraction, check_int, describe, to_numpy
from .attention import positional_encoding
from .data import BaseArrayLoader

__all__ = ["gaussian_kl", "bernoulli_nll", "latent_grid", "DiffusionSchedule", "DiffusionLoader",
           "energy_distance"]


# ------------------------------------------------- checks both layers share
def _check_mu_log_var(mu_shape, log_var_shape):
    """Raise unless ``mu`` and ``log_var`` have one shape ``(batch, latent_dim)`` (or more axes)."""
    mu_shape, log_var_shape = tuple(mu_shape), tuple(log_var_shape)
    if len(mu_shape) < 1 or 0 in mu_shape:
        raise ValueError(f"Expected `mu` of shape (batch, latent_dim), got shape {mu_shape}.")
    if mu_shape != log_var_shape:
        raise ValueError(
            f"Expected `log_var` with the shape of `mu` {mu_shape} (one log-variance per mean), "
            f"got shape {log_var_shape}.")


def _check_reconstruction(logits_shape, x_shape):
    """Raise unless ``x`` holds as many values per example as ``logits``.

    Returns the shape ``x`` is reshaped to (that of ``logits``).
    """
    logits_shape, x_shape = tuple(logits_shape), tuple(x_shape)
    if len(logits_shape) < 2:
        raise ValueError(f"Expected `logits` of shape (batch, num_pixels), got shape "
                         f"{logits_shape}.")
    per_example = int(onp.prod(logits_shape[1:]))
    if len(x_shape) < 1 or x_shape[0] != logits_shape[0] \
            or int(onp.prod(x_shape[1:])) != per_example:
        raise ValueError(
            f"Expected `x` with {logits_shape[0]} examples of {per_example} values each (the "
            f"shape of `logits` {logits_shape}, or images of as many pixels), got shape {x_shape}.")
    return logits_shape


def _check_pixel_range(low, high):
    if not (low >= 0.0 and high <= 1.0):
        raise ValueError(
            f"Expected `x` with values in [0, 1] (pixel intensities as Bernoulli probabilities), "
            f"got values in [{low:.4g}, {high:.4g}]. Scale the images, e.g. x / 255.")


def _check_beta(beta):
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not beta >= 0 \
            or not onp.isfinite(beta):
        raise ValueError(f"Expected `beta` >= 0 (the weight of the KL term), got {beta!r}.")
    return float(beta)


# --------------------------------------------------------------- the terms
def gaussian_kl(mu, log_var):
    """KL divergence of ``N(mu, diag(exp(log_var)))`` from ``N(0, I)``, per example.

    For a diagonal Gaussian the divergence has the closed form

    .. math::
        \\mathrm{KL}\\big(\\mathcal{N}(\\boldsymbol\\mu, \\operatorname{diag}\\boldsymbol\\sigma^2)
        \\,\\|\\, \\mathcal{N}(\\mathbf{0}, \\mathbf{I})\\big)
        = \\frac{1}{2} \\sum_j \\left(\\mu_j^2 + \\sigma_j^2 - \\log \\sigma_j^2 - 1\\right),

    summed over the last axis (the latent dimensions). It is 0 exactly when
    ``mu = 0`` and ``log_var = 0`` and positive otherwise. The book derives it in
    the chapter on generative models.

    Parameters
    ----------
    mu : array-like, shape (batch, latent_dim)
        Means of the Gaussians.
    log_var : array-like, shape (batch, latent_dim)
        Their log-variances :math:`\\log \\sigma^2`.

    Returns
    -------
    numpy.ndarray of float64, shape (batch,)

    Raises
    ------
    ValueError
        If the shapes differ or a value is not finite.

    Examples
    --------
    >>> from dlbook.generative import gaussian_kl
    >>> gaussian_kl([[0.0, 0.0]], [[0.0, 0.0]]).tolist()  # the prior itself
    [0.0]
    >>> gaussian_kl([[1.0, 0.0]], [[0.0, 0.0]]).tolist()  # a shifted mean: mu^2 / 2
    [0.5]
    >>> round(float(gaussian_kl([[0.0]], [[2.0]])[0]), 4)  # (e^2 - 2 - 1) / 2
    2.1945
    """
    mu = to_numpy("mu", mu, dtype="float64")
    log_var = to_numpy("log_var", log_var, dtype="float64")
    _check_mu_log_var(mu.shape, log_var.shape)
    if mu.ndim < 2:
        raise ValueError(f"Expected `mu` of shape (batch, latent_dim), got shape {mu.shape}. "
                         "Add the batch axis, e.g. mu.reshape(1, -1).")
    return 0.5 * (mu ** 2 + onp.exp(log_var) - log_var - 1.0).sum(axis=-1)


def bernoulli_nll(logits, x):
    """Negative log-likelihood of pixels ``x`` under Bernoulli logits, summed per example.

    Each pixel value :math:`x \\in [0, 1]` is scored against the probability
    :math:`p = \\sigma(\\ell)` of its logit :math:`\\ell` with the binary cross-entropy
    :math:`-x \\log p - (1 - x) \\log(1 - p)`, computed stably as
    :math:`\\max(\\ell, 0) - x \\ell + \\log(1 + e^{-|\\ell|})`, and summed over the
    pixels of each example. This is the reconstruction term of the variational
    autoencoder's loss (chapter on generative models).

    Parameters
    ----------
    logits : array-like, shape (batch, num_pixels)
    x : array-like
        As many values in [0, 1] per example as ``logits``, e.g. images
        ``(batch, 1, 28, 28)`` for logits ``(batch, 784)``.

    Returns
    -------
    numpy.ndarray of float64, shape (batch,)

    Raises
    ------
    ValueError
        If the shapes do not fit or ``x`` leaves [0, 1].

    Examples
    --------
    >>> from dlbook.generative import bernoulli_nll
    >>> round(float(bernoulli_nll([[0.0, 0.0]], [[1.0, 0.0]])[0]), 4)  # 2 log 2
    1.3863
    >>> bernoulli_nll([[50.0, -50.0]], [[1.0, 0.0]]).round(6).tolist()  # confident and right
    [0.0]
    """
    logits = to_numpy("logits", logits, dtype="float64")
    x = to_numpy("x", x, dtype="float64")
    shape = _check_reconstruction(logits.shape, x.shape)
    _check_pixel_range(float(x.min()), float(x.max()))
    x = x.reshape(shape)
    per_pixel = onp.maximum(logits, 0) - x * logits + onp.log1p(onp.exp(-onp.abs(logits)))
    return per_pixel.reshape(len(logits), -1).sum(axis=1)


# ------------------------------------------------------------- latent maps
def latent_grid(n, coverage=0.9):
    """An ``n`` by ``n`` grid of points of a 2-D latent space, even in prior probability.

    The coordinates are quantiles of the standard normal at ``n`` evenly spaced
    levels between ``(1 - coverage) / 2`` and ``(1 + coverage) / 2``, so each cell
    holds about as much prior probability as any other; decoding the points
    gives a map of the decoder's images. Rows go from the top (largest second
    coordinate) to the bottom, columns from left to right, the order of
    :func:`dlbook.plot.show_images`.

    Parameters
    ----------
    n : int
        Points per side, at least 2.
    coverage : float, default 0.9
        Prior probability of each axis that the grid spans, in (0, 1).

    Returns
    -------
    numpy.ndarray of float32, shape (n * n, 2)

    Examples
    --------
    >>> from dlbook.generative import latent_grid
    >>> grid = latent_grid(3, coverage=0.9)
    >>> grid.shape
    (9, 2)
    >>> grid[:3].round(3).tolist()  # the top row: z_2 at the 95 % quantile
    [[-1.645, 1.645], [0.0, 1.645], [1.645, 1.645]]
    """
    n = check_int("n", n, minimum=2)
    coverage = check_fraction("coverage", coverage, low=0.0, high=1.0, include_low=False)
    levels = onp.linspace((1 - coverage) / 2, (1 + coverage) / 2, n)
    values = onp.array([NormalDist().inv_cdf(float(p)) for p in levels])
    z1, z2 = onp.meshgrid(values, values[::-1])
    return onp.stack([z1.ravel(), z2.ravel()], axis=1).astype("float32")


# ----------------------------------------------------------- diffusion
def _generator(rng, name="rng"):
    """``rng`` as a NumPy Generator: a Generator, an int seed, or None (from NumPy's global seed)."""
    if isinstance(rng, onp.random.Generator):
        return rng
    if rng is None:
        return onp.random.default_rng(int(onp.random.randint(0, 2**31 - 1)))
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return onp.random.default_rng(check_int(name, rng, minimum=0))
    raise TypeError(f"Expected `{name}` as a numpy.random.Generator, an int seed or None, got "
                    f"{describe(rng)}. Pass e.g. {name}=numpy.random.default_rng(0).")


class DiffusionSchedule:
    """The noise levels of a denoising diffusion model, its forward noising and its sampler.

    The forward process adds Gaussian noise in ``num_steps`` small steps,
    :math:`q(\\mathbf{x}_t \\mid \\mathbf{x}_{t-1}) = \\mathcal{N}(\\sqrt{1-\\beta_t}\\,
    \\mathbf{x}_{t-1}, \\beta_t \\mathbf{I})`, with :math:`\\beta_t` rising linearly
    from ``beta_start`` to ``beta_end`` (Ho et al., 2020). With
    :math:`\\alpha_t = 1 - \\beta_t` and :math:`\\bar\\alpha_t = \\prod_{s \\le t} \\alpha_s`
    any step can be reached from the data in one draw,
    :math:`\\mathbf{x}_t = \\sqrt{\\bar\\alpha_t}\\,\\mathbf{x}_0 + \\sqrt{1-\\bar\\alpha_t}\\,\\boldsymbol\\epsilon`
    (:meth:`noisy`). A network :math:`\\boldsymbol\\epsilon_\\theta(\\mathbf{x}_t, t)`
    learns to predict :math:`\\boldsymbol\\epsilon`; its input is :meth:`inputs`, the
    noised example followed by a sinusoidal code of ``t``
    (:func:`dlbook.attention.positional_encoding`). :meth:`sample` then walks the
    reverse chain from pure noise. The book builds a diffusion model in the
    chapter on generative models.

    Steps are numbered 1 to ``num_steps``; step 0 is the data. The arrays
    :attr:`betas`, :attr:`alphas` and :attr:`alpha_bars` have one entry per step,
    entry ``t - 1`` for step ``t``.

    Parameters
    ----------
    num_steps : int, default 200
        Number of noising steps :math:`T`, at least 1.
    beta_start, beta_end : float, default 1e-4 and 0.05
        Variance of the first and the last step, with
        ``0 < beta_start <= beta_end < 1``.
    time_features : int, default 16
        Width of the time code appended to each input, at least 2 (even).

    Attributes
    ----------
    betas, alphas, alpha_bars : numpy.ndarray of float64, shape (num_steps,)

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.generative import DiffusionSchedule
    >>> schedule = DiffusionSchedule(num_steps=200)
    >>> schedule.betas[[0, -1]].tolist()
    [0.0001, 0.05]
    >>> round(float(schedule.alpha_bars[-1]), 5)  # signal variance left at the last step
    0.00612
    >>> x0 = onp.ones((3, 2))
    >>> xt = schedule.noisy(x0, t=[1, 100, 200], noise=onp.zeros((3, 2)))
    >>> xt[:, 0].round(3).tolist()  # without noise: the data shrunk by sqrt(alpha_bar_t)
    [1.0, 0.532, 0.078]
    >>> schedule.inputs(xt, [1, 100, 200]).shape  # 2 values and a 16-wide time code
    (3, 18)
    """

    def __init__(self, num_steps=200, beta_start=1e-4, beta_end=0.05, time_features=16):
        self.num_steps = check_int("num_steps", num_steps, minimum=1)
        beta_start = check_fraction("beta_start", beta_start, include_low=False)
        beta_end = check_fraction("beta_end", beta_end, include_low=False)
        if beta_end < beta_start:
            raise ValueError(f"Expected `beta_end` >= `beta_start` ({beta_start}), got {beta_end}.")
        self.time_features = check_int("time_features", time_features, minimum=2)
        if self.time_features % 2:
            raise ValueError(f"Expected an even `time_features` (sine and cosine pairs), got "
                             f"{time_features}.")
        self.betas = onp.linspace(beta_start, beta_end, self.num_steps)
        self.alphas = 1.0 - self.betas
        self.alpha_bars = onp.cumprod(self.alphas)
        self._time_table = positional_encoding(self.num_steps + 1, self.time_features)

    def __repr__(self):
        return (f"DiffusionSchedule(num_steps={self.num_steps}, beta_start={self.betas[0]:g}, "
                f"beta_end={self.betas[-1]:g}, time_features={self.time_features})")

    # ----------------------------------------------------------- checks
    def _steps(self, t, n):
        """``t`` as an int vector of ``n`` steps in 1..num_steps (a scalar is repeated)."""
        steps = onp.asarray(t)
        if steps.ndim == 0:
            steps = onp.full(n, steps)
        if steps.shape != (n,) or not (onp.issubdtype(steps.dtype, onp.integer)
                                      or (onp.issubdtype(steps.dtype, onp.floating)
                                          and (steps == onp.round(steps)).all())):
            raise ValueError(f"Expected `t` as one integer step per example, shape ({n},), got "
                             f"{describe(t)}.")
        steps = steps.astype("int64")
        if n and (steps.min() < 1 or steps.max() > self.num_steps):
            raise ValueError(f"Expected steps `t` in 1..{self.num_steps}, got values in "
                             f"{int(steps.min())}..{int(steps.max())}.")
        return steps

    @staticmethod
    def _examples(name, x):
        array = to_numpy(name, x, dtype="float64")
        if array.ndim != 2:
            raise ValueError(f"Expected `{name}` of shape (batch, num_features), got shape "
                             f"{array.shape}. Flatten each example, e.g. {name}.reshape(len({name}), -1).")
        return array

    # ----------------------------------------------------------- the process
    def noisy(self, x0, t, noise):
        """Data noised to step ``t`` in one draw: ``sqrt(abar_t) x0 + sqrt(1 - abar_t) noise``.

        Parameters
        ----------
        x0 : array-like, shape (batch, num_features)
            Clean examples.
        t : int or array-like of int, shape (batch,)
            The step of each example, in 1..num_steps.
        noise : array-like, shape of ``x0``
            Standard normal draws.

        Returns
        -------
        numpy.ndarray of float64, shape of ``x0``
        """
        x0 = self._examples("x0", x0)
        noise = self._examples("noise", noise)
        if noise.shape != x0.shape:
            raise ValueError(f"Expected `noise` with the shape of `x0` {x0.shape}, got "
                             f"{noise.shape}.")
        abar = self.alpha_bars[self._steps(t, len(x0)) - 1][:, None]
        return onp.sqrt(abar) * x0 + onp.sqrt(1.0 - abar) * noise

    def inputs(self, x_t, t):
        """The network's input: each noised example followed by the time code of its step.

        Parameters
        ----------
        x_t : array-like, shape (batch, num_features)
        t : int or array-like of int, shape (batch,)

        Returns
        -------
        numpy.ndarray of float32, shape (batch, num_features + time_features)
        """
        x_t = self._examples("x_t", x_t)
        codes = self._time_table[self._steps(t, len(x_t))]
        return onp.concatenate([x_t.astype("float32"), codes], axis=1)

    def sample(self, predict_noise, num_samples, num_features, rng=None, keep=()):
        """Draw examples by running the reverse chain from pure noise (ancestral sampling).

        Starting from :math:`\\mathbf{x}_T \\sim \\mathcal{N}(\\mathbf{0}, \\mathbf{I})`, each
        step :math:`t = T, \\dots, 1` takes

        .. math::
            \\mathbf{x}_{t-1} = \\frac{1}{\\sqrt{\\alpha_t}}\\Big(\\mathbf{x}_t
            - \\frac{\\beta_t}{\\sqrt{1-\\bar\\alpha_t}}\\,\\boldsymbol\\epsilon_\\theta(\\mathbf{x}_t, t)\\Big)
            + \\sigma_t \\mathbf{z},
            \\qquad \\sigma_t^2 = \\frac{1-\\bar\\alpha_{t-1}}{1-\\bar\\alpha_t}\\,\\beta_t,

        with fresh :math:`\\mathbf{z} \\sim \\mathcal{N}(\\mathbf{0}, \\mathbf{I})` and no noise
        at the last step (Ho et al., 2020, algorithm 2).

        Parameters
        ----------
        predict_noise : callable
            ``predict_noise(inputs)`` maps the output of :meth:`inputs` (float32,
            ``(num_samples, num_features + time_features)``) to predicted noise of
            shape ``(num_samples, num_features)``, as NumPy or any array
            ``numpy.asarray`` takes; e.g. a trained ``Trainer``'s ``predict``.
        num_samples, num_features : int
            How many examples, of how many values each.
        rng : numpy.random.Generator or int, optional
            Where the noise comes from (an int seeds a new Generator); default:
            drawn from NumPy's global generator.
        keep : sequence of int, optional
            Steps (0..num_steps) whose states to return as well, e.g. to plot the
            chain; step 0 is the result.

        Returns
        -------
        numpy.ndarray of float64, shape (num_samples, num_features)
            The samples; with ``keep``, a pair ``(samples, {t: x_t})``.

        Examples
        --------
        Data that is exactly 0 has the noise as its whole content, so the best
        prediction of the noise is :math:`\\mathbf{x}_t / \\sqrt{1-\\bar\\alpha_t}`; the
        chain then ends at 0:

        >>> import numpy as onp
        >>> from dlbook.generative import DiffusionSchedule
        >>> schedule = DiffusionSchedule(num_steps=50, time_features=2)
        >>> scale = onp.sqrt(1 - schedule.alpha_bars)
        >>> def oracle(inputs):  # the time code tells which step: read t from the table
        ...     t = onp.abs(inputs[:, 1:2] - schedule._time_table[:, 0]).argmin(axis=1)
        ...     return inputs[:, :1] / scale[t - 1, None]
        >>> x0, path = schedule.sample(oracle, 4, 1, rng=0, keep=[50, 0])
        >>> float(abs(x0).max()) < 1e-6, sorted(path), path[50].shape
        (True, [0, 50], (4, 1))
        """
        if not callable(predict_noise):
            raise TypeError(f"Expected `predict_noise` as a function inputs -> noise (e.g. "
                            f"trainer.predict), got {describe(predict_noise)}.")
        num_samples = check_int("num_samples", num_samples, minimum=1)
        num_features = check_int("num_features", num_features, minimum=1)
        keep = {check_int("keep", int(k) if isinstance(k, onp.integer) else k, minimum=0,
                          maximum=self.num_steps) for k in keep}
        rng = _generator(rng)
        x = rng.standard_normal((num_samples, num_features))
        path = {self.num_steps: x.copy()} if self.num_steps in keep else {}
        for t in range(self.num_steps, 0, -1):
            eps = to_numpy("predict_noise(...)", predict_noise(self.inputs(x, t)), dtype="float64")
            if eps.shape != x.shape:
                raise ValueError(
                    f"Expected `predict_noise` to return noise of shape {x.shape} (one value per "
                    f"feature of each example), got shape {eps.shape}.")
            beta, abar = self.betas[t - 1], self.alpha_bars[t - 1]
            x = (x - beta / onp.sqrt(1.0 - abar) * eps) / onp.sqrt(1.0 - beta)
            if t > 1:
                variance = (1.0 - self.alpha_bars[t - 2]) / (1.0 - abar) * beta
                x = x + onp.sqrt(variance) * rng.standard_normal(x.shape)
            if t - 1 in keep:
                path[t - 1] = x.copy()
        return (x, path) if keep else x


class DiffusionLoader(BaseArrayLoader):
    """Training pairs for a noise-predicting network, with fresh steps and noise every batch.

    Every batch of clean examples :math:`\\mathbf{x}_0` gets a step
    :math:`t \\sim \\mathcal{U}\\{1, \\dots, T\\}` and a noise
    :math:`\\boldsymbol\\epsilon \\sim \\mathcal{N}(\\mathbf{0}, \\mathbf{I})` per example;
    the loader yields ``(schedule.inputs(x_t, t), noise)``. Training on these
    with the mean squared error is the simplified objective
    :math:`\\mathbb{E}_{t, \\mathbf{x}_0, \\boldsymbol\\epsilon}
    \\|\\boldsymbol\\epsilon - \\boldsymbol\\epsilon_\\theta(\\mathbf{x}_t, t)\\|^2` of Ho et
    al. (2020). Both layers' ``Trainer.fit`` take it (``loss="mse"``). The
    examples are shuffled every epoch; steps and noise come from a second
    random stream of the same seed, so a seeded run is the same every time.

    Parameters
    ----------
    X : array-like, shape (n, num_features)
        Clean examples (standardize them first: the process ends near N(0, I)).
    schedule : DiffusionSchedule
    batch_size : int, default 128
    seed : int, optional
        Seed of the shuffling and of the noise; default: from NumPy's global generator.
    drop_last : bool, default False

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.generative import DiffusionLoader, DiffusionSchedule
    >>> schedule = DiffusionSchedule(num_steps=100, time_features=4)
    >>> loader = DiffusionLoader(onp.zeros((10, 2)), schedule, batch_size=4, seed=0)
    >>> len(loader), [(xb.shape, yb.shape) for xb, yb in loader][0]
    (3, ((4, 6), (4, 2)))
    >>> first, second = (onp.concatenate([yb for _, yb in loader]) for _ in range(2))
    >>> bool((first == second).any())  # new noise in every epoch
    False
    """

    def __init__(self, X, schedule, batch_size=128, seed=None, drop_last=False):
        if not isinstance(schedule, DiffusionSchedule):
            raise TypeError(f"Expected `schedule` as a DiffusionSchedule, got {describe(schedule)}.")
        X = DiffusionSchedule._examples("X", X)
        super().__init__(X, None, batch_size=batch_size, shuffle=True, seed=seed,
                         drop_last=drop_last)
        self.schedule = schedule
        self._noise_rng = onp.random.default_rng([self.seed, 1])

    def __iter__(self):
        for x0 in super().__iter__():
            n = len(x0)
            t = self._noise_rng.integers(1, self.schedule.num_steps + 1, size=n)
            noise = self._noise_rng.standard_normal(x0.shape)
            x_t = self.schedule.noisy(x0, t, noise)
            yield self.schedule.inputs(x_t, t), noise.astype("float32")

    def sample_inputs(self):
        """Network inputs shaped like a batch's (the first examples at the last step), drawing nothing."""
        x0 = onp.asarray(self.X[:self.batch_size], dtype="float64")
        return self.schedule.inputs(x0, self.schedule.num_steps)

    def __repr__(self):
        return (f"DiffusionLoader(num_examples={self.num_examples}, batch_size={self.batch_size}, "
                f"schedule={self.schedule!r})")


def energy_distance(a, b):
    """The energy distance between two samples: 0 for one distribution, larger the more they differ.

    With :math:`X, X'` drawn from the first distribution and :math:`Y, Y'` from
    the second (all independent),

    .. math::
        D(P, Q) = 2\\,\\mathbb{E}\\|X - Y\\| - \\mathbb{E}\\|X - X'\\| - \\mathbb{E}\\|Y - Y'\\|,

    which is never negative and is 0 only when the two distributions are one
    (Székely and Rizzo, 2013). This estimate averages over all pairs of the two
    samples, leaving out each point's distance to itself within a sample (the
    unbiased U-statistic), so two finite samples of one distribution give a
    number near 0 (a little above or below): compare with that floor. It takes memory
    for ``len(a) * len(b)`` distances; keep the samples to a few thousand.

    Parameters
    ----------
    a, b : array-like, shape (n, num_features) and (m, num_features)

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.generative import energy_distance
    >>> rng = onp.random.default_rng(0)
    >>> x, y = rng.standard_normal((500, 2)), rng.standard_normal((500, 2))
    >>> round(energy_distance(x, y), 3)  # one distribution: close to 0
    0.004
    >>> round(energy_distance(x, y + 1.0), 2)  # shifted by (1, 1)
    0.9
    >>> energy_distance(x, x[:, :1])
    Traceback (most recent call last):
    ...
    ValueError: Expected `b` with 2 values per example (those of `a`), got shape (500, 1).
    """
    a = to_numpy("a", a, ndim=2, dtype="float64")
    b = to_numpy("b", b, ndim=2, dtype="float64")
    if b.shape[1] != a.shape[1]:
        raise ValueError(f"Expected `b` with {a.shape[1]} values per example (those of `a`), got "
                         f"shape {b.shape}.")

    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"Expected at least 2 examples in each sample, got {len(a)} and {len(b)}.")

    def distances(u, v):
        return onp.sqrt(((u[:, None, :] - v[None, :, :]) ** 2).sum(axis=2))

    def within(u):  # the mean over pairs of distinct points
        return float(distances(u, u).sum() / (len(u) * (len(u) - 1)))

    return 2.0 * float(distances(a, b).mean()) - within(a) - within(b)
