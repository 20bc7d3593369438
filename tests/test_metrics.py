"""Metrics and losses of both layers against NumPy references, and the core's NumPy metrics."""
import math

import mxnet as mx
import numpy as onp
import pytest
import torch

from dlbook import metrics as core
from dlbook.mxnet.metrics import get_loss as mx_get_loss

rng = onp.random.default_rng(0)
SCORES = rng.standard_normal((12, 4)).astype("float32")
LABELS = rng.integers(0, 4, size=12)
PRED = rng.standard_normal((12, 3)).astype("float32")
TARGET = rng.standard_normal((12, 3)).astype("float32")


def _tensor(dl, array):
    array = onp.asarray(array)
    if dl.FRAMEWORK == "mxnet":
        return mx.np.array(array, dtype=array.dtype)
    return torch.as_tensor(array)


def _numpy(value):
    return value.asnumpy() if hasattr(value, "asnumpy") else value.detach().numpy()


def _batches(dl, metric, y_hat, y, sizes):
    start = 0
    for size in sizes:
        metric.update(_tensor(dl, y_hat[start:start + size]), _tensor(dl, y[start:start + size]))
        start += size
    return metric.result()


# --------------------------------------------------------------- metrics
def test_accuracy_of_class_scores_over_uneven_batches(dl):
    expected = onp.mean(SCORES.argmax(axis=1) == LABELS)
    assert _batches(dl, dl.metrics.Accuracy(), SCORES, LABELS, [5, 5, 2]) == pytest.approx(expected)
    assert core.accuracy(LABELS, SCORES) == pytest.approx(expected)


def test_accuracy_of_binary_logits(dl):
    logits = onp.array([[2.0], [-1.0], [0.5], [-0.2], [3.0]], dtype="float32")
    labels = onp.array([1, 0, 0, 0, 0])
    assert _batches(dl, dl.metrics.Accuracy(), logits, labels, [5]) == pytest.approx(3 / 5)
    assert _batches(dl, dl.metrics.Accuracy(), logits[:, 0], labels, [2, 3]) == pytest.approx(3 / 5)
    assert core.accuracy(labels, logits) == pytest.approx(3 / 5)


def test_mse_and_mae_match_numpy(dl):
    mse = float(onp.mean((PRED - TARGET) ** 2))
    mae = float(onp.mean(onp.abs(PRED - TARGET)))
    assert _batches(dl, dl.metrics.MeanSquaredError(), PRED, TARGET, [4, 8]) == pytest.approx(mse, rel=1e-5)
    assert _batches(dl, dl.metrics.MeanAbsoluteError(), PRED, TARGET, [7, 5]) == pytest.approx(mae, rel=1e-5)
    assert core.mean_squared_error(TARGET, PRED) == pytest.approx(mse, rel=1e-6)
    assert core.mean_absolute_error(TARGET, PRED) == pytest.approx(mae, rel=1e-6)


def test_mse_reshapes_flat_targets_like_the_outputs(dl):
    y_hat = onp.array([[1.0], [2.0], [4.0]], dtype="float32")
    flat = onp.array([1.0, 0.0, 1.0], dtype="float32")
    assert _batches(dl, dl.metrics.MeanSquaredError(), y_hat, flat, [3]) == pytest.approx(13 / 3)
    assert core.mean_squared_error(flat, y_hat) == pytest.approx(13 / 3)


def test_metric_reset_and_empty_result(dl):
    metric = dl.metrics.MeanSquaredError()
    assert math.isnan(metric.result())
    metric.update(_tensor(dl, [[3.0]]), _tensor(dl, [[1.0]]))
    assert metric.result() == 4.0
    metric.reset()
    assert math.isnan(metric.result())
    metric.update(_tensor(dl, [[1.0]]), _tensor(dl, [[1.0]]))
    assert metric.result() == 0.0


