"""Tests for dlbook.optim: test functions, update-rule runs, finite differences, plots, callbacks."""
import numpy as onp
import pytest

from dlbook.mxnet import optim


def gd(theta, g, state, eta):
    return theta - eta * g


def adam(theta, g, state, eta, beta1=0.9, beta2=0.999, eps=1e-8):
    t = state["t"]
    state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    state["s"] = beta2 * state.get("s", 0.0) + (1 - beta2) * g ** 2
    m_hat = state["m"] / (1 - beta1 ** t)
    s_hat = state["s"] / (1 - beta2 ** t)
    return theta - eta * m_hat / (onp.sqrt(s_hat) + eps)


# ----------------------------------------------------------------- test functions
@pytest.mark.parametrize("objective", [optim.quadratic(2.0, 30.0), optim.rosenbrock(),
                                       optim.rosenbrock(a=-0.5, b=3.0), optim.saddle()])
def test_gradients_match_finite_differences(objective):
    rng = onp.random.default_rng(0)
    for point in rng.uniform(-2, 2, size=(5, 2)):
        numeric = optim.numerical_gradient(objective.value, point)
        assert onp.allclose(objective.gradient(point), numeric, rtol=1e-6, atol=1e-5)


def test_minima_have_zero_gradient_and_lowest_value():
    for objective in (optim.quadratic(), optim.rosenbrock(a=2.0)):
        m = objective.minimum
        assert onp.allclose(objective.gradient(m), 0.0)
        assert objective.value(m) <= objective.value(m + 0.01)
    assert optim.saddle().minimum is None


def test_objective_is_vectorized_on_grids():
    X, Y = onp.meshgrid(onp.linspace(-1, 1, 4), onp.linspace(-1, 1, 3))
    Z = optim.rosenbrock()(X, Y)
    assert Z.shape == (3, 4)
    assert Z[0, 0] == optim.rosenbrock().value([X[0, 0], Y[0, 0]])


