"""Training benchmark: dlbook's Trainer against hand-written loops and PyTorch.

    .venv/bin/python bench/train_bench.py [--epochs 3] [--out bench/results]

On the same in-memory Fashion-MNIST data, batch size 256, plain SGD, it trains
softmax regression, the 256-unit MLP and the classic LeNet with
  (a) dlbook.Trainer,
  (b) a hand-written hybridized Gluon loop that synchronizes once per epoch,
  (c) a d2l-style loop (not hybridized, host synchronization every batch
      through an accumulator, as d2l's classic train_ch3 does),
  (d) an equivalent PyTorch eager loop (CPU, as many threads as cores), if
      torch is installed (`pip install -e '.[bench]'`),
and reports training examples/s, final test accuracy, achieved GFLOP/s against the machine's measured
float32 matrix-multiply peak, and each result relative to loop (b).
Writes <out>.json and <out>.md.

Speed is the best epoch: the first epoch of a run pays one-off costs (graph
building, memory planning) and is left out; of the rest, the fastest epoch of
all --repeats runs counts. On a shared machine other work only ever slows an
epoch down, so the fastest one is the steadiest estimate of a loop's own cost
(as timeit advises); every run's figure is kept in the JSON. The loops run
interleaved, in a rotated order each round.
"""
import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))

import numpy as onp  # noqa: E402

from dlbook import mxnet as dl  # noqa: E402
import mxnet as mx  # noqa: E402
from mxnet import autograd, gluon, init, npx  # noqa: E402

BATCH = 256
LEARNING_RATES = {"softmax": 0.1, "mlp": 0.1, "lenet": 0.9}


def flops_per_example(model):
    """Multiply-adds x 2 of one forward pass; training is counted as 3x forward."""
    if model == "softmax":
        fwd = 784 * 10
    elif model == "mlp":
        fwd = 784 * 256 + 256 * 10
    else:  # LeNet: conv 1->6 5x5 on 28x28 (pad 2), conv 6->16 5x5 on 14x14 -> 10x10, dense
        fwd = 28 * 28 * 6 * 25 + 10 * 10 * 16 * 6 * 25 + 400 * 120 + 120 * 84 + 84 * 10
    return 3 * 2 * fwd


def matmul_peak(n=1024, repeats=20):
    """Best float32 GEMM throughput of MXNet on this machine, in GFLOP/s."""
    a = mx.np.random.uniform(size=(n, n))
    b = mx.np.random.uniform(size=(n, n))
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        c = mx.np.dot(a, b)
        c.wait_to_read()
        best = max(best, 2 * n ** 3 / (time.perf_counter() - start) / 1e9)
    return best


def loader_speed(X, y, epochs=5):
    """Examples/s of dlbook's ArrayLoader alone: shuffle, gather and slice batches, no training."""
    loader = dl.ArrayLoader(X, y, batch_size=BATCH, shuffle=True, seed=0, device=mx.cpu())
    best = 0.0
    for _ in range(epochs):
        start = time.perf_counter()
        for xb, yb in loader:
            pass
        xb.wait_to_read()
        yb.wait_to_read()
        best = max(best, len(X) / (time.perf_counter() - start))
    return best


def build(model):
    if model == "softmax":
        return dl.mlp(hidden=(), num_outputs=10)
    if model == "mlp":
        return dl.mlp(hidden=256, num_outputs=10)
    return dl.lenet()  # classic: sigmoid, average pooling


def hand_epoch(net, loss, trainer, batches):
    """One epoch of the hand-written loop over (X, y) batches, synchronizing once at the end."""
    total = None
    for xb, yb in batches:
        with autograd.record():
            l = loss(net(xb), yb)
        l.backward()
        trainer.step(xb.shape[0])
        total = l.sum() if total is None else total + l.sum()
    total.item()


def accuracy(net, X, y):
    correct = 0
    for i in range(0, len(X), 1000):
        correct += int((net(X[i:i + 1000]).argmax(axis=1).astype("int32") == y[i:i + 1000]).sum())
    return correct / len(X)


