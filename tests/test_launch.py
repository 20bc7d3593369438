"""The launcher with real processes on 127.0.0.1.

Fast tests replace MXNet's scheduler and server by a stand-in (a shell script) to
check the launcher's own logic: labelled output, exit status, stopping everything
when a process fails or time runs out. Slow tests run MXNet's parameter server for
real: 2 workers and 1 server train a small network on scikit-learn's digits.

Every test is bounded in time (launcher ``timeout`` and subprocess timeouts), and
checks afterwards that no process it started is left (each carries a unique tag in
its environment, found through /proc).
"""
import io
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import mxnet as mx
import numpy as onp
import pytest

from dlbook.mxnet import launch

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(),
                                reason="the stray-process check reads /proc (Linux)")


def _tagged_pids(tag):
    """PIDs of live processes whose environment holds ``DLBOOK_TEST_TAG=tag``."""
    needle = f"DLBOOK_TEST_TAG={tag}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                status = (entry / "status").read_text()
                if "\nState:\tZ" not in status:  # a zombie has already ended
                    found.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours
            continue
    return found


def _assert_no_strays(tag, wait=5.0):
    deadline = time.monotonic() + wait
    while _tagged_pids(tag) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _tagged_pids(tag), f"stray processes: {_tagged_pids(tag)}"


@pytest.fixture
def tag():
    value = uuid.uuid4().hex
    yield value
    for pid in _tagged_pids(value):  # clean up even after a failed assertion
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


@pytest.fixture
def fake_python(tmp_path):
    """Stands in for ``python -c "import mxnet"`` as scheduler and server: waits, then exits 0."""
    path = tmp_path / "fake-python"
    path.write_text('#!/bin/sh\nexec sleep "${FAKE_SERVER_SECONDS:-300}"\n')
    path.chmod(0o755)
    return str(path)


def _run(command, tag, fake_python, **kwargs):
    out, err = io.StringIO(), io.StringIO()
    env = {"DLBOOK_TEST_TAG": tag, **kwargs.pop("env", {})}
    start = time.monotonic()
    status = launch.launch(command, python=fake_python, env=env, output=out, error_output=err,
                           kill_timeout=2.0, **kwargs)
    return status, out.getvalue(), err.getvalue(), time.monotonic() - start


def _py(code):
    return [sys.executable, "-c", code]


