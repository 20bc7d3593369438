"""dlbook: the companion package of a bilingual (Korean/English) deep-learning book.

Everything the book uses more than once lives here: data loaders, Gluon
models, a trainer with callbacks, plotting with Korean fonts, and utilities.

Importing dlbook changes no global state except one default: when
``OMP_NUM_THREADS`` is unset and MXNet has not been imported yet, it is set to
the number of CPU cores (MXNet otherwise starts only half of them, which makes
training up to 60 % slower on a 2-core machine), and ``OMP_WAIT_POLICY`` to
``PASSIVE`` (idle threads sleep rather than spin, which keeps training fast when
other processes share the cores).
"""
import os as _os
import sys as _sys

if "mxnet" not in _sys.modules:
    _os.environ.setdefault("OMP_NUM_THREADS", str(_os.cpu_count() or 1))
    # Idle OpenMP threads sleep instead of spinning: with spinning, a second busy
    # process on the machine (another kernel, a distributed worker) slowed
    # training by up to 100x here.
    _os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from . import (  # noqa: E402
    callbacks, checkpoint, data, datasets, distributed, download, launch, metrics, models, optim,
    plot, regularization, sequence, train, utils,
)
from .callbacks import Callback, EarlyStopping, LivePlot, ProgressBar  # noqa: E402
from .checkpoint import load_checkpoint, save_checkpoint  # noqa: E402
from .data import ArrayLoader, load_array, one_hot, scale, train_val_split  # noqa: E402
from .datasets import (  # noqa: E402
    FASHION_MNIST_LABELS,
    load_fashion_mnist,
    load_mnist1d,
    load_sklearn,
    load_time_series,
    synthetic_linear,
    xor_data,
)
from .models import lenet, mlp  # noqa: E402
from .plot import (  # noqa: E402
    plot_lines,
    plot_function,
    plot_history,
    show_images,
    use_korean_font,
)
from .session import setup  # noqa: E402
from .train import History, Trainer  # noqa: E402
from .utils import (  # noqa: E402
    Accumulator,
    Timer,
    count_parameters,
    derivative,
    record,
    seed_everything,
    summary,
    try_all_gpus,
    try_gpu,
)

__version__ = "0.1.0"

__all__ = [
    "Accumulator", "ArrayLoader", "Callback", "checkpoint", "distributed", "download", "launch",
    "load_checkpoint", "metrics", "optim", "regularization", "save_checkpoint", "sequence", "EarlyStopping", "FASHION_MNIST_LABELS",
    "History", "LivePlot", "ProgressBar", "Timer", "Trainer", "callbacks",
    "count_parameters", "data", "derivative", "datasets", "lenet", "load_array", "load_fashion_mnist",
    "load_mnist1d", "load_sklearn", "load_time_series", "mlp", "models", "one_hot", "plot", "plot_lines",
    "plot_function", "plot_history", "scale", "seed_everything", "setup", "show_images",
    "summary", "synthetic_linear", "train", "train_val_split", "try_all_gpus", "try_gpu",
    "use_korean_font", "utils", "xor_data",
]
