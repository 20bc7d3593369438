"""Training benchmark: dlbook's two Trainers against hand-written loops, PyTorch and Keras 3.

    .venv/bin/python bench/train_bench.py [--repeats 5] [--out bench/results]

On the same in-memory Fashion-MNIST arrays, batch size 256, plain SGD, it
trains softmax regression, the 256-unit MLP and the classic LeNet with these
peers (``--loops``):

  dlbook-mxnet   dlbook.mxnet.Trainer, its defaults
  hand-mxnet     a hand-written hybridized Gluon loop, one host sync per epoch
  d2l-mxnet      a d2l-style Gluon loop: not hybridized, a host sync every batch
  dlbook-torch   dlbook.torch.Trainer, its defaults
  torch-eager    a hand-written PyTorch eager loop (the baseline of the ratios)
  torch-compile  the same loop on ``torch.compile(net)`` (compile time reported)
  keras-torch    Keras 3 ``model.fit`` on its torch backend, CPU

Method. Every run is a fresh Python process that imports only what its peer's
users import: the PyTorch and Keras processes never import dlbook or MXNet
(dlbook.mxnet sets OpenMP variables for MXNet at import), and none inherits a
variable this script sets. The data are read once, written to a temporary
.npz, and every process reads that file. Runs are interleaved: each round runs
every peer once per model, in an order rotated from round to round, so slow
drifts of the machine hit all peers alike. A run's speed is its timed epochs'
examples divided by their time (the first epoch pays one-off costs, graph
building or compiling, and is reported apart). A peer's figure is the median
over rounds, with the range; a ratio to the baseline is taken within each
round (the two ran minutes apart at most) and reported as the median and
range over rounds. The machine's own noise is the spread of the baseline
across rounds; a difference smaller than it is not a result.

``--settings best`` runs the MXNet peers with their best documented settings
measured in bench/options.md instead of dlbook's defaults.

Writes <out>.json and <out>.md. `make bench` runs it with --repeats 5.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as onp

BATCH = 256
LEARNING_RATES = {"softmax": 0.1, "mlp": 0.1, "lenet": 0.9}
EPOCHS = {"softmax": 11, "mlp": 6, "lenet": 3}  # about 2 s or more of timed work each
BASELINE = "torch-eager"
# peer: (framework, the hand-written loop of its framework)
PEERS = {
    "dlbook-mxnet": ("mxnet", "hand-mxnet"),
    "hand-mxnet": ("mxnet", "hand-mxnet"),
    "d2l-mxnet": ("mxnet", "hand-mxnet"),
    "dlbook-torch": ("torch", "torch-eager"),
    "torch-eager": ("torch", "torch-eager"),
    "torch-compile": ("torch", "torch-eager"),
    "keras-torch": ("keras", "torch-eager"),
}
# Settings tried as Trainer defaults (goal: MXNet ahead of PyTorch): run with --loops ...,
# not by default. peer: (framework, its hand loop, options of run_dlbook_mxnet)
EXPERIMENTS = {
    "dlbook-mxnet+static": ("mxnet", "hand-mxnet", {"static_shape": True}),
    # MXNet's own SGD (fused multi_sgd_update), the Trainer's default before dlbook's SGD
    # (one sgd_update per parameter). Setting aggregate_num does not reach that path: MXNet's
    # SGD calls multi_sgd_update for dense weights whatever the chunk size.
    "dlbook-mxnet+multi": ("mxnet", "hand-mxnet", {"stock_sgd": True}),
}
MODELS = ("softmax", "mlp", "lenet")


def flops_per_example(model):
    """Multiply-adds x 2 of one forward pass; training is counted as 3x forward."""
    if model == "softmax":
        fwd = 784 * 10
    elif model == "mlp":
        fwd = 784 * 256 + 256 * 10
    else:  # LeNet: conv 1->6 5x5 on 28x28 (pad 2), conv 6->16 5x5 on 14x14 -> 10x10, dense
        fwd = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 6 * 25 + 400 * 120 + 120 * 84 + 84 * 10
    return 3 * 2 * fwd


def summarize(rounds, baseline=BASELINE):
    """Median and range of each peer's speed and of its within-round ratio to ``baseline``.

    ``rounds`` is a list of {peer: examples/s}, one dict per round. A ratio is
    taken only within a round, where both peers ran; a round without the
    baseline gives no ratio.

    >>> s = summarize([{"a": 100.0, "b": 50.0}, {"a": 120.0, "b": 66.0}, {"a": 90.0, "b": 45.0}], "a")
    >>> s["b"]["median"], s["b"]["range"], s["b"]["ratio_median"], s["b"]["ratio_range"]
    (50.0, (45.0, 66.0), 0.5, (0.5, 0.55))
    >>> s["a"]["spread"]  # the baseline's max/min - 1 over rounds: the machine's noise
    0.333
    """
    if not rounds:
        raise ValueError("summarize: expected at least one round of results, got none")
    peers = list(dict.fromkeys(p for r in rounds for p in r))
    out = {}
    for peer in peers:
        speeds = [r[peer] for r in rounds if peer in r]
        ratios = [r[peer] / r[baseline] for r in rounds if peer in r and r.get(baseline)]
        out[peer] = {"median": statistics.median(speeds), "range": (min(speeds), max(speeds)),
                     "spread": round(max(speeds) / min(speeds) - 1, 3), "runs": speeds}
        if ratios:
            out[peer]["ratio_median"] = round(statistics.median(ratios), 3)
            out[peer]["ratio_range"] = (round(min(ratios), 3), round(max(ratios), 3))
    return out


def fraction_of_peak(speeds, peaks, flops):
    """Median over rounds of a peer's GFLOP/s over the matmul peak measured in that round.

    ``speeds`` and ``peaks`` are lists by round (None where a round has no figure);
    ``flops`` is the work of one example. The peak swings with the machine as much as
    the runs do (on a shared 2-core machine 100-330 GFLOP/s between hours), so each run
    is set against the peak of its own round, not against one peak of the whole run.

    >>> fraction_of_peak([100.0, 50.0, None], [200.0, 100.0, 150.0], flops=1e9)
    0.5
    """
    fractions = [speed * flops / 1e9 / peak for speed, peak in zip(speeds, peaks)
                 if speed is not None and peak]
    return round(statistics.median(fractions), 4) if fractions else float("nan")


# ------------------------------------------------------------------ the MXNet peers
def build(model):
    """The book's network for ``model`` from dlbook.mxnet (softmax, mlp or classic LeNet)."""
    from dlbook import mxnet as dl

    if model == "softmax":
        return dl.mlp(hidden=(), num_outputs=10)
    if model == "mlp":
        return dl.mlp(hidden=256, num_outputs=10)
    return dl.lenet()  # classic: sigmoid, average pooling


