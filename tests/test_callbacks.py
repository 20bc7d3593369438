"""Tests of dlbook.callbacks in both layers: hooks, History, ProgressBar, LivePlot, EarlyStopping,
ModelCheckpoint and CSVLogger."""
import csv
import io
import os
import re

import IPython
import IPython.display
import matplotlib.pyplot as plt
import numpy as onp
import pytest

from dlbook import callbacks
from dlbook.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    History,
    LivePlot,
    ModelCheckpoint,
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


def _diverging_validation(dl, patience, restore=True, callbacks=(), stopper=None):
    """Training data y = x, validation data y = -x: the validation loss grows every epoch."""
    x = onp.linspace(-1, 1, 20, dtype="float32").reshape(-1, 1)
    trainer = dl.Trainer(dl.mlp(hidden=(), num_outputs=1), "mse", learning_rate=0.1,
                         initializer="zeros")
    recorder = Recorder()
    if stopper is None:
        stopper = EarlyStopping(patience=patience, restore_best_weights=restore)
    trainer.fit(dl.load_array((x, x), batch_size=5, seed=0), epochs=10,
                validation_data=dl.load_array((x, -x), batch_size=20, shuffle=False),
                callbacks=[recorder, stopper, *callbacks], verbose=False)
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
class _Terminal(io.StringIO):
    def isatty(self):
        return True


_RATE = r"[\d,]+ examples/s"
_TIME = r"\d+\.\ds"


def test_progress_bar_prints_one_line_per_epoch_with_the_logs(dl, blobs):
    trainer, loader = _classifier(dl, blobs)
    stream = io.StringIO()
    history = trainer.fit(loader, epochs=3, validation_data=loader,
                          callbacks=[ProgressBar(stream=stream)], verbose=False)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and "\r" not in stream.getvalue()  # a StringIO is no terminal
    for i, line in enumerate(lines):
        eta = rf" - ETA {_TIME}" if i < 2 else ""  # time left for the remaining epochs
        pattern = (rf"epoch (\d)/3 - ({_TIME}) - ([\d,]+) examples/s{eta} - loss ([\d.]+) - "
                   r"accuracy ([\d.]+) - val_loss ([\d.]+) - val_accuracy ([\d.]+)")
        match = re.fullmatch(pattern, line)
        assert match, line
        assert int(match.group(1)) == i + 1 and match.group(2) == f"{history['time'][i]:.1f}s"
        assert int(match.group(3).replace(",", "")) > 0
        for group, key in zip(range(4, 8), ["loss", "accuracy", "val_loss", "val_accuracy"]):
            assert match.group(group) == f"{history[key][i]:.4f}"


def test_progress_counts_epochs_over_fits_as_keras_initial_epoch_does(dl, blobs):
    trainer, loader = _classifier(dl, blobs)
    stream = io.StringIO()
    trainer.fit(loader, epochs=2, callbacks=ProgressBar(stream=stream), verbose=False)
    trainer.fit(loader, epochs=1, callbacks=ProgressBar(stream=stream), verbose=False)
    trainer.fit(loader, epochs=2, callbacks=ProgressBar(stream=stream), verbose=False)
    starts = [line.split(" - ")[0] for line in stream.getvalue().splitlines()]
    assert starts == ["epoch 1/2", "epoch 2/2", "epoch 3/3", "epoch 4/5", "epoch 5/5"]


def test_progress_eta_is_the_mean_epoch_time_times_the_epochs_left():
    stream = io.StringIO()
    bar = ProgressBar(stream=stream)
    bar.on_train_begin(epochs=3, num_batches=1)
    for epoch, seconds in ((1, 2.0), (2, 4.0)):
        bar.on_epoch_begin(epoch)
        bar.on_train_batch_end(1, BatchLogs(10, {"loss": 5.0}))
        bar.on_epoch_end(epoch, {"loss": 0.5, "time": seconds})
    first, second = stream.getvalue().splitlines()
    assert " - ETA 4.0s - " in first and " - ETA 3.0s - " in second  # 2 x 2.0, 1 x (2 + 4) / 2
    assert re.fullmatch(rf"epoch 1/3 - 2\.0s - {_RATE} - ETA 4\.0s - loss 0\.5000", first)


