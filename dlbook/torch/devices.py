"""PyTorch devices: how many GPUs there are, and one or all of them with the CPU as fallback."""
import torch

from .._checks import check_int

__all__ = ["num_gpus", "try_gpu", "try_all_gpus"]


def num_gpus():
    """Number of CUDA GPUs PyTorch can use (0 on a CPU-only build or machine).

    Examples
    --------
    >>> from dlbook.torch.devices import num_gpus
    >>> num_gpus() >= 0
    True
    """
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def try_gpu(i=0):
    """Return ``torch.device(f"cuda:{i}")`` if that GPU exists, otherwise ``torch.device("cpu")``.

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.devices import try_gpu, num_gpus
    >>> try_gpu() == (torch.device("cuda:0") if num_gpus() else torch.device("cpu"))
    True
    """
    i = check_int("i", i, minimum=0)
    return torch.device(f"cuda:{i}") if num_gpus() > i else torch.device("cpu")


def try_all_gpus():
    """Return every available GPU, or ``[torch.device("cpu")]`` when there is none.

    Examples
    --------
    >>> from dlbook.torch.devices import try_all_gpus
    >>> len(try_all_gpus()) >= 1
    True
    """
    n = num_gpus()
    return [torch.device(f"cuda:{i}") for i in range(n)] if n else [torch.device("cpu")]
