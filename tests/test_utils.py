"""Tests of the small utilities of both layers: Timer and Accumulator (dlbook.meters), seeding
(dlbook.seeding, <layer>.session), devices (<layer>.devices), parameter counts and summary
(<layer>.summaries), derivative (<layer>.derivatives), record (dlbook.results) and the
``dl.utils`` names the chapters use."""
import os
import random
import re

import mxnet as mx
import numpy as onp
import pytest
import torch
from mxnet import gluon
from torch import nn

from dlbook import meters, results
from dlbook.meters import Accumulator, Timer
from dlbook.mxnet import devices as mx_devices
from dlbook.mxnet.models import Sequential, lenet, mlp
from dlbook.mxnet.summaries import count_parameters, summary
from dlbook.mxnet.train import Trainer
from dlbook.torch import devices as torch_devices
from dlbook.torch import summaries as torch_summaries


# ------------------------------------------------------- Timer, Accumulator
def test_timer_records_runs(monkeypatch):
    ticks = iter([10.0, 12.5, 20.0, 21.0])

    class FakeTime:
        @staticmethod
        def perf_counter():
            return next(ticks)

    monkeypatch.setattr(meters, "time", FakeTime)
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
    acc.add(2, torch.tensor(0.5), onp.float32(1.0))
    assert (acc[0], acc[1], acc[2]) == (3.0, 3.0, 5.0)
    assert acc[1:] == [3.0, 5.0]
    assert repr(acc) == "Accumulator([3.0, 3.0, 5.0])"
    acc.reset()
    assert acc.data == [0.0, 0.0, 0.0]


def test_both_layers_offer_the_neutral_utilities(dl):
    assert dl.Timer is Timer and dl.Accumulator is Accumulator and dl.record is results.record
    # The chapters call these through `dl.utils`.
    assert dl.utils.derivative is dl.derivative and dl.utils.num_gpus is dl.num_gpus
    assert dl.utils.seed_everything is dl.seed_everything and dl.utils.summary is dl.summary


# -------------------------------------------------------------- seeding
def _mxnet_draws():
    net = mlp(hidden=3, num_outputs=2)
    net.initialize()
    net(mx.np.ones((1, 2)))
    return (random.random(), onp.random.rand(), float(mx.np.random.uniform().item()),
            net[0].weight.data().asnumpy().tolist())


def _torch_draws():
    net = nn.Linear(2, 3)
    return (random.random(), onp.random.rand(), float(torch.rand(())),
            net.weight.detach().numpy().tolist())


def test_seed_everything_makes_every_source_reproducible(monkeypatch, dl):
    draws = {"mxnet": _mxnet_draws, "torch": _torch_draws}[dl.FRAMEWORK]
    layer = dl
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    layer.seed_everything(123)
    first = draws()
    assert os.environ["PYTHONHASHSEED"] == "123"
    layer.seed_everything(123)
    assert draws() == first
    layer.seed_everything(124)
    other = draws()
    assert all(a != b for a, b in zip(first, other))


def test_python_and_numpy_draws_agree_between_layers():
    import dlbook.mxnet
    import dlbook.torch

    dlbook.mxnet.seed_everything(9)
    mx_draws = (random.random(), onp.random.rand())
    dlbook.torch.seed_everything(9)
    assert (random.random(), onp.random.rand()) == mx_draws


# -------------------------------------------------------------- devices
# The framework's own GPU count is stubbed (not dlbook's num_gpus), so the whole chain
# num_gpus -> try_gpu / try_all_gpus / check_device runs as on a machine with that many GPUs.
def _mx_sees(monkeypatch, n):
    def count():
        if n is None:  # what a CPU-only build of MXNet does on some machines
            raise mx.base.MXNetError("no CUDA")
        return n
    monkeypatch.setattr(mx.context, "num_gpus", count)


def _torch_sees(monkeypatch, n, available=None):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: n > 0 if available is None
                        else available)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: n)


