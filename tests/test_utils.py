"""Tests of dlbook.mxnet.utils: Timer, Accumulator, seeding, devices, parameter counts,
summary and derivative."""
import os
import random
import re

import mxnet as mx
import numpy as onp
import pytest
from mxnet import gluon

from dlbook.mxnet import utils
from dlbook.mxnet.models import Sequential, lenet, mlp
from dlbook.mxnet.train import Trainer
from dlbook.mxnet.utils import (
    Accumulator,
    Timer,
    count_parameters,
    derivative,
    seed_everything,
    summary,
    try_all_gpus,
    try_gpu,
)


# ------------------------------------------------------- Timer, Accumulator
def test_timer_records_runs(monkeypatch):
    ticks = iter([10.0, 12.5, 20.0, 21.0])

    class FakeTime:
        @staticmethod
        def perf_counter():
            return next(ticks)

    monkeypatch.setattr(utils, "time", FakeTime)
    timer = Timer()  # starts at 10.0
    assert timer.stop() == 2.5
    timer.start()
    assert timer.stop() == 1.0
    assert timer.times == [2.5, 1.0]
    assert (timer.avg(), timer.sum(), timer.cumsum()) == (1.75, 3.5, [2.5, 3.5])
    assert repr(timer) == "Timer(runs=2, total=3.500s)"


def test_timer_measures_real_time():
    import time

    timer = Timer()
    time.sleep(0.02)
    elapsed = timer.stop()
    assert 0.015 < elapsed < 1.0
    assert Timer().avg() == 0.0 and Timer().sum() == 0.0


def test_accumulator_sums_and_resets():
    acc = Accumulator(3)
    acc.add(1, 2.5, mx.np.array(4.0))
    acc.add(2, 0.5, onp.float32(1.0))
    assert (acc[0], acc[1], acc[2]) == (3.0, 3.0, 5.0)
    assert acc[1:] == [3.0, 5.0]
    assert repr(acc) == "Accumulator([3.0, 3.0, 5.0])"
    acc.reset()
    assert acc.data == [0.0, 0.0, 0.0]


# -------------------------------------------------------------- seeding
def _draws():
    net = mlp(hidden=3, num_outputs=2)
    net.initialize()
    net(mx.np.ones((1, 2)))
    return (random.random(), onp.random.rand(), float(mx.np.random.uniform().item()),
            net[0].weight.data().asnumpy().tolist())


def test_seed_everything_makes_every_source_reproducible(monkeypatch):
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    seed_everything(123)
    first = _draws()
    assert os.environ["PYTHONHASHSEED"] == "123"
    seed_everything(123)
    assert _draws() == first
    seed_everything(124)
    other = _draws()
    assert all(a != b for a, b in zip(first, other))


# -------------------------------------------------------------- devices
def test_devices_on_this_machine():
    n = utils.num_gpus()
    assert n >= 0
    assert try_gpu() == (mx.gpu(0) if n else mx.cpu())
    assert try_all_gpus() == ([mx.gpu(i) for i in range(n)] if n else [mx.cpu()])


def test_devices_with_two_gpus_and_with_none(monkeypatch):
    monkeypatch.setattr(utils, "num_gpus", lambda: 2)
    assert (try_gpu(), try_gpu(1), try_gpu(2)) == (mx.gpu(0), mx.gpu(1), mx.cpu())
    assert try_all_gpus() == [mx.gpu(0), mx.gpu(1)]
    monkeypatch.setattr(utils, "num_gpus", lambda: 0)
    assert try_gpu() == mx.cpu() and try_all_gpus() == [mx.cpu()]


# ------------------------------------------------------ count_parameters
def test_count_parameters_with_known_shapes():
    assert count_parameters(gluon.nn.Dense(3, in_units=4)) == 15
    net = mlp(hidden=8, num_outputs=2, batch_norm=True)
    net.initialize()
    net(mx.np.ones((2, 5)))
    assert count_parameters(net) == (5 * 8 + 8) + 4 * 8 + (8 * 2 + 2)
    assert count_parameters(net, trainable_only=True) == (5 * 8 + 8) + 2 * 8 + (8 * 2 + 2)


# ----------------------------------------------------------------- summary
def _rows(table):
    """(name, shape, params) for each layer row of a summary table."""
    rows = []
    for line in table.splitlines():
        match = re.fullmatch(r"(\S+: \w+)\s+(\(.*?\)|-)\s+([\d,]+)", line.strip())
        if match:
            rows.append((match.group(1), match.group(2), int(match.group(3).replace(",", ""))))
    return rows


