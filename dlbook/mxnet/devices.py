"""MXNet devices: how many GPUs there are, and one or all of them with the CPU as fallback."""
import mxnet as mx

from .._checks import check_int

__all__ = ["num_gpus", "try_gpu", "try_all_gpus"]


def num_gpus():
    """Number of GPUs MXNet can use (0 on a CPU-only build or machine).

    Examples
    --------
    >>> from dlbook.mxnet.devices import num_gpus
    >>> num_gpus() >= 0
    True
    """
    try:
        return mx.context.num_gpus()
    except mx.base.MXNetError:
        return 0


def try_gpu(i=0):
    """Return ``mx.gpu(i)`` if that GPU exists, otherwise ``mx.cpu()``.

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.devices import try_gpu, num_gpus
    >>> try_gpu() == (mx.gpu(0) if num_gpus() else mx.cpu())
    True
    """
    i = check_int("i", i, minimum=0)
    return mx.gpu(i) if num_gpus() > i else mx.cpu()


def try_all_gpus():
    """Return every available GPU, or ``[mx.cpu()]`` when there is none.

    Examples
    --------
    >>> from dlbook.mxnet.devices import try_all_gpus
    >>> len(try_all_gpus()) >= 1
    True
    """
    n = num_gpus()
    return [mx.gpu(i) for i in range(n)] if n else [mx.cpu()]