@pytest.mark.parametrize("dtype", ["int64", "int32", "float32"])
@pytest.mark.parametrize("column", [False, True], ids=["labels-(n,)", "labels-(n,1)"])
def test_accuracy_takes_labels_of_any_dtype_and_either_shape(dl, dtype, column):
    """Integer or float labels, flat or as one column: the same fraction as NumPy's, for
    class scores and for binary logits (the metric casts the predictions, not the labels)."""
    def labels(values):
        values = values.astype(dtype)
        return values[:, None] if column else values

    scores = _batches(dl, dl.metrics.Accuracy(), SCORES, labels(LABELS), [7, 5])
    assert scores == pytest.approx(onp.mean(SCORES.argmax(axis=1) == LABELS))
    binary = (LABELS % 2).astype(dtype)
    logits = SCORES[:, :1]
    got = _batches(dl, dl.metrics.Accuracy(), logits, labels(binary), [12])
    assert got == pytest.approx(onp.mean((logits[:, 0] > 0) == binary))


def test_update_returns_the_batch_sum_on_the_device(dl):
    metric = dl.metrics.MeanAbsoluteError()
    total = metric.update(_tensor(dl, [[1.0], [3.0]]), _tensor(dl, [[0.0], [1.0]]))
    assert type(total).__module__.split(".")[0] in ("mxnet", "torch")  # not read yet
    assert float(total.item()) == 3.0 and metric.result() == 1.5


def test_torch_metrics_keep_no_autograd_graph():
    from dlbook import torch as dl

    w = torch.ones(3, 1, requires_grad=True)
    metric = dl.metrics.MeanSquaredError()
    metric.update(torch.ones(2, 3) @ w, torch.zeros(2, 1))
    assert not metric._sum.requires_grad


def test_get_metric_by_name_and_instance(dl):
    assert set(dl.metrics.METRICS) == set(core.METRIC_NAMES)
    for name, cls in dl.metrics.METRICS.items():
        metric = dl.metrics.get_metric(name)
        assert type(metric) is cls and metric.name == name
        assert isinstance(metric, core.Metric)
    assert dl.metrics.get_metric("accuracy") is not dl.metrics.get_metric("accuracy")  # fresh
    mine = dl.metrics.Accuracy()
    assert dl.metrics.get_metric(mine) is mine
    assert repr(mine) == "Accuracy()"
    assert type(dl.metrics.get_metric(dl.metrics.MeanAbsoluteError)) is dl.metrics.MeanAbsoluteError
    assert [dl.metrics.get_metric(n).greater_is_better for n in ("accuracy", "mse", "mae")] == \
        [True, False, False]


def test_a_function_metric_is_computed_over_all_examples_at_once(dl):
    def median_error(y_true, y_pred):  # not a mean over examples: batch means would differ
        return float(onp.median(onp.abs(y_pred - y_true)))

    metric = dl.metrics.get_metric(median_error)
    assert isinstance(metric, core.FunctionMetric) and metric.name == "median_error"
    batch_sums = []
    start = 0
    for size in (2, 5, 5):
        batch_sums.append(metric.update(_tensor(dl, PRED[start:start + size]),
                                        _tensor(dl, TARGET[start:start + size])))
        start += size
    assert metric.result() == pytest.approx(float(onp.median(onp.abs(PRED - TARGET))), rel=1e-6)
    means = [s.item() / n for s, n in zip(batch_sums, (2, 5, 5))]  # per batch, read lazily
    assert means[0] == pytest.approx(float(onp.median(onp.abs(PRED[:2] - TARGET[:2]))), rel=1e-6)
    metric.reset()
    assert math.isnan(metric.result())


def test_a_function_metric_may_return_one_value_per_example(dl):
    metric = core.FunctionMetric(lambda y, s: (s.argmax(axis=1) == y), name="hits",
                                 greater_is_better=True)
    metric.update(_tensor(dl, SCORES), _tensor(dl, LABELS))
    assert metric.result() == pytest.approx(float(onp.mean(SCORES.argmax(axis=1) == LABELS)))
    broken = core.FunctionMetric(lambda y, s: s, name="outputs")
    broken.update(_tensor(dl, SCORES), _tensor(dl, LABELS))
    with pytest.raises(TypeError, match=r"metric function `outputs` to return a number or one "
                                        r"value per example, got an array of shape \(12, 4\)"):
        broken.result()
    with pytest.raises(TypeError, match=r"Expected `fn` as a function fn\(y_true, y_pred\), got 3 \(int\)"):
        core.FunctionMetric(3)


