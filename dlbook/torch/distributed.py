"""Data-parallel training over worker processes with ``torch.distributed`` (gloo).

The PyTorch counterpart of :mod:`dlbook.mxnet.distributed`, with the same
names. There is no parameter server: the workers form a *process group* and
combine their gradients with an **all-reduce**, a collective operation after
which every worker holds the sum (here: the mean) of everybody's gradients.
The workers find each other through a rendezvous at ``MASTER_ADDR:MASTER_PORT``
(rank 0 listens there) and learn their place from ``RANK`` and ``WORLD_SIZE``,
the variables that ``torchrun`` sets and that ``dlbook launch --framework
torch -n 2 python train.py`` sets too. The backend is gloo, which runs on CPUs
(and accepts CUDA tensors, though NCCL is faster there).

:class:`dlbook.torch.Trainer` uses these helpers: ``Trainer(...,
kvstore='dist_sync')`` joins the process group through :func:`create_kvstore`,
``fit`` trains each worker on its own shard (:func:`shard_loader`), and after
every backward pass :meth:`KVStore.allreduce_grads` averages the gradients.

Why an explicit all-reduce and not ``DistributedDataParallel`` (DDP)? Both do
the same arithmetic: DDP also all-reduces (averages) the gradients over the
process group after ``backward``, and broadcasts rank 0's parameters once.
DDP's advantage is speed on large models: it cuts the gradients into buckets
and starts reducing a bucket while ``backward`` still computes the rest. dlbook
reduces once per step instead, because

- dlbook's models use lazy layers (``torch.nn.LazyLinear``, like Gluon's
  deferred shapes) whose parameters do not exist before the first batch, and
  DDP refuses a module with uninitialized parameters;
- DDP wraps the network (``ddp.module``), which changes what ``trainer.net``
  is and the keys of its ``state_dict``; the explicit call leaves the network
  as the user built it;
- the one call ``allreduce_grads`` *is* the formula
  :math:`\\mathbf{g} = \\frac{1}{K}\\sum_k \\mathbf{g}^{(k)}` of the book's
  chapter on distributed training, and the tests check it against DDP.

For the small models of the book the overlap DDP buys is worth nothing: one
flat all-reduce per step is the whole communication.
"""
import atexit
import datetime

import torch
import torch.distributed as dist

from .._checks import describe
from ..distributed import (
    TORCH_VARIABLES,
    _check_kvstore_name,
    _kv_type,
    _kvstore_type_error,
    _missing_message,
    _shard_arguments,
    missing_variables,
    shard_indices,
    worker_env,
)

__all__ = [
    "KVSTORE_TYPES",
    "TORCH_VARIABLES",
    "BACKEND",
    "KVStore",
    "check_kvstore",
    "is_distributed",
    "create_kvstore",
    "setup_process_group",
    "worker_info",
    "shard_indices",
    "shard_loader",
]

#: The kvstore types the PyTorch layer accepts (MXNet's names, where they make sense).
KVSTORE_TYPES = ("local", "device", "dist_sync")

#: The ``torch.distributed`` backend of ``'dist_sync'``.
BACKEND = "gloo"

#: Seconds a collective (an all-reduce) waits for a lagging worker before it fails.
COLLECTIVE_TIMEOUT = 300.0

_UNSUPPORTED = {
    "dist_async": (
        "`kvstore`='dist_async' is MXNet's asynchronous parameter server, which the PyTorch "
        "layer does not have: it combines gradients with a synchronous all-reduce. Use "
        "kvstore='dist_sync', or the MXNet layer for asynchronous training."
    ),
    "dist_sync_device": (
        "`kvstore`='dist_sync_device' is MXNet's distributed kvstore that adds gradients on "
        "the GPU. In the PyTorch layer use kvstore='dist_sync' (an all-reduce over gloo, "
        "for CPU and GPU tensors)."
    ),
}

# One process group per process; keep the kvstore that joined it.
_DIST_KVSTORE = None


