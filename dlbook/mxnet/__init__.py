"""dlbook's MXNet Gluon layer: ``from dlbook import mxnet as dl``.

The book's first framework. It offers the same public names as
:mod:`dlbook.torch` (``Trainer``, ``mlp``, ``lenet``, ``load_fashion_mnist``, ...)
over MXNet 1.9.1, plus everything of the framework-neutral core
(:mod:`dlbook`), so a chapter's MXNet and PyTorch cells read alike.

Importing this layer changes no global state except OpenMP defaults, and only while
MXNet has not been imported yet and the user has not set them:

- ``OMP_NUM_THREADS`` becomes the number of CPU cores (MXNet otherwise starts
  only half of them, which makes training up to 60 % slower on a 2-core machine);
- ``OMP_WAIT_POLICY=ACTIVE`` with ``GOMP_SPINCOUNT=300000``: a thread that runs
  out of work spins briefly (a few milliseconds at most) before it sleeps. MXNet
  starts an OpenMP region for nearly every operator, and threads that sleep at
  once (``PASSIVE``) have to be woken for each: on an idle 2-core machine that
  made training 1.5-2x slower (bench/options.md). Unbounded spinning
  (``ACTIVE`` alone) is faster still but keeps an idle process, such as a
  notebook kernel after training, burning a core forever.
"""
import os as _os
import sys as _sys

if "mxnet" not in _sys.modules:
    _os.environ.setdefault("OMP_NUM_THREADS", str(_os.cpu_count() or 1))
    if "OMP_WAIT_POLICY" not in _os.environ and "GOMP_SPINCOUNT" not in _os.environ:
        # Bounded spinning (libgomp, which MXNet uses): fast between operators, and
        # idle threads still go to sleep. `dlbook launch` sets PASSIVE for processes
        # that share one machine's cores.
        _os.environ["OMP_WAIT_POLICY"] = "ACTIVE"
        _os.environ["GOMP_SPINCOUNT"] = "300000"

from .._framework import require as _require  # noqa: E402

_require("mxnet")

from .. import callbacks, download, launch, plot  # noqa: E402
from .. import meters, results, seeding  # noqa: E402
from . import (  # noqa: E402
    checkpoint, data, datasets, derivatives, devices, distributed, metrics, models, optim,
    regularization, sequence, session, summaries, train, utils,
)
from ..callbacks import Callback, EarlyStopping, LivePlot, ProgressBar  # noqa: E402
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
from ..plot import plot_history, plot_lines, show_images, use_korean_font  # noqa: E402
from ..meters import Accumulator, Timer  # noqa: E402
from ..results import record  # noqa: E402
from .derivatives import derivative, plot_function  # noqa: E402
from .devices import num_gpus, try_all_gpus, try_gpu  # noqa: E402
from .session import seed_everything, setup  # noqa: E402
from .summaries import count_parameters, summary  # noqa: E402
from .train import History, Trainer  # noqa: E402
# training: the neutral loop, schedules and the callbacks the trainer adds itself
from .. import schedules, training  # noqa: E402
from ..callbacks import CSVLogger, LearningRateScheduler, ModelCheckpoint, TerminateOnNaN  # noqa: E402

from .. import __version__  # noqa: E402

#: The framework of this layer.
FRAMEWORK = "mxnet"

__all__ = [
    "FRAMEWORK", "Accumulator", "ArrayLoader", "Callback", "checkpoint", "derivatives", "devices",
    "distributed", "download", "launch", "meters", "num_gpus", "record", "results", "seeding",
    "session", "summaries",
    "load_checkpoint", "metrics", "optim", "regularization", "save_checkpoint", "sequence", "EarlyStopping", "FASHION_MNIST_LABELS",
    "History", "LivePlot", "ProgressBar", "Timer", "Trainer", "callbacks",
    "count_parameters", "data", "derivative", "datasets", "lenet", "load_array", "load_fashion_mnist",
    "load_mnist1d", "load_sklearn", "load_time_series", "mlp", "models", "one_hot", "plot", "plot_lines",
    "plot_function", "plot_history", "scale", "seed_everything", "setup", "show_images",
    "summary", "synthetic_linear", "train", "train_val_split", "try_all_gpus", "try_gpu",
    "use_korean_font", "utils", "xor_data",
]
__all__ += ["CSVLogger", "LearningRateScheduler", "ModelCheckpoint", "TerminateOnNaN", "schedules",
            "training"]  # training
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
