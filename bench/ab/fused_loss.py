"""A/B of the MXNet Trainer's step with the network and the loss as one hybridized block
(one CachedOp per batch) against today's two (the network's, the loss's), in one process.

    .venv/bin/python bench/ab/fused_loss.py softmax|mlp [pairs]

Rejected: see bench/experiments.md.
"""
import sys

from _interleave import compare
from mxnet import autograd, gluon

from dlbook import mxnet as dl
from dlbook.datasets import fashion_mnist_arrays

model = sys.argv[1]
pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 8
(X, y), _ = fashion_mnist_arrays(flatten=True)


class NetWithLoss(gluon.HybridBlock):
    def __init__(self, net, loss):
        super().__init__()
        self.net, self.loss = net, loss

    def forward(self, X, y):
        y_hat = self.net(X)
        return y_hat, self.loss(y_hat, y)


class FusedTrainer(dl.Trainer):
    def train_step(self, batch):
        X, y = batch
        if not hasattr(self, "_fused"):
            self._fused = NetWithLoss(self.net, self.loss)
            self._fused.hybridize(static_alloc=True)
        with autograd.record():
            y_hat, loss = self._fused(X, y)
        loss.backward()
        self.optimizer.step(X.shape[0])
        return y_hat, loss


def make(cls):
    dl.seed_everything(0)
    net = dl.mlp(hidden=() if model == "softmax" else 256, num_outputs=10)
    trainer = cls(net, "cross_entropy", "sgd", learning_rate=0.1, metrics=["accuracy"])
    return trainer, dl.ArrayLoader(X, y, batch_size=256, shuffle=True, seed=0)


compare(model, make(FusedTrainer), make(dl.Trainer), pairs, names=("fused", "two blocks"))