def test_mxnet_devices_with_two_gpus_and_with_none(monkeypatch):
    _mx_sees(monkeypatch, 2)
    assert mx_devices.num_gpus() == 2
    assert (mx_devices.try_gpu(), mx_devices.try_gpu(1), mx_devices.try_gpu(2)) == (
        mx.gpu(0), mx.gpu(1), mx.cpu())
    assert mx_devices.try_all_gpus() == [mx.gpu(0), mx.gpu(1)]
    for n in (0, None):  # none counted, or the count itself fails
        _mx_sees(monkeypatch, n)
        assert mx_devices.num_gpus() == 0
        assert mx_devices.try_gpu() == mx.cpu() and mx_devices.try_all_gpus() == [mx.cpu()]


def test_torch_devices_with_two_gpus_and_with_none(monkeypatch):
    cuda = [torch.device("cuda:0"), torch.device("cuda:1")]
    _torch_sees(monkeypatch, 2)
    assert torch_devices.num_gpus() == 2
    assert (torch_devices.try_gpu(), torch_devices.try_gpu(1), torch_devices.try_gpu(2)) == (
        *cuda, torch.device("cpu"))
    assert torch_devices.try_all_gpus() == cuda
    # devices listed but CUDA unusable (a driver mismatch): none of them is offered
    for n, available in ((0, False), (2, False)):
        _torch_sees(monkeypatch, n, available)
        assert torch_devices.num_gpus() == 0
        assert torch_devices.try_gpu() == torch.device("cpu")
        assert torch_devices.try_all_gpus() == [torch.device("cpu")]


@pytest.mark.parametrize("devices, cpu", [(mx_devices, mx.cpu()),
                                          (torch_devices, torch.device("cpu"))],
                         ids=["mxnet", "torch"])
def test_the_devices_of_this_machine_agree_with_each_other(devices, cpu):
    """Whatever this machine has: try_all_gpus lists try_gpu(i) for every counted GPU, each of
    them is usable, and the first one past them is the CPU."""
    n = devices.num_gpus()
    assert devices.try_gpu(n) == cpu
    assert devices.try_all_gpus() == ([devices.try_gpu(i) for i in range(n)] or [cpu])
    assert all(devices.check_device(d) == d for d in devices.try_all_gpus())
    if n == 0:
        assert devices.try_gpu() == cpu


def _gpu(dl, i):
    return mx.gpu(i) if dl.FRAMEWORK == "mxnet" else torch.device(f"cuda:{i}")


_NO_GPU = (r"Expected `device` to be a device of this machine, got (gpu\(0\)|cuda:0): "
           r"(MXNet|PyTorch) sees no GPU here \(a CPU-only build of \2, or a machine without "
           r"a GPU\)\. Use `dl\.try_gpu\(\)`, which falls back to the CPU when there is no GPU, "
           r"or `device=None` for the CPU\.")

_TAKES_A_DEVICE = {  # everything that accepts `device`, given a GPU
    "ArrayLoader": lambda dl, d: dl.ArrayLoader(onp.ones((4, 3)), onp.arange(4), batch_size=2,
                                                device=d),
    "load_array": lambda dl, d: dl.load_array((onp.ones((4, 3)),), 2, device=d),
    "load_sklearn": lambda dl, d: dl.load_sklearn("iris", device=d),
    "Trainer": lambda dl, d: dl.Trainer(dl.mlp(hidden=4, num_outputs=2), "cross_entropy",
                                        device=d),
    "Trainer(list)": lambda dl, d: dl.Trainer(dl.mlp(hidden=4, num_outputs=2), "cross_entropy",
                                              device=[d]),
    "summary": lambda dl, d: dl.summary(_unbuilt(dl.mlp(hidden=4, num_outputs=2), dl), (1, 3),
                                        device=d),
}


@pytest.mark.parametrize("takes", sorted(_TAKES_A_DEVICE))
def test_a_gpu_the_machine_lacks_is_refused_up_front_in_both_layers(dl, monkeypatch, takes):
    """As on a CPU-only build: the same message, naming the fallback, before any work."""
    monkeypatch.setattr(dl.devices, "num_gpus", lambda: 0)
    with pytest.raises(ValueError, match=_NO_GPU):
        _TAKES_A_DEVICE[takes](dl, _gpu(dl, 0))


