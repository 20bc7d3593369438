"""Data-parallel training, the framework-free part: shards, ranks and the launcher's variables.

Both framework layers train several worker processes on disjoint shards of the
data and combine their gradients after every step; they differ in how
(:mod:`dlbook.mxnet.distributed`: MXNet's parameter servers;
:mod:`dlbook.torch.distributed`: an all-reduce over ``torch.distributed``).
What does not depend on the framework lives here once:

- which examples each worker trains on (:func:`shard_indices`);
- what a worker can learn about its job from its environment
  (:func:`worker_env`, from the variables that ``dlbook launch`` or
  ``torchrun`` set);
- the checks of a ``kvstore`` name that both layers share.

The book introduces these ideas in the chapter on distributed training
(``book/distributed.md``).
"""
import os
from collections import namedtuple

import numpy as onp

from ._checks import check_int, describe

__all__ = [
    "DMLC_VARIABLES",
    "TORCH_VARIABLES",
    "WorkerEnv",
    "missing_variables",
    "worker_env",
    "shard_indices",
]

#: The variables of a worker of MXNet's parameter server (set by :mod:`dlbook.launch`).
DMLC_VARIABLES = ("DMLC_ROLE", "DMLC_PS_ROOT_URI", "DMLC_PS_ROOT_PORT",
                  "DMLC_NUM_SERVER", "DMLC_NUM_WORKER")

#: The variables of a ``torch.distributed`` worker, as ``torchrun`` and ``dlbook launch
#: --framework torch`` set them.
TORCH_VARIABLES = ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE")

#: What a launched worker knows from its environment (see :func:`worker_env`).
WorkerEnv = namedtuple("WorkerEnv", ["framework", "rank", "num_workers", "address", "port"])
WorkerEnv.__doc__ = """Where a worker process stands in a distributed job, read from its environment.

Attributes
----------
framework : {'mxnet', 'torch'}
rank : int or None
    This worker's rank (None for MXNet, whose scheduler assigns it on joining).
num_workers : int
address, port : str, int
    The scheduler (MXNet) or the rank-0 process (PyTorch).

Examples
--------
>>> from dlbook.distributed import WorkerEnv
>>> WorkerEnv("torch", 0, 2, "127.0.0.1", 29500).num_workers
2
"""


def missing_variables(names, environ=None):
    """The names in ``names`` that are unset or empty in ``environ`` (default: ``os.environ``).

    Parameters
    ----------
    names : iterable of str
        Variable names, e.g. :data:`DMLC_VARIABLES` or :data:`TORCH_VARIABLES`.
    environ : mapping, optional
        Default: ``os.environ``.

    Returns
    -------
    list of str
        The missing names, in the order of ``names``.

    Examples
    --------
    >>> from dlbook.distributed import TORCH_VARIABLES, missing_variables
    >>> missing_variables(TORCH_VARIABLES, {"MASTER_ADDR": "127.0.0.1", "RANK": ""})
    ['MASTER_PORT', 'RANK', 'WORLD_SIZE']
    """
    environ = os.environ if environ is None else environ
    return [name for name in names if not environ.get(name)]


def _env_int(environ, name, minimum, maximum=None):
    text = environ[name]
    if not text.strip().isdigit():
        raise RuntimeError(f"Expected {name} to be a whole number, got {text!r}.")
    value = int(text)
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f", at most {maximum}"
        raise RuntimeError(f"Expected {name} >= {minimum}{upper}, got {value}.")
    return value


def worker_env(environ=None):
    """Who this process is in a launched job, read from its environment; ``None`` outside one.

    A worker of a PyTorch job (``torchrun`` or ``dlbook launch --framework
    torch``) finds its rank, the number of workers and the rendezvous address in
    ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT``. A worker of
    an MXNet job finds the number of workers and the scheduler's address in the
    ``DMLC_*`` variables, but not its rank: MXNet's scheduler hands ranks out
    when the kvstore is created, so ``rank`` is ``None`` then (ask
    ``dl.distributed.worker_info`` of the layer instead).

    Parameters
    ----------
    environ : mapping, optional
        Default: ``os.environ``.

    Returns
    -------
    WorkerEnv or None
        ``(framework, rank, num_workers, address, port)`` with ``framework``
        ``'torch'`` or ``'mxnet'``; ``None`` when no job's variables are set.

    Raises
    ------
    RuntimeError
        If the variables are set but invalid (e.g. ``RANK`` >= ``WORLD_SIZE``).

    Examples
    --------
    >>> from dlbook.distributed import worker_env
    >>> worker_env({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500",
    ...             "RANK": "1", "WORLD_SIZE": "2"})
    WorkerEnv(framework='torch', rank=1, num_workers=2, address='127.0.0.1', port=29500)
    >>> worker_env({}) is None
    True
    """
    environ = os.environ if environ is None else environ
    if not missing_variables(TORCH_VARIABLES, environ):
        num_workers = _env_int(environ, "WORLD_SIZE", 1)
        rank = _env_int(environ, "RANK", 0, num_workers - 1)
        port = _env_int(environ, "MASTER_PORT", 1, 65535)
        return WorkerEnv("torch", rank, num_workers, environ["MASTER_ADDR"], port)
    if not missing_variables(DMLC_VARIABLES, environ) and environ["DMLC_ROLE"] == "worker":
        num_workers = _env_int(environ, "DMLC_NUM_WORKER", 1)
        port = _env_int(environ, "DMLC_PS_ROOT_PORT", 1, 65535)
        return WorkerEnv("mxnet", None, num_workers, environ["DMLC_PS_ROOT_URI"], port)
    return None