def hand_epoch(net, loss, trainer, batches):
    """One epoch of the hand-written Gluon loop over (X, y) batches, synchronizing once at the end."""
    from mxnet import autograd

    total = None
    for xb, yb in batches:
        with autograd.record():
            l = loss(net(xb), yb)
        l.backward()
        trainer.step(xb.shape[0])
        total = l.sum() if total is None else total + l.sum()
    total.item()


def _mx_accuracy(net, X, y):
    import mxnet as mx

    correct = 0
    for i in range(0, len(X), 1000):
        xb = mx.np.array(X[i:i + 1000])
        correct += int((net(xb).argmax(axis=1).astype("int32") == mx.np.array(y[i:i + 1000], dtype="int32")).sum())
    return correct / len(X)


def run_dlbook_mxnet(model, data, epochs, options):
    from dlbook import mxnet as dl
    import mxnet as mx
    from mxnet import init

    dl.seed_everything(0)
    (X, y), (Xt, yt) = data
    loader = dl.ArrayLoader(X, y, batch_size=BATCH, shuffle=True, seed=0, device=mx.cpu())
    optimizer = "sgd"
    if options.get("stock_sgd"):  # MXNet's SGD instead of dlbook's
        with mx.util.np_array(True):
            optimizer = mx.optimizer.SGD(learning_rate=LEARNING_RATES[model])
    trainer = dl.Trainer(build(model), "cross_entropy", optimizer, learning_rate=LEARNING_RATES[model],
                         initializer=init.Normal(0.01) if model != "lenet" else init.Xavier(),
                         device=mx.cpu())
    if options.get("static_shape"):  # the Trainer's hybridize, plus static shapes
        trainer.net.hybridize(static_alloc=True, static_shape=True)
        trainer.loss.hybridize(static_alloc=True, static_shape=True)
    history = trainer.fit(loader, epochs=epochs, verbose=False)
    return list(history["time"]), _mx_accuracy(trainer.net, Xt, yt)


