"""Tests of dlbook.mxnet.metrics: metrics and losses against NumPy references."""
import math

import mxnet as mx
import numpy as onp
import pytest

from dlbook.mxnet.metrics import (
    LOSSES,
    METRICS,
    Accuracy,
    MeanAbsoluteError,
    MeanSquaredError,
    get_loss,
    get_metric,
)

rng = onp.random.default_rng(0)
SCORES = rng.standard_normal((12, 4)).astype("float32")
LABELS = rng.integers(0, 4, size=12)
PRED = rng.standard_normal((12, 3)).astype("float32")
TARGET = rng.standard_normal((12, 3)).astype("float32")


def _batches(metric, y_hat, y, sizes):
    start = 0
    for size in sizes:
        metric.update(mx.np.array(y_hat[start:start + size]), mx.np.array(y[start:start + size]))
        start += size
    return metric.result()


# --------------------------------------------------------------- metrics
def test_accuracy_of_class_scores_over_uneven_batches(np_mode):
    expected = onp.mean(SCORES.argmax(axis=1) == LABELS)
    assert _batches(Accuracy(), SCORES, LABELS, [5, 5, 2]) == pytest.approx(expected)


def test_accuracy_of_binary_logits(np_mode):
    logits = onp.array([[2.0], [-1.0], [0.5], [-0.2], [3.0]], dtype="float32")
    labels = onp.array([1, 0, 0, 0, 0])
    assert _batches(Accuracy(), logits, labels, [5]) == pytest.approx(3 / 5)
    assert _batches(Accuracy(), logits[:, 0], labels, [2, 3]) == pytest.approx(3 / 5)


def test_mse_and_mae_match_numpy(np_mode):
    assert _batches(MeanSquaredError(), PRED, TARGET, [4, 8]) == pytest.approx(
        float(onp.mean((PRED - TARGET) ** 2)), rel=1e-5)
    assert _batches(MeanAbsoluteError(), PRED, TARGET, [7, 5]) == pytest.approx(
        float(onp.mean(onp.abs(PRED - TARGET))), rel=1e-5)


def test_mse_reshapes_flat_targets_like_the_outputs():
    y_hat = onp.array([[1.0], [2.0], [4.0]], dtype="float32")
    assert _batches(MeanSquaredError(), y_hat, onp.array([1.0, 0.0, 1.0]), [3]) == pytest.approx(13 / 3)


def test_metric_reset_and_empty_result():
    metric = MeanSquaredError()
    assert math.isnan(metric.result())
    metric.update(mx.np.array([[3.0]]), mx.np.array([[1.0]]))
    assert metric.result() == 4.0
    metric.reset()
    assert math.isnan(metric.result())
    metric.update(mx.np.array([[1.0]]), mx.np.array([[1.0]]))
    assert metric.result() == 0.0


def test_get_metric_by_name_and_instance():
    for name, cls in METRICS.items():
        metric = get_metric(name)
        assert type(metric) is cls and metric.name == name
    assert get_metric("accuracy") is not get_metric("accuracy")  # fresh every time
    mine = Accuracy()
    assert get_metric(mine) is mine
    assert repr(mine) == "Accuracy()"


# ----------------------------------------------------------------- losses
def _loss(name, y_hat, y):
    out = get_loss(name)(mx.np.array(y_hat), mx.np.array(y))
    assert isinstance(out, mx.np.ndarray) and out.shape == (len(y_hat),)
    return out.asnumpy()


def test_mse_loss_is_the_mean_squared_error_not_half_of_it(np_mode):
    per_example = _loss("mse", PRED, TARGET)
    onp.testing.assert_allclose(per_example, ((PRED - TARGET) ** 2).mean(axis=1), rtol=1e-5)
    assert float(per_example.mean()) == pytest.approx(float(onp.mean((PRED - TARGET) ** 2)), rel=1e-5)
    assert _loss("mse", [[3.0]], [[1.0]]).tolist() == [4.0]


def test_cross_entropy_loss_matches_log_softmax(np_mode):
    shifted = SCORES - SCORES.max(axis=1, keepdims=True)
    log_softmax = shifted - onp.log(onp.exp(shifted).sum(axis=1, keepdims=True))
    expected = -log_softmax[onp.arange(12), LABELS]
    onp.testing.assert_allclose(_loss("cross_entropy", SCORES, LABELS), expected, rtol=1e-5)


def test_binary_cross_entropy_matches_its_formula():
    logits = onp.array([[2.0], [-1.0], [0.5], [-3.0]], dtype="float32")
    labels = onp.array([[1.0], [0.0], [0.0], [1.0]], dtype="float32")
    p = 1.0 / (1.0 + onp.exp(-logits))
    expected = -(labels * onp.log(p) + (1 - labels) * onp.log(1 - p))[:, 0]
    onp.testing.assert_allclose(_loss("binary_cross_entropy", logits, labels), expected, rtol=1e-5)


def test_mae_and_huber_losses_match_their_formulas(np_mode):
    onp.testing.assert_allclose(_loss("mae", PRED, TARGET), onp.abs(PRED - TARGET).mean(axis=1),
                                rtol=1e-5)
    d = onp.abs(PRED - TARGET)
    huber = onp.where(d > 1.0, d - 0.5, 0.5 * d ** 2).mean(axis=1)
    onp.testing.assert_allclose(_loss("huber", PRED, TARGET), huber, rtol=1e-5)


def test_losses_give_the_same_values_when_hybridized(np_mode):
    for name in LOSSES:
        loss = get_loss(name)
        y_hat = mx.np.array(PRED)
        y = mx.np.array(onp.abs(TARGET) > 0.5, dtype="float32") if "entropy" in name else mx.np.array(TARGET)
        if name == "cross_entropy":
            y = mx.np.array(LABELS % 3)
        eager = loss(y_hat, y).asnumpy()
        loss.hybridize()
        onp.testing.assert_allclose(loss(y_hat, y).asnumpy(), eager, rtol=1e-6)


def test_get_loss_passes_callables_through():
    def my_loss(y_hat, y):
        return (y_hat - y) ** 4

    assert get_loss(my_loss) is my_loss


# ------------------------------------------------------------- bad input
BAD_INPUTS = [
    (lambda: get_metric("f1"), ValueError, r"Unknown `metrics` 'f1'. Expected one of: 'accuracy', 'mae', 'mse'"),
    (lambda: get_metric(None), ValueError, r"Unknown `metrics` None"),
    (lambda: get_loss("cross-entropy"), ValueError, r"Unknown `loss` 'cross-entropy'. Expected one of: 'binary_cross_entropy'"),
    (lambda: get_loss(5), TypeError, r"`loss` as a name or a callable, got 5 \(int\)"),
]


@pytest.mark.parametrize("call, error, pattern", BAD_INPUTS)
def test_bad_input_raises_a_clear_error(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()
