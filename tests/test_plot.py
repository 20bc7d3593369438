"""Tests of dlbook.plot: Korean font, line plots, functions, image grids, learning curves."""
import warnings

import matplotlib as mpl
import matplotlib.pyplot as plt
import mxnet as mx
import numpy as onp
import pytest
import torch

from dlbook import plot
from dlbook.plot import plot_function, plot_history, plot_lines, show_images, use_korean_font
from dlbook.mxnet.train import History


def _glyph_warnings(fig):
    """Draw ``fig`` and return the messages of every 'Glyph ... missing' warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    return [str(w.message) for w in caught if "Glyph" in str(w.message)]


def _korean_figure():
    fig, ax = plt.subplots()
    ax.plot([-2.0, -1.0, 0.0, 1.0], [-1.0, 0.5, 0.25, 2.0], label="손실 (loss)")
    ax.set_xlabel("입력 (input) x")
    ax.set_ylabel("출력 −1 … 2")
    ax.set_title("활성화 함수 α")
    ax.legend()
    return fig


# ------------------------------------------------------------- Korean font
def test_hangul_is_missing_without_the_korean_font():
    missing = _glyph_warnings(_korean_figure())
    assert missing and "missing from font(s) DejaVu Sans" in missing[0]


def test_use_korean_font_draws_hangul_minus_and_greek_without_missing_glyphs():
    name = use_korean_font()
    assert name == "DlbookGothic"
    assert mpl.rcParams["font.family"][0] == "DlbookGothic"
    assert mpl.rcParams["svg.fonttype"] == "path"
    assert _glyph_warnings(_korean_figure()) == []
    fig = plot_history({"loss": [-0.5, -1.0], "accuracy": [0.5, 0.75]})  # negative ticks too
    assert _glyph_warnings(fig) == []


def test_korean_font_file_is_nanum_gothic_regular():
    files = plot._font_files()
    assert files and files[0].name == "NanumGothic.ttf" and files[0].is_file()


def test_use_korean_font_without_a_font_file(monkeypatch):
    monkeypatch.setattr(plot, "_font_files", lambda: [])
    family = list(mpl.rcParams["font.family"])
    with pytest.raises(RuntimeError, match=r"No Korean font found. Install one: `pip install koreanize-matplotlib`"):
        use_korean_font()
    assert mpl.rcParams["font.family"] == family  # nothing changed


_FRESH_FIGURE = """
import json, sys, warnings
import matplotlib
matplotlib.use("Agg")
import numpy as onp
from fontTools.ttLib import TTFont
from matplotlib import font_manager
import dlbook

draw = {
    "plot_lines": lambda: dlbook.plot_lines(onp.arange(3), [onp.arange(3)], labels=["직선"],
                                            xlabel="입력 (input) x", title="한글 제목").figure,
    "plot_function": lambda: dlbook.plot_function(lambda z: z * z, onp.linspace(-1, 1, 5),
                                                  name="제곱", xlabel="입력").figure,
    "show_images": lambda: dlbook.show_images(onp.zeros((1, 4, 4)), 1, 1, titles=["첫째"])[0].figure,
    "plot_history": lambda: dlbook.plot_history({"loss": [1.0, -0.5], "accuracy": [0.5, 0.7]}),
    "plot_contour": lambda: dlbook.optim.plot_contour(lambda x, y: x * x + y * y, (-1, 1), (-1, 1),
                                                      title="등고선").figure,
}[sys.argv[1]]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    fig = draw()
    fig.canvas.draw()
hangul = [t for t in fig.findobj(matplotlib.text.Text)
          if any("\\uac00" <= c <= "\\ud7a3" for c in t.get_text())]
