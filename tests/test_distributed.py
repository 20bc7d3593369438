"""Fast tests of dlbook.distributed, of both layers' distributed modules, and of the
launcher's pure parts.

Tests that take the ``dl`` fixture run for MXNet and PyTorch. Real runs with
several worker processes (MXNet's parameter server, PyTorch's all-reduce over
gloo) live in ``test_launch.py``.
"""
import os
import shlex
import socket
import sys

import mxnet as mx
import numpy as onp
import pytest
import torch
import torch.distributed as torch_dist

import dlbook.distributed as core
from dlbook.mxnet import distributed, launch
from dlbook.torch import distributed as tdist
from dlbook.mxnet.data import ArrayLoader, load_array
from dlbook.mxnet.distributed import (
    check_kvstore,
    create_kvstore,
    is_distributed,
    shard_indices,
    shard_loader,
    worker_info,
)
from dlbook.mxnet.models import mlp
from dlbook.mxnet.train import Trainer
from dlbook.mxnet.utils import seed_everything


@pytest.fixture
def no_dmlc(monkeypatch):
    """A process that was not started by the launcher."""
    for name in [*core.DMLC_VARIABLES, *core.TORCH_VARIABLES, "DMLC_NODE_HOST"]:
        monkeypatch.delenv(name, raising=False)


def _host(array):
    return array.asnumpy() if hasattr(array, "asnumpy") else array.cpu().numpy()


# ------------------------------------------------------------------ sharding
@pytest.mark.parametrize("n, k", [(10, 2), (11, 2), (7, 3), (1797, 4), (3, 3)])
def test_shards_are_disjoint_equal_and_drop_less_than_one_per_worker(n, k):
    shards = [core.shard_indices(n, r, k) for r in range(k)]
    assert {len(s) for s in shards} == {n // k}
    joined = onp.concatenate(shards)
    assert len(set(joined.tolist())) == len(joined)  # disjoint
    assert n - len(joined) < k  # at most k - 1 examples dropped
    assert joined.min() >= 0 and joined.max() < n


def test_shards_are_strided_so_sorted_data_are_mixed():
    labels = onp.repeat([0, 1], 50)  # sorted by class
    for rank in range(2):
        part = labels[shard_indices(100, rank, 2)]
        assert part.mean() == 0.5


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(num_examples=10, rank=2, num_workers=2), ValueError, r"`rank` in \[0, 1\].*got 2"),
    (dict(num_examples=10, rank=-1, num_workers=2), ValueError, r"`rank` >= 0, got -1"),
    (dict(num_examples=10, rank=0, num_workers=0), ValueError, r"`num_workers` >= 1, got 0"),
    (dict(num_examples=1, rank=0, num_workers=2), ValueError, r"at least `num_workers`=2 examples to share, got 1"),
    (dict(num_examples=10, rank=0.5, num_workers=2), TypeError, r"`rank` to be an integer"),
])
def test_shard_indices_errors_name_the_argument(dl, kwargs, error, match):
    with pytest.raises(error, match=match):
        dl.distributed.shard_indices(**kwargs)


def test_both_layers_share_the_core_sharding(dl):
    assert dl.distributed.shard_indices is core.shard_indices


def test_shard_loader_keeps_dtypes_device_and_equal_batches(dl, blobs):
    X, y = blobs  # 30 examples
    loader = dl.ArrayLoader(X, y, batch_size=4, shuffle=True, seed=3)
    parts = [dl.distributed.shard_loader(loader, r, 4) for r in range(4)]
    assert [p.num_examples for p in parts] == [7] * 4
    assert [len(p) for p in parts] == [1] * 4  # drop_last: 7 // 4
    for rank, part in enumerate(parts):
        assert isinstance(part, dl.ArrayLoader)
        assert part.y.dtype == loader.y.dtype and part.X.dtype == loader.X.dtype
        assert part.shuffle and part.seed == 3 + rank and part.device == loader.device
        onp.testing.assert_array_equal(_host(part.y), y[core.shard_indices(30, rank, 4)])
        onp.testing.assert_array_equal(_host(part.X), X[core.shard_indices(30, rank, 4)])
        assert all(xb.shape[0] == 4 for xb, _ in part)