def test_format_seconds():
    assert [callbacks.format_seconds(t) for t in (0.04, 59.9, 60, 3599, 7260)] == \
        ["0.0s", "59.9s", "1m00s", "59m59s", "2h01m"]


def test_progress_bar_draws_a_bar_with_running_means_in_a_terminal():
    stream = _Terminal()
    bar = ProgressBar(stream=stream)
    assert bar.bar is True
    bar.on_train_begin(epochs=2, num_batches=3)
    bar.on_epoch_begin(1)
    for batch, (loss, acc) in enumerate([(2.0, 1.0), (4.0, 1.0), (0.5, 0.0)], start=1):
        bar.on_train_batch_end(batch, BatchLogs(2 if batch < 3 else 1,
                                                {"loss": loss, "accuracy": acc}))
    bar.on_epoch_end(1, {"loss": 1.3, "accuracy": 0.4, "time": 1.25})
    draws = stream.getvalue().split("\r")[1:]
    assert len(draws) == 4 and draws[-1].endswith("\n")
    expected = [("=" * 10 + "." * 20, "1/3", True, 2 / 2, 1 / 2),   # running sums / examples
                ("=" * 20 + "." * 10, "2/3", True, 6 / 4, 2 / 4),
                ("=" * 30, "3/3", False, 6.5 / 5, 2 / 5)]
    for text, (filled, count, eta, loss, acc) in zip(draws, expected):
        pattern = (rf"epoch 1/2 \[{re.escape(filled)}\] {count}" + (rf" - ETA {_TIME}" if eta else "")
                   + rf" - {_RATE} - loss {loss:.4f} - accuracy {acc:.4f} *")
        assert re.fullmatch(pattern, text), text
    assert re.fullmatch(rf"epoch 1/2 - 1\.2s - {_RATE} - ETA 1\.2s - loss 1\.3000 - accuracy 0\.4000 *\n",
                        draws[-1])
    assert len(draws[-1]) - 1 >= len(draws[-2])  # padded: no rest of the bar is left on screen


def test_progress_bar_in_a_terminal_reads_batches_only_when_it_redraws(dl, blobs):
    class Scalar:
        reads = 0

        def __init__(self, value):
            self.value = value

        def __add__(self, other):
            return Scalar(self.value + other.value)

        def item(self):
            Scalar.reads += 1
            return self.value

    bar = ProgressBar(stream=_Terminal())
    bar.on_train_begin(epochs=1, num_batches=100)
    bar.on_epoch_begin(1)
    for batch in range(1, 100):
        bar.on_train_batch_end(batch, BatchLogs(1, {"loss": Scalar(1.0)}))
    assert Scalar.reads == 49  # every 2nd batch: one read of the running sum
    quiet = ProgressBar(stream=io.StringIO())  # no terminal: nothing is read per batch
    quiet.on_train_begin(epochs=1, num_batches=100)
    quiet.on_epoch_begin(1)
    for batch in range(1, 101):
        quiet.on_train_batch_end(batch, BatchLogs(1, {"loss": Scalar(1.0)}))
    assert Scalar.reads == 49


def test_progress_bar_redraws_at_most_about_fifty_times_per_epoch():
    stream = io.StringIO()
    bar = ProgressBar(stream=stream, bar=True)
    bar.on_train_begin(epochs=1, num_batches=1000)
    bar.on_epoch_begin(1)
    for batch in range(1, 1001):
        bar.on_train_batch_end(batch)
    assert stream.getvalue().count("\r") == 50  # every 20th batch
    assert stream.getvalue().rstrip(" ").endswith("] 1000/1000")


