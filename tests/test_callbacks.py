"""Tests of dlbook.callbacks: hooks, ProgressBar, LivePlot, EarlyStopping."""
import io
import re

import IPython
import IPython.display
import matplotlib.pyplot as plt
import mxnet as mx
import numpy as onp
import pytest
from mxnet import init

from dlbook.mxnet import callbacks
from dlbook.callbacks import Callback, EarlyStopping, LivePlot, ProgressBar, in_notebook
from dlbook.mxnet.data import load_array
from dlbook.mxnet.models import mlp
from dlbook.plot import use_korean_font
from dlbook.mxnet.train import Trainer


class Recorder(Callback):
    """Record every hook call and the weights after every epoch."""

    def __init__(self):
        self.calls, self.weights = [], {}

    def on_train_begin(self, epochs, num_batches):
        self.calls.append(("train_begin", epochs, num_batches))

    def on_epoch_begin(self, epoch):
        self.calls.append(("epoch_begin", epoch))

    def on_batch_end(self, batch):
        self.calls.append(("batch_end", batch))

    def on_epoch_end(self, epoch, logs):
        self.calls.append(("epoch_end", epoch, sorted(logs)))
        self.weights[epoch] = self.trainer.net[0].weight.data().asnumpy().copy()

    def on_train_end(self, history):
        self.calls.append(("train_end", len(history)))


def _classifier(blobs):
    X, y = blobs
    trainer = Trainer(mlp(hidden=8, num_outputs=3), "cross_entropy", metrics=["accuracy"])
    return trainer, load_array((X, y), batch_size=12, seed=0)


def _diverging_validation(patience, restore=True):
    """Training data y = x, validation data y = -x: the validation loss grows every epoch."""
    x = onp.linspace(-1, 1, 20, dtype="float32").reshape(-1, 1)
    trainer = Trainer(mlp(hidden=(), num_outputs=1), "mse", learning_rate=0.1,
                      initializer=init.Zero())
    recorder = Recorder()
    stopper = EarlyStopping(patience=patience, restore_best_weights=restore)
    trainer.fit(load_array((x, x), batch_size=5, seed=0), epochs=10,
                validation_data=load_array((x, -x), batch_size=20, shuffle=False),
                callbacks=[recorder, stopper], verbose=False)
    return trainer, recorder, stopper


# ------------------------------------------------------------------ hooks
def test_hooks_are_called_in_order(blobs):
    trainer, loader = _classifier(blobs)
    recorder = Recorder()
    trainer.fit(loader, epochs=2, callbacks=[recorder], verbose=False)
    assert recorder.trainer is trainer
    epoch = lambda e: [("epoch_begin", e), ("batch_end", 1), ("batch_end", 2), ("batch_end", 3),
                       ("epoch_end", e, ["accuracy", "loss", "time"])]
    assert recorder.calls == [("train_begin", 2, 3), *epoch(1), *epoch(2), ("train_end", 2)]


def test_in_notebook_is_false_here_and_true_in_a_kernel(monkeypatch):
    assert in_notebook() is False

    class ZMQInteractiveShell:
        pass

    monkeypatch.setattr(IPython, "get_ipython", lambda: ZMQInteractiveShell())
    assert in_notebook() is True


# ------------------------------------------------------------ ProgressBar
def test_progress_bar_prints_one_line_per_epoch_with_the_logs(blobs):
    trainer, loader = _classifier(blobs)
    stream = io.StringIO()
    history = trainer.fit(loader, epochs=3, validation_data=loader,
                          callbacks=[ProgressBar(stream=stream)], verbose=False)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and "\r" not in stream.getvalue()  # a StringIO is no terminal
    pattern = (r"epoch (\d)/3 - \d+\.\ds - loss ([\d.]+) - accuracy ([\d.]+) - "
               r"val_loss ([\d.]+) - val_accuracy ([\d.]+)")
    for i, line in enumerate(lines):
        match = re.fullmatch(pattern, line)
        assert match, line
        assert int(match.group(1)) == i + 1
        for group, key in zip(range(2, 6), ["loss", "accuracy", "val_loss", "val_accuracy"]):
            assert match.group(group) == f"{history[key][i]:.4f}"


def test_progress_bar_draws_a_bar_in_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    bar = ProgressBar(stream=stream)
    assert bar.bar is True
    bar.on_train_begin(epochs=2, num_batches=3)
    bar.on_epoch_begin(1)
    for batch in (1, 2, 3):
        bar.on_batch_end(batch)
    bar.on_epoch_end(1, {"loss": 0.5, "time": 1.25})
    assert stream.getvalue() == (
        "\repoch 1/2 [" + "=" * 10 + "." * 20 + "] 1/3"
        "\repoch 1/2 [" + "=" * 20 + "." * 10 + "] 2/3"
        "\repoch 1/2 [" + "=" * 30 + "] 3/3"
        "\repoch 1/2 - 1.2s - loss 0.5000\n"
    )


def test_progress_bar_redraws_at_most_about_fifty_times_per_epoch():
    stream = io.StringIO()
    bar = ProgressBar(stream=stream, bar=True)
    bar.on_train_begin(epochs=1, num_batches=1000)
    bar.on_epoch_begin(1)
    for batch in range(1, 1001):
        bar.on_batch_end(batch)
    assert stream.getvalue().count("\r") == 50  # every 20th batch
    assert stream.getvalue().endswith("] 1000/1000")


# --------------------------------------------------------------- LivePlot
def test_live_plot_does_nothing_outside_a_notebook(blobs, capsys):
    trainer, loader = _classifier(blobs)
    live = LivePlot()
    trainer.fit(loader, epochs=2, callbacks=[live], verbose=False)
    assert live._handle is None
    assert plt.get_fignums() == [] and capsys.readouterr().out == ""


