"""Tests of regularization: polynomial fits and gaps (core, dlbook.regularization), weight
penalties and soft thresholding (both layers).

Tests that take the ``dl`` fixture run for MXNet and PyTorch.
"""
import mxnet as mx
import numpy as onp
import pytest
import torch
from mxnet import autograd, gluon
from torch import nn

from dlbook import regularization as core

from dlbook.mxnet import Trainer, load_array, synthetic_linear
from dlbook.mxnet.models import mlp
from dlbook.mxnet.regularization import (
    PenalizedLoss,
    SoftThreshold,
    generalization_gap,
    least_squares,
    polynomial_features,
    weight_penalty,
    weight_values,
)


@pytest.fixture
def sparse_problem():
    """60 examples, 8 inputs of which only the first two matter."""
    w = onp.zeros(8)
    w[:2] = [2.0, -1.5]
    return synthetic_linear(w, 0.5, num_examples=60, noise=0.5, seed=3)


def _linear_net(num_inputs):
    net = mlp(hidden=(), num_outputs=1)
    net.initialize(mx.init.Zero())
    net(mx.np.zeros((1, num_inputs)))
    return net


# ---------------------------------------------------------------- polynomials
def test_polynomial_features_columns_are_powers():
    x = onp.array([-1.0, 0.5, 2.0])
    P = polynomial_features(x.reshape(-1, 1), degree=4, include_bias=True)
    assert P.shape == (3, 5)
    onp.testing.assert_allclose(P, onp.vander(x, 5, increasing=True))


@pytest.mark.parametrize("x, degree, error, match", [
    (onp.ones((3, 2)), 2, ValueError, r"one input per example.*\(3, 2\)"),
    ([1.0, 2.0], 0, ValueError, r"`degree` >= 1, got 0"),
    ([1.0, 2.0], 2.0, TypeError, r"`degree` to be an integer"),
    ([[[1.0]]], 2, ValueError, r"`x` with 1 or 2 dimensions"),
])
def test_polynomial_features_rejects_bad_input(x, degree, error, match):
    with pytest.raises(error, match=match):
        polynomial_features(x, degree)


def test_least_squares_interpolates_and_matches_sklearn_ridge():
    from sklearn.linear_model import LinearRegression, Ridge

    rng = onp.random.default_rng(0)
    X = rng.standard_normal((40, 5))
    y = X @ onp.arange(1.0, 6.0) + 0.3 + 0.1 * rng.standard_normal(40)
    w, b = least_squares(X, y)
    ols = LinearRegression().fit(X, y)
    onp.testing.assert_allclose(w, ols.coef_, atol=1e-8)
    assert b == pytest.approx(ols.intercept_)
    # Our objective mean(err**2) + l2/2 ||w||^2 is sklearn's ||err||^2 + alpha ||w||^2
    # with alpha = n * l2 / 2.
    w, b = least_squares(X, y.reshape(-1, 1), l2=0.5)
    ridge = Ridge(alpha=40 * 0.5 / 2).fit(X, y)
    onp.testing.assert_allclose(w, ridge.coef_, atol=1e-8)
    assert b == pytest.approx(ridge.intercept_)


def test_polynomial_of_degree_n_minus_1_interpolates():
    x = onp.linspace(-1, 1, 6)
    y = onp.array([0.3, -0.2, 0.5, 0.1, -0.4, 0.2])
    w, b = least_squares(polynomial_features(x, 5), y)
    onp.testing.assert_allclose(polynomial_features(x, 5) @ w + b, y, atol=1e-8)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(X=onp.ones((3, 2)), y=onp.ones(4)), ValueError, r"`X` has 3, `y` has 4"),
    (dict(X=onp.ones((3, 2)), y=onp.ones((3, 2))), ValueError, r"one target per example"),
    (dict(X=onp.ones((3, 2)), y=onp.ones(3), l2=-1.0), ValueError, r"`l2`.*>= 0, got -1.0"),
    (dict(X=onp.ones(3), y=onp.ones(3)), ValueError, r"`X` with 2 dimensions"),
    (dict(X=onp.ones((3, 2)), y=onp.ones(3), l2="big"), TypeError, r"`l2` as a number >= 0, got 'big' \(str\)"),
])
def test_least_squares_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        least_squares(**kwargs)


