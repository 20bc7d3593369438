"""dlbook's PyTorch layer: ``from dlbook import torch as dl``.

It offers the same public names, signatures and error messages as
:mod:`dlbook.mxnet` (``Trainer``, ``mlp``, ``lenet``, ``load_fashion_mnist``, ...)
over PyTorch, plus everything of the framework-neutral core (:mod:`dlbook`),
so a chapter's MXNet and PyTorch cells read alike. Runs on Python 3.9-3.13.
"""
from .._framework import require as _require

_require("torch")

from .. import __version__  # noqa: E402
from .. import callbacks, download, launch, plot  # noqa: E402  (optim: the layer's, below)
from ..callbacks import Callback, EarlyStopping, LivePlot, ProgressBar  # noqa: E402
from ..plot import plot_function, plot_history, plot_lines, show_images, use_korean_font  # noqa: E402

#: The framework of this layer.
FRAMEWORK = "torch"

__all__ = [
    "FRAMEWORK", "Callback", "EarlyStopping", "LivePlot", "ProgressBar", "callbacks", "download",
    "launch", "optim", "plot", "plot_function", "plot_history", "plot_lines", "show_images",
    "use_korean_font",
]

# Each block below adds one family of modules; keep its names in __all__ beside it.
# --- data, datasets, devices, summaries, seeding, setup ---
from .. import meters, results, seeding  # noqa: E402
from ..meters import Accumulator, Timer  # noqa: E402
from ..results import record  # noqa: E402
from . import data, datasets, derivatives, devices, session, summaries, utils  # noqa: E402
from .data import ArrayLoader, load_array, one_hot, scale, train_val_split  # noqa: E402
from .datasets import (  # noqa: E402
    FASHION_MNIST_LABELS, load_fashion_mnist, load_mnist1d, load_sklearn, load_time_series,
    synthetic_linear, xor_data,
)
from .derivatives import derivative, plot_function  # noqa: E402  (autograd-based; replaces the core's)
from .devices import num_gpus, try_all_gpus, try_gpu  # noqa: E402
from .session import seed_everything, setup  # noqa: E402
from .summaries import count_parameters, summary  # noqa: E402

__all__ += [
    "Accumulator", "ArrayLoader", "FASHION_MNIST_LABELS", "Timer", "count_parameters", "data",
    "datasets", "derivative", "derivatives", "devices", "load_array", "load_fashion_mnist",
    "load_mnist1d", "load_sklearn", "load_time_series", "meters", "num_gpus", "one_hot", "record",
    "results", "scale", "seed_everything", "seeding", "session", "setup", "summaries", "summary",
    "synthetic_linear", "train_val_split", "try_all_gpus", "try_gpu", "utils", "xor_data",
]
# --- training: Trainer, History, losses, metrics, schedules, checkpoints ---
from .. import schedules, training  # noqa: E402
from ..callbacks import CSVLogger, History, LearningRateScheduler, ModelCheckpoint, TerminateOnNaN  # noqa: E402
from . import checkpoint, metrics, train  # noqa: E402
from .checkpoint import load_checkpoint, save_checkpoint  # noqa: E402
from .train import Trainer  # noqa: E402

__all__ += [
    "CSVLogger", "History", "LearningRateScheduler", "ModelCheckpoint", "TerminateOnNaN", "Trainer",
    "checkpoint", "load_checkpoint", "metrics", "save_checkpoint", "schedules", "train", "training",
]
# --- models, sequence models, regularization, optimization helpers ---
from . import models, optim, regularization, sequence  # noqa: E402  (optim: core names + layer_stds)
from .models import lenet, mlp  # noqa: E402

__all__ += ["lenet", "mlp", "models", "regularization", "sequence"]  # "optim" is listed above
# --- distributed training ---
from . import distributed  # noqa: E402

__all__ += ["distributed"]  # "launch" is listed above
# --- text: Korean text, tokenizers, vocabularies, skip-gram and embedding models ---
from . import text  # noqa: E402

__all__ += ["text"]
# --- attention: masks, multi-head attention, transformer blocks, a transformer language model ---
from . import attention  # noqa: E402

__all__ += ["attention"]
# --- modern CNNs: residual blocks, a small ResNet, data augmentation (NumPy, from the core) ---
from .. import augment  # noqa: E402
from .models import residual_block, resnet  # noqa: E402

__all__ += ["augment", "residual_block", "resnet"]
# --- generative models: the VAE's loss, the reparameterization trick, a small VAE ---
from . import generative  # noqa: E402
from .generative import VAE, reparameterize, vae_loss  # noqa: E402

__all__ += ["generative", "VAE", "reparameterize", "vae_loss"]
