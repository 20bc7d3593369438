"""Checkpoints: exact resume, atomic saves, clear errors for bad files."""
import os
import zipfile

import numpy as onp
import pytest

from dlbook import mxnet as dl
from dlbook.mxnet.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def _setup(optimizer, hidden=16, **kw):
    dl.seed_everything(0)
    (X, y), _ = dl.load_sklearn("digits", as_arrays=True)
    loader = dl.ArrayLoader(X[:600], y[:600], batch_size=64, shuffle=True, seed=1)
    trainer = dl.Trainer(dl.mlp(hidden=hidden, num_outputs=10), "cross_entropy", optimizer,
                         learning_rate=0.01, **kw)
    return trainer, loader


@pytest.mark.parametrize("optimizer, params", [
    ("sgd", {"momentum": 0.9}), ("adam", {}), ("rmsprop", {}),
])
def test_resumed_training_matches_uninterrupted_run(tmp_path, optimizer, params):
    trainer, loader = _setup(optimizer, optimizer_params=params)
    full = trainer.fit(loader, epochs=4, verbose=False)["loss"]

    trainer, loader = _setup(optimizer, optimizer_params=params)
    trainer.fit(loader, epochs=2, verbose=False)
    save_checkpoint(tmp_path / "run.npz", trainer, loader=loader)

    resumed, fresh_loader = _setup(optimizer, optimizer_params=params)
    load_checkpoint(tmp_path / "run.npz", resumed, loader=fresh_loader)
    history = resumed.fit(fresh_loader, epochs=2, verbose=False)
    assert history.epoch == [1, 2, 3, 4]
    assert history["loss"] == full  # bit for bit: same curve as without the interruption


def test_without_loader_state_the_order_differs(tmp_path):
    """The loader state matters: resuming with a fresh loader changes the curve."""
    trainer, loader = _setup("sgd")
    full = trainer.fit(loader, epochs=3, verbose=False)["loss"]
    trainer, loader = _setup("sgd")
    trainer.fit(loader, epochs=2, verbose=False)
    save_checkpoint(tmp_path / "run.npz", trainer)  # no loader
    resumed, fresh_loader = _setup("sgd")
    load_checkpoint(tmp_path / "run.npz", resumed)
    assert resumed.fit(fresh_loader, epochs=1, verbose=False)["loss"][-1] != full[-1]


def test_crash_mid_save_keeps_previous_checkpoint(tmp_path, monkeypatch):
    trainer, loader = _setup("adam")
    trainer.fit(loader, epochs=1, verbose=False)
    path = tmp_path / "run.npz"
    save_checkpoint(path, trainer, loader)
    before = path.read_bytes()
    trainer.fit(loader, epochs=1, verbose=False)

    def crash(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(onp, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, trainer, loader)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.npz"]  # no temporary left


def test_save_replaces_the_file_atomically(tmp_path):
    trainer, loader = _setup("sgd")
    path = tmp_path / "run.npz"
    for _ in range(2):
        trainer.fit(loader, epochs=1, verbose=False)
        save_checkpoint(path, trainer, loader)
    restored, _ = _setup("sgd")
    load_checkpoint(path, restored)
    assert len(restored.history) == 2


def _saved(tmp_path):
    trainer, loader = _setup("adam")
    trainer.fit(loader, epochs=1, verbose=False)
    path = tmp_path / "run.npz"
    save_checkpoint(path, trainer, loader)
    return path


def test_truncated_file_is_a_clear_error(tmp_path):
    path = _saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    trainer, _ = _setup("adam")
    with pytest.raises(CheckpointError, match="not a readable dlbook checkpoint"):
        load_checkpoint(path, trainer)


def test_random_bytes_are_a_clear_error(tmp_path):
    path = tmp_path / "noise.npz"
    path.write_bytes(os.urandom(2048))
    trainer, _ = _setup("adam")
    with pytest.raises(CheckpointError, match="not a readable dlbook checkpoint"):
        load_checkpoint(path, trainer)


def test_foreign_npz_is_a_clear_error(tmp_path):
    path = tmp_path / "other.npz"
    onp.savez(path, weights=onp.ones(3))
    trainer, _ = _setup("adam")
    with pytest.raises(CheckpointError, match="not a dlbook checkpoint \\(no manifest\\)"):
        load_checkpoint(path, trainer)


def test_pickled_payload_is_never_loaded(tmp_path):
    path = tmp_path / "evil.npz"
    onp.savez(path, manifest=onp.array([{"format": "dlbook-checkpoint"}], dtype=object))
    trainer, _ = _setup("adam")
    with pytest.raises(CheckpointError, match="Object arrays cannot be loaded"):
        load_checkpoint(path, trainer)


def test_other_architecture_is_a_clear_error(tmp_path):
    path = _saved(tmp_path)
    dl.seed_everything(0)
    other = dl.Trainer(dl.mlp(hidden=(16, 8), num_outputs=10), "cross_entropy", "adam")
    with pytest.raises(CheckpointError, match="does not fit this network"):
        load_checkpoint(path, other)


def test_other_shape_is_a_clear_error(tmp_path):
    path = _saved(tmp_path)
    other, loader = _setup("adam", hidden=20)
    other.fit(loader, epochs=1, verbose=False)
    with pytest.raises(CheckpointError, match="Parameter `0.weight` has shape \\(20, 64\\)"):
        load_checkpoint(path, other)


def test_other_optimizer_is_a_clear_error(tmp_path):
    path = _saved(tmp_path)
    other, _ = _setup("sgd")
    with pytest.raises(CheckpointError, match="saved with optimizer Adam"):
        load_checkpoint(path, other)


def test_failed_load_changes_nothing(tmp_path):
    path = _saved(tmp_path)
    other, loader = _setup("sgd")
    other.fit(loader, epochs=1, verbose=False)
    before = {k: p.data().asnumpy().copy() for k, p in other.net.collect_params().items()}
    with pytest.raises(CheckpointError):
        load_checkpoint(path, other)
    after = {k: p.data().asnumpy() for k, p in other.net.collect_params().items()}
    assert all((before[k] == after[k]).all() for k in before)
    assert len(other.history) == 1


def test_missing_file_and_bad_arguments(tmp_path):
    trainer, loader = _setup("sgd")
    with pytest.raises(FileNotFoundError, match="No checkpoint at `path`"):
        load_checkpoint(tmp_path / "none.npz", trainer)
    with pytest.raises(FileNotFoundError, match="folder of `path` does not exist"):
        save_checkpoint(tmp_path / "no" / "dir.npz", trainer)
    with pytest.raises(TypeError, match="Expected `trainer` to be a dlbook Trainer"):
        save_checkpoint(tmp_path / "x.npz", object())
    with pytest.raises(TypeError, match="Expected `loader` to be an ArrayLoader"):
        save_checkpoint(tmp_path / "x.npz", trainer, loader=[1, 2])


def test_checkpoint_is_a_plain_zip_with_a_manifest(tmp_path):
    path = _saved(tmp_path)
    names = zipfile.ZipFile(path).namelist()
    assert "manifest.npy" in names
    assert any(n.startswith("param/") for n in names)
    assert any(n.startswith("opt/") for n in names)