class KVStore:
    """How the PyTorch layer combines the gradients of the copies of a network.

    The counterpart of MXNet's kvstore object, with its ``type``, ``rank`` and
    ``num_workers``. Make one with :func:`create_kvstore`. For ``'local'`` and
    ``'device'`` (one process) :meth:`allreduce_grads` does nothing; for
    ``'dist_sync'`` it averages the gradients over every worker of the
    process group.

    The constructor stores its arguments without checking them:
    :func:`create_kvstore` checks the name and reads ``rank`` and
    ``num_workers`` from the process group.

    Parameters
    ----------
    kind : {'local', 'device', 'dist_sync'}
        The kvstore's type (:attr:`type`).
    rank : int, default 0
        This worker's rank in the process group.
    num_workers : int, default 1
        Number of workers; with 1 there is nothing to broadcast or average.
    backend : str, optional
        The ``torch.distributed`` backend of the process group (``'gloo'`` for
        ``'dist_sync'``); None for one process.

    Attributes
    ----------
    type : str
        ``'local'``, ``'device'`` or ``'dist_sync'``.
    rank, num_workers : int
    backend : str or None
        ``'gloo'`` for ``'dist_sync'``, else ``None``.

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.distributed import create_kvstore
    >>> kv = create_kvstore("device")
    >>> kv
    KVStore(type='device', rank=0, num_workers=1)
    >>> w = torch.nn.Parameter(torch.ones(2)); w.grad = torch.tensor([0.5, -1.0])
    >>> kv.allreduce_grads([w]); w.grad  # one worker: the mean is its own gradient
    tensor([ 0.5000, -1.0000])
    """

    def __init__(self, kind, rank=0, num_workers=1, backend=None):
        self.type, self.rank, self.num_workers, self.backend = kind, rank, num_workers, backend
        self._broadcast_done = num_workers == 1

    @staticmethod
    def _tensors(params, buffers=False):
        if isinstance(params, torch.nn.Module):
            tensors = list(params.parameters())
            if buffers:
                tensors += list(params.buffers())
            return tensors
        if isinstance(params, torch.Tensor):
            return [params]
        try:
            tensors = list(params)
        except TypeError:
            tensors = None
        if tensors is None or not all(isinstance(t, torch.Tensor) for t in tensors):
            raise TypeError(
                "Expected `params` as a torch.nn.Module or an iterable of tensors, e.g. "
                f"net.parameters(), got {describe(params)}."
            )
        return tensors

    def broadcast_parameters(self, params, src=0):
        """Give every worker worker ``src``'s values of ``params`` (a module or tensors).

        A module's buffers (e.g. batch-norm statistics) are sent too. Run it
        once before training so that all copies start alike, whatever their
        seeds; :meth:`allreduce_grads` does it on its first call.

        Raises
        ------
        ValueError
            If a parameter is not initialized yet (a lazy layer before its first batch).
        """
        tensors = self._tensors(params, buffers=True)
        lazy = [t for t in tensors if isinstance(t, torch.nn.parameter.UninitializedParameter)]
        if lazy:
            raise ValueError(
                f"{len(lazy)} parameter(s) are not initialized yet (lazy layers get their "
                "shape from the first batch), so they cannot be sent to the other workers. "
                "Run one batch through the network first, e.g. net(X[:1])."
            )
        self._broadcast_done = True
        if self.num_workers == 1 or not tensors:
            return
        with torch.no_grad():
            for group in _by_dtype(tensors):
                flat = torch.cat([t.detach().reshape(-1) for t in group])
                dist.broadcast(flat, src=src)
                _unflatten(flat, group)

    def allreduce_grads(self, params):
        """Replace every worker's gradients by their mean over all workers.

        Call it after ``loss.backward()`` and before ``optimizer.step()``.
        With the loss averaged over each worker's batch and equal batch sizes
        on all workers, the result is the gradient of the whole global batch:
        :math:`\\mathbf{g} = \\frac{1}{K}\\sum_k \\mathbf{g}^{(k)}`. All
        gradients travel in one flat tensor (one all-reduce per dtype and
        step). A parameter without a gradient counts as zero, and afterwards
        has one, so that every worker's optimizer updates the same parameters.

        Parameters
        ----------
        params : torch.nn.Module or iterable of torch.Tensor
            The network or its ``parameters()``; those that require a gradient
            take part.
        """
        tensors = [t for t in self._tensors(params) if t.requires_grad]
        if self.num_workers == 1 or not tensors:
            return
        if not self._broadcast_done:
            self.broadcast_parameters(tensors)
        with torch.no_grad():
            for group in _by_dtype(tensors):
                flat = torch.cat([(t.grad if t.grad is not None else torch.zeros_like(t))
                                  .reshape(-1) for t in group])
                dist.all_reduce(flat, op=dist.ReduceOp.SUM)
                flat /= self.num_workers
                offset = 0
                for t in group:
                    piece = flat[offset:offset + t.numel()].view_as(t)
                    offset += t.numel()
                    if t.grad is None:
                        t.grad = piece.clone()
                    else:
                        t.grad.copy_(piece)

    def barrier(self):
        """Wait until every worker has arrived here (nothing to wait for in one process)."""
        if self.num_workers > 1:
            dist.barrier()

    def __repr__(self):
        text = f"KVStore(type={self.type!r}, rank={self.rank}, num_workers={self.num_workers}"
        return text + (f", backend={self.backend!r})" if self.backend else ")")


