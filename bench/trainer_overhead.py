"""What dlbook's Trainer costs over a hand-written loop: both in one process, epochs interleaved.

    .venv/bin/python bench/trainer_overhead.py [--models softmax,mlp] [--epochs 6]

train_bench.py runs each loop in its own round, and on a shared machine one
epoch's speed swings by 15-20 % from round to round, more than the difference
being measured. Here one process holds both: the same ArrayLoader feeds an
epoch of ``Trainer`` (its inner training loop, without callbacks) and an epoch
of the hybridized hand loop, alternately, in turn first. Prints the best and
median epoch times and their ratio, and writes <out>.md.
"""
import argparse
import sys
import time
from pathlib import Path

from dlbook import mxnet as dl
import mxnet as mx
from mxnet import gluon, init, npx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_bench import BATCH, LEARNING_RATES, build, hand_epoch  # noqa: E402


def measure(model, X, y, epochs):
    loader = dl.ArrayLoader(X, y, batch_size=BATCH, shuffle=True, seed=0, device=mx.cpu())
    initializer = init.Normal(0.01) if model != "lenet" else init.Xavier()
    dl.seed_everything(0)
    trainer = dl.Trainer(build(model), "cross_entropy", "sgd", learning_rate=LEARNING_RATES[model],
                         initializer=initializer, device=mx.cpu())
    npx.set_np()
    net = build(model)
    net.initialize(initializer)
    net.hybridize(static_alloc=True)
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    loss.hybridize(static_alloc=True)
    sgd = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": LEARNING_RATES[model]})

    loops = {"dlbook": lambda: trainer._train_epoch(loader, [], False),
             "hand": lambda: hand_epoch(net, loss, sgd, loader)}
    for run in loops.values():  # warm-up epochs
        run()
    times = {name: [] for name in loops}
    for i in range(epochs):
        order = list(loops) if i % 2 == 0 else list(loops)[::-1]
        for name in order:
            npx.waitall()
            start = time.perf_counter()
            loops[name]()
            npx.waitall()
            times[name].append(time.perf_counter() - start)
    npx.reset_np()
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description="dlbook Trainer vs hand loop, one process")
    parser.add_argument("--models", default="softmax,mlp,lenet")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--out", default=str(Path(__file__).with_name("trainer_overhead")))
    args = parser.parse_args(argv)
    train, _ = dl.load_fashion_mnist(as_arrays=True)
    lines = [f"dlbook Trainer epoch vs hand-written loop epoch, interleaved in one process, "
             f"{args.epochs} epochs each after one warm-up.", "",
             "| model | hand: best / median s | dlbook: best / median s | speed ratio, best | "
             "speed ratio, median |", "| --- | ---: | ---: | ---: | ---: |"]
    for model in args.models.split(","):
        shape = (-1, 784) if model != "lenet" else (-1, 1, 28, 28)
        t = measure(model, train[0].reshape(shape), train[1], args.epochs)
        best = {k: min(v) for k, v in t.items()}
        median = {k: sorted(v)[len(v) // 2] for k, v in t.items()}
        lines.append(f"| {model} | {best['hand']:.3f} / {median['hand']:.3f} | "
                     f"{best['dlbook']:.3f} / {median['dlbook']:.3f} | "
                     f"{best['hand'] / best['dlbook']:.2f} | {median['hand'] / median['dlbook']:.2f} |")
        print(lines[-1], flush=True)
    Path(args.out).with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