def test_shard_loader_without_labels(dl):
    loader = dl.ArrayLoader(onp.arange(12, dtype="float32").reshape(6, 2), batch_size=3)
    part = dl.distributed.shard_loader(loader, 1, 2, drop_last=False)
    assert part.y is None and _host(part.X)[:, 0].tolist() == [2.0, 6.0, 10.0]


def test_shard_loader_errors(dl, blobs):
    X, y = blobs
    with pytest.raises(ValueError, match=r"gets 15 of 30 examples, fewer than `batch_size`=20"):
        dl.distributed.shard_loader(dl.ArrayLoader(X, y, batch_size=20), 0, 2)
    with pytest.raises(TypeError, match=r"Expected `loader` to be a dlbook ArrayLoader, got .*list"):
        dl.distributed.shard_loader([(X, y)], 0, 2)
    with pytest.raises(ValueError, match=r"`rank` in \[0, 1\].*got 2"):
        dl.distributed.shard_loader(dl.ArrayLoader(X, y, batch_size=2), 2, 2)


def test_a_loader_of_the_other_layer_is_refused(blobs):
    X, y = blobs
    from dlbook.torch.data import ArrayLoader as TorchLoader

    with pytest.raises(TypeError, match=r"Expected `loader` to be a dlbook ArrayLoader"):
        distributed.shard_loader(TorchLoader(X, y, batch_size=2), 0, 2)
    with pytest.raises(TypeError, match=r"Expected `loader` to be a dlbook ArrayLoader"):
        tdist.shard_loader(ArrayLoader(X, y, batch_size=2), 0, 2)


# -------------------------------------------------------- worker environment
def test_worker_env_reads_torchrun_and_dmlc_variables():
    torchrun = {"MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "29500", "RANK": "2",
                "WORLD_SIZE": "4"}
    assert core.worker_env(torchrun) == ("torch", 2, 4, "10.0.0.1", 29500)
    dmlc = launch.dmlc_env("worker", num_workers=3, num_servers=1, root_port=9000)
    assert core.worker_env(dmlc) == ("mxnet", None, 3, "127.0.0.1", 9000)
    assert core.worker_env(launch.dmlc_env("server", 3, 1)) is None  # not a worker
    assert core.worker_env({}) is None
    assert core.worker_env({**torchrun, "WORLD_SIZE": ""}) is None  # incomplete: not launched
    # what the launcher hands every worker of a PyTorch job reads back
    for rank in range(3):
        env = launch.torch_env(rank, 3, master_port=1234)
        assert core.worker_env(env) == ("torch", rank, 3, "127.0.0.1", 1234)