def run_hand_mxnet(model, data, epochs, options, hybridize=True, sync_every_batch=False):
    from dlbook import mxnet as dl
    import mxnet as mx
    from mxnet import autograd, gluon, init, npx

    dl.seed_everything(0)
    npx.set_np()
    (X, y), (Xt, yt) = data
    Xd, yd = mx.np.array(X), mx.np.array(y, dtype="int32")
    net = build(model)
    net.initialize(init.Normal(0.01) if model != "lenet" else init.Xavier())
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    if hybridize:
        settings = dict(static_alloc=True, static_shape=bool(options.get("static_shape")))
        if options.get("backend"):  # a subgraph backend such as oneDNN's ('MKLDNN' in MXNet 1.x)
            net.optimize_for(Xd[:BATCH], backend=options["backend"], **settings)
        else:
            net.hybridize(**settings)
        loss.hybridize(**settings)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": LEARNING_RATES[model]})
    rng = onp.random.default_rng(0)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = mx.np.array(rng.permutation(len(X)), dtype="int64")
        # Each batch's rows gathered when it is due, as dlbook's loader does (bench/experiments.md)
        batches = ((mx.np.take(Xd, rows, axis=0), mx.np.take(yd, rows, axis=0))
                   for rows in (order[i:i + BATCH] for i in range(0, len(X), BATCH)))
        if sync_every_batch:  # d2l style: float() forces a host sync per batch
            metric = dl.Accumulator(3)
            for xb, yb in batches:
                with autograd.record():
                    out = net(xb)
                    l = loss(out, yb)
                l.backward()
                trainer.step(xb.shape[0])
                metric.add(float(l.sum()), float((out.argmax(axis=1).astype("int32") == yb).sum()),
                           xb.shape[0])
        else:
            hand_epoch(net, loss, trainer, batches)  # one synchronization per epoch
        npx.waitall()
        times.append(time.perf_counter() - start)
    return times, _mx_accuracy(net, Xt, yt)


def mxnet_facts(X, y):
    """MXNet's float32 GEMM peak (GFLOP/s) and the examples/s of dlbook's ArrayLoader alone."""
    from dlbook import mxnet as dl
    import mxnet as mx

    n, best = 1024, 0.0
    a, b = mx.np.random.uniform(size=(n, n)), mx.np.random.uniform(size=(n, n))
    for _ in range(20):
        start = time.perf_counter()
        mx.np.dot(a, b).wait_to_read()
        best = max(best, 2 * n ** 3 / (time.perf_counter() - start) / 1e9)
    loader = dl.ArrayLoader(X, y, batch_size=BATCH, shuffle=True, seed=0, device=mx.cpu())
    rate = 0.0
    for _ in range(5):
        start = time.perf_counter()
        for xb, yb in loader:
            pass
        yb.wait_to_read()
        rate = max(rate, len(X) / (time.perf_counter() - start))
    return {"matmul_peak_gflops": best, "loader_examples_per_s": rate, "mxnet": mx.__version__,
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}


# ------------------------------------------------------------------ the PyTorch peers
def _torch_net(model):
    from torch import nn

    if model == "softmax":
        net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    elif model == "mlp":
        net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    else:
        net = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
                            nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
                            nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(),
                            nn.Linear(84, 10))
    for m in net.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            (nn.init.normal_(m.weight, std=0.01) if model != "lenet" else nn.init.xavier_uniform_(m.weight))
            nn.init.zeros_(m.bias)
    return net