# ------------------------------------------------------------- launcher logic
def test_python_m_dlbook_launch_prints_help_without_a_runpy_warning():
    """`import dlbook` must not import `dlbook.launch`, or runpy warns before running it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-m", "dlbook.launch",
                           "--help"], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: dlbook launch") and proc.stderr == "", proc.stderr
    check = ("import sys, dlbook; lazy = 'dlbook.launch' not in sys.modules; "
             "print(lazy, dlbook.launch.main.__module__)")
    proc = subprocess.run([sys.executable, "-W", "error", "-c", check], capture_output=True,
                          text=True, timeout=120, env=env)
    assert proc.stdout.split() == ["True", "dlbook.launch"], proc.stderr


def test_the_dlbook_console_script_runs_the_launcher():
    script = Path(sys.executable).with_name("dlbook")
    assert script.is_file(), "the `dlbook` console script of pyproject.toml is not installed"
    proc = subprocess.run([str(script), "launch", "--help"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and proc.stdout.startswith("usage: dlbook launch"), proc.stderr
    assert "RuntimeWarning" not in proc.stderr


def test_output_is_labelled_and_success_returns_zero(tag, fake_python):
    status, out, err, _ = _run(
        _py("import os; print('hello from', os.environ['DMLC_ROLE'], "
            "os.environ['DLBOOK_LAUNCH_INDEX'], 'of', os.environ['DMLC_NUM_WORKER'])"),
        tag, fake_python, num_workers=2, num_servers=1, timeout=60,
        env={"FAKE_SERVER_SECONDS": "0"})
    assert status == 0, out + err
    assert "[worker 0] hello from worker 0 of 2" in out
    assert "[worker 1] hello from worker 1 of 2" in out
    assert re.search(r"\[launch\] started server 0 \(pid \d+\) on 127\.0\.0\.1", out)
    assert "[launch] all workers finished successfully" in out
    assert err == ""
    _assert_no_strays(tag)


def test_a_failing_worker_is_named_and_everything_stops(tag, fake_python):
    code = ("import os, sys, time\n"
            "if os.environ['DLBOOK_LAUNCH_INDEX'] == '1':\n"
            "    time.sleep(0.5); print('boom: out of patience'); sys.exit(3)\n"
            "time.sleep(300)\n")
    status, out, err, seconds = _run(_py(code), tag, fake_python, num_workers=2, timeout=60)
    assert status == 3
    assert re.search(r"\[launch\] worker 1 \(pid \d+, on 127\.0\.0\.1\) exited with status 3; "
                     r"stopping scheduler, server 0, worker 0\.", err), err
    assert "last output of worker 1" in err and "boom: out of patience" in err
    assert seconds < 30
    _assert_no_strays(tag)


def test_a_worker_killed_by_a_signal(tag, fake_python):
    code = "import os, signal, time; time.sleep(0.3); os.kill(os.getpid(), signal.SIGKILL)"
    status, _, err, _ = _run(_py(code), tag, fake_python, num_workers=1, timeout=60)
    assert status == 128 + 9
    assert "worker 0" in err and "was killed by signal 9 (SIGKILL)" in err
    _assert_no_strays(tag)


def test_a_failing_server_stops_the_workers(tag, tmp_path):
    broken = tmp_path / "broken-python"
    broken.write_text("#!/bin/sh\necho 'bind failed' >&2\nexit 7\n")
    broken.chmod(0o755)
    status, _, err, _ = _run(_py("import time; time.sleep(300)"), tag, str(broken),
                             num_workers=2, timeout=60)
    assert status == 7
    assert re.search(r"(scheduler|server 0) \(pid \d+, on 127\.0\.0\.1\) exited with status 7", err)
    assert "bind failed" in err
    _assert_no_strays(tag)


def test_timeout_stops_everything(tag, fake_python):
    status, _, err, seconds = _run(_py("import time; time.sleep(300)"), tag, fake_python,
                                   num_workers=2, timeout=1.0)
    assert status == 124
    assert "timed out after 1 s; stopping scheduler, server 0, worker 0, worker 1." in err
    assert seconds < 20
    _assert_no_strays(tag)


def test_a_program_that_cannot_start(tag, fake_python, tmp_path):
    status, _, err, _ = _run([str(tmp_path / "no-such-program")], tag, fake_python,
                             num_workers=2, timeout=60)
    assert status == 127
    assert "could not start worker 0" in err and "No such file or directory" in err
    _assert_no_strays(tag)  # the scheduler and server already started are stopped


def test_over_ssh_with_a_stand_in_for_ssh(tag, fake_python, tmp_path, monkeypatch):
    """The SSH mode end to end, with an `ssh` that runs the remote command here."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ssh").write_text('#!/bin/sh\n'
                                 '# keep the last two arguments: host and remote command\n'
                                 'while [ $# -gt 2 ]; do shift; done\n'
                                 'exec sh -c "$2"\n')
    (bin_dir / "ssh").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DLBOOK_TEST_TAG", tag)  # marks the local `ssh` processes too
    monkeypatch.chdir(tmp_path)
    code = ("import os; print(os.environ['DMLC_ROLE'], os.environ['DMLC_PS_ROOT_URI'], "
            "os.environ['DMLC_PS_ROOT_PORT'], os.getcwd())")
    status, out, err, _ = _run(_py(code), tag, fake_python, num_workers=2,
                               hosts=["alice@nodeA", "nodeB"], port=9123, timeout=60,
                               env={"FAKE_SERVER_SECONDS": "0"})
    assert status == 0, out + err
    for index in (0, 1):
        assert f"[worker {index}] worker nodeA 9123 {tmp_path}" in out
    assert "started worker 1 (pid" in out and "on nodeB" in out
    _assert_no_strays(tag)

    code = "import os, sys, time; time.sleep(0.5); sys.exit(5 if os.environ['DLBOOK_LAUNCH_INDEX'] == '0' else 0); "
    status, _, err, _ = _run(_py(code + "time.sleep(300)"), tag, fake_python, num_workers=2,
                             hosts=["nodeA"], timeout=60)
    assert status == 5 and "worker 0" in err and "on nodeA) exited with status 5" in err
    _assert_no_strays(tag)