@pytest.mark.parametrize("change, match", [
    ({"RANK": "2"}, r"Expected RANK >= 0, at most 1, got 2"),
    ({"RANK": "-1"}, r"Expected RANK to be a whole number, got '-1'"),
    ({"WORLD_SIZE": "two"}, r"Expected WORLD_SIZE to be a whole number, got 'two'"),
    ({"WORLD_SIZE": "0"}, r"Expected WORLD_SIZE >= 1, got 0"),
    ({"MASTER_PORT": "70000"}, r"Expected MASTER_PORT >= 1, at most 65535, got 70000"),
])
def test_worker_env_rejects_bad_values(change, match):
    env = {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500", "RANK": "0", "WORLD_SIZE": "2"}
    with pytest.raises(RuntimeError, match=match):
        core.worker_env({**env, **change})


# ------------------------------------------------------------------ kvstores
def test_check_kvstore_accepts_names_objects_and_none_in_both_layers(dl):
    kv = dl.distributed.create_kvstore("local")
    assert dl.distributed.check_kvstore(kv) is kv and dl.distributed.check_kvstore(None) is None
    assert (kv.type, kv.rank, kv.num_workers) == ("local", 0, 1)
    for name in ("local", "device", "dist_sync"):
        assert name in dl.distributed.KVSTORE_TYPES
        assert dl.distributed.check_kvstore(name) == name
    assert [dl.distributed.is_distributed(k) for k in ("local", "device", "dist_sync", kv, None)] \
        == [False, False, True, False, False]


@pytest.mark.parametrize("value, error, match", [
    ("nccl2", ValueError, r"Unknown `kvstore` 'nccl2'\. Expected one of: 'local', 'device', "
                          r"'dist_sync'.* a KVStore object or None\."),
    (3, TypeError, r"Expected `kvstore` as a name such as 'device' or 'dist_sync', a KVStore "
                   r"object or None, got 3 \(int\)\."),
])
def test_check_kvstore_errors_are_the_same_in_both_layers(dl, value, error, match):
    with pytest.raises(error, match=match):
        dl.distributed.check_kvstore(value)
    with pytest.raises(ValueError, match=r"Expected `kvstore` as a name or a KVStore object, got None"):
        dl.distributed.create_kvstore(None)


@pytest.mark.parametrize("name, match", [
    ("dist_async", r"`kvstore`='dist_async' is MXNet's asynchronous parameter server.*Use "
                   r"kvstore='dist_sync'"),
    ("dist_sync_device", r"`kvstore`='dist_sync_device' is MXNet's .* use kvstore='dist_sync'"),
])
def test_torch_explains_mxnet_only_kvstores(name, match):
    assert distributed.check_kvstore(name) == name  # MXNet has them
    with pytest.raises(ValueError, match=match):
        tdist.check_kvstore(name)


def test_torch_refuses_an_mxnet_kvstore_object():
    with pytest.raises(TypeError, match=r"a KVStore object or None, got .*KVStore"):
        tdist.check_kvstore(mx.kv.create("local"))


def test_check_kvstore_accepts_names_objects_and_none():
    kv = mx.kv.create("local")
    assert check_kvstore(kv) is kv and check_kvstore(None) is None
    for name in distributed.KVSTORE_TYPES:
        assert check_kvstore(name) == name
    assert [is_distributed(k) for k in ("local", "device", "dist_sync", "dist_async", kv, None)] \
        == [False, False, True, True, False, False]


@pytest.mark.parametrize("value, error, match", [
    ("nccl2", ValueError, r"Unknown `kvstore` 'nccl2'\. Expected one of: 'local', 'device', 'dist_sync'"),
    (3, TypeError, r"Expected `kvstore` as a name .* got 3 \(int\)"),
])
def test_check_kvstore_errors(value, error, match):
    with pytest.raises(error, match=match):
        check_kvstore(value)


def test_local_kvstore_and_worker_info_outside_a_job(no_dmlc):
    kv = create_kvstore("device")
    assert (kv.type, kv.rank, kv.num_workers) == ("device", 0, 1)
    assert worker_info(None) == (0, 1) and worker_info(kv) == (0, 1)


def test_worker_info_outside_a_job_in_both_layers(dl, no_dmlc):
    assert dl.distributed.worker_info(None) == (0, 1)
    assert dl.distributed.worker_info("device") == (0, 1)
    assert dl.distributed.worker_info(dl.distributed.create_kvstore("device")) == (0, 1)


def test_distributed_kvstore_outside_the_launcher_is_a_clear_error_in_both_layers(dl, no_dmlc):
    with pytest.raises(RuntimeError, match=r"`kvstore`='dist_sync' needs .* are not set\. Start "
                                           r"the script with the launcher, e\.g\. `dlbook launch"):
        dl.distributed.create_kvstore("dist_sync")
    with pytest.raises(RuntimeError, match=r"are not set"):
        dl.distributed.worker_info("dist_sync")
    assert dl.distributed._DIST_KVSTORE is None  # nothing was created


def test_torch_names_its_variables_and_launcher(no_dmlc):
    with pytest.raises(RuntimeError, match=r"MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE are not "
                                           r"set\. .*`dlbook launch --framework torch -n 2 "):
        tdist.create_kvstore("dist_sync")
    assert not torch_dist.is_initialized()


def test_distributed_kvstore_outside_the_launcher_is_a_clear_error(no_dmlc):
    with pytest.raises(RuntimeError, match=r"DMLC_ROLE, DMLC_PS_ROOT_URI, .* are not set\. "
                                           r"Start the script with the launcher, e\.g\. `dlbook launch"):
        create_kvstore("dist_sync")
    with pytest.raises(RuntimeError, match=r"are not set"):
        Trainer(mlp(hidden=4, num_outputs=2), "cross_entropy", kvstore="dist_async")
    assert distributed._DIST_KVSTORE is None  # nothing was created


def test_distributed_kvstore_checks_role_and_scheduler(no_dmlc, monkeypatch):
    port = launch.find_free_port()
    for key, value in launch.dmlc_env("server", 2, 1, root_port=port).items():
        monkeypatch.setenv(key, value)
    with pytest.raises(RuntimeError, match=r"Expected DMLC_ROLE='worker'.*got 'server'"):
        create_kvstore("dist_sync")
    monkeypatch.setenv("DMLC_ROLE", "worker")
    with pytest.raises(RuntimeError, match=rf"No MXNet scheduler answers at 127\.0\.0\.1:{port}"):
        create_kvstore("dist_sync", connect_timeout=0.3)
    assert distributed._DIST_KVSTORE is None


# --------------------------------------------------- PyTorch's process group
@pytest.fixture
def torchrun_env(no_dmlc, monkeypatch):
    """The variables of a one-worker PyTorch job; leaves no process group behind."""
    def set_env(rank=0, world_size=1):
        for key, value in launch.torch_env(rank, world_size, master_port=launch.find_free_port()).items():
            monkeypatch.setenv(key, value)

    yield set_env
    if torch_dist.is_initialized():
        torch_dist.destroy_process_group()
    tdist._DIST_KVSTORE = None  # (not monkeypatch: its undo would restore the kvstore)


def test_one_worker_process_group_over_gloo(torchrun_env):
    torchrun_env(rank=0, world_size=1)
    kv = tdist.create_kvstore("dist_sync", connect_timeout=10)
    assert (kv.type, kv.rank, kv.num_workers, kv.backend) == ("dist_sync", 0, 1, "gloo")
    assert repr(kv) == "KVStore(type='dist_sync', rank=0, num_workers=1, backend='gloo')"
    assert tdist.create_kvstore("dist_sync") is kv  # one per process
    assert tdist.worker_info("dist_sync") == (0, 1) and torch_dist.is_initialized()
    # A kvstore that counts 2 workers over this group of 1: the all-reduced sum is this
    # worker's own gradient, so the "mean" is half of it. That checks the packing into
    # one flat tensor per dtype, and that a missing gradient counts as zero.
    w = torch.nn.Parameter(torch.arange(6.0).reshape(2, 3))
    b = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    unused = torch.nn.Parameter(torch.ones(2))
    frozen = torch.ones(4, requires_grad=False)
    w.grad, b.grad = torch.full((2, 3), 4.0), torch.tensor([2.0, -2.0, 6.0], dtype=torch.float64)
    half = tdist.KVStore("dist_sync", rank=0, num_workers=2, backend="gloo")
    half.allreduce_grads([w, b, unused, frozen])
    assert torch.equal(w.grad, torch.full((2, 3), 2.0))
    assert torch.equal(b.grad, torch.tensor([1.0, -1.0, 3.0], dtype=torch.float64))
    assert torch.equal(unused.grad, torch.zeros(2)) and frozen.grad is None
    assert torch.equal(w.detach(), torch.arange(6.0).reshape(2, 3))  # the first broadcast: own values


def test_a_missing_worker_fails_the_rendezvous_in_time(torchrun_env):
    torchrun_env(rank=0, world_size=2)  # worker 1 never comes
    with pytest.raises(RuntimeError, match=r"Worker rank 0 of 2 could not join the process group "
                                           r"at 127\.0\.0\.1:\d+ \(MASTER_ADDR:MASTER_PORT\) "
                                           r"within 0\.5 s: .*Start all workers together"):
        tdist.create_kvstore("dist_sync", connect_timeout=0.5)
    assert tdist._DIST_KVSTORE is None and not torch_dist.is_initialized()


def test_bad_torchrun_variables_fail_before_any_connection(torchrun_env, monkeypatch):
    torchrun_env(rank=0, world_size=2)
    monkeypatch.setenv("RANK", "5")
    with pytest.raises(RuntimeError, match=r"Expected RANK >= 0, at most 1, got 5"):
        tdist.create_kvstore("dist_sync")
    assert not torch_dist.is_initialized()


def test_single_process_kvstore_leaves_gradients_alone():
    kv = tdist.create_kvstore("device")
    net = torch.nn.Linear(3, 2)
    net(torch.ones(4, 3)).sum().backward()
    before = [p.grad.clone() for p in net.parameters()]
    kv.allreduce_grads(net)
    kv.broadcast_parameters(net)
    kv.barrier()
    assert all(torch.equal(a, p.grad) for a, p in zip(before, net.parameters()))


def test_kvstore_argument_errors():
    kv = tdist.create_kvstore("device")
    with pytest.raises(TypeError, match=r"Expected `params` as a torch\.nn\.Module or an iterable "
                                        r"of tensors, e\.g\. net\.parameters\(\), got 3 \(int\)"):
        kv.allreduce_grads(3)
    lazy = torch.nn.LazyLinear(2)  # weight and bias
    with pytest.raises(ValueError, match=r"2 parameter\(s\) are not initialized yet .* Run one "
                                         r"batch through the network first"):
        kv.broadcast_parameters(lazy)


# ------------------------------------------------------------ Trainer devices
def test_trainer_defaults_stay_single_process():
    trainer = Trainer(mlp(hidden=4, num_outputs=2), "cross_entropy")
    assert trainer.kvstore == "device" and trainer.devices == [trainer.device]
    assert (trainer.rank, trainer.num_workers, trainer._step_scale) == (0, 1, 1)


def test_split_across_two_cpu_contexts_matches_one_device(blobs):
    X, y = blobs
    results = []
    for device in (mx.cpu(), [mx.cpu(0), mx.cpu(1)]):
        seed_everything(0)  # the same initial weights
        net = mlp(hidden=8, num_outputs=3)
        trainer = Trainer(net, "cross_entropy", learning_rate=0.5, metrics=["accuracy"],
                          device=device)
        history = trainer.fit(load_array((X, y), batch_size=10, seed=0), epochs=3, verbose=False)
        params = list(net.collect_params().values())
        assert all(len(p.list_ctx()) == len(trainer.devices) for p in params)
        results.append((history["loss"], history["accuracy"], [p.data().asnumpy() for p in params]))
    (loss1, acc1, w1), (loss2, acc2, w2) = results
    assert loss1[-1] < 0.5 * loss1[0]  # it learns
    onp.testing.assert_allclose(loss1, loss2, rtol=1e-5)
    assert acc1 == acc2
    for a, b in zip(w1, w2):
        onp.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_trainer_device_and_kvstore_errors(blobs):
    X, y = blobs
    with pytest.raises(TypeError, match=r"Expected `device` as an mxnet Context or a non-empty list"):
        Trainer(mlp(hidden=4, num_outputs=3), "cross_entropy", device="cpu")
    with pytest.raises(ValueError, match=r"Expected different devices in `device`"):
        Trainer(mlp(hidden=4, num_outputs=3), "cross_entropy", device=[mx.cpu(0), mx.cpu(0)])
    with pytest.raises(ValueError, match=r"Unknown `kvstore` 'dist'"):
        Trainer(mlp(hidden=4, num_outputs=3), "cross_entropy", kvstore="dist")
    trainer = Trainer(mlp(hidden=4, num_outputs=3), "cross_entropy",
                      device=[mx.cpu(0), mx.cpu(1), mx.cpu(2)])
    with pytest.raises(ValueError, match=r"A batch of 2 examples cannot be split across 3 devices"):
        trainer.fit(load_array((X[:2], y[:2]), batch_size=2), verbose=False)


# ---------------------------------------------------------- launcher pieces
def test_dmlc_env_for_every_role():
    for role in ("scheduler", "server", "worker"):
        env = launch.dmlc_env(role, num_workers=3, num_servers=2, root_port=1234, verbose=1)
        assert env == {"DMLC_ROLE": role, "DMLC_PS_ROOT_URI": "127.0.0.1",
                       "DMLC_PS_ROOT_PORT": "1234", "DMLC_NUM_SERVER": "2",
                       "DMLC_NUM_WORKER": "3", "PS_VERBOSE": "1"}


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(role="master"), ValueError, r"Unknown `role` 'master'\. Expected one of: 'scheduler'"),
    (dict(num_workers=0), ValueError, r"`num_workers` >= 1, got 0"),
    (dict(root_port=70000), ValueError, r"`root_port` <= 65535, got 70000"),
    (dict(root_uri=""), ValueError, r"Expected `root_uri` as a host name"),
])
def test_dmlc_env_errors(kwargs, error, match):
    args = dict(role="worker", num_workers=2, num_servers=1) | kwargs
    with pytest.raises(error, match=match):
        launch.dmlc_env(**args)