def test_live_plot_updates_one_display_in_a_notebook(blobs, monkeypatch):
    shown = []

    class Handle:
        def update(self, fig):
            shown.append(("update", [ax.get_ylabel() for ax in fig.axes]))

    def display(fig, display_id=False):
        assert display_id is True
        shown.append(("display", [ax.get_ylabel() for ax in fig.axes]))
        return Handle()

    use_korean_font()  # as dlbook.setup() does in every notebook: the axes labels are Korean
    monkeypatch.setattr(callbacks, "in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", display)
    trainer, loader = _classifier(blobs)
    trainer.fit(loader, epochs=3, verbose="plot")
    panels = ["손실 (loss)", "지표 (metric)"]
    assert shown == [("display", panels), ("update", panels), ("update", panels)]
    assert plt.get_fignums() == []  # each figure closed after it was shown


def test_live_plot_draws_only_the_chosen_metrics(blobs, monkeypatch):
    shown = []
    use_korean_font()
    monkeypatch.setattr(callbacks, "in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display",
                        lambda fig, display_id: shown.append(len(fig.axes)) or None)
    trainer, loader = _classifier(blobs)
    trainer.fit(loader, epochs=1, callbacks=[LivePlot(metrics=["loss"])], verbose=False)
    assert shown == [1]


# ---------------------------------------------------------- EarlyStopping
def test_early_stopping_stops_and_restores_the_best_weights():
    trainer, recorder, stopper = _diverging_validation(patience=2)
    val_loss = trainer.history["val_loss"]
    assert val_loss == sorted(val_loss)  # strictly worse every epoch after the first
    assert len(trainer.history) == 4 and stopper.stopped_epoch == 4  # 1 best + 2 tolerated + 1
    assert stopper.best_epoch == 1 and stopper.best == val_loss[0]
    weights = trainer.net[0].weight.data().asnumpy()
    onp.testing.assert_array_equal(weights, recorder.weights[1])
    assert not onp.array_equal(weights, recorder.weights[4])


def test_early_stopping_without_restoring_keeps_the_last_weights():
    trainer, recorder, stopper = _diverging_validation(patience=0, restore=False)
    assert len(trainer.history) == 2 and stopper.stopped_epoch == 2
    onp.testing.assert_array_equal(trainer.net[0].weight.data().asnumpy(), recorder.weights[2])


class _FakeTrainer:
    def __init__(self):
        self.net = mlp(hidden=(), num_outputs=1)
        self.net.initialize()
        self.net(mx.np.ones((1, 2)))
        self.stop_training = False


def _feed(stopper, values, key="val_loss"):
    trainer = _FakeTrainer()
    stopper.trainer = trainer
    stopper.on_train_begin(len(values), 1)
    for epoch, value in enumerate(values, start=1):
        trainer.net[0].weight.set_data(mx.np.full((1, 2), float(epoch)))
        stopper.on_epoch_end(epoch, {key: value})
        if trainer.stop_training:
            break
    return epoch, trainer


def test_early_stopping_counts_patience_from_the_best_epoch():
    stopper = EarlyStopping(patience=2)
    last, trainer = _feed(stopper, [1.0, 0.8, 0.9, 0.85, 0.95, 0.1])
    assert last == 5 and stopper.best_epoch == 2 and stopper.stopped_epoch == 5
    assert trainer.net[0].weight.data().asnumpy().tolist() == [[2.0, 2.0]]


def test_early_stopping_mode_and_min_delta():
    accuracy = EarlyStopping(monitor="val_accuracy", patience=0)
    assert accuracy.mode == "max"
    assert _feed(accuracy, [0.5, 0.7, 0.6], key="val_accuracy")[0] == 3
    assert accuracy.best_epoch == 2
    strict = EarlyStopping(patience=1, min_delta=0.1)
    last, _ = _feed(strict, [1.0, 0.95, 0.92, 0.5])  # 0.05 and 0.08 are no improvement
    assert last == 3 and strict.best_epoch == 1
    loose = EarlyStopping(patience=1, min_delta=0.0)
    assert _feed(loose, [1.0, 0.95, 0.92, 0.5])[0] == 4 and loose.stopped_epoch is None


def test_a_new_fit_starts_early_stopping_afresh():
    trainer, _, stopper = _diverging_validation(patience=0)
    assert trainer.stop_training and stopper.stopped_epoch == 2
    x = onp.linspace(-1, 1, 20, dtype="float32").reshape(-1, 1)
    trainer.fit(load_array((x, x), batch_size=5), epochs=2, verbose=False)
    assert len(trainer.history) == 4 and not trainer.stop_training


# --------------------------------------------------------------- bad input
def test_early_stopping_without_the_monitored_key(blobs):
    trainer, loader = _classifier(blobs)
    with pytest.raises(KeyError, match=r"monitors `val_loss`, which the logs do not have. "
                                       r"Available: \['accuracy', 'loss', 'time'\]"):
        trainer.fit(loader, callbacks=[EarlyStopping()], verbose=False)


BAD_INPUTS = [
    (lambda: EarlyStopping(patience=-1), ValueError, r"`patience` >= 0, got -1"),
    (lambda: EarlyStopping(patience=1.5), TypeError, r"`patience` to be an integer"),
    (lambda: EarlyStopping(mode="up"), ValueError, r"Unknown `mode` 'up'. Expected one of: 'max', 'min'"),
]


@pytest.mark.parametrize("call, error, pattern", BAD_INPUTS)
def test_bad_input_raises_a_clear_error(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()
