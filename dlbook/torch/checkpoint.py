"""Save and resume training: parameters, optimizer state and history in one file (PyTorch).

The file format is :mod:`dlbook.checkpoint`'s, shared with the MXNet layer: a
NumPy ``.npz`` archive with every tensor of the network's ``state_dict``
(parameters and buffers such as batch-norm statistics), every tensor of the
optimizer's ``state_dict`` and a JSON manifest for the rest (hyper-parameters,
step counts), read with ``allow_pickle=False`` (no ``torch.load``, no pickle:
loading never runs code from the file) and saved atomically. It also holds the
states of PyTorch's random number generators (CPU, and each CUDA device in use),
which :func:`load_checkpoint` restores: a resumed run continues bit for bit like
an uninterrupted one, with dropout too.
"""
from .. import checkpoint as _format
from ..checkpoint import CheckpointError

__all__ = ["save_checkpoint", "load_checkpoint", "CheckpointError"]


def save_checkpoint(path, trainer, loader=None):
    """Save a trainer's parameters, optimizer state and history to ``path`` atomically.

    Parameters
    ----------
    path : str or Path
        Target file (conventionally ``*.npz``). Its folder must exist.
    trainer : dlbook.torch.train.Trainer
        Its lazy layers must have their shapes (train, evaluate or predict once).
    loader : dlbook.torch.data.ArrayLoader, optional
        Also save its shuffling state, so a resumed run sees batches in the
        same order as an uninterrupted one.

    Examples
    --------
    >>> import os, tempfile
    >>> from dlbook.torch import Trainer, mlp, load_array, xor_data
    >>> from dlbook.torch.checkpoint import save_checkpoint, load_checkpoint
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
    ``lr_schedule``; its lazy layers may still be without shapes (the file
    gives them). After loading, ``trainer.fit`` continues from the saved
    epoch, exactly as an uninterrupted run would.

    Parameters
    ----------
    path : str or Path
        A file written by :func:`save_checkpoint` in this layer.
    trainer : dlbook.torch.train.Trainer
        Its parameters (and buffers), optimizer state, history, update count,
        learning rate (and schedule) and PyTorch's random number generators are
        replaced by the file's.
    loader : dlbook.torch.data.ArrayLoader, optional
        Also restore its shuffling state (if the file holds one), so a resumed
        run sees batches in the same order as an uninterrupted one.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    CheckpointError
        If the file is damaged, truncated, not a checkpoint, saved by the other
        layer, or does not match the network (names or shapes), the optimizer
        or the schedule.

    Examples
    --------
    >>> import os, tempfile
    >>> from dlbook.torch import Trainer, mlp, load_array, xor_data
    >>> from dlbook.torch.checkpoint import save_checkpoint, load_checkpoint
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