def test_port_checks():
    port = launch.find_free_port()
    assert launch.check_port(port) == port
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        with pytest.raises(launch.PortInUseError, match=rf"Port {taken} on 127\.0\.0\.1 is already "
                                                        r"in use.*choose another port with `--port`"):
            launch.check_port(taken)
        with pytest.raises(launch.PortInUseError, match=rf"Port {taken}"):
            launch.launch([sys.executable, "-c", "pass"], port=taken)
    with pytest.raises(ValueError, match=r"`port` >= 1, got 0"):
        launch.check_port(0)


def test_read_hosts(tmp_path):
    path = tmp_path / "hosts"
    path.write_text("# our cluster\nnode1\n\n  alice@10.0.0.2   # the GPU box\n")
    assert launch.read_hosts(path) == ["node1", "alice@10.0.0.2"]
    path.write_text("# nothing\n\n")
    with pytest.raises(ValueError, match=r"lists no host"):
        launch.read_hosts(path)
    path.write_text("node1\n-oProxyCommand=evil\n")
    with pytest.raises(ValueError, match=r"line 2 of .*got '-oProxyCommand=evil'"):
        launch.read_hosts(path)
    with pytest.raises(FileNotFoundError, match=r"Hosts file `.*missing` does not exist"):
        launch.read_hosts(tmp_path / "missing")


