"""Callbacks: what happens around training without changing the step itself.

Both layers' ``Trainer.fit`` call the same hooks, in this order::

    on_train_begin(epochs, num_batches)
        on_epoch_begin(epoch, logs)
            on_train_batch_begin(batch, logs) / on_train_batch_end(batch, logs)   per batch
            on_test_batch_begin(batch, logs) / on_test_batch_end(batch, logs)     validation
        on_epoch_end(epoch, logs)
    on_train_end(history)

Epochs and batches are counted from 1. The epoch logs map each metric to a
float (``loss``, ``accuracy``, ``val_loss``, ..., ``time``). A batch's logs
(:class:`~dlbook.training.BatchLogs`) hold that batch's ``loss`` and metrics
as device scalars and convert one only when it is read: reading it makes the
host wait for the device, so a callback that reads every batch slows training
down (:class:`ProgressBar` reads them only to redraw its bar in a terminal,
about 50 times an epoch).

The trainer's own bookkeeping is made of callbacks too: :class:`History`
records the epoch logs and :class:`TerminateOnNaN` stops a diverging run;
:class:`LearningRateScheduler` is how ``lr_schedule=`` sets the rate before
every update. Progress display, live plots, early stopping
(:class:`EarlyStopping`), saving the best model (:class:`ModelCheckpoint`) and
logging to a file (:class:`CSVLogger`) are callbacks the user may pass, as in Keras.
"""
import csv
import inspect
import io
import math
import os
import sys
import time
import warnings
from pathlib import Path

from ._checks import check_bool, check_choice, check_int, check_number, check_path, describe
from ._files import atomic_open

__all__ = ["Callback", "History", "TerminateOnNaN", "LearningRateScheduler", "ProgressBar",
           "LivePlot", "EarlyStopping", "ModelCheckpoint", "CSVLogger", "in_notebook"]


def in_notebook():
    """True inside a Jupyter kernel (where rich output such as figures is shown).

    Examples
    --------
    >>> from dlbook.callbacks import in_notebook
    >>> in_notebook()  # doctests run outside Jupyter
    False
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    # Jupyter's kernel shell, or a subclass of it (Google Colab's)
    return shell is not None and any(cls.__name__ == "ZMQInteractiveShell"
                                     for cls in type(shell).__mro__)


class Callback:
    """Base class; override the hooks you need. ``self.trainer`` is set by the trainer.

    A hook the subclass does not override costs nothing: the trainer calls only
    the overridden ones. ``on_batch_end(batch)`` of dlbook 0.1 still works (it is
    called by the default ``on_train_batch_end``), and so does an
    ``on_epoch_begin(epoch)`` without ``logs``.

    Examples
    --------
    >>> from dlbook.mxnet import Callback, Trainer, mlp, load_array, xor_data
    >>> class CountEpochs(Callback):
    ...     def __init__(self):
    ...         self.seen = []
    ...     def on_epoch_end(self, epoch, logs):
    ...         self.seen.append(epoch)
    >>> counter = CountEpochs()
    >>> trainer = Trainer(mlp(hidden=4, num_outputs=2), loss="cross_entropy")
    >>> _ = trainer.fit(load_array(xor_data(), batch_size=4), epochs=3,
    ...                 callbacks=[counter], verbose=False)
    >>> counter.seen
    [1, 2, 3]
    """

    trainer = None

    def on_train_begin(self, epochs, num_batches):
        """Before the first epoch; ``num_batches`` per epoch is None for a loader without a length."""

    def on_train_end(self, history):
        """After the last epoch, with the trainer's :class:`History`."""

    def on_epoch_begin(self, epoch, logs=None):
        """Before epoch ``epoch`` (counted from 1); ``logs`` is an empty dict."""

    def on_epoch_end(self, epoch, logs):
        """After an epoch, with ``logs`` mapping each metric to its value."""

    def on_train_batch_begin(self, batch, logs=None):
        """Before the update with training batch ``batch`` (counted from 1 in each epoch)."""

    def on_train_batch_end(self, batch, logs=None):
        """After the update with batch ``batch``; ``logs`` holds the batch's loss and metrics, lazily."""
        self.on_batch_end(batch)

    def on_batch_end(self, batch):
        """dlbook 0.1's name of ``on_train_batch_end``, without logs (kept for old callbacks)."""

    def on_test_batch_begin(self, batch, logs=None):
        """Before validation or evaluation batch ``batch``."""

    def on_test_batch_end(self, batch, logs=None):
        """After validation or evaluation batch ``batch``, with its loss and metrics, lazily."""