# ------------------------------------------------- MXNet's parameter server
WORKER_SCRIPT = '''
import json, os, sys, time
from dlbook import mxnet as dl
from mxnet import npx

npx.set_np()
dl.seed_everything(0)
out_dir, epochs = sys.argv[1], int(sys.argv[2])
(X_tr, y_tr), (X_te, y_te) = dl.load_sklearn("digits", as_arrays=True)
net = dl.mlp(hidden=32, num_outputs=10)
trainer = dl.Trainer(net, "cross_entropy", learning_rate=0.1, metrics=["accuracy"],
                     kvstore="dist_sync")
trainer.fit((X_tr, y_tr), epochs=1, batch_size=32, verbose=False)
print(f"ready rank={trainer.rank} pid={os.getpid()}", flush=True)
trainer.fit((X_tr, y_tr), epochs=epochs - 1, batch_size=32, verbose=False)
accuracy = trainer.evaluate((X_te, y_te), batch_size=len(X_te))["accuracy"]
net.save_parameters(os.path.join(out_dir, f"rank{trainer.rank}.params"))
with open(os.path.join(out_dir, f"rank{trainer.rank}.json"), "w") as f:
    json.dump({"rank": trainer.rank, "num_workers": trainer.num_workers,
               "accuracy": accuracy, "shard": len(X_tr) // trainer.num_workers}, f)
print(f"done rank={trainer.rank} accuracy={accuracy:.4f}", flush=True)
'''


def _launcher(args, tag, **kwargs):
    env = {**os.environ, "DLBOOK_TEST_TAG": tag, "PYTHONPATH": str(ROOT)}
    return [sys.executable, "-m", "dlbook.launch", *args], dict(env=env, cwd=ROOT, **kwargs)


@pytest.fixture
def worker_script(tmp_path):
    path = tmp_path / "train_digits.py"
    path.write_text(WORKER_SCRIPT)
    return path