def test_loss_name_recognizes_the_layers_losses(dl):
    for name in core.LOSS_NAMES:
        assert dl.metrics.loss_name(dl.metrics.get_loss(name)) == name
    assert dl.metrics.loss_name(lambda y_hat, y: y_hat) is None


def test_mxnet_loss_name_of_gluon_losses():
    from mxnet import gluon

    from dlbook.mxnet.metrics import loss_name

    assert loss_name(gluon.loss.SoftmaxCrossEntropyLoss()) == "cross_entropy"
    assert loss_name(gluon.loss.SoftmaxCrossEntropyLoss(sparse_label=False)) is None  # probabilities
    assert loss_name(gluon.loss.SigmoidBCELoss()) == "binary_cross_entropy"
    assert loss_name(gluon.loss.KLDivLoss()) is None


# ----------------------------------------------------------------- losses
def _loss(dl, name, y_hat, y):
    out = dl.metrics.get_loss(name)(_tensor(dl, y_hat), _tensor(dl, y))
    assert tuple(out.shape) == (len(y_hat),)  # one value per example
    return _numpy(out)


def test_mse_loss_is_the_mean_squared_error_not_half_of_it(dl):
    per_example = _loss(dl, "mse", PRED, TARGET)
    onp.testing.assert_allclose(per_example, ((PRED - TARGET) ** 2).mean(axis=1), rtol=1e-5)
    assert float(per_example.mean()) == pytest.approx(float(onp.mean((PRED - TARGET) ** 2)), rel=1e-5)
    assert _loss(dl, "mse", onp.float32([[3.0]]), onp.float32([[1.0]])).tolist() == [4.0]


def test_cross_entropy_loss_matches_log_softmax(dl):
    shifted = SCORES - SCORES.max(axis=1, keepdims=True)
    log_softmax = shifted - onp.log(onp.exp(shifted).sum(axis=1, keepdims=True))
    expected = -log_softmax[onp.arange(12), LABELS]
    onp.testing.assert_allclose(_loss(dl, "cross_entropy", SCORES, LABELS), expected, rtol=1e-5)
    onp.testing.assert_allclose(_loss(dl, "cross_entropy", SCORES, LABELS.reshape(-1, 1)), expected,
                                rtol=1e-5)  # (n, 1) labels too


def test_cross_entropy_of_a_sequence_averages_its_positions(dl):
    scores = rng.standard_normal((3, 5, 4)).astype("float32")
    labels = rng.integers(0, 4, size=(3, 5))
    shifted = scores - scores.max(axis=2, keepdims=True)
    log_softmax = shifted - onp.log(onp.exp(shifted).sum(axis=2, keepdims=True))
    picked = onp.take_along_axis(log_softmax, labels[..., None], axis=2)[..., 0]
    onp.testing.assert_allclose(_loss(dl, "cross_entropy", scores, labels), -picked.mean(axis=1),
                                rtol=1e-5)


def test_binary_cross_entropy_matches_its_formula(dl):
    logits = onp.array([[2.0], [-1.0], [0.5], [-3.0]], dtype="float32")
    labels = onp.array([[1.0], [0.0], [0.0], [1.0]], dtype="float32")
    p = 1.0 / (1.0 + onp.exp(-logits))
    expected = -(labels * onp.log(p) + (1 - labels) * onp.log(1 - p))[:, 0]
    onp.testing.assert_allclose(_loss(dl, "binary_cross_entropy", logits, labels), expected, rtol=1e-5)
    onp.testing.assert_allclose(_loss(dl, "binary_cross_entropy", logits, onp.array([1, 0, 0, 1])),
                                expected, rtol=1e-5)  # integer labels, flat