# ----------------------------------------------------------- weights, penalty
def test_weight_values_leave_out_biases_and_batch_norm():
    net = mlp(hidden=(5,), num_outputs=3, batch_norm=True)
    net.initialize()
    net(mx.np.ones((2, 4)))
    assert weight_values(net).shape == (4 * 5 + 5 * 3,)


def test_weight_values_needs_known_shapes_and_a_block():
    net = mlp(hidden=(5,), num_outputs=3)
    net.initialize()  # deferred: shapes unknown until a forward pass
    with pytest.raises(RuntimeError, match=r"has no value yet.*forward pass"):
        weight_values(net)
    with pytest.raises(TypeError, match=r"`net` to be a gluon Block"):
        weight_values([1, 2])
    with pytest.raises(ValueError, match=r"no weights"):
        weight_values(gluon.nn.Activation("relu"))


def test_weight_penalty_values(np_mode):
    net = _linear_net(3)
    net[0].weight.set_data(mx.np.array([[1.0, -2.0, 0.5]]))  # dlbook models hold np arrays
    assert float(weight_penalty(net, l1=0.1)) == pytest.approx(0.35)
    assert float(weight_penalty(net, l2=0.2)) == pytest.approx(0.1 * 5.25)
    assert float(weight_penalty(net)) == 0.0


def test_penalized_loss_gradient_is_loss_gradient_plus_penalty_gradient():
    mx.npx.set_np()
    X = mx.np.array([[1.0, 2.0, -1.0], [0.5, -1.0, 2.0]])
    y = mx.np.array([[1.0], [-1.0]])
    net = _linear_net(3)
    net[0].weight.set_data(mx.np.array([[0.5, -0.25, 0.0]]))
    net.hybridize(static_alloc=True)
    grads = {}
    for l1, l2 in [(0.0, 0.0), (0.3, 0.0), (0.0, 0.3)]:
        loss = PenalizedLoss("mse", net, l1=l1, l2=l2)
        with autograd.record():
            value = loss(net(X), y).mean()
        value.backward()
        grads[(l1, l2)] = net[0].weight.grad().asnumpy().copy()
    w = onp.array([[0.5, -0.25, 0.0]])
    # sign(0) = 0 for the zero weight: MXNet's subgradient of |w| at 0 is 0.
    onp.testing.assert_allclose(grads[(0.3, 0.0)] - grads[(0.0, 0.0)], 0.3 * onp.sign(w), atol=1e-6)
    onp.testing.assert_allclose(grads[(0.0, 0.3)] - grads[(0.0, 0.0)], 0.3 * w, atol=1e-6)


def test_penalty_is_added_in_training_only():
    mx.npx.set_np()
    net = _linear_net(2)
    net[0].weight.set_data(mx.np.array([[1.0, -1.0]]))
    loss = PenalizedLoss("mse", net, l1=0.5)
    X, y = mx.np.zeros((2, 2)), mx.np.zeros((2, 1))
    assert loss(net(X), y).asnumpy().tolist() == [0.0, 0.0]
    with autograd.record():
        values = loss(net(X), y)
    assert values.asnumpy().tolist() == [1.0, 1.0]


def test_l2_penalty_with_sgd_equals_weight_decay_on_the_weights(sparse_problem):
    X, y = sparse_problem
    results = []
    for use_wd in (False, True):
        net = mlp(hidden=(), num_outputs=1)
        net.initialize(mx.init.Constant(0.1))
        if use_wd:
            net.collect_params(".*bias").setattr("wd_mult", 0.0)
            trainer = Trainer(net, "mse", learning_rate=0.05, optimizer_params={"wd": 0.2})
        else:
            trainer = Trainer(net, PenalizedLoss("mse", net, l2=0.2), learning_rate=0.05)
        trainer.fit(load_array((X, y), batch_size=60, shuffle=False), epochs=5, verbose=False)
        results.append(weight_values(net))
    onp.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------- soft threshold
