"""Tests of dlbook.data (splits, scaling, one-hot, the neutral loader) and of each layer's
ArrayLoader / load_array (dlbook.mxnet.data, dlbook.torch.data)."""
import math

import mxnet as mx
import numpy as onp
import pytest
import torch

import dlbook.mxnet
import dlbook.torch
from dlbook.data import BaseArrayLoader, one_hot, scale, train_val_split

#: The dtype integer labels have on each layer's device.
LABEL_DTYPE = {"mxnet": "int32", "torch": "int64"}


def _np(array):
    """A layer's array (or a NumPy one) as NumPy."""
    if hasattr(array, "asnumpy"):
        return array.asnumpy()
    if isinstance(array, torch.Tensor):
        return array.cpu().numpy()
    return onp.asarray(array)


def _epoch_labels(loader):
    return onp.concatenate([_np(yb) for _, yb in loader])


def _indexed(n, d=3):
    """Features whose first column is the example's index, labels equal to the index."""
    X = onp.zeros((n, d), dtype="float32")
    X[:, 0] = onp.arange(n)
    return X, onp.arange(n)


def _tensor_type(dl):
    return mx.np.ndarray if dl.FRAMEWORK == "mxnet" else torch.Tensor


# ----------------------------------------------------------------- ArrayLoader
@pytest.mark.parametrize("n, b", [(10, 3), (10, 5), (7, 7), (1, 1), (9, 2)])
def test_loader_length_and_batch_shapes(dl, n, b):
    X = onp.ones((n, 2, 3), dtype="float64")
    loader = dl.ArrayLoader(X, onp.zeros(n, dtype="int64"), batch_size=b)
    batches = list(loader)
    assert len(loader) == len(batches) == math.ceil(n / b)
    sizes = [xb.shape[0] for xb, _ in batches]
    assert sizes == [b] * (n // b) + ([n % b] if n % b else [])
    assert all(tuple(xb.shape[1:]) == (2, 3) for xb, _ in batches)
    assert all(isinstance(xb, _tensor_type(dl)) for xb, _ in batches)


def test_mxnet_loader_works_with_and_without_numpy_mode(np_mode):
    loader = dlbook.mxnet.data.ArrayLoader(onp.ones((5, 2)), onp.arange(5), batch_size=2,
                                           shuffle=True, seed=0)
    assert [tuple(xb.shape) for xb, _ in loader] == [(2, 2), (2, 2), (1, 2)]
    assert all(isinstance(xb, mx.np.ndarray) for xb, _ in loader)


def test_loader_drop_last_drops_only_the_short_batch(dl):
    X, y = _indexed(10)
    loader = dl.ArrayLoader(X, y, batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [tuple(xb.shape) for xb, _ in loader] == [(4, 3), (4, 3)]
    assert _epoch_labels(loader).tolist() == list(range(8))


def test_loader_dtypes_follow_the_targets(dl):
    X = onp.arange(12).reshape(6, 2)  # integers: features still become float32
    int_loader = dl.ArrayLoader(X, onp.arange(6), batch_size=6)
    float_loader = dl.ArrayLoader(X, onp.linspace(0, 1, 6), batch_size=6)
    xb, yb = next(iter(int_loader))
    assert _np(xb).dtype == onp.float32 and _np(yb).dtype == LABEL_DTYPE[dl.FRAMEWORK]
    assert _np(next(iter(float_loader))[1]).dtype == onp.float32
    onp.testing.assert_array_equal(_np(xb), X.astype("float32"))


def test_loader_without_targets_yields_features_only(dl):
    X = onp.arange(10, dtype="float32").reshape(5, 2)
    batches = list(dl.ArrayLoader(X, batch_size=2))
    assert [tuple(b.shape) for b in batches] == [(2, 2), (2, 2), (1, 2)]
    onp.testing.assert_array_equal(onp.concatenate([_np(b) for b in batches]), X)


def test_loader_accepts_mxnet_arrays_and_lists():
    X = mx.nd.array([[1, 2], [3, 4], [5, 6]])
    loader = dlbook.mxnet.data.ArrayLoader(X, [0, 1, 2], batch_size=3)
    xb, yb = next(iter(loader))
    assert xb.asnumpy().tolist() == [[1, 2], [3, 4], [5, 6]]
    assert yb.asnumpy().tolist() == [0, 1, 2]
    assert loader.num_examples == 3


def test_loader_accepts_tensors_that_require_grad_and_lists():
    X = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    loader = dlbook.torch.data.ArrayLoader(X, [0, 1, 2], batch_size=3)
    xb, yb = next(iter(loader))
    assert xb.tolist() == [[1, 2], [3, 4], [5, 6]] and not xb.requires_grad
    assert yb.tolist() == [0, 1, 2] and yb.dtype == torch.int64
    assert loader.num_examples == 3


def test_torch_loader_copies_the_data_once_onto_the_device():
    X = onp.zeros((4, 2), dtype="float32")
    loader = dlbook.torch.data.ArrayLoader(X, onp.arange(4), batch_size=2, device="cpu")
    X[:] = 7.0  # the caller's array changes; the loader keeps its copy
    assert loader.device == torch.device("cpu") and loader.X.device == torch.device("cpu")
    assert float(next(iter(loader))[0].abs().sum()) == 0.0
    assert loader.X.dtype == torch.float32 and loader.y.dtype == torch.int64


def test_loader_without_shuffle_keeps_the_order(dl):
    X, y = _indexed(11)
    loader = dl.ArrayLoader(X, y, batch_size=4)
    assert _epoch_labels(loader).tolist() == list(range(11))
    assert _epoch_labels(loader).tolist() == list(range(11))


def test_shuffle_is_a_permutation_that_keeps_pairs(dl):
    X, y = _indexed(50)
    loader = dl.ArrayLoader(X, y, batch_size=8, shuffle=True, seed=3)
    xs, ys = zip(*[(_np(xb), _np(yb)) for xb, yb in loader])
    xs, ys = onp.concatenate(xs), onp.concatenate(ys)
    assert sorted(ys.tolist()) == list(range(50))
    assert ys.tolist() != list(range(50))
    onp.testing.assert_array_equal(xs[:, 0], ys)  # each row still with its label


def test_shuffled_batches_follow_the_seeded_permutation_batch_by_batch(dl):
    # Each batch is gathered when it is due; the epoch is still the permutation drawn from
    # the loader's generator, cut into batches in order (so old checkpoints resume alike).
    X, y = _indexed(23)
    for targets in (y, None):
        loader = dl.ArrayLoader(X, targets, batch_size=5, shuffle=True, seed=4)
        rng = onp.random.default_rng(4)
        for _ in range(2):
            order = rng.permutation(23)
            batches = [_np(b if targets is None else b[0]) for b in loader]
            assert [len(b) for b in batches] == [5, 5, 5, 5, 3]
            onp.testing.assert_array_equal(onp.concatenate(batches)[:, 0], order)


def test_shuffle_differs_between_epochs_and_is_reproducible(dl):
    X, y = _indexed(40)
    first = dl.ArrayLoader(X, y, batch_size=8, shuffle=True, seed=7)
    again = dl.ArrayLoader(X, y, batch_size=8, shuffle=True, seed=7)
    other = dl.ArrayLoader(X, y, batch_size=8, shuffle=True, seed=8)
    epochs = [_epoch_labels(first).tolist() for _ in range(3)]
    assert epochs[0] != epochs[1] and epochs[1] != epochs[2]
    assert [_epoch_labels(again).tolist() for _ in range(3)] == epochs
    assert _epoch_labels(other).tolist() != epochs[0]


def test_both_layers_shuffle_in_the_same_order():
    X, y = _indexed(30)
    orders = [_epoch_labels(layer.ArrayLoader(X, y, batch_size=4, shuffle=True, seed=11))
              for layer in (dlbook.mxnet, dlbook.torch)]
    assert orders[0].tolist() == orders[1].tolist() != list(range(30))


def test_shuffle_without_seed_follows_seed_everything(dl):
    X, y = _indexed(30)
    dl.seed_everything(5)
    a = _epoch_labels(dl.ArrayLoader(X, y, batch_size=5, shuffle=True))
    dl.seed_everything(5)
    b = _epoch_labels(dl.ArrayLoader(X, y, batch_size=5, shuffle=True))
    dl.seed_everything(6)
    c = _epoch_labels(dl.ArrayLoader(X, y, batch_size=5, shuffle=True))
    assert a.tolist() == b.tolist()
    assert a.tolist() != c.tolist()


def test_loader_repr_names_its_settings(dl):
    loader = dl.ArrayLoader(onp.ones((5, 2)), batch_size=2, shuffle=True, seed=0)
    device = {"mxnet": "cpu(0)", "torch": "cpu"}[dl.FRAMEWORK]
    assert repr(loader) == (f"ArrayLoader(num_examples=5, batch_size=2, shuffle=True, "
                            f"device={device})")


def test_loader_gives_its_data_back_as_numpy(dl):
    X, y = _indexed(7)
    loader = dl.ArrayLoader(X, y, batch_size=3, shuffle=True, seed=0)
    list(loader)  # an epoch does not reorder the stored data
    X_back, y_back = loader.to_numpy()
    onp.testing.assert_array_equal(X_back, X)
    assert y_back.tolist() == list(range(7))
    assert dl.ArrayLoader(X, batch_size=3).to_numpy()[1] is None


def test_load_array_wraps_tuples(dl):
    X, y = _indexed(6)
    loader = dl.load_array((X, y), batch_size=4, shuffle=False)
    assert isinstance(loader, dl.ArrayLoader) and len(loader) == 2
    assert _epoch_labels(loader).tolist() == list(range(6))
    only_x = dl.load_array((X,), batch_size=4, shuffle=True, seed=1)
    assert only_x.y is None and only_x.shuffle
    assert sorted(onp.concatenate([_np(b)[:, 0] for b in only_x]).tolist()) == list(range(6))


def test_the_neutral_loader_yields_numpy_batches():
    X, y = _indexed(5)
    loader = BaseArrayLoader(X, y, batch_size=2, shuffle=True, seed=3)
    batches = list(loader)
    assert all(isinstance(xb, onp.ndarray) for xb, _ in batches)
    assert sorted(onp.concatenate([yb for _, yb in batches]).tolist()) == list(range(5))
    assert repr(loader) == "BaseArrayLoader(num_examples=5, batch_size=2, shuffle=True, device=cpu)"


def test_layers_reexport_the_neutral_helpers(dl):
    assert dl.train_val_split is dl.data.train_val_split is train_val_split
    assert dl.scale is scale and dl.one_hot is one_hot
    assert issubclass(dl.ArrayLoader, BaseArrayLoader)


# ------------------------------------------------------------- train_val_split
def test_split_sizes_disjoint_and_complete():
    X, y = _indexed(20)
    X_tr, X_val, y_tr, y_val = train_val_split(X, y, val_fraction=0.25, seed=1)
    assert (len(X_tr), len(X_val)) == (15, 5)
    assert set(y_tr.tolist()).isdisjoint(y_val.tolist())
    assert sorted(y_tr.tolist() + y_val.tolist()) == list(range(20))
    onp.testing.assert_array_equal(X_tr[:, 0], y_tr)
    onp.testing.assert_array_equal(X_val[:, 0], y_val)


def test_split_is_reproducible_and_depends_on_the_seed():
    X, y = _indexed(30)
    a = train_val_split(X, y, seed=4)[3]
    b = train_val_split(X, y, seed=4)[3]
    c = train_val_split(X, y, seed=5)[3]
    assert a.tolist() == b.tolist()
    assert sorted(a.tolist()) != sorted(c.tolist())


def test_stratified_split_keeps_class_proportions():
    y = onp.repeat([0, 1, 2], [50, 30, 20])
    X = onp.arange(100, dtype="float32").reshape(100, 1)
    X_tr, X_val, y_tr, y_val = train_val_split(X, y, val_fraction=0.2, seed=0, stratify=True)
    assert onp.bincount(y_val).tolist() == [10, 6, 4]
    assert onp.bincount(y_tr).tolist() == [40, 24, 16]
    onp.testing.assert_array_equal(y[X_tr[:, 0].astype(int)], y_tr)  # pairs kept


def test_plain_split_drifts_as_a_random_subset_and_the_stratified_one_does_not():
    """Over 400 seeds: the stratified split gives every class its share, every time; the plain
    split's class counts in the validation set vary as in a uniformly random subset of 20
    of the 100 examples (hypergeometric: mean 20 K/100, standard deviation about 2, 1.8, 1.6)."""
    y = onp.repeat([0, 1, 2], [50, 30, 20])
    X = onp.zeros((100, 1))
    seeds = range(400)
    stratified = onp.array([onp.bincount(train_val_split(X, y, seed=s, stratify=True)[3],
                                         minlength=3) for s in seeds])
    assert (stratified == [10, 6, 4]).all()
    plain = onp.array([onp.bincount(train_val_split(X, y, seed=s)[3], minlength=3)
                       for s in seeds])
    assert (plain.sum(axis=1) == 20).all()
    N, n, K = 100, 20, onp.array([50, 30, 20])
    mean = n * K / N
    std = onp.sqrt(mean * (1 - K / N) * (N - n) / (N - 1))
    assert (onp.abs(plain.mean(axis=0) - mean) < 4 * std / onp.sqrt(len(seeds))).all()  # unbiased
    onp.testing.assert_allclose(plain.std(axis=0), std, rtol=0.15)  # 0.15: ~4 standard errors
    assert (onp.abs(plain - mean).max(axis=0) >= 2 * std).all()  # the worst drifts: 2 sd or more


# ----------------------------------------------------------------------- scale
def test_standard_scaling_is_fitted_on_training_data_only():
    rng = onp.random.default_rng(0)
    X_tr = rng.normal(loc=5.0, scale=2.0, size=(200, 3))
    X_te = rng.normal(loc=9.0, scale=2.0, size=(100, 3))  # a shifted distribution
    S_tr, S_te, scaler = scale(X_tr, X_te)
    onp.testing.assert_allclose(S_tr.mean(axis=0), 0.0, atol=1e-5)
    onp.testing.assert_allclose(S_tr.std(axis=0), 1.0, atol=1e-5)
    assert onp.all(S_te.mean(axis=0) > 1.0)  # not re-centred on the test set
    reference = (X_te - X_tr.mean(axis=0)) / X_tr.std(axis=0)
    onp.testing.assert_allclose(S_te, reference, rtol=1e-5, atol=1e-5)
    onp.testing.assert_allclose(scaler.mean_, X_tr.mean(axis=0))
    assert S_tr.dtype == S_te.dtype == onp.float32


def test_minmax_scaling_uses_the_training_range():
    X_tr = onp.array([[0.0, -1.0], [10.0, 1.0], [5.0, 0.0]])
    X_val = onp.array([[20.0, 3.0]])
    X_te = onp.array([[-10.0, -1.0]])
    S_tr, S_val, S_te, _ = scale(X_tr, X_val, X_te, method="minmax")
    assert S_tr.min() == 0.0 and S_tr.max() == 1.0
    assert S_val.tolist() == [[2.0, 2.0]]
    assert S_te.tolist() == [[-1.0, 0.0]]


# --------------------------------------------------------------------- one_hot
@pytest.mark.parametrize("labels, k", [([0, 2, 1, 2], 3), ([4], 5), (onp.arange(10) % 4, 7)])
def test_one_hot_matches_a_reference(labels, k):
    labels = onp.asarray(labels)
    expected = onp.zeros((len(labels), k), dtype="float32")
    for row, label in enumerate(labels):
        expected[row, label] = 1.0
    out = one_hot(labels, k)
    assert out.dtype == onp.float32
    onp.testing.assert_array_equal(out, expected)
    onp.testing.assert_array_equal(out.argmax(axis=1), labels)


def test_one_hot_accepts_whole_floats_and_framework_arrays():
    onp.testing.assert_array_equal(one_hot([1.0, 0.0], 2), [[0, 1], [1, 0]])
    onp.testing.assert_array_equal(one_hot(mx.np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    onp.testing.assert_array_equal(one_hot(torch.tensor([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])


# ------------------------------------------------------------------ bad input
_X = onp.ones((6, 2), dtype="float32")
_Y = onp.arange(6)
_NAN = onp.array([[1.0, onp.nan], [0.0, 1.0]])

LOADER_BAD_INPUTS = [
    # (call on a layer, error type, message pattern): the same in both layers
    (lambda dl: dl.ArrayLoader(_X, _Y, batch_size=0), ValueError, r"`batch_size` >= 1, got 0"),
    (lambda dl: dl.ArrayLoader(_X, _Y, batch_size=7), ValueError, r"`batch_size` <= the number of examples \(6\), got 7"),
    (lambda dl: dl.ArrayLoader(_X, _Y, batch_size=2.5), TypeError, r"`batch_size` to be an integer"),
    (lambda dl: dl.ArrayLoader(_X, _Y, batch_size=True), TypeError, r"`batch_size` to be an integer"),
    (lambda dl: dl.ArrayLoader(_X, _Y[:5], batch_size=2), ValueError, r"`X` has 6, `y` has 5"),
    (lambda dl: dl.ArrayLoader(_NAN, batch_size=1), ValueError, r"`X` contains 1 NaN or infinite"),
    (lambda dl: dl.ArrayLoader(_X, [0, 1, 2, 3, 4, onp.inf], batch_size=1), ValueError, r"`y` contains 1 NaN"),
    (lambda dl: dl.ArrayLoader(onp.zeros((0, 2)), batch_size=1), ValueError, r"non-empty `X`, got shape \(0, 2\)"),
    (lambda dl: dl.ArrayLoader([["a", "b"]], batch_size=1), TypeError, r"`X` to hold numbers"),
    (lambda dl: dl.ArrayLoader(_X, batch_size=2, seed=-1), ValueError, r"`seed` >= 0"),
    (lambda dl: dl.load_array(_X, batch_size=2), TypeError, r"`arrays` as a tuple"),
    (lambda dl: dl.load_array((_X, _Y, _Y), batch_size=2), TypeError, r"`arrays` as a tuple"),
]


@pytest.mark.parametrize("call, error, pattern", LOADER_BAD_INPUTS)
def test_loader_bad_input_raises_a_clear_error(dl, call, error, pattern):
    with pytest.raises(error, match=pattern):
        call(dl)


BAD_INPUTS = [
    # (call, error type, message pattern)
    (lambda: train_val_split(_X, _Y, val_fraction=0.0), ValueError, r"`val_fraction` in \(0.0, 1.0\)"),
    (lambda: train_val_split(_X, _Y, val_fraction=1.0), ValueError, r"`val_fraction` in \(0.0, 1.0\)"),
    (lambda: train_val_split(_X, _Y, val_fraction="half"), TypeError, r"`val_fraction` to be a number"),
    (lambda: train_val_split(_X, _Y, val_fraction=0.01), ValueError, r"leaves 0 for validation"),
    (lambda: train_val_split(_X, _Y[:4]), ValueError, r"`X` has 6, `y` has 4"),
    (lambda: train_val_split(_NAN, [0, 1]), ValueError, r"`X` contains 1 NaN"),
    # 10 classes of 5: each class rounds 5 * 0.1 = 0.5 down to 0 validation examples.
    (lambda: train_val_split(onp.zeros((50, 1)), onp.repeat(onp.arange(10), 5),
                             val_fraction=0.1, stratify=True),
     ValueError, r"stratified split .* leaves 0 of 50 examples for validation"),
    (lambda: scale(onp.arange(5.0)), ValueError, r"`X_train` with 2 dimensions, got shape \(5,\)"),
    (lambda: scale(_X, onp.ones((3, 5))), ValueError, r"`others\[0\]` with 2 features"),
    (lambda: scale(_X, method="robust"), ValueError, r"Unknown `method` 'robust'"),
    (lambda: scale(_NAN), ValueError, r"`X_train` contains 1 NaN"),
    (lambda: one_hot([0, 3], 3), ValueError, r"`labels` in \[0, 2\] for num_classes=3, got values from 0 to 3"),
    (lambda: one_hot([-1, 0], 3), ValueError, r"`labels` in \[0, 2\]"),
    (lambda: one_hot([0.5, 1.0], 3), ValueError, r"integer class labels in `labels`"),
    (lambda: one_hot([[0, 1]], 3), ValueError, r"`labels` with 1 dimensions"),
    (lambda: one_hot([], 3), ValueError, r"non-empty `labels`"),
    (lambda: one_hot([0], 0), ValueError, r"`num_classes` >= 1"),
]


@pytest.mark.parametrize("call, error, pattern", BAD_INPUTS)
def test_bad_input_raises_a_clear_error(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()