def _by_dtype(tensors):
    groups = {}
    for t in tensors:
        groups.setdefault((t.dtype, t.device), []).append(t)
    return list(groups.values())


def _unflatten(flat, tensors):
    offset = 0
    for t in tensors:
        t.copy_(flat[offset:offset + t.numel()].view_as(t))
        offset += t.numel()


def check_kvstore(kvstore):
    """Check a ``kvstore`` argument and return it unchanged.

    Parameters
    ----------
    kvstore : str, KVStore or None
        A name from :data:`KVSTORE_TYPES`, a :class:`KVStore`, or ``None``
        (gradients are used as they are).

    Returns
    -------
    str, KVStore or None

    Raises
    ------
    ValueError
        If the name is unknown, or one of MXNet's that PyTorch has no
        counterpart for (``'dist_async'``, ``'dist_sync_device'``).
    TypeError
        If ``kvstore`` is neither a name, a KVStore nor ``None``.

    Examples
    --------
    >>> from dlbook.torch.distributed import check_kvstore
    >>> check_kvstore("dist_sync")
    'dist_sync'
    >>> check_kvstore("dist")
    Traceback (most recent call last):
    ...
    ValueError: Unknown `kvstore` 'dist'. Expected one of: 'local', 'device', 'dist_sync', a KVStore object or None.
    """
    if kvstore is None or isinstance(kvstore, KVStore):
        return kvstore
    if isinstance(kvstore, str):
        return _check_kvstore_name(kvstore, KVSTORE_TYPES, _UNSUPPORTED)
    raise _kvstore_type_error(kvstore)


def is_distributed(kvstore):
    """Whether ``kvstore`` combines gradients across worker processes (its type contains ``dist``).

    Parameters
    ----------
    kvstore : str, KVStore or None
        Checked as by :func:`check_kvstore` (ValueError for an unknown name or one
        of MXNet's without a PyTorch counterpart, TypeError for anything else).

    Returns
    -------
    bool

    Examples
    --------
    >>> from dlbook.torch.distributed import is_distributed
    >>> is_distributed("dist_sync"), is_distributed("device"), is_distributed(None)
    (True, False, False)
    """
    return "dist" in _kv_type(check_kvstore(kvstore))


def _is_sync(kvstore):
    """Every distributed kvstore of the PyTorch layer is synchronous."""
    return is_distributed(kvstore)


def setup_process_group(backend=BACKEND, connect_timeout=60.0):
    """Join the process group described by ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``.

    Rank 0 opens the rendezvous (a ``torch.distributed.TCPStore``) at
    ``MASTER_ADDR:MASTER_PORT``; the others connect to it. Returns once all
    ``WORLD_SIZE`` workers have arrived. If the process group exists already
    (the script called ``torch.distributed.init_process_group`` itself), it is
    used as it is.

    Parameters
    ----------
    backend : str, default 'gloo'
    connect_timeout : float, default 60.0
        Seconds to wait for all workers at the rendezvous. (A collective later
        waits at most :data:`COLLECTIVE_TIMEOUT` seconds for a lagging worker.)

    Returns
    -------
    tuple of int
        ``(rank, num_workers)``.

    Raises
    ------
    RuntimeError
        If the variables are missing or invalid, or the workers do not all
        arrive within ``connect_timeout`` seconds.

    Examples
    --------
    >>> from dlbook.torch.distributed import setup_process_group
    >>> setup_process_group()  # doctest: +SKIP
    (0, 2)
    """
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    if not dist.is_available():
        raise RuntimeError("This PyTorch build has no torch.distributed; install the PyPI wheel.")
    missing = missing_variables(TORCH_VARIABLES)
    if missing:
        raise RuntimeError(_missing_message(
            "dist_sync", missing, "worker processes that find each other through "
            "torch.distributed", "dlbook launch --framework torch -n 2 python train.py"))
    env = worker_env()
    where = f"{env.address}:{env.port} (MASTER_ADDR:MASTER_PORT)"
    try:
        store = dist.TCPStore(env.address, env.port, env.num_workers, is_master=env.rank == 0,
                              timeout=datetime.timedelta(seconds=connect_timeout),
                              wait_for_workers=True)
        dist.init_process_group(backend, store=store, rank=env.rank, world_size=env.num_workers,
                                timeout=datetime.timedelta(seconds=COLLECTIVE_TIMEOUT))
    except (RuntimeError, OSError, ValueError) as err:
        summary = (str(err).strip().splitlines() or [type(err).__name__])[0][:300].rstrip(".")
        raise RuntimeError(
            f"Worker rank {env.rank} of {env.num_workers} could not join the process group at "
            f"{where} within {connect_timeout:g} s: {summary}. Start all workers together "
            "with `dlbook launch --framework torch -n N python train.py` (or torchrun)."
        ) from err
    atexit.register(_leave_process_group)
    return env.rank, env.num_workers


