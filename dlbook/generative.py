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
"""
import numbers
from statistics import NormalDist

import numpy as onp

from ._checks import check_fraction, check_int, to_numpy

__all__ = ["gaussian_kl", "bernoulli_nll", "latent_grid"]


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
