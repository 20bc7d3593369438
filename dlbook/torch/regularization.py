"""Weight penalties and soft thresholding for PyTorch modules, and the core's generalization tools.

* :func:`weight_values` collects a network's weights for histograms and counts;
* :func:`weight_penalty` and :class:`PenalizedLoss` add an L1 (lasso) and/or L2
  (ridge) penalty to any loss used by :class:`~dlbook.torch.train.Trainer`;
* :class:`SoftThreshold` is the proximal step of L1 for plain SGD, which sets
  weights to exactly zero;
* :func:`polynomial_features`, :func:`least_squares` and
  :func:`generalization_gap` are NumPy work from :mod:`dlbook.regularization`.

Conventions: the L1 penalty is ``l1 * sum(|w|)`` and the L2 penalty is
``l2 / 2 * sum(w**2)``, so that the L2 gradient ``l2 * w`` is exactly the
``weight_decay`` of ``torch.optim.SGD``. Only weights are penalized: the
parameters whose name starts with ``weight`` (``weight`` of dense, convolution
and embedding layers, ``weight_ih_l0``, ``weight_hh_l0``, ... of recurrent
ones), but not those of normalization layers, whose ``weight`` is a scale
(Gluon's ``gamma``), nor biases. The same names exist in
:mod:`dlbook.mxnet.regularization`.
"""
import numpy as onp
import torch
from torch import nn
from torch.nn.parameter import is_lazy

from .._checks import check_instance, check_number
from .. import regularization as _core
from ..regularization import generalization_gap, least_squares, polynomial_features

__all__ = [
    "polynomial_features",
    "least_squares",
    "weight_values",
    "weight_penalty",
    "PenalizedLoss",
    "SoftThreshold",
    "generalization_gap",
]

# Layers whose `weight` is a per-channel scale, not a kernel (Gluon calls it `gamma`).
_NORMS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm)


def _get_loss(loss):
    from .metrics import get_loss  # the training family's module, imported when first needed

    return get_loss(loss)


def _check_module(net, name="net"):
    check_instance(name, net, nn.Module, "a torch.nn.Module")


def _weights(net, name="net", need_values=True):
    _check_module(net, name)
    found, seen = [], set()
    for prefix, module in net.named_modules():
        if isinstance(module, _NORMS):
            continue
        for key, p in module.named_parameters(recurse=False):
            if key.startswith("weight") and p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                found.append((f"{prefix}.{key}" if prefix else key, p))
    if not found:
        raise _core._no_weights_error(name)
    for key, p in found if need_values else ():
        if is_lazy(p):
            raise _core._no_value_error(key, name)
    return [p for _, p in found]


def weight_values(net):
    """All weights of a network (no biases, no batch-norm parameters) as one flat array.

    Parameters
    ----------
    net : torch.nn.Module
        A network whose shapes are known (a lazy one after its first forward pass).

    Returns
    -------
    numpy.ndarray, shape (number of weights,)

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.models import mlp
    >>> from dlbook.torch.regularization import weight_values
    >>> net = mlp(hidden=3, num_outputs=2)
    >>> _ = net(torch.ones(1, 4))
    >>> weight_values(net).shape  # 4*3 + 3*2 weights; the 5 biases are left out
    (18,)
    """
    return onp.concatenate([p.detach().cpu().numpy().ravel() for p in _weights(net)])


def weight_penalty(net, l1=0.0, l2=0.0):
    """The penalty ``l1 * sum(|w|) + l2 / 2 * sum(w**2)`` over a network's weights.

    Computed with torch operations, so with gradients enabled its gradient
    (``l1 * sign(w) + l2 * w``) flows into the weights.

    Parameters
    ----------
    net : torch.nn.Module
    l1, l2 : float, default 0.0
        Regularization rates of the L1 (lasso) and L2 (ridge) penalties, >= 0.

    Returns
    -------
    torch.Tensor
        A scalar.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from dlbook.torch.regularization import weight_penalty
    >>> layer = nn.Linear(2, 1)
    >>> with torch.no_grad():
    ...     _ = layer.weight.copy_(torch.tensor([[3.0, -4.0]]))
    >>> weight_penalty(layer, l1=0.1).item(), weight_penalty(layer, l2=0.1).item()
    (0.7, 1.25)
    """
    return _penalty(_weights(net), check_number("l1", l1, minimum=0), check_number("l2", l2, minimum=0))


def _penalty(params, l1, l2):
    total = torch.zeros((), device=params[0].device, dtype=params[0].dtype)
    for w in params:
        if l1:
            total = total + l1 * w.abs().sum()
        if l2:
            total = total + (l2 / 2) * (w * w).sum()
    return total


class PenalizedLoss(_core._PenalizedLoss):
    """A loss plus an L1 and/or L2 penalty on a network's weights, for the Trainer.

    While training (gradients enabled and ``net`` in training mode) every
    example's loss gets the penalty added, so the mean over a batch is
    ``mean(loss) + penalty``: the regularized objective. Otherwise
    (``evaluate``, validation, ``predict``, under ``torch.no_grad()`` or after
    ``net.eval()``) the loss alone is returned, so validation losses stay
    comparable between penalized and unpenalized models.

    Parameters
    ----------
    loss : str or callable
        A name from :data:`dlbook.torch.metrics.LOSSES` or a callable ``loss(y_hat, y)``
        returning one value per example.
    net : torch.nn.Module
        The network whose weights are penalized (the one given to the Trainer).
    l1 : float, default 0.0
        Rate of the L1 (lasso) penalty ``l1 * sum(|w|)``.
    l2 : float, default 0.0
        Rate of the L2 (ridge) penalty ``l2 / 2 * sum(w**2)``; with plain SGD it
        equals ``weight_decay=l2`` applied to the weights only.

    See Also
    --------
    SoftThreshold : the L1 step that produces exact zeros.

    Examples
    --------
    >>> from dlbook.torch import Trainer, mlp, load_array, xor_data
    >>> from dlbook.torch.regularization import PenalizedLoss, weight_values
    >>> net = mlp(hidden=8, num_outputs=2)
    >>> trainer = Trainer(net, loss=PenalizedLoss("cross_entropy", net, l1=0.01))
    >>> trainer.loss
    PenalizedLoss(loss='cross_entropy', l1=0.01, l2=0.0)
    >>> _ = trainer.fit(load_array(xor_data(), batch_size=4), epochs=2, verbose=False)
    >>> weight_values(net).shape  # 2*8 + 8*2 weights
    (32,)
    """

    _get_loss = staticmethod(_get_loss)
    _check_net = staticmethod(_check_module)
    _weights = staticmethod(_weights)
    _penalty = staticmethod(_penalty)

    def _training(self):
        return torch.is_grad_enabled() and self.net.training


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
    >>> from dlbook.torch import Trainer, load_array, synthetic_linear
    >>> from dlbook.torch.models import mlp
    >>> from dlbook.torch.regularization import SoftThreshold, weight_values
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
        trainer = self.trainer
        if trainer.optimizer is not None:  # None for optimizers without one (Adam)
            return trainer.optimizer.defaults.get("momentum")
        return trainer._optimizer_kwargs.get("momentum")  # not built yet: its arguments

    def _shrink(self, params, threshold):
        with torch.no_grad():
            for w in params:
                w.copy_(torch.sign(w) * torch.clamp(w.abs() - threshold, min=0.0))
