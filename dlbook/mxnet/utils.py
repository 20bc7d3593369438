"""Former home of the small utilities, kept so that ``dl.utils.<name>`` keeps working.

Each name now lives in a module named for what it does; import from there in
new code (or use ``dl.<name>``):

- :class:`~dlbook.meters.Timer`, :class:`~dlbook.meters.Accumulator` — :mod:`dlbook.meters`
- :func:`~dlbook.results.record` — :mod:`dlbook.results`
- ``seed_everything`` — :mod:`dlbook.mxnet.session`
- ``num_gpus``, ``try_gpu``, ``try_all_gpus`` — :mod:`dlbook.mxnet.devices`
- ``count_parameters``, ``summary`` — :mod:`dlbook.mxnet.summaries`
- ``derivative`` — :mod:`dlbook.mxnet.derivatives`

Examples
--------
>>> from dlbook import mxnet as dl
>>> dl.utils.derivative is dl.derivative and dl.utils.num_gpus is dl.devices.num_gpus
True
"""
from ..meters import Accumulator, Timer
from ..results import record
from .derivatives import derivative
from .devices import num_gpus, try_all_gpus, try_gpu
from .session import seed_everything
from .summaries import _check_block, count_parameters, summary  # noqa: F401 (train.py)

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
