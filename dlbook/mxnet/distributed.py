"""Data-parallel training: devices, kvstores, worker ranks and data sharding.

MXNet adds up the gradients of several copies of a network in a *key-value
store* (kvstore). On one machine (``'local'``, ``'device'``) it sums the
gradients of several devices; with ``'dist_sync'`` or ``'dist_async'`` the
workers send them to MXNet's parameter servers. Those are separate processes
started by :mod:`dlbook.launch` (``dlbook launch -n 2 -s 1 python train.py``),
which tells every process its role through ``DMLC_*`` environment variables.

:class:`dlbook.Trainer` uses these helpers: ``Trainer(..., kvstore='dist_sync')``
creates the distributed kvstore, and ``fit`` gives each worker its own shard of
the training data.

The framework-free parts (:func:`~dlbook.distributed.shard_indices`, the
environment variables, the checks of a kvstore name) live in
:mod:`dlbook.distributed`; :mod:`dlbook.torch.distributed` offers the same
names over ``torch.distributed``.
"""
import atexit
import os
import socket
import sys
import time

import mxnet as mx

from .._checks import describe
from ..distributed import (
    DMLC_VARIABLES,
    _check_kvstore_name,
    _kv_type,
    _kvstore_type_error,
    _missing_message,
    _shard_arguments,
    missing_variables,
    shard_indices,
)
from ..launch import SCRIPT_ENDED_MARKER
from .devices import check_device

__all__ = [
    "KVSTORE_TYPES",
    "DMLC_VARIABLES",
    "check_kvstore",
    "is_distributed",
    "create_kvstore",
    "worker_info",
    "shard_indices",
    "shard_loader",
]

#: The kvstore types dlbook accepts (MXNet's names).
KVSTORE_TYPES = ("local", "device", "dist_sync", "dist_async", "dist_sync_device")

# ps-lite allows one distributed kvstore per process; keep the one created.
_DIST_KVSTORE = None


@atexit.register
def _release_dist_kvstore():
    """Destroy the distributed kvstore while the interpreter is whole.

    Left to the interpreter's teardown, its destructor (which finalizes
    ps-lite and joins its threads) may run after MXNet's engine is gone, and
    the worker then dies with SIGABRT ("terminate called without an active
    exception"), depending only on the order in which modules are torn down.

    Leaving is collective: ps-lite's finalization waits until every worker
    and server leaves, so a worker whose script ends early waits here for the
    others. Under the launcher it first says so (:data:`SCRIPT_ENDED_MARKER`),
    which lets the launcher name that worker if the job then stalls.
    """
    global _DIST_KVSTORE
    if _DIST_KVSTORE is not None and "DLBOOK_LAUNCH_INDEX" in os.environ:
        print(SCRIPT_ENDED_MARKER, file=sys.stderr, flush=True)
    _DIST_KVSTORE = None


def _exit_on_uncaught_exception(kind, value, tb):
    """``sys.excepthook`` of a process holding a distributed kvstore: report, then exit 1.

    A normal exit would finalize the kvstore, which waits for every other
    worker to finish: a worker whose script raised would show its traceback
    and then hang, and so would the whole job. It skips the finalization
    instead (``os._exit``), so the launcher sees the failure at once.
    """
    _previous_excepthook(kind, value, tb)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1)


_previous_excepthook = sys.excepthook


def check_kvstore(kvstore):
    """Check a ``kvstore`` argument and return it unchanged.

    Parameters
    ----------
    kvstore : str, mxnet.kvstore.KVStore or None
        A name from :data:`KVSTORE_TYPES`, a kvstore object, or ``None``
        (no kvstore: gradients of several devices are then not summed).

    Returns
    -------
    str, mxnet.kvstore.KVStore or None

    Raises
    ------
    ValueError
        If the name is unknown.
    TypeError
        If ``kvstore`` is neither a name, a kvstore nor ``None``.

    Examples
    --------
    >>> from dlbook.mxnet.distributed import check_kvstore
    >>> check_kvstore("dist_sync")
    'dist_sync'
    >>> check_kvstore("dist")
    Traceback (most recent call last):
    ...
    ValueError: Unknown `kvstore` 'dist'. Expected one of: 'local', 'device', 'dist_sync', 'dist_async', 'dist_sync_device', a KVStore object or None.
    """
    if kvstore is None or isinstance(kvstore, mx.kvstore.KVStoreBase):
        return kvstore
    if isinstance(kvstore, str):
        return _check_kvstore_name(kvstore, KVSTORE_TYPES)
    raise _kvstore_type_error(kvstore)