def test_check_device_counts_the_gpus_there_are(dl, monkeypatch):
    monkeypatch.setattr(dl.devices, "num_gpus", lambda: 2)
    assert dl.devices.check_device(_gpu(dl, 1)) == _gpu(dl, 1)
    with pytest.raises(ValueError, match=r"got (gpu\(2\)|cuda:2): (MXNet|PyTorch) sees 2 GPUs "
                                         r"here, numbered 0 to 1\. Use `dl\.try_gpu\(\)`"):
        dl.devices.check_device(_gpu(dl, 2))
    cpu = mx.cpu() if dl.FRAMEWORK == "mxnet" else torch.device("cpu")
    assert dl.devices.check_device(cpu) == cpu
    assert dl.ArrayLoader(onp.ones((2, 1)), batch_size=1, device=cpu).device == cpu


def test_the_real_machine_check_agrees_with_num_gpus(dl):
    """No stand-in: a GPU is refused exactly when the framework sees none."""
    if dl.num_gpus():
        assert dl.devices.check_device(_gpu(dl, 0)) == _gpu(dl, 0)
    else:
        with pytest.raises(ValueError, match=_NO_GPU):
            dl.devices.check_device(_gpu(dl, 0))


def test_torch_check_device_accepts_strings_and_refuses_unknown_ones():
    assert torch_devices.check_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match=r"`device` as a device such as 'cpu' or 'cuda:0' "
                                         r"\(or dl.try_gpu\(\)\), got 'gpu'"):
        torch_devices.check_device("gpu")
    with pytest.raises(TypeError, match=r"`device` as a torch.device or a string .* got 0 \(int\)"):
        torch_devices.check_device(0)


def test_mxnet_check_device_refuses_what_is_not_a_context():
    with pytest.raises(TypeError, match=r"`device` as an mxnet Context such as mx.cpu\(\) .* "
                                        r"got 'gpu' \(str\)"):
        mx_devices.check_device("gpu")


# ------------------------------------------------------ count_parameters
def test_count_parameters_with_known_shapes():
    assert count_parameters(gluon.nn.Dense(3, in_units=4)) == 15
    net = mlp(hidden=8, num_outputs=2, batch_norm=True)
    net.initialize()
    net(mx.np.ones((2, 5)))
    assert count_parameters(net) == (5 * 8 + 8) + 4 * 8 + (8 * 2 + 2)
    assert count_parameters(net, trainable_only=True) == (5 * 8 + 8) + 2 * 8 + (8 * 2 + 2)


def test_torch_count_parameters_counts_batch_norm_statistics_like_gluon():
    count = torch_summaries.count_parameters
    assert count(nn.Linear(4, 3)) == 15
    net = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    # running mean and variance count (non-trainable); num_batches_tracked (an int) does not
    assert count(net) == (5 * 8 + 8) + 4 * 8 + (8 * 2 + 2)
    assert count(net, trainable_only=True) == (5 * 8 + 8) + 2 * 8 + (8 * 2 + 2)
    net[0].weight.requires_grad_(False)  # a frozen weight is no longer trainable
    assert count(net, trainable_only=True) == 8 + 2 * 8 + (8 * 2 + 2)


def test_torch_count_parameters_of_a_lazy_network_after_one_forward_pass():
    net = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyLinear(2))
    with pytest.raises(RuntimeError, match=r"shape of parameter `0.weight` is not known yet"):
        torch_summaries.count_parameters(net)
    net(torch.ones(1, 3))
    assert torch_summaries.count_parameters(net) == (3 * 4 + 4) + (4 * 2 + 2)


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


