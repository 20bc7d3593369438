"""Tests of dlbook.mxnet.train: Trainer.fit / evaluate / predict and History."""
import io

import matplotlib.pyplot as plt
import mxnet as mx
import numpy as onp
import pytest
from mxnet import autograd, gluon, init

from dlbook.callbacks import ProgressBar
from dlbook.mxnet.data import ArrayLoader, load_array
from dlbook.mxnet.datasets import synthetic_linear, xor_data
from dlbook.mxnet.models import lenet, mlp
from dlbook.mxnet.train import History, Trainer

TRUE_W, TRUE_B = onp.array([2.0, -3.4]), 4.2


def _classifier(**kwargs):
    kwargs.setdefault("metrics", ["accuracy"])
    return Trainer(mlp(hidden=8, num_outputs=3), "cross_entropy", **kwargs)


def _weights(net):
    return {k: p.data().asnumpy().copy() for k, p in net.collect_params().items()}


# --------------------------------------------------------------- learning
def test_fit_recovers_the_weights_of_a_linear_model(np_mode):
    X, y = synthetic_linear(TRUE_W, TRUE_B, num_examples=400, noise=0.01)
    trainer = Trainer(mlp(hidden=(), num_outputs=1), "mse", learning_rate=0.1)
    history = trainer.fit(load_array((X, y), batch_size=10, seed=0), epochs=2, verbose=False)
    dense = trainer.net[0]
    onp.testing.assert_allclose(dense.weight.data().asnumpy()[0], TRUE_W, atol=0.02)
    assert abs(float(dense.bias.data().asnumpy()[0]) - TRUE_B) < 0.02
    assert history["loss"][0] > 1.0 > 0.01 > history["loss"][-1]
    assert mx.util.is_np_array() == np_mode  # the trainer left the global mode alone


def test_fit_solves_xor_with_a_hidden_layer_but_not_without(np_mode):
    X, y = xor_data()
    solved = Trainer(mlp(hidden=8, num_outputs=2, activation="tanh"), "cross_entropy",
                     optimizer="adam", learning_rate=0.1, metrics="accuracy")
    solved.fit((X, y), batch_size=4, epochs=50, verbose=False)
    assert solved.history.last("accuracy") == 1.0
    assert solved.predict(X).asnumpy().argmax(axis=1).tolist() == [0, 1, 1, 0]
    linear = Trainer(mlp(hidden=(), num_outputs=2), "cross_entropy", optimizer="adam",
                     learning_rate=0.1, metrics="accuracy")
    linear.fit((X, y), batch_size=4, epochs=50, verbose=False)
    assert linear.evaluate((X, y), batch_size=4)["accuracy"] <= 0.75


def test_binary_cross_entropy_with_one_logit_and_integer_labels(np_mode):
    X, y = xor_data(num_examples=40, noise=0.05)
    trainer = Trainer(mlp(hidden=8, num_outputs=1, activation="tanh"), "binary_cross_entropy",
                      optimizer="adam", learning_rate=0.1, metrics=["accuracy"])
    trainer.fit((X, y), batch_size=20, epochs=20, verbose=False)
    assert trainer.history.last("accuracy") == 1.0
    assert trainer.predict(X).shape == (40, 1)


@pytest.mark.parametrize("loss", ["mae", "huber", "mse"])
def test_regression_losses_train(np_mode, loss):
    X, y = synthetic_linear([1.0, -1.0], 0.5, num_examples=200, noise=0.0)
    trainer = Trainer(mlp(hidden=(), num_outputs=1), loss, optimizer="adam", learning_rate=0.1,
                      metrics=["mae"])
    history = trainer.fit((X, y), batch_size=50, epochs=15, verbose=False)
    assert history["mae"][-1] < 0.2 * history["mae"][0]
    assert type(trainer.loss).__name__ in repr(trainer)


