"""The checkpoint file format, written once for both layers: save and resume training exactly.

A checkpoint is a NumPy ``.npz`` archive holding every parameter (``param/<name>``),
every optimizer state array (``opt/...``) and a JSON manifest (``manifest``):
format, version, framework, parameter names, optimizer name and counters,
the shape of the optimizer state, history, update count, learning-rate
schedule, the data loader's shuffling state and, in the PyTorch layer, the states
of PyTorch's random number generators (``rng/...``: dropout draws from them). It is read with
``allow_pickle=False``: loading a checkpoint never runs code from the file.

Saving is atomic: the archive is written to a temporary file in the same
folder, flushed to disk, and only then renamed over the target, so a crash
mid-save leaves the previous checkpoint intact. Loading checks everything
(format, framework, parameter names and shapes, optimizer) before it changes
anything.

Each layer's ``save_checkpoint`` / ``load_checkpoint``
(:mod:`dlbook.mxnet.checkpoint`, :mod:`dlbook.torch.checkpoint`) calls
:func:`save` / :func:`load`; the layer's trainer supplies its arrays through
``_checkpoint_params()``, ``_param_shapes()``, ``_checkpoint_optimizer(arrays)``,
``_optimizer_name()``, ``_restore_params(values)``,
``_restore_optimizer(manifest, arrays)``, ``_check_checkpointable(loading)`` (raises
:class:`CheckpointError` for a trainer whose state a checkpoint cannot hold, e.g.
MXNet's with updates on the kvstore) and, for the framework's random number
generators (PyTorch's; MXNet's cannot be read), ``_checkpoint_rng(arrays)`` and
``_restore_rng(spec, arrays)``. A file saved by one layer is read
only by the same layer (parameter names and optimizer states differ).
"""
import json
import zipfile
from pathlib import Path

import numpy as onp

from ._checks import check_path, describe
from ._files import atomic_open
from .callbacks import History
from .data import BaseArrayLoader

__all__ = ["FORMAT", "VERSION", "CheckpointError", "save", "load", "pack_state", "unpack_state"]

#: The manifest's ``format``: what marks an ``.npz`` archive as a dlbook checkpoint.
FORMAT = "dlbook-checkpoint"
#: The manifest's ``version``: the layout this code writes and reads.
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


# ---------------------------------------------------------- nested states
def pack_state(state, prefix, arrays, is_array, to_numpy):
    """Describe a nested state in JSON and move its arrays into ``arrays``.

    ``None``, numbers, strings and booleans stay in the description; a tuple
    becomes a JSON list, a list ``{"list": [...]}``, a dict ``{"dict": [[key,
    value], ...]}`` (keys keep their type, e.g. PyTorch's integer parameter
    ids; an entry's arrays are named ``prefix/key``, an item's ``prefix.i``), and an array (``is_array(x)``) ``{"array": name, "dtype": ...}`` with
    ``arrays[name] = to_numpy(x)``.

    Parameters
    ----------
    state : object
        The nested state: None, a bool, int, float or str, an array, or tuples,
        lists and dicts of these. Anything else raises TypeError.
    prefix : str
        The name under which ``state``'s arrays go into ``arrays``; nested
        entries extend it (``prefix/key`` for a dict's, ``prefix.i`` for a tuple's
        or list's).
    arrays : dict
        Receives ``{name: to_numpy(x)}`` for every array found (changed in place).
    is_array : callable
        ``is_array(x) -> bool``: whether ``x`` is one of the framework's arrays.
    to_numpy : callable
        ``to_numpy(x)``: the NumPy array of such an array.

    Returns
    -------
    object
        The JSON-serializable description that :func:`unpack_state` reads (None
        for a ``state`` of None).

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.checkpoint import pack_state, unpack_state
    >>> arrays = {}
    >>> spec = pack_state({0: (onp.ones(2), None), "lr": 0.1}, "opt", arrays,
    ...                   lambda x: isinstance(x, onp.ndarray), onp.asarray)
    >>> spec
    {'dict': [[0, [{'array': 'opt/0.0', 'dtype': 'float64'}, None]], ['lr', {'value': 0.1}]]}
    >>> unpack_state(spec, arrays, lambda a, dtype: a)
    {0: (array([1., 1.]), None), 'lr': 0.1}
    """
    if state is None:
        return None
    if isinstance(state, tuple):
        return [pack_state(s, f"{prefix}.{i}", arrays, is_array, to_numpy)
                for i, s in enumerate(state)]
    if isinstance(state, list):
        return {"list": [pack_state(s, f"{prefix}.{i}", arrays, is_array, to_numpy)
                         for i, s in enumerate(state)]}
    if isinstance(state, dict):
        return {"dict": [[k, pack_state(v, f"{prefix}/{k}", arrays, is_array, to_numpy)]
                         for k, v in state.items()]}
    if is_array(state):
        arrays[prefix] = to_numpy(state)
        return {"array": prefix, "dtype": str(arrays[prefix].dtype)}
    if isinstance(state, (bool, int, float, str)):
        return {"value": state}
    raise TypeError(f"Cannot save an optimizer state of type {type(state).__name__}: {describe(state)}.")