def test_ssh_command_exports_the_environment_and_quotes():
    argv = launch.ssh_command("bob@node2", ["python", "my train.py", "--tag", "$HOME"],
                              {"DMLC_ROLE": "server", "X": "it's"}, cwd="/data/my run",
                              ssh_options=["-p", "2222"])
    assert argv[:7] == ["ssh", "-tt", "-o", "BatchMode=yes", "-p", "2222", "bob@node2"]
    assert len(argv) == 8
    remote = shlex.split(argv[7])  # what the remote shell will see
    assert remote == ["cd", "/data/my run", "&&", "exec", "env", "DMLC_ROLE=server", "X=it's",
                      "python", "my train.py", "--tag", "$HOME"]


@pytest.mark.parametrize("call, error, match", [
    (lambda: launch.ssh_command("-oX", ["python"], {}), ValueError, r"may not .* start with '-'"),
    (lambda: launch.ssh_command("a b", ["python"], {}), ValueError, r"got 'a b'"),
    (lambda: launch.ssh_command("n", "python x.py", {}), ValueError, r"`command` as a non-empty list"),
    (lambda: launch.ssh_command("n", ["python"], {"BAD-NAME": "1"}), ValueError, r"got 'BAD-NAME'"),
    (lambda: launch.ssh_command("n", ["python"], {}, ssh_options="-v"), TypeError, r"`ssh_options`"),
])
def test_ssh_command_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_plan_over_ssh_puts_the_scheduler_first_and_spreads_the_rest():
    procs = launch._plan(["python", "train.py"], num_workers=3, num_servers=2,
                         hosts=["alice@n1", "n2"], port=9000, env={"EXTRA": "1"},
                         python="/opt/py/bin/python", verbose=0, ssh_options=(), launch_id="id")
    assert [(p.label, p.host) for p in procs] == [
        ("scheduler", "alice@n1"), ("server 0", "alice@n1"), ("server 1", "n2"),
        ("worker 0", "alice@n1"), ("worker 1", "n2"), ("worker 2", "alice@n1")]
    for proc in procs:
        assert proc.argv[0] == "ssh" and proc.argv[-2] == proc.host and proc.env is None
        remote = shlex.split(proc.argv[-1])
        assert f"DMLC_ROLE={proc.role}" in remote
        assert {"DMLC_PS_ROOT_URI=n1", "DMLC_PS_ROOT_PORT=9000", "DMLC_NUM_WORKER=3",
                "DMLC_NUM_SERVER=2", "EXTRA=1"} <= set(remote)
        tail = ["python", "train.py"] if proc.role == "worker" else \
            ["/opt/py/bin/python", "-c", "import mxnet"]
        assert remote[-len(tail):] == tail