def run_torch_eager(model, data, epochs, options, compile=False):
    import torch
    from torch import nn

    torch.manual_seed(0)
    (X, y), (Xt, yt) = data
    X, y = torch.from_numpy(X), torch.from_numpy(y.astype("int64"))
    Xt, yt = torch.from_numpy(Xt), torch.from_numpy(yt.astype("int64"))
    net = _torch_net(model)
    step_net = torch.compile(net) if compile else net
    opt = torch.optim.SGD(net.parameters(), lr=LEARNING_RATES[model])
    loss = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(0)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(X), generator=gen)
        for i in range(0, len(X), BATCH):
            # Each batch gathered when it is due: a shuffled copy of the whole epoch (X[order])
            # costs several times as much (bench/experiments.md)
            rows = order[i:i + BATCH]
            opt.zero_grad(set_to_none=True)
            l = loss(step_net(X.index_select(0, rows)), y.index_select(0, rows))
            l.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    with torch.no_grad():
        acc = (net(Xt).argmax(dim=1) == yt).float().mean().item()
    return times, acc


def run_dlbook_torch(model, data, epochs, options):
    from dlbook import torch as dl
    import torch

    dl.seed_everything(0)
    (X, y), (Xt, yt) = data
    loader = dl.ArrayLoader(X, y, batch_size=BATCH, shuffle=True, seed=0, device="cpu")
    trainer = dl.Trainer(_torch_net(model), "cross_entropy", "sgd", learning_rate=LEARNING_RATES[model],
                         device="cpu")  # the net comes initialized as the other torch peers'
    history = trainer.fit(loader, epochs=epochs, verbose=False)
    with torch.no_grad():
        acc = (trainer.net(torch.from_numpy(Xt)).argmax(dim=1).numpy() == yt).mean()
    return list(history["time"]), float(acc)


def torch_facts():
    import torch

    n, best = 1024, 0.0
    a, b = torch.rand(n, n), torch.rand(n, n)
    for _ in range(20):
        start = time.perf_counter()
        torch.mm(a, b)
        best = max(best, 2 * n ** 3 / (time.perf_counter() - start) / 1e9)
    return {"matmul_peak_gflops": best, "torch": torch.__version__, "torch_threads": torch.get_num_threads()}


# ------------------------------------------------------------------ Keras 3
def run_keras(model, data, epochs, options):
    os.environ["KERAS_BACKEND"] = "torch"
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    (X, y), (Xt, yt) = data
    if model == "lenet":  # Keras's default layout is channels-last
        X, Xt = X.transpose(0, 2, 3, 1), Xt.transpose(0, 2, 3, 1)
        init = "glorot_uniform"
        net = keras.Sequential([
            keras.Input((28, 28, 1)),
            layers.Conv2D(6, 5, padding="same", activation="sigmoid", kernel_initializer=init),
            layers.AveragePooling2D(2),
            layers.Conv2D(16, 5, activation="sigmoid", kernel_initializer=init),
            layers.AveragePooling2D(2), layers.Flatten(),
            layers.Dense(120, activation="sigmoid", kernel_initializer=init),
            layers.Dense(84, activation="sigmoid", kernel_initializer=init),
            layers.Dense(10, kernel_initializer=init)])
    else:
        init = keras.initializers.RandomNormal(stddev=0.01)
        hidden = [layers.Dense(256, activation="relu", kernel_initializer=init)] if model == "mlp" else []
        net = keras.Sequential([keras.Input((784,)), *hidden, layers.Dense(10, kernel_initializer=init)])
    net.compile(optimizer=keras.optimizers.SGD(LEARNING_RATES[model]),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    times = []

    class EpochTimes(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    net.fit(X, y, batch_size=BATCH, epochs=epochs, shuffle=True, verbose=0, callbacks=[EpochTimes()])
    predicted = net.predict(Xt, batch_size=1000, verbose=0).argmax(axis=1)
    return times, float((predicted == yt).mean())


RUNNERS = {
    "dlbook-mxnet": run_dlbook_mxnet,
    **{name: (lambda m, d, e, o, extra=extra: run_dlbook_mxnet(m, d, e, {**o, **extra}))
       for name, (_, _, extra) in EXPERIMENTS.items()},
    "hand-mxnet": run_hand_mxnet,
    "d2l-mxnet": lambda m, d, e, o: run_hand_mxnet(m, d, e, o, hybridize=False, sync_every_batch=True),
    "dlbook-torch": run_dlbook_torch,
    "torch-eager": run_torch_eager,
    "torch-compile": lambda m, d, e, o: run_torch_eager(m, d, e, o, compile=True),
    "keras-torch": run_keras,
}


def worker(spec):
    """One run in this process: ``spec`` names the peer, model, data file, epochs and options."""
    arrays = onp.load(spec["data"])
    if spec["peer"] == "facts-mxnet":
        return mxnet_facts(arrays["X"], arrays["y"])
    if spec["peer"] == "facts-torch":
        return torch_facts()
    model = spec["model"]
    shape = (-1, 784) if model != "lenet" else (-1, 1, 28, 28)
    data = ((arrays["X"].reshape(shape), arrays["y"]), (arrays["Xt"].reshape(shape), arrays["yt"]))
    start = time.perf_counter()
    seconds, accuracy = RUNNERS[spec["peer"]](model, data, spec["epochs"], spec.get("options", {}))
    return {"epoch_seconds": seconds, "test_accuracy": float(accuracy),
            "process_seconds": time.perf_counter() - start,
            # What this process imported and what OpenMP saw: the isolation the method promises.
            "modules": sorted(m for m in ("dlbook", "mxnet", "torch", "keras") if m in sys.modules),
            "env": {k: v for k, v in os.environ.items() if k.startswith(("OMP_", "GOMP_", "KMP_"))}}


def run_in_process(spec, env):
    """Run ``worker(spec)`` in a fresh Python; its result, or {'error': last line of stderr}."""
    proc = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)], env=env,
                          capture_output=True, text=True)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return {"error": (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1][:300]}
    return json.loads(lines[-1])