# --------------------------------------------------------------- LivePlot
def test_live_plot_outside_a_notebook_shows_nothing_and_says_so(dl, blobs, capsys, monkeypatch):
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *args, **kwargs: shown.append(args))
    trainer, loader = _classifier(dl, blobs)
    with pytest.warns(UserWarning, match=r"draws in a Jupyter notebook only; outside one it shows "
                                         r"nothing\. Print progress with verbose=True and draw "
                                         r"the curves after training with plot_history\(history\)"):
        history = trainer.fit(loader, epochs=2, callbacks=[LivePlot()], verbose=False)
    assert shown == [] and plt.get_fignums() == [] and capsys.readouterr().out == ""
    assert len(history) == 2 and all(len(v) == 2 for v in history.history.values())  # trained


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
    assert len(trainer.history) == 3 and stopper.stopped_epoch == 3  # best + 2 without improvement
    assert stopper.best_epoch == 1 and stopper.best == val_loss[0]
    weights = _weights(trainer)
    for k in weights:
        onp.testing.assert_array_equal(weights[k], recorder.weights[1][k])
    assert not all(onp.array_equal(weights[k], recorder.weights[3][k]) for k in weights)


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
    assert last == 4 and stopper.best_epoch == 2 and stopper.stopped_epoch == 4
    assert trainer.weight.tolist() == [[2.0, 2.0]]


@pytest.mark.parametrize("patience, stops_at", [(0, 3), (1, 3), (2, 4), (3, 5), (5, None)])
def test_early_stopping_stops_where_keras_does(patience, stops_at):
    """Keras: stop once `patience` epochs in a row bring no improvement (0 acts as 1)."""
    values = [1.0, 0.5, 0.6, 0.7, 0.8, 0.9]  # best at epoch 2, worse ever after
    stopper = EarlyStopping(patience=patience)
    last, _ = _feed(stopper, values)
    assert stopper.stopped_epoch == stops_at and last == (stops_at or len(values))
    assert stops_at is None or stops_at == stopper.best_epoch + max(patience, 1)


def test_early_stopping_mode_and_min_delta():
    accuracy = EarlyStopping(monitor="val_accuracy", patience=0)
    assert accuracy.mode == "auto" and accuracy.direction == "max"
    assert _feed(accuracy, [0.5, 0.7, 0.6], key="val_accuracy")[0] == 3
    assert accuracy.best_epoch == 2
    assert EarlyStopping(monitor="val_mae").direction == "min"
    forced = EarlyStopping(monitor="val_loss", mode="max", patience=1)
    assert _feed(forced, [1.0, 2.0, 1.5])[0] == 3 and forced.best_epoch == 2
    strict = EarlyStopping(patience=1, min_delta=0.1)
    last, _ = _feed(strict, [1.0, 0.95, 0.92, 0.5])  # 0.05 is no improvement
    assert last == 2 and strict.best_epoch == 1
    loose = EarlyStopping(patience=1, min_delta=0.0)
    assert _feed(loose, [1.0, 0.95, 0.92, 0.5])[0] == 4 and loose.stopped_epoch is None


def test_early_stopping_takes_the_direction_of_a_custom_metric(dl, blobs):
    X, y = blobs

    class Agreement(dl.metrics.Metric):
        name = "agreement"
        greater_is_better = True

        def batch_values(self, y_hat, y):
            return dl.metrics.Accuracy().batch_values(y_hat, y)

    class Unknown(Agreement):
        name = "unknown"
        greater_is_better = None

    trainer = dl.Trainer(dl.mlp(hidden=4, num_outputs=3), "cross_entropy",
                         metrics=[Agreement(), Unknown()])
    stopper = EarlyStopping(monitor="val_agreement")
    assert stopper.direction is None  # known once training starts
    trainer.fit(X, y, epochs=1, validation_data=(X, y), callbacks=stopper, verbose=False)
    assert stopper.direction == "max"
    with pytest.raises(ValueError, match=r"EarlyStopping cannot tell whether `val_unknown` should "
                                         r"go down or up: pass mode='min' or mode='max'"):
        trainer.fit(X, y, validation_data=(X, y), callbacks=EarlyStopping("val_unknown"),
                    verbose=False)
    assert trainer.num_updates == 1  # one batch of 30; the second fit raised before any update
    trainer.fit(X, y, validation_data=(X, y), callbacks=EarlyStopping("val_unknown", mode="max"),
                verbose=False)


