"""dlbook's PyTorch layer: ``from dlbook import torch as dl``.

It offers the same public names, signatures and error messages as
:mod:`dlbook.mxnet` (``Trainer``, ``mlp``, ``lenet``, ``load_fashion_mnist``, ...)
over PyTorch, plus everything of the framework-neutral core (:mod:`dlbook`),
so a chapter's MXNet and PyTorch cells read alike. Runs on Python 3.9-3.13.
"""
from .._framework import require as _require

_require("torch")

from .. import __version__  # noqa: E402
from .. import callbacks, download, launch, optim, plot  # noqa: E402
from ..callbacks import Callback, EarlyStopping, LivePlot, ProgressBar  # noqa: E402
from ..plot import plot_function, plot_history, plot_lines, show_images, use_korean_font  # noqa: E402

FRAMEWORK = "torch"

__all__ = [
    "FRAMEWORK", "Callback", "EarlyStopping", "LivePlot", "ProgressBar", "callbacks", "download",
    "launch", "optim", "plot", "plot_function", "plot_history", "plot_lines", "show_images",
    "use_korean_font",
]

# Each block below adds one family of modules; keep its names in __all__ beside it.
# --- data, datasets, devices, summaries, seeding, setup ---
# --- training: Trainer, History, losses, metrics, schedules, checkpoints ---
# --- models, sequence models, regularization, optimization helpers ---
# --- distributed training ---
