"""Variational autoencoders in MXNet Gluon, with the NumPy tools of the core.

The pieces the chapter on generative models builds on: :func:`reparameterize`
draws a latent code so that gradients reach the encoder, :func:`gaussian_kl`
and :func:`reconstruction_loss` are the two terms of the negative ELBO,
:func:`vae_loss` their batch mean, and :class:`VAE` a small MLP encoder and
decoder. :func:`latent_grid` comes from :mod:`dlbook.generative`, which also
holds NumPy versions of the terms. The same names exist in
:mod:`dlbook.torch.generative`. Arrays are ``mxnet.np`` arrays (NumPy mode,
whether or not ``npx.set_np()`` was called).
"""
import mxnet as mx
from mxnet import gluon

from .._checks import check_int, describe
from .. import generative as _core
from ..generative import latent_grid

__all__ = ["reparameterize", "gaussian_kl", "reconstruction_loss", "vae_loss", "VAE",
           "latent_grid"]


def _need_array(name, x):
    if not isinstance(x, mx.np.ndarray):
        raise TypeError(f"Expected `{name}` as an mxnet.np array, got {describe(x)}. Convert "
                        "it with mx.np.array(...).")


def _pair(mu, log_var):
    _need_array("mu", mu)
    _need_array("log_var", log_var)
    _core._check_mu_log_var(mu.shape, log_var.shape)


@mx.util.use_np
def reparameterize(mu, log_var):
    """Draw ``z = mu + sigma * eps`` with ``eps ~ N(0, I)``: a sample gradients pass through.

    Sampling ``z ~ N(mu, sigma^2)`` directly has no derivative with respect to
    ``mu`` and ``sigma``; written as a fixed transformation of noise that does
    not depend on them, it does (the reparameterization trick, Kingma and
    Welling, 2014). ``sigma = exp(log_var / 2)``. Introduced in the chapter on
    generative models.

    Parameters
    ----------
    mu, log_var : mxnet.np.ndarray, same shape (batch, latent_dim)

    Returns
    -------
    mxnet.np.ndarray, the shape of ``mu``

    Raises
    ------
    TypeError
        If an argument is not an ``mxnet.np`` array.
    ValueError
        If the shapes differ.

    Examples
    --------
    >>> import mxnet as mx
    >>> from mxnet import autograd, np
    >>> from dlbook.mxnet.generative import reparameterize
    >>> mx.random.seed(0)
    >>> mu = np.zeros((10000, 1))
    >>> mu.attach_grad()
    >>> with autograd.record():
    ...     z = reparameterize(mu + 3.0, np.full((10000, 1), 2 * float(np.log(0.5))))
    >>> round(float(z.mean()), 1), round(float(z.std()), 1)  # N(3, 0.5^2)
    (3.0, 0.5)
    >>> z.backward()
    >>> mu.grad[:2].tolist()  # dz/dmu = 1
    [[1.0], [1.0]]
    """
    _pair(mu, log_var)
    eps = mx.np.random.normal(0.0, 1.0, size=mu.shape, ctx=mu.ctx)
    return mu + mx.np.exp(0.5 * log_var) * eps


@mx.util.use_np
def gaussian_kl(mu, log_var):
    """KL divergence of ``N(mu, diag(exp(log_var)))`` from ``N(0, I)``, one value per example.

    ``0.5 * sum(mu^2 + exp(log_var) - log_var - 1)`` over the last axis; see
    :func:`dlbook.generative.gaussian_kl` for the formula.

    Parameters
    ----------
    mu, log_var : mxnet.np.ndarray, same shape (batch, latent_dim)

    Returns
    -------
    mxnet.np.ndarray, shape (batch,)

    Examples
    --------
    >>> from mxnet import np
    >>> from dlbook.mxnet.generative import gaussian_kl
    >>> gaussian_kl(np.array([[1.0, 0.0]]), np.zeros((1, 2))).tolist()
    [0.5]
    """
    _pair(mu, log_var)
    if mu.ndim < 2:
        raise ValueError(f"Expected `mu` of shape (batch, latent_dim), got shape "
                         f"{tuple(mu.shape)}. Add the batch axis, e.g. mu.reshape(1, -1).")
    return 0.5 * (mu ** 2 + mx.np.exp(log_var) - log_var - 1.0).sum(axis=-1)


@mx.util.use_np
def reconstruction_loss(logits, x):
    """Binary cross-entropy of pixels ``x`` in [0, 1] against logits, summed per example.

    The negative log-likelihood :math:`-\\log p(\\mathbf{x} \\mid \\mathbf{z})` of
    independent Bernoulli pixels; see :func:`dlbook.generative.bernoulli_nll`.
    Fits :class:`~dlbook.mxnet.train.Trainer` as ``loss`` (one value per example).

    Parameters
    ----------
    logits : mxnet.np.ndarray, shape (batch, num_pixels)
    x : mxnet.np.ndarray
        As many values per example as ``logits`` (images are flattened).

    Returns
    -------
    mxnet.np.ndarray, shape (batch,)

    Raises
    ------
    ValueError
        If the shapes do not fit or ``x`` leaves [0, 1].

    Examples
    --------
    >>> from mxnet import np
    >>> from dlbook.mxnet.generative import reconstruction_loss
    >>> round(float(reconstruction_loss(np.zeros((1, 2)), np.array([[1.0, 0.0]]))[0]), 4)
    1.3863
    """
    _need_array("logits", logits)
    _need_array("x", x)
    shape = _core._check_reconstruction(logits.shape, x.shape)
    _core._check_pixel_range(float(x.min()), float(x.max()))
    x = x.reshape(shape).astype(logits.dtype, copy=False)
    per_pixel = (mx.np.maximum(logits, 0) - x * logits
                 + mx.np.log1p(mx.np.exp(-mx.np.abs(logits))))
    return per_pixel.reshape(len(logits), -1).sum(axis=1)