def _torch_lenet():
    """LeNet-5 as the book builds it, in plain PyTorch (lazy layers like Gluon's)."""
    return nn.Sequential(
        nn.LazyConv2d(6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2),
        nn.LazyConv2d(16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(2), nn.Flatten(),
        nn.LazyLinear(120), nn.Sigmoid(), nn.LazyLinear(84), nn.Sigmoid(), nn.LazyLinear(10))


def test_torch_summary_of_lenet_matches_the_mxnet_table(capsys):
    net = _torch_lenet()
    table = torch_summaries.summary(net, (1, 1, 28, 28))
    assert capsys.readouterr().out == table + "\n"
    rows = _rows(table)
    assert len(rows) == 12
    assert rows[0] == ("0: Conv2d", "(1, 6, 28, 28)", 156)
    assert rows[2] == ("2: AvgPool2d", "(1, 6, 14, 14)", 0)
    assert rows[6] == ("6: Flatten", "(1, 400)", 0)
    assert rows[-1] == ("11: Linear", "(1, 10)", 850)
    assert _totals(table) == {"Total": 61706, "Trainable": 61706, "Non-trainable": 0}
    assert torch_summaries.count_parameters(net) == 61706  # the lazy layers are now built


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


def test_torch_summary_runs_in_eval_mode_and_restores_training_mode():
    net = nn.Sequential(nn.LazyLinear(16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5),
                        nn.LazyLinear(3))
    net[3].eval()  # a mixed state must come back as it was
    table = torch_summaries.summary(net, (1, 10))  # batch of 1: BatchNorm would fail in training
    rows = _rows(table)
    assert rows[1] == ("1: BatchNorm1d", "(1, 16)", 64)
    assert _totals(table) == {"Total": 176 + 64 + 51, "Trainable": 176 + 32 + 51,
                              "Non-trainable": 32}
    assert [m.training for m in net] == [True, True, True, False, True] and net.training
    assert float(net[1].running_mean.abs().sum()) == 0.0  # statistics untouched
    assert all(p.grad is None for p in net.parameters())


def test_summary_opens_nested_containers():
    inner = gluon.nn.HybridSequential()
    inner.add(gluon.nn.Dense(4), gluon.nn.Activation("relu"))
    outer = Sequential()
    outer.add(inner, gluon.nn.Dense(2))
    outer.initialize()
    rows = _rows(summary(outer, (1, 3)))
    assert [(r[0], r[2]) for r in rows] == [("0.0: Dense", 16), ("0.1: Activation", 0),
                                           ("1: Dense", 10)]


def test_torch_summary_opens_nested_containers_and_keeps_layers_with_parameters_whole():
    class Scaled(nn.Module):  # owns a parameter and a child: one layer
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(2))
            self.inner = nn.Linear(2, 2)

        def forward(self, x):
            return self.inner(x) * self.scale

    outer = nn.Sequential(nn.Sequential(nn.Linear(3, 4), nn.ReLU()), nn.Linear(4, 2), Scaled())
    rows = _rows(torch_summaries.summary(outer, (1, 3)))
    assert [(r[0], r[2]) for r in rows] == [("0.0: Linear", 16), ("0.1: ReLU", 0),
                                           ("1: Linear", 10), ("2: Scaled", 8)]


def _as_numpy(array):
    return array.asnumpy() if hasattr(array, "asnumpy") else onp.asarray(array)


def test_summary_keeps_a_trained_network_hybridized(blobs):
    X, y = blobs
    trainer = Trainer(mlp(hidden=8, num_outputs=3), "cross_entropy", metrics=["accuracy"])
    trainer.fit((X, y), batch_size=10, verbose=False)
    before = _as_numpy(trainer.predict(X))
    summary(trainer.net, (2, 4))
    assert trainer.net._active
    onp.testing.assert_allclose(_as_numpy(trainer.predict(X)), before, rtol=1e-6)
    trainer.fit((X, y), batch_size=10, verbose=False)
    assert len(trainer.history) == 2


def _unbuilt(net, dl):
    """``net`` as a user has it before the first batch: Gluon-initialized (deferred), or lazy."""
    if dl.FRAMEWORK == "mxnet":
        net.initialize()
    return net


def test_summary_without_the_batch_axis_says_so_and_leaves_the_net_unbuilt(dl, blobs):
    X, y = blobs  # 4 features
    net = _unbuilt(dl.mlp(hidden=4, num_outputs=3), dl)
    with pytest.raises(ValueError, match=r"`input_shape` with the batch axis first, such as "
                       r"\(1, 3\) .*; got \(4,\)\. Add the batch axis: \(1, 4\)\."):
        dl.summary(net, (4,))
    with pytest.raises(RuntimeError, match=r"shape of parameter .* is not known yet"):
        dl.count_parameters(net)  # nothing was built
    trainer = dl.Trainer(net, "cross_entropy", metrics=["accuracy"])
    trainer.fit((X, y), batch_size=10, verbose=False)
    assert dl.count_parameters(net) == (4 * 4 + 4) + (4 * 3 + 3)


