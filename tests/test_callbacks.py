"""Tests of dlbook.callbacks in both layers: hooks, History, ProgressBar, LivePlot, EarlyStopping."""
import io
import re

import IPython
import IPython.display
import matplotlib.pyplot as plt
import numpy as onp
import pytest

from dlbook import callbacks
from dlbook.callbacks import (
    Callback,
    EarlyStopping,
    History,
    LivePlot,
    ProgressBar,
    TerminateOnNaN,
    in_notebook,
    overrides,
)
from dlbook.plot import use_korean_font
from dlbook.training import BatchLogs, CallbackList


def _weights(trainer):
    return trainer._checkpoint_params()  # every parameter as NumPy, in both layers


class Recorder(Callback):
    """Record every hook call and the weights after every epoch."""

    def __init__(self):
        self.calls, self.weights = [], {}

    def on_train_begin(self, epochs, num_batches):
        self.calls.append(("train_begin", epochs, num_batches))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch, logs))

    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(("batch_begin", batch))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("batch_end", batch, sorted(logs), logs.size))

    def on_test_batch_begin(self, batch, logs=None):
        self.calls.append(("test_begin", batch))

    def on_test_batch_end(self, batch, logs=None):
        self.calls.append(("test_end", batch, sorted(logs), logs.size))

    def on_epoch_end(self, epoch, logs):
        self.calls.append(("epoch_end", epoch, sorted(logs)))
        self.weights[epoch] = _weights(self.trainer)

    def on_train_end(self, history):
        self.calls.append(("train_end", len(history)))


class OldStyle(Callback):
    """A callback written for dlbook 0.1: on_epoch_begin(epoch) and on_batch_end(batch)."""

    def __init__(self):
        self.calls = []

    def on_epoch_begin(self, epoch):
        self.calls.append(("epoch_begin", epoch))

    def on_batch_end(self, batch):
        self.calls.append(("batch_end", batch))


def _classifier(dl, blobs):
    X, y = blobs
    trainer = dl.Trainer(dl.mlp(hidden=8, num_outputs=3), "cross_entropy", metrics=["accuracy"])
    return trainer, dl.load_array((X, y), batch_size=12, seed=0)


def _diverging_validation(dl, patience, restore=True):
    """Training data y = x, validation data y = -x: the validation loss grows every epoch."""
    x = onp.linspace(-1, 1, 20, dtype="float32").reshape(-1, 1)
    trainer = dl.Trainer(dl.mlp(hidden=(), num_outputs=1), "mse", learning_rate=0.1,
                         initializer="zeros")
    recorder = Recorder()
    stopper = EarlyStopping(patience=patience, restore_best_weights=restore)
    trainer.fit(dl.load_array((x, x), batch_size=5, seed=0), epochs=10,
                validation_data=dl.load_array((x, -x), batch_size=20, shuffle=False),
                callbacks=[recorder, stopper], verbose=False)
    return trainer, recorder, stopper


# ------------------------------------------------------------------ hooks
def test_hooks_are_called_in_order(dl, blobs):
    trainer, loader = _classifier(dl, blobs)
    X, y = blobs
    recorder = Recorder()
    trainer.fit(loader, epochs=2, callbacks=[recorder], verbose=False,
                validation_data=dl.load_array((X[:20], y[:20]), batch_size=10, shuffle=False))
    assert recorder.trainer is trainer
    keys = ["accuracy", "loss"]
    epoch = lambda e: [("epoch_begin", e, {}),
                       *[c for b, n in [(1, 12), (2, 12), (3, 6)]
                         for c in (("batch_begin", b), ("batch_end", b, keys, n))],
                       ("test_begin", 1), ("test_end", 1, keys, 10),
                       ("test_begin", 2), ("test_end", 2, keys, 10),
                       ("epoch_end", e, ["accuracy", "loss", "time", "val_accuracy", "val_loss"])]
    assert recorder.calls == [("train_begin", 2, 3), *epoch(1), *epoch(2), ("train_end", 2)]


def test_old_style_hooks_still_work(dl, blobs):
    trainer, loader = _classifier(dl, blobs)
    old = OldStyle()
    trainer.fit(loader, epochs=2, callbacks=[old], verbose=False)
    epoch = lambda e: [("epoch_begin", e), ("batch_end", 1), ("batch_end", 2), ("batch_end", 3)]
    assert old.calls == [*epoch(1), *epoch(2)]


def test_only_overridden_hooks_are_called():
    class EpochsOnly(Callback):
        def on_epoch_end(self, epoch, logs):
            pass

    hooks = CallbackList([EpochsOnly(), OldStyle(), ProgressBar(stream=io.StringIO())], trainer=None)
    assert len(hooks.hook("on_epoch_end")) == 2  # EpochsOnly, ProgressBar
    assert len(hooks.hook("on_train_batch_end")) == 2  # OldStyle's on_batch_end, ProgressBar
    assert hooks.hook("on_test_batch_end") == [] and hooks.hook("on_train_batch_begin") == []
    assert overrides(OldStyle(), "on_train_batch_end") and not overrides(Callback(), "on_batch_end")


def test_the_history_and_the_nan_check_are_callbacks(dl, blobs):
    trainer, loader = _classifier(dl, blobs)
    assert isinstance(trainer.history, History) and isinstance(trainer.history, Callback)
    trainer.fit(loader, epochs=1, verbose=False)
    assert trainer.history.trainer is trainer