@pytest.mark.slow
def test_two_workers_one_server_train_to_the_same_parameters(tag, worker_script, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    argv, kwargs = _launcher(["-n", "2", "-s", "1", "--timeout", "110",
                              sys.executable, str(worker_script), str(out_dir), "8"], tag)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kwargs)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for label in ("worker 0", "worker 1"):
        assert re.search(rf"^\[{label}\] done rank=[01] accuracy=", proc.stdout, re.M), proc.stdout
    results = [json.loads((out_dir / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["num_workers"] for r in results] == [2, 2]
    assert results[0]["accuracy"] == results[1]["accuracy"] >= 0.9
    with mx.util.np_shape(True), mx.util.np_array(True):
        params = [mx.npx.load(str(out_dir / f"rank{r}.params")) for r in (0, 1)]
    assert sorted(params[0]) == sorted(params[1]) and len(params[0]) == 4
    for key in params[0]:  # synchronous SGD: bit-for-bit the same weights
        assert onp.array_equal(params[0][key].asnumpy(), params[1][key].asnumpy()), key
    _assert_no_strays(tag)


def _lines(stream):
    """Read ``stream`` line by line in a thread; return a queue of lines (None at the end)."""
    lines = queue.Queue()

    def pump():
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _read_until(lines, seen, done, seconds):
    """Move lines from the queue ``lines`` to the list ``seen`` until ``done(line)`` is true.

    Returns what ``done`` returned, or None when the output ended or ``seconds`` passed.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.1, min(1.0, deadline - time.monotonic())))
        except queue.Empty:
            continue
        if line is None:
            return None
        seen.append(line)
        found = done(line)
        if found:
            return found
    return None


@pytest.mark.slow
def test_killing_a_worker_mid_run_stops_the_job_and_names_it(tag, worker_script, tmp_path):
    argv, kwargs = _launcher(["-n", "2", "-s", "1", "--timeout", "110", "--kill-timeout", "3",
                              sys.executable, str(worker_script), str(tmp_path), "100000"], tag)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)
    try:
        seen = []
        ready = _read_until(_lines(proc.stdout), seen,
                            lambda line: re.match(r"\[worker 1\] ready rank=\d pid=(\d+)", line), 90)
        victim = int(ready.group(1)) if ready else None
        assert victim is not None, "worker 1 never got ready:\n" + "".join(seen)
        assert victim in _tagged_pids(tag)
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        stdout_rest, stderr = proc.communicate(timeout=60)
        stopped_after = time.monotonic() - killed_at
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 128 + 9, stderr
    assert re.search(r"worker 1 \(pid \d+, on 127\.0\.0\.1\) was killed by signal 9 \(SIGKILL\); "
                     r"stopping .*worker 0", stderr), stderr
    assert stopped_after < 30
    _assert_no_strays(tag)


@pytest.mark.slow
def test_cli_reports_a_port_in_use(tag):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        argv, kwargs = _launcher(["-n", "2", "-s", "1", "--port", str(port), "--timeout", "60",
                                  sys.executable, "-c", "pass"], tag)
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kwargs)
    assert proc.returncode == 2
    assert f"dlbook launch: error: Port {port} on 127.0.0.1 is already in use" in proc.stderr
    assert "started" not in proc.stdout  # nothing was started
    _assert_no_strays(tag)


# ------------------------------------------------ the launcher, PyTorch jobs
def _run_torch(command, tag, **kwargs):
    out, err = io.StringIO(), io.StringIO()
    env = {"DLBOOK_TEST_TAG": tag, **kwargs.pop("env", {})}
    start = time.monotonic()
    status = launch.launch(command, framework="torch", env=env, output=out, error_output=err,
                           kill_timeout=2.0, **kwargs)
    return status, out.getvalue(), err.getvalue(), time.monotonic() - start


def test_torch_job_gives_workers_the_torchrun_variables_and_no_servers(tag):
    code = ("import os; print(*(os.environ[k] for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', "
            "'MASTER_ADDR', 'MASTER_PORT')), 'DMLC_ROLE' in os.environ)")
    status, out, err, _ = _run_torch(_py(code), tag, num_workers=2, port=launch.find_free_port(),
                                     timeout=60)
    assert status == 0, out + err
    port = re.search(r"\[launch\] PyTorch rendezvous at 127\.0\.0\.1:(\d+) "
                     r"\(MASTER_ADDR:MASTER_PORT\); 2 worker\(s\), no servers", out).group(1)
    for rank in (0, 1):
        assert f"[worker {rank}] {rank} 2 {rank} 127.0.0.1 {port} False" in out
    assert "scheduler" not in out and "server" not in out.replace("no servers", "")
    assert "[launch] all workers finished successfully" in out and err == ""
    _assert_no_strays(tag)


def test_a_failing_torch_worker_is_named_and_everything_stops(tag):
    code = ("import os, sys, time\n"
            "if os.environ['RANK'] == '1':\n"
            "    time.sleep(0.5); print('rank 1 gives up'); sys.exit(4)\n"
            "time.sleep(300)\n")
    status, out, err, seconds = _run_torch(_py(code), tag, num_workers=3, timeout=60)
    assert status == 4
    assert re.search(r"\[launch\] worker 1 \(pid \d+, on 127\.0\.0\.1\) exited with status 4; "
                     r"stopping worker 0, worker 2\.", err), err
    assert "last output of worker 1" in err and "rank 1 gives up" in err
    assert seconds < 30
    _assert_no_strays(tag)


def test_torch_job_timeout_and_a_program_that_cannot_start(tag, tmp_path):
    status, _, err, seconds = _run_torch(_py("import time; time.sleep(300)"), tag,
                                         num_workers=2, timeout=1.0)
    assert status == 124 and seconds < 20
    assert "timed out after 1 s; stopping worker 0, worker 1." in err
    _assert_no_strays(tag)
    status, _, err, _ = _run_torch([str(tmp_path / "no-such-program")], tag, num_workers=2,
                                   timeout=60)
    assert status == 127 and "could not start worker 0" in err
    _assert_no_strays(tag)


def test_torch_job_over_ssh_with_a_stand_in_for_ssh(tag, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ssh").write_text('#!/bin/sh\nwhile [ $# -gt 2 ]; do shift; done\nexec sh -c "$2"\n')
    (bin_dir / "ssh").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DLBOOK_TEST_TAG", tag)
    code = "import os; print(os.environ['RANK'], os.environ['MASTER_ADDR'], os.environ['MASTER_PORT'])"
    status, out, err, _ = _run_torch(_py(code), tag, num_workers=2, hosts=["alice@nodeA", "nodeB"],
                                     timeout=60)
    assert status == 0, out + err
    assert "[worker 0] 0 nodeA 29500" in out and "[worker 1] 1 nodeA 29500" in out
    assert re.search(r"started worker 1 \(pid \d+\) on nodeB", out)
    _assert_no_strays(tag)


# --------------------------------------------- PyTorch's all-reduce over gloo
TORCH_WORKER_SCRIPT = '''
import os, sys
import numpy as onp
import torch
from dlbook import torch as dl
from dlbook.torch import distributed as D

out_dir, epochs = sys.argv[1], int(sys.argv[2])
kv = D.create_kvstore("dist_sync", connect_timeout=30)
rank, K = kv.rank, kv.num_workers
(X, y), _ = dl.load_sklearn("digits", as_arrays=True)
X, y = X[:256], y[:256]
loader = D.shard_loader(dl.ArrayLoader(X, y, batch_size=16), rank, K)


def train(make_step):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    model, step = make_step(net)
    opt = torch.optim.SGD(net.parameters(), lr=0.2)
    for epoch in range(epochs):
        for Xb, yb in loader:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(Xb), yb).backward()
            step(net)
            opt.step()
        if epoch == 0:
            print(f"ready rank={rank} pid={os.getpid()}", flush=True)
    return {k: v.detach().numpy() for k, v in net.state_dict().items()}


mine = train(lambda net: (net, kv.allreduce_grads))
ddp = train(lambda net: (torch.nn.parallel.DistributedDataParallel(net), lambda n: None))
onp.savez(os.path.join(out_dir, f"allreduce{rank}.npz"), **mine)
onp.savez(os.path.join(out_dir, f"ddp{rank}.npz"), **ddp)
print(f"done rank={rank} of {K}", flush=True)
'''


def _torch_reference(epochs, num_workers=2):
    """One process, SGD on batches that are the union of the workers' batches, step by step."""
    import torch

    from dlbook import torch as dl
    from dlbook.distributed import shard_indices

    (X, y), _ = dl.load_sklearn("digits", as_arrays=True)
    X, y = X[:256], y[:256]
    shards = [shard_indices(len(X), r, num_workers) for r in range(num_workers)]
    batches = len(shards[0]) // 16
    order = onp.concatenate([s[j * 16:(j + 1) * 16] for j in range(batches) for s in shards])
    loader = dl.ArrayLoader(X[order], y[order], batch_size=16 * num_workers)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.2)
    for _ in range(epochs):
        for Xb, yb in loader:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(Xb), yb).backward()
            opt.step()
    return {k: v.detach().numpy() for k, v in net.state_dict().items()}


