"""The data sets the book trains on, all available offline, as NumPy arrays.

Fashion-MNIST (found locally or downloaded, every file verified by SHA-256),
scikit-learn's bundled tables, MNIST-1D, real time series from statsmodels and
small synthetic problems. Everything here returns NumPy arrays; each framework
layer's ``load_fashion_mnist``, ``load_sklearn`` and ``load_mnist1d``
(:mod:`dlbook.mxnet.datasets`, :mod:`dlbook.torch.datasets`) wrap them in that
layer's ``ArrayLoader`` with :func:`to_loaders`. Scaling statistics are always
fitted on the training split only.
"""
import functools
import gzip
import hashlib
import os
from pathlib import Path

import numpy as onp

from ._checks import check_bool, check_choice, check_fraction, check_int, check_path, to_numpy
from .data import scale, train_val_split
from .download import default_cache_dir, fetch, sha256_of

__all__ = [
    "FASHION_MNIST_LABELS",
    "FASHION_MNIST_URL",
    "DEBIAN_FASHION_MNIST_DIR",
    "fashion_mnist_arrays",
    "sklearn_arrays",
    "mnist1d_arrays",
    "to_loaders",
    "load_time_series",
    "synthetic_linear",
    "xor_data",
]

#: The ten Fashion-MNIST classes, by label index 0 to 9.
FASHION_MNIST_LABELS = (
    "t-shirt", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle boot",
)
#: Where Fashion-MNIST's four gzipped IDX files are downloaded from, when not found locally.
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
#: Where Debian's ``fashion-mnist`` package puts the files (looked in before downloading).
DEBIAN_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"

# SHA-256 of the *decompressed* IDX files. The payload is the same whatever the
# source (official download, Debian's re-compressed package, a user's copy), so
# one checksum verifies them all.
_FASHION_FILES = {
    "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}


# SHA-256 of the official archives as served at FASHION_MNIST_URL (published in
# TensorFlow Datasets' checksum list); Debian re-compressed its copies, which is
# why local copies are verified by their payload instead.
_FASHION_ARCHIVES = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}