def test_plain_gluon_network_and_data_loader(np_mode):
    X, y = xor_data(num_examples=40, noise=0.05)
    net = gluon.nn.HybridSequential()
    net.add(gluon.nn.Dense(8, activation="tanh"), gluon.nn.Dense(2))
    loader = gluon.data.DataLoader(gluon.data.ArrayDataset(X, y), batch_size=20, shuffle=True)
    trainer = Trainer(net, "cross_entropy", optimizer="adam", learning_rate=0.1,
                      metrics=["accuracy"])
    history = trainer.fit(loader, epochs=15, verbose=False)
    assert history.last("accuracy") == 1.0
    assert isinstance(net[0].weight.data(), mx.np.ndarray)


# ---------------------------------------------------------------- history
def test_history_records_every_epoch_with_val_prefix(blobs):
    X, y = blobs
    trainer = _classifier()
    history = trainer.fit((X, y), batch_size=10, epochs=3, validation_data=(X[:12], y[:12]),
                          verbose=False)
    assert history is trainer.history and len(history) == 3
    assert history.epoch == [1, 2, 3]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "time"}
    assert all(len(values) == 3 for values in history.history.values())
    assert all(t > 0 for t in history["time"])
    assert all(0.0 <= a <= 1.0 for a in history["accuracy"] + history["val_accuracy"])
    last_val = trainer.evaluate((X[:12], y[:12]), batch_size=12)
    assert history.last("val_loss") == pytest.approx(last_val["loss"], rel=1e-5)
    assert history.last("val_accuracy") == pytest.approx(last_val["accuracy"])
    trainer.fit((X, y), batch_size=10, epochs=2, verbose=False)  # continues the count
    assert history.epoch == [1, 2, 3, 4, 5]
    assert len(history["loss"]) == 5 and len(history["val_loss"]) == 3


def test_history_object():
    history = History()
    history.append(1, {"loss": 0.9, "accuracy": 0.5, "time": 1.0})
    history.append(2, {"loss": 0.4, "accuracy": 0.75, "time": 1.0})
    assert history["loss"] == [0.9, 0.4] and history.last("accuracy") == 0.75
    assert len(history) == 2
    assert repr(history) == "History(epochs=2, loss=0.4, accuracy=0.75)"
    with pytest.raises(KeyError, match=r"No metric `val_loss` in the history. Available: \['accuracy', 'loss', 'time'\]"):
        history["val_loss"]


# ------------------------------------------------------------- inference
def test_evaluate_and_predict_agree(np_mode, blobs):
    X, y = blobs
    trainer = _classifier()
    trainer.fit((X, y), batch_size=10, epochs=2, verbose=False)
    scores = trainer.predict(X, batch_size=7)
    assert isinstance(scores, mx.np.ndarray) and scores.shape == (30, 3)
    s = scores.asnumpy()
    log_softmax = s - s.max(axis=1, keepdims=True)
    log_softmax -= onp.log(onp.exp(log_softmax).sum(axis=1, keepdims=True))
    results = trainer.evaluate(load_array((X, y), batch_size=8, shuffle=False))
    assert set(results) == {"loss", "accuracy"}
    assert results["loss"] == pytest.approx(float(-log_softmax[onp.arange(30), y].mean()), rel=1e-5)
    assert results["accuracy"] == pytest.approx(float((s.argmax(axis=1) == y).mean()))


def test_dropout_is_off_in_evaluate_and_predict(blobs):
    X, y = blobs
    net = mlp(hidden=32, num_outputs=3, dropout=0.5)
    trainer = Trainer(net, "cross_entropy")
    first, second = trainer.predict(X).asnumpy(), trainer.predict(X).asnumpy()
    onp.testing.assert_array_equal(first, second)
    assert trainer.evaluate((X, y), batch_size=30) == trainer.evaluate((X, y), batch_size=30)
    with autograd.record():  # the same network in training mode drops units
        dropped = net(mx.np.array(X)).asnumpy()
    assert not onp.allclose(dropped, first)


