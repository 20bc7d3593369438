"""Tests of the Trainer of both layers (dlbook.training's loop, each layer's step) and schedules.

Tests that take ``dl`` run for MXNet and PyTorch with the same expectations and
messages; MXNet- and PyTorch-only behaviour is tested at the end.
"""
import io
import math

import matplotlib.pyplot as plt
import mxnet as mx
import numpy as onp
import pytest
import torch
from mxnet import autograd, gluon, init

from dlbook import schedules
from dlbook.callbacks import Callback, History, ProgressBar
from dlbook.mxnet.data import ArrayLoader
from dlbook.mxnet.datasets import synthetic_linear, xor_data
from dlbook.mxnet.models import mlp
from dlbook.mxnet.train import Trainer
from dlbook.training import BaseTrainer, BatchLogs

TRUE_W, TRUE_B = onp.array([2.0, -3.4]), 4.2


def _classifier(dl, **kwargs):
    kwargs.setdefault("metrics", ["accuracy"])
    return dl.Trainer(dl.mlp(hidden=8, num_outputs=3), "cross_entropy", **kwargs)


def _weights(trainer):
    """Every parameter (and buffer) of the trainer's network as NumPy arrays, by name."""
    return trainer._checkpoint_params()


def _tensor(dl, array):
    """``array`` as the layer's array type."""
    return mx.np.array(array) if dl.FRAMEWORK == "mxnet" else torch.as_tensor(array)


def _training_forward(dl, net, X):
    """The network's outputs in training mode (dropout active)."""
    if dl.FRAMEWORK == "mxnet":
        with autograd.record():
            return net(mx.np.array(X)).asnumpy()
    net.train()
    with torch.no_grad():
        return net(torch.as_tensor(X)).numpy()


# --------------------------------------------------------------- learning
def test_fit_recovers_the_weights_of_a_linear_model(dl):
    X, y = synthetic_linear(TRUE_W, TRUE_B, num_examples=400, noise=0.01)
    trainer = dl.Trainer(dl.mlp(hidden=(), num_outputs=1), "mse", learning_rate=0.1)
    history = trainer.fit(dl.load_array((X, y), batch_size=10, seed=0), epochs=2, verbose=False)
    probe = onp.array([[0, 0], [1, 0], [0, 1]], dtype="float32")
    out = trainer.predict(probe)[:, 0]
    onp.testing.assert_allclose(out[1:] - out[0], TRUE_W, atol=0.02)  # the weights
    assert abs(out[0] - TRUE_B) < 0.02  # the bias
    assert history["loss"][0] > 1.0 > 0.01 > history["loss"][-1]


def test_mxnet_leaves_the_global_np_mode_alone(np_mode):
    X, y = synthetic_linear(TRUE_W, TRUE_B, num_examples=40, noise=0.01)
    Trainer(mlp(hidden=(), num_outputs=1), "mse").fit((X, y), batch_size=10, verbose=False)
    assert mx.util.is_np_array() == np_mode


def test_fit_solves_xor_with_a_hidden_layer_but_not_without(dl):
    X, y = xor_data()
    solved = dl.Trainer(dl.mlp(hidden=8, num_outputs=2, activation="tanh"), "cross_entropy",
                        optimizer="adam", learning_rate=0.1, metrics="accuracy")
    solved.fit((X, y), batch_size=4, epochs=50, verbose=False)
    assert solved.history.last("accuracy") == 1.0
    assert solved.predict(X).argmax(axis=1).tolist() == [0, 1, 1, 0]
    linear = dl.Trainer(dl.mlp(hidden=(), num_outputs=2), "cross_entropy", optimizer="adam",
                        learning_rate=0.1, metrics="accuracy")
    linear.fit((X, y), batch_size=4, epochs=50, verbose=False)
    assert linear.evaluate((X, y), batch_size=4)["accuracy"] <= 0.75


def test_binary_cross_entropy_with_one_logit_and_integer_labels(dl):
    X, y = xor_data(num_examples=40, noise=0.05)
    trainer = dl.Trainer(dl.mlp(hidden=8, num_outputs=1, activation="tanh"), "binary_cross_entropy",
                         optimizer="adam", learning_rate=0.1, metrics=["accuracy"])
    trainer.fit((X, y), batch_size=20, epochs=20, verbose=False)
    assert trainer.history.last("accuracy") == 1.0
    assert trainer.predict(X).shape == (40, 1)


@pytest.mark.parametrize("loss", ["mae", "huber", "mse"])
def test_regression_losses_train(dl, loss):
    X, y = synthetic_linear([1.0, -1.0], 0.5, num_examples=200, noise=0.0)
    trainer = dl.Trainer(dl.mlp(hidden=(), num_outputs=1), loss, optimizer="adam",
                         learning_rate=0.1, metrics=["mae"])
    history = trainer.fit((X, y), batch_size=50, epochs=15, verbose=False)
    assert history["mae"][-1] < 0.2 * history["mae"][0]
    assert type(trainer.loss).__name__ in repr(trainer)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop", "adagrad"])
def test_every_common_optimizer_trains(dl, blobs, optimizer):
    X, y = blobs
    trainer = _classifier(dl, optimizer=optimizer, learning_rate=0.05)
    history = trainer.fit((X, y), batch_size=10, epochs=8, verbose=False)
    assert history["loss"][-1] < 0.7 * history["loss"][0]


# ---------------------------------------------------------------- history
def test_history_records_every_epoch_with_val_prefix(dl, blobs):
    X, y = blobs
    trainer = _classifier(dl)
    history = trainer.fit((X, y), batch_size=10, epochs=3, validation_data=(X[:12], y[:12]),
                          verbose=False)
    assert history is trainer.history and isinstance(history, History) and len(history) == 3
    assert history.epoch == [1, 2, 3]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "time"}
    assert all(len(values) == 3 for values in history.history.values())
    assert all(isinstance(v, float) for values in history.history.values() for v in values)
    assert all(t > 0 for t in history["time"])
    assert all(0.0 <= a <= 1.0 for a in history["accuracy"] + history["val_accuracy"])
    last_val = trainer.evaluate((X[:12], y[:12]), batch_size=12)
    assert history.last("val_loss") == pytest.approx(last_val["loss"], rel=1e-5)
    assert history.last("val_accuracy") == pytest.approx(last_val["accuracy"])
    trainer.fit((X, y), batch_size=10, epochs=2, verbose=False)  # continues the count
    assert history.epoch == [1, 2, 3, 4, 5]
    assert len(history["loss"]) == 5 and len(history["val_loss"]) == 3
    assert trainer.num_updates == 5 * 3


def test_history_object():
    history = History()
    history.append(1, {"loss": 0.9, "accuracy": 0.5, "time": 1.0})
    history.append(2, {"loss": 0.4, "accuracy": 0.75, "time": 1.0})
    assert history["loss"] == [0.9, 0.4] and history.last("accuracy") == 0.75
    assert len(history) == 2
    assert repr(history) == "History(epochs=2, loss=0.4, accuracy=0.75)"
    with pytest.raises(KeyError, match=r"No metric `val_loss` in the history. Available: \['accuracy', 'loss', 'time'\]"):
        history["val_loss"]


def test_the_layers_share_the_loop_and_history(dl):
    assert issubclass(dl.Trainer, BaseTrainer) and dl.History is History
    assert dl.Trainer.fit is BaseTrainer.fit or dl.FRAMEWORK == "mxnet"  # MXNet wraps it in np mode
    assert dl.Trainer.fit.__doc__ == BaseTrainer.fit.__doc__


# ------------------------------------------------------------- inference
def test_evaluate_and_predict_agree(dl, blobs):
    X, y = blobs
    trainer = _classifier(dl)
    trainer.fit((X, y), batch_size=10, epochs=2, verbose=False)
    s = trainer.predict(X, batch_size=7)
    assert type(s) is onp.ndarray and s.shape == (30, 3) and s.dtype == onp.float32
    log_softmax = s - s.max(axis=1, keepdims=True)
    log_softmax -= onp.log(onp.exp(log_softmax).sum(axis=1, keepdims=True))
    results = trainer.evaluate(dl.load_array((X, y), batch_size=8, shuffle=False))
    assert set(results) == {"loss", "accuracy"} and all(type(v) is float for v in results.values())
    assert results["loss"] == pytest.approx(float(-log_softmax[onp.arange(30), y].mean()), rel=1e-5)
    assert results["accuracy"] == pytest.approx(float((s.argmax(axis=1) == y).mean()))


def test_dropout_is_off_in_evaluate_and_predict(dl, blobs):
    X, y = blobs
    net = dl.mlp(hidden=32, num_outputs=3, dropout=0.5)
    trainer = dl.Trainer(net, "cross_entropy")
    first, second = trainer.predict(X), trainer.predict(X)
    onp.testing.assert_array_equal(first, second)
    assert trainer.evaluate((X, y), batch_size=30) == trainer.evaluate((X, y), batch_size=30)
    dropped = _training_forward(dl, net, X)  # the same network in training mode drops units
    assert not onp.allclose(dropped, first)