def _check_rank(rank, num_workers):
    num_workers = check_int("num_workers", num_workers, minimum=1)
    rank = check_int("rank", rank, minimum=0)
    if rank >= num_workers:
        raise ValueError(
            f"Expected `rank` in [0, {num_workers - 1}] for num_workers={num_workers}, got {rank}."
        )
    return rank, num_workers


def shard_indices(num_examples, rank, num_workers):
    """The example indices that worker ``rank`` of ``num_workers`` trains on.

    Worker ``k`` takes every ``num_workers``-th example starting at ``k``, so
    the shards are disjoint and do not depend on how the data are ordered.
    Every shard gets the same number of examples, ``num_examples // num_workers``;
    the at most ``num_workers - 1`` examples left over are dropped. (In
    synchronous training a worker with one batch more would wait forever for the
    others.)

    Parameters
    ----------
    num_examples : int
    rank : int
        From 0 to ``num_workers - 1``.
    num_workers : int

    Returns
    -------
    numpy.ndarray of int64

    Raises
    ------
    ValueError
        If ``rank`` is out of range or there are fewer examples than workers.

    Examples
    --------
    >>> from dlbook.distributed import shard_indices
    >>> shard_indices(7, 0, 2), shard_indices(7, 1, 2)
    (array([0, 2, 4]), array([1, 3, 5]))
    """
    num_examples = check_int("num_examples", num_examples, minimum=0)
    rank, num_workers = _check_rank(rank, num_workers)
    per_worker = num_examples // num_workers
    if per_worker == 0:
        raise ValueError(
            f"Expected at least `num_workers`={num_workers} examples to share, got "
            f"{num_examples}. Use more data or fewer workers."
        )
    return onp.arange(rank, per_worker * num_workers, num_workers, dtype="int64")


# ------------------------------------------------ shared by the two layers
def _shard_arguments(loader, loader_class, rank, num_workers, drop_last):
    """The keyword arguments of ``loader_class`` for worker ``rank``'s shard of ``loader``.

    ``loader_class`` is a layer's ArrayLoader (a :class:`dlbook.data.BaseArrayLoader`,
    whose ``_to_host`` gives its arrays back as NumPy arrays). The layers'
    ``shard_loader`` functions are this plus one constructor call.
    """
    if not isinstance(loader, loader_class):
        raise TypeError(
            f"Expected `loader` to be a dlbook ArrayLoader, got {describe(loader)}. Shard "
            "other loaders yourself so that every worker gets different examples and the "
            "same number of equal-sized batches."
        )
    rank, num_workers = _check_rank(rank, num_workers)
    idx = shard_indices(loader.num_examples, rank, num_workers)
    if len(idx) < loader.batch_size:
        raise ValueError(
            f"Each of {num_workers} workers gets {len(idx)} of {loader.num_examples} "
            f"examples, fewer than `batch_size`={loader.batch_size}. Use a batch size of "
            f"at most {len(idx)} per worker."
        )
    return dict(X=loader._to_host(loader.X)[idx],
                y=None if loader.y is None else loader._to_host(loader.y)[idx],
                batch_size=loader.batch_size, shuffle=loader.shuffle,
                seed=(loader.seed + rank) % (2**31 - 1), drop_last=drop_last,
                device=loader.device)


def _kv_type(kvstore):
    """The type name of a kvstore name or object (``''`` for ``None``)."""
    return kvstore if isinstance(kvstore, str) else getattr(kvstore, "type", "") or ""


def _check_kvstore_name(kvstore, accepted, unsupported=None):
    """Raise for a kvstore name outside ``accepted``; ``unsupported`` maps names to a reason."""
    if unsupported and kvstore in unsupported:
        raise ValueError(unsupported[kvstore])
    if kvstore not in accepted:
        listed = ", ".join(repr(k) for k in accepted)
        raise ValueError(
            f"Unknown `kvstore` {kvstore!r}. Expected one of: {listed}, "
            "a KVStore object or None."
        )
    return kvstore


def _kvstore_type_error(kvstore):
    return TypeError(
        f"Expected `kvstore` as a name such as 'device' or 'dist_sync', a KVStore object "
        f"or None, got {describe(kvstore)}."
    )


def _missing_message(kvstore, missing, needs, example):
    """The error for a distributed kvstore asked for outside a launched worker."""
    return (
        f"`kvstore`={kvstore!r} needs {needs}, but "
        f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set. Start the "
        f"script with the launcher, e.g. `{example}`, "
        "or use kvstore='device' for one process."
    )