@mx.util.use_np
def vae_loss(logits, x, mu, log_var, beta=1.0):
    """The negative ELBO averaged over the batch: reconstruction + ``beta`` * KL.

    ``mean(reconstruction_loss(logits, x) + beta * gaussian_kl(mu, log_var))``;
    with ``beta = 1`` (the default) it is minus the evidence lower bound of
    Kingma and Welling (2014) for Bernoulli pixels, in nats per example.
    Introduced in the chapter on generative models.

    Parameters
    ----------
    logits : mxnet.np.ndarray, shape (batch, num_pixels)
        The decoder's output for the sampled codes.
    x : mxnet.np.ndarray
        The input images, values in [0, 1].
    mu, log_var : mxnet.np.ndarray, shape (batch, latent_dim)
        The encoder's output.
    beta : float, default 1.0
        Weight of the KL term, >= 0 (``beta != 1``: the beta-VAE of Higgins et al., 2017).

    Returns
    -------
    mxnet.np.ndarray
        A scalar.

    Raises
    ------
    TypeError
        If an array is not an ``mxnet.np`` array.
    ValueError
        If the shapes do not fit, ``x`` leaves [0, 1] or ``beta`` is negative.

    Examples
    --------
    >>> from mxnet import np
    >>> from dlbook.mxnet.generative import vae_loss
    >>> x = np.array([[1.0, 0.0]])
    >>> round(float(vae_loss(np.zeros((1, 2)), x, np.array([[1.0]]), np.zeros((1, 1)))), 4)
    1.8863
    """
    beta = _core._check_beta(beta)
    _pair(mu, log_var)
    if len(mu) != len(logits):
        raise ValueError(f"Expected `mu` with one row per example of `logits` ({len(logits)}), "
                         f"got shape {tuple(mu.shape)}.")
    return (reconstruction_loss(logits, x) + beta * gaussian_kl(mu, log_var)).mean()


@mx.util.use_np
class VAE(gluon.Block):
    """A variational autoencoder with one hidden layer in its encoder and its decoder.

    The encoder maps a flattened image to the mean and the log-variance of
    :math:`q(\\mathbf{z} \\mid \\mathbf{x})`, the decoder maps a code to one logit per
    pixel. ``forward(x)`` returns ``(logits, mu, log_var)`` for a code drawn with
    :func:`reparameterize`, what :func:`vae_loss` takes. Call ``initialize()``
    before use, as for any Gluon block. Introduced in the chapter on
    generative models.

    Parameters
    ----------
    num_inputs : int, default 784
        Pixels per image.
    num_hiddens : int, default 256
        Width of the hidden layer of the encoder and of the decoder (ReLU).
    latent_dim : int, default 2

    Examples
    --------
    >>> import mxnet as mx
    >>> from mxnet import np
    >>> from dlbook.mxnet.generative import VAE
    >>> mx.random.seed(0)
    >>> vae = VAE(num_inputs=784, num_hiddens=32, latent_dim=2)
    >>> vae.initialize()
    >>> logits, mu, log_var = vae(np.random.uniform(size=(5, 1, 28, 28)))
    >>> logits.shape, mu.shape, log_var.shape
    ((5, 784), (5, 2), (5, 2))
    >>> vae.decode(np.zeros((3, 2))).shape
    (3, 784)
    """

    def __init__(self, num_inputs=784, num_hiddens=256, latent_dim=2):
        super().__init__()
        self.num_inputs = check_int("num_inputs", num_inputs, minimum=1)
        self.num_hiddens = check_int("num_hiddens", num_hiddens, minimum=1)
        self.latent_dim = check_int("latent_dim", latent_dim, minimum=1)
        with self.name_scope():
            self.encoder = gluon.nn.Sequential()
            self.encoder.add(gluon.nn.Dense(num_hiddens, activation="relu", in_units=num_inputs),
                             gluon.nn.Dense(2 * latent_dim, in_units=num_hiddens))
            self.decoder = gluon.nn.Sequential()
            self.decoder.add(gluon.nn.Dense(num_hiddens, activation="relu", in_units=latent_dim),
                             gluon.nn.Dense(num_inputs, in_units=num_hiddens))

    def encode(self, x):
        """``(mu, log_var)`` of q(z | x), each (batch, latent_dim); images are flattened."""
        _need_array("x", x)
        if x.ndim < 2 or x[0].size != self.num_inputs:
            raise ValueError(f"Expected `x` with {self.num_inputs} values per example (set "
                             f"`num_inputs`), got shape {tuple(x.shape)}.")
        h = self.encoder(x.reshape(len(x), -1))
        return h[:, :self.latent_dim], h[:, self.latent_dim:]

    def decode(self, z):
        """One logit per pixel for each code ``z`` (batch, latent_dim)."""
        _need_array("z", z)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"Expected `z` of shape (batch, {self.latent_dim}), got shape "
                             f"{tuple(z.shape)}.")
        return self.decoder(z)

    def forward(self, x):
        mu, log_var = self.encode(x)
        return self.decode(reparameterize(mu, log_var)), mu, log_var

    def __repr__(self):
        return (f"VAE(num_inputs={self.num_inputs}, num_hiddens={self.num_hiddens}, "
                f"latent_dim={self.latent_dim})")
