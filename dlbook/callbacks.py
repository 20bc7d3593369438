"""Callbacks: what happens around training without changing it.

A callback's hooks are called by :class:`dlbook.mxnet.train.Trainer`:
``on_train_begin``, ``on_epoch_begin``, ``on_batch_end``, ``on_epoch_end`` and
``on_train_end``. Progress display, live plots and early stopping are callbacks.
"""
import sys
import time

__all__ = ["Callback", "ProgressBar", "LivePlot", "EarlyStopping", "in_notebook"]


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
        """Before the first epoch."""

    def on_epoch_begin(self, epoch):
        """Before epoch ``epoch`` (counted from 1)."""

    def on_batch_end(self, batch):
        """After batch ``batch`` (counted from 1); no device synchronization happens."""

    def on_epoch_end(self, epoch, logs):
        """After an epoch, with ``logs`` mapping each metric to its value."""

    def on_train_end(self, history):
        """After the last epoch."""


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

    def on_epoch_begin(self, epoch):
        self._epoch, self._start = epoch, time.perf_counter()

    def on_batch_end(self, batch):
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
                self._weights = {k: p.data().copy()
                                 for k, p in self.trainer.net.collect_params().items()}
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True
            if self.restore_best_weights and self._weights is not None:
                for k, p in self.trainer.net.collect_params().items():
                    p.set_data(self._weights[k])