def test_predict_accepts_lists_layer_arrays_and_loaders(dl, blobs):
    X, y = blobs
    trainer = _classifier(dl)
    expected = trainer.predict(X)
    onp.testing.assert_allclose(trainer.predict(X.tolist()), expected, rtol=1e-6)
    onp.testing.assert_allclose(trainer.predict(_tensor(dl, X), batch_size=1000), expected, rtol=1e-6)
    loader = dl.load_array((X, y), batch_size=4, shuffle=False)
    onp.testing.assert_allclose(trainer.predict(loader), expected, rtol=1e-5, atol=1e-6)  # y is ignored
    onp.testing.assert_allclose(trainer.predict(dl.ArrayLoader(X, batch_size=9)), expected, rtol=1e-5, atol=1e-6)


def test_evaluate_calls_the_test_batch_hooks(dl, blobs):
    X, y = blobs

    class Batches(Callback):
        def __init__(self):
            self.seen = []

        def on_test_batch_begin(self, batch, logs=None):
            self.seen.append(("begin", batch, logs))

        def on_test_batch_end(self, batch, logs=None):
            self.seen.append(("end", batch, logs.size, logs["loss"]))

    trainer, batches = _classifier(dl), Batches()
    results = trainer.evaluate(dl.load_array((X, y), batch_size=12, shuffle=False),
                               callbacks=[batches])
    assert [s[:3] for s in batches.seen] == [("begin", 1, None), ("end", 1, 12), ("begin", 2, None),
                                            ("end", 2, 12), ("begin", 3, None), ("end", 3, 6)]
    mean = sum(s[2] * s[3] for s in batches.seen if s[0] == "end") / 30
    assert mean == pytest.approx(results["loss"], rel=1e-5)


# ------------------------------------------------------------- open steps
def test_a_train_step_override_replaces_the_update(dl, blobs):
    X, y = blobs

    class Frozen(dl.Trainer):
        """Computes the loss but never updates: the loop must still record it."""

        def train_step(self, batch):
            return self.test_step(batch)

    trainer = Frozen(dl.mlp(hidden=(), num_outputs=3), "cross_entropy", metrics=["accuracy"])
    trainer.predict(X[:1])
    before = _weights(trainer)
    history = trainer.fit((X, y), batch_size=10, epochs=2, verbose=False)
    after = _weights(trainer)
    assert all(onp.array_equal(before[k], after[k]) for k in before)
    assert history["loss"][0] == pytest.approx(history["loss"][1], rel=1e-6)
    assert history["loss"][0] == pytest.approx(trainer.evaluate((X, y), batch_size=30)["loss"], rel=1e-5)


def test_a_test_step_override_changes_evaluation(dl, blobs):
    X, y = blobs

    class Doubled(dl.Trainer):
        def test_step(self, batch):
            y_hat, loss = super().test_step(batch)
            return y_hat, 2 * loss

    plain = _classifier(dl)
    doubled = Doubled(plain.net, "cross_entropy", metrics=["accuracy"])
    a, b = plain.evaluate((X, y), batch_size=10), doubled.evaluate((X, y), batch_size=10)
    assert b["loss"] == pytest.approx(2 * a["loss"], rel=1e-6) and b["accuracy"] == a["accuracy"]


def test_a_step_must_return_outputs_and_losses(dl, blobs):
    X, y = blobs

    class Broken(dl.Trainer):
        def train_step(self, batch):
            return 0.5

    trainer = Broken(dl.mlp(hidden=4, num_outputs=3), "cross_entropy")
    with pytest.raises(TypeError, match=r"Expected `train_step` to return \(y_hat, loss\) .* got 0.5 \(float\)"):
        trainer.fit((X, y), batch_size=10, verbose=False)


# ----------------------------------------------------- setup of the trainer
@pytest.mark.parametrize("name", ["xavier", "he", "normal", "uniform", "zeros", "ones"])
def test_initializer_names_mean_the_same_in_both_layers(dl, name):
    X = onp.ones((2, 400), dtype="float32")
    trainer = dl.Trainer(dl.mlp(hidden=(), num_outputs=500), "mse", initializer=name)
    trainer.predict(X)  # the input width is known now
    weights = _weights(trainer)
    (w,) = [v for v in weights.values() if v.ndim == 2]
    (b,) = [v for v in weights.values() if v.ndim == 1]
    assert w.shape == (500, 400) and not b.any()  # biases start at 0
    expected_std = {"xavier": math.sqrt(6 / 900) / math.sqrt(3), "he": math.sqrt(2 / 400),
                    "normal": 0.01, "uniform": 0.07 / math.sqrt(3)}
    if name in expected_std:
        assert w.std() == pytest.approx(expected_std[name], rel=0.02)
        assert abs(w.mean()) < 0.01 * w.std() * 10
    if name == "xavier":
        assert onp.abs(w).max() <= math.sqrt(6 / 900)
    if name == "uniform":
        assert onp.abs(w).max() <= 0.07
    if name in ("zeros", "ones"):
        assert (w == (name == "ones")).all()


def test_the_default_initializer_is_xavier(dl):
    dl.seed_everything(0)
    trainer = dl.Trainer(dl.mlp(hidden=(), num_outputs=300), "mse")
    trainer.predict(onp.ones((1, 300), dtype="float32"))
    (w,) = [v for v in _weights(trainer).values() if v.ndim == 2]
    assert onp.abs(w).max() <= math.sqrt(6 / 600)
    assert w.std() == pytest.approx(math.sqrt(6 / 600) / math.sqrt(3), rel=0.03)


def test_optimizer_by_name_and_params(dl, blobs):
    X, y = blobs
    trainer = _classifier(dl, optimizer="SGD", learning_rate=0.2,
                          optimizer_params={"momentum": 0.9, "wd": 1e-4}, metrics=None)
    trainer.fit((X, y), batch_size=10, verbose=False)
    assert trainer.learning_rate == 0.2 and trainer.base_learning_rate == 0.2
    if dl.FRAMEWORK == "mxnet":
        opt = trainer.optimizer._optimizer
        assert (opt.momentum, opt.wd) == (0.9, 1e-4)
    else:
        group = trainer.optimizer.param_groups[0]
        assert (group["momentum"], group["weight_decay"]) == (0.9, 1e-4)
    assert repr(trainer) == (f"Trainer(net=Sequential, loss=SoftmaxCrossEntropyLoss, optimizer=SGD, "
                             f"metrics=[], device={trainer.device}, epochs=1)")
    trainer.set_learning_rate(0.05)
    assert trainer.learning_rate == 0.05


# ------------------------------------------------------------------ output
def test_verbose_auto_prints_one_line_per_epoch(dl, capsys, blobs):
    X, y = blobs
    _classifier(dl).fit((X, y), batch_size=10, epochs=2)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" - ")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]


def test_verbose_false_and_plot_show_nothing_outside_a_notebook(dl, capsys, blobs):
    X, y = blobs
    trainer = _classifier(dl)
    trainer.fit((X, y), batch_size=10, epochs=2, verbose=False)
    with pytest.warns(UserWarning, match=r"LivePlot \(verbose='plot'\) draws in a Jupyter notebook only; outside one it shows nothing\. Print progress with verbose=True"):
        trainer.fit((X, y), batch_size=10, epochs=2, verbose="plot")
    assert capsys.readouterr().out == ""
    assert plt.get_fignums() == []