def test_plan_on_this_machine_uses_the_loopback_and_shares_the_cores(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    procs = launch._plan(["python", "train.py"], num_workers=2, num_servers=1, hosts=None,
                         port=9000, env={}, python=sys.executable, verbose=2, ssh_options=(),
                         launch_id="id")
    assert [p.label for p in procs] == ["scheduler", "server 0", "worker 0", "worker 1"]
    for proc in procs:
        assert proc.env["DMLC_PS_ROOT_URI"] == proc.env["DMLC_NODE_HOST"] == "127.0.0.1"
        assert proc.env["DMLC_ROLE"] == proc.role and proc.env["PS_VERBOSE"] == "2"
        assert proc.env["OMP_NUM_THREADS"] == ("4" if proc.role == "worker" else "1")
        assert proc.env["OMP_WAIT_POLICY"] == "PASSIVE"  # no spinning on shared cores
        assert proc.env["PYTHONUNBUFFERED"] == "1"
    assert procs[0].argv == [sys.executable, "-c", "import mxnet"]
    assert procs[-1].argv == ["python", "train.py"]


@pytest.mark.parametrize("kwargs, match", [
    (dict(command="python train.py"), r"`command` as a non-empty list of strings"),
    (dict(command=[]), r"`command` as a non-empty list of strings"),
    (dict(num_workers=0), r"`num_workers` >= 1, got 0"),
    (dict(num_servers=0), r"`num_servers` >= 1, got 0"),
    (dict(timeout=0), r"`timeout` as a number of seconds > 0"),
    (dict(kill_timeout=-1), r"`kill_timeout` as a number of seconds > 0"),
    (dict(hosts="node1"), r"`hosts` as a non-empty list"),
    (dict(env={"A B": "1"}), r"environment variable names in `env`, got 'A B'"),
])
def test_launch_checks_arguments_before_starting_anything(kwargs, match):
    args = dict(command=[sys.executable, "train.py"]) | kwargs
    with pytest.raises((ValueError, TypeError), match=match):
        launch.launch(**args)


def test_cli_errors(capsys):
    assert launch.main(["launch", "-n", "2"]) == 2
    assert "no worker command given" in capsys.readouterr().err
    assert launch.main(["launch", "-n", "2", "--env", "NOEQUALS", "python", "x.py"]) == 2
    assert "expected --env KEY=VALUE, got 'NOEQUALS'" in capsys.readouterr().err
    assert launch.main(["launch", "-n", "0", "python", "x.py"]) == 2
    assert "`num_workers` >= 1, got 0" in capsys.readouterr().err
    assert launch.main([]) == 2
    assert "usage: dlbook launch" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="0"):
        launch.main(["launch", "--help"])
    assert "--num-workers" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="2"):  # argparse: -n is required
        launch.main(["launch", "python", "x.py"])
    assert "the following arguments are required: -n/--num-workers" in capsys.readouterr().err


