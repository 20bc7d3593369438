"""Checkpoints in both layers: exact resume, atomic saves, clear errors for bad files."""
import importlib
import json
import os
import zipfile

import numpy as onp
import pytest

from dlbook import checkpoint as core
from dlbook import schedules
from dlbook.checkpoint import CheckpointError


def _setup(dl, optimizer, hidden=16, dropout=0.0, batch_norm=False, **kw):
    dl.seed_everything(0)
    (X, y), _ = dl.load_sklearn("digits", as_arrays=True)
    loader = dl.ArrayLoader(X[:600], y[:600], batch_size=64, shuffle=True, seed=1)
    net = dl.mlp(hidden=hidden, num_outputs=10, dropout=dropout, batch_norm=batch_norm)
    trainer = dl.Trainer(net, "cross_entropy", optimizer, learning_rate=0.01, **kw)
    return trainer, loader


def _params(trainer):
    return trainer._checkpoint_params()


@pytest.mark.parametrize("optimizer, params", [
    ("sgd", {"momentum": 0.9}), ("adam", {}), ("rmsprop", {}), ("adagrad", {}),
])
def test_resumed_training_matches_uninterrupted_run(dl, tmp_path, optimizer, params):
    trainer, loader = _setup(dl, optimizer, optimizer_params=params)
    full = trainer.fit(loader, epochs=4, verbose=False)["loss"]
    full_params = _params(trainer)

    trainer, loader = _setup(dl, optimizer, optimizer_params=params)
    trainer.fit(loader, epochs=2, verbose=False)
    dl.save_checkpoint(tmp_path / "run.npz", trainer, loader=loader)

    resumed, fresh_loader = _setup(dl, optimizer, optimizer_params=params)
    dl.load_checkpoint(tmp_path / "run.npz", resumed, loader=fresh_loader)
    history = resumed.fit(fresh_loader, epochs=2, verbose=False)
    assert history.epoch == [1, 2, 3, 4]
    assert history["loss"] == full  # bit for bit: same curve as without the interruption
    after = _params(resumed)
    assert sorted(after) == sorted(full_params)
    assert all(onp.array_equal(after[k], full_params[k]) for k in after)  # and the same parameters


def test_resume_with_a_schedule_and_batch_norm(dl, tmp_path):
    def setup():
        return _setup(dl, "sgd", batch_norm=True, optimizer_params={"momentum": 0.9},
                      lr_schedule=schedules.Cosine(total=40, warmup=5))

    trainer, loader = setup()
    full = trainer.fit(loader, epochs=4, verbose=False)["loss"]
    full_params = _params(trainer)
    trainer, loader = setup()
    trainer.fit(loader, epochs=2, verbose=False)
    dl.save_checkpoint(tmp_path / "run.npz", trainer, loader=loader)
    resumed, fresh_loader = setup()
    dl.load_checkpoint(tmp_path / "run.npz", resumed, loader=fresh_loader)
    assert resumed.num_updates == 20 and resumed.learning_rate == trainer.learning_rate
    assert resumed.fit(fresh_loader, epochs=2, verbose=False)["loss"] == full
    after = _params(resumed)
    assert any("running" in k or "moving" in k for k in after)  # batch-norm statistics travel too
    assert all(onp.array_equal(after[k], full_params[k]) for k in after)


def test_a_schedule_left_open_is_fixed_by_the_checkpoint(dl, tmp_path):
    trainer, loader = _setup(dl, "sgd", lr_schedule="step")
    trainer.fit(loader, epochs=3, verbose=False)  # step_size = ceil(30 / 3) = 10
    dl.save_checkpoint(tmp_path / "run.npz", trainer, loader=loader)
    resumed, _ = _setup(dl, "sgd", lr_schedule="step")
    dl.load_checkpoint(tmp_path / "run.npz", resumed)
    assert resumed.lr_schedule.step_size == 10 == trainer.lr_schedule.step_size
    other, _ = _setup(dl, "sgd", lr_schedule="cosine")
    with pytest.raises(CheckpointError, match=r"saved with lr_schedule 'step', but the trainer uses 'cosine'"):
        dl.load_checkpoint(tmp_path / "run.npz", other)