def test_a_successful_summary_builds_the_net_for_the_width_it_was_given(dl, blobs):
    X, y = blobs
    net = _unbuilt(dl.mlp(hidden=4, num_outputs=3), dl)
    assert _totals(dl.summary(net, (1, 4)))["Total"] == (4 * 4 + 4) + (4 * 3 + 3)
    trainer = dl.Trainer(net, "cross_entropy", metrics=["accuracy"])
    trainer.fit((X, y), batch_size=10, verbose=False)
    assert len(trainer.history) == 1 and dl.count_parameters(net) == 35


def test_a_failed_summary_pass_leaves_the_net_as_it_was(dl, capsys):
    net = _unbuilt(dl.lenet(), dl)
    # 3 channels would build the first convolution for colour images; 4x4 pixels are too
    # few for the second one, so the pass fails half-way through the network.
    with pytest.raises(Exception) as failure:
        dl.summary(net, (1, 3, 4, 4))
    assert any("`net` was left as it was" in note and "(1, 3, 4, 4)" in note
               for note in getattr(failure.value, "__notes__", [])), failure.value
    with pytest.raises(RuntimeError, match=r"shape of parameter .* is not known yet"):
        dl.count_parameters(net)
    capsys.readouterr()
    # The real images have one channel: the net builds and trains for them.
    rows = _rows(dl.summary(net, (1, 1, 28, 28)))
    assert rows[0][2] == 6 * 1 * 5 * 5 + 6 and dl.count_parameters(net) == 61706
    images = onp.random.default_rng(0).random((8, 1, 28, 28), dtype="float32")
    labels = onp.arange(8) % 10
    trainer = dl.Trainer(net, "cross_entropy")
    history = trainer.fit((images, labels), batch_size=4, verbose=False)
    assert onp.isfinite(history.history["loss"][0])


def test_a_failed_summary_pass_leaves_a_batch_norm_net_as_it_was(dl):
    # PyTorch's lazy batch norm has buffers that a plain deepcopy cannot copy.
    net = _unbuilt(dl.lenet(activation="relu", pooling="max", batch_norm=True), dl)
    with pytest.raises(Exception) as failure:
        dl.summary(net, (1, 3, 4, 4))
    assert any("`net` was left as it was" in note for note in getattr(failure.value, "__notes__", []))
    with pytest.raises(RuntimeError, match=r"shape of parameter .* is not known yet"):
        dl.count_parameters(net)
    dl.summary(net, (1, 1, 28, 28))
    assert dl.count_parameters(net, trainable_only=True) == 62158  # the chapter's count


# -------------------------------------------------------------- derivative
_X = onp.array([-3.0, -1.0, -0.2, 0.3, 1.0, 2.5], dtype="float32")

_FUNCTIONS = {  # name: (MXNet f, PyTorch f, value, slope)
    "sigmoid": (lambda z: mx.npx.sigmoid(z), torch.sigmoid, lambda x: 1 / (1 + onp.exp(-x)),
                lambda x: onp.exp(-x) / (1 + onp.exp(-x)) ** 2),
    "tanh": (lambda z: mx.np.tanh(z), torch.tanh, onp.tanh, lambda x: 1 - onp.tanh(x) ** 2),
    "relu": (lambda z: mx.npx.relu(z), torch.relu, lambda x: onp.maximum(x, 0),
             lambda x: (x > 0).astype("float32")),
    "cubic": (lambda z: z ** 3 - 2 * z, lambda z: z ** 3 - 2 * z, lambda x: x ** 3 - 2 * x,
              lambda x: 3 * x ** 2 - 2),
}