def test_verbose_2_prints_one_line_per_epoch_without_a_bar(dl, capsys, blobs, monkeypatch):
    X, y = blobs
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)
    _classifier(dl).fit(X, y, batch_size=10, epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert "\r" not in out and [line.split(" - ")[0] for line in out.splitlines()] == \
        ["epoch 1/2", "epoch 2/2"]


def test_a_progress_bar_passed_in_replaces_the_default(dl, capsys, blobs):
    X, y = blobs
    stream = io.StringIO()
    _classifier(dl).fit((X, y), batch_size=10, epochs=2, callbacks=[ProgressBar(stream=stream)])
    assert capsys.readouterr().out == ""
    assert stream.getvalue().count("\n") == 2


# ------------------------------------------------------------- failures
def test_nan_loss_from_a_huge_learning_rate_raises(dl):
    X, y = synthetic_linear(TRUE_W, TRUE_B, num_examples=200)
    trainer = dl.Trainer(dl.mlp(hidden=(), num_outputs=1), "mse", learning_rate=1e10)
    with pytest.raises(FloatingPointError, match=r"training loss became (nan|inf) in epoch 1, batch \d+ of 20\..*smaller `learning_rate`"):
        trainer.fit((X, y), batch_size=10, epochs=3, verbose=False)
    assert len(trainer.history) == 0


def test_infinite_custom_loss_raises(dl):
    X, y = synthetic_linear(TRUE_W, TRUE_B, num_examples=20)

    def exploding(y_hat, target):
        return ((y_hat - target.reshape(y_hat.shape)) ** 2).mean(1) * float("inf")

    trainer = dl.Trainer(dl.mlp(hidden=(), num_outputs=1), exploding)
    with pytest.raises(FloatingPointError, match=r"training loss became (nan|inf) in epoch 1, batch 1 of 4\."):
        trainer.fit((X, y), batch_size=5, verbose=False)


def test_non_finite_loss_names_the_epoch_and_the_first_bad_batch(dl):
    class BlowsUpOnBatch:
        """Cross-entropy, except that batch 3 of the second epoch yields inf."""

        def __init__(self):
            self.inner, self.calls = dl.metrics.get_loss("cross_entropy"), 0

        def __call__(self, y_hat, y):
            self.calls += 1
            loss = self.inner(y_hat, y)
            return loss * float("inf") if self.calls == 5 + 3 else loss

    X, y = xor_data(num_examples=40)
    trainer = dl.Trainer(dl.mlp(hidden=4, num_outputs=2), BlowsUpOnBatch())
    with pytest.raises(FloatingPointError, match=r"in epoch 2, batch 3 of 5\."):
        trainer.fit(dl.load_array((X, y), batch_size=8), epochs=3, verbose=False)
    assert len(trainer.history) == 1  # the bad epoch is not recorded


def test_labels_out_of_range_raise_before_any_update(dl, blobs):
    X, y = blobs
    y = y.copy()
    y[3] = 5  # the network has 3 outputs
    trainer = _classifier(dl)
    trainer.predict(X[:1])  # shapes known, so the parameters can be compared
    before = _weights(trainer)
    with pytest.raises(ValueError, match=r"class labels in \[0, 2\] for a network with 3 outputs, got labels from 0 to 5"):
        trainer.fit((X, y), batch_size=30, verbose=False)
    after = _weights(trainer)
    assert all(onp.array_equal(before[k], after[k]) for k in before)
    assert len(trainer.history) == 0 and trainer.num_updates == 0


def test_labels_out_of_range_raise_for_a_fresh_network_too(dl, blobs):
    X, y = blobs
    with pytest.raises(ValueError, match=r"class labels in \[0, 1\] for a network with 2 outputs"):
        dl.Trainer(dl.mlp(hidden=4, num_outputs=2), "cross_entropy").fit((X, y), batch_size=10,
                                                                         verbose=False)


def _framework_loader(dl, X, y, batch_size):
    """The framework's own data loader (not dlbook's ArrayLoader), unshuffled."""
    if dl.FRAMEWORK == "mxnet":
        return gluon.data.DataLoader(gluon.data.ArrayDataset(X, y), batch_size=batch_size)
    dataset = torch.utils.data.TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size)


def _one_hot(y, k=3):
    return onp.eye(k, dtype="float32")[y]


# Targets that the frameworks would take silently, or reject in their own terms ("Shape
# inconsistent", "Cannot reshape"): each is a ValueError that names the fix, before any update.
BAD_TARGETS = [
    ("cross_entropy", 3, lambda y: y + 0.5, [],
     r"Expected integer class labels for `loss='cross_entropy'`, got non-integer labels such as 0\.5\. Pass class indices 0, 1, \.\.\., k-1"),
    ("cross_entropy", 3, _one_hot, [],
     r"Expected class indices for `loss='cross_entropy'`, but the labels look one-hot: shape \(30, 3\) matches the network's outputs \(n, 3\)\. Pass class indices, e\.g\. y\.argmax\(axis=1\)"),
    ("cross_entropy", 3, lambda y: onp.stack([y, y], axis=1), [],
     r"Expected labels of shape \(n,\) \(one class index per example\) for the network's outputs \(n, 3\) with `loss='cross_entropy'`, got shape \(30, 2\)"),
    ("cross_entropy", 1, lambda y: y % 2, [],
     r"`loss='cross_entropy'` needs one output per class, but the network has 1 output\. For two classes use 2 outputs"),
    ("binary_cross_entropy", 2, lambda y: y % 2, [],
     r"`loss='binary_cross_entropy'` takes one logit per example, but the network has 2 outputs\. Use 1 output \(e\.g\. mlp\(num_outputs=1\)\), or loss='cross_entropy' with the 2 outputs as class scores"),
    ("binary_cross_entropy", 1, lambda y: y, [],
     r"Expected labels in \[0, 1\] for `loss='binary_cross_entropy'`, got labels from 0 to 2\. For more than two classes use loss='cross_entropy'"),
    ("mse", 3, lambda y: y.astype("float32"), [],
     r"Expected 3 target values per example for a network with outputs \(n, 3\) and `loss='mse'`, got targets of shape \(30,\)\. For class labels use loss='cross_entropy'"),
    ("mse", 1, lambda y: y.astype("float32"), ["accuracy"],
     r"`metrics=\['accuracy'\]` compares class labels and needs a classification loss \('cross_entropy' or 'binary_cross_entropy'\), but `loss` is 'mse', a regression loss\. For a regression use metrics=\['mae'\] or \['mse'\]"),
    (lambda y_hat, y: ((y_hat[:, 0] - y) ** 2), 1, lambda y: y * 0.37, ["accuracy"],
     r"`metrics=\['accuracy'\]` compares class labels, but the targets are not integers \(e\.g\. 0\.37\)\. For real-valued targets use metrics=\['mae'\] or \['mse'\]"),
]


@pytest.mark.parametrize("loss, outputs, targets, metrics, pattern", BAD_TARGETS)
@pytest.mark.parametrize("source", ["arrays", "framework loader"])
def test_targets_that_do_not_fit_the_loss_raise_before_any_update(dl, blobs, loss, outputs,
                                                                   targets, metrics, pattern, source):
    X, y = blobs
    y = targets(y)
    trainer = dl.Trainer(dl.mlp(hidden=4, num_outputs=outputs), loss, metrics=metrics)
    trainer.predict(X[:1])
    before = _weights(trainer)
    data = (X, y) if source == "arrays" else _framework_loader(dl, X, y, batch_size=30)
    with pytest.raises(ValueError, match=pattern):
        trainer.fit(data, batch_size=10 if source == "arrays" else None, verbose=False)
    assert trainer.num_updates == 0 and len(trainer.history) == 0
    after = _weights(trainer)
    assert all(onp.array_equal(before[k], after[k]) for k in before)
    with pytest.raises(ValueError, match=pattern):  # evaluate checks them too
        trainer.evaluate(X, y)


def test_good_targets_pass_the_checks(dl, blobs):
    X, y = blobs
    for loss, outputs, targets in [("cross_entropy", 3, y.reshape(-1, 1)),
                                   ("cross_entropy", 3, y.astype("float32")),  # whole numbers
                                   ("binary_cross_entropy", 1, (y == 0).astype("float32")),
                                   ("binary_cross_entropy", 3, _one_hot(y)),  # multi-label
                                   ("mse", 3, _one_hot(y))]:
        trainer = dl.Trainer(dl.mlp(hidden=4, num_outputs=outputs), loss)
        assert len(trainer.fit(X, targets, batch_size=10, verbose=False)) == 1


def test_labels_out_of_range_from_a_framework_loader_raise_before_any_update(dl, blobs):
    X, y = blobs
    y = y.copy()
    y[2] = 7  # in the first batch
    trainer = _classifier(dl)
    with pytest.raises(ValueError, match=r"class labels in \[0, 2\] for a network with 3 outputs, got labels from 0 to 7"):
        trainer.fit(_framework_loader(dl, X, y, batch_size=10), verbose=False)
    assert trainer.num_updates == 0


def test_bad_validation_labels_are_named(dl, blobs):
    X, y = blobs
    trainer = _classifier(dl)
    with pytest.raises(ValueError, match=r"Expected class indices in `validation_data` for `loss='cross_entropy'`, but the labels look one-hot"):
        trainer.fit(X, y, validation_data=(X, _one_hot(y)), verbose=False)
    assert trainer.num_updates == 0  # an ArrayLoader's targets are checked before training
    bad = y.copy()
    bad[0] = -1
    with pytest.raises(ValueError, match=r"Expected class labels in \[0, 2\] for a network with 3 outputs, got labels from -1 to 0 in `validation_data`\."):
        trainer.fit(X, y, validation_data=_framework_loader(dl, X, bad, 10), verbose=False)
    assert len(trainer.history) == 0  # another loader: its first batch, when it is first read


