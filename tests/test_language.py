"""Figures in the reader's language (dlbook.language) and how setup turns them on."""
import re
import warnings

import matplotlib
import matplotlib.pyplot as plt
import pytest

from dlbook import language
from dlbook.language import FigureLanguageWarning, figure_in_language, in_language
from dlbook.session import check_figure_language

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def korean_font():
    from dlbook.plot import use_korean_font

    use_korean_font()


@pytest.mark.parametrize("text, ko, en", [
    ("훈련 손실 (training loss)", "훈련 손실", "training loss"),
    ("배치 크기 $B$ (batch size $B$)", "배치 크기 $B$", "batch size $B$"),
    ("GPU (선택 사항) (GPU, Optional)", "GPU (선택 사항)", "GPU, Optional"),
    ("확산, t = 10 (diffusion, t = 10)", "확산, t = 10", "diffusion, t = 10"),
    ("훈련 손실\n(training loss)", "훈련 손실", "training loss"),
    ("softmax(z)", "softmax(z)", "softmax(z)"),
    ("$\\eta$ = 0.1", "$\\eta$ = 0.1", "$\\eta$ = 0.1"),
    ("입력 (input) x", "입력 x", "input x"),               # a tail both languages keep
    ("교차 엔트로피 (cross-entropy) $H(p, q)$", "교차 엔트로피 $H(p, q)$", "cross-entropy $H(p, q)$"),
    ("선형 (linear), ρ = 0.8", "선형, ρ = 0.8", "linear, ρ = 0.8"),
    ("리키 ReLU (Leaky ReLU), α = 0.1", "리키 ReLU, α = 0.1", "Leaky ReLU, α = 0.1"),
    ("블록 (block), 입력 쪽", "블록 (block), 입력 쪽", None),  # Korean after the English
    ("LSTM (전체 평균, overall)", "LSTM (전체 평균, overall)", None),  # Korean inside it
    ("한글만", "한글만", None),
])
def test_each_language_keeps_its_part_of_a_label(text, ko, en):
    assert in_language(text, "ko") == ko
    assert in_language(text, "en") == en


def test_bad_language_and_text_are_clear_errors():
    with pytest.raises(ValueError, match=r"`lang`.*'ko', 'en'.*'fr'"):
        in_language("에포크 (epoch)", "fr")
    with pytest.raises(TypeError, match=r"`text` to be a str, got 3 \(int\)"):
        in_language(3, "ko")
    with pytest.raises(TypeError, match=r"`text` to be a str, got None \(NoneType\)"):
        language.english_span(None)
    with pytest.raises(TypeError, match=r"`text` to be a str, got b'GPU \(GPU\)' \(bytes\)"):
        language.english_span(b"GPU (GPU)")


def _figure():
    fig, (left, right) = plt.subplots(1, 2)
    left.plot([0, 1], [0, 1], label="직선 (line)")
    left.plot([0, 1], [1, 0], label="ReLU")
    left.set(xlabel="에포크 (epoch)", ylabel="훈련 손실 (training loss)", title="학습 곡선 (learning curve)")
    left.legend()
    left.annotate("최솟값 (minimum)", (0.5, 0.5))
    right.bar(["고양이 (cat)", "개 (dog)"], [1, 2])  # category names: tick labels made at draw time
    right.set_xticks([0, 1])
    fig.suptitle("그림 (figure)")
    return fig


def _drawn_texts(fig):
    fig.canvas.draw()
    return sorted(t.get_text() for t in language.figure_texts(fig) if t.get_visible())


def test_a_figure_in_english_has_no_korean_and_gets_its_texts_back():
    fig = _figure()
    before = _drawn_texts(fig)
    with figure_in_language(fig, "en"):
        english = _drawn_texts(fig)
    assert not any(language.HANGUL.search(t) for t in english), english
    assert {"epoch", "training loss", "learning curve", "line", "ReLU", "minimum", "cat", "dog",
            "figure"} <= set(english)
    with figure_in_language(fig, "ko"):
        korean = _drawn_texts(fig)
    assert {"에포크", "훈련 손실", "고양이", "개", "ReLU"} <= set(korean) and "epoch" not in korean
    assert _drawn_texts(fig) == before  # every text, tick labels included, as written again
    for ax in fig.axes:  # the formatters' own method again, no patch left on them
        assert "format_ticks" not in vars(ax.xaxis.get_major_formatter())
    plt.close(fig)


def test_a_korean_text_without_english_is_reported_and_kept():
    fig, ax = plt.subplots()
    ax.set_title("한글만")
    missing = []
    with figure_in_language(fig, "en", missing=missing):
        assert ax.get_title() == "한글만"
    assert missing == ["한글만"]
    plt.close(fig)


