"""The small utilities under the names the MXNet layer's ``dl.utils`` offers.

Kept so that ``dl.utils.derivative`` and ``dl.utils.num_gpus`` read the same in
both layers; each name lives in a module named for what it does (use
``dl.<name>`` in new code):

- :class:`~dlbook.meters.Timer`, :class:`~dlbook.meters.Accumulator` — :mod:`dlbook.meters`
- :func:`~dlbook.results.record` — :mod:`dlbook.results`
- ``seed_everything`` — :mod:`dlbook.torch.session`
- ``num_gpus``, ``try_gpu``, ``try_all_gpus`` — :mod:`dlbook.torch.devices`
- ``count_parameters``, ``summary`` — :mod:`dlbook.torch.summaries`
- ``derivative`` — :mod:`dlbook.torch.derivatives`

Examples
--------
>>> from dlbook import torch as dl
>>> dl.utils.derivative is dl.derivative and dl.utils.num_gpus is dl.devices.num_gpus
True
"""
from ..meters import Accumulator, Timer
from ..results import record
from .derivatives import derivative
from .devices import num_gpus, try_all_gpus, try_gpu
from .session import seed_everything
from .summaries import count_parameters, summary

__all__ = [
    "Timer",
    "Accumulator",
    "seed_everything",
    "num_gpus",
    "try_gpu",
    "try_all_gpus",
    "count_parameters",
    "summary",
    "derivative",
    "record",
]