@pytest.fixture
def torch_worker_script(tmp_path):
    path = tmp_path / "train_torch.py"
    path.write_text(TORCH_WORKER_SCRIPT)
    return path


@pytest.mark.slow
def test_two_torch_workers_train_like_one_process_on_the_union_of_their_shards(
        tag, torch_worker_script, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    argv, kwargs = _launcher(["--framework", "torch", "-n", "2", "--timeout", "100",
                              sys.executable, str(torch_worker_script), str(out_dir), "3"], tag)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kwargs)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert re.search(r"^\[worker 1\] done rank=1 of 2$", proc.stdout, re.M), proc.stdout
    runs = {f"{kind}{r}": dict(onp.load(out_dir / f"{kind}{r}.npz"))
            for kind in ("allreduce", "ddp") for r in (0, 1)}
    reference = _torch_reference(epochs=3)
    start = _torch_reference(epochs=0)
    assert sorted(runs["allreduce0"]) == sorted(reference) and len(reference) == 4
    for key in reference:
        # every worker holds bit-for-bit the same weights after synchronous steps
        assert onp.array_equal(runs["allreduce0"][key], runs["allreduce1"][key]), key
        assert onp.array_equal(runs["ddp0"][key], runs["ddp1"][key]), key
        # ... which are those of one process on the union of the shards (up to rounding)
        onp.testing.assert_allclose(runs["allreduce0"][key], reference[key], rtol=1e-4, atol=1e-5)
        # ... and those of PyTorch's DistributedDataParallel
        onp.testing.assert_allclose(runs["allreduce0"][key], runs["ddp0"][key], rtol=1e-4, atol=1e-5)
    assert max(onp.abs(reference[k] - start[k]).max() for k in reference) > 0.05  # it trained
    _assert_no_strays(tag)


