"""Tests of dlbook.session.setup and of the package's public names."""
import random

import matplotlib as mpl
import matplotlib_inline.backend_inline
import mxnet as mx
import pytest

import dlbook
from dlbook import callbacks
from dlbook.session import setup


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


def test_every_public_name_exists():
    assert sorted(set(dlbook.__all__)) == sorted(dlbook.__all__)
    missing = [name for name in dlbook.__all__ if not hasattr(dlbook, name)]
    assert missing == []
    assert dlbook.Trainer is dlbook.train.Trainer and dlbook.mlp is dlbook.models.mlp
