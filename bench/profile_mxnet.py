"""Where the time of a training step goes: MXNet's profiler on the hand-written loop.

    .venv/bin/python bench/profile_mxnet.py [--models softmax,mlp,lenet] [--out bench/profile]

For each model of bench/train_bench.py it trains one warm-up epoch, then
profiles one epoch of the hybridized hand loop with MXNet's profiler
(aggregate statistics). It reports the wall time per batch, the time the
operators themselves took (summed), the rest (Python, the engine, waiting),
and the operators that took the most time. Writes <out>.json and <out>.md.
"""
import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))

from dlbook import mxnet as dl  # noqa: E402
import mxnet as mx  # noqa: E402
from mxnet import gluon, init, npx  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_bench import BATCH, LEARNING_RATES, build, hand_epoch  # noqa: E402


def operator_times(stats):
    """{operator: (calls, total ms)} from the profiler's aggregate JSON."""
    times = {}
    for domain, ops in stats.get("Time", {}).items():
        if "operator" not in domain.lower():
            continue
        for name, s in ops.items():
            calls, total = times.get(name, (0, 0.0))
            times[name] = (calls + s["Count"], total + s["Total"])
    return times


def profile_model(model, X, y, folder):
    dl.seed_everything(0)
    npx.set_np()
    Xd, yd = mx.np.array(X), mx.np.array(y, dtype="int32")
    net = build(model)
    net.initialize(init.Normal(0.01) if model != "lenet" else init.Xavier())
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    net.hybridize(static_alloc=True)
    loss.hybridize(static_alloc=True)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": LEARNING_RATES[model]})

    def epoch():
        hand_epoch(net, loss, trainer, ((Xd[i:i + BATCH], yd[i:i + BATCH]) for i in range(0, len(X), BATCH)))
        npx.waitall()

    epoch()  # warm-up: graph building, memory planning, oneDNN primitive creation
    start = time.perf_counter()
    epoch()
    plain = time.perf_counter() - start
    mx.profiler.set_config(profile_all=True, aggregate_stats=True, continuous_dump=False,
                           filename=str(Path(folder) / f"{model}.json"))
    mx.profiler.set_state("run")
    start = time.perf_counter()
    epoch()
    profiled = time.perf_counter() - start
    mx.profiler.set_state("stop")
    stats = json.loads(mx.profiler.dumps(reset=True, format="json"))
    npx.reset_np()
    batches = -(-len(X) // BATCH)
    ops = operator_times(stats)
    op_ms = sum(total for _, total in ops.values())
    top = sorted(ops.items(), key=lambda kv: -kv[1][1])[:8]
    return {
        "model": model,
        "ms_per_batch": round(1000 * plain / batches, 3),
        "ms_per_batch_profiled": round(1000 * profiled / batches, 3),
        "operator_ms_per_batch": round(op_ms / batches, 3),
        "top_operators": [{"name": name, "calls_per_batch": round(calls / batches, 2),
                           "ms_per_batch": round(total / batches, 3),
                           "share": round(total / op_ms, 3)} for name, (calls, total) in top],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description="profile the hand-written MXNet loop")
    parser.add_argument("--models", default="softmax,mlp,lenet")
    parser.add_argument("--out", default=str(Path(__file__).with_name("profile")))
    args = parser.parse_args(argv)
    train, _ = dl.load_fashion_mnist(as_arrays=True)
    report = {"omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "batch_size": BATCH,
              "env": {k: v for k, v in sorted(os.environ.items()) if k.startswith(("MXNET_", "OMP_"))},
              "models": []}
    with tempfile.TemporaryDirectory() as folder:
        for model in args.models.split(","):
            shape = (-1, 784) if model != "lenet" else (-1, 1, 28, 28)
            report["models"].append(profile_model(model, train[0].reshape(shape), train[1], folder))
            print(json.dumps(report["models"][-1]), flush=True)
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    lines = []
    for m in report["models"]:
        rest = m["ms_per_batch_profiled"] - m["operator_ms_per_batch"]
        lines += [f"### {m['model']}", "",
                  f"{m['ms_per_batch']:.3f} ms per batch ({m['ms_per_batch_profiled']:.3f} ms while "
                  f"profiled): operators {m['operator_ms_per_batch']:.3f} ms, everything else "
                  f"{rest:.3f} ms.", "",
                  "| operator | calls/batch | ms/batch | share of operator time |",
                  "| --- | ---: | ---: | ---: |"]
        lines += [f"| {o['name']} | {o['calls_per_batch']:g} | {o['ms_per_batch']:.3f} | "
                  f"{100 * o['share']:.1f} % |" for o in m["top_operators"]]
        lines.append("")
    out.with_suffix(".md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