@pytest.mark.parametrize("l1, error, match", [
    (0.0, ValueError, r"Expected `l1` > 0, got 0.0\. SoftThreshold shrinks the weights"),
    (-1.0, ValueError, r"Expected `l1` > 0, got -1.0"),
    ("0.1", TypeError, r"`l1` as a number > 0, got '0.1' \(str\)"),
])
def test_soft_threshold_rejects_bad_rate(l1, error, match):
    with pytest.raises(error, match=match):
        SoftThreshold(l1)


# ---------------------------------------------------------------------- gaps
def test_generalization_gap_from_a_real_history(sparse_problem):
    X, y = sparse_problem
    trainer = Trainer(mlp(hidden=(), num_outputs=1), "mse", metrics=["mae"])
    history = trainer.fit((X[:40], y[:40]), batch_size=10, epochs=3, verbose=False,
                          validation_data=(X[40:], y[40:]))
    gap = generalization_gap(history, "mae")
    assert gap.shape == (3,)
    onp.testing.assert_allclose(gap, onp.array(history["val_mae"]) - history["mae"])


def test_generalization_gap_errors():
    with pytest.raises(KeyError, match=r"No `val_loss`.*validation_data"):
        generalization_gap({"loss": [1.0]})
    with pytest.raises(TypeError, match=r"History or a dict"):
        generalization_gap([1.0, 2.0])
    with pytest.raises(TypeError, match=r"`metric` as a str"):
        generalization_gap({"loss": [1.0], "val_loss": [1.0]}, metric=1)


# ================================================================ both layers
def _built(dl, net, num_inputs):
    """``net`` with known shapes: initialized (MXNet) and called once on zeros."""
    if dl.FRAMEWORK == "mxnet":
        net.initialize(mx.init.Zero())
        net(mx.np.zeros((2, num_inputs)))
    else:
        net(torch.zeros(2, num_inputs))  # two rows: batch norm needs them in training mode
    return net


def _set_weight(dl, net, values):
    layer = net[0] if dl.FRAMEWORK == "mxnet" else net[1]  # the torch mlp starts with Flatten
    if dl.FRAMEWORK == "mxnet":
        layer.weight.set_data(mx.np.array(values))
    else:
        with torch.no_grad():
            layer.weight.copy_(torch.tensor(values))
    return layer


def test_layers_reexport_the_core_tools(dl):
    for name in core.__all__:
        assert getattr(dl.regularization, name) is getattr(core, name)


def test_weight_values_leave_out_biases_and_batch_norm_in_both_layers(dl):
    net = _built(dl, dl.mlp(hidden=(5,), num_outputs=3, batch_norm=True), 4)
    values = dl.regularization.weight_values(net)
    assert values.shape == (4 * 5 + 5 * 3,) and values.dtype == onp.float32


def test_weight_values_of_recurrent_models_agree():
    from dlbook import mxnet as dlm, torch as dlt

    sizes = []
    for dl in (dlm, dlt):
        net = dl.sequence.RNNModel(3, num_hiddens=4, cell="gru", num_layers=2)
        if dl.FRAMEWORK == "mxnet":
            net.initialize()
            net(mx.np.zeros((2, 5, 6)))
        else:
            net(torch.zeros(2, 5, 6))
        sizes.append(dl.regularization.weight_values(net).size)
    assert sizes == [3 * 4 * (6 + 4) + 3 * 4 * (4 + 4) + 4 * 3] * 2