def unpack_state(spec, arrays, from_numpy):
    """Rebuild what :func:`pack_state` described; ``from_numpy(array, dtype)`` makes each array.

    Parameters
    ----------
    spec : object
        A description made by :func:`pack_state` (also after a JSON round trip,
        as read from a checkpoint's manifest).
    arrays : dict
        The NumPy arrays it names, ``{name: numpy.ndarray}``; a name missing
        from it raises KeyError.
    from_numpy : callable
        ``from_numpy(array, dtype)``: the framework's array for a NumPy array and
        the saved dtype (a string such as ``'float32'``).

    Returns
    -------
    object
        The state, with the tuples, lists, dicts, values and arrays that were packed.

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.checkpoint import unpack_state
    >>> unpack_state([{"array": "a", "dtype": "float32"}, {"list": [{"value": 3}]}],
    ...              {"a": onp.zeros(2, "float32")}, lambda a, dtype: a.tolist())
    ([0.0, 0.0], [3])
    """
    if spec is None:
        return None
    if isinstance(spec, list):
        return tuple(unpack_state(s, arrays, from_numpy) for s in spec)
    if "list" in spec:
        return [unpack_state(s, arrays, from_numpy) for s in spec["list"]]
    if "dict" in spec:
        return {k: unpack_state(v, arrays, from_numpy) for k, v in spec["dict"]}
    if "array" in spec:
        return from_numpy(arrays[spec["array"]], spec["dtype"])
    return spec["value"]


# ----------------------------------------------------------------- files
def write_archive(path, arrays, manifest):
    """Write ``arrays`` and the JSON ``manifest`` to ``path`` atomically (temporary file, fsync, rename)."""
    path = Path(path)
    arrays = dict(arrays)
    arrays["manifest"] = onp.frombuffer(json.dumps(manifest).encode("utf-8"), dtype=onp.uint8)
    with atomic_open(path, "wb") as f:
        onp.savez(f, **arrays)


def read_archive(path):
    """Read and check a checkpoint: ``(manifest, arrays)``; never unpickles anything."""
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
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise CheckpointError(f"{path} is not a dlbook checkpoint (format {found!r}).")
    if manifest.get("version") != VERSION:
        raise CheckpointError(
            f"{path} has checkpoint version {manifest.get('version')}; this dlbook reads "
            f"version {VERSION}."
        )
    return manifest, arrays


# --------------------------------------------------------- save and load
def _check_arguments(trainer, loader):
    from .training import BaseTrainer

    if not isinstance(trainer, BaseTrainer):
        raise TypeError(f"Expected `trainer` to be a dlbook Trainer, got {describe(trainer)}.")
    if loader is not None and not isinstance(loader, BaseArrayLoader):
        raise TypeError(f"Expected `loader` to be an ArrayLoader, got {describe(loader)}.")


def save(path, trainer, loader=None):
    """Save a trainer's parameters, optimizer state and history (and a loader's order) to ``path``.

    The layers' ``save_checkpoint`` (same arguments) calls it; see
    :func:`dlbook.mxnet.checkpoint.save_checkpoint`.

    Parameters
    ----------
    path : str or Path
        Target file (conventionally ``*.npz``), written atomically. Its folder
        must exist (else FileNotFoundError).
    trainer : dlbook.training.BaseTrainer
        A trainer of either layer (:class:`dlbook.mxnet.train.Trainer`,
        :class:`dlbook.torch.train.Trainer`); anything else raises TypeError.
    loader : dlbook.data.BaseArrayLoader, optional
        Also save its shuffling state, so a resumed run sees batches in the
        same order as an uninterrupted one. Anything but an array loader raises
        TypeError.

    Examples
    --------
    >>> import os, tempfile
    >>> from dlbook import checkpoint
    >>> from dlbook.torch import Trainer, mlp, load_array, xor_data
    >>> trainer = Trainer(mlp(hidden=4, num_outputs=2), loss="cross_entropy")
    >>> _ = trainer.fit(load_array(xor_data(), batch_size=2), epochs=1, verbose=False)
    >>> path = os.path.join(tempfile.mkdtemp(), "run.npz")
    >>> checkpoint.save(path, trainer)
    >>> manifest, arrays = checkpoint.read_archive(path)
    >>> manifest["framework"], manifest["updates"], sorted(arrays)[:2]
    ('torch', 2, ['param/1.bias', 'param/1.weight'])
    """
    path = check_path("path", path)
    _check_arguments(trainer, loader)
    trainer._check_checkpointable()
    if not path.parent.is_dir():
        raise FileNotFoundError(f"The folder of `path` does not exist: {path.parent}")
    arrays = {}
    params = trainer._checkpoint_params()
    for name, value in params.items():
        arrays[f"param/{name}"] = value
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "framework": trainer._framework,
        "params": list(params),
        **trainer._checkpoint_optimizer(arrays),
        "history": {"epoch": trainer.history.epoch, "values": trainer.history.history},
        "updates": int(trainer.num_updates),
        "learning_rate": float(trainer.learning_rate),
        "lr_schedule": None if trainer.lr_schedule is None else trainer.lr_schedule.config(),
        "loader_rng": None if loader is None else loader._rng.bit_generator.state,
        "framework_rng": trainer._checkpoint_rng(arrays),
    }
    write_archive(path, arrays, manifest)


