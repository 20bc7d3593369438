"""Seeding the framework-neutral random sources: Python's ``random`` and NumPy.

Each framework layer's ``seed_everything`` (:func:`dlbook.mxnet.session.seed_everything`,
:func:`dlbook.torch.session.seed_everything`) calls :func:`seed_python_and_numpy`
and then seeds its framework's generators.
"""
import os
import random

import numpy as onp

from ._checks import check_int

__all__ = ["MAX_SEED", "check_seed", "seed_python_and_numpy"]

#: The largest seed every generator dlbook seeds accepts (MXNet's limit).
MAX_SEED = 2**31 - 1


def check_seed(seed):
    """Return ``seed`` as an ``int`` in [0, :data:`MAX_SEED`], or raise a clear error.

    Parameters
    ----------
    seed : int
        An integer (Python's or NumPy's) from 0 to :data:`MAX_SEED`. A bool or a
        non-integer raises TypeError, an integer out of range ValueError.

    Returns
    -------
    int

    Examples
    --------
    >>> from dlbook.seeding import check_seed
    >>> check_seed(7)
    7
    >>> check_seed(-1)
    Traceback (most recent call last):
    ...
    ValueError: Expected `seed` >= 0, got -1.
    """
    return check_int("seed", seed, minimum=0, maximum=MAX_SEED)


def seed_python_and_numpy(seed=0):
    """Seed Python's ``random`` and NumPy's global generator, and set ``PYTHONHASHSEED``.

    ``PYTHONHASHSEED`` only affects child processes (such as the workers that
    ``dlbook launch`` starts); the running interpreter's hashing is fixed at start.

    Parameters
    ----------
    seed : int, default 0
        A non-negative integer up to :data:`MAX_SEED`.

    Returns
    -------
    int
        The checked seed, for the layer to seed its framework with.

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.seeding import seed_python_and_numpy
    >>> _ = seed_python_and_numpy(3)
    >>> a = onp.random.rand()
    >>> _ = seed_python_and_numpy(3)
    >>> a == onp.random.rand()
    True
    """
    seed = check_seed(seed)
    random.seed(seed)
    onp.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    return seed
