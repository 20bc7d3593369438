"""The framework-neutral half of device checks: the message for a device this machine lacks.

Each layer's ``check_device`` (:func:`dlbook.mxnet.devices.check_device`,
:func:`dlbook.torch.devices.check_device`) is the one place where a device
given to dlbook (a ``Trainer``, an ``ArrayLoader``, ``load_array``,
``summary``, the ``load_*`` data sets) is checked, before any work, so both
layers refuse a missing GPU with the same words.
"""
__all__ = ["unavailable_device_error"]


def unavailable_device_error(device, framework, count, name="device"):
    """The ``ValueError`` for a GPU that ``framework`` cannot use on this machine.

    Parameters
    ----------
    device : object
        The device asked for, shown as the framework prints it.
    framework : str
        ``'MXNet'`` or ``'PyTorch'``.
    count : int
        How many GPUs the framework sees.
    name : str, default 'device'
        The argument that received ``device``.

    Examples
    --------
    >>> from dlbook.devices import unavailable_device_error
    >>> print(unavailable_device_error("gpu(0)", "MXNet", 0))  # doctest: +NORMALIZE_WHITESPACE
    Expected `device` to be a device of this machine, got gpu(0): MXNet sees no GPU
    here (a CPU-only build of MXNet, or a machine without a GPU). Use `dl.try_gpu()`,
    which falls back to the CPU when there is no GPU, or `device=None` for the CPU.
    >>> print(unavailable_device_error("cuda:2", "PyTorch", 2))  # doctest: +NORMALIZE_WHITESPACE
    Expected `device` to be a device of this machine, got cuda:2: PyTorch sees 2 GPUs
    here, numbered 0 to 1. Use `dl.try_gpu()`, which falls back to the CPU when there
    is no GPU, or `device=None` for the CPU.
    """
    if count == 0:
        seen = f"no GPU here (a CPU-only build of {framework}, or a machine without a GPU)"
    else:
        seen = f"{count} GPU{'s' if count > 1 else ''} here, numbered 0 to {count - 1}"
    return ValueError(
        f"Expected `{name}` to be a device of this machine, got {device}: {framework} sees "
        f"{seen}. Use `dl.try_gpu()`, which falls back to the CPU when there is no GPU, "
        "or `device=None` for the CPU."
    )
