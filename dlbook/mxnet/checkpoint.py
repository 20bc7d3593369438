"""Save and resume training: parameters, optimizer state and history in one file.

The file format is :mod:`dlbook.checkpoint`'s, shared with the PyTorch layer: a
NumPy ``.npz`` archive with every parameter, every optimizer state array and
a JSON manifest, read with ``allow_pickle=False`` (loading never runs code
from the file), and saved atomically (a crash mid-save leaves the previous
checkpoint intact). This module adds what is MXNet's: the parameters under
their structural names (``0.weight``, ...), and the state of the Gluon
trainer's updater with MXNet's update counters, so that a resumed run
continues bit for bit like an uninterrupted one.

One exception: MXNet's random number generator state cannot be read or set from
Python, so a network with dropout draws other masks after resuming than it would
have without the interruption (the PyTorch layer saves its generators, and
resumes with dropout exactly).
"""
import mxnet as mx

from .. import checkpoint as _format
from ..checkpoint import CheckpointError, pack_state, unpack_state
from ._gluon import local_updater

__all__ = ["save_checkpoint", "load_checkpoint", "CheckpointError"]


def _keeps_no_state(optimizer):
    """Plain SGD (no momentum, full precision): nothing to save besides the weights."""
    return isinstance(optimizer, mx.optimizer.SGD) and not optimizer.momentum and \
        not optimizer.multi_precision


def _updater(trainer, loading=False):
    """The trainer's local updater; None where the kvstore updates but nothing is lost."""
    gluon_trainer = trainer.optimizer
    updater = local_updater(gluon_trainer)
    if updater is not None:
        return updater
    # The kvstore updates. Plain SGD keeps no state, and this process's weights are current
    # (pulled after every update), so a checkpoint holds everything. Loading is safe only
    # before the first update, while the kvstore has no copy of the weights yet: at the first
    # step it takes them from the workers, the loaded ones included.
    if _keeps_no_state(gluon_trainer._optimizer) and not (loading and gluon_trainer._kv_initialized):
        return None
    raise CheckpointError(
        f"Cannot checkpoint a trainer whose kvstore updates the weights (`kvstore` "
        f"{trainer.kvstore!r} with {len(trainer.devices)} device(s)): the optimizer state "
        "and a copy of the weights live in the kvstore, which a checkpoint cannot read or "
        "restore (plain SGD, which keeps no state, can be saved, and loaded before training). "
        "Train on one device, or set MXNET_UPDATE_ON_KVSTORE=0 before creating the Trainer "
        "so that its updates run on this process.")


def check_checkpointable(trainer, loading=False):
    """Raise :class:`CheckpointError` unless the trainer's optimizer state can be saved and restored."""
    _updater(trainer, loading)


def _is_array(value):
    return hasattr(value, "asnumpy")


def optimizer_state(trainer, arrays):
    """The manifest entries of a trainer's optimizer; its state arrays go into ``arrays``."""
    updater = _updater(trainer)
    states = {} if updater is None else {
        str(i): pack_state(s, f"opt/{i}", arrays, _is_array, lambda a: a.asnumpy())
        for i, s in updater.states.items()}
    optimizer = trainer.optimizer._optimizer
    return {
        "optimizer": type(optimizer).__name__,
        "num_update": int(optimizer.num_update),
        "index_update_count": {str(k): int(v) for k, v in optimizer._index_update_count.items()},
        "states": states,
    }


def restore_optimizer_state(trainer, manifest, arrays):
    """Put the optimizer state of :func:`optimizer_state` back into the trainer."""
    device = trainer.device
    updater = _updater(trainer, loading=True)
    states = {int(i): unpack_state(spec, arrays, lambda a, dtype: mx.nd.array(a, ctx=device, dtype=dtype))
              for i, spec in manifest["states"].items()}
    if updater is None:  # plain SGD updated by the kvstore: the states saved must be empty too
        if any(state is not None for state in states.values()):
            raise CheckpointError(
                "The checkpoint holds optimizer state (momentum, ...) that this trainer's "
                "kvstore cannot take: load it into a trainer that updates on this process.")
    else:
        updater.states = states
        updater.states_synced = dict.fromkeys(updater.states, True)
    optimizer = trainer.optimizer._optimizer
    optimizer.num_update = manifest["num_update"]
    counts = {int(k): v for k, v in manifest["index_update_count"].items()}
    # `_index_update_count` aliases a dict in `_all_index_update_counts`: update in place.
    tables = list(getattr(optimizer, "_all_index_update_counts", {}).values())
    for table in tables + [optimizer._index_update_count]:
        table.clear()
        table.update(counts)