def test_torch_weight_values_need_known_shapes_and_a_module():
    from dlbook.torch import mlp as torch_mlp
    from dlbook.torch.regularization import weight_values as torch_values

    with pytest.raises(RuntimeError,
                       match=r"Parameter `1.weight` of `net` has no value yet.*forward pass"):
        torch_values(torch_mlp(hidden=(5,), num_outputs=3))
    with pytest.raises(TypeError, match=r"`net` to be a torch.nn.Module"):
        torch_values([1, 2])
    with pytest.raises(ValueError, match=r"no weights"):
        torch_values(nn.Sequential(nn.ReLU(), nn.BatchNorm1d(3)))


def test_weight_penalty_values_in_both_layers(dl):
    net = _built(dl, dl.mlp(hidden=(), num_outputs=1), 3)
    _set_weight(dl, net, [[1.0, -2.0, 0.5]])
    penalty = dl.regularization.weight_penalty
    assert penalty(net, l1=0.1).item() == pytest.approx(0.35)
    assert penalty(net, l2=0.2).item() == pytest.approx(0.1 * 5.25)
    assert penalty(net).item() == 0.0
    assert penalty(net, l1=0.1, l2=0.2).item() == pytest.approx(0.35 + 0.525)


def test_torch_penalized_gradient_is_loss_gradient_plus_penalty_gradient():
    from dlbook.torch import mlp as torch_mlp
    from dlbook.torch.regularization import PenalizedLoss as TorchPenalized

    X = torch.tensor([[1.0, 2.0, -1.0], [0.5, -1.0, 2.0]])
    y = torch.tensor([[1.0], [-1.0]])
    net = torch_mlp(hidden=(), num_outputs=1)
    net(X)
    w = [[0.5, -0.25, 0.0]]
    with torch.no_grad():
        net[1].weight.copy_(torch.tensor(w))
    grads = {}
    for l1, l2 in [(0.0, 0.0), (0.3, 0.0), (0.0, 0.3)]:
        net.zero_grad()
        TorchPenalized("mse", net, l1=l1, l2=l2)(net(X), y).mean().backward()
        grads[(l1, l2)] = net[1].weight.grad.numpy().copy()
    # torch's subgradient of |w| at 0 is 0, as MXNet's.
    onp.testing.assert_allclose(grads[(0.3, 0.0)] - grads[(0.0, 0.0)], 0.3 * onp.sign(w), atol=1e-6)
    onp.testing.assert_allclose(grads[(0.0, 0.3)] - grads[(0.0, 0.0)], 0.3 * onp.array(w),
                                atol=1e-6)


def test_torch_penalty_is_added_in_training_only():
    from dlbook.torch import mlp as torch_mlp
    from dlbook.torch.regularization import PenalizedLoss as TorchPenalized

    net = torch_mlp(hidden=(), num_outputs=1)
    net(torch.zeros(1, 2))
    with torch.no_grad():
        net[1].weight.copy_(torch.tensor([[1.0, -1.0]]))
        net[1].bias.zero_()
    loss = TorchPenalized("mse", net, l1=0.5)
    X, y = torch.zeros(2, 2), torch.zeros(2, 1)
    assert loss(net(X), y).tolist() == [1.0, 1.0]  # a new module trains, with gradients
    with torch.no_grad():
        assert loss(net(X), y).tolist() == [0.0, 0.0]
    net.eval()
    assert loss(net(X), y).tolist() == [0.0, 0.0]


def test_torch_l2_penalty_with_sgd_equals_weight_decay_on_the_weights(sparse_problem):
    from dlbook.torch import mlp as torch_mlp
    from dlbook.torch.regularization import PenalizedLoss as TorchPenalized
    from dlbook.torch.regularization import weight_values as torch_values

    X, y = (torch.as_tensor(a) for a in sparse_problem)
    results = []
    for use_wd in (False, True):
        net = torch_mlp(hidden=(), num_outputs=1)
        net(X)
        for p in net.parameters():
            nn.init.constant_(p, 0.1)
        linear = net[1]
        if use_wd:
            opt = torch.optim.SGD([{"params": [linear.weight], "weight_decay": 0.2},
                                   {"params": [linear.bias]}], lr=0.05)
            loss = TorchPenalized("mse", net)
        else:
            opt = torch.optim.SGD(net.parameters(), lr=0.05)
            loss = TorchPenalized("mse", net, l2=0.2)
        for _ in range(5):
            opt.zero_grad()
            loss(net(X), y).mean().backward()
            opt.step()
        results.append(torch_values(net))
    onp.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)