files = {font_manager.findfont(t.get_fontproperties(), fallback_to_default=False) for t in hangul}
print(json.dumps({
    "hangul_texts": len(hangul),
    "fonts_with_hangul": [ord("한") in TTFont(f).getBestCmap() for f in sorted(files)],
    "glyph_warnings": [str(w.message) for w in caught if "Glyph" in str(w.message)],
    "family": list(matplotlib.rcParams["font.family"]),
}))
"""


@pytest.mark.parametrize("function", ["plot_lines", "plot_function", "show_images", "plot_history",
                                      "plot_contour"])
def test_a_figure_without_setup_draws_hangul_with_a_korean_font(function, tmp_path):
    """In a fresh process that never called `setup` or `use_korean_font`."""
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["MPLCONFIGDIR"] = str(tmp_path / "mpl")  # no matplotlibrc of the user
    proc = subprocess.run([sys.executable, "-c", _FRESH_FIGURE, function], capture_output=True,
                          text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["hangul_texts"] >= 1
    assert report["fonts_with_hangul"] and all(report["fonts_with_hangul"]), report
    assert report["glyph_warnings"] == []
    assert report["family"][0] == plot.KOREAN_FAMILY


def test_plotting_keeps_fonts_the_user_chose():
    mpl.rcParams["font.family"] = ["serif"]
    plot_lines([0, 1], [0, 1], xlabel="x")
    assert mpl.rcParams["font.family"] == ["serif"]
    mpl.rcParams["font.family"] = ["sans-serif"]
    mpl.rcParams["font.sans-serif"] = ["DejaVu Sans"]
    with pytest.warns(UserWarning, match=r"Glyph .* missing from font\(s\) DejaVu Sans"):
        plot_history({"loss": [1.0, 0.5]})  # its Korean axis labels, in the chosen font
    assert mpl.rcParams["font.family"] == ["sans-serif"]


def test_plotting_without_a_korean_font_warns_and_still_draws(monkeypatch):
    mpl.rcdefaults()
    monkeypatch.setattr(plot, "_font_files", lambda: [])
    with pytest.warns(RuntimeWarning, match=r"Korean labels will show as boxes: No Korean font "
                                            r"found\. Install one"):
        ax = plot_lines([0, 1], [0, 1], xlabel="입력")
    assert ax.get_xlabel() == "입력"


# --------------------------------------------------------------- plot_lines
def test_plot_lines_draws_each_curve_with_labels():
    use_korean_font()
    x = onp.linspace(0.1, 2, 7)
    ax = plot_lines(x, [x, x ** 2, mx.np.array(onp.sqrt(x))], labels=["직선", "포물선", "제곱근"],
                    xlabel="입력 x", ylabel="출력 y", title="비교", xlim=(0, 2), ylim=(0.01, 5),
                    yscale="log", styles=["r-", "b--", "g:"])
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["직선", "포물선", "제곱근"]
    onp.testing.assert_allclose(lines[1].get_ydata(), x ** 2)
    onp.testing.assert_allclose(lines[2].get_ydata(), onp.sqrt(x), rtol=1e-6)
    assert [line.get_linestyle() for line in lines] == ["-", "--", ":"]
    assert lines[0].get_color() == "r"
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("입력 x", "출력 y", "비교")
    assert ax.get_xlim() == (0, 2) and ax.get_ylim() == (0.01, 5) and ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["직선", "포물선", "제곱근"]
    assert _glyph_warnings(ax.figure) == []


def test_plot_lines_accepts_a_single_curve_in_several_forms():
    x = onp.arange(4.0)
    for ys in (x * 2, [0.0, 2.0, 4.0, 6.0], mx.np.array(x * 2)):
        ax = plot_lines(x, ys)
        assert len(ax.get_lines()) == 1 and ax.get_legend() is None
        onp.testing.assert_allclose(ax.get_lines()[0].get_ydata(), x * 2)
    rows = plot_lines(x, onp.stack([x, -x, x + 1]))  # a 2-D array: one curve per row
    assert len(rows.get_lines()) == 3


def test_plot_lines_into_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    assert plot_lines([0, 1], [[0, 1]], ax=right) is right
    assert len(right.get_lines()) == 1 and len(left.get_lines()) == 0
    assert len(plt.get_fignums()) == 1


# ------------------------------------------------------------ plot_function
def _tanh(dl):
    return mx.np.tanh if dl.FRAMEWORK == "mxnet" else torch.tanh


def test_plot_function_draws_the_function_and_its_derivative(dl):
    x = onp.linspace(-2, 2, 9)
    ax = dl.plot_function(_tanh(dl), x, name="tanh")
    f, df = ax.get_lines()
    onp.testing.assert_allclose(f.get_ydata(), onp.tanh(x), rtol=1e-5)
    onp.testing.assert_allclose(df.get_ydata(), 1 - onp.tanh(x) ** 2, rtol=1e-5)
    assert [f.get_label(), df.get_label()] == ["tanh(x)", "tanh'(x)"] and ax.get_title() == "tanh"
    only = dl.plot_function(lambda z: z ** 3, [1.0, 2.0], derivative=False)
    assert [line.get_label() for line in only.get_lines()] == ["f(x)"]


def test_layer_plot_function_differentiates_by_autograd(dl):
    # At ReLU's kink autograd picks a one-sided slope (0); central differences give 0.5.
    relu = mx.npx.relu if dl.FRAMEWORK == "mxnet" else torch.relu
    ax = dl.plot_function(relu, [-1.0, 0.0, 1.0], name="ReLU", xlabel="z", ylabel="y")
    assert ax.get_lines()[1].get_ydata().tolist() == [0.0, 0.0, 1.0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("z", "y")
    core = plot_function(lambda z: onp.maximum(z, 0), [-1.0, 0.0, 1.0])
    onp.testing.assert_allclose(core.get_lines()[1].get_ydata(), [0.0, 0.5, 1.0], atol=1e-6)


def test_torch_plot_function_takes_tensors():
    from dlbook.torch import plot_function as torch_plot_function

    x = torch.linspace(-1, 1, 5, requires_grad=True)
    ax = torch_plot_function(lambda z: z ** 2, x)
    assert ax.get_lines()[0].get_xdata().tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert ax.get_lines()[1].get_ydata().tolist() == [-2.0, -1.0, 0.0, 1.0, 2.0]


def test_core_plot_function_is_framework_free_and_takes_a_differentiator():
    x = onp.linspace(-2, 2, 9)
    ax = plot_function(onp.sin, x, name="sin")
    onp.testing.assert_allclose(ax.get_lines()[1].get_ydata(), onp.cos(x), atol=1e-6)
    calls = []

    def slope_three(f, xs):
        calls.append(len(xs))
        return onp.asarray(f(onp.asarray(xs))), onp.full(len(xs), 3.0)

    ax = plot_function(lambda z: 3 * z, x, differentiate=slope_three, ax=plt.subplots()[1])
    assert calls == [9] and ax.get_lines()[1].get_ydata().tolist() == [3.0] * 9


# -------------------------------------------------------------- show_images
def test_show_images_grid_titles_and_pixels():
    use_korean_font()
    images = onp.arange(3 * 4 * 5, dtype="float32").reshape(3, 1, 4, 5)
    axes = show_images(images, 2, 2, titles=["가", "나", "다"])
    assert axes.shape == (4,) and len(plt.gcf().axes) == 4
    assert [ax.get_title() for ax in axes] == ["가", "나", "다", ""]
    onp.testing.assert_array_equal(axes[1].get_images()[0].get_array(), images[1, 0])
    assert axes[0].get_images()[0].get_cmap().name == "gray"
    assert axes[3].get_images() == [] and not any(ax.axison for ax in axes)
    assert _glyph_warnings(axes[0].figure) == []


def test_show_images_rgb_and_more_images_than_cells():
    rgb = onp.random.default_rng(0).random((5, 6, 6, 3))
    axes = show_images(mx.np.array(rgb), 1, 2, scale=2.0)
    assert len(axes) == 2 and all(len(ax.get_images()) == 1 for ax in axes)
    onp.testing.assert_allclose(axes[1].get_images()[0].get_array(), rgb[1], rtol=1e-6)
    assert tuple(axes[0].figure.get_size_inches()) == (4.0, 2.0)
    rgba = onp.random.default_rng(0).random((2, 6, 6, 4))
    axes = show_images(rgba, 1, 2)  # RGBA: imshow draws the alpha channel
    onp.testing.assert_allclose(axes[0].get_images()[0].get_array(), rgba[0])


# ------------------------------------------------------------- plot_history
def test_plot_history_puts_losses_left_and_metrics_right():
    use_korean_font()
    history = History()
    for epoch, (loss, val_loss, acc) in enumerate([(1.0, 1.2, 0.5), (0.6, 0.9, 0.7),
                                                  (0.4, 0.8, 0.8)], start=1):
        history.append(epoch, {"loss": loss, "accuracy": acc, "val_loss": val_loss, "time": 9.0})
    fig = plot_history(history)
    left, right = fig.axes
    assert [line.get_label() for line in left.get_lines()] == ["loss", "val_loss"]
    assert [line.get_label() for line in right.get_lines()] == ["accuracy"]
    assert left.get_lines()[0].get_xdata().tolist() == [1, 2, 3]
    assert left.get_lines()[1].get_ydata().tolist() == [1.2, 0.9, 0.8]
    assert [line.get_linestyle() for line in left.get_lines()] == ["-", "--"]
    assert left.get_xlabel() == "에포크 (epoch)"
    assert _glyph_warnings(fig) == []


def test_plot_history_with_chosen_metrics():
    use_korean_font()
    data = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.6, 0.8]}
    fig = plot_history(data, metrics=["val_loss"])
    assert len(fig.axes) == 1 and [l.get_label() for l in fig.axes[0].get_lines()] == ["val_loss"]
    fig = plot_history(data, metrics=["accuracy"])
    assert fig.axes[0].get_ylabel() == "지표 (metric)"


# ----------------------------------------------------------------- bad input
BAD_INPUTS = [
    (lambda: plot_lines([0, 1, 2], [[0, 1]]), ValueError, r"`ys\[0\]` with the shape of `x` \(3,\), got \(2,\)"),
    (lambda: plot_lines([0, 1], [[0, 1], [1, 0]], labels=["a"]), ValueError, r"Expected 2 `labels`, one per curve, got 1"),
    (lambda: plot_function("tanh", [0.0]), TypeError, r"`f` to be callable, got 'tanh' \(str\)"),
    (lambda: plot_function(lambda z: z.sum(), [0.0, 1.0]), ValueError, r"`f` to be element-wise"),
    (lambda: plot_function(onp.tanh, [0.0], differentiate="autograd"), TypeError, r"`differentiate` to be callable"),
    (lambda: plot_function(onp.tanh, [[0.0, onp.nan]]), ValueError, r"`x` contains 1 NaN"),
    (lambda: show_images(onp.zeros((28, 28)), 1, 1), ValueError, r"`images` with shape \(n, h, w\), \(n, 1, h, w\) or \(n, h, w, 3\), got \(28, 28\)"),
    (lambda: show_images(onp.zeros((2, 4, 4)), 1, 2, titles=["a"]), ValueError, r"at least 2 `titles`, got 1"),
    (lambda: show_images(onp.zeros((2, 4, 4)), 0, 2), ValueError, r"`nrows` >= 1"),
    (lambda: show_images(onp.zeros((2, 3, 4, 5)), 1, 2), ValueError, r"colour `images` with 3 \(RGB\) or 4 \(RGBA\) channels on the last axis, shape \(n, h, w, 3\), got shape \(2, 3, 4, 5\). For channels first, pass images.transpose\(0, 2, 3, 1\)."),
    (lambda: show_images(onp.zeros((2, 5, 5, 2)), 1, 2), ValueError, r"3 \(RGB\) or 4 \(RGBA\) channels on the last axis, shape \(n, h, w, 3\), got shape \(2, 5, 5, 2\).$"),
    (lambda: show_images(onp.zeros((2, 4, 4)), 1, 2, scale=0), ValueError, r"Expected `scale` as a number of inches > 0, got 0."),
    (lambda: show_images(onp.zeros((2, 4, 4)), 1, 2, scale=float("nan")), ValueError, r"`scale` as a finite number of inches > 0, got nan"),
    (lambda: show_images(onp.zeros((2, 4, 4)), 1, 2, scale="big"), TypeError, r"`scale` as a number of inches > 0, got 'big' \(str\)"),
    (lambda: plot_history({}), ValueError, r"a History or a non-empty dict of lists"),
    (lambda: plot_history([1.0, 0.5]), ValueError, r"a History or a non-empty dict of lists"),
    (lambda: plot_history({"loss": [1.0]}, metrics=["val_loss"]), KeyError, r"No metric \['val_loss'\] in the history. Available: \['loss'\]"),
]


@pytest.mark.parametrize("call, error, pattern", BAD_INPUTS)
def test_bad_input_raises_a_clear_error(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


@pytest.mark.parametrize("call, error, pattern", [
    (lambda dl: dl.plot_function("tanh", [0.0]), TypeError, r"`f` to be callable, got 'tanh' \(str\)"),
    (lambda dl: dl.plot_function(lambda z: z.sum(), [0.0, 1.0]), ValueError, r"`f` to be element-wise \(output shape \(2,\)\), got output shape \(\)"),
    (lambda dl: dl.plot_function(lambda z: z, ["a"]), TypeError, r"`x` to hold numbers"),
])
def test_layer_plot_function_bad_input_raises_the_same_error(dl, call, error, pattern):
    with pytest.raises(error, match=pattern):
        call(dl)
