"""Weight penalties and soft thresholding for Gluon networks, and the core's generalization tools.

* :func:`weight_values` collects a network's weights for histograms and counts;
* :func:`weight_penalty` and :class:`PenalizedLoss` add an L1 (lasso) and/or L2
  (ridge) penalty to any loss used by :class:`~dlbook.mxnet.train.Trainer`;
* :class:`SoftThreshold` is the proximal step of L1 for plain SGD, which sets
  weights to exactly zero;
* :func:`polynomial_features`, :func:`least_squares` and
  :func:`generalization_gap` are NumPy work from :mod:`dlbook.regularization`.

Conventions: the L1 penalty is ``l1 * sum(|w|)`` and the L2 penalty is
``l2 / 2 * sum(w**2)``, so that the L2 gradient ``l2 * w`` is exactly MXNet's
weight decay ``wd``. Only weights are penalized (parameters whose name ends in
``weight``: dense, convolution and recurrent kernels), not biases or batch-norm
parameters. The same names exist in :mod:`dlbook.torch.regularization`.
"""
import mxnet as mx
import numpy as onp
from mxnet import autograd, gluon

from .._checks import check_instance, check_number
from .. import regularization as _core
from ..regularization import generalization_gap, least_squares, polynomial_features
from ._gluon import has_value
from .metrics import get_loss

__all__ = [
    "polynomial_features",
    "least_squares",
    "weight_values",
    "weight_penalty",
    "PenalizedLoss",
    "SoftThreshold",
    "generalization_gap",
]


def _check_block(net, name="net"):
    check_instance(name, net, gluon.Block, "a gluon Block")


def _weights(net, name="net", need_values=True):
    _check_block(net, name)
    params = [p for key, p in net.collect_params().items()
              if key.endswith("weight") and p.grad_req != "null"]
    if not params:
        raise _core._no_weights_error(name)
    for p in params if need_values else ():
        if not has_value(p):
            raise _core._no_value_error(p.name, name)
    return params


def weight_values(net):
    """All weights of a network (no biases, no batch-norm parameters) as one flat array.

    Parameters
    ----------
    net : mxnet.gluon.Block
        An initialized network whose shapes are known.

    Returns
    -------
    numpy.ndarray, shape (number of weights,)

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.models import mlp
    >>> from dlbook.mxnet.regularization import weight_values
    >>> net = mlp(hidden=3, num_outputs=2)
    >>> net.initialize()
    >>> _ = net(mx.np.ones((1, 4)))
    >>> weight_values(net).shape  # 4*3 + 3*2 weights; the 5 biases are left out
    (18,)
    """
    return onp.concatenate([p.data().asnumpy().ravel() for p in _weights(net)])


@mx.util.use_np
def weight_penalty(net, l1=0.0, l2=0.0):
    """The penalty ``l1 * sum(|w|) + l2 / 2 * sum(w**2)`` over a network's weights.

    Computed with MXNet operations, so inside ``autograd.record()`` its gradient
    (``l1 * sign(w) + l2 * w``) flows into the weights.

    Parameters
    ----------
    net : mxnet.gluon.Block
    l1, l2 : float, default 0.0
        Regularization rates of the L1 (lasso) and L2 (ridge) penalties, >= 0.

    Returns
    -------
    mxnet.numpy.ndarray
        A scalar.

    Examples
    --------
    >>> import mxnet as mx
    >>> from mxnet import gluon
    >>> from dlbook.mxnet.regularization import weight_penalty
    >>> layer = gluon.nn.Dense(1, in_units=2)
    >>> layer.initialize()
    >>> layer.weight.set_data(mx.nd.array([[3.0, -4.0]]))
    >>> float(weight_penalty(layer, l1=0.1)), float(weight_penalty(layer, l2=0.1))
    (0.7, 1.25)
    """
    return _penalty(_weights(net), check_number("l1", l1, minimum=0), check_number("l2", l2, minimum=0))


@mx.util.use_np
def _penalty(params, l1, l2):
    total = 0.0
    for p in params:
        w = p.data()
        if not isinstance(w, mx.np.ndarray):
            w = w.as_np_ndarray()
        if l1:
            total = total + l1 * mx.np.abs(w).sum()
        if l2:
            total = total + (l2 / 2) * (w * w).sum()
    if not isinstance(total, mx.np.ndarray):
        total = mx.np.array(total)
    return total