# ------------------------------------------------ launcher pieces for PyTorch
def test_torch_env_is_what_torchrun_sets():
    env = launch.torch_env(1, num_workers=4, master_addr="node1", master_port=29600,
                           local_rank=0, local_world_size=2)
    assert env == {"MASTER_ADDR": "node1", "MASTER_PORT": "29600", "RANK": "1",
                   "WORLD_SIZE": "4", "LOCAL_RANK": "0", "LOCAL_WORLD_SIZE": "2"}
    assert launch.torch_env(0, 1)["LOCAL_WORLD_SIZE"] == "1"


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(rank=2), ValueError, r"`rank` <= 1, got 2"),
    (dict(num_workers=0), ValueError, r"`num_workers` >= 1, got 0"),
    (dict(master_port=0), ValueError, r"`master_port` >= 1, got 0"),
    (dict(master_addr=" "), ValueError, r"Expected `master_addr` as a host name"),
    (dict(local_rank=1, local_world_size=1), ValueError, r"`local_world_size` >= 2, got 1"),
])
def test_torch_env_errors(kwargs, error, match):
    args = dict(rank=0, num_workers=2) | kwargs
    with pytest.raises(error, match=match):
        launch.torch_env(**args)


def test_plan_of_a_torch_job_on_this_machine_has_workers_only(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    procs = launch._plan(["python", "train.py"], num_workers=3, num_servers=1, hosts=None,
                         port=29555, env={"EXTRA": "1"}, python=sys.executable, verbose=0,
                         ssh_options=(), launch_id="id", framework="torch")
    assert [p.label for p in procs] == ["worker 0", "worker 1", "worker 2"]
    for rank, proc in enumerate(procs):
        assert proc.argv == ["python", "train.py"] and proc.host == "127.0.0.1"
        assert {key: proc.env[key] for key in core.TORCH_VARIABLES} == {
            "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29555", "RANK": str(rank),
            "WORLD_SIZE": "3"}
        assert proc.env["LOCAL_RANK"] == str(rank) and proc.env["LOCAL_WORLD_SIZE"] == "3"
        assert proc.env["DLBOOK_LAUNCH_INDEX"] == str(rank) and proc.env["EXTRA"] == "1"
        assert proc.env["OMP_NUM_THREADS"] == "2" and proc.env["OMP_WAIT_POLICY"] == "PASSIVE"
        assert "DMLC_ROLE" not in variables_set_by_the_plan(proc)


def variables_set_by_the_plan(proc):
    import os

    return {key for key, value in proc.env.items() if os.environ.get(key) != value}


def test_plan_of_a_torch_job_over_ssh_starts_worker_0_on_the_first_host():
    procs = launch._plan(["python", "train.py"], num_workers=3, num_servers=1,
                         hosts=["alice@n1", "n2"], port=29500, env={}, python="python",
                         verbose=0, ssh_options=(), launch_id="id", framework="torch")
    assert [(p.label, p.host) for p in procs] == [
        ("worker 0", "alice@n1"), ("worker 1", "n2"), ("worker 2", "alice@n1")]
    locals_ = []
    for rank, proc in enumerate(procs):
        remote = shlex.split(proc.argv[-1])
        assert {"MASTER_ADDR=n1", "MASTER_PORT=29500", f"RANK={rank}", "WORLD_SIZE=3"} <= set(remote)
        locals_.append([r for r in remote if r.startswith(("LOCAL_RANK=", "LOCAL_WORLD_SIZE="))])
        assert remote[-2:] == ["python", "train.py"]
    assert locals_ == [["LOCAL_RANK=0", "LOCAL_WORLD_SIZE=2"], ["LOCAL_RANK=0", "LOCAL_WORLD_SIZE=1"],
                       ["LOCAL_RANK=1", "LOCAL_WORLD_SIZE=2"]]


@pytest.mark.parametrize("kwargs, match", [
    (dict(framework="jax"), r"Unknown `framework` 'jax'\. Expected one of: 'mxnet', 'torch'"),
    (dict(framework="torch", num_servers=1), r"A PyTorch job has no parameter servers .* got "
                                             r"`num_servers`=1\. Leave out `num_servers` \(`-s`\)"),
    (dict(framework="torch", num_workers=0), r"`num_workers` >= 1, got 0"),
])
def test_launch_checks_torch_arguments_before_starting_anything(kwargs, match):
    with pytest.raises(ValueError, match=match):
        launch.launch([sys.executable, "train.py"], **kwargs)


def test_the_default_framework_is_mxnet_when_installed(monkeypatch):
    import importlib.util

    assert launch._default_framework() == "mxnet"
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mxnet" else real(name, *a))
    assert launch._default_framework() == "torch"


def test_torch_port_in_use_names_the_rendezvous():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        with pytest.raises(launch.PortInUseError, match=rf"Port {taken} on 127\.0\.0\.1 is already "
                                                        r"in use, so worker 0's PyTorch rendezvous"):
            launch.launch([sys.executable, "-c", "pass"], port=taken, framework="torch")


def test_cli_errors_for_torch(capsys):
    assert launch.main(["launch", "--framework", "torch", "-n", "2", "-s", "1", "python", "x.py"]) == 2
    assert "A PyTorch job has no parameter servers" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="2"):
        launch.main(["launch", "--framework", "jax", "-n", "2", "python", "x.py"])
    assert "invalid choice: 'jax'" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="0"):
        launch.main(["launch", "--help"])
    assert "--framework {mxnet,torch}" in capsys.readouterr().out


def test_both_trainers_check_the_kvstore_before_any_work(dl, no_dmlc):
    with pytest.raises(ValueError, match=r"Unknown `kvstore` 'dist'\. Expected one of: 'local'"):
        dl.Trainer(dl.mlp(hidden=4, num_outputs=2), "cross_entropy", kvstore="dist")
    with pytest.raises(RuntimeError, match=r"`kvstore`='dist_sync' needs .* are not set"):
        dl.Trainer(dl.mlp(hidden=4, num_outputs=2), "cross_entropy", kvstore="dist_sync")
    trainer = dl.Trainer(dl.mlp(hidden=4, num_outputs=2), "cross_entropy")
    assert (trainer.rank, trainer.num_workers) == (0, 1)
    assert dl.distributed._DIST_KVSTORE is None
