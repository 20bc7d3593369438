"""The fault matrix of a distributed job, for both frameworks, with real processes on 127.0.0.1.

Every fault must end the whole job in bounded time, with a message that names the
cause and a non-zero exit status, and leave no process behind (checked in /proc, as in
test_launch.py). The workers train a small network on scikit-learn's digits through
dlbook's Trainer with ``kvstore='dist_sync'`` (MXNet's parameter server, or PyTorch's
all-reduce over gloo) and announce ``ready`` after their first epoch; the fault is
then injected by the script itself or from outside.

A fake-process test of the stall check (no CPU for ``stall_timeout`` seconds) is in
the fast tier; the real faults are slow (a few seconds each).
"""
import os
import queue
import re
import signal
import subprocess
import sys
import time
import uuid

import pytest

import dlbook.launch as launch
from test_launch import (_assert_no_strays, _launcher, _lines, _py, _read_until, _run,
                         _tagged_pids, fake_python)  # noqa: F401 (fake_python: a fixture)

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"),
                                reason="the stray-process check reads /proc (Linux)")

FAULT_SCRIPT = '''
import os, sys
from dlbook import {framework} as dl
dl.seed_everything(0)
mode, index = sys.argv[1], os.environ["DLBOOK_LAUNCH_INDEX"]
(X, y), _ = dl.load_sklearn("digits", as_arrays=True)
if mode == "raise-before" and index == "1":
    raise RuntimeError("worker 1 broke before joining")
net = dl.mlp(hidden=32, num_outputs=10)
trainer = dl.Trainer(net, "cross_entropy", learning_rate=0.1, kvstore="dist_sync")
trainer.fit((X, y), epochs=1, batch_size=32, verbose=False)
print(f"ready pid={{os.getpid()}}", flush=True)
if index == "1" and mode == "raise-mid":
    raise RuntimeError("worker 1 broke mid-training")
if index == "1" and mode == "exit-early":
    sys.exit(0)
trainer.fit((X, y), epochs=100000 if mode != "none" else 2, batch_size=32, verbose=False)
print("done", flush=True)
'''
FRAMEWORKS = {"mxnet": ["-n", "2", "-s", "1"], "torch": ["--framework", "torch", "-n", "2"]}


@pytest.fixture
def tag():
    value = uuid.uuid4().hex
    yield value
    for pid in _tagged_pids(value):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _job(framework, mode, tag, tmp_path, *options, inject=None, limit=60):
    """Run a two-worker job; ``inject(pids, proc)`` is called once both workers are ready.

    Returns (exit status, stdout, stderr, seconds from the injection or the start to the end).
    """
    script = tmp_path / f"fault_{framework}.py"
    script.write_text(FAULT_SCRIPT.format(framework=framework))
    argv, kwargs = _launcher([*FRAMEWORKS[framework], "--timeout", "110", "--kill-timeout", "3",
                              *options, sys.executable, str(script), mode], tag)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)
    seen, pids, ready = [], {}, set()
    try:
        lines = _lines(proc.stdout)

        def note(line):  # the pids the launcher reports; true once both workers are ready
            match = re.match(r"\[launch\] started (\w+(?: \d)?) \(pid (\d+)\)", line)
            if match:
                pids[match.group(1)] = int(match.group(2))
            if re.match(r"\[worker \d\] ready", line):
                ready.add(line.split("]")[0])
            return len(ready) == 2

        if inject is not None:
            _read_until(lines, seen, note, 60)
            assert len(ready) == 2, "the workers never got ready:\n" + "".join(seen)
            inject(pids, proc)
        since = time.monotonic()
        try:
            while (line := lines.get(timeout=limit)) is not None:
                seen.append(line)
        except queue.Empty:  # the job outlived its bound; the assertions on time say so
            pass
        proc.wait(timeout=5)
        err = proc.stderr.read()
        return proc.returncode, "".join(seen), err, time.monotonic() - since
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)


