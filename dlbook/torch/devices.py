"""PyTorch devices: how many GPUs there are, and one or all of them with the CPU as fallback."""
import torch

from .._checks import check_int, describe
from ..devices import unavailable_device_error

__all__ = ["num_gpus", "try_gpu", "try_all_gpus", "check_device"]


def num_gpus():
    """Number of CUDA GPUs PyTorch can use (0 on a CPU-only build or machine).

    Examples
    --------
    The GPUs are numbered 0 to ``num_gpus() - 1``; the next number is refused:

    >>> import torch
    >>> from dlbook.torch.devices import check_device, num_gpus
    >>> try:
    ...     check_device(torch.device("cuda", num_gpus()))
    ... except ValueError as err:
    ...     print(str(err)[:48])
    Expected `device` to be a device of this machine
    """
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def try_gpu(i=0):
    """Return ``torch.device(f"cuda:{i}")`` if that GPU exists, otherwise ``torch.device("cpu")``.

    Parameters
    ----------
    i : int, default 0
        The GPU's number, from 0 (a negative number raises ValueError, a
        non-integer TypeError).

    Returns
    -------
    torch.device

    Examples
    --------
    Asking for one GPU more than there are gives the CPU (on a CPU-only machine,
    ``try_gpu()`` is that CPU):

    >>> from dlbook.torch.devices import try_gpu, num_gpus
    >>> try_gpu(num_gpus())
    device(type='cpu')
    """
    i = check_int("i", i, minimum=0)
    return torch.device(f"cuda:{i}") if num_gpus() > i else torch.device("cpu")


def try_all_gpus():
    """Return every available GPU, or ``[torch.device("cpu")]`` when there is none.

    Examples
    --------
    The list is never empty, and starts with the device ``try_gpu()`` picks
    (``[device(type='cpu')]`` on a CPU-only machine):

    >>> from dlbook.torch.devices import try_all_gpus, try_gpu
    >>> devices = try_all_gpus()
    >>> devices[0] == try_gpu()
    True
    """
    n = num_gpus()
    return [torch.device(f"cuda:{i}") for i in range(n)] if n else [torch.device("cpu")]


def check_device(device, name="device"):
    """Return ``device`` as a ``torch.device`` if PyTorch can use it here; raise a clear error otherwise.

    Every dlbook function that takes a ``device`` checks it here, before any
    work, so ``"cuda"`` on a machine (or a build of PyTorch) without CUDA is
    refused with a message that names the fallback, instead of an error deep
    inside the first operation.

    Parameters
    ----------
    device : torch.device or str
        E.g. ``torch.device("cpu")``, ``"cuda"`` or ``"cuda:1"``.
    name : str, default 'device'
        The argument's name, for the message.

    Returns
    -------
    torch.device

    Raises
    ------
    TypeError
        If ``device`` is neither a ``torch.device`` nor a string.
    ValueError
        If it names no device type PyTorch knows, or a GPU that PyTorch does not see.

    Examples
    --------
    >>> from dlbook.torch.devices import check_device
    >>> check_device("cpu")
    device(type='cpu')
    >>> try:
    ...     check_device("cuda:99")
    ... except ValueError as err:
    ...     print(str(err)[:61])
    Expected `device` to be a device of this machine, got cuda:99
    """
    if isinstance(device, str):
        try:
            device = torch.device(device)
        except RuntimeError as err:
            raise ValueError(
                f"Expected `{name}` as a device such as 'cpu' or 'cuda:0' (or dl.try_gpu()), "
                f"got {device!r}."
            ) from err
    if not isinstance(device, torch.device):
        raise TypeError(
            f"Expected `{name}` as a torch.device or a string such as 'cpu' or 'cuda:0' "
            f"(or dl.try_gpu()), got {describe(device)}."
        )
    if device.type == "cuda" and (device.index or 0) >= num_gpus():
        raise unavailable_device_error(device, "PyTorch", num_gpus(), name)
    return device