@pytest.mark.slow
def test_killing_a_torch_worker_mid_run_stops_the_job_and_names_it(tag, torch_worker_script,
                                                                   tmp_path):
    argv, kwargs = _launcher(["--framework", "torch", "-n", "2", "--timeout", "100",
                              "--kill-timeout", "3", sys.executable, str(torch_worker_script),
                              str(tmp_path), "100000"], tag)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)
    try:
        seen = []
        ready = _read_until(_lines(proc.stdout), seen,
                            lambda line: re.match(r"\[worker 1\] ready rank=1 pid=(\d+)", line), 60)
        victim = int(ready.group(1)) if ready else None
        assert victim is not None, "worker 1 never got ready:\n" + "".join(seen)
        assert victim in _tagged_pids(tag)
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        _, stderr = proc.communicate(timeout=60)
        stopped_after = time.monotonic() - killed_at
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 128 + 9, stderr
    assert re.search(r"worker 1 \(pid \d+, on 127\.0\.0\.1\) was killed by signal 9 \(SIGKILL\); "
                     r"stopping worker 0", stderr), stderr
    assert stopped_after < 30
    _assert_no_strays(tag)


TORCH_TRAINER_SCRIPT = '''
import os, sys
import numpy as onp
from dlbook import torch as dl

dl.seed_everything(0)
(X, y), _ = dl.load_sklearn("digits", as_arrays=True)
net = dl.mlp(hidden=32, num_outputs=10)
trainer = dl.Trainer(net, "cross_entropy", learning_rate=0.2, kvstore="dist_sync")
history = trainer.fit(dl.ArrayLoader(X[:256], y[:256], batch_size=16), epochs=3, verbose=False)
onp.savez(os.path.join(sys.argv[1], f"trainer{trainer.rank}.npz"),
          **{k: v.detach().numpy() for k, v in net.state_dict().items()})
print(f"done rank={trainer.rank} of {trainer.num_workers} steps={trainer.num_updates}", flush=True)
'''


@pytest.mark.slow
def test_torch_trainer_with_dist_sync_trains_like_one_process_on_the_union(tag, tmp_path):
    from dlbook import torch as dl
    from dlbook.distributed import shard_indices

    script = tmp_path / "train_trainer.py"
    script.write_text(TORCH_TRAINER_SCRIPT)
    argv, kwargs = _launcher(["--framework", "torch", "-n", "2", "--timeout", "100",
                              sys.executable, str(script), str(tmp_path)], tag)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kwargs)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # each worker: 128 examples of its shard, 8 batches of 16 per epoch
    assert re.search(r"^\[worker 1\] done rank=1 of 2 steps=24$", proc.stdout, re.M), proc.stdout
    workers = [dict(onp.load(tmp_path / f"trainer{r}.npz")) for r in (0, 1)]

    dl.seed_everything(0)
    (X, y), _ = dl.load_sklearn("digits", as_arrays=True)
    net = dl.mlp(hidden=32, num_outputs=10)
    trainer = dl.Trainer(net, "cross_entropy", learning_rate=0.2)
    shards = [shard_indices(256, r, 2) for r in (0, 1)]
    order = onp.concatenate([s[j * 16:(j + 1) * 16] for j in range(8) for s in shards])
    trainer.fit(dl.ArrayLoader(X[order], y[order], batch_size=32), epochs=3, verbose=False)
    reference = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    assert sorted(workers[0]) == sorted(reference) and len(reference) == 4
    for key in reference:
        assert onp.array_equal(workers[0][key], workers[1][key]), key
        onp.testing.assert_allclose(workers[0][key], reference[key], rtol=1e-4, atol=1e-5)
    _assert_no_strays(tag)


def test_the_launcher_is_cut_by_concern_and_keeps_its_public_names():
    """Planning and supervision live in their own modules; dlbook.launch keeps every name."""
    import inspect

    import dlbook._launch_plan as plan
    import dlbook._launch_supervise as supervise
    import dlbook.launch as public

    for name in public.__all__:
        assert getattr(public, name, None) is not None, name
    assert public.check_port is plan.check_port and public.PortInUseError is plan.PortInUseError
    assert public.SCRIPT_ENDED_MARKER is supervise.SCRIPT_ENDED_MARKER
    assert {public.ssh_command.__module__, public.PortInUseError.__module__} == {"dlbook.launch"}
    assert "subprocess.Popen" not in inspect.getsource(plan)  # planning starts nothing
    assert "argparse" not in inspect.getsource(supervise) + inspect.getsource(plan)