def test_predict_accepts_lists_and_mxnet_arrays(blobs):
    X, _ = blobs
    trainer = _classifier()
    expected = trainer.predict(X).asnumpy()
    onp.testing.assert_allclose(trainer.predict(X.tolist()).asnumpy(), expected, rtol=1e-6)
    onp.testing.assert_allclose(trainer.predict(mx.nd.array(X), batch_size=1000).asnumpy(),
                                expected, rtol=1e-6)


# ----------------------------------------------------- setup of the trainer
def test_initializer_and_existing_parameters(np_mode, blobs):
    X, _ = blobs
    zero = Trainer(mlp(hidden=(), num_outputs=3), "cross_entropy", initializer=init.Zero())
    assert not zero.predict(X).asnumpy().any()
    net = mlp(hidden=4, num_outputs=3)
    net.initialize(init.Constant(0.5))  # dlbook models get NumPy-mode parameters either way
    net(mx.np.array(X))
    assert isinstance(net[0].weight.data(), mx.np.ndarray)
    before = _weights(net)
    Trainer(net, "cross_entropy")  # already initialized: kept as is
    after = _weights(net)
    assert all(onp.array_equal(before[k], after[k]) for k in before)


def test_optimizer_by_instance_and_params(blobs):
    X, y = blobs
    adam = Trainer(mlp(hidden=4, num_outputs=3), "cross_entropy",
                   optimizer=mx.optimizer.Adam(learning_rate=0.01))
    assert type(adam.optimizer._optimizer).__name__ == "Adam"
    momentum = Trainer(mlp(hidden=4, num_outputs=3), "cross_entropy", optimizer="SGD",
                       learning_rate=0.2, optimizer_params={"momentum": 0.9, "wd": 1e-4})
    assert momentum.optimizer._optimizer.momentum == 0.9
    assert momentum.optimizer.learning_rate == 0.2
    momentum.fit((X, y), batch_size=10, verbose=False)
    assert repr(momentum) == ("Trainer(net=Sequential, loss=SoftmaxCrossEntropyLoss, optimizer=SGD, "
                              "metrics=[], device=cpu(0), epochs=1)")


def test_without_hybridization(blobs):
    X, y = blobs
    trainer = _classifier(hybridize=False, optimizer="adam", learning_rate=0.05)
    trainer.fit((X, y), batch_size=10, epochs=10, verbose=False)
    assert not trainer.net._active
    assert trainer.history.last("accuracy") == 1.0


# ------------------------------------------------------------------ output
def test_verbose_auto_prints_one_line_per_epoch(capsys, blobs):
    X, y = blobs
    _classifier().fit((X, y), batch_size=10, epochs=2)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" - ")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]


def test_verbose_false_and_plot_show_nothing_outside_a_notebook(capsys, blobs):
    X, y = blobs
    trainer = _classifier()
    trainer.fit((X, y), batch_size=10, epochs=2, verbose=False)
    trainer.fit((X, y), batch_size=10, epochs=2, verbose="plot")
    assert capsys.readouterr().out == ""
    assert plt.get_fignums() == []


def test_a_progress_bar_passed_in_replaces_the_default(capsys, blobs):
    X, y = blobs
    stream = io.StringIO()
    _classifier().fit((X, y), batch_size=10, epochs=2, callbacks=[ProgressBar(stream=stream)])
    assert capsys.readouterr().out == ""
    assert stream.getvalue().count("\n") == 2


# ------------------------------------------------------------- failures
def test_nan_loss_from_a_huge_learning_rate_raises():
    X, y = synthetic_linear(TRUE_W, TRUE_B, num_examples=200)
    trainer = Trainer(mlp(hidden=(), num_outputs=1), "mse", learning_rate=1e10)
    with pytest.raises(FloatingPointError, match=r"training loss became (nan|inf) in epoch 1.*smaller `learning_rate`"):
        trainer.fit((X, y), batch_size=10, epochs=3, verbose=False)
    assert len(trainer.history) == 0


