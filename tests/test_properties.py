"""Property-based tests (Hypothesis) of the numeric helpers against plain references: splits,
scaling and one-hot (dlbook.data), each layer's ArrayLoader, and the MXNet metrics."""
import math

import mxnet as mx
import numpy as onp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dlbook.data import one_hot, scale, train_val_split
from dlbook.mxnet.metrics import Accuracy, MeanAbsoluteError, MeanSquaredError

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
# The `dl` fixture only names a layer module (no state), so sharing it between examples is safe.
LAYER_SETTINGS = settings(SETTINGS, suppress_health_check=[HealthCheck.too_slow,
                                                           HealthCheck.function_scoped_fixture])
finite = st.floats(-1e3, 1e3, allow_nan=False, width=32)


@SETTINGS
@given(n=st.integers(2, 200), frac=st.floats(0.05, 0.95), seed=st.integers(0, 2**16))
def test_split_is_a_partition_with_the_requested_size(n, frac, seed):
    n_val = int(round(n * frac))
    X = onp.arange(n * 2).reshape(n, 2)
    y = onp.arange(n)
    if n_val < 1 or n_val >= n:
        with pytest.raises(ValueError, match="both parts need at least one example"):
            train_val_split(X, y, val_fraction=frac, seed=seed)
        return
    X_tr, X_val, y_tr, y_val = train_val_split(X, y, val_fraction=frac, seed=seed)
    assert len(y_val) == n_val and len(y_tr) == n - n_val
    assert sorted(onp.concatenate([y_tr, y_val]).tolist()) == list(range(n))  # a partition
    assert (X_tr[:, 0] == 2 * y_tr).all() and (X_val[:, 0] == 2 * y_val).all()  # rows stay paired
    again = train_val_split(X, y, val_fraction=frac, seed=seed)
    assert (again[3] == y_val).all()  # same seed, same split


@SETTINGS
@given(counts=st.lists(st.integers(4, 40), min_size=2, max_size=5), frac=st.floats(0.2, 0.5))
def test_stratified_split_keeps_each_class_proportion(counts, frac):
    y = onp.repeat(onp.arange(len(counts)), counts)
    X = onp.zeros((len(y), 1))
    _, _, y_tr, y_val = train_val_split(X, y, val_fraction=frac, seed=0, stratify=True)
    for label, count in enumerate(counts):
        assert (y_val == label).sum() == int(round(count * frac))
        assert (y_tr == label).sum() == count - int(round(count * frac))


@SETTINGS
@given(train=arrays("float64", st.tuples(st.integers(2, 30), st.integers(1, 4)), elements=finite),
       test=arrays("float64", st.tuples(st.integers(1, 10), st.just(1)), elements=finite))
def test_standard_scaling_uses_training_statistics_only(train, test):
    test = onp.repeat(test, train.shape[1], axis=1)
    X_tr, X_te, _ = scale(train, test, method="standard")
    mean, std = train.mean(axis=0), train.std(axis=0)
    safe = onp.where(std == 0, 1.0, std)  # constant features: scikit-learn divides by 1
    onp.testing.assert_allclose(X_tr, (train - mean) / safe, rtol=1e-4, atol=1e-3)
    onp.testing.assert_allclose(X_te, (test - mean) / safe, rtol=1e-4, atol=1e-3)


@SETTINGS
@given(train=arrays("float64", st.tuples(st.integers(2, 30), st.integers(1, 4)), elements=finite))
def test_minmax_scaling_maps_training_data_into_unit_interval(train):
    X_tr, _ = scale(train, method="minmax")
    assert X_tr.min() >= -1e-6 and X_tr.max() <= 1 + 1e-6
    lo, hi = train.min(axis=0), train.max(axis=0)
    varying = hi > lo
    onp.testing.assert_allclose(X_tr[:, varying],
                                (train[:, varying] - lo[varying]) / (hi - lo)[varying],
                                rtol=1e-4, atol=1e-5)


@SETTINGS
@given(labels=st.lists(st.integers(0, 9), min_size=1, max_size=50), extra=st.integers(0, 5))
def test_one_hot_matches_identity_rows(labels, extra):
    k = max(labels) + 1 + extra
    out = one_hot(labels, k)
    assert (out == onp.eye(k, dtype="float32")[labels]).all()
    assert (out.sum(axis=1) == 1).all()


@SETTINGS
@given(labels=st.lists(st.integers(1, 9), min_size=1, max_size=20))
def test_one_hot_rejects_labels_beyond_num_classes(labels):
    with pytest.raises(ValueError, match="Expected `labels` in"):
        one_hot(labels, max(labels))


def _np(array):
    return array.asnumpy() if hasattr(array, "asnumpy") else array.cpu().numpy()


@LAYER_SETTINGS
@given(n=st.integers(1, 300), b=st.integers(1, 300), drop_last=st.booleans(), seed=st.integers(0, 99))
def test_loader_batches_cover_the_data_once(dl, n, b, drop_last, seed):
    if b > n:
        with pytest.raises(ValueError, match="Expected `batch_size` <= the number of examples"):
            dl.ArrayLoader(onp.zeros((n, 1)), batch_size=b)
        return
    loader = dl.ArrayLoader(onp.arange(n, dtype="float32").reshape(n, 1), onp.arange(n),
                            batch_size=b, shuffle=True, seed=seed, drop_last=drop_last)
    pairs = [(_np(xb), _np(yb)) for xb, yb in loader]
    seen = onp.concatenate([yb for _, yb in pairs])
    assert all((xb[:, 0] == yb).all() for xb, yb in pairs)  # rows stay with their labels
    assert len(loader) == (n // b if drop_last else math.ceil(n / b))
    assert len(seen) == (n // b) * b if drop_last else len(seen) == n
    assert len(set(seen.tolist())) == len(seen)  # no example twice in an epoch


@SETTINGS
@given(scores=arrays("float32", st.tuples(st.integers(1, 40), st.integers(2, 6)),
                     elements=st.floats(-5, 5, width=32)),
       data=st.data())
def test_accuracy_matches_argmax_reference(scores, data):
    labels = onp.array(data.draw(st.lists(st.integers(0, scores.shape[1] - 1),
                                          min_size=len(scores), max_size=len(scores))))
    metric = Accuracy()
    metric.update(mx.np.array(scores), mx.np.array(labels))
    expected = (scores.argmax(axis=1) == labels).mean()
    assert metric.result() == pytest.approx(expected)


@SETTINGS
@given(pred=arrays("float32", st.tuples(st.integers(1, 30), st.integers(1, 3)), elements=finite),
       data=st.data())
def test_regression_metrics_match_numpy(pred, data):
    target = data.draw(arrays("float32", pred.shape, elements=finite))
    mse, mae = MeanSquaredError(), MeanAbsoluteError()
    for m in (mse, mae):
        m.update(mx.np.array(pred), mx.np.array(target))
    diff = pred.astype("float64") - target
    assert mse.result() == pytest.approx((diff ** 2).mean(), rel=1e-4, abs=1e-3)
    assert mae.result() == pytest.approx(onp.abs(diff).mean(), rel=1e-4, abs=1e-3)