def test_a_new_fit_starts_early_stopping_afresh(dl):
    trainer, _, stopper = _diverging_validation(dl, patience=0)
    assert trainer.stop_training and stopper.stopped_epoch == 2
    x = onp.linspace(-1, 1, 20, dtype="float32").reshape(-1, 1)
    trainer.fit(dl.load_array((x, x), batch_size=5), epochs=2, verbose=False)
    assert len(trainer.history) == 4 and not trainer.stop_training


# -------------------------------------------------------- ModelCheckpoint
def test_model_checkpoint_saves_the_best_epoch_only(dl, tmp_path):
    path = tmp_path / "best.npz"
    best = ModelCheckpoint(path, save_best_only=True)
    trainer, recorder, _ = _diverging_validation(dl, patience=3, callbacks=[best])
    assert best.best_epoch == 1 and best.best == trainer.history["val_loss"][0]
    assert best.last_saved == str(path) and os.listdir(tmp_path) == ["best.npz"]
    x = onp.linspace(-1, 1, 20, dtype="float32").reshape(-1, 1)
    fresh = dl.Trainer(dl.mlp(hidden=(), num_outputs=1), "mse", learning_rate=0.1)
    fresh.predict(x[:1])
    dl.load_checkpoint(path, fresh)
    for k, v in _weights(fresh).items():
        onp.testing.assert_array_equal(v, recorder.weights[1][k])  # the best epoch's weights
    assert fresh.history.epoch == [1]


def test_model_checkpoint_every_epoch_with_a_pattern(dl, blobs, tmp_path, capsys):
    trainer, loader = _classifier(dl, blobs)
    saver = ModelCheckpoint(tmp_path / "run-{epoch:02d}-{loss:.3f}.npz", verbose=True)
    history = trainer.fit(loader, epochs=3, callbacks=saver, verbose=False)
    names = sorted(os.listdir(tmp_path))
    assert names == [f"run-{e:02d}-{history['loss'][e - 1]:.3f}.npz" for e in (1, 2, 3)]
    assert capsys.readouterr().out.splitlines()[0] == f"epoch 1: saved {tmp_path / names[0]}"
    resumed = dl.Trainer(dl.mlp(hidden=8, num_outputs=3), "cross_entropy", metrics=["accuracy"])
    dl.load_checkpoint(tmp_path / names[1], resumed)
    assert resumed.history["loss"] == history["loss"][:2]


def test_model_checkpoint_keeps_the_best_over_fits_and_writes_on_the_first_worker_only(dl, blobs,
                                                                                      tmp_path):
    trainer, loader = _classifier(dl, blobs)
    best = ModelCheckpoint(tmp_path / "best.npz", monitor="loss", save_best_only=True)
    trainer.fit(loader, epochs=2, callbacks=best, verbose=False)
    first = best.best
    assert first == min(trainer.history["loss"])
    trainer.rank = 1  # as on another worker of a distributed run
    other = ModelCheckpoint(tmp_path / "other.npz")
    trainer.fit(loader, epochs=1, callbacks=[best, other], verbose=False)
    assert not (tmp_path / "other.npz").exists() and other.last_saved is not None
    assert best.best <= first