def test_infinite_custom_loss_raises(np_mode):
    X, y = synthetic_linear(TRUE_W, TRUE_B, num_examples=20)

    def exploding(y_hat, target):
        return ((y_hat - target) ** 2).mean(axis=1) * float("inf")

    trainer = Trainer(mlp(hidden=(), num_outputs=1), exploding)
    with pytest.raises(FloatingPointError, match="training loss became"):
        trainer.fit((X, y), batch_size=5, verbose=False)


def test_labels_out_of_range_raise_before_any_update(blobs):
    X, y = blobs
    y = y.copy()
    y[3] = 5  # the network has 3 outputs
    trainer = _classifier()
    trainer.predict(X[:1])  # shapes known, so the parameters can be compared
    before = _weights(trainer.net)
    with pytest.raises(ValueError, match=r"class labels in \[0, 2\] for a network with 3 outputs, got labels from 0 to 5"):
        trainer.fit((X, y), batch_size=30, verbose=False)
    after = _weights(trainer.net)
    assert all(onp.array_equal(before[k], after[k]) for k in before)
    assert len(trainer.history) == 0


def test_empty_validation_data_is_named_in_the_error(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match=r"`validation_data` is empty"):
        _classifier().fit((X, y), batch_size=10, validation_data=[], verbose=False)
    with pytest.raises(ValueError, match=r"`validation_data` yielded no batches"):
        _classifier().fit((X, y), batch_size=10, validation_data=iter([]), verbose=False)


def _legacy_net():
    net = gluon.nn.Dense(3, in_units=4)
    net.initialize()  # outside NumPy mode: legacy mx.nd parameters
    return net


def _lenet_on_flat_images():
    trainer = Trainer(lenet(), "cross_entropy")
    trainer.fit((onp.zeros((4, 784)), onp.zeros(4, dtype="int64")), batch_size=2, verbose=False)


_X, _Y = onp.ones((6, 4), dtype="float32"), onp.arange(6) % 3
_LOADER = ArrayLoader(_X, _Y, batch_size=3)