def run_dlbook(model, data, epochs):
    dl.seed_everything(0)
    (X, y), (Xt, yt) = data
    loader = dl.ArrayLoader(X, y, batch_size=BATCH, shuffle=True, seed=0, device=mx.cpu())
    trainer = dl.Trainer(build(model), "cross_entropy", "sgd", learning_rate=LEARNING_RATES[model],
                         initializer=init.Normal(0.01) if model != "lenet" else init.Xavier(),
                         device=mx.cpu())
    history = trainer.fit(loader, epochs=epochs, verbose=False)
    seconds = history["time"][1:]
    test = dl.ArrayLoader(Xt, yt, batch_size=1000)
    correct = sum(int((trainer.net(xb).argmax(axis=1).astype("int32") == yb).sum()) for xb, yb in test)
    return len(X) / min(seconds), correct / len(Xt)


def run_hand_loop(model, data, epochs, hybridize=True, sync_every_batch=False,
                  static_shape=False, backend=None):
    dl.seed_everything(0)
    npx.set_np()
    (X, y), (Xt, yt) = data
    Xd, yd = mx.np.array(X), mx.np.array(y, dtype="int32")
    net = build(model)
    net.initialize(init.Normal(0.01) if model != "lenet" else init.Xavier())
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    if hybridize:
        options = dict(static_alloc=True, static_shape=static_shape)
        if backend:  # a subgraph backend such as oneDNN's ('MKLDNN' in MXNet 1.x)
            net.optimize_for(Xd[:BATCH], backend=backend, **options)
        else:
            net.hybridize(**options)
        loss.hybridize(**options)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": LEARNING_RATES[model]})
    rng = onp.random.default_rng(0)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = mx.np.array(rng.permutation(len(X)), dtype="int64")
        Xs, ys = mx.np.take(Xd, order, axis=0), mx.np.take(yd, order, axis=0)
        batches = ((Xs[i:i + BATCH], ys[i:i + BATCH]) for i in range(0, len(X), BATCH))
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
    npx.reset_np()
    with mx.util.np_shape(True), mx.util.np_array(True):
        acc = accuracy(net, mx.np.array(Xt), mx.np.array(yt, dtype="int32"))
    seconds = times[1:]
    return len(X) / min(seconds), acc


def run_torch(model, data, epochs):
    import torch
    from torch import nn

    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    (X, y), (Xt, yt) = data
    X, y = torch.from_numpy(X), torch.from_numpy(y.astype("int64"))
    Xt, yt = torch.from_numpy(Xt), torch.from_numpy(yt.astype("int64"))
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
    opt = torch.optim.SGD(net.parameters(), lr=LEARNING_RATES[model])
    loss = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(0)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(X), generator=gen)
        Xs, ys = X[order], y[order]
        for i in range(0, len(X), BATCH):
            opt.zero_grad(set_to_none=True)
            l = loss(net(Xs[i:i + BATCH]), ys[i:i + BATCH])
            l.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    with torch.no_grad():
        acc = (net(Xt).argmax(dim=1) == yt).float().mean().item()
    seconds = times[1:]
    return len(X) / min(seconds), acc


