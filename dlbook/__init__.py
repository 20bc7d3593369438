"""dlbook: the companion package of a bilingual (Korean/English) deep-learning book.

``import dlbook`` gives the framework-neutral core: data as NumPy arrays,
splits and scaling, metrics, plotting with Korean fonts, downloads, callbacks
and the checkpoint file format. It imports no deep-learning framework.

The book's code uses one of two layers with the same public names::

    from dlbook import mxnet as dl   # MXNet Gluon (Python <= 3.11): pip install "dlbook[mxnet]"
    from dlbook import torch as dl   # PyTorch: pip install "dlbook[torch]"

Each layer also offers every name of the core, so ``dl.plot_lines`` works with either.
"""
__version__ = "0.2.0"

# `launch` is imported on first use (__getattr__ below): `python -m dlbook.launch` imports
# this package first, and an eager import would make runpy warn that it found the module.
from . import callbacks, distributed, download, optim, plot  # noqa: E402
from ._framework import available as available_frameworks  # noqa: E402
from .callbacks import Callback, EarlyStopping, LivePlot, ProgressBar  # noqa: E402
from .plot import plot_function, plot_history, plot_lines, show_images, use_korean_font  # noqa: E402

__all__ = [
    "Callback", "EarlyStopping", "LivePlot", "ProgressBar", "available_frameworks", "callbacks",
    "distributed", "download", "launch", "optim", "plot", "plot_function", "plot_history", "plot_lines",
    "show_images", "use_korean_font",
]

# --- data, datasets, meters, results, seeding, session ---
from . import data, datasets, derivatives, meters, results, seeding, session, summaries  # noqa: E402
from .data import one_hot, scale, train_val_split  # noqa: E402
from .datasets import (  # noqa: E402
    FASHION_MNIST_LABELS, load_time_series, synthetic_linear, xor_data,
)
from .meters import Accumulator, Timer  # noqa: E402
from .results import record  # noqa: E402

__all__ += [
    "Accumulator", "FASHION_MNIST_LABELS", "Timer", "data", "datasets", "derivatives",
    "load_time_series", "meters", "one_hot", "record", "results", "scale", "seeding", "session",
    "summaries", "synthetic_linear", "train_val_split", "xor_data",
]

# --- training: Trainer, History, losses, metrics, schedules, checkpoints ---
from . import checkpoint, metrics, schedules, training  # noqa: E402
from .callbacks import CSVLogger, History, LearningRateScheduler, ModelCheckpoint, TerminateOnNaN  # noqa: E402

__all__ += ["CSVLogger", "History", "LearningRateScheduler", "ModelCheckpoint", "TerminateOnNaN",
            "checkpoint", "metrics", "schedules", "training"]

# --- models, sequence models, regularization, optimization helpers ---
from . import regularization, sequence  # noqa: E402  (NumPy halves; optim is imported above)

__all__ += ["regularization", "sequence"]

# --- text: Korean text, tokenizers, vocabularies, skip-gram data (NumPy half) ---
from . import text  # noqa: E402

__all__ += ["text"]

# --- modern CNNs: data augmentation of NumPy image batches ---
from . import augment  # noqa: E402

__all__ += ["augment"]

_LAYER_NAMES = {
    "Trainer", "mlp", "lenet", "load_fashion_mnist", "ArrayLoader", "load_array", "try_gpu",
    "try_all_gpus", "summary", "count_parameters", "setup", "seed_everything", "load_sklearn",
    "load_mnist1d", "num_gpus", "derivative", "residual_block", "resnet",
}


def __getattr__(name):
    if name == "launch":  # distributed training: the launcher, imported on first use
        import importlib

        return importlib.import_module(f"{__name__}.launch")
    if name in _LAYER_NAMES:
        raise AttributeError(
            f"`dlbook.{name}` belongs to a framework layer. Use `from dlbook import mxnet as dl` "
            f"(MXNet) or `from dlbook import torch as dl` (PyTorch), then `dl.{name}`.")
    raise AttributeError(f"module 'dlbook' has no attribute {name!r}")
