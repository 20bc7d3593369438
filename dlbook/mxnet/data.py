"""MXNet's in-memory mini-batches: :class:`ArrayLoader` and :func:`load_array`.

The batching, shuffling and checks are written once in
:class:`dlbook.data.BaseArrayLoader`; this module only puts the arrays on an
MXNet device as ``mxnet.np`` arrays. Splits, scaling and one-hot labels are
NumPy work and come from :mod:`dlbook.data`.
"""
import mxnet as mx

from ..data import BaseArrayLoader, one_hot, scale, train_val_split
from .devices import check_device

__all__ = ["ArrayLoader", "load_array", "train_val_split", "scale", "one_hot"]


class ArrayLoader(BaseArrayLoader):
    """Iterate over ``(X, y)`` mini-batches of ``mxnet.np`` arrays kept on ``device``.

    Parameters
    ----------
    X : array-like, shape (n, ...)
        Features (NumPy, MXNet or a list). Converted once to ``float32`` on ``device``.
    y : array-like, shape (n, ...), optional
        Targets. Integer labels become ``int32``, anything else ``float32``.
        When omitted, batches are ``X`` alone.
    batch_size : int
        Examples per batch, from 1 to ``n``.
    shuffle : bool, default False
        Draw a new order every epoch.
    seed : int, optional
        Seed of the shuffling generator. When omitted, it is drawn from NumPy's
        global generator, so :func:`dlbook.mxnet.session.seed_everything` makes the
        order reproducible.
    drop_last : bool, default False
        Drop the last, smaller batch.
    device : mxnet.Context, optional
        Where the arrays live (default: the CPU). A GPU that MXNet does not
        see is refused (:func:`dlbook.mxnet.devices.check_device`).

    See Also
    --------
    dlbook.data.BaseArrayLoader : the framework-neutral batching.
    dlbook.torch.data.ArrayLoader : the same loader for PyTorch.

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.mxnet.data import ArrayLoader
    >>> X = onp.arange(10, dtype="float32").reshape(5, 2)
    >>> loader = ArrayLoader(X, onp.arange(5), batch_size=2)
    >>> len(loader)  # ceil(5 / 2)
    3
    >>> [tuple(xb.shape) for xb, yb in loader]
    [(2, 2), (2, 2), (1, 2)]
    >>> next(iter(loader))[1]
    array([0, 1], dtype=int32)
    """

    int_dtype = "int32"

    def _default_device(self):
        return mx.cpu()

    def _check_device(self, device):
        return check_device(device)

    def _host(self, value):
        return value.asnumpy() if hasattr(value, "asnumpy") else value

    def _to_device(self, array, dtype):
        with mx.util.np_shape(True), mx.util.np_array(True):
            return mx.np.array(array, dtype=dtype, ctx=self.device)

    def _index(self, order):
        with mx.util.np_shape(True), mx.util.np_array(True):
            return mx.np.array(order, dtype="int64", ctx=self.device)

    def _gather(self, array, index):
        with mx.util.np_shape(True), mx.util.np_array(True):
            return mx.np.take(array, index, axis=0)

    def _to_host(self, array):
        return array.asnumpy()


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
    device : mxnet.Context, optional

    Returns
    -------
    ArrayLoader

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.mxnet.data import load_array
    >>> loader = load_array((onp.ones((6, 3)), onp.zeros(6)), batch_size=4, seed=0)
    >>> len(loader)
    2
    """
    return ArrayLoader.from_arrays(arrays, batch_size, shuffle=shuffle, seed=seed, device=device)