# ------------------------------------------------------------ Keras habits
def test_fit_takes_arrays_x_y_as_keras_does(dl, blobs):
    X, y = blobs
    histories = []
    for call in (lambda t: t.fit(X, y, epochs=3, batch_size=10, verbose=False),
                 lambda t: t.fit((X, y), epochs=3, batch_size=10, verbose=False),
                 lambda t: t.fit(X.tolist(), y.tolist(), epochs=3, batch_size=10, verbose=False),
                 lambda t: t.fit(_tensor(dl, X), _tensor(dl, y), epochs=3, batch_size=10,
                                 verbose=False)):
        dl.seed_everything(0)
        trainer = _classifier(dl)
        histories.append(call(trainer)["loss"])
        assert trainer.num_updates == 9
    assert all(h == pytest.approx(histories[0], rel=1e-6) for h in histories[1:])
    assert histories[0][-1] < histories[0][0]


def test_fit_and_evaluate_take_pandas(dl, blobs):
    import pandas as pd

    X, y = blobs
    frame, series = pd.DataFrame(X), pd.Series(y)
    trainer = _classifier(dl)
    trainer.fit(frame, series, epochs=2, validation_split=0.2, verbose=False)
    assert trainer.evaluate(frame, series)["loss"] == pytest.approx(trainer.evaluate(X, y)["loss"])


def test_batch_size_defaults_to_32_as_in_keras(dl):
    X, y = xor_data(num_examples=100)
    trainer = dl.Trainer(dl.mlp(hidden=4, num_outputs=2), "cross_entropy")
    trainer.fit(X, y, epochs=2, verbose=False)
    assert trainer.num_updates == 2 * 4  # ceil(100 / 32) batches per epoch
    small = dl.Trainer(dl.mlp(hidden=4, num_outputs=2), "cross_entropy")
    small.fit(X[:10], y[:10], verbose=False)  # fewer than 32 examples: one batch of all
    assert small.num_updates == 1
    assert small.evaluate(X, y, batch_size=1000)["loss"] == pytest.approx(
        small.evaluate(X, y, batch_size=7)["loss"], rel=1e-5)  # evaluation: at most all examples


def test_validation_split_holds_out_the_last_examples_before_shuffling(dl, blobs):
    X, y = blobs
    order = onp.random.default_rng(1).permutation(30)  # every class in both parts
    X, y = X[order], y[order]
    dl.seed_everything(0)
    split = _classifier(dl)
    history = split.fit(X, y, epochs=2, batch_size=8, validation_split=0.2, verbose=False)
    assert split.num_updates == 2 * 3  # 24 training examples in batches of 8
    assert history.last("val_loss") == pytest.approx(split.evaluate(X[24:], y[24:])["loss"], rel=1e-5)
    dl.seed_everything(0)
    explicit = _classifier(dl)
    explicit.fit(X[:24], y[:24], epochs=2, batch_size=8, validation_data=(X[24:], y[24:]),
                 verbose=False)
    assert explicit.history["val_loss"] == pytest.approx(history["val_loss"], rel=1e-6)


def test_one_callback_and_one_metric_without_a_list(dl, blobs):
    X, y = blobs
    stream = io.StringIO()
    trainer = dl.Trainer(dl.mlp(hidden=4, num_outputs=3), "cross_entropy",
                         metrics=dl.metrics.Accuracy())
    trainer.fit(X, y, epochs=2, callbacks=ProgressBar(stream=stream), verbose=False)
    assert stream.getvalue().count("\n") == 2 and trainer.metric_names == ["accuracy"]


def test_numpy_scalars_are_numbers(dl):
    trainer = _classifier(dl, learning_rate=onp.float32(0.25))
    assert trainer.learning_rate == 0.25
    assert _classifier(dl, learning_rate=onp.int64(1)).learning_rate == 1.0


def test_a_function_metric_is_exact_over_the_epoch_in_both_layers(dl, blobs):
    X, y = blobs

    def macro_recall(y_true, scores):  # not a mean over examples
        pred = scores.argmax(axis=1)
        return float(onp.mean([(pred[y_true == c] == c).mean() for c in onp.unique(y_true)]))

    trainer = dl.Trainer(dl.mlp(hidden=4, num_outputs=3), "cross_entropy",
                         metrics=[macro_recall, "accuracy"])
    history = trainer.fit(X, y, epochs=2, batch_size=7, validation_data=(X, y), verbose=False)
    expected = macro_recall(y, trainer.predict(X))
    assert history.last("val_macro_recall") == pytest.approx(expected)
    assert trainer.evaluate(X, y, batch_size=4)["macro_recall"] == pytest.approx(expected)

def test_empty_validation_data_is_named_in_the_error(dl, blobs):
    X, y = blobs
    with pytest.raises(ValueError, match=r"`validation_data` is empty"):
        _classifier(dl).fit((X, y), batch_size=10, validation_data=[], verbose=False)
    with pytest.raises(ValueError, match=r"`validation_data` yielded no batches"):
        _classifier(dl).fit((X, y), batch_size=10, validation_data=iter([]), verbose=False)


def _lenet_on_flat_images(dl):
    trainer = dl.Trainer(dl.lenet(), "cross_entropy")
    trainer.fit((onp.zeros((4, 784)), onp.zeros(4, dtype="int64")), batch_size=2, verbose=False)


def _net_of_wrong_width(dl):
    trainer = _classifier(dl)
    trainer.predict(onp.ones((2, 4), dtype="float32"))
    trainer.predict(onp.ones((2, 7), dtype="float32"))  # a later call is explained too


def _one_example_without_its_batch_axis(dl):
    trainer = _classifier(dl)
    trainer.predict(onp.ones((2, 4), dtype="float32"))
    trainer.predict(onp.ones(4, dtype="float32"))  # one example, shape (4,) not (1, 4)


_X, _Y = onp.ones((6, 4), dtype="float32"), onp.arange(6) % 3


def _loader(dl):
    return dl.ArrayLoader(_X, _Y, batch_size=3)


