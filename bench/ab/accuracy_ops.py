"""A/B of the Accuracy metric with as few operators per batch as possible (new) against the
float32 casts it had before (old), in one process.

    .venv/bin/python bench/ab/accuracy_ops.py mxnet|torch softmax|mlp [pairs]

Two Trainers (same model, one metric each) alternate epochs; prints the median epoch
times and the ratio old/new over the pairs. Results: bench/experiments.md.
"""
import sys

from _interleave import compare

fw, model = sys.argv[1], sys.argv[2]
pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 8
if fw == "mxnet":
    from dlbook import mxnet as dl

    class Old(dl.metrics.Accuracy):
        def batch_values(self, y_hat, y):
            pred = y_hat.argmax(axis=1)
            return (pred.astype("float32") == y.reshape(-1).astype("float32")).astype("float32")
else:
    import torch

    from dlbook import torch as dl

    class Old(dl.metrics.Accuracy):
        def batch_values(self, y_hat, y):
            pred = y_hat.argmax(dim=1)
            return (pred.to(torch.float32) == y.reshape(-1).to(torch.float32)).to(torch.float32)

from dlbook.datasets import fashion_mnist_arrays  # noqa: E402

(X, y), _ = fashion_mnist_arrays(flatten=True)


def make(metric):
    dl.seed_everything(0)
    net = dl.mlp(hidden=() if model == "softmax" else 256, num_outputs=10)
    trainer = dl.Trainer(net, "cross_entropy", "sgd", learning_rate=0.1, metrics=[metric])
    return trainer, dl.ArrayLoader(X, y, batch_size=256, shuffle=True, seed=0)


compare(f"{fw} {model}", make(dl.metrics.Accuracy()), make(Old()), pairs)