def test_model_checkpoint_errors_before_any_update(dl, blobs, tmp_path):
    trainer, loader = _classifier(dl, blobs)
    with pytest.raises(FileNotFoundError, match=r"The folder of `filepath` does not exist: .*missing"):
        trainer.fit(loader, callbacks=ModelCheckpoint(tmp_path / "missing" / "m.npz"), verbose=False)
    with pytest.raises(KeyError, match=r"ModelCheckpoint monitors `val_loss`, which the logs do not "
                                       r"have\. Available: \['accuracy', 'loss', 'time'\]"):
        trainer.fit(loader, callbacks=ModelCheckpoint(tmp_path / "m.npz", save_best_only=True),
                    verbose=False)
    assert trainer.num_updates == 0
    with pytest.raises(KeyError, match=r"`filepath` '.*m-\{val_acc\}\.npz' names 'val_acc', which "
                                       r"the logs do not have\. Available: \['epoch', 'accuracy'"):
        trainer.fit(loader, callbacks=ModelCheckpoint(tmp_path / "m-{val_acc}.npz"), verbose=False)


# -------------------------------------------------------------- CSVLogger
def _read_csv(path, separator=","):
    with open(path, newline="") as f:
        reader = csv.DictReader(f, delimiter=separator)
        return reader.fieldnames, list(reader)


def test_csv_logger_writes_one_row_per_epoch(dl, blobs, tmp_path):
    trainer, loader = _classifier(dl, blobs)
    path = tmp_path / "log.csv"
    history = trainer.fit(loader, epochs=3, validation_data=loader, callbacks=CSVLogger(path),
                          verbose=False)
    header, rows = _read_csv(path)
    assert header == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "time"]
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    for key in header[1:]:
        assert [float(r[key]) for r in rows] == history[key]  # full precision
    assert os.listdir(tmp_path) == ["log.csv"]  # no temporary file left behind


def test_csv_logger_appends_and_adds_columns(dl, blobs, tmp_path):
    trainer, loader = _classifier(dl, blobs)
    path = tmp_path / "log.tsv"
    trainer.fit(loader, epochs=2, callbacks=CSVLogger(path, separator="\t"), verbose=False)
    trainer.fit(loader, epochs=1, validation_data=loader,
                callbacks=CSVLogger(path, separator="\t", append=True), verbose=False)
    header, rows = _read_csv(path, "\t")
    assert header == ["epoch", "loss", "accuracy", "time", "val_loss", "val_accuracy"]
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["val_loss"] == "" and float(rows[2]["val_loss"]) == trainer.history.last("val_loss")
    trainer.fit(loader, epochs=1, callbacks=CSVLogger(path, separator="\t"), verbose=False)
    assert [r["epoch"] for r in _read_csv(path, "\t")[1]] == ["4"]  # append=False starts afresh


def test_csv_logger_file_is_complete_after_every_epoch(dl, blobs, tmp_path):
    path = tmp_path / "log.csv"
    seen = []

    class Reader(Callback):
        def on_epoch_end(self, epoch, logs):
            seen.append(len(_read_csv(path)[1]))

    trainer, loader = _classifier(dl, blobs)
    trainer.fit(loader, epochs=3, callbacks=[CSVLogger(path), Reader()], verbose=False)
    assert seen == [1, 2, 3]


# --------------------------------------------------------------- bad input
def test_early_stopping_without_the_monitored_key(dl, blobs):
    trainer, loader = _classifier(dl, blobs)
    with pytest.raises(KeyError, match=r"monitors `val_loss`, which the logs do not have. "
                                       r"Available: \['accuracy', 'loss', 'time'\]"):
        trainer.fit(loader, callbacks=[EarlyStopping()], verbose=False)
    assert trainer.num_updates == 0  # known before training: there is no validation data
    with pytest.raises(KeyError, match=r"monitors `loss_`, which the logs do not have"):
        trainer.fit(loader, callbacks=[EarlyStopping("loss_", mode="min")], verbose=False)


