"""The argument checks shared by dlbook's public functions (dlbook/_checks.py)."""
import math
import re

import numpy as onp
import pytest

from dlbook import EarlyStopping
from dlbook._checks import check_instance, check_number


@pytest.mark.parametrize("kwargs, value, expected", [
    (dict(above=0), 0.5, 0.5),
    (dict(above=0), 3, 3.0),
    (dict(minimum=0), 0, 0.0),
    (dict(minimum=0, below=1), onp.float32(0.25), 0.25),
    (dict(above=0, maximum=1), 1, 1.0),
    (dict(above=0, allow_none=True), None, None),
    ({}, -7.5, -7.5),
])
def test_check_number_returns_a_float(kwargs, value, expected):
    got = check_number("x", value, **kwargs)
    assert got == expected and (got is None or type(got) is float)


@pytest.mark.parametrize("kwargs, value, error, match", [
    (dict(above=0), -1, ValueError, r"^Expected `x` > 0, got -1\.$"),
    (dict(above=0), 0, ValueError, r"^Expected `x` > 0, got 0\.$"),
    (dict(minimum=0), -0.5, ValueError, r"^Expected `x` >= 0, got -0\.5\.$"),
    (dict(below=1), 1, ValueError, r"^Expected `x` < 1, got 1\.$"),
    (dict(maximum=1), 2, ValueError, r"^Expected `x` <= 1, got 2\.$"),
    (dict(minimum=0, below=1), 1.0, ValueError, r"^Expected `x` in \[0, 1\), got 1\.0\.$"),
    (dict(above=0, maximum=1), 0, ValueError, r"^Expected `x` in \(0, 1\], got 0\.$"),
    (dict(above=0), math.nan, ValueError, r"^Expected `x` as a finite number > 0, got nan\.$"),
    (dict(above=0), math.inf, ValueError, r"^Expected `x` as a finite number > 0, got inf\.$"),
    ({}, -math.inf, ValueError, r"^Expected `x` as a finite number, got -inf\.$"),
    (dict(above=0), "1", TypeError, r"^Expected `x` as a number > 0, got '1' \(str\)\.$"),
    (dict(above=0), True, TypeError, r"^Expected `x` as a number > 0, got True \(bool\)\.$"),
    (dict(above=0), None, TypeError, r"^Expected `x` as a number > 0, got None \(NoneType\)\.$"),
    (dict(above=0), onp.ones(2), TypeError, r"as a number > 0, got numpy\.ndarray with shape \(2,\)"),
    (dict(above=0, allow_none=True, what="a number of seconds"), -1, ValueError,
     r"^Expected `x` as a number of seconds > 0 or None, got -1\.$"),
    (dict(above=0, allow_none=True, what="a number of seconds"), "soon", TypeError,
     r"^Expected `x` as a number of seconds > 0 or None, got 'soon' \(str\)\.$"),
    (dict(above=0, what="a gradient norm"), math.inf, ValueError,
     r"^Expected `x` as a finite gradient norm > 0, got inf\.$"),
    (dict(minimum=0, why="it is a size", fix="Pass 1."), -1, ValueError,
     r"^Expected `x` >= 0, got -1: it is a size\. Pass 1\.$"),
])
def test_check_number_errors_name_the_argument_the_range_and_the_value(kwargs, value, error, match):
    with pytest.raises(error, match=match):
        check_number("x", value, **kwargs)


def test_check_instance():
    assert check_instance("name", "abc", str, "a string") == "abc"
    with pytest.raises(TypeError, match=r"^Expected `name` to be a string, got 3 \(int\)\.$"):
        check_instance("name", 3, str, "a string")


def test_no_hand_rolled_number_checks_left_in_the_converted_modules():
    """The modules that now use check_number keep no copy of it (isinstance numbers.Real)."""
    import inspect

    import dlbook.callbacks
    import dlbook.launch
    import dlbook.optim
    import dlbook.regularization
    import dlbook.sequence
    import dlbook.training

    for module in (dlbook.callbacks, dlbook.launch, dlbook.optim, dlbook.regularization,
                   dlbook.sequence, dlbook.training):
        source = inspect.getsource(module)
        assert "numbers.Real" not in source, module.__name__
        assert "positive number" not in source, module.__name__


@pytest.mark.parametrize("monitor, direction", [
    ("val_loss", "min"), ("loss", "min"), ("val_accuracy", "max"), ("val_mse", "min"),
    ("mae", "min"), ("val_perplexity", "min"), ("perplexity", "min"),
])
def test_early_stopping_auto_mode_knows_the_metric_directions(monitor, direction):
    assert EarlyStopping(monitor).direction == direction


def test_early_stopping_explicit_mode_wins_over_the_metric_name():
    assert EarlyStopping("val_accuracy", mode="min").direction == "min"
    assert EarlyStopping("val_unknown").direction is None  # decided (or refused) at train begin