def test_without_loader_state_the_order_differs(dl, tmp_path):
    """The loader state matters: resuming with a fresh loader changes the curve."""
    trainer, loader = _setup(dl, "sgd")
    full = trainer.fit(loader, epochs=3, verbose=False)["loss"]
    trainer, loader = _setup(dl, "sgd")
    trainer.fit(loader, epochs=2, verbose=False)
    dl.save_checkpoint(tmp_path / "run.npz", trainer)  # no loader
    resumed, fresh_loader = _setup(dl, "sgd")
    dl.load_checkpoint(tmp_path / "run.npz", resumed)
    assert resumed.fit(fresh_loader, epochs=1, verbose=False)["loss"][-1] != full[-1]


def test_crash_mid_save_keeps_previous_checkpoint(dl, tmp_path, monkeypatch):
    trainer, loader = _setup(dl, "adam")
    trainer.fit(loader, epochs=1, verbose=False)
    path = tmp_path / "run.npz"
    dl.save_checkpoint(path, trainer, loader)
    before = path.read_bytes()
    trainer.fit(loader, epochs=1, verbose=False)

    def crash(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(onp, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        dl.save_checkpoint(path, trainer, loader)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.npz"]  # no temporary left


def test_save_replaces_the_file_atomically(dl, tmp_path):
    trainer, loader = _setup(dl, "sgd")
    path = tmp_path / "run.npz"
    for _ in range(2):
        trainer.fit(loader, epochs=1, verbose=False)
        dl.save_checkpoint(path, trainer, loader)
    restored, _ = _setup(dl, "sgd")
    dl.load_checkpoint(path, restored)
    assert len(restored.history) == 2


def test_history_with_keys_missing_in_some_epochs_is_restored_as_it_was(dl, tmp_path):
    trainer, loader = _setup(dl, "sgd")
    trainer.fit(loader, epochs=1, validation_data=loader, verbose=False)
    trainer.fit(loader, epochs=1, verbose=False)  # no val_loss for epoch 2
    dl.save_checkpoint(tmp_path / "run.npz", trainer)
    restored, _ = _setup(dl, "sgd")
    dl.load_checkpoint(tmp_path / "run.npz", restored)
    assert restored.history.history == trainer.history.history
    assert restored.history.epoch == [1, 2]


def _saved(dl, tmp_path):
    trainer, loader = _setup(dl, "adam")
    trainer.fit(loader, epochs=1, verbose=False)
    path = tmp_path / "run.npz"
    dl.save_checkpoint(path, trainer, loader)
    return path


def test_truncated_file_is_a_clear_error(dl, tmp_path):
    path = _saved(dl, tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    trainer, _ = _setup(dl, "adam")
    with pytest.raises(CheckpointError, match="not a readable dlbook checkpoint"):
        dl.load_checkpoint(path, trainer)


def test_random_bytes_are_a_clear_error(dl, tmp_path):
    path = tmp_path / "noise.npz"
    path.write_bytes(os.urandom(2048))
    trainer, _ = _setup(dl, "adam")
    with pytest.raises(CheckpointError, match="not a readable dlbook checkpoint"):
        dl.load_checkpoint(path, trainer)


def test_foreign_npz_is_a_clear_error(dl, tmp_path):
    path = tmp_path / "other.npz"
    onp.savez(path, weights=onp.ones(3))
    trainer, _ = _setup(dl, "adam")
    with pytest.raises(CheckpointError, match="not a dlbook checkpoint \\(no manifest\\)"):
        dl.load_checkpoint(path, trainer)


def test_pickled_payload_is_never_loaded(dl, tmp_path):
    path = tmp_path / "evil.npz"
    onp.savez(path, manifest=onp.array([{"format": "dlbook-checkpoint"}], dtype=object))
    trainer, _ = _setup(dl, "adam")
    with pytest.raises(CheckpointError, match="Object arrays cannot be loaded"):
        dl.load_checkpoint(path, trainer)


def test_other_version_and_format_are_clear_errors(dl, tmp_path):
    trainer, _ = _setup(dl, "adam")
    for manifest, message in [({"format": "dlbook-checkpoint", "version": 99}, "checkpoint version 99"),
                              ({"format": "keras"}, "not a dlbook checkpoint \\(format 'keras'\\)")]:
        path = tmp_path / "m.npz"
        onp.savez(path, manifest=onp.frombuffer(json.dumps(manifest).encode(), dtype=onp.uint8))
        with pytest.raises(CheckpointError, match=message):
            dl.load_checkpoint(path, trainer)


def test_a_checkpoint_of_the_other_layer_is_a_clear_error(dl, tmp_path):
    import importlib

    other = importlib.import_module("dlbook.torch" if dl.FRAMEWORK == "mxnet" else "dlbook.mxnet")
    path = _saved(other, tmp_path)
    trainer, _ = _setup(dl, "adam")
    with pytest.raises(CheckpointError, match=rf"saved by dlbook's {other.FRAMEWORK} layer, but the trainer belongs to the {dl.FRAMEWORK} layer"):
        dl.load_checkpoint(path, trainer)


def test_other_architecture_is_a_clear_error(dl, tmp_path):
    path = _saved(dl, tmp_path)
    dl.seed_everything(0)
    other = dl.Trainer(dl.mlp(hidden=(16, 8), num_outputs=10), "cross_entropy", "adam")
    with pytest.raises(CheckpointError, match="does not fit this network"):
        dl.load_checkpoint(path, other)


def test_other_shape_is_a_clear_error(dl, tmp_path):
    path = _saved(dl, tmp_path)
    other, loader = _setup(dl, "adam", hidden=20)
    other.fit(loader, epochs=1, verbose=False)
    with pytest.raises(CheckpointError, match=r"Parameter `\d\.weight` has shape \(20, 64\) in the network but \(16, 64\)"):
        dl.load_checkpoint(path, other)


def test_other_optimizer_is_a_clear_error(dl, tmp_path):
    path = _saved(dl, tmp_path)
    other, _ = _setup(dl, "sgd")
    with pytest.raises(CheckpointError, match="saved with optimizer Adam, but the trainer uses SGD"):
        dl.load_checkpoint(path, other)


def test_failed_load_changes_nothing(dl, tmp_path):
    path = _saved(dl, tmp_path)
    other, loader = _setup(dl, "sgd")
    other.fit(loader, epochs=1, verbose=False)
    before = _params(other)
    with pytest.raises(CheckpointError):
        dl.load_checkpoint(path, other)
    after = _params(other)
    assert all((before[k] == after[k]).all() for k in before)
    assert len(other.history) == 1


def test_a_fresh_lazy_network_takes_its_shapes_from_the_file(dl, tmp_path):
    path = _saved(dl, tmp_path)
    saved, _ = _setup(dl, "adam")
    dl.load_checkpoint(path, saved)  # never run: shapes unknown until now
    (X, _), _ = dl.load_sklearn("digits", as_arrays=True)
    reference, _ = _setup(dl, "adam")
    dl.load_checkpoint(path, reference)
    onp.testing.assert_array_equal(saved.predict(X[:5]), reference.predict(X[:5]))
    assert saved.predict(X[:5]).shape == (5, 10)


def test_a_fresh_lazy_network_of_another_width_is_refused(dl, tmp_path):
    """A network whose layers know their widths but not yet their inputs (Gluon's deferred
    initialization, PyTorch's lazy layers) must not take another width from the file."""
    path = _saved(dl, tmp_path)
    other, _ = _setup(dl, "adam", hidden=20)  # never run
    with pytest.raises(CheckpointError, match=r"Parameter `\d\.weight` has shape \(20, \?\) in the network but \(16, 64\)"):
        dl.load_checkpoint(path, other)


def test_missing_file_and_bad_arguments(dl, tmp_path):
    trainer, loader = _setup(dl, "sgd")
    with pytest.raises(FileNotFoundError, match="No checkpoint at `path`"):
        dl.load_checkpoint(tmp_path / "none.npz", trainer)
    with pytest.raises(FileNotFoundError, match="folder of `path` does not exist"):
        dl.save_checkpoint(tmp_path / "no" / "dir.npz", trainer)
    with pytest.raises(TypeError, match="Expected `trainer` to be a dlbook Trainer"):
        dl.save_checkpoint(tmp_path / "x.npz", object())
    with pytest.raises(TypeError, match="Expected `loader` to be an ArrayLoader"):
        dl.save_checkpoint(tmp_path / "x.npz", trainer, loader=[1, 2])


def test_checkpoint_is_a_plain_zip_with_a_manifest(dl, tmp_path):
    path = _saved(dl, tmp_path)
    names = zipfile.ZipFile(path).namelist()
    assert "manifest.npy" in names
    assert any(n.startswith("param/") for n in names)
    assert any(n.startswith("opt/") for n in names)
    manifest, _ = core.read_archive(path)
    assert (manifest["format"], manifest["version"], manifest["framework"]) == (
        "dlbook-checkpoint", 1, dl.FRAMEWORK)
    assert manifest["updates"] == 10 and manifest["history"]["epoch"] == [1]


def test_both_layers_write_the_format_of_the_core(dl):
    assert dl.checkpoint.CheckpointError is CheckpointError
    assert dl.load_checkpoint.__module__ == f"dlbook.{dl.FRAMEWORK}.checkpoint"


def test_pack_state_round_trips_nested_states():
    arrays = {}
    state = {"state": {0: {"step": onp.float32(3.0) * onp.ones(()), "exp_avg": onp.arange(3.0)}},
             "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1], "foreach": None,
                               "nesterov": False, "name": "all"}]}
    spec = core.pack_state(state, "opt", arrays, lambda x: isinstance(x, onp.ndarray), onp.asarray)
    json.dumps(spec)  # JSON only: no pickle
    back = core.unpack_state(json.loads(json.dumps(spec)), arrays, lambda a, dtype: a.astype(dtype))
    assert back["param_groups"] == state["param_groups"]
    assert list(back["state"]) == [0]  # integer keys stay integers
    onp.testing.assert_array_equal(back["state"][0]["exp_avg"], state["state"][0]["exp_avg"])
    with pytest.raises(TypeError, match="Cannot save an optimizer state of type object"):
        core.pack_state(object(), "x", {}, lambda x: False, onp.asarray)


# ---------------------------------------------------------- PyTorch only
def test_torch_adamw_resumes_exactly(tmp_path):
    from dlbook import torch as dl

    trainer, loader = _setup(dl, "adamw")
    full = trainer.fit(loader, epochs=3, verbose=False)["loss"]
    trainer, loader = _setup(dl, "adamw")
    trainer.fit(loader, epochs=1, verbose=False)
    dl.save_checkpoint(tmp_path / "run.npz", trainer, loader=loader)
    resumed, fresh = _setup(dl, "adamw")
    dl.load_checkpoint(tmp_path / "run.npz", resumed, loader=fresh)
    assert resumed.fit(fresh, epochs=2, verbose=False)["loss"] == full


@pytest.mark.parametrize("framework, what", [("torch", "lazy layers"),
                                             ("mxnet", "deferred parameters")])
def test_an_unbuilt_network_cannot_be_saved(tmp_path, framework, what):
    dl = importlib.import_module(f"dlbook.{framework}")
    trainer, _ = _setup(dl, "sgd")
    with pytest.raises(CheckpointError, match=f"Nothing to save yet: the network's {what}"):
        dl.save_checkpoint(tmp_path / "x.npz", trainer)
    assert not (tmp_path / "x.npz").exists()


def test_torch_resume_with_dropout_is_exact_because_the_generator_state_travels(tmp_path):
    import torch

    from dlbook import torch as dl

    def setup():
        return _setup(dl, "adam", hidden=(32, 32), dropout=0.5)

    trainer, loader = setup()
    full = trainer.fit(loader, epochs=4, verbose=False)["loss"]
    full_params = _params(trainer)
    trainer, loader = setup()
    trainer.fit(loader, epochs=2, verbose=False)
    dl.save_checkpoint(tmp_path / "run.npz", trainer, loader=loader)
    manifest, arrays = core.read_archive(tmp_path / "run.npz")
    assert manifest["framework_rng"]["cpu"] == "rng/cpu" and arrays["rng/cpu"].dtype == onp.uint8

    resumed, fresh = setup()  # reseeds: the generator is back at its state before epoch 1
    dl.load_checkpoint(tmp_path / "run.npz", resumed, loader=fresh)
    assert resumed.fit(fresh, epochs=2, verbose=False)["loss"] == full
    after = _params(resumed)
    assert all(onp.array_equal(after[k], full_params[k]) for k in after)

    # the control: the same resume with the generator reset after loading draws other
    # dropout masks, so the check above could fail
    control, fresh = setup()
    dl.load_checkpoint(tmp_path / "run.npz", control, loader=fresh)
    torch.manual_seed(0)
    assert control.fit(fresh, epochs=2, verbose=False)["loss"][2:] != full[2:]


def test_torch_damaged_generator_state_is_a_clear_error(tmp_path):
    from dlbook import torch as dl

    trainer, loader = _setup(dl, "sgd")
    trainer.fit(loader, epochs=1, verbose=False)
    dl.save_checkpoint(tmp_path / "run.npz", trainer)
    manifest, arrays = core.read_archive(tmp_path / "run.npz")
    arrays["rng/cpu"] = arrays["rng/cpu"][:10]  # a truncated state
    core.write_archive(tmp_path / "bad.npz", arrays, manifest)
    with pytest.raises(CheckpointError, match="random generator state is damaged"):
        dl.load_checkpoint(tmp_path / "bad.npz", _setup(dl, "sgd")[0])


# ------------------------------------------------------------ MXNet only
def test_mxnet_updates_on_the_kvstore_are_refused_before_anything_changes(tmp_path, monkeypatch):
    import mxnet as mx

    from dlbook import mxnet as dl

    monkeypatch.delenv("MXNET_UPDATE_ON_KVSTORE", raising=False)
    path = _saved(dl, tmp_path)
    two = [mx.cpu(0), mx.cpu(1)]  # several devices: Gluon updates on the kvstore
    fresh, _ = _setup(dl, "adam", device=two)  # not trained yet: Gluon has not decided
    message = r"Cannot checkpoint a trainer whose kvstore updates the weights \(`kvstore` 'device'"
    with pytest.raises(CheckpointError, match=message):
        dl.load_checkpoint(path, fresh)
    trained, loader = _setup(dl, "adam", device=two)
    trained.fit(loader, epochs=1, verbose=False)
    before = _params(trained)
    with pytest.raises(CheckpointError, match=message):
        dl.load_checkpoint(path, trained)
    after = _params(trained)
    assert all((before[k] == after[k]).all() for k in before)
    assert trained.num_updates == 10 and len(trained.history) == 1
    with pytest.raises(CheckpointError, match=message):  # it would save no optimizer state
        dl.save_checkpoint(tmp_path / "two.npz", trained)
    assert not (tmp_path / "two.npz").exists()


def test_mxnet_local_updates_on_several_devices_checkpoint(tmp_path, monkeypatch):
    import mxnet as mx

    from dlbook import mxnet as dl

    monkeypatch.setenv("MXNET_UPDATE_ON_KVSTORE", "0")  # the fix the error message names
    trainer, loader = _setup(dl, "adam", device=[mx.cpu(0), mx.cpu(1)])
    trainer.fit(loader, epochs=1, verbose=False)
    dl.save_checkpoint(tmp_path / "run.npz", trainer)
    manifest, _ = core.read_archive(tmp_path / "run.npz")
    assert manifest["states"]  # the optimizer state travels
    fresh, _ = _setup(dl, "adam", device=[mx.cpu(0), mx.cpu(1)])
    dl.load_checkpoint(tmp_path / "run.npz", fresh)
    assert fresh.num_updates == 10


def test_mxnet_plain_sgd_on_the_kvstore_saves_and_loads_before_training(tmp_path, monkeypatch):
    """Plain SGD keeps no state: a kvstore-updated trainer checkpoints (dist_sync resumes so)."""
    import mxnet as mx

    from dlbook import mxnet as dl

    monkeypatch.delenv("MXNET_UPDATE_ON_KVSTORE", raising=False)
    two = [mx.cpu(0), mx.cpu(1)]
    whole, loader = _setup(dl, "sgd", device=two)
    whole.fit(loader, epochs=2, verbose=False)
    trained, loader = _setup(dl, "sgd", device=two)
    trained.fit(loader, epochs=1, verbose=False)
    dl.save_checkpoint(tmp_path / "sgd.npz", trained, loader=loader)
    fresh, loader = _setup(dl, "sgd", device=two)
    dl.load_checkpoint(tmp_path / "sgd.npz", fresh, loader=loader)  # before any update: allowed
    fresh.fit(loader, epochs=1, verbose=False)  # the kvstore starts from the loaded weights
    resumed, reference = _params(fresh), _params(whole)
    assert all(onp.allclose(resumed[k], reference[k], rtol=1e-6, atol=1e-7) for k in reference)
    assert not all(onp.allclose(resumed[k], _params(trained)[k]) for k in reference)
    with pytest.raises(CheckpointError, match="loaded before training"):  # now it holds a copy
        dl.load_checkpoint(tmp_path / "sgd.npz", fresh)
    momentum, _ = _setup(dl, "sgd", device=two, optimizer_params={"momentum": 0.9})
    with pytest.raises(CheckpointError, match="Cannot checkpoint"):
        dl.load_checkpoint(tmp_path / "sgd.npz", momentum)
