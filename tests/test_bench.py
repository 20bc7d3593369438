"""bench/train_bench.py's method: medians and within-round ratios, and peers in their own processes.

The benchmark itself is run by `make bench`, never by a test (speed is not
asserted here); these tests check that its arithmetic and its isolation hold.
"""
import doctest
import json
import os
import subprocess
import sys

import numpy as onp
import pytest

from book_helpers import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import train_bench  # noqa: E402


def test_the_summary_doctests_hold():
    assert doctest.testmod(train_bench).failed == 0


def test_ratios_are_taken_within_a_round_not_between_medians():
    # The machine got twice as fast in round 2: the peer is always 0.8 of the
    # baseline within a round, while the ratio of the medians would say 1.2.
    rounds = [{"base": 100.0, "peer": 80.0}, {"base": 200.0, "peer": 160.0}, {"base": 100.0, "peer": 160.0}]
    s = train_bench.summarize(rounds, "base")
    assert s["peer"]["ratio_median"] == 0.8 and s["peer"]["ratio_range"] == (0.8, 1.6)
    assert s["peer"]["median"] / s["base"]["median"] == 1.6  # what the medians alone would claim
    assert s["base"]["spread"] == 1.0  # the baseline doubled: the noise is 100 %


def test_the_fraction_of_peak_is_taken_against_each_rounds_own_peak():
    # In round 2 the whole machine ran at half speed: the matmul peak and the run halved
    # together, so the run's fraction of the peak stays 0.5, where one peak for the whole
    # run (the best round's, 200) would read 0.25 for round 2.
    speeds, peaks = [1000.0, 500.0, 1000.0], [200.0, 100.0, 200.0]
    assert train_bench.fraction_of_peak(speeds, peaks, flops=1e8) == 0.5
    assert train_bench.fraction_of_peak([1000.0, None], [200.0, 100.0], flops=1e8) == 0.5
    assert train_bench.fraction_of_peak([1000.0], [None], flops=1e8) != 0.5  # nan: no peak


def test_a_round_without_the_baseline_gives_no_ratio():
    s = train_bench.summarize([{"peer": 80.0}, {"base": 100.0, "peer": 90.0}], "base")
    assert s["peer"]["ratio_median"] == 0.9 and s["peer"]["median"] == 85.0
    with pytest.raises(ValueError, match="at least one round"):
        train_bench.summarize([], "base")


@pytest.mark.parametrize("argv, message", [
    (["--loops", "torch-eager,jax"], "--loops: expected names from dlbook-mxnet"),
    (["--loops", "dlbook-mxnet"], "including torch-eager"),
    (["--models", "resnet"], "--models: expected names from softmax, mlp, lenet, got resnet"),
    (["--epochs", "1"], "--epochs: expected at least 2"),
    (["--repeats", "0"], "--repeats: expected at least 1, got 0"),
])
def test_bad_arguments_are_named_before_anything_runs(argv, message, capsys):
    with pytest.raises(SystemExit):
        train_bench.main(argv)
    assert message in capsys.readouterr().err


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    rng = onp.random.default_rng(0)
    path = tmp_path_factory.mktemp("bench") / "tiny.npz"
    onp.savez(path, X=rng.random((512, 784), dtype="float32"), y=rng.integers(0, 10, 512).astype("int32"),
              Xt=rng.random((100, 784), dtype="float32"), yt=rng.integers(0, 10, 100).astype("int32"))
    return str(path)


def _worker(spec):
    # As from a user's shell: without what dlbook.mxnet, imported by other tests, set here.
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "train_bench.py"), "--worker", json.dumps(spec)],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("peer, absent, present", [
    ("torch-eager", {"dlbook", "mxnet"}, {"torch"}),  # a PyTorch user's process: no dlbook, no MXNet
    ("dlbook-torch", {"mxnet"}, {"dlbook", "torch"}),
    ("hand-mxnet", {"torch"}, {"dlbook", "mxnet"}),
])
def test_each_peer_runs_in_a_process_of_its_own_users(tiny_data, peer, absent, present):
    run = _worker({"peer": peer, "model": "softmax", "data": tiny_data, "epochs": 2})
    assert len(run["epoch_seconds"]) == 2 and all(t > 0 for t in run["epoch_seconds"])
    assert 0 <= run["test_accuracy"] <= 1
    modules = set(run["modules"])
    assert not modules & absent and present <= modules, modules
    # dlbook.mxnet tunes OpenMP for MXNet at import; the PyTorch processes run with torch's own defaults.
    assert ("OMP_WAIT_POLICY" in run["env"]) == ("mxnet" in present), run["env"]