#: Every hook, in the order of a training run.
HOOKS = ("on_train_begin", "on_epoch_begin", "on_train_batch_begin", "on_train_batch_end",
         "on_test_batch_begin", "on_test_batch_end", "on_epoch_end", "on_train_end")


def overrides(callback, hook):
    """Whether ``callback`` does something in ``hook`` (the base class's hooks do nothing).

    Examples
    --------
    >>> from dlbook.callbacks import Callback, ProgressBar, overrides
    >>> overrides(ProgressBar(), "on_epoch_end"), overrides(Callback(), "on_epoch_end")
    (True, False)
    """
    mine = getattr(type(callback), hook, None)
    if mine is not getattr(Callback, hook) or hook in vars(callback):
        return True
    return hook == "on_train_batch_end" and overrides(callback, "on_batch_end")


def _takes_logs(method):
    """Whether ``method(epoch, logs)`` binds (dlbook 0.1's ``on_epoch_begin(epoch)`` does not)."""
    try:
        inspect.signature(method).bind(1, {})
    except TypeError:
        return False
    except ValueError:  # no signature (a builtin): assume the current one
        return True
    return True


class History(Callback):
    """Per-epoch values recorded by ``Trainer.fit``: the callback every trainer holds.

    The trainer's ``history`` grows over repeated calls of ``fit``; an epoch
    whose loss is not finite is not recorded.

    Attributes
    ----------
    history : dict of str to list of float
        For each metric (``loss``, ``accuracy``, ``val_loss``, ..., ``time``) its
        value after every epoch.
    epoch : list of int
        The epochs recorded, counted from 1.

    Examples
    --------
    >>> from dlbook.callbacks import History
    >>> h = History()
    >>> h.append(1, {"loss": 0.9})
    >>> h.append(2, {"loss": 0.5})
    >>> h["loss"], h.last("loss")
    ([0.9, 0.5], 0.5)
    """

    def __init__(self):
        self.history = {}
        self.epoch = []

    def append(self, epoch, logs):
        """Record the logs of one epoch."""
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    def on_epoch_end(self, epoch, logs):
        self.append(epoch, logs)

    def __getitem__(self, key):
        if key not in self.history:
            raise KeyError(f"No metric `{key}` in the history. Available: {sorted(self.history)}.")
        return self.history[key]

    def last(self, key):
        """The value of ``key`` after the last epoch."""
        return self[key][-1]

    def __len__(self):
        return len(self.epoch)

    def __repr__(self):
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if k != "time")
        return f"History(epochs={len(self)}, {last})"