def test_objective_repr_and_argument_errors():
    assert "quadratic(a=1, b=10)" in repr(optim.quadratic())
    with pytest.raises(TypeError, match="Expected `f` to be callable"):
        optim.Objective2D("bad", 3, lambda x, y: (x, y))
    with pytest.raises(TypeError, match="Expected `grad` to be callable"):
        optim.Objective2D("bad", lambda x, y: x, None)
    with pytest.raises(ValueError, match=r"Expected `minimum` with shape \(2,\)"):
        optim.Objective2D("bad", lambda x, y: x, lambda x, y: (x, y), minimum=[0, 0, 0])
    with pytest.raises(ValueError, match=r"Expected `theta` with shape \(2,\)"):
        optim.quadratic().value([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Expected `a` > 0, got -1"):
        optim.quadratic(a=-1)
    with pytest.raises(ValueError, match="Expected `b` > 0, got"):
        optim.rosenbrock(b=0)


@pytest.mark.parametrize("a, error, pattern", [
    (float("nan"), ValueError, r"Expected `a` as a finite number, got nan"),
    (float("inf"), ValueError, r"Expected `a` as a finite number, got inf"),
    (True, TypeError, r"Expected `a` as a number, got True \(bool\)"),
    ("1", TypeError, r"Expected `a` as a number, got '1' \(str\)"),
])
def test_rosenbrock_checks_a_like_b(a, error, pattern):
    with pytest.raises(error, match=pattern):
        optim.rosenbrock(a=a)
    assert optim.rosenbrock(a=onp.int64(-2)).minimum.tolist() == [-2.0, 4.0]


# ----------------------------------------------------------------------- descend
def test_descend_gradient_descent_matches_closed_form():
    f = optim.quadratic(a=1.0, b=4.0)
    path = optim.descend(gd, f, [1.0, 1.0], 10, eta=0.1)
    t = onp.arange(11)
    assert path.shape == (11, 2)
    assert onp.allclose(path[:, 0], 0.9 ** t) and onp.allclose(path[:, 1], 0.6 ** t)


def test_descend_passes_step_number_and_keeps_state():
    seen = []

    def counting(theta, g, state, eta):
        seen.append(state["t"])
        state["calls"] = state.get("calls", 0) + 1
        assert state["calls"] == state["t"]
        return theta - eta * g

    optim.descend(counting, lambda th: 2 * th, [1.0], 4, eta=0.1)
    assert seen == [1, 2, 3, 4]


def test_descend_adam_first_step_is_eta_per_coordinate():
    path = optim.descend(adam, optim.quadratic(a=1.0, b=100.0), [3.0, -2.0], 1, eta=0.25)
    assert onp.allclose(path[1] - path[0], [-0.25, 0.25])


def test_descend_accepts_any_shape_and_zero_steps():
    start = onp.ones((2, 3))
    path = optim.descend(gd, lambda th: th, start, 0, eta=0.5)
    assert path.shape == (1, 2, 3) and onp.array_equal(path[0], start)


def test_descend_stops_when_the_run_diverges():
    path = optim.descend(gd, lambda th: 1e200 * th, [1.0], 10, eta=1.0)
    assert onp.all(onp.isfinite(path)) and len(path) < 11


def test_descend_errors():
    f = optim.quadratic()
    with pytest.raises(TypeError, match="Expected `rule` to be callable"):
        optim.descend("gd", f, [0.0, 0.0], 1)
    with pytest.raises(TypeError, match="Expected `grad` to be callable or an Objective2D"):
        optim.descend(gd, 3.0, [0.0, 0.0], 1, eta=0.1)
    with pytest.raises(ValueError, match="Expected `num_steps` >= 0, got -1"):
        optim.descend(gd, f, [0.0, 0.0], -1, eta=0.1)
    with pytest.raises(ValueError, match="got None. Does the rule end with `return"):
        optim.descend(lambda theta, g, state: None, f, [1.0, 1.0], 1)
    with pytest.raises(ValueError, match=r"Expected `rule` to return an array of shape \(2,\)"):
        optim.descend(lambda theta, g, state: theta[:1], f, [1.0, 1.0], 1)
    with pytest.raises(ValueError, match=r"Expected `grad` to return an array of shape \(3,\)"):
        optim.descend(gd, lambda th: th[:2], [1.0, 1.0, 1.0], 1, eta=0.1)
    with pytest.raises(ValueError, match="`start` contains 1 NaN or infinite values"):
        optim.descend(gd, f, [onp.nan, 0.0], 1, eta=0.1)


# ----------------------------------------------------------- finite differences
def test_numerical_gradient_of_a_matrix_function():
    rng = onp.random.default_rng(1)
    W, x = rng.normal(size=(3, 4)), rng.normal(size=4)
    numeric = optim.numerical_gradient(lambda M: onp.tanh(M @ x).sum(), W)
    exact = onp.outer(1 - onp.tanh(W @ x) ** 2, x)
    assert numeric.shape == W.shape and onp.allclose(numeric, exact, atol=1e-8)
    assert onp.array_equal(W, W.copy())  # the input is not changed


def test_numerical_hessian_of_rosenbrock_at_its_minimum():
    H = optim.numerical_hessian(optim.rosenbrock().value, [1.0, 1.0])
    assert onp.allclose(H, [[802.0, -400.0], [-400.0, 200.0]], rtol=1e-5)
    assert onp.all(onp.linalg.eigvalsh(H) > 0)


def test_finite_difference_errors():
    with pytest.raises(TypeError, match="Expected `f` to be callable"):
        optim.numerical_gradient(None, [1.0])
    with pytest.raises(ValueError, match="Expected `eps` > 0, got"):
        optim.numerical_gradient(lambda w: w.sum(), [1.0], eps=0)
    with pytest.raises(ValueError, match="Expected `theta` with 1 dimensions"):
        optim.numerical_hessian(lambda w: w.sum(), onp.ones((2, 2)))


# ------------------------------------------------------------------------ plots
def test_plot_contour_draws_paths_and_minimum():
    paths = {"a": [[-1.0, 1.0], [0.0, 0.5]], "b": onp.zeros((3, 2))}
    ax = optim.plot_contour(optim.quadratic(), (-2, 2), (-1, 1), paths, num=20)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels.count("a") == 1 and labels.count("b") == 1
    assert ax.get_title() == "quadratic(a=1, b=10)"
    assert ax.get_xlim() == (-2.0, 2.0)


def test_plot_contour_accepts_a_plain_function_and_log_levels():
    ax = optim.plot_contour(lambda x, y: x ** 2 + y ** 2 + 1, (-1, 1), (-1, 1),
                            levels=onp.logspace(0, 0.5, 4), num=10, title="bowl")
    assert ax.get_title() == "bowl"
    (contours,) = [c for c in ax.collections if hasattr(c, "levels")]
    ratios = contours.levels[1:] / contours.levels[:-1]
    assert len(contours.levels) == 4 and contours.levels[0] == 1.0
    assert onp.allclose(ratios, 10 ** (0.5 / 3))  # logarithmically spaced, as given
    drawn = 0
    for level, path in zip(contours.levels, contours.get_paths()):
        if len(path.vertices):  # 1 (only the centre) and 3.16 (> 3, the corners) draw no line
            x, y = path.vertices.T
            assert onp.allclose(x ** 2 + y ** 2 + 1, level, atol=0.02)  # the line is at its level
            drawn += 1
    assert drawn == 2


def test_plot_contour_errors():
    f = optim.quadratic()
    with pytest.raises(TypeError, match="Expected `objective` to be an Objective2D"):
        optim.plot_contour(3, (-1, 1), (-1, 1))
    with pytest.raises(ValueError, match=r"Expected `xlim` as \(low, high\) with low < high"):
        optim.plot_contour(f, (1, -1), (-1, 1))
    with pytest.raises(ValueError, match=r"Expected `trajectories\['p'\]` with shape \(k, 2\)"):
        optim.plot_contour(f, (-1, 1), (-1, 1), {"p": onp.zeros((4, 3))})


# ---------------------------------------------------------------- LossRecorder
@pytest.fixture
def tiny_regression():
    from dlbook.mxnet import synthetic_linear

    return synthetic_linear([1.5, -2.0], 0.3, num_examples=10, seed=0)


def _trainer():
    from dlbook.mxnet import Trainer, mlp

    return Trainer(mlp(hidden=(), num_outputs=1), loss="mse", learning_rate=0.1,
                   hybridize=False)


def test_loss_recorder_counts_updates_and_examples(tiny_regression):
    from dlbook.mxnet import ArrayLoader

    X, y = tiny_regression
    loader = ArrayLoader(X, y, batch_size=3, shuffle=True, seed=0)  # 3 + 3 + 3 + 1
    recorder = optim.LossRecorder(loader, every=2)
    trainer = _trainer()
    trainer.fit(loader, epochs=2, callbacks=[recorder], verbose=False)
    # every 2nd update, plus the end of each epoch (4 and 8 are both)
    assert recorder.updates == [0, 2, 4, 6, 8]
    assert recorder.examples == [0, 6, 10, 16, 20]
    assert recorder.losses[-1] < recorder.losses[0]
    trainer.fit(loader, epochs=1, callbacks=[recorder], verbose=False)  # continues counting
    assert recorder.updates[-2:] == [10, 12] and recorder.examples[-1] == 30
    assert repr(recorder) == "LossRecorder(every=2, records=7)"


def test_loss_recorder_loss_matches_evaluate(tiny_regression):
    from dlbook.mxnet import ArrayLoader

    X, y = tiny_regression
    loader = ArrayLoader(X, y, batch_size=5)
    recorder = optim.LossRecorder(loader)
    trainer = _trainer()
    trainer.fit(loader, epochs=1, callbacks=[recorder], verbose=False)
    assert abs(recorder.losses[-1] - trainer.evaluate(loader)["loss"]) < 1e-4


def test_loss_recorder_errors(tiny_regression):
    from dlbook.mxnet import ArrayLoader

    X, y = tiny_regression
    with pytest.raises(TypeError, match="Expected `loader` to be a dlbook.ArrayLoader with targets"):
        optim.LossRecorder((X, y))
    with pytest.raises(TypeError, match="Expected `loader` to be a dlbook.ArrayLoader with targets"):
        optim.LossRecorder(ArrayLoader(X, batch_size=2))
    with pytest.raises(ValueError, match="Expected `every` >= 1, got 0"):
        optim.LossRecorder(ArrayLoader(X, y, batch_size=2), every=0)


# ------------------------------------------------------------------ layer_stds
def test_layer_stds_follow_the_initialization():
    import mxnet as mx

    from dlbook.mxnet.models import mlp

    X = onp.random.default_rng(0).normal(size=(256, 32)).astype("float32")
    shrinking, steady = mlp(hidden=(64,) * 6), mlp(hidden=(64,) * 6)
    shrinking.initialize(mx.init.Normal(0.01))
    steady.initialize(mx.init.MSRAPrelu(factor_type="in", slope=0.0))
    small = optim.layer_stds(shrinking, X)
    he = optim.layer_stds(steady, X)
    assert small.shape == he.shape == (6,)
    assert small[-1] < 1e-5 * small[0]
    assert 0.3 < he[-1] / he[0] < 3
    assert optim.layer_stds(steady, X, kind="dense").shape == (7,)  # 6 hidden + output
    assert optim.layer_stds(steady, X, kind="all").shape == (13,)


def test_layer_stds_errors():
    import mxnet as mx

    from dlbook.mxnet.models import mlp

    net = mlp(hidden=(), num_outputs=2)
    net.initialize()
    with pytest.raises(TypeError, match="Expected `net` to be a gluon.nn.Sequential"):
        optim.layer_stds(mx.gluon.nn.Dense(2), onp.ones((2, 3)))
    with pytest.raises(ValueError, match="Expected `X` as a batch with the example axis first"):
        optim.layer_stds(net, onp.ones(3))
    with pytest.raises(ValueError, match="`net` has no layer of the kind 'activation'"):
        optim.layer_stds(net, onp.ones((2, 3)))
    with pytest.raises(ValueError, match="Unknown `kind` 'relu'"):
        optim.layer_stds(net, onp.ones((2, 3)), kind="relu")


# ================================================================ both layers
def test_core_modules_import_no_framework():
    import subprocess
    import sys

    code = ("import sys, dlbook.optim, dlbook.sequence, dlbook.regularization, dlbook._models; "
            "print(sorted(m for m in ('mxnet', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_layers_offer_the_core_optim_names(dl):
    from dlbook import optim as core

    for name in core.__all__:
        assert getattr(dl.optim, name) is getattr(core, name)
    assert set(dl.optim.__all__) == set(core.__all__) | {"layer_stds"}
    assert not hasattr(core, "layer_stds")


def test_torch_layer_stds_follow_the_initialization():
    import torch
    from torch import nn

    from dlbook.torch import optim as torch_optim
    from dlbook.torch.models import mlp

    X = onp.random.default_rng(0).normal(size=(256, 32)).astype("float32")
    shrinking, steady = mlp(hidden=(64,) * 6), mlp(hidden=(64,) * 6)
    for net, init in ((shrinking, lambda w: nn.init.normal_(w, std=0.01)),
                      (steady, lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"))):
        net(torch.as_tensor(X))  # the lazy layers learn their sizes
        for layer in net:
            if isinstance(layer, nn.Linear):
                init(layer.weight)
                nn.init.zeros_(layer.bias)
    small = torch_optim.layer_stds(shrinking, X)
    he = torch_optim.layer_stds(steady, torch.as_tensor(X))
    assert small.shape == he.shape == (6,)
    assert small[-1] < 1e-5 * small[0]
    assert 0.3 < he[-1] / he[0] < 3
    assert torch_optim.layer_stds(steady, X, kind="dense").shape == (7,)  # 6 hidden + output
    assert torch_optim.layer_stds(steady, X, kind="all").shape == (13,)  # Flatten not counted


def test_layer_stds_of_both_layers_agree_on_the_same_weights():
    import mxnet as mx
    import torch

    from dlbook import mxnet as dlm, torch as dlt

    X = onp.random.default_rng(1).normal(size=(64, 10)).astype("float32")
    gluon_net = dlm.mlp(hidden=(16, 16), num_outputs=3, activation="tanh")
    gluon_net.initialize(mx.init.Normal(0.3))
    gluon_net(mx.np.array(X))
    torch_net = dlt.mlp(hidden=(16, 16), num_outputs=3, activation="tanh")
    torch_net(torch.as_tensor(X))
    dense = [layer for layer in gluon_net if type(layer).__name__ == "Dense"]
    linear = [layer for layer in torch_net if isinstance(layer, torch.nn.Linear)]
    with torch.no_grad():
        for d, lin in zip(dense, linear):
            lin.weight.copy_(torch.as_tensor(d.weight.data().asnumpy()))
            lin.bias.copy_(torch.as_tensor(d.bias.data().asnumpy()))
    torch_net.train()
    for kind in ("activation", "dense", "all"):
        onp.testing.assert_allclose(dlt.optim.layer_stds(torch_net, X, kind=kind),
                                    dlm.optim.layer_stds(gluon_net, X, kind=kind), rtol=1e-5)
    assert torch_net.training  # the mode is restored


def test_layer_stds_errors_alike(dl):
    net = dl.mlp(hidden=(), num_outputs=2)
    if dl.FRAMEWORK == "mxnet":
        net.initialize()
    with pytest.raises(TypeError, match="Expected `net` to be a (gluon|torch).nn.Sequential"):
        dl.optim.layer_stds(object(), onp.ones((2, 3)))
    with pytest.raises(ValueError, match="Expected `X` as a batch with the example axis first"):
        dl.optim.layer_stds(net, onp.ones(3))
    with pytest.raises(ValueError, match="`net` has no layer of the kind 'activation'"):
        dl.optim.layer_stds(net, onp.ones((2, 3)))
    with pytest.raises(ValueError, match="Unknown `kind` 'relu'"):
        dl.optim.layer_stds(net, onp.ones((2, 3)), kind="relu")


def test_loss_recorder_works_with_both_trainers(dl, tiny_regression):
    X, y = tiny_regression
    loader = dl.ArrayLoader(X, y, batch_size=3, shuffle=True, seed=0)
    recorder = dl.optim.LossRecorder(loader, every=2)
    trainer = dl.Trainer(dl.mlp(hidden=(), num_outputs=1), loss="mse", learning_rate=0.1)
    trainer.fit(loader, epochs=1, callbacks=[recorder], verbose=False)
    assert recorder.updates == [0, 2, 4] and recorder.examples == [0, 6, 10]
    assert recorder.losses[-1] < recorder.losses[0]
    # Recording did not draw from the loader's shuffling: its next epoch is the second
    # epoch of a fresh loader with the same seed.
    twin = dl.ArrayLoader(X, y, batch_size=3, shuffle=True, seed=0)
    list(twin)
    assert [_np_labels(yb) for _, yb in loader] == [_np_labels(yb) for _, yb in twin]
    assert abs(recorder.losses[-1] - trainer.evaluate(loader)["loss"]) < 1e-5


def _np_labels(yb):
    values = yb.asnumpy() if hasattr(yb, "asnumpy") else yb.detach().cpu().numpy()
    return values.round(6).tolist()