@pytest.mark.parametrize("name", sorted(_FUNCTIONS))
def test_derivative_matches_the_analytic_one(dl, name):
    f_mx, f_torch, value, slope = _FUNCTIONS[name]
    y, dy = dl.derivative(f_mx if dl.FRAMEWORK == "mxnet" else f_torch, _X)
    assert isinstance(y, onp.ndarray) and isinstance(dy, onp.ndarray)
    onp.testing.assert_allclose(y, value(_X), rtol=1e-5, atol=1e-6)
    onp.testing.assert_allclose(dy, slope(_X), rtol=1e-5, atol=1e-6)


def test_mxnet_derivative_with_and_without_numpy_mode(np_mode):
    from dlbook.mxnet.derivatives import derivative

    _, dy = derivative(mx.np.tanh, _X)
    onp.testing.assert_allclose(dy, 1 - onp.tanh(_X) ** 2, rtol=1e-5, atol=1e-6)


def test_derivative_accepts_lists_and_layer_arrays(dl):
    y, dy = dl.derivative(lambda z: z * z, [1.0, -2.0])
    assert y.tolist() == [1.0, 4.0] and dy.tolist() == [2.0, -4.0]
    x = mx.np.array([[1.0, 2.0]]) if dl.FRAMEWORK == "mxnet" else torch.tensor([[1.0, 2.0]])
    _, dy = dl.derivative(lambda z: 5 * z, x)
    assert dy.tolist() == [[5.0, 5.0]]


def test_torch_derivative_of_a_step_is_zero():
    import dlbook.torch

    y, dy = dlbook.torch.derivative(lambda z: (z > 0).float(), [-1.0, 2.0])
    assert y.tolist() == [0.0, 1.0] and dy.tolist() == [0.0, 0.0]
    _, dy = dlbook.torch.derivative(lambda z: torch.zeros_like(z) + 3.0, [1.0])
    assert dy.tolist() == [0.0]


# ------------------------------------------------------------------ bad input
def _legacy_dense():
    layer = gluon.nn.Dense(2, in_units=3)
    layer.initialize()  # outside NumPy mode
    return layer


def _initialized(net):
    net.initialize()
    return net


def _elementwise(dl):
    return mx.np.tanh if dl.FRAMEWORK == "mxnet" else torch.tanh


SHARED_BAD_INPUTS = [
    # The same message from both layers.
    (lambda dl: dl.Accumulator(0), ValueError, r"`n` >= 1, got 0"),
    (lambda dl: dl.Accumulator(2).add(1.0), ValueError, r"Expected 2 values for `values`, got 1"),
    (lambda dl: dl.seed_everything(-1), ValueError, r"`seed` >= 0, got -1"),
    (lambda dl: dl.seed_everything(2 ** 31), ValueError, r"`seed` <= 2147483647"),
    (lambda dl: dl.seed_everything(1.5), TypeError, r"`seed` to be an integer, got 1.5 \(float\)"),
    (lambda dl: dl.try_gpu(-1), ValueError, r"`i` >= 0"),
    (lambda dl: dl.count_parameters("net"), TypeError, r"Expected `net` to be a (gluon Block|torch.nn.Module), got 'net' \(str\)"),
    (lambda dl: dl.summary("net", (1, 3)), TypeError, r"Expected `net` to be a"),
    (lambda dl: dl.derivative(lambda z: z.sum(), [1.0, 2.0]), ValueError, r"`f` to be element-wise \(output shape \(2,\)\), got output shape \(\)"),
    (lambda dl: dl.derivative(_elementwise(dl), ["a"]), TypeError, r"`x` to hold numbers"),
    (lambda dl: dl.derivative(_elementwise(dl), [onp.nan]), ValueError, r"`x` contains 1 NaN"),
]

_SHAPE_INPUTS = [((), ValueError), ((0, 3), ValueError), ((1, -3), ValueError),
                 ("1x3", TypeError), ((1, 3.0), TypeError), ((True, 3), TypeError),
                 (None, TypeError)]


@pytest.mark.parametrize("call, error, pattern", SHARED_BAD_INPUTS)
def test_shared_bad_input_raises_the_same_clear_error(dl, call, error, pattern):
    with pytest.raises(error, match=pattern):
        call(dl)


