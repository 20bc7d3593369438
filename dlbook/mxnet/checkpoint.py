"""Save and resume training: parameters, optimizer state and history in one file.

A checkpoint is a NumPy ``.npz`` archive holding every parameter, every
optimizer state array and a JSON manifest (format, version, history, epoch,
optimizer counters, the data loader's shuffling state). It is read with
``allow_pickle=False``: loading a checkpoint never runs code from the file.

Saving is atomic: the archive is written to a temporary file in the same
folder, flushed to disk, and only then renamed over the target, so a crash
mid-save leaves the previous checkpoint intact.
"""
import json
import os
import tempfile
import zipfile
from pathlib import Path

import mxnet as mx
import numpy as onp

from .._checks import describe

__all__ = ["save_checkpoint", "load_checkpoint", "CheckpointError"]

FORMAT = "dlbook-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A file is not a dlbook checkpoint, is damaged, or does not fit the model.

    Examples
    --------
    >>> import os, tempfile
    >>> from dlbook.mxnet import Trainer, mlp
    >>> from dlbook.mxnet.checkpoint import CheckpointError, load_checkpoint
    >>> path = os.path.join(tempfile.mkdtemp(), "broken.npz")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(b"not a checkpoint")
    >>> try:
    ...     load_checkpoint(path, Trainer(mlp(hidden=4, num_outputs=2), loss="cross_entropy"))
    ... except CheckpointError as err:
    ...     print("not a readable dlbook checkpoint" in str(err))
    True
    """


def _flatten_state(state, prefix, arrays):
    """Describe an optimizer state (None, array, or nested tuple) and collect its arrays."""
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return [_flatten_state(s, f"{prefix}.{i}", arrays) for i, s in enumerate(state)]
    arrays[prefix] = state.asnumpy()
    return {"array": prefix, "dtype": str(arrays[prefix].dtype)}


def _restore_state(spec, arrays, device):
    if spec is None:
        return None
    if isinstance(spec, list):
        return tuple(_restore_state(s, arrays, device) for s in spec)
    return mx.nd.array(arrays[spec["array"]], ctx=device, dtype=spec["dtype"])


def _updater(trainer):
    gluon_trainer = trainer.optimizer
    if not gluon_trainer._updaters:
        raise CheckpointError("The trainer's optimizer has no local updater (kvstore updates); "
                              "checkpoints support local training only.")
    return gluon_trainer._updaters[0]


def save_checkpoint(path, trainer, loader=None):
    """Save a trainer's parameters, optimizer state and history to ``path`` atomically.

    Parameters
    ----------
    path : str or Path
        Target file (conventionally ``*.npz``). Its folder must exist.
    trainer : dlbook.mxnet.train.Trainer
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
    from .data import ArrayLoader
    from .train import Trainer

    if not isinstance(trainer, Trainer):
        raise TypeError(f"Expected `trainer` to be a dlbook Trainer, got {describe(trainer)}.")
    if loader is not None and not isinstance(loader, ArrayLoader):
        raise TypeError(f"Expected `loader` to be an ArrayLoader, got {describe(loader)}.")
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"The folder of `path` does not exist: {path.parent}")
    arrays = {}
    params = trainer.net._collect_params_with_prefix()  # structural names: "0.weight", ...
    names = list(params.keys())
    for name in names:
        arrays[f"param/{name}"] = params[name].data().asnumpy()
    updater = _updater(trainer)
    states = {str(i): _flatten_state(s, f"opt/{i}", arrays) for i, s in updater.states.items()}
    optimizer = trainer.optimizer._optimizer
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "params": names,
        "optimizer": type(optimizer).__name__,
        "num_update": int(optimizer.num_update),
        "index_update_count": {str(k): int(v) for k, v in optimizer._index_update_count.items()},
        "states": states,
        "history": {"epoch": trainer.history.epoch, "values": trainer.history.history},
        "loader_rng": None if loader is None else loader._rng.bit_generator.state,
    }
    arrays["manifest"] = onp.frombuffer(json.dumps(manifest).encode("utf-8"), dtype=onp.uint8)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            onp.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read(path):
    try:
        with onp.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        raise CheckpointError(
            f"{path} is not a readable dlbook checkpoint (damaged, truncated or another "
            f"format): {type(err).__name__}: {err}"
        ) from err
    if "manifest" not in arrays:
        raise CheckpointError(f"{path} is an .npz archive but not a dlbook checkpoint (no manifest).")
    try:
        manifest = json.loads(arrays.pop("manifest").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path} has a damaged manifest: {err}") from err
    if manifest.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a dlbook checkpoint (format {manifest.get('format')!r}).")
    if manifest.get("version") != VERSION:
        raise CheckpointError(
            f"{path} has checkpoint version {manifest.get('version')}; this dlbook reads "
            f"version {VERSION}."
        )
    return manifest, arrays