class PenalizedLoss(_core._PenalizedLoss):
    """A loss plus an L1 and/or L2 penalty on a network's weights, for the Trainer.

    While training (inside ``autograd.record()``) every example's loss gets the
    penalty added, so the mean over a batch is ``mean(loss) + penalty``: the
    regularized objective. Outside training (``evaluate``, validation, ``predict``)
    the loss alone is returned, so validation losses stay comparable between
    penalized and unpenalized models.

    Parameters
    ----------
    loss : str or callable
        A name from :data:`dlbook.mxnet.metrics.LOSSES` or a callable ``loss(y_hat, y)``
        returning one value per example.
    net : mxnet.gluon.Block
        The network whose weights are penalized (the one given to the Trainer).
    l1 : float, default 0.0
        Rate of the L1 (lasso) penalty ``l1 * sum(|w|)``.
    l2 : float, default 0.0
        Rate of the L2 (ridge) penalty ``l2 / 2 * sum(w**2)``; with plain SGD it
        equals ``optimizer_params={'wd': l2}`` applied to the weights only.

    See Also
    --------
    SoftThreshold : the L1 step that produces exact zeros.

    Examples
    --------
    >>> from dlbook.mxnet import Trainer, mlp, load_array, xor_data
    >>> from dlbook.mxnet.regularization import PenalizedLoss, weight_values
    >>> net = mlp(hidden=8, num_outputs=2)
    >>> trainer = Trainer(net, loss=PenalizedLoss("cross_entropy", net, l1=0.01))
    >>> trainer.loss
    PenalizedLoss(loss='cross_entropy', l1=0.01, l2=0.0)
    >>> _ = trainer.fit(load_array(xor_data(), batch_size=4), epochs=2, verbose=False)
    >>> weight_values(net).shape  # 2*8 + 8*2 weights
    (32,)
    """

    _get_loss = staticmethod(get_loss)
    _check_net = staticmethod(_check_block)
    _training = staticmethod(autograd.is_recording)
    _weights = staticmethod(_weights)
    _penalty = staticmethod(_penalty)


class SoftThreshold(_core._SoftThreshold):
    """The proximal L1 step: after every SGD update, move each weight ``lr * l1`` towards 0.

    Plain SGD on ``loss + l1 * sum(|w|)`` uses the subgradient ``l1 * sign(w)``,
    which makes small weights jump back and forth across zero: they get *near*
    zero but rarely *exactly* zero. Proximal gradient descent (ISTA) instead
    takes the ordinary SGD step on the loss and then applies soft thresholding,
    ``w <- sign(w) * max(|w| - lr * l1, 0)``, which sets every weight whose
    magnitude is below ``lr * l1`` to exactly zero, as the lasso solution has.

    Parameters
    ----------
    l1 : float
        Rate of the L1 penalty ``l1 * sum(|w|)``, > 0.

    Raises
    ------
    ValueError
        At the start of training, if the optimizer is not plain SGD (no momentum):
        the step is only the exact proximal step for plain SGD.

    Examples
    --------
    >>> from dlbook.mxnet import Trainer, load_array, synthetic_linear
    >>> from dlbook.mxnet.models import mlp
    >>> from dlbook.mxnet.regularization import SoftThreshold, weight_values
    >>> X, y = synthetic_linear([2.0, 0.0, 0.0, 0.0], 0.0, num_examples=100, noise=0.1)
    >>> net = mlp(hidden=(), num_outputs=1)
    >>> trainer = Trainer(net, loss="mse", optimizer="sgd", learning_rate=0.05)
    >>> _ = trainer.fit(load_array((X, y), batch_size=20), epochs=30, verbose=False,
    ...                 callbacks=[SoftThreshold(l1=0.2)])
    >>> w = weight_values(net)
    >>> round(float(w[0]), 1), int((w == 0).sum())  # the three useless inputs get exactly 0
    (1.9, 3)
    """

    _weights = staticmethod(_weights)

    def _momentum(self):
        return getattr(self.trainer.optimizer._optimizer, "momentum", None)

    @mx.util.use_np
    def _shrink(self, params, threshold):
        for p in params:
            w = p.data()
            p.set_data(mx.np.sign(w) * mx.np.maximum(mx.np.abs(w) - threshold, 0.0))