def is_distributed(kvstore):
    """Whether ``kvstore`` talks to parameter servers (its type contains ``dist``).

    Parameters
    ----------
    kvstore : str, mxnet.kvstore.KVStore or None

    Returns
    -------
    bool

    Examples
    --------
    >>> from dlbook.mxnet.distributed import is_distributed
    >>> is_distributed("dist_async"), is_distributed("device"), is_distributed(None)
    (True, False, False)
    """
    return "dist" in _kv_type(check_kvstore(kvstore))


def _is_sync(kvstore):
    """Synchronous distributed training: the servers add up every worker's gradient."""
    return is_distributed(kvstore) and "async" not in _kv_type(kvstore)


def _wait_for_scheduler(host, port, timeout):
    """Return once something accepts TCP connections at ``host:port``; raise after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return
        except OSError as err:
            last_error = err
        if time.monotonic() >= deadline:
            raise RuntimeError(
                f"No MXNet scheduler answers at {host}:{port} (DMLC_PS_ROOT_URI:"
                f"DMLC_PS_ROOT_PORT) after {timeout:g} s: {last_error}. Start the workers "
                "with `dlbook launch`, which starts the scheduler and the servers first."
            )
        time.sleep(0.2)


def create_kvstore(kvstore="device", connect_timeout=60.0):
    """Create an MXNet kvstore, with clear errors for a distributed one.

    A distributed kvstore (``'dist_sync'``, ``'dist_async'``) can only be
    created in a worker process started by :mod:`dlbook.launch`: it needs the
    ``DMLC_*`` variables and a running scheduler. This function checks both
    before handing over to MXNet, which would otherwise abort or wait forever.
    A process holds at most one distributed kvstore; asking again returns it.

    Parameters
    ----------
    kvstore : str or mxnet.kvstore.KVStore, default 'device'
        A name from :data:`KVSTORE_TYPES`; a kvstore object is returned as is.
    connect_timeout : float, default 60.0
        Seconds to wait for the scheduler to accept connections.

    Returns
    -------
    mxnet.kvstore.KVStore

    Raises
    ------
    RuntimeError
        If a distributed kvstore is asked for outside a launched worker, if
        MXNet was built without one, if the scheduler does not answer, or if
        this process already holds a distributed kvstore of another type.

    See Also
    --------
    dlbook.launch.launch : start the scheduler, servers and workers.

    Examples
    --------
    >>> from dlbook.mxnet.distributed import create_kvstore
    >>> kv = create_kvstore("local")
    >>> kv.type, kv.rank, kv.num_workers
    ('local', 0, 1)
    """
    global _DIST_KVSTORE, _previous_excepthook
    kvstore = check_kvstore(kvstore)
    if kvstore is None:
        raise ValueError("Expected `kvstore` as a name or a KVStore object, got None.")
    if not isinstance(kvstore, str):
        return kvstore
    if not is_distributed(kvstore):
        return mx.kv.create(kvstore)
    if _DIST_KVSTORE is not None:
        if _DIST_KVSTORE.type != kvstore:
            raise RuntimeError(
                f"This process already holds a {_DIST_KVSTORE.type!r} kvstore; MXNet allows "
                f"one distributed kvstore per process, so `kvstore`={kvstore!r} cannot be "
                f"created. Use {_DIST_KVSTORE.type!r} again."
            )
        return _DIST_KVSTORE
    if not mx.runtime.Features().is_enabled("DIST_KVSTORE"):
        raise RuntimeError(
            f"`kvstore`={kvstore!r} needs MXNet's distributed kvstore, but this MXNet "
            "build has none (feature DIST_KVSTORE is off). Install an MXNet build with "
            "it, e.g. the `mxnet` wheel from PyPI."
        )
    missing = missing_variables(DMLC_VARIABLES)
    if missing:
        raise RuntimeError(_missing_message(kvstore, missing, "a scheduler and parameter servers",
                                            "dlbook launch -n 2 -s 1 python train.py"))
    role = os.environ["DMLC_ROLE"]
    if role != "worker":
        raise RuntimeError(
            f"Expected DMLC_ROLE='worker' in a process that creates `kvstore`={kvstore!r}, "
            f"got {role!r}."
        )
    port = os.environ["DMLC_PS_ROOT_PORT"]
    if not port.isdigit():
        raise RuntimeError(f"Expected DMLC_PS_ROOT_PORT to be a port number, got {port!r}.")
    _wait_for_scheduler(os.environ["DMLC_PS_ROOT_URI"], int(port), connect_timeout)
    _DIST_KVSTORE = mx.kv.create(kvstore)
    if sys.excepthook is not _exit_on_uncaught_exception:
        _previous_excepthook = sys.excepthook
        sys.excepthook = _exit_on_uncaught_exception
    return _DIST_KVSTORE


def worker_info(kvstore=None):
    """This worker's rank and the number of workers, as ``(rank, num_workers)``.

    Parameters
    ----------
    kvstore : str, mxnet.kvstore.KVStore or None
        A kvstore object answers directly; a distributed name creates (or
        reuses) this process's kvstore with :func:`create_kvstore`, because
        the scheduler hands out ranks only then. Anything else means one
        process: ``(0, 1)``.

    Returns
    -------
    tuple of int

    Examples
    --------
    >>> from dlbook.mxnet.distributed import worker_info
    >>> worker_info("device")
    (0, 1)
    """
    kvstore = check_kvstore(kvstore)
    if isinstance(kvstore, str) and is_distributed(kvstore):
        kvstore = create_kvstore(kvstore)
    if isinstance(kvstore, mx.kvstore.KVStoreBase):
        return int(kvstore.rank), int(kvstore.num_workers)
    return 0, 1


def shard_loader(loader, rank, num_workers, drop_last=True):
    """A new :class:`~dlbook.mxnet.data.ArrayLoader` over worker ``rank``'s shard of ``loader``.

    The shard keeps the loader's batch size, shuffling and device; its
    shuffling seed is offset by the rank. With ``drop_last=True`` (the
    default) every batch has the same size: MXNet's distributed trainer fixes
    the gradient scale at the first batch, and equal shards then give every
    worker the same number of batches.

    Parameters
    ----------
    loader : dlbook.mxnet.data.ArrayLoader
    rank, num_workers : int
    drop_last : bool, default True

    Returns
    -------
    dlbook.mxnet.data.ArrayLoader

    Raises
    ------
    TypeError
        If ``loader`` is not an ArrayLoader.
    ValueError
        If a shard holds fewer examples than one batch.

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.mxnet.data import ArrayLoader
    >>> from dlbook.mxnet.distributed import shard_loader
    >>> loader = ArrayLoader(onp.arange(10).reshape(10, 1), onp.arange(10), batch_size=2)
    >>> part = shard_loader(loader, rank=1, num_workers=2)
    >>> part.num_examples, len(part), part.y.tolist()
    (5, 2, [1, 3, 5, 7, 9])
    """
    from .data import ArrayLoader

    return ArrayLoader(**_shard_arguments(loader, ArrayLoader, rank, num_workers, drop_last))


def _device_list(device):
    """``device`` as a non-empty list of contexts (``None`` stays ``None``)."""
    if device is None:
        return None
    if isinstance(device, mx.Context):
        return [check_device(device)]  # a GPU this machine lacks: a clear error, named fallback
    if isinstance(device, (list, tuple)) and device and all(isinstance(d, mx.Context)
                                                            for d in device):
        if len(set(map(str, device))) != len(device):
            raise ValueError(f"Expected different devices in `device`, got {list(device)}.")
        return [check_device(d) for d in device]
    raise TypeError(
        "Expected `device` as an mxnet Context or a non-empty list of them, e.g. "
        f"mx.cpu() or [mx.gpu(0), mx.gpu(1)], got {describe(device)}."
    )