BAD_INPUTS = [
    (lambda dl: dl.Trainer("mlp", "mse"), TypeError, r"`net` to be a (gluon Block|torch.nn.Module), got 'mlp' \(str\)"),
    (lambda dl: _classifier(dl, learning_rate=0), ValueError, r"`learning_rate` > 0, got 0"),
    (lambda dl: _classifier(dl, learning_rate=-0.1), ValueError, r"`learning_rate` > 0, got -0.1"),
    (lambda dl: _classifier(dl, learning_rate=float("nan")), ValueError, r"`learning_rate` as a finite number > 0, got nan"),
    (lambda dl: _classifier(dl, learning_rate=float("inf")), ValueError, r"`learning_rate` as a finite number > 0, got inf"),
    (lambda dl: _classifier(dl, learning_rate="0.1"), TypeError, r"Expected `learning_rate` as a number > 0, got '0.1' \(str\)\. Pass a number"),
    (lambda dl: _classifier(dl, learning_rate=onp.float32(-1)), ValueError, r"`learning_rate` > 0, got -1"),
    (lambda dl: _classifier(dl, optimizer="sgdd"), ValueError, r"Unknown `optimizer` 'sgdd'. Expected one of: .*adagrad, adam, .*rmsprop, sgd"),
    (lambda dl: _classifier(dl, optimizer=3), TypeError, r"`optimizer` as a name or an Optimizer, got 3 \(int\)"),
    (lambda dl: _classifier(dl, optimizer_params=[("momentum", 0.9)]), TypeError, r"`optimizer_params` as a dict"),
    # Checked when the Trainer is made, not deep in MXNet's optimizer at the first update;
    # torch.optim's names get the name both layers take.
    (lambda dl: _classifier(dl, optimizer_params={"weight_decay": 1e-4}), ValueError, r"Unknown key 'weight_decay' in `optimizer_params` for optimizer 'sgd' \(use 'wd': both layers take MXNet's names\). Expected keys \(MXNet's names\): .*'momentum'.*'wd'"),
    (lambda dl: _classifier(dl, optimizer="adam", optimizer_params={"betas": (0.8, 0.9)}), ValueError, r"Unknown key 'betas' .* for optimizer 'adam' \(use 'beta1' and 'beta2'"),
    (lambda dl: _classifier(dl, optimizer_params={"momentun": 0.9}), ValueError, r"Unknown key 'momentun' in `optimizer_params` for optimizer 'sgd'\. Expected keys"),
    (lambda dl: _classifier(dl, metrics=["accuracy", "f1"]), ValueError, r"Unknown `metrics` 'f1'"),
    (lambda dl: _classifier(dl, metrics=[3]), TypeError, r"each of `metrics` as a name \('accuracy', 'mae', 'mse'\), a dlbook.metrics.Metric object or a function f\(y_true, y_pred\) -> float, got 3 \(int\)"),
    (lambda dl: _classifier(dl, metrics=[lambda y, s: 0.0]), ValueError, r"A metric function needs a name for the logs, got '<lambda>'\. Define it with `def`"),
    (lambda dl: _classifier(dl, metrics=["accuracy", "accuracy"]), ValueError, r"Expected metrics with distinct names, none of them 'loss' \(the names are the keys of the logs and the history\), got \['accuracy', 'accuracy'\]"),
    (lambda dl: _classifier(dl, metrics=5), TypeError, r"`metrics` as a list of metrics, got 5 \(int\)"),
    (lambda dl: _classifier(dl, initializer="glorot"), ValueError, r"Unknown `initializer` 'glorot'. Expected one of: 'he', 'normal', 'ones', 'uniform', 'xavier', 'zeros'"),
    (lambda dl: _classifier(dl, initializer=3), TypeError, r"`initializer` as a name such as 'xavier' or 'he', or .* got 3 \(int\)"),
    (lambda dl: _classifier(dl, lr_schedule="linear"), ValueError, r"Unknown `lr_schedule` 'linear'. Expected one of: 'constant', 'cosine', 'step', 'warmup'"),
    (lambda dl: _classifier(dl, lr_schedule=0.5), TypeError, r"`lr_schedule` as a name such as 'cosine' or a dlbook.schedules.Schedule"),
    (lambda dl: _classifier(dl, kvstore="dist"), ValueError, r"Unknown `kvstore` 'dist'"),
    (lambda dl: dl.Trainer(dl.mlp(), "l2"), ValueError, r"Unknown `loss` 'l2'"),
    (lambda dl: _classifier(dl).fit(_loader(dl), epochs=0), ValueError, r"`epochs` >= 1, got 0"),
    (lambda dl: _classifier(dl).fit(5), TypeError, r"`x` as a loader of \(X, y\) batches or arrays \(X, y\), got 5 \(int\)"),
    (lambda dl: _classifier(dl).fit("data.csv"), TypeError, r"`x` as a loader"),
    (lambda dl: _classifier(dl).fit([]), ValueError, r"`x` is empty"),
    (lambda dl: _classifier(dl).fit(dl.ArrayLoader(_X, batch_size=3), verbose=False), ValueError, r"`x` to yield \(X, y\) pairs"),
    # Keras' fit(x, y, ...): what cannot be meant is an error that says what to write.
    (lambda dl: _classifier(dl).fit(_loader(dl), 5), TypeError, r"`y` as an array of targets, got 5 \(int\)\. The second argument is `y`, as in Keras: pass `epochs` and `batch_size` by name, e\.g\. fit\(loader, epochs=5\)"),
    (lambda dl: _classifier(dl).fit(_loader(dl), _Y), ValueError, r"`y` is given, but `x` is a loader \(ArrayLoader\) that yields \(X, y\) batches itself"),
    (lambda dl: _classifier(dl).fit((_X, _Y), _Y), ValueError, r"`x` is a tuple \(X, y\) and `y` is given too"),
    (lambda dl: _classifier(dl).fit(_X, epochs=2), ValueError, r"`x` is an array \(numpy.ndarray with shape \(6, 4\)\) without targets: pass the targets too, e\.g\. fit\(X, y, batch_size=32\)"),
    (lambda dl: _classifier(dl).fit(_X, _Y, validation_data=_X), ValueError, r"`validation_data` is an array .* without targets: pass it as a tuple \(X_val, y_val\)"),
    (lambda dl: _classifier(dl).fit(_loader(dl), batch_size=3), ValueError, r"`batch_size` applies to arrays, but `x` is a loader whose batches are already made\. Remove `batch_size=3`"),
    (lambda dl: _classifier(dl).fit(_loader(dl), validation_split=0.5), ValueError, r"`validation_split` holds out part of arrays, but `x` is a loader\. Pass `validation_data` instead"),
    (lambda dl: _classifier(dl).fit(_X, _Y, validation_split=0.5, validation_data=(_X, _Y)), ValueError, r"Pass either `validation_data` or `validation_split`, not both"),
    (lambda dl: _classifier(dl).fit(_X, _Y, validation_split=1.0), ValueError, r"`validation_split` in \(0.0, 1.0\), got 1.0"),
    (lambda dl: _classifier(dl).fit(_X, _Y, validation_split="10%"), TypeError, r"`validation_split` to be a number"),
    (lambda dl: _classifier(dl).fit(_X, _Y, validation_split=0.9), ValueError, r"`validation_split=0.9` of 6 examples leaves no examples to train on\. Pass more examples or another fraction"),
    (lambda dl: _classifier(dl).fit(_X, _Y, batch_size=7), ValueError, r"`batch_size` <= the number of examples \(6\), got 7"),
    (lambda dl: _classifier(dl).fit(_loader(dl), callbacks=[print]), TypeError, r"Callback objects in `callbacks`"),
    (lambda dl: _classifier(dl).fit(_loader(dl), callbacks=3), TypeError, r"`callbacks` as a Callback or a list of them, got 3 \(int\)"),
    (lambda dl: _classifier(dl).fit(_loader(dl), callbacks=[ProgressBar]), TypeError, r"got the class ProgressBar: pass an instance, e\.g\. ProgressBar\(\)"),
    (lambda dl: _classifier(dl).fit(_loader(dl), verbose="loud"), ValueError, r"`verbose` in \('auto', True, False, 'plot', 2\), got 'loud'"),
    (lambda dl: _classifier(dl).fit((onp.full((6, 4), onp.nan), _Y), batch_size=3), ValueError, r"`X` contains 24 NaN"),
    (lambda dl: _classifier(dl).fit((_X, _Y[:5]), batch_size=3), ValueError, r"`X` has 6, `y` has 5"),
    (_lenet_on_flat_images, ValueError, r"could not process a batch of shape \(2, 784\).*first layer"),
    (_net_of_wrong_width, ValueError, r"could not process a batch of shape \(2, 7\).*first layer"),
    (_one_example_without_its_batch_axis, ValueError, r"could not process a batch of shape \(4,\).*first layer\. A batch has its examples along the first axis: for a single example, add that axis \(X\[None\]"),
    (lambda dl: _classifier(dl).predict(_X, batch_size=0), ValueError, r"`batch_size` >= 1"),
    (lambda dl: _classifier(dl).predict(onp.zeros((0, 4))), ValueError, r"non-empty `X`"),
    (lambda dl: _classifier(dl).predict(iter([])), ValueError, r"`X` yielded no batches"),
    (lambda dl: _classifier(dl).evaluate(_loader(dl), batch_size=2), ValueError, r"`batch_size` applies to arrays, but `x` is a loader"),
    (lambda dl: _classifier(dl).evaluate(_loader(dl), _Y), ValueError, r"`y` is given, but `x` is a loader"),
    (lambda dl: _classifier(dl).evaluate(_loader(dl), callbacks=[3]), TypeError, r"Callback objects in `callbacks`"),
]


@pytest.mark.parametrize("call, error, pattern", BAD_INPUTS)
def test_bad_input_raises_a_clear_error(dl, call, error, pattern):
    with pytest.raises(error, match=pattern):
        call(dl)


def test_custom_metric_object_is_reported_each_epoch(dl):
    class MeanLogit(dl.metrics.Metric):
        name = "mean_logit"

        def batch_values(self, y_hat, y):
            return y_hat.mean(1)

    X, y = xor_data(num_examples=40)
    trainer = dl.Trainer(dl.mlp(hidden=4, num_outputs=2), "cross_entropy",
                         metrics=[MeanLogit(), "accuracy"])
    history = trainer.fit(dl.load_array((X, y), batch_size=8), epochs=2, verbose=False,
                          validation_data=dl.load_array((X, y), batch_size=8, shuffle=False))
    assert set(history.history) >= {"mean_logit", "val_mean_logit", "accuracy"}
    expected = float(trainer.predict(X).mean())
    assert history.last("val_mean_logit") == pytest.approx(expected, rel=1e-4, abs=1e-5)


# ---------------------------------------------------- learning-rate schedules
class _Rates(Callback):
    """The learning rate of every update, read just before it."""

    def __init__(self):
        self.rates, self.updates = [], []

    def on_train_batch_begin(self, batch, logs=None):
        self.rates.append(self.trainer.learning_rate)
        self.updates.append(self.trainer.num_updates)