BAD_INPUTS = [
    (lambda: EarlyStopping(patience=-1), ValueError, r"`patience` >= 0, got -1"),
    (lambda: EarlyStopping(patience=1.5), TypeError, r"`patience` to be an integer"),
    (lambda: EarlyStopping(mode="up"), ValueError, r"Unknown `mode` 'up'. Expected one of: 'auto', 'max', 'min'"),
    (lambda: EarlyStopping(mode=None), ValueError, r"Unknown `mode` None"),
    (lambda: EarlyStopping(min_delta=-0.1), ValueError, r"`min_delta` >= 0, got -0.1: it is the smallest change that counts as an improvement"),
    (lambda: EarlyStopping(min_delta="0.1"), TypeError, r"`min_delta` as a number >= 0, got '0.1' \(str\)"),
    (lambda: EarlyStopping(monitor=3), TypeError, r"`monitor` as the name of a log key such as 'val_loss' or 'val_accuracy', got 3 \(int\)"),
    (lambda: EarlyStopping(monitor=""), TypeError, r"`monitor` as the name of a log key"),
    (lambda: ModelCheckpoint(3), TypeError, r"`filepath` as a file or folder name \(str or pathlib.Path\), got 3 \(int\)"),
    (lambda: ModelCheckpoint("m.npz", mode="best"), ValueError, r"Unknown `mode` 'best'"),
    (lambda: CSVLogger(None), TypeError, r"`filename` as a file or folder name"),
    (lambda: CSVLogger("log.csv", separator=", "), ValueError, r"`separator` as one character such as ',', got ', '"),
]


@pytest.mark.parametrize("call, error, pattern", BAD_INPUTS)
def test_bad_input_raises_a_clear_error(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_csv_logger_needs_its_folder_before_any_update(dl, blobs, tmp_path):
    trainer, loader = _classifier(dl, blobs)
    with pytest.raises(FileNotFoundError, match=r"The folder of `filename` does not exist"):
        trainer.fit(loader, callbacks=CSVLogger(tmp_path / "no" / "log.csv"), verbose=False)
    assert trainer.num_updates == 0


def test_the_callbacks_are_exported_by_the_core_and_both_layers(dl):
    import dlbook

    for name in ("ModelCheckpoint", "CSVLogger", "EarlyStopping", "ProgressBar"):
        assert getattr(dl, name) is getattr(callbacks, name) is getattr(dlbook, name)
        assert name in dl.__all__ and name in dlbook.__all__


def test_verbose_auto_plots_in_a_notebook_and_prints_elsewhere(dl, blobs, monkeypatch, capsys):
    """The default display is chosen by ``in_notebook`` as ``fit`` looks it up, not a stand-in.

    Only ``dlbook.callbacks.in_notebook`` is patched: a module that had bound its own
    reference (``from .callbacks import in_notebook``) would still pick the ProgressBar,
    and the attached callbacks below would say so.
    """
    from dlbook import training

    shown, attached = [], []

    class Spy(training.CallbackList):  # records the callbacks of every run
        def __init__(self, cbs, trainer):
            super().__init__(cbs, trainer)
            attached.append({type(cb).__name__ for cb in self.callbacks})

    use_korean_font()
    monkeypatch.setattr(training, "CallbackList", Spy)
    monkeypatch.setattr(IPython.display, "display",
                        lambda fig, display_id: shown.append(len(fig.axes)) or None)
    trainer, loader = _classifier(dl, blobs)
    trainer.fit(loader, epochs=1)  # not a notebook: a line per epoch
    assert "ProgressBar" in attached[-1] and "LivePlot" not in attached[-1]
    assert shown == [] and capsys.readouterr().out.startswith("epoch 1/1 - ")
    monkeypatch.setattr(callbacks, "in_notebook", lambda: True)
    trainer.fit(loader, epochs=1)
    assert "LivePlot" in attached[-1] and "ProgressBar" not in attached[-1]
    assert shown == [2] and capsys.readouterr().out == ""  # one figure of two panels, no text
