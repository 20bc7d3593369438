"""In-memory mini-batches, splits, scaling and label encoding, on NumPy arrays.

This is the framework-neutral half of loading data. :class:`BaseArrayLoader`
does all the bookkeeping (checks, batch count, shuffling with its own seeded
generator, ``drop_last``) on NumPy indices; a framework layer's
``ArrayLoader`` (:class:`dlbook.mxnet.data.ArrayLoader`,
:class:`dlbook.torch.data.ArrayLoader`) only says how a NumPy array becomes a
tensor on a device and how rows are gathered. Batches are cut from arrays that
already sit on the target device: a shuffled epoch gathers each batch's rows
when the batch is due, with no per-example Python work and no worker process.

The book introduces these in the chapter on linear regression (``load_array``)
and in the chapter on data (splits, scaling, one-hot labels).
"""
import math

import numpy as onp

from ._checks import (
    check_bool,
    check_choice,
    check_fraction,
    check_int,
    check_same_length,
    describe,
    to_numpy,
)

__all__ = ["BaseArrayLoader", "train_val_split", "scale", "one_hot"]


class BaseArrayLoader:
    """Iterate over ``(X, y)`` mini-batches of in-memory arrays (NumPy batches).

    A framework layer subclasses it and overrides the five small hooks
    ``_host``, ``_to_device``, ``_index``, ``_gather`` and ``_to_host`` (and
    ``_default_device``, ``int_dtype``); used directly, it yields NumPy arrays.

    Parameters
    ----------
    X : array-like, shape (n, ...)
        Features. Converted once to ``float32`` on ``device``.
    y : array-like, shape (n, ...), optional
        Targets. Integer labels stay integers (dtype :attr:`int_dtype`),
        anything else becomes ``float32``. When omitted, batches are ``X`` alone.
    batch_size : int
        Examples per batch, from 1 to ``n``.
    shuffle : bool, default False
        Draw a new order every epoch.
    seed : int, optional
        Seed of the loader's own shuffling generator. When omitted, it is drawn
        from NumPy's global generator, so a layer's ``seed_everything`` makes
        the order reproducible.
    drop_last : bool, default False
        Drop the last, smaller batch.
    device : optional
        Where the arrays live (the layer's device type; ignored here).

    Attributes
    ----------
    X, y : arrays on ``device``
        The whole data set (``y`` is None without targets).
    seed : int
        The seed of the shuffling generator.

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.data import BaseArrayLoader
    >>> loader = BaseArrayLoader(onp.arange(10).reshape(5, 2), onp.arange(5), batch_size=2)
    >>> len(loader)  # ceil(5 / 2)
    3
    >>> [xb.shape for xb, yb in loader]
    [(2, 2), (2, 2), (1, 2)]
    >>> next(iter(loader))[1]
    array([0, 1])
    """

    #: Dtype of integer targets (class labels) on the device.
    int_dtype = "int64"

    def __init__(self, X, y=None, batch_size=32, shuffle=False, seed=None,
                 drop_last=False, device=None):
        X_np = to_numpy("X", self._host(X))
        y_np = None
        if y is not None:
            y_np = to_numpy("y", self._host(y))
            check_same_length(["X", "y"], [X_np, y_np])
        n = len(X_np)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        if self.batch_size > n:
            raise ValueError(
                f"Expected `batch_size` <= the number of examples ({n}), got {batch_size}. "
                "Use a smaller batch size or more data."
            )
        if seed is None:
            seed = int(onp.random.randint(0, 2**31 - 1))
        self.seed = check_int("seed", seed, minimum=0)
        self.shuffle = check_bool("shuffle", shuffle)
        self.drop_last = check_bool("drop_last", drop_last)
        self.device = self._default_device() if device is None else self._check_device(device)
        self._rng = onp.random.default_rng(self.seed)
        self.X = self._to_device(X_np, "float32")
        self.y = None
        if y_np is not None:
            integer = onp.issubdtype(y_np.dtype, onp.integer)
            self.y = self._to_device(y_np, self.int_dtype if integer else "float32")

    @classmethod
    def from_arrays(cls, arrays, batch_size, shuffle=True, seed=None, device=None):
        """A loader over a tuple ``(X, y)`` or ``(X,)``; what each layer's ``load_array`` calls.

        Examples
        --------
        >>> import numpy as onp
        >>> from dlbook.data import BaseArrayLoader
        >>> loader = BaseArrayLoader.from_arrays((onp.ones((6, 3)),), batch_size=4, seed=0)
        >>> len(loader), loader.y is None, loader.shuffle
        (2, True, True)
        """
        if not isinstance(arrays, (tuple, list)) or len(arrays) not in (1, 2):
            raise TypeError(
                f"Expected `arrays` as a tuple (X, y) or (X,), got {describe(arrays)}.")
        y = arrays[1] if len(arrays) == 2 else None
        return cls(arrays[0], y, batch_size=batch_size, shuffle=shuffle, seed=seed,
                   device=device)

    # ------------------------------------------------------------- layer hooks
    def _default_device(self):
        """The device used when ``device`` is None."""
        return "cpu"

    def _check_device(self, device):
        """``device`` as the layer's device, refused clearly if this machine lacks it."""
        return device

    def _host(self, value):
        """``value`` in a form :func:`numpy.asarray` accepts (a layer converts its tensors)."""
        return value

    def _to_device(self, array, dtype):
        """The NumPy ``array`` as the layer's array of ``dtype`` on ``self.device``."""
        return array.astype(dtype, copy=False)

    def _index(self, order):
        """The epoch's order (a NumPy vector of indices) as the layer's index array."""
        return order

    def _gather(self, array, index):
        """Rows ``index`` (a slice of what :meth:`_index` returned) of a device ``array``."""
        return array[index]

    def _to_host(self, array):
        """A device ``array`` as a NumPy array."""
        return onp.asarray(array)

    # ------------------------------------------------------------------ public
    @property
    def num_examples(self):
        """Number of examples in the data set."""
        return int(self.X.shape[0])

    def sample_inputs(self):
        """Inputs shaped like one batch's, without drawing from the loader's random streams.

        A trainer builds its network from them before the first epoch. By default
        the first ``batch_size`` rows of :attr:`X`; a loader whose batches are not
        rows of ``X`` (e.g. :class:`dlbook.generative.DiffusionLoader`) overrides it.

        Examples
        --------
        >>> import numpy as onp
        >>> from dlbook.data import BaseArrayLoader
        >>> BaseArrayLoader(onp.ones((5, 3)), batch_size=2).sample_inputs().shape
        (2, 3)
        """
        return self.X[:self.batch_size]

    def to_numpy(self):
        """The whole data set as NumPy arrays ``(X, y)`` in the original order (``y`` may be None).

        Examples
        --------
        >>> import numpy as onp
        >>> from dlbook.data import BaseArrayLoader
        >>> X, y = BaseArrayLoader([[1, 2], [3, 4]], [1, 0], batch_size=1).to_numpy()
        >>> X.dtype, y.tolist()
        (dtype('float32'), [1, 0])
        """
        return self._to_host(self.X), None if self.y is None else self._to_host(self.y)

    def __len__(self):
        n, b = self.num_examples, self.batch_size
        return n // b if self.drop_last else math.ceil(n / b)

    def __iter__(self):
        X, y = self.X, self.y
        # A shuffled epoch gathers each batch's rows when the batch is due, rather than a
        # shuffled copy of the whole data set first: the batches are the same, and writing
        # one (n, ...) array per epoch costs 3-4 times as much as the per-batch gathers
        # (Fashion-MNIST: 128 against 31 ms per epoch in MXNet, 76 against 18 ms in
        # PyTorch, bench/experiments.md).
        order = self._index(self._rng.permutation(self.num_examples)) if self.shuffle else None
        for k in range(len(self)):
            start = k * self.batch_size
            stop = min(start + self.batch_size, self.num_examples)
            if order is None:
                rows = slice(start, stop)
                xb, yb = X[rows], None if y is None else y[rows]
            else:
                rows = order[start:stop]
                xb, yb = self._gather(X, rows), None if y is None else self._gather(y, rows)
            yield xb if y is None else (xb, yb)

    def __repr__(self):
        return (
            f"{type(self).__name__}(num_examples={self.num_examples}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, device={self.device})"
        )


