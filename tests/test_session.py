"""Tests of each layer's setup (dlbook.mxnet.session, dlbook.torch.session), of the neutral
session helpers (dlbook.session) and of the package's public names."""
import importlib
import random
import sys

import matplotlib as mpl
import matplotlib_inline.backend_inline
import mxnet as mx
import numpy as onp
import pytest
import torch

import dlbook
from dlbook import callbacks
from dlbook.mxnet.session import setup


def test_setup_turns_on_numpy_mode_seeds_and_korean_font():
    assert not mx.util.is_np_array()
    setup(seed=7)
    assert mx.util.is_np_array() and mx.util.is_np_shape()
    assert mpl.rcParams["font.family"][0] == "DlbookGothic"
    first = (random.random(), float(mx.np.random.uniform().item()))
    setup(seed=7)
    assert (random.random(), float(mx.np.random.uniform().item())) == first


def test_torch_setup_seeds_torch_and_sets_the_korean_font():
    from dlbook.torch.session import setup as torch_setup

    torch_setup(seed=7)
    assert mpl.rcParams["font.family"][0] == "DlbookGothic"
    first = (random.random(), onp.random.rand(), torch.rand(3).tolist())
    torch_setup(seed=7)
    assert (random.random(), onp.random.rand(), torch.rand(3).tolist()) == first
    torch_setup(seed=8)
    assert torch.rand(3).tolist() != first[2]
    assert not mx.util.is_np_array()  # the PyTorch layer leaves MXNet alone


def test_setup_sets_the_figure_format_only_in_a_notebook(dl, monkeypatch):
    formats = []
    monkeypatch.setattr(matplotlib_inline.backend_inline, "set_matplotlib_formats",
                        lambda *fmts: formats.append(fmts))
    dl.setup(figure_format="png")
    assert formats == []
    monkeypatch.setattr(callbacks, "in_notebook", lambda: True)
    dl.setup()
    dl.setup(figure_format="retina")
    assert formats == [("svg",), ("retina",)]


@pytest.mark.parametrize("kwargs, error, pattern", [
    ({"figure_format": "jpeg"}, ValueError, r"Unknown `figure_format` 'jpeg'. Expected one of: 'png', 'retina', 'svg'"),
    ({"seed": -1}, ValueError, r"Expected `seed` >= 0, got -1"),
    ({"seed": "0"}, TypeError, r"Expected `seed` to be an integer"),
])
def test_setup_rejects_bad_arguments_before_changing_anything(dl, kwargs, error, pattern):
    family = list(mpl.rcParams["font.family"])
    state = random.getstate()
    with pytest.raises(error, match=pattern):
        dl.setup(**kwargs)
    assert not mx.util.is_np_array()
    assert list(mpl.rcParams["font.family"]) == family
    assert random.getstate() == state  # nothing was seeded


@pytest.mark.parametrize("module", ["dlbook", "dlbook.mxnet", "dlbook.torch"])
def test_every_public_name_exists(module):
    package = importlib.import_module(module)
    assert sorted(set(package.__all__)) == sorted(package.__all__)
    missing = [name for name in package.__all__ if not hasattr(package, name)]
    assert missing == []


FAMILY_NAMES = [
    "ArrayLoader", "load_array", "train_val_split", "scale", "one_hot", "FASHION_MNIST_LABELS",
    "load_fashion_mnist", "load_sklearn", "load_mnist1d", "load_time_series", "synthetic_linear",
    "xor_data", "try_gpu", "try_all_gpus", "num_gpus", "count_parameters", "summary",
    "derivative", "plot_function", "seed_everything", "setup", "Timer", "Accumulator", "record",
]


def test_both_layers_offer_the_same_names_and_signatures():
    import inspect

    layers = [importlib.import_module(f"dlbook.{name}") for name in ("mxnet", "torch")]
    for name in FAMILY_NAMES:
        objects = [getattr(layer, name) for layer in layers]
        assert all(name in layer.__all__ for layer in layers), name
        if callable(objects[0]):
            signatures = [inspect.signature(obj) for obj in objects]
            assert signatures[0] == signatures[1], name
    assert dlbook.torch.plot_function is not dlbook.plot_function  # autograd-based


def test_the_core_names_the_layers_for_framework_names():
    with pytest.raises(AttributeError, match="from dlbook import mxnet as dl"):
        dlbook.Trainer
    with pytest.raises(AttributeError, match=r"then `dl.load_sklearn`"):
        dlbook.load_sklearn


def test_the_mxnet_layer_names_its_parts():
    layer = importlib.import_module("dlbook.mxnet")
    assert layer.Trainer is layer.train.Trainer and layer.mlp is layer.models.mlp


def test_importing_the_core_imports_no_framework():
    import subprocess

    code = ("import sys, dlbook, dlbook.data, dlbook.datasets, dlbook.meters, dlbook.results, "
            "dlbook.seeding, dlbook.session, dlbook.summaries, dlbook.derivatives, dlbook.plot, "
            "dlbook.devices; "
            "print(sorted({'mxnet', 'torch'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("framework, extra", [("mxnet", "mxnet"), ("torch", "torch")])
def test_a_missing_framework_names_the_extra_to_install(monkeypatch, framework, extra):
    import importlib.util

    from dlbook import _framework

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == framework else real(name, *a))
    with pytest.raises(ImportError, match=rf'pip install "dlbook\[{extra}\]"'):
        _framework.require(framework)