@mx.util.use_np
def load_checkpoint(path, trainer, loader=None):
    """Restore what :func:`save_checkpoint` saved into a trainer (and loader).

    The trainer must hold the same network architecture and optimizer. After
    loading, ``trainer.fit`` continues from the saved epoch, and training
    continues exactly as an uninterrupted run would.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    CheckpointError
        If the file is damaged, truncated, not a checkpoint, or does not match
        the network (names or shapes) or the optimizer.

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
    from .data import ArrayLoader
    from .train import History, Trainer

    if not isinstance(trainer, Trainer):
        raise TypeError(f"Expected `trainer` to be a dlbook Trainer, got {describe(trainer)}.")
    if loader is not None and not isinstance(loader, ArrayLoader):
        raise TypeError(f"Expected `loader` to be an ArrayLoader, got {describe(loader)}.")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at `path` {path}.")
    manifest, arrays = _read(path)
    params = trainer.net._collect_params_with_prefix()
    saved = manifest["params"]
    if sorted(saved) != sorted(params.keys()):
        extra = sorted(set(saved) - set(params.keys()))
        missing = sorted(set(params.keys()) - set(saved))
        raise CheckpointError(
            f"{path} does not fit this network: parameters only in the file {extra[:5]}, "
            f"only in the network {missing[:5]}. Build the same architecture before loading."
        )
    optimizer = trainer.optimizer._optimizer
    if manifest["optimizer"] != type(optimizer).__name__:
        raise CheckpointError(
            f"{path} was saved with optimizer {manifest['optimizer']}, but the trainer uses "
            f"{type(optimizer).__name__}."
        )
    for name in saved:
        value = arrays[f"param/{name}"]
        param = params[name]
        if param.shape is not None and all(d > 0 for d in param.shape) and tuple(param.shape) != value.shape:
            raise CheckpointError(
                f"Parameter `{name}` has shape {tuple(param.shape)} in the network but "
                f"{value.shape} in {path}."
            )
    # Everything checked: now change state.
    device = trainer.device
    for name in saved:
        param = params[name]
        value = mx.np.array(arrays[f"param/{name}"], dtype=arrays[f"param/{name}"].dtype, ctx=device)
        if param._data is None:  # deferred initialization: give it its shape now
            param.shape = value.shape
            param._finish_deferred_init()
        param.set_data(value)
    updater = _updater(trainer)
    updater.states = {int(i): _restore_state(spec, arrays, device)
                      for i, spec in manifest["states"].items()}
    updater.states_synced = dict.fromkeys(updater.states, True)
    optimizer.num_update = manifest["num_update"]
    counts = {int(k): v for k, v in manifest["index_update_count"].items()}
    # `_index_update_count` aliases a dict in `_all_index_update_counts`: update in place.
    tables = list(getattr(optimizer, "_all_index_update_counts", {}).values())
    for table in tables + [optimizer._index_update_count]:
        table.clear()
        table.update(counts)
    history = History()
    values = manifest["history"]["values"]
    for k, epoch in enumerate(manifest["history"]["epoch"]):
        history.append(epoch, {key: series[k] for key, series in values.items()})
    trainer.history = history
    if loader is not None and manifest.get("loader_rng") is not None:
        loader._rng.bit_generator.state = manifest["loader_rng"]