class TerminateOnNaN(Callback):
    """Raise ``FloatingPointError`` when an epoch's training loss is NaN or infinite.

    The trainer always runs it first at the end of an epoch, so the bad epoch
    is not recorded. It keeps each batch's loss on the device and looks at
    them only when the epoch's loss is bad, to name the first bad batch: a
    finite run pays no synchronization for it. Unlike Keras' callback of the
    same name, it raises (the parameters are no longer usable) instead of
    ending training quietly.

    Examples
    --------
    >>> from dlbook.callbacks import TerminateOnNaN
    >>> from dlbook.training import BatchLogs
    >>> guard = TerminateOnNaN()
    >>> guard.on_train_begin(epochs=1, num_batches=2)
    >>> guard.on_epoch_begin(1)
    >>> guard.on_train_batch_end(1, BatchLogs(2, {"loss": 1.0}))
    >>> guard.on_train_batch_end(2, BatchLogs(2, {"loss": float("inf")}))
    >>> guard.on_epoch_end(1, {"loss": float("inf")})
    Traceback (most recent call last):
    ...
    FloatingPointError: The training loss became inf in epoch 1, batch 2 of 2. Training stopped (the parameters are no longer usable); try a smaller `learning_rate`, scaled inputs or gradient clipping.
    """

    def on_train_begin(self, epochs, num_batches):
        self.num_batches = num_batches

    def on_epoch_begin(self, epoch, logs=None):
        self._batches = []

    def on_train_batch_end(self, batch, logs=None):
        self._batches.append(logs)  # device scalars: nothing is read here

    def on_epoch_end(self, epoch, logs):
        loss = logs["loss"]
        if math.isfinite(loss):
            return
        where = f"epoch {epoch}"
        bad = [k for k, b in enumerate(self._batches, start=1)
               if b is not None and not math.isfinite(b["loss"])]
        if bad:
            where += f", batch {bad[0]} of {self.num_batches if self.num_batches else '?'}"
        raise FloatingPointError(
            f"The training loss became {loss} in {where}. Training stopped "
            "(the parameters are no longer usable); try a smaller `learning_rate`, "
            "scaled inputs or gradient clipping."
        )


class LearningRateScheduler(Callback):
    """Set the learning rate before every update from a schedule; what ``lr_schedule=`` adds.

    The rate of update ``t`` (counted over all ``fit`` calls, ``trainer.num_updates``)
    is ``trainer.base_learning_rate * schedule(t)``. Lengths the schedule left
    as ``None`` are fixed by the first ``fit`` (see :mod:`dlbook.schedules`).

    Parameters
    ----------
    schedule : str or dlbook.schedules.Schedule

    Examples
    --------
    >>> from dlbook.mxnet import Trainer, mlp, load_array, xor_data
    >>> from dlbook.schedules import StepDecay
    >>> trainer = Trainer(mlp(hidden=4, num_outputs=2), loss="cross_entropy",
    ...                   learning_rate=0.4, lr_schedule=StepDecay(step_size=3, gamma=0.5))
    >>> _ = trainer.fit(load_array(xor_data(), batch_size=2), epochs=2, verbose=False)
    >>> trainer.num_updates, trainer.learning_rate  # the 4th update used 0.4 * 0.5
    (4, 0.2)
    """

    def __init__(self, schedule):
        from .schedules import get_schedule

        self.schedule = get_schedule(schedule)

    def on_train_begin(self, epochs, num_batches):
        self.schedule.resolve(epochs * num_batches if num_batches else None, num_batches)

    def on_train_batch_begin(self, batch, logs=None):
        trainer = self.trainer
        trainer.set_learning_rate(trainer.base_learning_rate * self.schedule(trainer.num_updates))

    def __repr__(self):
        return f"LearningRateScheduler({self.schedule!r})"


def format_seconds(seconds):
    """A duration as the progress line shows it: ``0.4s``, ``12.0s``, ``3m05s``, ``1h02m``.

    Examples
    --------
    >>> from dlbook.callbacks import format_seconds
    >>> format_seconds(0.42), format_seconds(185), format_seconds(3725)
    ('0.4s', '3m05s', '1h02m')
    """
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
    return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"