def _leave_process_group():
    if dist.is_initialized():
        dist.destroy_process_group()


def create_kvstore(kvstore="device", connect_timeout=60.0):
    """Create a :class:`KVStore`; ``'dist_sync'`` joins the process group of a launched job.

    A distributed kvstore can only be created in a worker process started by
    ``dlbook launch --framework torch`` (or ``torchrun``): it needs the
    ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT`` variables. This
    function checks them before ``torch.distributed`` would wait for workers
    that never come. A process holds at most one distributed kvstore; asking
    again returns it.

    Parameters
    ----------
    kvstore : str or KVStore, default 'device'
        A name from :data:`KVSTORE_TYPES`; a KVStore is returned as is.
    connect_timeout : float, default 60.0
        Seconds to wait for every worker at the rendezvous.

    Returns
    -------
    KVStore

    Raises
    ------
    RuntimeError
        If a distributed kvstore is asked for outside a launched worker, or
        the workers do not meet within ``connect_timeout``.

    See Also
    --------
    dlbook.launch.launch : start the workers.

    Examples
    --------
    >>> from dlbook.torch.distributed import create_kvstore
    >>> kv = create_kvstore("local")
    >>> kv.type, kv.rank, kv.num_workers
    ('local', 0, 1)
    """
    global _DIST_KVSTORE
    kvstore = check_kvstore(kvstore)
    if kvstore is None:
        raise ValueError("Expected `kvstore` as a name or a KVStore object, got None.")
    if not isinstance(kvstore, str):
        return kvstore
    if not is_distributed(kvstore):
        return KVStore(kvstore)
    if _DIST_KVSTORE is not None:
        return _DIST_KVSTORE
    rank, num_workers = setup_process_group(BACKEND, connect_timeout)
    _DIST_KVSTORE = KVStore(kvstore, rank, num_workers, dist.get_backend())
    return _DIST_KVSTORE


def worker_info(kvstore=None):
    """This worker's rank and the number of workers, as ``(rank, num_workers)``.

    Parameters
    ----------
    kvstore : str, KVStore or None
        A KVStore answers directly; a distributed name creates (or reuses)
        this process's kvstore with :func:`create_kvstore`. Anything else
        means one process: ``(0, 1)``.

    Returns
    -------
    tuple of int

    Examples
    --------
    >>> from dlbook.torch.distributed import worker_info
    >>> worker_info("device")
    (0, 1)
    """
    kvstore = check_kvstore(kvstore)
    if isinstance(kvstore, str) and is_distributed(kvstore):
        kvstore = create_kvstore(kvstore)
    if isinstance(kvstore, KVStore):
        return int(kvstore.rank), int(kvstore.num_workers)
    return 0, 1


def shard_loader(loader, rank, num_workers, drop_last=True):
    """A new :class:`~dlbook.torch.data.ArrayLoader` over worker ``rank``'s shard of ``loader``.

    The shard keeps the loader's batch size, shuffling and device; its
    shuffling seed is offset by the rank. With ``drop_last=True`` (the
    default) every worker gets the same number of equal-sized batches: an
    all-reduce waits for every worker, so one batch more on one worker would
    leave it waiting forever (until the collective's timeout).

    Parameters
    ----------
    loader : dlbook.torch.data.ArrayLoader
    rank, num_workers : int
    drop_last : bool, default True

    Returns
    -------
    dlbook.torch.data.ArrayLoader

    Raises
    ------
    TypeError
        If ``loader`` is not an ArrayLoader.
    ValueError
        If a shard holds fewer examples than one batch.

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.torch.data import ArrayLoader
    >>> from dlbook.torch.distributed import shard_loader
    >>> loader = ArrayLoader(onp.arange(10).reshape(10, 1), onp.arange(10), batch_size=2)
    >>> part = shard_loader(loader, rank=1, num_workers=2)
    >>> part.num_examples, len(part), part.y.tolist()
    (5, 2, [1, 3, 5, 7, 9])
    """
    from .data import ArrayLoader

    return ArrayLoader(**_shard_arguments(loader, ArrayLoader, rank, num_workers, drop_last))
