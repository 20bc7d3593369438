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


# Names one layer has and the other has not, on purpose: the framework's own
# distributed plumbing, Gluon's loss classes that PyTorch lacks (the torch layer
# offers them under Gluon's names), and the torch Trainer's optimizer table.
LAYER_ONLY = {
    "distributed": ({"DMLC_VARIABLES"}, {"KVStore", "BACKEND", "setup_process_group", "TORCH_VARIABLES"}),
    "metrics": (set(), {"SigmoidBinaryCrossEntropyLoss", "HuberLoss", "L1Loss", "SoftmaxCrossEntropyLoss",
                        "L2Loss"}),
    "train": (set(), {"OPTIMIZERS"}),
}
# Each layer's Sequential keeps its framework's constructor (Gluon's prefix/params,
# torch's *modules); both add Gluon's add(), which is what the book calls.
OWN_CONSTRUCTOR = {"Sequential"}


def test_both_layers_offer_the_same_names_and_signatures():
    import inspect

    layers = [importlib.import_module(f"dlbook.{name}") for name in ("mxnet", "torch")]
    assert sorted(layers[0].__all__) == sorted(layers[1].__all__)  # every public name
    for name in layers[0].__all__:
        objects = [getattr(layer, name) for layer in layers]
        if inspect.ismodule(objects[0]):
            names = [set(getattr(module, "__all__", ())) for module in objects]
            only = LAYER_ONLY.get(name, (set(), set()))
            assert (names[0] - names[1], names[1] - names[0]) == only, name
            pairs = [(getattr(objects[0], n), getattr(objects[1], n))
                     for n in sorted(names[0] & names[1] - OWN_CONSTRUCTOR)]
        else:
            pairs = [objects]
        for first, second in pairs:
            if first is not second and callable(first) and not inspect.ismodule(first):
                assert inspect.signature(first) == inspect.signature(second), (name, first)
    assert layers[0].FRAMEWORK == "mxnet" and layers[1].FRAMEWORK == "torch"
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