class ProgressBar(Callback):
    """Print progress as Keras does: a bar during each epoch in a terminal, then one line per epoch.

    The line after each epoch reads::

        epoch 4/5 - 0.8s - 1,500 examples/s - ETA 0.8s - loss 0.4123 - accuracy 0.8500 - val_loss ...

    the epoch, its time (training and validation), training examples per
    second, the time left for the remaining epochs of this ``fit`` (from the
    mean epoch time; not on the last one), then every log value. Epochs count
    over all calls of ``fit``, as Keras' ``initial_epoch`` does: after 3
    epochs, ``fit(..., epochs=2)`` shows ``epoch 4/5`` and ``epoch 5/5``.

    In a terminal, a bar is redrawn about 50 times an epoch with the batch
    count, the time left in the epoch, examples per second and the running
    means of the loss and the metrics. Reading those makes the host wait for
    the device at each redraw; without a terminal nothing is read per batch.

    Parameters
    ----------
    stream : file-like, default sys.stdout
    bar : bool, optional
        Draw the bar inside the epoch (default: when ``stream`` is a terminal).

    Examples
    --------
    >>> import io
    >>> from dlbook.mxnet import ProgressBar, Trainer, mlp, xor_data
    >>> out = io.StringIO()
    >>> trainer = Trainer(mlp(hidden=4, num_outputs=2), loss="cross_entropy")
    >>> X, y = xor_data()
    >>> _ = trainer.fit(X, y, epochs=2, callbacks=ProgressBar(stream=out), verbose=False)
    >>> _ = trainer.fit(X, y, epochs=1, callbacks=ProgressBar(stream=out), verbose=False)
    >>> [line.split(" - ")[0] for line in out.getvalue().splitlines()]  # a second fit continues
    ['epoch 1/2', 'epoch 2/2', 'epoch 3/3']
    >>> out.getvalue().splitlines()[0].split(" - ")[2:4]  # doctest: +SKIP
    ['52 examples/s', 'ETA 0.1s']
    """

    def __init__(self, stream=None, bar=None):
        self.stream = stream or sys.stdout
        self.bar = self.stream.isatty() if bar is None else check_bool("bar", bar)

    def on_train_begin(self, epochs, num_batches):
        self.epochs, self.num_batches = epochs, num_batches
        self._every = max(1, (num_batches or 1) // 50)
        self._first, self._times = None, []

    @property
    def last_epoch(self):
        """The number of the last epoch of this ``fit`` (the denominator of ``epoch 4/5``)."""
        return (self._first or 1) - 1 + self.epochs

    def on_epoch_begin(self, epoch, logs=None):
        if self._first is None:
            self._first = epoch
        self._epoch, self._start = epoch, time.perf_counter()
        self._seen, self._sums, self._drawn, self._train_end = 0, {}, 0, None

    def on_train_batch_end(self, batch, logs=None):
        self._train_end = time.perf_counter()
        self._seen += getattr(logs, "size", 0)
        if not self.bar:
            return
        if hasattr(logs, "raw"):  # running sums, kept on the device until a redraw reads them
            for key in logs:
                raw = logs.raw(key)
                if hasattr(raw, "__add__"):
                    self._sums[key] = raw if key not in self._sums else self._sums[key] + raw
        if self.num_batches and (batch % self._every == 0 or batch == self.num_batches):
            self._draw(batch)

    def _draw(self, batch):
        done = int(30 * batch / self.num_batches)
        text = (f"epoch {self._epoch}/{self.last_epoch} [{'=' * done}{'.' * (30 - done)}] "
                f"{batch}/{self.num_batches}")
        elapsed = self._train_end - self._start
        if batch < self.num_batches:
            text += f" - ETA {format_seconds(elapsed / batch * (self.num_batches - batch))}"
        if self._seen and elapsed > 0:
            text += f" - {self._seen / elapsed:,.0f} examples/s"
        for key, total in self._sums.items():
            value = total.item() if hasattr(total, "item") else total
            text += f" - {key} {float(value) / self._seen:.4f}"
        self.stream.write("\r" + text.ljust(self._drawn))
        self.stream.flush()
        self._drawn = max(self._drawn, len(text))  # the width the screen shows

    def on_epoch_end(self, epoch, logs):
        seconds = logs.get("time", time.perf_counter() - self._start)
        self._times.append(seconds)
        parts = [f"epoch {epoch}/{self.last_epoch}", format_seconds(seconds)]
        train_time = (self._train_end or time.perf_counter()) - self._start
        if self._seen and train_time > 0:
            parts.append(f"{self._seen / train_time:,.0f} examples/s")
        left = self.last_epoch - epoch
        if left > 0:
            parts.append(f"ETA {format_seconds(sum(self._times) / len(self._times) * left)}")
        parts += [f"{k} {v:.4f}" for k, v in logs.items() if k != "time"]
        line = " - ".join(parts)
        self.stream.write(("\r" + line.ljust(self._drawn) if self.bar else line) + "\n")
        self.stream.flush()


class LivePlot(Callback):
    """Redraw the learning curves after every epoch inside a notebook.

    The figure is updated in place, so a notebook (and the book built from it)
    keeps exactly one static figure with the final curves. Outside a notebook
    (a plain script) it shows nothing and says so with a warning when training
    starts: print progress there (``verbose=True``) and draw the curves after
    training with ``plot_history(history)``.

    Parameters
    ----------
    metrics : sequence of str, optional
        Which history keys to draw (default: all but ``time``).

    Examples
    --------
    >>> import warnings
    >>> from dlbook.mxnet import LivePlot, Trainer, mlp, load_array, xor_data
    >>> trainer = Trainer(mlp(hidden=4, num_outputs=2), loss="cross_entropy")
    >>> with warnings.catch_warnings(record=True) as caught:  # doctests run outside Jupyter
    ...     warnings.simplefilter("always")
    ...     _ = trainer.fit(load_array(xor_data(), batch_size=4), epochs=2,
    ...                     callbacks=[LivePlot()], verbose=False)
    >>> print(caught[0].message)
    LivePlot (verbose='plot') draws in a Jupyter notebook only; outside one it shows nothing. Print progress with verbose=True and draw the curves after training with plot_history(history).
    """

    def __init__(self, metrics=None):
        self.metrics = metrics
        self._handle = None

    def on_train_begin(self, epochs, num_batches):
        if not in_notebook():
            warnings.warn(
                "LivePlot (verbose='plot') draws in a Jupyter notebook only; outside one it shows "
                "nothing. Print progress with verbose=True and draw the curves after training "
                "with plot_history(history).", UserWarning, stacklevel=2)

    def on_epoch_end(self, epoch, logs):
        if not in_notebook():
            return
        import matplotlib.pyplot as plt
        from IPython.display import display

        from .plot import plot_history

        fig = plot_history(self.trainer.history, metrics=self.metrics)
        if self._handle is None:
            self._handle = display(fig, display_id=True)
        else:
            self._handle.update(fig)
        plt.close(fig)

    def on_train_end(self, history):
        self._handle = None


#: Whether smaller or larger is better, by metric name (``val_`` stripped), for mode='auto'.
_DIRECTIONS = {"loss": "min", "accuracy": "max", "mse": "min", "mae": "min", "perplexity": "min"}


class _Monitor:
    """What EarlyStopping and ModelCheckpoint share: a monitored log key, its direction, min_delta."""

    def _init_monitor(self, monitor, mode, min_delta):
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(
                "Expected `monitor` as the name of a log key such as 'val_loss' or "
                f"'val_accuracy', got {describe(monitor)}.")
        self.monitor = monitor
        self.mode = check_choice("mode", mode, {"auto", "min", "max"})
        self.min_delta = check_number(
            "min_delta", min_delta, minimum=0, why="it is the smallest change that counts as an "
            "improvement, in the direction that `mode` gives")
        key = monitor[4:] if monitor.startswith("val_") else monitor
        #: 'min' or 'max'; for mode='auto' found from the monitored metric (None until known).
        self.direction = mode if mode != "auto" else _DIRECTIONS.get(key)

    def _start_monitoring(self):
        """At the start of training: find the direction, and check that the key will be there."""
        trainer = self.trainer
        if self.direction is None:
            key = self.monitor[4:] if self.monitor.startswith("val_") else self.monitor
            for metric in getattr(trainer, "_metrics", ()):
                if metric.name == key and metric.greater_is_better is not None:
                    self.direction = "max" if metric.greater_is_better else "min"
            if self.direction is None:
                raise ValueError(
                    f"{type(self).__name__} cannot tell whether `{self.monitor}` should go down "
                    "or up: pass mode='min' or mode='max'.")
        keys = getattr(trainer, "_log_keys", None)  # what this fit's epochs will log
        if keys is not None and self.monitor.startswith("val_") and self.monitor not in keys:
            raise self._missing(keys)

    def _missing(self, keys):
        return KeyError(
            f"{type(self).__name__} monitors `{self.monitor}`, which the logs do not have. "
            f"Available: {sorted(keys)}. Pass validation data or change `monitor`.")

    def _monitored(self, logs):
        if self.monitor not in logs:
            raise self._missing(logs)
        return logs[self.monitor]

    def _improves(self, value, best):
        if best is None:
            return not math.isnan(value)
        if self.direction == "min":
            return value < best - self.min_delta
        return value > best + self.min_delta


class EarlyStopping(_Monitor, Callback):
    """Stop training when a monitored value has stopped improving, as Keras' callback does.

    Training stops after ``patience`` epochs in a row without improvement:
    with the best value at epoch ``t``, ``patience=2`` stops at the end of
    epoch ``t + 2`` unless epoch ``t + 1`` or ``t + 2`` improves on it
    (``patience=0`` stops at the first epoch without improvement, like
    ``patience=1``, as in Keras and Lightning). The count starts afresh in
    every ``fit``.

    Parameters
    ----------
    monitor : str, default 'val_loss'
        A key of the epoch logs (``'val_loss'``, ``'val_accuracy'``, ``'loss'``, ...).
    patience : int, default 3
        Epochs in a row without improvement before stopping.
    min_delta : float, default 0.0
        The smallest change (>= 0) that counts as an improvement.
    mode : {'auto', 'min', 'max'}, default 'auto'
        Whether smaller or larger is better. ``'auto'`` takes it from the
        metric: larger for accuracy, smaller for the loss, errors and perplexity, and a
        Metric's ``greater_is_better``; it raises when it cannot tell.
    restore_best_weights : bool, default True
        When stopping, put back the parameters of the best epoch. Unlike
        Keras (default False), this is the default: the book teaches early
        stopping as choosing the best epoch. As in Keras, a run that ends
        without stopping keeps its last parameters.

    Attributes
    ----------
    best, best_epoch : float, int
        The best value and its epoch.
    stopped_epoch : int or None
        The epoch after which training stopped (None if it did not).

    Raises
    ------
    KeyError
        When training starts (before any update) if ``monitor`` is a
        ``val_`` key and ``fit`` has no validation data, else at the end of an
        epoch whose logs lack ``monitor``.

    Examples
    --------
    >>> from dlbook.mxnet import EarlyStopping, Trainer, mlp, load_array, xor_data
    >>> data = load_array(xor_data(), batch_size=4, shuffle=False)
    >>> stop = EarlyStopping(monitor="val_loss", patience=1)
    >>> trainer = Trainer(mlp(hidden=4, num_outputs=2), loss="cross_entropy",
    ...                   learning_rate=50.0)  # far too large: the loss jumps around
    >>> history = trainer.fit(data, epochs=30, validation_data=data,
    ...                       callbacks=stop, verbose=False)
    >>> stop.stopped_epoch == stop.best_epoch + 1 == len(history) < 30
    True
    >>> EarlyStopping(monitor="val_accuracy").direction  # mode='auto': larger is better
    'max'
    """

    def __init__(self, monitor="val_loss", patience=3, min_delta=0.0, mode="auto",
                 restore_best_weights=True):
        self._init_monitor(monitor, mode, min_delta)
        self.patience = check_int("patience", patience, minimum=0)
        self.restore_best_weights = check_bool("restore_best_weights", restore_best_weights)
        self.best, self.best_epoch, self.stopped_epoch = None, None, None

    def on_train_begin(self, epochs, num_batches):
        self._start_monitoring()
        self.best, self.best_epoch, self.wait, self._weights = None, None, 0, None
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs):
        value = self._monitored(logs)
        if self._improves(value, self.best):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self._weights = self.trainer._copy_weights()  # a copy on the device
            return
        self.wait += 1
        if self.wait >= max(self.patience, 1):
            self.stopped_epoch = epoch
            self.trainer.stop_training = True
            if self.restore_best_weights and self._weights is not None:
                self.trainer._restore_weights(self._weights)

    def __repr__(self):
        return (f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
                f"min_delta={self.min_delta}, mode={self.mode!r}, "
                f"restore_best_weights={self.restore_best_weights})")