@pytest.mark.slow
@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
def test_a_healthy_job_is_not_mistaken_for_a_fault(framework, tag, tmp_path):
    status, out, err, _ = _job(framework, "none", tag, tmp_path, "--stall-timeout", "5")
    assert status == 0, out + err
    assert out.count("] done") == 2 and "all workers finished successfully" in out
    assert "[dlbook]" not in out + err  # the script-ended marker is the launcher's, not shown
    _assert_no_strays(tag)


@pytest.mark.slow
@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
@pytest.mark.parametrize("mode", ["raise-before", "raise-mid"])
def test_a_worker_whose_script_raises_ends_the_job(framework, mode, tag, tmp_path):
    status, out, err, seconds = _job(framework, mode, tag, tmp_path)
    assert status == 1, out + err
    assert re.search(r"worker 1 \(pid \d+, on 127\.0\.0\.1\) exited with status 1; stopping", err), err
    broke = "broke before joining" if mode == "raise-before" else "broke mid-training"
    # the worker's own traceback appears once in its output (the launcher's recap is on stderr)
    assert out.count(f"RuntimeError: worker 1 {broke}") == 1, out
    assert f"RuntimeError: worker 1 {broke}" in err
    assert seconds < 30
    _assert_no_strays(tag)


@pytest.mark.slow
@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
def test_a_worker_that_exits_0_early_is_named(framework, tag, tmp_path):
    status, out, err, seconds = _job(framework, "exit-early", tag, tmp_path,
                                     "--stall-timeout", "8")
    assert status != 0, out + err
    # MXNet: everyone waits (the kvstore), the stall check ends it; PyTorch: gloo fails worker 0
    assert re.search(r"worker 1 exited with status 0 \d+ s before this, while worker 0 was still "
                     r"training|worker 1 ended its script \d+ s before this, while worker 0 was "
                     r"still training", err), err
    if framework == "mxnet":
        assert status == 124 and "no process of the job has used the CPU for 8 s" in err
    assert seconds < 40
    _assert_no_strays(tag)


def _kill(label, sig=signal.SIGKILL):
    return lambda pids, proc: os.kill(pids[label], sig)


@pytest.mark.slow
@pytest.mark.parametrize("label", ["server 0", "scheduler"])
def test_killing_the_server_or_the_scheduler_ends_the_job(label, tag, tmp_path):
    status, out, err, seconds = _job("mxnet", "run", tag, tmp_path, inject=_kill(label))
    assert status == 128 + 9, out + err
    assert re.search(rf"{label} \(pid \d+, on 127\.0\.0\.1\) was killed by signal 9 \(SIGKILL\)",
                     err), err
    assert seconds < 30
    _assert_no_strays(tag)


@pytest.mark.slow
@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
def test_sigint_to_the_launcher_stops_every_process(framework, tag, tmp_path):
    status, out, err, seconds = _job(framework, "run", tag, tmp_path,
                                     inject=lambda pids, proc: proc.send_signal(signal.SIGINT))
    assert status == 128 + signal.SIGINT, out + err
    assert "interrupted by SIGINT; stopping all processes" in err
    assert seconds < 30
    _assert_no_strays(tag)


# ------------------------------------------------------ the stall check, fast
def test_a_job_that_uses_no_cpu_is_stopped_as_stalled(tag, fake_python):
    status, out, err, seconds = _run(_py("import time; print('waiting', flush=True); "
                                         "time.sleep(300)"),
                                     tag, fake_python, num_workers=2, stall_timeout=2)
    assert status == 124, out + err
    assert "no process of the job has used the CPU for 2 s" in err
    assert "stopping scheduler, server 0, worker 0, worker 1." in err
    assert "last output of worker 1:\n[launch]     waiting" in err
    assert seconds < 20
    _assert_no_strays(tag)