def _examples_per_s(run, n):
    timed = run["epoch_seconds"][1:]
    return n * len(timed) / sum(timed)


def main(argv=None):
    parser = argparse.ArgumentParser(description="dlbook training benchmark")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per run, the first is warm-up (default per model: "
                             + ", ".join(f"{m} {e}" for m, e in EPOCHS.items()) + ")")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--loops", default=",".join(PEERS),
                        help="peers to run, from " + ", ".join([*PEERS, *EXPERIMENTS]))
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--static-shape", action="store_true",
                        help="MXNet peers: hybridize with static_shape=True as well")
    parser.add_argument("--backend", default=None,
                        help="hand-mxnet: optimize_for this subgraph backend (e.g. MKLDNN)")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results")))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    if args.epochs is not None and args.epochs < 2:
        parser.error(f"--epochs: expected at least 2 (the first epoch is warm-up), got {args.epochs}")
    if args.repeats < 1:
        parser.error(f"--repeats: expected at least 1, got {args.repeats}")
    loops, models = args.loops.split(","), args.models.split(",")
    peers = {**PEERS, **{name: spec[:2] for name, spec in EXPERIMENTS.items()}}
    unknown = [p for p in loops if p not in peers]
    if unknown or BASELINE not in loops:
        parser.error(f"--loops: expected names from {', '.join(peers)}, including {BASELINE} "
                     f"(the baseline), got {args.loops}")
    if [m for m in models if m not in MODELS]:
        parser.error(f"--models: expected names from {', '.join(MODELS)}, got {args.models}")
    options = {"static_shape": args.static_shape, "backend": args.backend}
    env = dict(os.environ)  # what the user's shell gives each process; nothing added

    from dlbook.datasets import fashion_mnist_arrays  # framework-free

    start = time.perf_counter()
    (X, y), (Xt, yt) = fashion_mnist_arrays(flatten=True)
    load_seconds = time.perf_counter() - start
    rounds = {m: [] for m in models}
    accuracies, first_epochs, errors = {}, {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        data = str(Path(tmp) / "fashion.npz")
        onp.savez(data, X=X.astype("float32"), y=y.astype("int32"), Xt=Xt.astype("float32"),
                  yt=yt.astype("int32"))
        # torch.compile's on-disk cache, this run's own: round 1 compiles from nothing (a user's
        # first run), later rounds reuse it (a user's next runs); both first epochs are reported.
        compile_env = dict(env, TORCHINDUCTOR_CACHE_DIR=str(Path(tmp) / "inductor"))
        facts, round_peaks = None, []
        for r in range(args.repeats):
            # The matmul peak again in every round, in fresh processes: a run's fraction of
            # the peak is taken against its own round's (fraction_of_peak).
            round_facts = {"mxnet": run_in_process({"peer": "facts-mxnet", "data": data}, env),
                           "torch": run_in_process({"peer": "facts-torch", "data": data}, env)}
            facts = facts or round_facts
            round_peaks.append(max((f["matmul_peak_gflops"] for f in round_facts.values()
                                    if "matmul_peak_gflops" in f), default=None))
            for model in models:
                # Rotated order each round: no peer always runs first, or right after another.
                order = loops[r % len(loops):] + loops[:r % len(loops)]
                speeds = {}
                for peer in order:
                    epochs = args.epochs or EPOCHS[model]
                    run = run_in_process({"peer": peer, "model": model, "data": data, "epochs": epochs,
                                          "options": options}, compile_env if peer == "torch-compile" else env)
                    if "error" in run:
                        errors[(model, peer)] = run["error"]
                        print(f"round {r + 1} {model:8s} {peer:14s} failed: {run['error']}", flush=True)
                        continue
                    speeds[peer] = _examples_per_s(run, len(X))
                    accuracies.setdefault((model, peer), []).append(run["test_accuracy"])
                    first_epochs.setdefault((model, peer), []).append(run["epoch_seconds"][0])
                    print(f"round {r + 1} {model:8s} {peer:14s} {speeds[peer]:10,.0f} ex/s  "
                          f"acc {run['test_accuracy']:.4f}  first epoch {run['epoch_seconds'][0]:.2f} s",
                          flush=True)
                rounds[model].append(speeds)
    measured = [p for p in round_peaks if p]
    peak = statistics.median(measured) if measured else float("nan")
    results = []
    for model in models:
        summary = summarize([s for s in rounds[model] if s]) if any(rounds[model]) else {}
        for peer in loops:
            if peer not in summary:
                results.append({"model": model, "loop": peer, "framework": peers[peer][0],
                                "error": errors.get((model, peer), "no run")})
                continue
            s, hand = summary[peer], summary.get(peers[peer][1], {})
            gflops = s["median"] * flops_per_example(model) / 1e9
            row = {"model": model, "loop": peer, "framework": peers[peer][0],
                   "examples_per_s": round(s["median"]),
                   "examples_per_s_range": [round(v) for v in s["range"]],
                   "runs_examples_per_s": [round(v) for v in s["runs"]],
                   "spread": s["spread"],
                   "vs_pytorch": s.get("ratio_median"), "vs_pytorch_range": s.get("ratio_range"),
                   "test_accuracy": round(statistics.median(accuracies[(model, peer)]), 4),
                   "first_epoch_seconds": round(statistics.median(first_epochs[(model, peer)]), 2),
                   "gflops": round(gflops, 2),
                   "fraction_of_peak": fraction_of_peak([rd.get(peer) for rd in rounds[model]],
                                                        round_peaks, flops_per_example(model))}
            if peer == "torch-compile":  # round 1 compiled with an empty cache
                row["first_epoch_seconds_cold"] = round(first_epochs[(model, peer)][0], 2)
            if hand and peer != peers[peer][1]:  # the wrapper against its framework's hand loop
                ratios = [rd[peer] / rd[peers[peer][1]] for rd in rounds[model]
                          if peer in rd and peers[peer][1] in rd]
                row["vs_hand_loop"] = round(statistics.median(ratios), 3) if ratios else None
            results.append(row)
    baseline_spreads = [r["spread"] for r in results if r["loop"] == BASELINE and "spread" in r]
    report = {
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine(),
                    "python": sys.version.split()[0], "mxnet": facts["mxnet"].get("mxnet"),
                    "torch": facts["torch"].get("torch"),
                    "omp_num_threads": facts["mxnet"].get("omp_num_threads")},
        "method": "each run a fresh process; interleaved rounds in rotated order; median and range "
                  "over rounds; ratios within a round",
        "matmul_peak_gflops": round(peak, 1),
        "matmul_peak_by_round": [None if p is None else round(p, 1) for p in round_peaks],
        "matmul_peak_by_framework": {k: round(f["matmul_peak_gflops"], 1) for k, f in facts.items()
                                     if "matmul_peak_gflops" in f},
        "fashion_mnist_load_seconds": round(load_seconds, 2),
        "loader_examples_per_s": round(facts["mxnet"].get("loader_examples_per_s", 0)),
        "epochs": args.epochs or dict(EPOCHS), "batch_size": BATCH, "repeats": args.repeats,
        "baseline": BASELINE,
        "noise": max(baseline_spreads) if baseline_spreads else None,
        "noise_by_model": {r["model"]: r["spread"] for r in results if r["loop"] == BASELINE and "spread" in r},
        "options": options,
        "env": {k: v for k, v in sorted(os.environ.items()) if k.startswith(("MXNET_", "OMP_", "KMP_"))},
        "results": results,
    }
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    lines = markdown(report)
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 1 if errors and not results else 0