def train_val_split(X, y, val_fraction=0.2, seed=0, stratify=False):
    """Split arrays into a training and a validation part.

    Parameters
    ----------
    X, y : array-like
        Features and targets with the same number of examples.
    val_fraction : float, default 0.2
        Fraction of examples that go to validation, in (0, 1).
    seed : int, default 0
        Seed of the shuffle.
    stratify : bool, default False
        Keep the class proportions of ``y`` in both parts (classification).

    Returns
    -------
    X_train, X_val, y_train, y_val : numpy.ndarray

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.data import train_val_split
    >>> X, y = onp.arange(20).reshape(10, 2), onp.arange(10)
    >>> X_tr, X_val, y_tr, y_val = train_val_split(X, y, val_fraction=0.3)
    >>> X_tr.shape, X_val.shape
    ((7, 2), (3, 2))
    >>> sorted(onp.concatenate([y_tr, y_val]).tolist()) == list(range(10))
    True
    """
    X = to_numpy("X", X)
    y = to_numpy("y", y)
    check_same_length(["X", "y"], [X, y])
    val_fraction = check_fraction("val_fraction", val_fraction, include_low=False)
    seed = check_int("seed", seed, minimum=0)
    n = len(X)
    n_val = int(round(n * val_fraction))
    if n_val < 1 or n_val >= n:
        raise ValueError(
            f"`val_fraction`={val_fraction} of {n} examples leaves {n_val} for validation "
            f"and {n - n_val} for training; both parts need at least one example."
        )
    check_bool("stratify", stratify)
    rng = onp.random.default_rng(seed)
    if stratify:
        val_idx = []
        for label in onp.unique(y):
            members = rng.permutation(onp.flatnonzero(y == label))
            val_idx.extend(members[: int(round(len(members) * val_fraction))])
        val_mask = onp.zeros(n, dtype=bool)
        val_mask[val_idx] = True
        n_val = int(val_mask.sum())
        if n_val < 1 or n_val >= n:
            # Rounding per class can differ from rounding the total (e.g. 10 classes
            # of 5 examples with val_fraction=0.1 give round(0.5) = 0 each).
            raise ValueError(
                f"A stratified split with `val_fraction`={val_fraction} leaves {n_val} of {n} "
                f"examples for validation and {n - n_val} for training; both parts need at "
                "least one example. Use a larger `val_fraction` or `stratify=False`."
            )
        train_idx = rng.permutation(onp.flatnonzero(~val_mask))
        val_idx = rng.permutation(onp.flatnonzero(val_mask))
    else:
        order = rng.permutation(n)
        val_idx, train_idx = order[:n_val], order[n_val:]
    return X[train_idx], X[val_idx], y[train_idx], y[val_idx]