def _read_idx(path, expected_sha256=None):
    """Read a gzip-compressed IDX file into a NumPy array, checking its hash."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if expected_sha256 is not None:
        digest = hashlib.sha256(raw).hexdigest()
        if digest != expected_sha256:
            raise OSError(
                f"Checksum mismatch for {path}: SHA-256 of the decompressed data is "
                f"{digest}, expected {expected_sha256}. The file is corrupted or not the "
                "official Fashion-MNIST file; delete it and load again."
            )
    if len(raw) < 8 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise OSError(f"{path} is not an unsigned-byte IDX file (bad magic number).")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = onp.frombuffer(raw, dtype=onp.uint8, offset=4 + 4 * ndim)
    if data.size != int(onp.prod(dims)):
        raise OSError(f"{path} is truncated: header says {dims}, found {data.size} bytes.")
    return data.reshape(dims)


def _download_fashion_mnist(cache_dir):
    """Download the four official files into ``cache_dir`` (checked, atomic)."""
    folder = Path(cache_dir) / "fashion-mnist"
    for name, sha in _FASHION_FILES.items():
        # fetch() verifies the archive's SHA-256 before moving it into place and
        # re-downloads a cached copy whose hash no longer matches.
        path = fetch(FASHION_MNIST_URL + name, _FASHION_ARCHIVES[name], folder)
        _read_idx(path, sha)  # and the payload, as for every other source
    return folder


def _check_named_folder(label, folder, fix):
    """Raise unless ``folder``, which the user named, holds the four Fashion-MNIST files."""
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise FileNotFoundError(f"{label} names the folder {folder}, which {what}. {fix}")
    missing = [name for name in _FASHION_FILES if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{label} names the folder {folder}, which lacks {', '.join(missing)} "
            f"(Fashion-MNIST's four files are {', '.join(_FASHION_FILES)}). {fix}"
        )
    return folder


def _find_fashion_mnist(data_dir, download, cache_dir):
    # A folder the user named is used or refused, never passed over for another
    # source: `data_dir` must hold the files; $DLBOOK_DATA (a root that may hold
    # other data sets) must exist, and its fashion-mnist folder, if there is
    # one, must hold them.
    if data_dir is not None:
        return _check_named_folder(
            "`data_dir`", check_path("data_dir", data_dir),
            "Fix: put the four official *-ubyte.gz files there, or leave out `data_dir` "
            "to use $DLBOOK_DATA, Debian's package, the download cache or a download.")
    tried = []
    env = os.environ.get("DLBOOK_DATA")
    if env:
        env_fix = ("Fix: set $DLBOOK_DATA to a folder whose fashion-mnist subfolder holds "
                   "the four official *-ubyte.gz files, or unset it.")
        root = Path(env)
        if not root.is_dir():
            what = "is not a folder" if root.exists() else "does not exist"
            raise FileNotFoundError(f"$DLBOOK_DATA names the folder {root}, which {what}. "
                                    + env_fix)
        if (root / "fashion-mnist").exists():
            return _check_named_folder("$DLBOOK_DATA", root / "fashion-mnist", env_fix)
        tried.append(f"$DLBOOK_DATA ({root / 'fashion-mnist'})")
    debian = Path(DEBIAN_FASHION_MNIST_DIR)
    if all((debian / name).is_file() for name in _FASHION_FILES):
        return debian
    tried.append(f"Debian's dataset-fashion-mnist ({debian})")
    cached = Path(cache_dir) / "fashion-mnist"
    damaged = [name for name, sha in _FASHION_ARCHIVES.items()
               if (cached / name).is_file() and sha256_of(cached / name) != sha]
    if all((cached / name).is_file() for name in _FASHION_FILES) and not damaged:
        return cached  # a valid cached download: no network access
    tried.append(f"the download cache ({cached})"
                 + (f", where {', '.join(damaged)} failed the SHA-256 check" if damaged else ""))
    if download:
        try:
            return _download_fashion_mnist(cache_dir)
        except OSError as err:  # DownloadError, or a damaged payload
            tried.append(f"a download from {FASHION_MNIST_URL} ({type(err).__name__}: {err})")
    else:
        tried.append("a download (disabled: download=False)")
    raise FileNotFoundError(
        "Fashion-MNIST was not found. Tried: " + "; ".join(tried) + ". Fix: pass "
        "`data_dir` with the four *-ubyte.gz files, install Debian's package "
        "(`apt install dataset-fashion-mnist`), or allow the download."
    )


@functools.lru_cache(maxsize=4)
def _fashion_arrays(folder):
    folder = Path(folder)
    parts = {name: _read_idx(folder / name, sha) for name, sha in _FASHION_FILES.items()}
    return (
        parts["train-images-idx3-ubyte.gz"], parts["train-labels-idx1-ubyte.gz"],
        parts["t10k-images-idx3-ubyte.gz"], parts["t10k-labels-idx1-ubyte.gz"],
    )


def fashion_mnist_arrays(flatten=False, data_dir=None, download=True, cache_dir=None):
    """Fashion-MNIST as NumPy arrays: 60,000 training and 10,000 test images of clothing.

    Given ``data_dir``, the files are read from that folder and nowhere else.
    Otherwise they are looked for in this order: ``$DLBOOK_DATA/fashion-mnist``;
    Debian's package ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``);
    the download cache; finally they are downloaded from the official address.
    A folder you name is never passed over: a ``data_dir`` that does not hold the
    four files, a ``$DLBOOK_DATA`` that does not exist, or a
    ``$DLBOOK_DATA/fashion-mnist`` folder that lacks a file raises an error
    naming the folder and the missing files (a ``$DLBOOK_DATA`` without a
    ``fashion-mnist`` folder is passed over, as it may hold other data sets).
    Every file is verified by the SHA-256 of its content. Each layer's
    ``load_fashion_mnist`` calls this and wraps the arrays in loaders.

    Parameters
    ----------
    flatten : bool, default False
        Images as vectors of 784 values instead of ``(1, 28, 28)``.
    data_dir : str or Path, optional
        A folder holding the four official ``*-ubyte.gz`` files; the only
        place looked at when given.
    download : bool, default True
        Allow a download when no local copy exists.
    cache_dir : str or Path, optional
        Download cache (default ``$DLBOOK_CACHE`` or ``~/.cache/dlbook``).

    Returns
    -------
    ((X_train, y_train), (X_test, y_test))
        Pixels are ``float32`` in [0, 1], shape ``(n, 1, 28, 28)`` (NCHW) or
        ``(n, 784)``; labels ``int32`` in 0..9 (names in :data:`FASHION_MNIST_LABELS`).

    Raises
    ------
    FileNotFoundError
        If ``data_dir`` or ``$DLBOOK_DATA`` names a folder without the files
        (the message names the folder and the missing files), or if no source
        works (the message lists every place tried).

    Examples
    --------
    >>> from dlbook.datasets import FASHION_MNIST_LABELS, fashion_mnist_arrays
    >>> (X_tr, y_tr), (X_te, y_te) = fashion_mnist_arrays()
    >>> X_tr.shape, X_te.shape, y_tr.dtype
    ((60000, 1, 28, 28), (10000, 1, 28, 28), dtype('int32'))
    >>> FASHION_MNIST_LABELS[y_tr[0]]
    'ankle boot'
    """
    check_bool("flatten", flatten)
    check_bool("download", download)
    cache_dir = default_cache_dir() if cache_dir is None else check_path("cache_dir", cache_dir)
    folder = _find_fashion_mnist(data_dir, download, cache_dir)
    X_tr, y_tr, X_te, y_te = _fashion_arrays(str(folder))
    shape = (-1, 784) if flatten else (-1, 1, 28, 28)
    train = (X_tr.reshape(shape).astype("float32") / 255.0, y_tr.astype("int32"))
    test = (X_te.reshape(shape).astype("float32") / 255.0, y_te.astype("int32"))
    return train, test


def to_loaders(loader, train, test, batch_size, as_arrays=False, seed=None, device=None):
    """Wrap ``(X, y)`` training and test arrays in a layer's loader class.

    What each layer's ``load_*`` functions end with: the training loader
    shuffles (seeded by ``seed``), the test loader keeps the order and uses at
    most as many examples per batch as the test set has.

    Parameters
    ----------
    loader : type
        A subclass of :class:`dlbook.data.BaseArrayLoader` (a layer's ``ArrayLoader``).
    train, test : tuple of numpy.ndarray
        ``(X, y)`` pairs.
    batch_size : int
    as_arrays : bool, default False
        Return ``(train, test)`` unchanged instead of loaders.
    seed : int, optional
        Seed of the training loader's shuffling.
    device : optional
        The layer's device.

    Returns
    -------
    (train, test)
        Two loaders, or the two tuples when ``as_arrays`` is true.

    Examples
    --------
    >>> from dlbook.data import BaseArrayLoader
    >>> from dlbook.datasets import to_loaders, xor_data
    >>> train, test = to_loaders(BaseArrayLoader, xor_data(), xor_data(), batch_size=3, seed=0)
    >>> len(train), train.shuffle, test.shuffle
    (2, True, False)
    """
    if check_bool("as_arrays", as_arrays):
        return train, test
    batch_size = check_int("batch_size", batch_size, minimum=1)
    return (
        loader(*train, batch_size=batch_size, shuffle=True, seed=seed, device=device),
        loader(*test, batch_size=min(batch_size, len(test[0])), shuffle=False, device=device),
    )


_SKLEARN = {
    "digits": ("load_digits", "classification"),
    "breast_cancer": ("load_breast_cancer", "classification"),
    "iris": ("load_iris", "classification"),
    "wine": ("load_wine", "classification"),
    "diabetes": ("load_diabetes", "regression"),
}


def sklearn_arrays(name, test_fraction=0.2, scaling="standard", seed=0):
    """One of scikit-learn's bundled tables as NumPy arrays, split and scaled.

    Parameters
    ----------
    name : {'digits', 'breast_cancer', 'iris', 'wine', 'diabetes'}
    test_fraction : float, default 0.2
        Fraction held out for testing (stratified for classification).
    scaling : {'standard', 'minmax', None}, default 'standard'
        Feature scaling, fitted on the training split only.
    seed : int, default 0
        Seed of the split.

    Returns
    -------
    ((X_train, y_train), (X_test, y_test))
        ``float32`` features; class labels ``int32``, regression targets
        ``float32`` of shape ``(n, 1)``.

    Examples
    --------
    >>> from dlbook.datasets import sklearn_arrays
    >>> (X_tr, y_tr), (X_te, y_te) = sklearn_arrays("digits")
    >>> X_tr.shape, X_te.shape  # 1797 digits, 8x8 pixels
    ((1438, 64), (359, 64))
    >>> round(float(X_tr.mean()), 6), sorted(set(y_tr.tolist())) == list(range(10))
    (0.0, True)
    """
    import sklearn.datasets

    check_choice("name", name, set(_SKLEARN))
    if scaling is not None:
        check_choice("scaling", scaling, {"standard", "minmax"})
    loader_name, task = _SKLEARN[name]
    X, y = getattr(sklearn.datasets, loader_name)(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_val_split(
        X, y, val_fraction=test_fraction, seed=seed, stratify=task == "classification"
    )
    if scaling is not None:
        X_tr, X_te, _ = scale(X_tr, X_te, method=scaling)
    if task == "classification":
        y_tr, y_te = y_tr.astype("int32"), y_te.astype("int32")
    else:
        y_tr, y_te = y_tr.astype("float32").reshape(-1, 1), y_te.astype("float32").reshape(-1, 1)
    return (X_tr.astype("float32"), y_tr), (X_te.astype("float32"), y_te)


@functools.lru_cache(maxsize=2)
def _mnist1d(seed):
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.seed = seed
    # make_dataset generates the data locally; mnist1d's get_dataset would
    # download and unpickle a file instead.
    return make_dataset(args)


def mnist1d_arrays(seed=42):
    """MNIST-1D (Greydanus, 2020), generated locally: 4,000 training and 1,000 test signals.

    Each example is a 1-D signal of 40 values made from one of ten digit
    templates with shifts, scaling, noise and correlated noise added.

    Parameters
    ----------
    seed : int, default 42
        Seed of the generator (42 is the reference data set of the paper).

    Returns
    -------
    ((X_train, y_train), (X_test, y_test))
        ``X`` is ``float32`` of shape ``(n, 40)``; labels ``int32`` in 0..9.

    Examples
    --------
    >>> from dlbook.datasets import mnist1d_arrays
    >>> (X_tr, y_tr), (X_te, y_te) = mnist1d_arrays()
    >>> X_tr.shape, X_te.shape, int(y_tr.max())
    ((4000, 40), (1000, 40), 9)
    """
    seed = check_int("seed", seed, minimum=0)
    d = _mnist1d(seed)
    train = (d["x"].astype("float32"), d["y"].astype("int32"))
    test = (d["x_test"].astype("float32"), d["y_test"].astype("int32"))
    return train, test


def load_time_series(name="sunspots"):
    """Load a real time series bundled with statsmodels.

    Parameters
    ----------
    name : {'sunspots', 'nile', 'co2', 'elnino'}
        ``sunspots``: yearly sunspot numbers 1700–2008 (309 values);
        ``nile``: yearly Nile flow 1871–1970; ``co2``: Mauna Loa CO2 in ppm,
        monthly means 1958–2001 with the few gaps interpolated; ``elnino``:
        monthly sea surface temperature 1950–2010.

    Returns
    -------
    time, values : numpy.ndarray
        Time in (fractional) years and the ``float32`` values.

    Examples
    --------
    >>> from dlbook.datasets import load_time_series
    >>> t, v = load_time_series("sunspots")
    >>> len(v), int(t[0]), int(t[-1])
    (309, 1700, 2008)
    """
    import statsmodels.api as sm

    check_choice("name", name, {"sunspots", "nile", "co2", "elnino"})
    if name == "sunspots":
        df = sm.datasets.sunspots.load_pandas().data
        return df["YEAR"].to_numpy(float), df["SUNACTIVITY"].to_numpy("float32")
    if name == "nile":
        df = sm.datasets.nile.load_pandas().data
        return df["year"].to_numpy(float), df["volume"].to_numpy("float32")
    if name == "co2":
        s = sm.datasets.co2.load_pandas().data["co2"].resample("MS").mean().interpolate()
        t = s.index.year + (s.index.month - 1) / 12.0
        return onp.asarray(t, dtype=float), s.to_numpy("float32")
    df = sm.datasets.elnino.load_pandas().data
    values = df.drop(columns="YEAR").to_numpy("float32").ravel()
    t = onp.repeat(df["YEAR"].to_numpy(float), 12) + onp.tile(onp.arange(12) / 12.0, len(df))
    return t, values


def synthetic_linear(w, b, num_examples=1000, noise=0.01, seed=0):
    """Draw ``y = X w + b + noise`` with ``X`` standard normal.

    Parameters
    ----------
    w : array-like, shape (d,)
        True weights.
    b : float
        True bias.
    num_examples : int, default 1000
    noise : float, default 0.01
        Standard deviation of the Gaussian noise added to ``y``.
    seed : int, default 0

    Returns
    -------
    X : numpy.ndarray, shape (num_examples, d), float32
    y : numpy.ndarray, shape (num_examples, 1), float32

    Examples
    --------
    >>> from dlbook.datasets import synthetic_linear
    >>> X, y = synthetic_linear([2.0, -3.4], 4.2, num_examples=5)
    >>> X.shape, y.shape
    ((5, 2), (5, 1))
    """
    w = to_numpy("w", w, ndim=1).astype("float64")
    num_examples = check_int("num_examples", num_examples, minimum=1)
    noise = check_fraction("noise", noise, high=float("inf"))
    rng = onp.random.default_rng(check_int("seed", seed, minimum=0))
    X = rng.standard_normal((num_examples, len(w)))
    y = X @ w + float(b) + noise * rng.standard_normal(num_examples)
    return X.astype("float32"), y.reshape(-1, 1).astype("float32")


def xor_data(num_examples=4, noise=0.1, seed=0):
    """The XOR problem: label 1 when exactly one of two binary inputs is 1.

    Parameters
    ----------
    num_examples : int, default 4
        With 4, the exact truth table (``noise`` is ignored). With more, points
        are scattered around the four corners with Gaussian ``noise``.
    noise : float, default 0.1
    seed : int, default 0

    Returns
    -------
    X : numpy.ndarray, shape (num_examples, 2), float32
    y : numpy.ndarray, shape (num_examples,), int32

    Examples
    --------
    >>> from dlbook.datasets import xor_data
    >>> X, y = xor_data()
    >>> X.tolist(), y.tolist()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
    """
    num_examples = check_int("num_examples", num_examples, minimum=4)
    corners = onp.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
    labels = onp.array([0, 1, 1, 0], dtype="int32")
    if num_examples == 4:
        return corners, labels
    noise = check_fraction("noise", noise, high=float("inf"))
    rng = onp.random.default_rng(check_int("seed", seed, minimum=0))
    pick = onp.arange(num_examples) % 4
    X = corners[pick] + noise * rng.standard_normal((num_examples, 2))
    return X.astype("float32"), labels[pick]