def _totals(table):
    numbers = dict(re.findall(r"^(Total|Trainable|Non-trainable) params: ([\d,]+)$", table, re.M))
    return {k: int(v.replace(",", "")) for k, v in numbers.items()}


def test_summary_of_lenet(np_mode, capsys):
    net = lenet()
    net.initialize()
    table = summary(net, (1, 1, 28, 28))
    assert capsys.readouterr().out == table + "\n"
    rows = _rows(table)
    assert len(rows) == 11
    assert rows[0] == ("0: Conv2D", "(1, 6, 28, 28)", 156)
    assert rows[2] == ("2: AvgPool2D", "(1, 6, 14, 14)", 0)
    assert rows[5] == ("5: AvgPool2D", "(1, 16, 5, 5)", 0)
    assert rows[-1] == ("10: Dense", "(1, 10)", 850)
    totals = _totals(table)
    assert totals == {"Total": 61706, "Trainable": 61706, "Non-trainable": 0}
    assert sum(r[2] for r in rows) == count_parameters(net) == 61706
    assert "Total params: 61,706" in table


def test_summary_counts_batch_norm_statistics_as_non_trainable():
    net = mlp(hidden=(16, 8), num_outputs=3, batch_norm=True)
    net.initialize()
    table = summary(net, (4, 10))
    rows = _rows(table)
    assert [r[0].split(": ")[1] for r in rows] == [
        "Dense", "BatchNorm", "Activation", "Dense", "BatchNorm", "Activation", "Dense"]
    assert rows[1] == ("1: BatchNorm", "(4, 16)", 64)
    totals = _totals(table)
    assert totals["Total"] == sum(r[2] for r in rows) == count_parameters(net)
    assert totals["Trainable"] == count_parameters(net, trainable_only=True)
    assert totals["Non-trainable"] == 2 * (16 + 8)


def test_summary_opens_nested_containers():
    inner = gluon.nn.HybridSequential()
    inner.add(gluon.nn.Dense(4), gluon.nn.Activation("relu"))
    outer = Sequential()
    outer.add(inner, gluon.nn.Dense(2))
    outer.initialize()
    rows = _rows(summary(outer, (1, 3)))
    assert [(r[0], r[2]) for r in rows] == [("0.0: Dense", 16), ("0.1: Activation", 0),
                                           ("1: Dense", 10)]


def test_summary_keeps_a_trained_network_hybridized(blobs):
    X, y = blobs
    trainer = Trainer(mlp(hidden=8, num_outputs=3), "cross_entropy", metrics=["accuracy"])
    trainer.fit((X, y), batch_size=10, verbose=False)
    before = trainer.predict(X).asnumpy()
    summary(trainer.net, (2, 4))
    assert trainer.net._active
    onp.testing.assert_allclose(trainer.predict(X).asnumpy(), before, rtol=1e-6)
    trainer.fit((X, y), batch_size=10, verbose=False)
    assert len(trainer.history) == 2


# -------------------------------------------------------------- derivative
_X = onp.array([-3.0, -1.0, -0.2, 0.3, 1.0, 2.5], dtype="float32")


@pytest.mark.parametrize("f, value, slope", [
    (lambda z: mx.npx.sigmoid(z), lambda x: 1 / (1 + onp.exp(-x)),
     lambda x: onp.exp(-x) / (1 + onp.exp(-x)) ** 2),
    (lambda z: mx.np.tanh(z), onp.tanh, lambda x: 1 - onp.tanh(x) ** 2),
    (lambda z: mx.npx.relu(z), lambda x: onp.maximum(x, 0), lambda x: (x > 0).astype("float32")),
    (lambda z: z ** 3 - 2 * z, lambda x: x ** 3 - 2 * x, lambda x: 3 * x ** 2 - 2),
], ids=["sigmoid", "tanh", "relu", "cubic"])
def test_derivative_matches_the_analytic_one(np_mode, f, value, slope):
    y, dy = derivative(f, _X)
    assert isinstance(y, onp.ndarray) and isinstance(dy, onp.ndarray)
    onp.testing.assert_allclose(y, value(_X), rtol=1e-5, atol=1e-6)
    onp.testing.assert_allclose(dy, slope(_X), rtol=1e-5, atol=1e-6)


