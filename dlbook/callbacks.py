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
down (:class:`ProgressBar` does not read them).

The trainer's own bookkeeping is made of callbacks too: :class:`History`
records the epoch logs and :class:`TerminateOnNaN` stops a diverging run;
:class:`LearningRateScheduler` is how ``lr_schedule=`` sets the rate before
every update. Progress display, live plots and early stopping are callbacks
the user may pass.
"""
import inspect
import math
import sys
import time

__all__ = ["Callback", "History", "TerminateOnNaN", "LearningRateScheduler", "ProgressBar",
           "LivePlot", "EarlyStopping", "in_notebook"]


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
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


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


class ProgressBar(Callback):
    """Print one line per epoch with its metrics; in a terminal, a bar during the epoch.

    Parameters
    ----------
    stream : file-like, default sys.stdout
    bar : bool, optional
        Draw the bar inside the epoch (default: when ``stream`` is a terminal).

    Examples
    --------
    >>> import io
    >>> from dlbook.mxnet import ProgressBar, Trainer, mlp, load_array, xor_data
    >>> out = io.StringIO()
    >>> trainer = Trainer(mlp(hidden=4, num_outputs=2), loss="cross_entropy")
    >>> _ = trainer.fit(load_array(xor_data(), batch_size=4), epochs=2,
    ...                 callbacks=[ProgressBar(stream=out)], verbose=False)
    >>> [line.split(" - ")[0] for line in out.getvalue().splitlines()]
    ['epoch 1/2', 'epoch 2/2']
    """

    def __init__(self, stream=None, bar=None):
        self.stream = stream or sys.stdout
        self.bar = self.stream.isatty() if bar is None else bool(bar)

    def on_train_begin(self, epochs, num_batches):
        self.epochs, self.num_batches = epochs, num_batches
        self._every = max(1, (num_batches or 1) // 50)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._start = epoch, time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if self.bar and self.num_batches and (batch % self._every == 0 or batch == self.num_batches):
            done = int(30 * batch / self.num_batches)
            self.stream.write(f"\repoch {self._epoch}/{self.epochs} "
                              f"[{'=' * done}{'.' * (30 - done)}] {batch}/{self.num_batches}")
            self.stream.flush()

    def on_epoch_end(self, epoch, logs):
        metrics = " - ".join(f"{k} {v:.4f}" for k, v in logs.items() if k != "time")
        line = f"epoch {epoch}/{self.epochs} - {logs.get('time', 0.0):.1f}s - {metrics}"
        self.stream.write(("\r" if self.bar else "") + line + "\n")
        self.stream.flush()


class LivePlot(Callback):
    """Redraw the learning curves after every epoch inside a notebook.

    The figure is updated in place, so a notebook (and the book built from it)
    keeps exactly one static figure with the final curves. Outside a notebook it
    does nothing.

    Parameters
    ----------
    metrics : sequence of str, optional
        Which history keys to draw (default: all but ``time``).

    Examples
    --------
    >>> from dlbook.mxnet import LivePlot, Trainer, mlp, load_array, xor_data
    >>> trainer = Trainer(mlp(hidden=4, num_outputs=2), loss="cross_entropy")
    >>> history = trainer.fit(load_array(xor_data(), batch_size=4), epochs=2,
    ...                       callbacks=[LivePlot()], verbose=False)  # draws in Jupyter only
    >>> len(history)
    2
    """

    def __init__(self, metrics=None):
        self.metrics = metrics
        self._handle = None

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


class EarlyStopping(Callback):
    """Stop training when a monitored metric has stopped improving.

    Parameters
    ----------
    monitor : str, default 'val_loss'
        A key of the epoch logs.
    patience : int, default 3
        Epochs without improvement before stopping.
    min_delta : float, default 0.0
        Smallest change that counts as an improvement.
    mode : {'min', 'max'}, optional
        Whether smaller or larger is better (default: 'max' for accuracy, else 'min').
    restore_best_weights : bool, default True
        Put back the parameters of the best epoch when stopping.

    Examples
    --------
    >>> from dlbook.mxnet import EarlyStopping, Trainer, mlp, load_array, xor_data
    >>> data = load_array(xor_data(), batch_size=4, shuffle=False)
    >>> stop = EarlyStopping(monitor="val_loss", patience=1)
    >>> trainer = Trainer(mlp(hidden=4, num_outputs=2), loss="cross_entropy",
    ...                   learning_rate=50.0)  # far too large: the loss jumps around
    >>> history = trainer.fit(data, epochs=30, validation_data=data,
    ...                       callbacks=[stop], verbose=False)
    >>> len(history) < 30 and stop.stopped_epoch == len(history)
    True
    """

    def __init__(self, monitor="val_loss", patience=3, min_delta=0.0, mode=None,
                 restore_best_weights=True):
        from ._checks import check_choice, check_int

        self.monitor = monitor
        self.patience = check_int("patience", patience, minimum=0)
        self.min_delta = abs(float(min_delta))
        if mode is None:
            mode = "max" if "acc" in monitor else "min"
        self.mode = check_choice("mode", mode, {"min", "max"})
        self.restore_best_weights = bool(restore_best_weights)
        self.stopped_epoch = None

    def on_train_begin(self, epochs, num_batches):
        self.best, self.best_epoch, self.wait, self._weights = None, None, 0, None
        self.stopped_epoch = None

    def _better(self, value):
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs):
        if self.monitor not in logs:
            raise KeyError(
                f"EarlyStopping monitors `{self.monitor}`, which the logs do not have. "
                f"Available: {sorted(logs)}. Pass validation data or change `monitor`."
            )
        value = logs[self.monitor]
        if self._better(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self._weights = self.trainer._copy_weights()  # a copy on the device
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True
            if self.restore_best_weights and self._weights is not None:
                self.trainer._restore_weights(self._weights)
