"""MXNet devices: how many GPUs there are, and one or all of them with the CPU as fallback."""
import mxnet as mx

from .._checks import check_int, describe
from ..devices import unavailable_device_error

__all__ = ["num_gpus", "try_gpu", "try_all_gpus", "check_device"]


def num_gpus():
    """Number of GPUs MXNet can use (0 on a CPU-only build or machine).

    Examples
    --------
    The GPUs are numbered 0 to ``num_gpus() - 1``; the next number is refused:

    >>> import mxnet as mx
    >>> from dlbook.mxnet.devices import check_device, num_gpus
    >>> try:
    ...     check_device(mx.gpu(num_gpus()))
    ... except ValueError as err:
    ...     print(str(err)[:48])
    Expected `device` to be a device of this machine
    """
    try:
        return mx.context.num_gpus()
    except mx.base.MXNetError:
        return 0


def try_gpu(i=0):
    """Return ``mx.gpu(i)`` if that GPU exists, otherwise ``mx.cpu()``.

    Parameters
    ----------
    i : int, default 0
        The GPU's number, from 0 (a negative number raises ValueError, a
        non-integer TypeError).

    Returns
    -------
    mxnet.Context

    Examples
    --------
    Asking for one GPU more than there are gives the CPU (on a CPU-only machine,
    ``try_gpu()`` is that CPU):

    >>> from dlbook.mxnet.devices import try_gpu, num_gpus
    >>> try_gpu(num_gpus())
    cpu(0)
    """
    i = check_int("i", i, minimum=0)
    return mx.gpu(i) if num_gpus() > i else mx.cpu()


def try_all_gpus():
    """Return every available GPU, or ``[mx.cpu()]`` when there is none.

    Examples
    --------
    The list is never empty, and starts with the device ``try_gpu()`` picks
    (``[cpu(0)]`` on a CPU-only machine):

    >>> from dlbook.mxnet.devices import try_all_gpus, try_gpu
    >>> devices = try_all_gpus()
    >>> devices[0] == try_gpu()
    True
    """
    n = num_gpus()
    return [mx.gpu(i) for i in range(n)] if n else [mx.cpu()]


def check_device(device, name="device"):
    """Return ``device`` if MXNet can use it here; raise a clear error otherwise.

    Every dlbook function that takes a ``device`` checks it here, before any
    work, so ``mx.gpu(0)`` on a CPU-only build of MXNet (or a machine without
    that GPU) is refused with a message that names the fallback, instead of a
    ``MXNetError`` deep inside the first operation.

    Parameters
    ----------
    device : mxnet.Context
    name : str, default 'device'
        The argument's name, for the message.

    Returns
    -------
    mxnet.Context

    Raises
    ------
    TypeError
        If ``device`` is not an ``mxnet.Context``.
    ValueError
        If it is a GPU that MXNet does not see.

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.devices import check_device
    >>> check_device(mx.cpu())
    cpu(0)
    >>> try:
    ...     check_device(mx.gpu(99))
    ... except ValueError as err:
    ...     print(str(err)[:61])
    Expected `device` to be a device of this machine, got gpu(99)
    """
    if not isinstance(device, mx.Context):
        raise TypeError(
            f"Expected `{name}` as an mxnet Context such as mx.cpu() or mx.gpu(0) "
            f"(or dl.try_gpu()), got {describe(device)}."
        )
    if device.device_type == "gpu" and device.device_id >= num_gpus():
        raise unavailable_device_error(device, "MXNet", num_gpus(), name)
    return device