def _check_folder(name, path):
    folder = Path(path).parent
    if "{" not in str(folder) and not folder.is_dir():
        raise FileNotFoundError(f"The folder of `{name}` does not exist: {folder}. Create it first.")


def _is_chief(trainer):
    """Whether this process writes files (the first worker of a distributed run)."""
    return getattr(trainer, "rank", 0) == 0


class ModelCheckpoint(_Monitor, Callback):
    """Save the trainer after every epoch, or only when the monitored value improves, as Keras does.

    Each file is a dlbook checkpoint (:mod:`dlbook.checkpoint`: parameters,
    optimizer state and history, written atomically) that the layer's
    ``load_checkpoint(path, trainer)`` reads back, e.g. to get the best
    epoch's model after training, or to resume it.

    Parameters
    ----------
    filepath : str or Path
        Where to save (conventionally ``*.npz``); its folder must exist. It may
        name the epoch and log values, e.g. ``'run-{epoch:02d}-{val_loss:.3f}.npz'``;
        a fixed name is overwritten.
    monitor : str, default 'val_loss'
        The log key that decides what is best (with ``save_best_only``).
    mode : {'auto', 'min', 'max'}, default 'auto'
        As in :class:`EarlyStopping`.
    save_best_only : bool, default False
        Save only after an epoch that improves on the best so far (over all
        ``fit`` calls with this callback), else after every epoch.
    min_delta : float, default 0.0
        The smallest change that counts as an improvement.
    verbose : bool, default False
        Print a line for each file saved.

    Attributes
    ----------
    best, best_epoch : float, int
        The best monitored value so far and its epoch (with ``save_best_only``).
    last_saved : str or None
        The path of the last file saved.

    Examples
    --------
    >>> import os, tempfile
    >>> from dlbook.torch import ModelCheckpoint, Trainer, load_checkpoint, mlp, xor_data
    >>> X, y = xor_data(num_examples=40)
    >>> path = os.path.join(tempfile.mkdtemp(), "best.npz")
    >>> best = ModelCheckpoint(path, monitor="val_loss", save_best_only=True)
    >>> trainer = Trainer(mlp(hidden=4, num_outputs=2), "cross_entropy", optimizer="adam")
    >>> _ = trainer.fit(X, y, epochs=5, validation_split=0.25, callbacks=best, verbose=False)
    >>> fresh = Trainer(mlp(hidden=4, num_outputs=2), "cross_entropy", optimizer="adam")
    >>> load_checkpoint(path, fresh)  # the model of the best epoch, with its history
    >>> len(fresh.history) == best.best_epoch, fresh.history.last("val_loss") == best.best
    (True, True)
    """

    def __init__(self, filepath, monitor="val_loss", mode="auto", save_best_only=False,
                 min_delta=0.0, verbose=False):
        check_path("filepath", filepath)
        self.filepath = os.fspath(filepath)
        self._init_monitor(monitor, mode, min_delta)
        self.save_best_only = check_bool("save_best_only", save_best_only)
        self.verbose = check_bool("verbose", verbose)
        self.best, self.best_epoch, self.last_saved = None, None, None

    def on_train_begin(self, epochs, num_batches):
        _check_folder("filepath", self.filepath)
        if self.save_best_only:
            self._start_monitoring()

    def _path(self, epoch, logs):
        try:
            return self.filepath.format(epoch=epoch, **logs)
        except KeyError as err:
            raise KeyError(
                f"`filepath` {self.filepath!r} names {err}, which the logs do not have. "
                f"Available: {['epoch', *sorted(logs)]}.") from None

    def on_epoch_end(self, epoch, logs):
        if self.save_best_only:
            value = self._monitored(logs)
            if not self._improves(value, self.best):
                return
            self.best, self.best_epoch = value, epoch
        path = self._path(epoch, logs)
        if _is_chief(self.trainer):
            from .checkpoint import save

            save(path, self.trainer)
            if self.verbose:
                best = f" ({self.monitor} {self.best:.4f}, the best so far)" if self.save_best_only else ""
                print(f"epoch {epoch}: saved {path}{best}")
        self.last_saved = path