def scale(X_train, *others, method="standard"):
    """Fit a scaler on the training features only, then apply it to every array.

    Fitting on training data alone keeps information from the validation and
    test sets out of training (no leakage).

    Parameters
    ----------
    X_train : array-like, shape (n, d)
        Training features; the statistics come from here.
    *others : array-like, shape (m, d)
        Further arrays (validation, test) transformed with the same statistics.
    method : {'standard', 'minmax'}
        ``'standard'``: zero mean and unit variance per feature;
        ``'minmax'``: each feature mapped to [0, 1] on the training data.

    Returns
    -------
    tuple
        The transformed arrays (``float32``), in the order given, followed by
        the fitted scikit-learn scaler.

    Examples
    --------
    >>> from dlbook.data import scale
    >>> X_tr, X_te, scaler = scale([[0.0], [10.0]], [[5.0], [20.0]], method="minmax")
    >>> X_tr.ravel().tolist(), X_te.ravel().tolist()
    ([0.0, 1.0], [0.5, 2.0])
    """
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    check_choice("method", method, {"standard", "minmax"})
    X_train = to_numpy("X_train", X_train, ndim=2)
    arrays = [to_numpy(f"others[{i}]", a, ndim=2) for i, a in enumerate(others)]
    for i, a in enumerate(arrays):
        if a.shape[1] != X_train.shape[1]:
            raise ValueError(
                f"Expected `others[{i}]` with {X_train.shape[1]} features like `X_train`, "
                f"got shape {a.shape}."
            )
    scaler = StandardScaler() if method == "standard" else MinMaxScaler()
    scaler.fit(X_train)
    out = [scaler.transform(a).astype("float32") for a in [X_train, *arrays]]
    return (*out, scaler)


def one_hot(labels, num_classes):
    """Encode integer class labels as one-hot rows (a NumPy ``float32`` array).

    Parameters
    ----------
    labels : array-like, shape (n,)
        Non-empty, one-dimensional class labels in ``[0, num_classes)``: integers,
        or floats with integer values (fractional values raise ValueError).
    num_classes : int
        Number of columns, at least 1; a label outside ``[0, num_classes)`` raises
        ValueError.

    Returns
    -------
    numpy.ndarray, shape (n, num_classes)
        ``float32`` rows with a 1 in each label's column and 0 elsewhere.

    Examples
    --------
    >>> from dlbook.data import one_hot
    >>> one_hot([0, 2], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
    """
    labels = to_numpy("labels", labels, ndim=1)
    num_classes = check_int("num_classes", num_classes, minimum=1)
    if not onp.issubdtype(labels.dtype, onp.integer):
        if not onp.all(labels == onp.round(labels)):
            raise ValueError("Expected integer class labels in `labels`, got fractional values.")
        labels = labels.astype("int64")
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= num_classes:
        raise ValueError(
            f"Expected `labels` in [0, {num_classes - 1}] for num_classes={num_classes}, "
            f"got values from {low} to {high}."
        )
    out = onp.zeros((len(labels), num_classes), dtype="float32")
    out[onp.arange(len(labels)), labels] = 1.0
    return out