def save_checkpoint(path, trainer, loader=None):
    """Save a trainer's parameters, optimizer state and history to ``path`` atomically.

    Parameters
    ----------
    path : str or Path
        Target file (conventionally ``*.npz``). Its folder must exist.
    trainer : dlbook.mxnet.train.Trainer
        Its deferred layers must have their shapes (train, evaluate or predict
        once), and its updates must run on this process: a trainer whose kvstore
        updates the weights (several devices, or a distributed kvstore) raises
        :class:`CheckpointError`.
    loader : dlbook.mxnet.data.ArrayLoader, optional
        Also save its shuffling state, so a resumed run sees batches in the
        same order as an uninterrupted one.

    Examples
    --------
    >>> import os, tempfile
    >>> from dlbook.mxnet import Trainer, mlp, load_array, xor_data
    >>> from dlbook.mxnet.checkpoint import save_checkpoint, load_checkpoint
    >>> data = load_array(xor_data(), batch_size=4, seed=0)
    >>> trainer = Trainer(mlp(hidden=4, num_outputs=2), loss="cross_entropy", optimizer="adam")
    >>> _ = trainer.fit(data, epochs=2, verbose=False)
    >>> path = os.path.join(tempfile.mkdtemp(), "run.npz")
    >>> save_checkpoint(path, trainer, loader=data)
    >>> fresh = Trainer(mlp(hidden=4, num_outputs=2), loss="cross_entropy", optimizer="adam")
    >>> load_checkpoint(path, fresh, loader=data)
    >>> len(fresh.history), fresh.history["loss"] == trainer.history["loss"]
    (2, True)
    """
    _format.save(path, trainer, loader)


def load_checkpoint(path, trainer, loader=None):
    """Restore what :func:`save_checkpoint` saved into a trainer (and loader).

    The trainer must hold the same network architecture, optimizer and
    ``lr_schedule``. After loading, ``trainer.fit`` continues from the saved
    epoch, and training continues exactly as an uninterrupted run would.

    Parameters
    ----------
    path : str or Path
        A file written by :func:`save_checkpoint` in this layer.
    trainer : dlbook.mxnet.train.Trainer
        Its parameters, optimizer state, history, update count and learning
        rate (and schedule) are replaced by the file's.
    loader : dlbook.mxnet.data.ArrayLoader, optional
        Also restore its shuffling state (if the file holds one), so a resumed
        run sees batches in the same order as an uninterrupted one.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    CheckpointError
        If the file is damaged, truncated, not a checkpoint, saved by the other
        layer, or does not match the network (names or shapes), the optimizer
        or the schedule; or if the trainer's kvstore updates the weights
        (several devices, or a distributed kvstore), whose optimizer state a
        checkpoint cannot restore. Nothing changes then.

    Examples
    --------
    >>> import os, tempfile
    >>> from dlbook.mxnet import Trainer, mlp, load_array, xor_data
    >>> from dlbook.mxnet.checkpoint import save_checkpoint, load_checkpoint
    >>> data = load_array(xor_data(), batch_size=4, seed=0)
    >>> first = Trainer(mlp(hidden=4, num_outputs=2), loss="cross_entropy", optimizer="adam")
    >>> _ = first.fit(data, epochs=3, verbose=False)
    >>> path = os.path.join(tempfile.mkdtemp(), "run.npz")
    >>> save_checkpoint(path, first)
    >>> second = Trainer(mlp(hidden=4, num_outputs=2), loss="cross_entropy", optimizer="adam")
    >>> load_checkpoint(path, second)
    >>> _ = second.fit(data, epochs=1, verbose=False)  # continues with epoch 4
    >>> second.history.epoch
    [1, 2, 3, 4]
    """
    _format.load(path, trainer, loader)