def test_derivative_accepts_lists_and_mxnet_arrays():
    y, dy = derivative(lambda z: z * z, [1.0, -2.0])
    assert y.tolist() == [1.0, 4.0] and dy.tolist() == [2.0, -4.0]
    _, dy = derivative(lambda z: 5 * z, mx.np.array([[1.0, 2.0]]))
    assert dy.tolist() == [[5.0, 5.0]]


# ------------------------------------------------------------------ bad input
def _legacy_dense():
    layer = gluon.nn.Dense(2, in_units=3)
    layer.initialize()  # outside NumPy mode
    return layer


def _initialized(net):
    net.initialize()
    return net


BAD_INPUTS = [
    (lambda: Accumulator(0), ValueError, r"`n` >= 1, got 0"),
    (lambda: Accumulator(2).add(1.0), ValueError, r"Expected 2 values for `values`, got 1"),
    (lambda: seed_everything(-1), ValueError, r"`seed` >= 0, got -1"),
    (lambda: seed_everything(2 ** 31), ValueError, r"`seed` <= 2147483647"),
    (lambda: seed_everything(1.5), TypeError, r"`seed` to be an integer, got 1.5 \(float\)"),
    (lambda: try_gpu(-1), ValueError, r"`i` >= 0"),
    (lambda: count_parameters("net"), TypeError, r"`net` to be a gluon Block"),
    (lambda: count_parameters(_initialized(mlp(hidden=4))), RuntimeError, r"shape of parameter `dense\d+_weight` is not known yet"),
    (lambda: count_parameters(_legacy_dense()), TypeError, r"legacy mx.nd array"),
    (lambda: summary(_initialized(mlp(hidden=4)), ()), ValueError, r"`input_shape` as a tuple of positive ints .* got \(\)"),
    (lambda: summary(_initialized(mlp(hidden=4)), (0, 3)), ValueError, r"`input_shape` .* got \(0, 3\)"),
    (lambda: summary(_initialized(mlp(hidden=4)), (1, -3)), ValueError, r"`input_shape` .* got \(1, -3\)"),
    (lambda: summary(_initialized(mlp(hidden=4)), "1x3"), ValueError, r"`input_shape` .* got '1x3'"),
    (lambda: summary(_initialized(mlp(hidden=4)), (1, 3.0)), ValueError, r"`input_shape` .* got \(1, 3.0\)"),
    (lambda: summary(mlp(hidden=4), (1, 3)), RuntimeError, r"`net` has uninitialized parameters. Call `net.initialize\(\)`"),
    (lambda: summary(_legacy_dense(), (1, 3)), TypeError, r"legacy mx.nd array"),
    (lambda: derivative(lambda z: z.sum(), [1.0, 2.0]), ValueError, r"`f` to be element-wise \(output shape \(2,\)\), got output shape \(\)"),
    (lambda: derivative(mx.np.tanh, ["a"]), TypeError, r"`x` to hold numbers"),
    (lambda: derivative(mx.np.tanh, [onp.nan]), ValueError, r"`x` contains 1 NaN"),
]


@pytest.mark.parametrize("call, error, pattern", BAD_INPUTS)
def test_bad_input_raises_a_clear_error(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


# ------------------------------------------------------------------ record
def test_record_returns_the_value_as_a_float():
    assert utils.record("softmax_accuracy", onp.float32(0.5)) == 0.5
    assert utils.record("ppl", mx.np.array([3.25])) == 3.25
    assert type(utils.record("n", 7)) is float


@pytest.mark.parametrize("name", ["", "two words", "1st", "a-b", None, 3])
def test_record_rejects_a_bad_name(name):
    with pytest.raises(ValueError, match="`name`"):
        utils.record(name, 1.0)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "0.9", True, None, onp.ones(3)])
def test_record_rejects_a_value_that_is_not_a_finite_number(value):
    with pytest.raises(ValueError, match="`value` as a finite number"):
        utils.record("accuracy", value)


def test_record_in_a_kernel_glues_the_value_for_other_pages(tmp_path):
    """In Jupyter (as in the book's build) the value is glued, hidden, for MyST-NB to paste."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "from dlbook import mxnet as dl\nx = dl.record('test_accuracy', 0.8125)")])
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = nb.cells[0].outputs
    glued = [o for o in outputs if o.get("metadata", {}).get("scrapbook", {}).get("name")]
    assert len(glued) == 1, outputs
    scrapbook = glued[0].metadata.scrapbook
    assert scrapbook.name == "test_accuracy"
    assert float(glued[0].data[scrapbook.mime_prefix + "text/plain"]) == 0.8125
    assert not [o for o in outputs if o.output_type == "stream"]  # nothing shown on the page