def markdown(report):
    """The report as the lines of bench/results.md."""
    m = report["machine"]
    lines = [f"Machine: {m['cpu_count']} cores, {m['processor']}; MXNet {m['mxnet']}, PyTorch {m['torch']}; "
             f"float32 matmul peak {report['matmul_peak_gflops']:.1f} GFLOP/s, median of the rounds' "
             f"({', '.join(str(p) for p in report.get('matmul_peak_by_round', []))}; round 1: "
             f"{', '.join(f'{k} {v}' for k, v in report['matmul_peak_by_framework'].items())}); "
             "'of peak' sets each run against its own round's peak. "
             f"Median of {report['repeats']} interleaved rounds, every run a fresh process; "
             f"ratios to {report['baseline']} taken within each round (median, range). "
             f"Machine noise (the baseline's max/min - 1 over rounds): "
             + (f"{100 * report['noise']:.0f} %." if report["noise"] is not None else "n/a."), "",
             "| model | loop | examples/s | range | vs. PyTorch eager | vs. own hand loop | test accuracy "
             "| first epoch s | GFLOP/s | of peak |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in report["results"]:
        if "error" in r:
            lines.append(f"| {r['model']} | {r['loop']} | failed: {r['error'][:120]} | | | | | | | |")
            continue
        lo, hi = r["examples_per_s_range"]
        ratio = (f"{r['vs_pytorch']:.2f} ({r['vs_pytorch_range'][0]:.2f}-{r['vs_pytorch_range'][1]:.2f})"
                 if r["vs_pytorch"] is not None else "–")
        hand = f"{r['vs_hand_loop']:.2f}" if r.get("vs_hand_loop") is not None else "–"
        lines.append(f"| {r['model']} | {r['loop']} | {r['examples_per_s']:,} | {lo:,}-{hi:,} | {ratio} | "
                     f"{hand} | {r['test_accuracy']:.4f} | {r['first_epoch_seconds']:.2f} | "
                     f"{r['gflops']:.2f} | {100 * r['fraction_of_peak']:.1f} % |")
    cold = [r for r in report["results"] if "first_epoch_seconds_cold" in r]
    if cold:
        lines += ["", "torch.compile's first epoch (compiling included), from an empty cache in round 1 and "
                  "with the cache of round 1 after: " + ", ".join(
                      f"{r['model']} {r['first_epoch_seconds_cold']:.1f} s / {r['first_epoch_seconds']:.1f} s"
                      for r in cold) + "."]
    if report.get("noise_by_model"):
        lines += ["", "Noise of the baseline by model (max/min - 1 over rounds): " + ", ".join(
            f"{model} {100 * spread:.0f} %" for model, spread in report["noise_by_model"].items()) + "."]
    return lines


if __name__ == "__main__":
    sys.exit(main())
