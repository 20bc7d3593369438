"""PyTorch's in-memory mini-batches: :class:`ArrayLoader` and :func:`load_array`.

The batching, shuffling and checks are written once in
:class:`dlbook.data.BaseArrayLoader`; this module only puts the arrays on a
``torch.device`` as tensors. Splits, scaling and one-hot labels are NumPy work
and come from :mod:`dlbook.data`.
"""
import numpy as onp
import torch

from ..data import BaseArrayLoader, one_hot, scale, train_val_split
from .devices import check_device

__all__ = ["ArrayLoader", "load_array", "train_val_split", "scale", "one_hot"]


def to_host(value):
    """``value`` as something :func:`numpy.asarray` takes: a tensor is detached, moved to the CPU.

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.data import to_host
    >>> to_host(torch.ones(2, requires_grad=True))
    array([1., 1.], dtype=float32)
    >>> to_host([1, 2])
    [1, 2]
    """
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return value


class ArrayLoader(BaseArrayLoader):
    """Iterate over ``(X, y)`` mini-batches of tensors kept on ``device``.

    Parameters
    ----------
    X : array-like, shape (n, ...)
        Features (NumPy, a tensor or a list). Converted once to ``torch.float32``
        on ``device``.
    y : array-like, shape (n, ...), optional
        Targets. Integer labels become ``torch.int64`` (what
        ``torch.nn.functional.cross_entropy`` takes), anything else
        ``torch.float32``. When omitted, batches are ``X`` alone.
    batch_size : int
        Examples per batch, from 1 to ``n``.
    shuffle : bool, default False
        Draw a new order every epoch.
    seed : int, optional
        Seed of the shuffling generator (a NumPy one, independent of
        ``torch.manual_seed``). When omitted, it is drawn from NumPy's global
        generator, so :func:`dlbook.torch.session.seed_everything` makes the
        order reproducible.
    drop_last : bool, default False
        Drop the last, smaller batch.
    device : torch.device or str, optional
        Where the tensors live (default: the CPU). A GPU that PyTorch does not
        see is refused (:func:`dlbook.torch.devices.check_device`).

    See Also
    --------
    dlbook.data.BaseArrayLoader : the framework-neutral batching.
    dlbook.mxnet.data.ArrayLoader : the same loader for MXNet.

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.torch.data import ArrayLoader
    >>> X = onp.arange(10, dtype="float32").reshape(5, 2)
    >>> loader = ArrayLoader(X, onp.arange(5), batch_size=2)
    >>> len(loader)  # ceil(5 / 2)
    3
    >>> [tuple(xb.shape) for xb, yb in loader]
    [(2, 2), (2, 2), (1, 2)]
    >>> next(iter(loader))[1]
    tensor([0, 1])
    >>> loader
    ArrayLoader(num_examples=5, batch_size=2, shuffle=False, device=cpu)
    """

    int_dtype = "int64"

    def _default_device(self):
        return torch.device("cpu")

    def _check_device(self, device):
        return check_device(device)

    def _host(self, value):
        return to_host(value)

    def _to_device(self, array, dtype):
        # A copy: the loader never shares memory with the caller's array.
        return torch.from_numpy(onp.array(array, dtype=dtype, order="C")).to(self.device)

    def _index(self, order):
        return torch.as_tensor(order, device=self.device)

    def _gather(self, array, index):
        return array.index_select(0, index)

    def _to_host(self, array):
        return array.cpu().numpy()


def load_array(arrays, batch_size, shuffle=True, seed=None, device=None):
    """Wrap a tuple ``(X, y)`` (or ``(X,)``) of arrays in an :class:`ArrayLoader`.

    Introduced in the book's chapter on linear regression.

    Parameters
    ----------
    arrays : tuple
        ``(X, y)`` or ``(X,)``.
    batch_size : int
    shuffle : bool, default True
    seed : int, optional
    device : torch.device or str, optional

    Returns
    -------
    ArrayLoader

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.torch.data import load_array
    >>> loader = load_array((onp.ones((6, 3)), onp.zeros(6)), batch_size=4, seed=0)
    >>> len(loader), next(iter(loader))[0].dtype
    (2, torch.float32)
    """
    return ArrayLoader.from_arrays(arrays, batch_size, shuffle=shuffle, seed=seed, device=device)
