"""The book's data sets as MXNet :class:`~dlbook.mxnet.data.ArrayLoader` objects.

Finding, verifying and reading the data is framework-neutral and lives in
:mod:`dlbook.datasets` (which returns NumPy arrays); the loaders here put the
arrays on an MXNet device. With ``as_arrays=True`` every loader returns the
NumPy arrays instead, the same in both layers.
"""
from ..datasets import (
    FASHION_MNIST_LABELS,
    fashion_mnist_arrays,
    load_time_series,
    mnist1d_arrays,
    sklearn_arrays,
    synthetic_linear,
    to_loaders,
    xor_data,
)
from .data import ArrayLoader

__all__ = [
    "FASHION_MNIST_LABELS",
    "load_fashion_mnist",
    "load_sklearn",
    "load_mnist1d",
    "load_time_series",
    "synthetic_linear",
    "xor_data",
]


def load_fashion_mnist(batch_size=256, flatten=False, data_dir=None, download=True,
                       cache_dir=None, as_arrays=False, seed=None, device=None):
    """Load Fashion-MNIST (60,000 training and 10,000 test images of clothing).

    Where the files are looked for and how they are verified:
    :func:`dlbook.datasets.fashion_mnist_arrays`.

    Parameters
    ----------
    batch_size : int, default 256
    flatten : bool, default False
        Images as vectors of 784 values instead of ``(1, 28, 28)``.
    data_dir : str or Path, optional
        A folder holding the four official ``*-ubyte.gz`` files; the only
        place looked at when given.
    download : bool, default True
        Allow a download when no local copy exists.
    cache_dir : str or Path, optional
        Download cache (default ``$DLBOOK_CACHE`` or ``~/.cache/dlbook``).
    as_arrays : bool, default False
        Return ``((X_train, y_train), (X_test, y_test))`` NumPy arrays instead of loaders.
    seed : int, optional
        Seed of the training loader's shuffling.
    device : mxnet.Context, optional
        Where the loaders keep the data.

    Returns
    -------
    (train, test)
        Two :class:`~dlbook.mxnet.data.ArrayLoader` (the training one shuffles), or
        two ``(X, y)`` tuples. Pixels are ``float32`` in [0, 1]; labels ``int32``
        in 0..9 (names in :data:`FASHION_MNIST_LABELS`).

    Raises
    ------
    FileNotFoundError
        If ``data_dir`` or ``$DLBOOK_DATA`` names a folder without the files, or
        if no source works; the message names the folder or every place tried.

    Examples
    --------
    >>> from dlbook.mxnet.datasets import load_fashion_mnist
    >>> train, test = load_fashion_mnist(batch_size=256)
    >>> len(train), len(test)  # ceil(60000 / 256), ceil(10000 / 256)
    (235, 40)
    >>> X, y = next(iter(test))
    >>> X.shape, y.shape, float(X.max()) <= 1.0
    ((256, 1, 28, 28), (256,), True)
    """
    train, test = fashion_mnist_arrays(flatten, data_dir, download, cache_dir)
    return to_loaders(ArrayLoader, train, test, batch_size, as_arrays, seed, device)


def load_sklearn(name, batch_size=32, test_fraction=0.2, scaling="standard", seed=0,
                 as_arrays=False, device=None):
    """Load one of scikit-learn's bundled tables, split and scaled.

    Parameters
    ----------
    name : {'digits', 'breast_cancer', 'iris', 'wine', 'diabetes'}
    batch_size : int, default 32
    test_fraction : float, default 0.2
        Fraction held out for testing (stratified for classification).
    scaling : {'standard', 'minmax', None}, default 'standard'
        Feature scaling, fitted on the training split only.
    seed : int, default 0
        Seed of the split and of the training loader's shuffling.
    as_arrays : bool, default False
        Return ``((X_train, y_train), (X_test, y_test))`` instead of loaders.
    device : mxnet.Context, optional

    Returns
    -------
    (train, test)
        Loaders or ``(X, y)`` tuples (:func:`dlbook.datasets.sklearn_arrays`).
        Class labels are ``int32``; regression targets ``float32`` of shape ``(n, 1)``.

    Examples
    --------
    >>> from dlbook.mxnet.datasets import load_sklearn
    >>> train, test = load_sklearn("iris", batch_size=40)
    >>> len(train), len(test)  # 120 and 30 flowers
    (3, 1)
    >>> X, y = next(iter(test))
    >>> X.shape, y.dtype
    ((30, 4), dtype('int32'))
    """
    train, test = sklearn_arrays(name, test_fraction, scaling, seed)
    return to_loaders(ArrayLoader, train, test, batch_size, as_arrays, seed, device)


def load_mnist1d(batch_size=100, seed=42, as_arrays=False, device=None):
    """Load MNIST-1D (Greydanus, 2020), generated locally: 4,000 training and 1,000 test signals.

    Parameters
    ----------
    batch_size : int, default 100
    seed : int, default 42
        Seed of the generator (42 is the reference data set of the paper) and
        of the training loader's shuffling.
    as_arrays : bool, default False
    device : mxnet.Context, optional

    Returns
    -------
    (train, test)
        Loaders or ``(X, y)`` tuples (:func:`dlbook.datasets.mnist1d_arrays`);
        ``X`` is ``float32`` of shape ``(n, 40)``.

    Examples
    --------
    >>> from dlbook.mxnet.datasets import load_mnist1d
    >>> train, test = load_mnist1d(batch_size=500)
    >>> len(train), len(test)
    (8, 2)
    >>> tuple(next(iter(train))[0].shape)
    (500, 40)
    """
    train, test = mnist1d_arrays(seed)
    return to_loaders(ArrayLoader, train, test, batch_size, as_arrays, seed, device)
