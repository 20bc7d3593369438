"""Tests of dlbook.mxnet.session.setup and of the package's public names."""
import importlib
import random

import matplotlib as mpl
import matplotlib_inline.backend_inline
import mxnet as mx
import pytest

import dlbook
from dlbook.mxnet import callbacks
from dlbook.mxnet.session import setup


def test_setup_turns_on_numpy_mode_seeds_and_korean_font():
    assert not mx.util.is_np_array()
    setup(seed=7)
    assert mx.util.is_np_array() and mx.util.is_np_shape()
    assert mpl.rcParams["font.family"][0] == "DlbookGothic"
    first = (random.random(), float(mx.np.random.uniform().item()))
    setup(seed=7)
    assert (random.random(), float(mx.np.random.uniform().item())) == first


def test_setup_sets_the_figure_format_only_in_a_notebook(monkeypatch):
    formats = []
    monkeypatch.setattr(matplotlib_inline.backend_inline, "set_matplotlib_formats",
                        lambda *fmts: formats.append(fmts))
    setup(figure_format="png")
    assert formats == []
    monkeypatch.setattr(callbacks, "in_notebook", lambda: True)
    setup()
    setup(figure_format="retina")
    assert formats == [("svg",), ("retina",)]


def test_setup_rejects_an_unknown_format_before_changing_anything():
    family = list(mpl.rcParams["font.family"])
    with pytest.raises(ValueError, match=r"Unknown `figure_format` 'jpeg'. Expected one of: 'png', 'retina', 'svg'"):
        setup(figure_format="jpeg")
    assert not mx.util.is_np_array()
    assert list(mpl.rcParams["font.family"]) == family


@pytest.mark.parametrize("module", ["dlbook", "dlbook.mxnet"])
def test_every_public_name_exists(module):
    import importlib

    package = importlib.import_module(module)
    assert sorted(set(package.__all__)) == sorted(package.__all__)
    missing = [name for name in package.__all__ if not hasattr(package, name)]
    assert missing == []


def test_the_core_names_the_layers_for_framework_names():
    layer = importlib.import_module("dlbook.mxnet")
    assert layer.Trainer is layer.train.Trainer and layer.mlp is layer.models.mlp
    with pytest.raises(AttributeError, match="from dlbook import mxnet as dl"):
        dlbook.Trainer