BAD_INPUTS = [
    (lambda: Trainer("mlp", "mse"), TypeError, r"`net` to be a gluon Block, got 'mlp' \(str\)"),
    (lambda: Trainer(_legacy_net(), "mse"), TypeError, r"Parameter `dense\d+_weight` of `net` is a legacy mx.nd array"),
    (lambda: _classifier(learning_rate=0), ValueError, r"`learning_rate` > 0, got 0"),
    (lambda: _classifier(learning_rate=-0.1), ValueError, r"`learning_rate` > 0, got -0.1"),
    (lambda: _classifier(learning_rate=float("nan")), ValueError, r"`learning_rate` > 0, got nan"),
    (lambda: _classifier(learning_rate=float("inf")), ValueError, r"`learning_rate` > 0, got inf"),
    (lambda: _classifier(learning_rate="0.1"), ValueError, r"`learning_rate` > 0, got '0.1'"),
    (lambda: _classifier(optimizer="sgdd"), ValueError, r"Unknown `optimizer` 'sgdd'. Expected one of: adadelta, .*adam, .*sgd"),
    (lambda: _classifier(optimizer=3), TypeError, r"`optimizer` as a name or an Optimizer, got 3"),
    (lambda: _classifier(optimizer_params=[("momentum", 0.9)]), TypeError, r"`optimizer_params` as a dict"),
    (lambda: _classifier(metrics=["accuracy", "f1"]), ValueError, r"Unknown `metrics` 'f1'"),
    (lambda: Trainer(mlp(), "l2"), ValueError, r"Unknown `loss` 'l2'"),
    (lambda: _classifier().fit(_LOADER, epochs=0), ValueError, r"`epochs` >= 1, got 0"),
    (lambda: _classifier().fit((_X, _Y)), ValueError, r"`data` was given as arrays \(X, y\); pass `batch_size`"),
    (lambda: _classifier().fit(_LOADER, validation_data=(_X, _Y)), ValueError, r"`validation_data` was given as arrays"),
    (lambda: _classifier().fit(5), TypeError, r"`data` as a loader of \(X, y\) batches .* got 5 \(int\)"),
    (lambda: _classifier().fit("data.csv"), TypeError, r"`data` as a loader"),
    (lambda: _classifier().fit([]), ValueError, r"`data` is empty"),
    (lambda: _classifier().fit(ArrayLoader(_X, batch_size=3), verbose=False), ValueError, r"`data` to yield \(X, y\) pairs"),
    (lambda: _classifier().fit(_LOADER, callbacks=[print]), TypeError, r"Callback objects in `callbacks`"),
    (lambda: _classifier().fit(_LOADER, verbose="loud"), ValueError, r"`verbose` in \('auto', True, False, 'plot'\), got 'loud'"),
    (lambda: _classifier().fit((onp.full((6, 4), onp.nan), _Y), batch_size=3), ValueError, r"`X` contains 24 NaN"),
    (lambda: _classifier().fit((_X, _Y[:5]), batch_size=3), ValueError, r"`X` has 6, `y` has 5"),
    (_lenet_on_flat_images, ValueError, r"could not process a batch of shape \(2, 784\).*first layer"),
    (lambda: _classifier().predict(_X, batch_size=0), ValueError, r"`batch_size` >= 1"),
    (lambda: _classifier().predict(onp.zeros((0, 4))), ValueError, r"non-empty `X`"),
    (lambda: _classifier().evaluate((_X, _Y)), ValueError, r"`data` was given as arrays"),
]


@pytest.mark.parametrize("call, error, pattern", BAD_INPUTS)
def test_bad_input_raises_a_clear_error(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_custom_metric_object_is_reported_each_epoch():
    from dlbook.mxnet.metrics import Metric

    class MeanLogit(Metric):
        name = "mean_logit"

        def batch_values(self, y_hat, y):
            return y_hat.mean(axis=1)

    X, y = xor_data(num_examples=40)
    trainer = Trainer(mlp(hidden=4, num_outputs=2), "cross_entropy",
                         metrics=[MeanLogit(), "accuracy"])
    history = trainer.fit(load_array((X, y), batch_size=8), epochs=2, verbose=False,
                          validation_data=load_array((X, y), batch_size=8, shuffle=False))
    assert set(history.history) >= {"mean_logit", "val_mean_logit", "accuracy"}
    expected = float(trainer.predict(X).mean())
    assert history.last("val_mean_logit") == pytest.approx(expected, rel=1e-4, abs=1e-5)


def test_non_finite_loss_names_the_epoch_and_the_first_bad_batch():
    from mxnet import gluon

    class BlowsUpOnBatch(gluon.loss.Loss):
        """Cross-entropy, except that batch 3 of the second epoch yields inf."""

        def __init__(self):
            super().__init__(weight=None, batch_axis=0)
            self.inner, self.calls = gluon.loss.SoftmaxCrossEntropyLoss(), 0

        def forward(self, y_hat, y):
            self.calls += 1
            loss = self.inner(y_hat, y)
            return loss * float("inf") if self.calls == 5 + 3 else loss

    X, y = xor_data(num_examples=40)
    trainer = Trainer(mlp(hidden=4, num_outputs=2), BlowsUpOnBatch(), hybridize=False)
    with pytest.raises(FloatingPointError, match=r"in epoch 2, batch 3 of 5\."):
        trainer.fit(load_array((X, y), batch_size=8), epochs=3, verbose=False)
    assert len(trainer.history) == 1  # the bad epoch is not recorded