def main(argv=None):
    parser = argparse.ArgumentParser(description="dlbook training benchmark")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run (first is warm-up)")
    parser.add_argument("--models", default="softmax,mlp,lenet")
    parser.add_argument("--loops", default="dlbook,hand,d2l,pytorch",
                        help="which of dlbook, hand, d2l, pytorch to run")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs of each loop, interleaved; the best epoch of all runs counts")
    parser.add_argument("--static-shape", action="store_true",
                        help="hand loop: hybridize with static_shape=True as well")
    parser.add_argument("--backend", default=None,
                        help="hand loop: optimize_for this subgraph backend (e.g. MKLDNN)")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results")))
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch is warm-up)")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    loops = args.loops.split(",")
    unknown = set(loops) - {"dlbook", "hand", "d2l", "pytorch"}
    if unknown or "hand" not in loops:
        parser.error(f"--loops: expected names from dlbook, hand, d2l, pytorch including hand, got {args.loops}")
    start = time.perf_counter()
    train, test = dl.load_fashion_mnist(as_arrays=True)
    load_seconds = time.perf_counter() - start
    peak = matmul_peak()
    loader_rate = loader_speed(train[0].reshape(-1, 784), train[1])
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
    runners = {
        "dlbook": lambda m, d: run_dlbook(m, d, args.epochs),
        "hand": lambda m, d: run_hand_loop(m, d, args.epochs, static_shape=args.static_shape,
                                           backend=args.backend),
        "d2l": lambda m, d: run_hand_loop(m, d, args.epochs, hybridize=False, sync_every_batch=True),
    }
    if have_torch:
        runners["pytorch"] = lambda m, d: run_torch(m, d, args.epochs)
    runners = {name: run for name, run in runners.items() if name in loops}
    results = []
    for model in args.models.split(","):
        shape = (-1, 784) if model != "lenet" else (-1, 1, 28, 28)
        data = ((train[0].reshape(shape), train[1]), (test[0].reshape(shape), test[1]))
        speeds = {name: [] for name in runners}
        accuracies = {}
        for r in range(args.repeats):
            # Interleaved, and in a rotated order each round, so that no loop always runs
            # first (or right after PyTorch) and slow drifts of the machine hit all alike.
            names = list(runners)
            names = names[r % len(names):] + names[:r % len(names)]
            for name in names:
                speed, accuracies[name] = runners[name](model, data)
                speeds[name].append(speed)
                print(f"{model:8s} {name:8s} {speed:10.0f} ex/s  acc {accuracies[name]:.4f}", flush=True)
        for name in runners:
            speed = max(speeds[name])
            gflops = speed * flops_per_example(model) / 1e9
            results.append({"model": model, "loop": name, "examples_per_s": round(speed),
                            "runs_examples_per_s": [round(v) for v in speeds[name]],
                            "test_accuracy": round(accuracies[name], 4), "gflops": round(gflops, 2),
                            "fraction_of_peak": round(gflops / peak, 4)})
    base = {r["model"]: r["examples_per_s"] for r in results if r["loop"] == "hand"}
    for r in results:
        r["vs_hand_loop"] = round(r["examples_per_s"] / base[r["model"]], 3)
    report = {
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine(),
                    "python": sys.version.split()[0], "mxnet": mx.__version__,
                    "omp_num_threads": os.environ.get("OMP_NUM_THREADS")},
        "matmul_peak_gflops": round(peak, 1),
        "fashion_mnist_load_seconds": round(load_seconds, 2),
        "loader_examples_per_s": round(loader_rate),
        "epochs": args.epochs, "batch_size": BATCH, "repeats": args.repeats,
        "hand_loop_options": {"static_shape": args.static_shape, "backend": args.backend},
        "env": {k: v for k, v in sorted(os.environ.items()) if k.startswith(("MXNET_", "OMP_"))},
        "results": results,
    }
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [f"Machine: {report['machine']['cpu_count']} cores, {report['machine']['processor']}, "
             f"MXNet {mx.__version__}; float32 matmul peak {peak:.1f} GFLOP/s; "
             f"Fashion-MNIST loads in {load_seconds:.2f} s; the loader alone gives "
             f"{loader_rate:,.0f} examples/s. Best of {args.repeats} interleaved "
             f"run(s) per loop; best epoch after the first of each run.", "",
             "| model | loop | examples/s | vs. hand loop | test accuracy | GFLOP/s | of peak |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        lines.append(f"| {r['model']} | {r['loop']} | {r['examples_per_s']:,} | {r['vs_hand_loop']:.2f} | "
                     f"{r['test_accuracy']:.4f} | {r['gflops']:.2f} | {100 * r['fraction_of_peak']:.1f} % |")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