def test_check_bool_accepts_python_and_numpy_bools_only():
    from dlbook._checks import check_bool

    assert check_bool("flag", True) is True
    assert check_bool("flag", onp.bool_(False)) is False
    for value, shown in [("no", "'no' (str)"), (1, "1 (int)"), (None, "None (NoneType)")]:
        with pytest.raises(TypeError, match=rf"^Expected `flag` as True or False, got {re.escape(shown)}\.$"):
            check_bool("flag", value)


def _flag_calls(dl):
    """Each public flag of a layer and of the core, as (name, call with the flag set to a value)."""
    import dlbook
    from dlbook import datasets, regularization, text

    X, y = onp.ones((4, 2), dtype="float32"), onp.array([0, 1, 0, 1])
    return [
        ("shuffle", lambda v: dl.data.ArrayLoader(X, y, batch_size=2, shuffle=v)),
        ("drop_last", lambda v: dl.data.ArrayLoader(X, y, batch_size=2, drop_last=v)),
        ("shuffle", lambda v: dl.sequence.SequenceBatches(onp.arange(40), 2, 5, shuffle=v)),
        ("batch_norm", lambda v: dl.models.mlp(batch_norm=v)),
        ("batch_norm", lambda v: dl.models.lenet(batch_norm=v)),
        ("hybridize", lambda v: dl.Trainer(dl.models.mlp(), "softmax_cross_entropy",
                                           hybridize=v)),
        ("trainable_only", lambda v: dl.summaries.count_parameters(dl.models.mlp(), v)),
        ("stratify", lambda v: dlbook.train_val_split(X, y, 0.5, stratify=v)),
        ("include_bias", lambda v: regularization.polynomial_features([1.0, 2.0], 2, include_bias=v)),
        ("as_arrays", lambda v: datasets.to_loaders(dl.data.ArrayLoader, (X, y), (X, y), 2,
                                                    as_arrays=v)),
        ("flatten", lambda v: datasets.fashion_mnist_arrays(flatten=v)),
        ("dynamic", lambda v: text.skipgram_pairs(onp.arange(10), dynamic=v)),
        ("restore_best_weights", lambda v: dlbook.EarlyStopping(restore_best_weights=v)),
        ("bar", lambda v: dlbook.ProgressBar(bar=v)),
    ]


@pytest.mark.parametrize("value", ["no", "False", 0, 1.0])
def test_every_public_flag_refuses_a_non_bool_by_name(dl, value):
    """A flag given as "no" or 0 is refused by name, rather than read by its truth value
    (``shuffle="no"`` used to shuffle)."""
    for name, call in _flag_calls(dl):
        with pytest.raises(TypeError, match=rf"^Expected `{name}` as True or False, got "):
            call(value)


def test_no_hand_rolled_bool_checks_left():
    """Every 'as True or False' message comes from check_bool."""
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "dlbook"
    copies = [str(p) for p in package.rglob("*.py")
              if p.name != "_checks.py" and "as True or False" in p.read_text(encoding="utf-8")]
    assert copies == []


def _path_calls(dl):
    """Each public argument naming a file or folder, as (name, call with it set to a value)."""
    import dlbook
    from dlbook import datasets, download, launch, text

    trainer = dl.Trainer(dl.models.mlp(hidden=4, num_outputs=2), "cross_entropy")
    return [
        ("path", lambda v: dl.save_checkpoint(v, trainer)),
        ("path", lambda v: dl.load_checkpoint(v, trainer)),
        ("data_dir", lambda v: datasets.fashion_mnist_arrays(data_dir=v)),
        ("cache_dir", lambda v: datasets.fashion_mnist_arrays(cache_dir=v, data_dir="/nonexistent")),
        ("folder", lambda v: download.fetch("https://example.org/a.txt", "0" * 64, v)),
        ("archive", lambda v: download.safe_extract(v, "out")),
        ("dest", lambda v: download.safe_extract("a.tar.gz", v)),
        ("root", lambda v: text.load_korean_text("constitution", root=v)),
        ("path", lambda v: launch.read_hosts(v)),
        ("filepath", lambda v: dlbook.ModelCheckpoint(v)),
        ("filename", lambda v: dlbook.CSVLogger(v)),
    ]


@pytest.mark.parametrize("value", [3, 1.5, b"run.npz", ["run.npz"]])
def test_every_path_argument_refuses_a_non_path_by_name(dl, value):
    """``save_checkpoint(3, trainer)`` used to end in the standard library's
    "expected str, bytes or os.PathLike object, not int", naming neither argument nor function."""
    for name, call in _path_calls(dl):
        with pytest.raises(TypeError, match=rf"^Expected `{name}` as a file or folder name "
                                            rf"\(str or pathlib.Path\), got "):
            call(value)


def test_an_empty_path_is_refused_not_read_as_the_current_folder(dl):
    for name, call in _path_calls(dl):
        with pytest.raises(ValueError, match=rf"^Expected `{name}` as a file or folder name, "
                                             "got an empty string"):
            call("")