# ----------------------------------------------------------------- inside IPython
@pytest.fixture
def shell(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.core.pylabtools import select_figure_formats

    ip = InteractiveShell.instance()
    select_figure_formats(ip, {"svg"})
    matplotlib.rcParams["svg.hashsalt"] = "dlbook-test"  # the same SVG for the same figure
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    yield ip
    language.show_figures_in(None, ip)
    matplotlib.rcParams["svg.hashsalt"] = None


def _shown(ip, fig):
    from IPython.display import display
    from IPython.utils.capture import capture_output

    with capture_output() as captured:
        display(fig)
    return captured.outputs


def _small(xlabel, title):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    ax.set(xlabel=xlabel, title=title)
    return fig, ax


def _svg_with_labels(ip, xlabel, title):
    fig, _ = _small(xlabel, title)
    data, _ = ip.display_formatter.format(fig)
    plt.close(fig)
    return data["image/svg+xml"]


def test_both_shows_each_figure_once_per_language_drawn_as_if_written_so(shell):
    fig, ax = _small("에포크 (epoch)", "ReLU")
    assert language.show_figures_in("both", shell)
    outputs = _shown(shell, fig)
    assert [o.metadata.get("dlbook") for o in outputs] == [{"language": "ko"}, {"language": "en"}]
    svgs = [o.data["image/svg+xml"] for o in outputs]
    assert [re.search(r'<svg xml:lang="(\w+)"', s).group(1) for s in svgs] == ["ko", "en"]
    # Each is the very figure one would draw with that language's label (hash salt fixed).
    language.show_figures_in(None, shell)
    for svg, label in zip(svgs, ["에포크", "epoch"]):
        assert svg.replace(re.search(r' xml:lang="\w+"', svg).group(0), "", 1) == \
            _svg_with_labels(shell, label, "ReLU")
    assert ax.get_xlabel() == "에포크 (epoch)"  # the notebook's figure keeps its labels
    plt.close(fig)


def test_one_language_and_figures_without_korean_are_shown_once(shell):
    language.show_figures_in("en", shell)
    fig, ax = _small("에포크 (epoch)", "ReLU")
    (output,) = _shown(shell, fig)
    assert "dlbook" not in output.metadata and "xml:lang" not in output.data["image/svg+xml"]
    language.show_figures_in(None, shell)
    assert output.data["image/svg+xml"] == _svg_with_labels(shell, "epoch", "ReLU")
    language.show_figures_in("both", shell)
    ax.set_xlabel("epoch")
    (output,) = _shown(shell, fig)  # nothing Korean: once, for both languages
    assert "xml:lang" not in output.data["image/svg+xml"]
    plt.close(fig)


def test_a_label_the_english_figure_cannot_show_warns_with_the_text(shell):
    language.show_figures_in("both", shell)
    fig, ax = plt.subplots()
    ax.set_xlabel("블록 (block), 입력 쪽")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outputs = _shown(shell, fig)
    assert len(outputs) == 2
    messages = [str(w.message) for w in caught if issubclass(w.category, FigureLanguageWarning)]
    assert messages == ["Figure text '블록 (block), 입력 쪽' has Korean but no English part: write it as "
                        "'한국어 (English)' so that the English figure can show it."]
    plt.close(fig)


def test_figure_language_comes_from_the_argument_or_the_environment(monkeypatch):
    monkeypatch.delenv("DLBOOK_FIGURE_LANGUAGE", raising=False)
    assert check_figure_language(None) is None
    monkeypatch.setenv("DLBOOK_FIGURE_LANGUAGE", "both")
    assert check_figure_language(None) == "both" and check_figure_language("ko") == "ko"
    with pytest.raises(ValueError, match="needs `figure_format='svg'`"):
        check_figure_language(None, "png")
    monkeypatch.setenv("DLBOOK_FIGURE_LANGUAGE", "kr")
    with pytest.raises(ValueError, match="environment variable DLBOOK_FIGURE_LANGUAGE .* got 'kr'"):
        check_figure_language(None)
    with pytest.raises(ValueError, match="`figure_language`.*got 3"):
        check_figure_language(3)


@pytest.mark.parametrize("layer", ["mxnet", "torch"])
def test_both_layers_setup_check_figure_language_first(layer):
    import importlib

    setup = importlib.import_module(f"dlbook.{layer}.session").setup
    with pytest.raises(ValueError, match="`figure_language`"):
        setup(figure_language="english")