@pytest.mark.parametrize("spec, factor", [
    ("cosine", lambda t, T: (1 + math.cos(math.pi * t / T)) / 2),
    ("step", lambda t, T: 0.1 ** (t // math.ceil(T / 3))),
    ("warmup", lambda t, T: min((t + 1) / 3, 1.0)),  # one epoch of 3 batches
    ("constant", lambda t, T: 1.0),
])
def test_named_schedules_follow_their_formula_over_the_first_fit(dl, blobs, spec, factor):
    X, y = blobs
    rates = _Rates()
    trainer = _classifier(dl, learning_rate=0.2, lr_schedule=spec)
    trainer.fit(dl.load_array((X, y), batch_size=10), epochs=4, callbacks=[rates], verbose=False)
    T = 4 * 3
    assert rates.updates == list(range(T))
    assert rates.rates == pytest.approx([0.2 * factor(t, T) for t in range(T)], rel=1e-12, abs=1e-15)
    more = _Rates()  # a second fit continues the same schedule; lengths stay as fixed
    trainer.fit(dl.load_array((X, y), batch_size=10), epochs=1, callbacks=[more], verbose=False)
    assert more.rates == pytest.approx([0.2 * factor(t, T) if spec != "cosine" else 0.0
                                        for t in range(T, T + 3)], abs=1e-15)


def test_schedule_objects_with_warmup_in_both_layers(dl, blobs):
    X, y = blobs
    rates = _Rates()
    schedule = schedules.Cosine(total=10, final=0.1, warmup=4)
    trainer = _classifier(dl, learning_rate=0.5, lr_schedule=schedule)
    trainer.fit((X, y), batch_size=10, epochs=4, callbacks=[rates], verbose=False)
    expected = [(t + 1) / 4 if t < 4 else 0.1 + 0.9 * (1 + math.cos(math.pi * min(t - 4, 6) / 6)) / 2
                for t in range(12)]
    assert rates.rates == pytest.approx([0.5 * f for f in expected], rel=1e-12)
    assert trainer.lr_schedule is not schedule  # each trainer keeps its own copy


def test_the_schedule_sets_the_rate_the_optimizer_uses(dl):
    """With a factor of 0 after the first update, the weights stop changing."""
    X, y = synthetic_linear(TRUE_W, TRUE_B, num_examples=40)

    class Snapshots(Callback):
        def __init__(self):
            self.weights = []

        def on_train_batch_end(self, batch, logs=None):
            self.weights.append(_weights(self.trainer))

    snapshots = Snapshots()
    trainer = dl.Trainer(dl.mlp(hidden=(), num_outputs=1), "mse", learning_rate=0.05,
                         lr_schedule=schedules.Cosine(total=1))
    trainer.predict(X[:1])
    initial = _weights(trainer)
    trainer.fit((X, y), batch_size=10, epochs=2, callbacks=[snapshots], verbose=False)
    first, *rest = snapshots.weights
    assert not all(onp.array_equal(initial[k], first[k]) for k in first)
    assert all(onp.array_equal(first[k], later[k]) for later in rest for k in first)
    assert trainer.learning_rate == 0.0


def test_schedule_values_match_their_formulas():
    cos = schedules.Cosine(total=20, final=0.2, warmup=5)
    for t in range(30):
        s = t - 5
        want = (t + 1) / 5 if t < 5 else 0.2 + 0.8 * 0.5 * (1 + math.cos(math.pi * min(s, 15) / 15))
        assert cos(t) == pytest.approx(want, rel=1e-12)
    step = schedules.StepDecay(step_size=4, gamma=0.5, warmup=2)
    assert [step(t) for t in range(12)] == [0.5, 1.0] + [0.5 ** (s // 4) for s in range(10)]
    assert schedules.Constant()(10 ** 6) == 1.0
    assert repr(schedules.get_schedule("step", step_size=3)) == "StepDecay(step_size=3, gamma=0.1, warmup=0)"


def test_schedule_resolution_and_checkpoint_config():
    step = schedules.get_schedule("step")
    with pytest.raises(ValueError, match=r"has no value for `step_size` yet"):
        step(0)
    step.resolve(total_updates=30, updates_per_epoch=10)
    assert step.step_size == 10 and step.warmup == 0
    step.resolve(total_updates=999, updates_per_epoch=99)  # only the first fit decides
    assert step.step_size == 10
    warm = schedules.get_schedule("warmup")
    warm.resolve(total_updates=30, updates_per_epoch=10)
    assert warm.warmup == 10 and warm(4) == 0.5
    copy = schedules.Cosine()
    copy.load_config(schedules.Cosine(total=7, final=0.5, warmup=2).config())
    assert (copy.total, copy.final, copy.warmup) == (7, 0.5, 2)
    with pytest.raises(ValueError, match=r"training data has no length. Pass them, e.g. Cosine\(total=1000\)"):
        schedules.Cosine().resolve(None, None)


SCHEDULE_ERRORS = [
    (lambda: schedules.Cosine(total=0), ValueError, r"`total` >= 1, got 0"),
    (lambda: schedules.Cosine(total=5, warmup=5), ValueError, r"`warmup` < `total` .* got warmup=5 and total=5"),
    (lambda: schedules.Cosine(final=1.5), ValueError, r"`final` in \[0.0, 1.0\], got 1.5"),
    (lambda: schedules.StepDecay(step_size=2, gamma=0.0), ValueError, r"`gamma` in \(0.0, 1.0\], got 0.0"),
    (lambda: schedules.StepDecay(step_size=2.5), TypeError, r"`step_size` to be an integer"),
    (lambda: schedules.Constant(warmup=-1), ValueError, r"`warmup` >= 0, got -1"),
    (lambda: schedules.get_schedule(schedules.Cosine(), total=3), TypeError, r"Pass parameters with a schedule's name"),
]


@pytest.mark.parametrize("call, error, pattern", SCHEDULE_ERRORS)
def test_schedule_errors(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_a_loader_without_length_needs_explicit_schedule_lengths(dl, blobs):
    X, y = blobs
    batches = (b for b in dl.load_array((X, y), batch_size=10))
    with pytest.raises(ValueError, match=r"takes `total` from the number of batches"):
        _classifier(dl, lr_schedule="cosine").fit(batches, verbose=False)


# ---------------------------------------------------------- per-batch logs
def test_batch_logs_convert_only_what_is_read():
    class Scalar:
        reads = 0

        def __init__(self, value):
            self.value = value

        def item(self):
            Scalar.reads += 1
            return self.value

    logs = BatchLogs(4, {"loss": Scalar(2.0), "accuracy": Scalar(3.0)})
    assert Scalar.reads == 0 and len(logs) == 2 and logs.size == 4
    assert logs["loss"] == 0.5 and logs["loss"] == 0.5 and Scalar.reads == 1  # cached
    assert logs.raw("accuracy").value == 3.0 and Scalar.reads == 1
    assert dict(logs) == {"loss": 0.5, "accuracy": 0.75} and Scalar.reads == 2


def test_training_batch_logs_add_up_to_the_epoch_logs(dl, blobs):
    X, y = blobs

    class Batches(Callback):
        def __init__(self):
            self.logs = []

        def on_train_batch_end(self, batch, logs=None):
            self.logs.append(logs)

    batches = Batches()
    history = _classifier(dl).fit(dl.load_array((X, y), batch_size=12), epochs=1,
                                  callbacks=[batches], verbose=False)
    assert [b.size for b in batches.logs] == [12, 12, 6]
    for key in ("loss", "accuracy"):
        assert sum(b.size * b[key] for b in batches.logs) / 30 == pytest.approx(history.last(key), rel=1e-5)


# ------------------------------------------------------------ MXNet only
def _legacy_net():
    net = gluon.nn.Dense(3, in_units=4)
    net.initialize()  # outside NumPy mode: legacy mx.nd parameters
    return net


def test_mxnet_plain_gluon_network_and_data_loader(np_mode):
    X, y = xor_data(num_examples=40, noise=0.05)
    net = gluon.nn.HybridSequential()
    net.add(gluon.nn.Dense(8, activation="tanh"), gluon.nn.Dense(2))
    loader = gluon.data.DataLoader(gluon.data.ArrayDataset(X, y), batch_size=20, shuffle=True)
    trainer = Trainer(net, "cross_entropy", optimizer="adam", learning_rate=0.1,
                      metrics=["accuracy"])
    history = trainer.fit(loader, epochs=15, verbose=False)
    assert history.last("accuracy") == 1.0
    assert isinstance(net[0].weight.data(), mx.np.ndarray)


def test_mxnet_initializer_objects_and_existing_parameters(np_mode, blobs):
    X, _ = blobs
    zero = Trainer(mlp(hidden=(), num_outputs=3), "cross_entropy", initializer=init.Zero())
    assert not zero.predict(X).any()
    net = mlp(hidden=4, num_outputs=3)
    net.initialize(init.Constant(0.5))  # dlbook models get NumPy-mode parameters either way
    net(mx.np.array(X))
    assert isinstance(net[0].weight.data(), mx.np.ndarray)
    before = {k: p.data().asnumpy().copy() for k, p in net.collect_params().items()}
    Trainer(net, "cross_entropy", initializer="zeros")  # already initialized: kept as is
    after = {k: p.data().asnumpy() for k, p in net.collect_params().items()}
    assert all(onp.array_equal(before[k], after[k]) for k in before)


def test_mxnet_optimizer_instance(blobs):
    adam = Trainer(mlp(hidden=4, num_outputs=3), "cross_entropy",
                   optimizer=mx.optimizer.Adam(learning_rate=0.01))
    assert type(adam.optimizer._optimizer).__name__ == "Adam" and adam.base_learning_rate == 0.01


def test_mxnet_without_hybridization(blobs):
    X, y = blobs
    from dlbook import mxnet as dlm

    trainer = _classifier(dlm, hybridize=False, optimizer="adam", learning_rate=0.05)
    trainer.fit((X, y), batch_size=10, epochs=10, verbose=False)
    assert not trainer.net._active
    assert trainer.history.last("accuracy") == 1.0


def test_mxnet_specific_errors():
    with pytest.raises(TypeError, match=r"Parameter `dense\d+_weight` of `net` is a legacy mx.nd array"):
        Trainer(_legacy_net(), "mse")
    with pytest.raises(ValueError, match=r"Unknown `optimizer` 'sgdd'. Expected one of: adadelta, .*adam, .*sgd"):
        Trainer(mlp(), "mse", optimizer="sgdd")


def test_the_bench_can_time_one_epoch_of_the_loop(blobs):
    X, y = blobs
    trainer = Trainer(mlp(hidden=4, num_outputs=3), "cross_entropy")
    logs = trainer._train_epoch(ArrayLoader(X, y, batch_size=10), [], False)  # bench/trainer_overhead.py
    assert set(logs) == {"loss"} and trainer.num_updates == 3


# ---------------------------------------------------------- PyTorch only
def test_torch_lazy_layers_are_built_before_on_train_begin(blobs):
    from dlbook import torch as dl

    X, y = blobs
    seen = []

    class SeesOptimizer(Callback):
        def on_train_begin(self, epochs, num_batches):
            seen.append(type(self.trainer.optimizer).__name__)

    trainer = dl.Trainer(dl.mlp(hidden=4, num_outputs=3), "cross_entropy", optimizer="adam")
    assert trainer.optimizer is None  # lazy layers: no parameters to optimize yet
    trainer.fit((X, y), batch_size=10, callbacks=[SeesOptimizer()], verbose=False)
    assert seen == ["Adam"]
    assert [type(m).__name__ for m in trainer.net][1] == "Linear"  # materialized


def test_torch_eager_modules_keep_their_values_unless_an_initializer_is_given(blobs):
    from torch import nn

    from dlbook import torch as dl

    X, y = blobs
    net = nn.Sequential(nn.Linear(4, 3))
    before = net[0].weight.detach().clone()
    trainer = dl.Trainer(net, "cross_entropy")
    assert trainer.optimizer is not None  # nothing lazy: ready at once
    assert torch.equal(net[0].weight, before)
    dl.Trainer(net, "cross_entropy", initializer="ones")
    assert (net[0].weight == 1).all() and (net[0].bias == 0).all()


def test_torch_evaluate_inside_fit_keeps_the_training_mode(blobs):
    from dlbook import torch as dl

    X, y = blobs
    modes = []

    class EvaluatesEveryBatch(Callback):
        def on_train_batch_begin(self, batch, logs=None):
            modes.append(self.trainer.net.training)

        def on_train_batch_end(self, batch, logs=None):
            self.trainer.evaluate((X, y), batch_size=30)

    trainer = dl.Trainer(dl.mlp(hidden=8, num_outputs=3, dropout=0.5), "cross_entropy")
    trainer.fit((X, y), batch_size=10, epochs=2, callbacks=[EvaluatesEveryBatch()], verbose=False)
    assert modes == [True] * 6
    assert trainer.net.training is True  # fit leaves the mode it found (a new module trains)
    trainer.net.eval()
    trainer.predict(X)
    trainer.fit((X, y), batch_size=10, verbose=False)
    assert trainer.net.training is False


def test_torch_optimizer_params_use_the_mxnet_names():
    from dlbook import torch as dl

    net = torch.nn.Linear(4, 2)
    adam = dl.Trainer(net, "mse", "adam", learning_rate=0.01,
                      optimizer_params={"beta1": 0.8, "epsilon": 1e-6, "wd": 0.1})
    group = adam.optimizer.param_groups[0]
    assert (group["betas"], group["eps"], group["weight_decay"], group["lr"]) == ((0.8, 0.999), 1e-6, 0.1, 0.01)
    rms = dl.Trainer(net, "mse", "rmsprop", optimizer_params={"gamma1": 0.95})
    assert rms.optimizer.param_groups[0]["alpha"] == 0.95
    assert dl.Trainer(net, "mse", "rmsprop").optimizer.param_groups[0]["alpha"] == 0.9  # MXNet's
    assert dl.Trainer(net, "mse", "adagrad").optimizer.param_groups[0]["eps"] == 1e-7
    assert type(dl.Trainer(net, "mse", "AdamW").optimizer).__name__ == "AdamW"
    with pytest.raises(ValueError, match=r"Unknown key 'beta1' in `optimizer_params` for optimizer 'sgd'\. Expected keys \(MXNet's names\): 'clip_gradient', 'learning_rate', 'momentum', 'nesterov', 'wd'"):
        dl.Trainer(net, "mse", "sgd", optimizer_params={"beta1": 0.9})


def test_torch_clip_gradient_clips_each_element():
    from dlbook import torch as dl

    X = onp.array([[100.0]], dtype="float32")
    y = onp.array([[0.0]], dtype="float32")
    net = torch.nn.Linear(1, 1)
    with torch.no_grad():
        net.weight.fill_(1.0)
        net.bias.fill_(0.0)
    trainer = dl.Trainer(net, "mse", "sgd", learning_rate=1.0, optimizer_params={"clip_gradient": 0.5})
    trainer.fit((X, y), batch_size=1, verbose=False)
    assert net.weight.item() == pytest.approx(0.5) and net.bias.item() == pytest.approx(-0.5)


def test_torch_optimizer_instance_and_devices():
    from dlbook import torch as dl

    net = torch.nn.Linear(4, 2)
    sgd = torch.optim.SGD(net.parameters(), lr=0.03)
    trainer = dl.Trainer(net, "mse", optimizer=sgd, device="cpu", hybridize=False)
    assert trainer.optimizer is sgd and trainer.base_learning_rate == 0.03
    assert trainer.device == torch.device("cpu") and trainer.devices == [torch.device("cpu")]
    assert (trainer.kvstore, trainer.rank, trainer.num_workers) == ("device", 0, 1)
    with pytest.raises(TypeError, match=r"Expected `device` as a torch.device or a non-empty list of them"):
        dl.Trainer(net, "mse", device=3)
    with pytest.raises(ValueError, match=r"Expected different devices in `device`"):
        dl.Trainer(net, "mse", device=["cpu", "cpu"])
    with pytest.raises(NotImplementedError, match=r"one device per process; got 2 devices .* kvstore='dist_sync'"):
        dl.Trainer(net, "mse", device=[torch.device("cpu"), torch.device("meta")])


_WORKER = """
import json, os, torch
from dlbook import torch as dl
dl.seed_everything(0)
X, y = dl.xor_data(num_examples=64, noise=0.1)
torch.manual_seed(int(os.environ["RANK"]))  # different initial weights on each worker
trainer = dl.Trainer(dl.mlp(hidden=8, num_outputs=2), "cross_entropy", learning_rate=0.5,
                     kvstore="dist_sync")
history = trainer.fit((X, y), batch_size=8, epochs=2, verbose=False)
print(json.dumps({"rank": trainer.rank, "workers": trainer.num_workers,
                  "updates": trainer.num_updates, "epochs": len(history),
                  "weights": {k: v.tolist() for k, v in trainer._checkpoint_params().items()}}))
"""


def test_torch_dist_sync_trains_each_worker_on_its_shard_with_the_same_weights():
    import json
    import os
    import subprocess
    import sys

    from dlbook import launch

    port = launch.find_free_port()
    workers = [subprocess.Popen([sys.executable, "-c", _WORKER], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, **launch.torch_env(rank, 2, master_port=port)))
               for rank in range(2)]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert [(r["rank"], r["workers"]) for r in results] == [(0, 2), (1, 2)]
    assert all(r["updates"] == 2 * 4 and r["epochs"] == 2 for r in results)  # 32 examples each
    assert results[0]["weights"] == results[1]["weights"]  # one model, averaged gradients


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_nag_takes_the_same_steps_in_both_layers(momentum):
    """'nag' is MXNet's Nesterov SGD; the PyTorch layer's is torch's SGD(nesterov=True)."""
    import mxnet as mx
    from mxnet import gluon

    from dlbook import mxnet as dlm
    from dlbook import torch as dlt

    rng = onp.random.default_rng(0)
    X = rng.normal(size=(32, 3)).astype("float32")
    y = (X @ onp.array([[1.0], [-2.0], [0.5]]) + 0.3).astype("float32")
    w0 = rng.normal(size=(1, 3)).astype("float32")
    # No weight decay: MXNet 1.9.1's NAG kernel decays the momentum with the already-updated
    # weight (one step from w=1, g=2, lr=0.1, wd=0.1 gives momentum 0.23994, not 0.24), so
    # with wd the two layers drift apart by about 1e-3 in 12 steps.
    params = {"momentum": momentum, "wd": 0.0}

    with mx.np_shape(True), mx.np_array(True):
        mnet = gluon.nn.Dense(1, in_units=3)
        mnet.initialize()
        mnet.weight.set_data(mx.np.array(w0))
        mnet.bias.set_data(mx.np.zeros(1))
        dlm.Trainer(mnet, "mse", "nag", learning_rate=0.05, optimizer_params=params).fit(
            dlm.load_array((X, y), 8, shuffle=False), epochs=3, verbose=False)
        m_weight = mnet.weight.data().asnumpy()

    tnet = torch.nn.Linear(3, 1)
    with torch.no_grad():
        tnet.weight.copy_(torch.from_numpy(w0))
        tnet.bias.zero_()
    trainer = dlt.Trainer(tnet, "mse", "nag", learning_rate=0.05, optimizer_params=params)
    trainer.fit(dlt.load_array((X, y), 8, shuffle=False), epochs=3, verbose=False)
    assert trainer.optimizer.param_groups[0]["nesterov"] is (momentum > 0)
    # 12 updates; a wrong rule (plain momentum, or no momentum) differs by far more than 1e-4
    onp.testing.assert_allclose(tnet.weight.detach().numpy(), m_weight, rtol=1e-4, atol=1e-5)
    assert not onp.allclose(m_weight, w0, atol=1e-2)


@pytest.mark.parametrize("params", [{"wd": 0.2}, {}, {"wd": 0.2, "clip_gradient": 0.5}])
def test_adamw_takes_the_same_steps_in_both_layers(params):
    """MXNet 1.9 has no AdamW; dlbook.mxnet registers one that follows torch.optim.AdamW."""
    from dlbook import mxnet as dlm
    from dlbook import torch as dlt

    rng = onp.random.default_rng(1)
    X = rng.normal(size=(32, 3)).astype("float32")
    y = (X @ onp.array([[1.0], [-2.0], [0.5]]) + 0.3).astype("float32")
    w0 = rng.normal(size=(1, 3)).astype("float32")

    with mx.np_shape(True), mx.np_array(True):
        mnet = gluon.nn.Dense(1, in_units=3)
        mnet.initialize()
        mnet.weight.set_data(mx.np.array(w0))
        mnet.bias.set_data(mx.np.zeros(1))
        mtrainer = dlm.Trainer(mnet, "mse", "adamw", learning_rate=0.05, optimizer_params=params)
        mtrainer.fit(dlm.load_array((X, y), 8, shuffle=False), epochs=3, verbose=False)
        m_weight = mnet.weight.data().asnumpy()
    assert type(mtrainer.optimizer.optimizer).__name__ == "AdamW"
    assert mtrainer.optimizer.optimizer.wd == params.get("wd", 0.01)  # PyTorch's default

    tnet = torch.nn.Linear(3, 1)
    with torch.no_grad():
        tnet.weight.copy_(torch.from_numpy(w0))
        tnet.bias.zero_()
    ttrainer = dlt.Trainer(tnet, "mse", "adamw", learning_rate=0.05, optimizer_params=params)
    ttrainer.fit(dlt.load_array((X, y), 8, shuffle=False), epochs=3, verbose=False)
    assert ttrainer.optimizer.param_groups[0]["weight_decay"] == params.get("wd", 0.01)
    # 12 updates; Adam with L2 (MXNet's 'adam' with wd) or no decay differs by far more
    onp.testing.assert_allclose(tnet.weight.detach().numpy(), m_weight, rtol=1e-4, atol=1e-5)
    assert not onp.allclose(m_weight, w0, atol=1e-2)


def test_mxnet_adamw_decay_is_decoupled_from_the_gradient():
    import dlbook.mxnet  # noqa: F401  (registers 'adamw')

    opt = mx.optimizer.create("adamw", learning_rate=0.1, wd=0.5)
    w = mx.nd.array([1.0, -2.0])
    opt.update(0, w, mx.nd.zeros(2), opt.create_state(0, w))  # no gradient: decay only
    onp.testing.assert_allclose(w.asnumpy(), [0.95, -1.9], rtol=1e-6)
    adam = mx.optimizer.create("adam", learning_rate=0.1, wd=0.5)
    v = mx.nd.array([1.0, -2.0])
    adam.update(0, v, mx.nd.zeros(2), adam.create_state(0, v))  # L2: wd * w enters Adam's average
    onp.testing.assert_allclose(v.asnumpy(), [0.9, -1.9], rtol=1e-5)  # a step of lr, not lr * wd * w


@pytest.mark.parametrize("params", [{}, {"momentum": 0.9, "wd": 1e-3}, {"clip_gradient": 0.05},
                                    {"lr_mult": True}, {"momentum": 0.5, "lr_mult": True}])
def test_mxnet_sgd_takes_the_steps_of_mxnets_own_sgd_bit_for_bit(params):
    """'sgd' updates one parameter at a time (faster than multi_sgd_update) with MXNet's rule."""
    from dlbook.mxnet.train import SGD

    params = dict(params)
    lr_mult = params.pop("lr_mult", False)
    rng = onp.random.default_rng(2)
    X = rng.normal(size=(96, 5)).astype("float32")
    y = rng.integers(0, 3, size=96)
    weights = []
    for optimizer in ("sgd", "stock"):
        with mx.np_shape(True), mx.np_array(True):
            mx.random.seed(0)
            net = gluon.nn.Sequential()
            net.add(gluon.nn.Dense(8, activation="relu"), gluon.nn.Dense(3))
            net.initialize(init.Xavier())
            net(mx.np.array(X[:2]))
            if lr_mult:  # per-parameter learning rates go through _get_lrs
                net[0].weight.lr_mult = 0.1
            opt = optimizer if optimizer == "sgd" else \
                mx.optimizer.SGD(learning_rate=0.2, **params)
            trainer = Trainer(net, "cross_entropy", opt, learning_rate=0.2,
                              optimizer_params=params if optimizer == "sgd" else None,
                              lr_schedule="cosine")
            trainer.fit(ArrayLoader(X, y, batch_size=16, shuffle=True, seed=0), epochs=3,
                        verbose=False)
            weights.append([p.data().asnumpy() for p in net.collect_params().values()])
        kind = type(trainer.optimizer._optimizer)
        assert (kind is SGD) == (optimizer == "sgd"), kind
    for ours, theirs in zip(*weights):
        onp.testing.assert_array_equal(ours, theirs)
    assert not onp.allclose(weights[0][0], weights[0][0].mean())  # it trained at all


def test_mxnet_sgd_is_faithful_on_sparse_and_half_precision_paths():
    """Those take MXNet's own code path; the result equals mx.optimizer.SGD's."""
    from dlbook.mxnet.train import SGD

    for dtype, extra in (("float16", {"multi_precision": True}), ("float32", {})):
        w = mx.nd.array([[1.0, -2.0], [0.5, 3.0]], dtype=dtype)
        g = mx.nd.array([[0.5, 0.5], [0.0, 0.0]], dtype=dtype)
        if not extra:
            g = g.tostype("row_sparse")
            w = w.tostype("row_sparse")
        results = []
        for cls in (SGD, mx.optimizer.SGD):
            opt = cls(learning_rate=0.1, momentum=0.9, **extra)
            v = w.copy()
            state = opt.create_state_multi_precision(0, v)
            for _ in range(3):
                opt.update_multi_precision(0, v, g, state)
            results.append(v.asnumpy())
        onp.testing.assert_array_equal(*results)
        assert not onp.array_equal(results[0], w.asnumpy())


def test_shape_dependent_weights_are_drawn_at_the_first_batch_as_documented(dl):
    """The Trainer's Notes: weights whose shapes come from the data are drawn when the first
    batch arrives, so building order does not matter but first-batch order does, and seeding
    right before the first batch gives the same weights."""
    X, _ = xor_data(num_examples=20)

    def outputs(reseed, others_first):
        dl.seed_everything(0)
        trainer = dl.Trainer(dl.mlp(hidden=4, num_outputs=2), "cross_entropy")
        other = dl.Trainer(dl.mlp(hidden=4, num_outputs=2), "cross_entropy")
        if others_first:
            other.predict(X[:2])
        if reseed:
            dl.seed_everything(0)  # right before this trainer's first batch
        return trainer.predict(X)

    alone = outputs(reseed=False, others_first=False)
    assert not onp.allclose(outputs(reseed=False, others_first=True), alone)  # the other drew first
    assert onp.array_equal(outputs(reseed=True, others_first=True), alone)