def test_soft_threshold_reaches_the_lasso_in_both_layers(dl, sparse_problem):
    from sklearn.linear_model import Lasso

    X, y = sparse_problem
    net = dl.mlp(hidden=(), num_outputs=1)
    trainer = dl.Trainer(net, "mse", optimizer="sgd", learning_rate=0.1)
    trainer.fit(dl.load_array((X, y), batch_size=60), epochs=300, verbose=False,
                callbacks=[dl.regularization.SoftThreshold(l1=0.2)])
    w = dl.regularization.weight_values(net)
    lasso = Lasso(alpha=0.1).fit(X, y.ravel())
    onp.testing.assert_allclose(w, lasso.coef_, atol=2e-3)
    assert onp.array_equal(w == 0, lasso.coef_ == 0) and (w == 0).sum() >= 3


def test_l2_penalty_reaches_ridge_in_both_layers(dl, sparse_problem):
    X, y = sparse_problem
    net = dl.mlp(hidden=(), num_outputs=1)
    loss = dl.regularization.PenalizedLoss("mse", net, l2=0.5)
    trainer = dl.Trainer(net, loss, learning_rate=0.1)
    trainer.fit(dl.load_array((X, y), batch_size=60), epochs=300, verbose=False)
    onp.testing.assert_allclose(dl.regularization.weight_values(net),
                                least_squares(X, y, l2=0.5)[0], atol=2e-3)


def test_soft_threshold_refuses_other_optimizers_in_both_layers(dl, sparse_problem):
    X, y = sparse_problem
    for optimizer, params, shown in [("adam", {}, "Adam"), ("sgd", {"momentum": 0.9}, "SGD")]:
        trainer = dl.Trainer(dl.mlp(hidden=(), num_outputs=1), "mse", optimizer=optimizer,
                             optimizer_params=params)
        with pytest.raises(ValueError, match=rf"proximal L1 step of plain SGD, but the trainer "
                                             rf"uses {shown} \(momentum="):
            trainer.fit((X, y), batch_size=10, callbacks=[dl.regularization.SoftThreshold(0.1)],
                        verbose=False)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(l1=-0.1), ValueError, r"`l1`.*>= 0, got -0.1"),
    (dict(l2=float("inf")), ValueError, r"`l2` as a finite number >= 0, got inf"),
    (dict(l1=True), TypeError, r"`l1` as a number >= 0, got True \(bool\)"),
])
def test_penalties_check_their_rates_alike(dl, kwargs, error, match):
    net = _built(dl, dl.mlp(hidden=()), 3)
    with pytest.raises(error, match=match):
        dl.regularization.PenalizedLoss("mse", net, **kwargs)
    with pytest.raises(error, match=match):
        dl.regularization.weight_penalty(net, **kwargs)


def test_penalized_loss_rejects_bad_loss_and_net_alike(dl):
    with pytest.raises(ValueError, match=r"Unknown `loss` 'hinge'"):
        dl.regularization.PenalizedLoss("hinge", dl.mlp(hidden=()))
    with pytest.raises(TypeError, match=r"Expected `net` to be a (gluon Block|torch.nn.Module)"):
        dl.regularization.PenalizedLoss("mse", "not a net")
    with pytest.raises(ValueError, match=r"`l1` > 0"):
        dl.regularization.SoftThreshold(0.0)


def test_reprs_in_both_layers(dl):
    assert repr(dl.regularization.SoftThreshold(0.5)) == "SoftThreshold(l1=0.5)"
    assert repr(dl.regularization.PenalizedLoss("mse", dl.mlp(hidden=()), l2=0.1)) == \
        "PenalizedLoss(loss='mse', l1=0.0, l2=0.1)"