def test_mae_and_huber_losses_match_their_formulas(dl):
    onp.testing.assert_allclose(_loss(dl, "mae", PRED, TARGET), onp.abs(PRED - TARGET).mean(axis=1),
                                rtol=1e-5)
    d = onp.abs(PRED - TARGET)
    huber = onp.where(d > 1.0, d - 0.5, 0.5 * d ** 2).mean(axis=1)
    onp.testing.assert_allclose(_loss(dl, "huber", PRED, TARGET), huber, rtol=1e-5)


def test_both_layers_give_the_same_losses():
    from dlbook import mxnet as dm
    from dlbook import torch as dt

    for name in core.LOSS_NAMES:
        y = LABELS % 3 if name == "cross_entropy" else (
            (TARGET > 0).astype("float32") if "entropy" in name else TARGET)
        onp.testing.assert_allclose(_loss(dm, name, PRED, y), _loss(dt, name, PRED, y), rtol=1e-5,
                                    atol=1e-6)


def test_mxnet_losses_give_the_same_values_when_hybridized(np_mode):
    for name in core.LOSS_NAMES:
        loss = mx_get_loss(name)
        y_hat = mx.np.array(PRED)
        y = mx.np.array(onp.abs(TARGET) > 0.5, dtype="float32") if "entropy" in name else mx.np.array(TARGET)
        if name == "cross_entropy":
            y = mx.np.array(LABELS % 3)
        eager = loss(y_hat, y).asnumpy()
        loss.hybridize()
        onp.testing.assert_allclose(loss(y_hat, y).asnumpy(), eager, rtol=1e-6)


def test_get_loss_passes_callables_through(dl):
    def my_loss(y_hat, y):
        return (y_hat - y) ** 4

    assert dl.metrics.get_loss(my_loss) is my_loss
    assert dl.metrics.LOSSES == core.LOSS_NAMES


# ------------------------------------------------------------- bad input
BAD_INPUTS = [
    (lambda dl: dl.metrics.get_metric("f1"), ValueError, r"Unknown `metrics` 'f1'. Expected one of: 'accuracy', 'mae', 'mse'"),
    (lambda dl: dl.metrics.get_metric(None), TypeError, r"each of `metrics` as a name \('accuracy', 'mae', 'mse'\), a dlbook.metrics.Metric object or a function .* got None \(NoneType\)"),
    (lambda dl: dl.metrics.get_loss("cross-entropy"), ValueError, r"Unknown `loss` 'cross-entropy'. Expected one of: 'binary_cross_entropy'"),
    (lambda dl: dl.metrics.get_loss(5), TypeError, r"`loss` as a name or a callable, got 5 \(int\)"),
]


@pytest.mark.parametrize("call, error, pattern", BAD_INPUTS)
def test_bad_input_raises_a_clear_error(dl, call, error, pattern):
    with pytest.raises(error, match=pattern):
        call(dl)


def test_numpy_metrics_check_their_input():
    with pytest.raises(ValueError, match=r"`y_true` has 3 and `scores` has 2"):
        core.accuracy([0, 1, 1], [[0.1, 0.9], [0.8, 0.2]])
    with pytest.raises(ValueError, match=r"`y_pred` contains 1 NaN"):
        core.mean_squared_error([0.0], [float("nan")])


@pytest.mark.parametrize("metric", [core.mean_squared_error, core.mean_absolute_error])
def test_regression_metrics_name_both_shapes_when_the_sizes_differ(metric):
    pattern = (r"Expected `y_true` with as many values as `y_pred` \(one target per "
               r"prediction\), got `y_true` of shape \(2,\) and `y_pred` of shape \(2, 3\)")
    with pytest.raises(ValueError, match=pattern):
        metric(onp.zeros(2), onp.zeros((2, 3)))
    assert metric(onp.zeros((2, 3)), onp.ones(6).reshape(2, 3, 1)) == 1.0  # same size: reshaped