def _fits(shape, saved):
    """Whether a saved array's shape fits a network's (None: a dimension not known yet)."""
    return len(shape) == len(saved) and all(s is None or s == v for s, v in zip(shape, saved))


def _shape_text(shape):
    """A shape for messages, '?' for a dimension not known yet: (5, ?)."""
    dims = ["?" if s is None else str(s) for s in shape]
    return f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"


def load(path, trainer, loader=None):
    """Restore what :func:`save` saved into a trainer (and loader); checks everything first.

    The layers' ``load_checkpoint`` (same arguments) calls it; see
    :func:`dlbook.mxnet.checkpoint.load_checkpoint`.

    Parameters
    ----------
    path : str or Path
        A file written by :func:`save`; a missing file raises FileNotFoundError,
        one that is not a checkpoint of this trainer's layer, network, optimizer
        and ``lr_schedule`` raises :class:`CheckpointError`.
    trainer : dlbook.training.BaseTrainer
        A trainer of the layer that saved the file, with the same architecture,
        optimizer and ``lr_schedule``; anything but a dlbook trainer raises
        TypeError. Its parameters, optimizer state, history, update count,
        learning rate (and schedule) are replaced.
    loader : dlbook.data.BaseArrayLoader, optional
        Also restore its shuffling state, if the file holds one. Anything but an
        array loader raises TypeError.

    Examples
    --------
    >>> import os, tempfile
    >>> from dlbook import checkpoint
    >>> from dlbook.torch import Trainer, mlp, load_array, xor_data
    >>> first = Trainer(mlp(hidden=4, num_outputs=2), loss="cross_entropy")
    >>> _ = first.fit(load_array(xor_data(), batch_size=2), epochs=3, verbose=False)
    >>> path = os.path.join(tempfile.mkdtemp(), "run.npz")
    >>> checkpoint.save(path, first)
    >>> second = Trainer(mlp(hidden=4, num_outputs=2), loss="cross_entropy")
    >>> checkpoint.load(path, second)
    >>> second.history.epoch, second.num_updates
    ([1, 2, 3], 6)
    """
    path = check_path("path", path)
    _check_arguments(trainer, loader)
    trainer._check_checkpointable(loading=True)  # before anything changes, as every check below
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at `path` {path}.")
    manifest, arrays = read_archive(path)
    framework = manifest.get("framework", "mxnet")
    if framework != trainer._framework:
        raise CheckpointError(
            f"{path} was saved by dlbook's {framework} layer, but the trainer belongs to the "
            f"{trainer._framework} layer. Load it with a trainer of "
            f"`from dlbook import {framework} as dl`."
        )
    shapes = trainer._param_shapes()
    saved = manifest["params"]
    if sorted(saved) != sorted(shapes):
        extra = sorted(set(saved) - set(shapes))
        missing = sorted(set(shapes) - set(saved))
        raise CheckpointError(
            f"{path} does not fit this network: parameters only in the file {extra[:5]}, "
            f"only in the network {missing[:5]}. Build the same architecture before loading."
        )
    if manifest["optimizer"] != trainer._optimizer_name():
        raise CheckpointError(
            f"{path} was saved with optimizer {manifest['optimizer']}, but the trainer uses "
            f"{trainer._optimizer_name()}."
        )
    for name in saved:
        value, shape = arrays[f"param/{name}"], shapes[name]
        if shape is not None and not _fits(shape, value.shape):
            raise CheckpointError(
                f"Parameter `{name}` has shape {_shape_text(shape)} in the network but "
                f"{value.shape} in {path}."
            )
    schedule = manifest.get("lr_schedule")
    mine = trainer.lr_schedule
    if (schedule is None) != (mine is None) or (mine is not None and schedule["name"] != mine.name):
        raise CheckpointError(
            f"{path} was saved with lr_schedule {None if schedule is None else schedule['name']!r}, "
            f"but the trainer uses {None if mine is None else mine.name!r}. Build the trainer "
            "with the same `lr_schedule`."
        )
    # Everything checked: now change state.
    trainer._restore_params({name: arrays[f"param/{name}"] for name in saved})
    trainer._restore_optimizer(manifest, arrays)
    trainer._restore_rng(manifest.get("framework_rng"), arrays)
    history = History()  # as saved, also when a key (e.g. val_loss) misses some epochs
    history.epoch = [int(e) for e in manifest["history"]["epoch"]]
    history.history = {k: [float(v) for v in series]
                       for k, series in manifest["history"]["values"].items()}
    trainer.history = history
    trainer.num_updates = int(manifest.get("updates", 0))
    if manifest.get("learning_rate") is not None:
        trainer.set_learning_rate(manifest["learning_rate"])
    if mine is not None:
        mine.load_config(schedule)
    if loader is not None and manifest.get("loader_rng") is not None:
        loader._rng.bit_generator.state = manifest["loader_rng"]