def test_a_busy_worker_is_not_stalled_and_its_children_count(tag, fake_python):
    # worker 0 computes for 4 s in a child process (worker 0 itself only waits for it);
    # worker 1 waits for it, as a worker waits for its peers
    busy = "import time\nt = time.time()\nwhile time.time() - t < 4: pass\n"
    code = ("import os, subprocess, sys, time\n"
            "if os.environ['DLBOOK_LAUNCH_INDEX'] == '0':\n"
            f"    subprocess.run([sys.executable, '-c', {busy!r}], check=True)\n"
            "else:\n"
            "    time.sleep(4.5)\n")
    status, out, err, _ = _run(_py(code), tag, fake_python, num_workers=2,
                               stall_timeout=2, env={"FAKE_SERVER_SECONDS": "0"})
    assert status == 0, out + err
    assert "no process of the job" not in err
    _assert_no_strays(tag)


def test_stall_timeout_is_checked():
    with pytest.raises(ValueError, match=r"Expected `stall_timeout` as a number of seconds >= 0 "
                                         r"or None, got -1\. Pass 0 or None for no check\."):
        launch.launch(["python", "train.py"], stall_timeout=-1)
    with pytest.raises(TypeError, match="got 'soon'"):
        launch.launch(["python", "train.py"], stall_timeout="soon")


# ------------------------------------------------- resume after a failure
RESUME_SCRIPT = '''
import os, sys
import numpy as onp
from dlbook import {framework} as dl
dl.seed_everything(0)
out, mode = sys.argv[1], sys.argv[2]
index = os.environ["DLBOOK_LAUNCH_INDEX"]
(X, y), _ = dl.load_sklearn("digits", as_arrays=True)
loader = dl.ArrayLoader(X[:512], y[:512], batch_size=32, shuffle=False)
trainer = dl.Trainer(dl.mlp(hidden=32, num_outputs=10), "cross_entropy", learning_rate=0.1,
                     kvstore="dist_sync")
last = os.path.join(out, "last.npz")

class Crash(dl.Callback):
    def on_epoch_end(self, epoch, logs):
        if mode == "crash" and index == "1" and epoch == 3:
            raise RuntimeError("worker 1 crashed after epoch 3")

if mode == "resume":
    dl.load_checkpoint(last, trainer)
    print(f"resumed after epoch {{len(trainer.history)}}", flush=True)
trainer.fit(loader, epochs=5 - len(trainer.history), verbose=False,
            callbacks=[dl.ModelCheckpoint(last, monitor="loss"), Crash()])
onp.savez(os.path.join(out, f"{{mode}}-rank{{trainer.rank}}.npz"), **trainer._checkpoint_params())
print("done", trainer.history.epoch, flush=True)
'''


@pytest.mark.slow
@pytest.mark.parametrize("framework", sorted(FRAMEWORKS))
def test_a_job_restarted_from_its_last_checkpoint_ends_as_an_uninterrupted_one(
        framework, tag, tmp_path):
    import numpy as onp

    script = tmp_path / "resume.py"
    script.write_text(RESUME_SCRIPT.format(framework=framework))

    def job(out, mode):
        argv, kwargs = _launcher([*FRAMEWORKS[framework], "--timeout", "100", sys.executable,
                                  str(script), str(out), mode], tag)
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, **kwargs)

    whole, broken = tmp_path / "whole", tmp_path / "broken"
    whole.mkdir()
    broken.mkdir()
    first = job(whole, "full")
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    crashed = job(broken, "crash")
    assert crashed.returncode == 1 and "worker 1 crashed after epoch 3" in crashed.stderr
    # worker 0 saved epoch 2, and epoch 3 too unless it was stopped first
    resumed = job(broken, "resume")
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    starts = re.findall(r"^\[worker \d\] resumed after epoch (\d)$", resumed.stdout, re.M)
    assert len(starts) == 2 and len(set(starts)) == 1 and starts[0] in ("2", "3"), resumed.stdout
    assert resumed.stdout.count("done [1, 2, 3, 4, 5]") == 2
    reference = dict(onp.load(whole / "full-rank0.npz"))
    for rank in (0, 1):
        after = dict(onp.load(broken / f"resume-rank{rank}.npz"))
        assert sorted(after) == sorted(reference)
        for key in reference:  # plain SGD, fixed order: bit for bit the uninterrupted run
            assert onp.array_equal(after[key], reference[key]), (rank, key)
    _assert_no_strays(tag)