@pytest.mark.parametrize("input_shape, error", _SHAPE_INPUTS, ids=repr)
def test_summary_rejects_a_bad_input_shape_in_both_layers(dl, input_shape, error):
    net = _initialized(mlp(hidden=4)) if dl.FRAMEWORK == "mxnet" else nn.Sequential(nn.Linear(3, 4))
    pattern = r"`input_shape` as a tuple of positive ints with the batch axis first, .* got "
    with pytest.raises(error, match=pattern + re.escape(repr(input_shape))):
        dl.summary(net, input_shape)


def test_check_input_shape_takes_numpy_integers_and_names_a_wrong_type():
    from dlbook.summaries import check_input_shape

    shape = check_input_shape((onp.int64(1), onp.int32(3)))
    assert shape == (1, 3) and all(type(d) is int for d in shape)
    with pytest.raises(TypeError, match=r"got \(1, 3.0\): its entry 3.0 \(float\) is not an int\.$"):
        check_input_shape((1, 3.0))
    with pytest.raises(TypeError, match=r"got '1x3' \(str\)\.$"):
        check_input_shape("1x3")


MXNET_BAD_INPUTS = [
    (lambda: count_parameters(_initialized(mlp(hidden=4))), RuntimeError, r"shape of parameter `dense\d+_weight` is not known yet"),
    (lambda: count_parameters(_legacy_dense()), TypeError, r"legacy mx.nd array"),
    (lambda: summary(mlp(hidden=4), (1, 3)), RuntimeError, r"`net` has uninitialized parameters. Call `net.initialize\(\)`"),
    (lambda: summary(_legacy_dense(), (1, 3)), TypeError, r"legacy mx.nd array"),
]


@pytest.mark.parametrize("call, error, pattern", MXNET_BAD_INPUTS)
def test_mxnet_bad_input_raises_a_clear_error(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


# ------------------------------------------------------------------ record
def test_record_returns_the_value_as_a_float():
    assert results.record("softmax_accuracy", onp.float32(0.5)) == 0.5
    assert results.record("ppl", mx.np.array([3.25])) == 3.25
    assert results.record("loss", torch.tensor([0.75], requires_grad=True)) == 0.75
    assert type(results.record("n", 7)) is float


@pytest.mark.parametrize("name", ["", "two words", "1st", "a-b", None, 3])
def test_record_rejects_a_bad_name(name):
    with pytest.raises(ValueError, match="`name`"):
        results.record(name, 1.0)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "0.9", True, None, onp.ones(3),
                                   torch.ones(3), torch.tensor(float("nan"))],
                         ids=["nan", "inf", "str", "bool", "None", "numpy3", "torch3", "torchnan"])
def test_record_rejects_a_value_that_is_not_a_finite_number(value):
    with pytest.raises(ValueError, match="`value` as a finite number"):
        results.record("accuracy", value)


@pytest.mark.parametrize("layer", ["mxnet", "torch"])
def test_record_in_a_kernel_glues_the_value_for_other_pages(tmp_path, layer):
    """In Jupyter (as in the book's build) the value is glued, hidden, for MyST-NB to paste."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        f"from dlbook import {layer} as dl\nx = dl.record('test_accuracy', 0.8125)")])
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = nb.cells[0].outputs
    glued = [o for o in outputs if o.get("metadata", {}).get("scrapbook", {}).get("name")]
    assert len(glued) == 1, outputs
    scrapbook = glued[0].metadata.scrapbook
    assert scrapbook.name == "test_accuracy"
    assert float(glued[0].data[scrapbook.mime_prefix + "text/plain"]) == 0.8125
    assert not [o for o in outputs if o.output_type == "stream"]  # nothing shown on the page


def test_summary_of_a_batch_norm_mlp_builds_it_in_both_layers(dl):
    # Torch's lazy batch norm has buffers that cannot be copied before the first batch.
    net = dl.mlp(hidden=(256,), num_outputs=10, batch_norm=True)
    if dl.FRAMEWORK == "mxnet":
        net.initialize()
    dl.summary(net, (1, 1, 28, 28))
    assert dl.count_parameters(net) == 784 * 256 + 256 + 4 * 256 + 256 * 10 + 10