def test_terminate_on_nan_reads_batches_only_when_the_epoch_is_bad():
    class Scalar:
        reads = 0

        def __init__(self, value):
            self.value = value

        def item(self):
            Scalar.reads += 1
            return self.value

    guard = TerminateOnNaN()
    guard.on_train_begin(epochs=1, num_batches=None)
    guard.on_epoch_begin(1)
    for value in (1.0, 2.0):
        guard.on_train_batch_end(1, BatchLogs(2, {"loss": Scalar(value)}))
    guard.on_epoch_end(1, {"loss": 0.75})
    assert Scalar.reads == 0  # a finite epoch costs no synchronization
    guard.on_epoch_begin(2)
    for value in (1.0, float("nan"), float("inf")):
        guard.on_train_batch_end(1, BatchLogs(2, {"loss": Scalar(value)}))
    with pytest.raises(FloatingPointError, match=r"became nan in epoch 2, batch 2 of \?\."):
        guard.on_epoch_end(2, {"loss": float("nan")})


def test_in_notebook_is_false_here_and_true_in_a_kernel(monkeypatch):
    assert in_notebook() is False

    class ZMQInteractiveShell:
        pass

    monkeypatch.setattr(IPython, "get_ipython", lambda: ZMQInteractiveShell())
    assert in_notebook() is True


# ------------------------------------------------------------ ProgressBar
def test_progress_bar_prints_one_line_per_epoch_with_the_logs(dl, blobs):
    trainer, loader = _classifier(dl, blobs)
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
        bar.on_train_batch_end(batch, None)
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
        bar.on_train_batch_end(batch)
    assert stream.getvalue().count("\r") == 50  # every 20th batch
    assert stream.getvalue().endswith("] 1000/1000")


# --------------------------------------------------------------- LivePlot
def test_live_plot_does_nothing_outside_a_notebook(dl, blobs, capsys):
    trainer, loader = _classifier(dl, blobs)
    live = LivePlot()
    trainer.fit(loader, epochs=2, callbacks=[live], verbose=False)
    assert live._handle is None
    assert plt.get_fignums() == [] and capsys.readouterr().out == ""


def test_live_plot_updates_one_display_in_a_notebook(dl, blobs, monkeypatch):
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
    trainer, loader = _classifier(dl, blobs)
    trainer.fit(loader, epochs=3, verbose="plot")
    panels = ["손실 (loss)", "지표 (metric)"]
    assert shown == [("display", panels), ("update", panels), ("update", panels)]
    assert plt.get_fignums() == []  # each figure closed after it was shown


def test_live_plot_draws_only_the_chosen_metrics(dl, blobs, monkeypatch):
    shown = []
    use_korean_font()
    monkeypatch.setattr(callbacks, "in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display",
                        lambda fig, display_id: shown.append(len(fig.axes)) or None)
    trainer, loader = _classifier(dl, blobs)
    trainer.fit(loader, epochs=1, callbacks=[LivePlot(metrics=["loss"])], verbose=False)
    assert shown == [1]


# ---------------------------------------------------------- EarlyStopping
def test_early_stopping_stops_and_restores_the_best_weights(dl):
    trainer, recorder, stopper = _diverging_validation(dl, patience=2)
    val_loss = trainer.history["val_loss"]
    assert val_loss == sorted(val_loss)  # strictly worse every epoch after the first
    assert len(trainer.history) == 4 and stopper.stopped_epoch == 4  # 1 best + 2 tolerated + 1
    assert stopper.best_epoch == 1 and stopper.best == val_loss[0]
    weights = _weights(trainer)
    for k in weights:
        onp.testing.assert_array_equal(weights[k], recorder.weights[1][k])
    assert not all(onp.array_equal(weights[k], recorder.weights[4][k]) for k in weights)


def test_early_stopping_without_restoring_keeps_the_last_weights(dl):
    trainer, recorder, stopper = _diverging_validation(dl, patience=0, restore=False)
    assert len(trainer.history) == 2 and stopper.stopped_epoch == 2
    weights = _weights(trainer)
    for k in weights:
        onp.testing.assert_array_equal(weights[k], recorder.weights[2][k])


class _FakeTrainer:
    """The two hooks EarlyStopping needs from a trainer, over one NumPy weight."""

    def __init__(self):
        self.weight = None
        self.stop_training = False

    def _copy_weights(self):
        return {"w": self.weight.copy()}

    def _restore_weights(self, weights):
        self.weight = weights["w"]


def _feed(stopper, values, key="val_loss"):
    trainer = _FakeTrainer()
    stopper.trainer = trainer
    stopper.on_train_begin(len(values), 1)
    for epoch, value in enumerate(values, start=1):
        trainer.weight = onp.full((1, 2), float(epoch))
        stopper.on_epoch_end(epoch, {key: value})
        if trainer.stop_training:
            break
    return epoch, trainer


def test_early_stopping_counts_patience_from_the_best_epoch():
    stopper = EarlyStopping(patience=2)
    last, trainer = _feed(stopper, [1.0, 0.8, 0.9, 0.85, 0.95, 0.1])
    assert last == 5 and stopper.best_epoch == 2 and stopper.stopped_epoch == 5
    assert trainer.weight.tolist() == [[2.0, 2.0]]


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


def test_a_new_fit_starts_early_stopping_afresh(dl):
    trainer, _, stopper = _diverging_validation(dl, patience=0)
    assert trainer.stop_training and stopper.stopped_epoch == 2
    x = onp.linspace(-1, 1, 20, dtype="float32").reshape(-1, 1)
    trainer.fit(dl.load_array((x, x), batch_size=5), epochs=2, verbose=False)
    assert len(trainer.history) == 4 and not trainer.stop_training


# --------------------------------------------------------------- bad input
def test_early_stopping_without_the_monitored_key(dl, blobs):
    trainer, loader = _classifier(dl, blobs)
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
