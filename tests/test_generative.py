"""Tests of the generative-model tools: the NumPy core (dlbook.generative) and the two
framework layers (dlbook.mxnet.generative, dlbook.torch.generative), which must agree with
each other and with the closed forms of the core.

Tests that take the ``dl`` fixture run for MXNet and PyTorch.
"""
import importlib
import math

import mxnet as mx
import numpy as onp
import pytest
import torch

from dlbook import generative as core


def _layer(dl):
    return importlib.import_module(f"dlbook.{dl.FRAMEWORK}.generative")


def _tensor(dl, values):
    values = onp.asarray(values, dtype="float32")
    if dl.FRAMEWORK == "mxnet":
        return mx.np.array(values, dtype="float32")
    return torch.as_tensor(values)


def _np(array):
    return array.asnumpy() if hasattr(array, "asnumpy") else array.detach().cpu().numpy()


@pytest.fixture
def latents():
    rng = onp.random.default_rng(0)
    return (rng.normal(size=(6, 3)).astype("float32"),
            rng.normal(scale=0.8, size=(6, 3)).astype("float32"))


@pytest.fixture
def pixels():
    rng = onp.random.default_rng(1)
    return (rng.normal(scale=3.0, size=(4, 10)).astype("float32"),
            rng.uniform(size=(4, 10)).astype("float32"))


# ------------------------------------------------------------------- core
def test_gaussian_kl_is_zero_at_the_prior_and_positive_elsewhere(latents):
    mu, log_var = latents
    assert core.gaussian_kl(onp.zeros((2, 3)), onp.zeros((2, 3))).tolist() == [0.0, 0.0]
    assert (core.gaussian_kl(mu, log_var) > 0).all()
    # one dimension at a time adds up
    per_dim = [core.gaussian_kl(mu[:, [j]], log_var[:, [j]]) for j in range(3)]
    assert onp.allclose(sum(per_dim), core.gaussian_kl(mu, log_var))


def test_gaussian_kl_matches_a_monte_carlo_estimate():
    rng = onp.random.default_rng(0)
    mu, log_var = onp.array([[0.7, -1.2]]), onp.array([[-0.5, 0.8]])
    sigma = onp.exp(0.5 * log_var)
    z = mu + sigma * rng.standard_normal((400000, 2))
    log_q = (-0.5 * (onp.log(2 * onp.pi) + log_var + ((z - mu) / sigma) ** 2)).sum(axis=1)
    log_p = (-0.5 * (onp.log(2 * onp.pi) + z ** 2)).sum(axis=1)
    ratio = log_q - log_p
    assert abs(ratio.mean() - core.gaussian_kl(mu, log_var)[0]) < 4 * ratio.std() / math.sqrt(len(z))


def test_bernoulli_nll_is_the_binary_cross_entropy(pixels):
    logits, x = pixels
    p = 1 / (1 + onp.exp(-logits.astype("float64")))
    expected = -(x * onp.log(p) + (1 - x) * onp.log(1 - p)).sum(axis=1)
    assert onp.allclose(core.bernoulli_nll(logits, x), expected, rtol=1e-6)
    # images with as many pixels per example are flattened
    assert onp.allclose(core.bernoulli_nll(logits, x.reshape(4, 2, 5)), expected, rtol=1e-6)
    # stable for huge logits
    assert onp.isfinite(core.bernoulli_nll([[1e4, -1e4]], [[0.0, 1.0]])).all()


