"""A/B of ArrayLoader per-batch gathers (new) against one whole-epoch gather (old), in one process.

    .venv/bin/python bench/ab/loader_gather.py mxnet|torch softmax|mlp [pairs]

Two Trainers (same model, same loader seed) alternate epochs; prints the median epoch
times and the ratio old/new over the pairs. Results: bench/experiments.md.
"""
import sys

from _interleave import compare

fw, model = sys.argv[1], sys.argv[2]
pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 8
if fw == "mxnet":
    from dlbook import mxnet as dl
else:
    from dlbook import torch as dl
from dlbook.datasets import fashion_mnist_arrays
(X, y), _ = fashion_mnist_arrays(flatten=True)



class Old(dl.ArrayLoader):
    """The loader before: one gather of the whole epoch, batches sliced from it."""

    def __iter__(self):
        X, y = self.X, self.y
        order = self._index(self._rng.permutation(self.num_examples))
        X, y = self._gather(X, order), self._gather(y, order)
        for k in range(len(self)):
            s = k * self.batch_size
            yield X[s:s + self.batch_size], y[s:s + self.batch_size]


def make(cls):
    dl.seed_everything(0)
    net = dl.mlp(hidden=() if model == "softmax" else 256, num_outputs=10)
    tr = dl.Trainer(net, "cross_entropy", "sgd", learning_rate=0.1)
    return tr, cls(X, y, batch_size=256, shuffle=True, seed=0)


# The nets are built (and initialized) at their first epoch, so the two start from
# different weights; their losses differ slightly for that reason alone.
compare(f"{fw} {model}", make(dl.ArrayLoader), make(Old), pairs)