class CSVLogger(Callback):
    """Write the logs of every epoch to a CSV file: one row per epoch, a header of the log keys.

    The columns are ``epoch`` and the log keys in the order they first appear
    (``loss``, the metrics, ``val_...``, ``time``); a key that appears later
    (validation in a second ``fit``) adds a column, left empty in earlier rows.
    The file is rewritten after every epoch atomically (a temporary file in the
    same folder, renamed over it), so it is always complete, also after a crash
    mid-write; it can be read with ``pandas.read_csv`` during training.

    Parameters
    ----------
    filename : str or Path
        The CSV file; its folder must exist.
    separator : str, default ','
    append : bool, default False
        Keep the rows already in the file (e.g. from a run that is resumed),
        else start the file afresh when training starts.

    Examples
    --------
    >>> import csv, os, tempfile
    >>> from dlbook.mxnet import CSVLogger, Trainer, mlp, xor_data
    >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
    >>> trainer = Trainer(mlp(hidden=4, num_outputs=2), "cross_entropy", metrics="accuracy")
    >>> X, y = xor_data()
    >>> _ = trainer.fit(X, y, epochs=2, callbacks=CSVLogger(path), verbose=False)
    >>> with open(path, newline="") as f:
    ...     rows = list(csv.DictReader(f))
    >>> list(rows[0]), [row["epoch"] for row in rows]
    (['epoch', 'loss', 'accuracy', 'time'], ['1', '2'])
    >>> float(rows[1]["loss"]) == trainer.history["loss"][1]
    True
    """

    def __init__(self, filename, separator=",", append=False):
        check_path("filename", filename)
        self.filename = os.fspath(filename)
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"Expected `separator` as one character such as ',', got {separator!r}.")
        self.separator = separator
        self.append = check_bool("append", append)
        self._keys, self._rows = ["epoch"], []

    def on_train_begin(self, epochs, num_batches):
        _check_folder("filename", self.filename)
        path = Path(self.filename)
        self._keys, self._rows = ["epoch"], []
        if self.append and path.is_file():
            with open(path, newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f, delimiter=self.separator)
                self._rows = list(reader)
                self._keys = list(reader.fieldnames or ["epoch"])

    def on_epoch_end(self, epoch, logs):
        self._keys += [k for k in logs if k not in self._keys]
        self._rows.append({"epoch": epoch, **logs})
        if _is_chief(self.trainer):
            self._write()

    def _write(self):
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=self._keys, delimiter=self.separator,
                                restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(self._rows)
        with atomic_open(self.filename, "w", encoding="utf-8", newline="") as f:
            f.write(text.getvalue())