def test_latent_grid_is_even_in_prior_probability():
    grid = core.latent_grid(5, coverage=0.8)
    assert grid.shape == (25, 2) and grid.dtype == onp.float32
    assert onp.allclose(grid[:5, 1], grid[0, 1])               # the top row shares z_2
    assert onp.allclose(grid[::5, 0], grid[0, 0])              # the left column shares z_1
    assert grid[0, 1] > grid[-1, 1] and grid[0, 0] < grid[4, 0]
    assert abs(grid[0, 0] + 1.2816) < 1e-3 and grid[12].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("call, message", [
    (lambda: core.gaussian_kl(onp.zeros((2, 3)), onp.zeros((2, 2))),
     r"Expected `log_var` with the shape of `mu` \(2, 3\).*got shape \(2, 2\)"),
    (lambda: core.gaussian_kl(onp.zeros(3), onp.zeros(3)), r"Add the batch axis"),
    (lambda: core.gaussian_kl("a", "b"), r"Expected `mu` to hold numbers"),
    (lambda: core.bernoulli_nll(onp.zeros((2, 4)), onp.zeros((2, 5))),
     r"Expected `x` with 2 examples of 4 values each"),
    (lambda: core.bernoulli_nll(onp.zeros((1, 2)), [[0.0, 255.0]]), r"values in \[0, 1\].*x / 255"),
    (lambda: core.bernoulli_nll(onp.zeros(2), onp.zeros(2)), r"`logits` of shape \(batch, num_pixels\)"),
    (lambda: core.latent_grid(1), r"`n` >= 2"),
    (lambda: core.latent_grid(3, coverage=1.0), r"`coverage` in \(0.0, 1.0\)"),
])
def test_core_errors_name_the_argument(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


# ---------------------------------------------------------------- layers
def test_layers_agree_with_the_core(dl, latents, pixels):
    gen = _layer(dl)
    mu, log_var = latents
    assert onp.allclose(_np(gen.gaussian_kl(_tensor(dl, mu), _tensor(dl, log_var))),
                        core.gaussian_kl(mu, log_var), atol=1e-5)
    logits, x = pixels
    assert onp.allclose(_np(gen.reconstruction_loss(_tensor(dl, logits), _tensor(dl, x))),
                        core.bernoulli_nll(logits, x), rtol=1e-5)


def test_vae_loss_is_the_batch_mean_of_both_terms(dl, pixels):
    gen = _layer(dl)
    logits, x = pixels
    rng = onp.random.default_rng(2)
    mu, log_var = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    args = [_tensor(dl, a) for a in (logits, x, mu, log_var)]
    per_example = core.bernoulli_nll(logits, x) + core.gaussian_kl(mu, log_var)
    assert float(gen.vae_loss(*args)) == pytest.approx(per_example.mean(), rel=1e-5)
    beta = core.bernoulli_nll(logits, x) + 4.0 * core.gaussian_kl(mu, log_var)
    assert float(gen.vae_loss(*args, beta=4.0)) == pytest.approx(beta.mean(), rel=1e-5)
    assert float(gen.vae_loss(*args, beta=0)) == pytest.approx(
        core.bernoulli_nll(logits, x).mean(), rel=1e-5)


def test_the_two_frameworks_agree(latents, pixels):
    from dlbook import mxnet as dmx
    from dlbook import torch as dtorch
    logits, x = pixels
    mu, log_var = latents[0][:4], latents[1][:4]
    values = [float(_layer(dl).vae_loss(*[_tensor(dl, a) for a in (logits, x, mu, log_var)]))
              for dl in (dmx, dtorch)]
    assert values[0] == pytest.approx(values[1], rel=1e-5)


def test_reparameterize_has_the_right_distribution(dl):
    gen = _layer(dl)
    dl.seed_everything(0)
    n = 20000
    mu = _tensor(dl, onp.tile([[1.0, -2.0]], (n, 1)))
    log_var = _tensor(dl, onp.tile([[0.0, 2 * math.log(0.5)]], (n, 1)))
    z = _np(gen.reparameterize(mu, log_var))
    assert onp.allclose(z.mean(axis=0), [1.0, -2.0], atol=0.03)
    assert onp.allclose(z.std(axis=0), [1.0, 0.5], atol=0.02)


def test_gradients_flow_through_reparameterize(dl):
    gen = _layer(dl)
    dl.seed_everything(0)
    mu0, lv0 = onp.array([[0.5, -1.0], [2.0, 0.0]]), onp.array([[0.0, -2.0], [1.0, 0.5]])
    if dl.FRAMEWORK == "mxnet":
        mu, log_var = _tensor(dl, mu0), _tensor(dl, lv0)
        mu.attach_grad()
        log_var.attach_grad()
        with mx.autograd.record():
            z = gen.reparameterize(mu, log_var)
            f = (z ** 2).sum()
        f.backward()
        g_mu, g_lv = mu.grad.asnumpy(), log_var.grad.asnumpy()
    else:
        mu = _tensor(dl, mu0).requires_grad_()
        log_var = _tensor(dl, lv0).requires_grad_()
        z = gen.reparameterize(mu, log_var)
        (z ** 2).sum().backward()
        g_mu, g_lv = _np(mu.grad), _np(log_var.grad)
    z = _np(z)
    # f = sum z^2, z = mu + exp(log_var / 2) eps: df/dmu = 2z, df/dlog_var = 2z * (z - mu) / 2
    assert onp.allclose(g_mu, 2 * z, atol=1e-5)
    assert onp.allclose(g_lv, z * (z - mu0), atol=1e-5)


def test_vae_block_shapes_and_training_step(dl):
    gen = _layer(dl)
    dl.seed_everything(0)
    vae = gen.VAE(num_inputs=16, num_hiddens=8, latent_dim=3)
    x = _tensor(dl, onp.random.default_rng(0).uniform(size=(5, 1, 4, 4)))
    if dl.FRAMEWORK == "mxnet":
        vae.initialize(mx.init.Xavier())
    logits, mu, log_var = vae(x)
    assert tuple(logits.shape) == (5, 16) and tuple(mu.shape) == (5, 3) == tuple(log_var.shape)
    assert tuple(vae.decode(_tensor(dl, onp.zeros((2, 3)))).shape) == (2, 16)
    assert dl.count_parameters(vae) == (16 * 8 + 8 + 8 * 6 + 6) + (3 * 8 + 8 + 8 * 16 + 16)
    # one optimizer step lowers the loss on the same batch (the same noise: seeded)
    if dl.FRAMEWORK == "mxnet":
        mx.npx.set_np()                  # gluon.Trainer's updates need NumPy mode (dl.setup's)
        trainer = mx.gluon.Trainer(vae.collect_params(), "sgd", {"learning_rate": 0.01})
        losses = []
        for _ in range(2):
            dl.seed_everything(1)
            with mx.autograd.record():
                logits, mu, log_var = vae(x)
                loss = gen.vae_loss(logits, x, mu, log_var)
            loss.backward()
            trainer.step(1)
            losses.append(float(loss))
    else:
        opt = torch.optim.SGD(vae.parameters(), lr=0.01)
        losses = []
        for _ in range(2):
            dl.seed_everything(1)
            logits, mu, log_var = vae(x)
            loss = gen.vae_loss(logits, x, mu, log_var)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    assert losses[1] < losses[0], losses


def test_layer_errors(dl):
    gen = _layer(dl)
    z2, z3 = _tensor(dl, onp.zeros((2, 2))), _tensor(dl, onp.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"`log_var` with the shape of `mu` \(2, 2\)"):
        gen.reparameterize(z2, z3)
    with pytest.raises(TypeError, match=r"Expected `mu` as an? (mxnet.np array|torch tensor)"):
        gen.reparameterize(onp.zeros((2, 2)), z2)
    with pytest.raises(ValueError, match=r"Expected `x` with 2 examples of 2 values each"):
        gen.reconstruction_loss(z2, z3)
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        gen.reconstruction_loss(z2, z2 + 3)
    with pytest.raises(ValueError, match=r"`beta` >= 0"):
        gen.vae_loss(z2, z2, z2, z2, beta=-1.0)
    with pytest.raises(ValueError, match=r"one row per example of `logits` \(2\)"):
        gen.vae_loss(z2, z2, _tensor(dl, onp.zeros((3, 2))), _tensor(dl, onp.zeros((3, 2))))
    vae = gen.VAE(num_inputs=4, num_hiddens=3, latent_dim=2)
    if dl.FRAMEWORK == "mxnet":
        vae.initialize()
    with pytest.raises(ValueError, match=r"`x` with 4 values per example"):
        vae.encode(z3)
    with pytest.raises(ValueError, match=r"`z` of shape \(batch, 2\)"):
        vae.decode(z3)
    with pytest.raises(TypeError, match=r"`latent_dim` to be an integer"):
        gen.VAE(latent_dim=2.5)


def test_both_layers_offer_the_same_names():
    from dlbook.mxnet import generative as gmx
    from dlbook.torch import generative as gtorch
    import dlbook.mxnet as dmx
    import dlbook.torch as dtorch
    assert gmx.__all__ == gtorch.__all__
    for name in ("generative", "VAE", "vae_loss", "reparameterize"):
        assert name in dmx.__all__ and name in dtorch.__all__
