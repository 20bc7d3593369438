"""Figures in the reader's language: the Korean and the English part of a bilingual label.

The book writes a label that a figure shows as Korean followed by its English name
in parentheses, the way its headings read: ``"훈련 손실 (training loss)"``. Drawn as
written, a figure shows both. :func:`in_language` keeps one of them, and
:func:`figure_in_language` redraws a whole figure (titles, axis and tick labels,
legends, annotations) in one language and puts every text back afterwards.

Inside Jupyter, ``dl.setup(figure_language=...)`` (:func:`show_figures_in`) makes
every figure the notebook shows come out in ``'ko'`` or ``'en'``, or, with
``'both'``, twice: once per language, each SVG marked with its language
(``xml:lang`` on the ``<svg>`` element), which is how the book's build gives each
figure to the language switch of its pages and to the PDF of each language. Text
without Hangul (numbers, formulas, names such as ``ReLU``) is the same in both
languages; a figure with no Korean text is shown once.
"""
import contextlib
import re
import warnings

from ._checks import describe

__all__ = ["FIGURE_LANGUAGES", "HANGUL", "FigureLanguageWarning", "english_span", "in_language",
           "figure_in_language", "figure_texts", "show_figures_in"]

#: The values of ``figure_language``: one language, or each figure once per language.
FIGURE_LANGUAGES = ("ko", "en", "both")

# The same ranges as the book's one definition (book/_ext/bilingual_text.py, which the
# installed package cannot import); tests/test_bilingual_text.py keeps the two equal.
_HANGUL_RANGES = ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7A3),
                  (0xD7B0, 0xD7FF))
#: One Hangul character (syllables and every block of jamo).
HANGUL = re.compile("[" + "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in _HANGUL_RANGES) + "]")


class FigureLanguageWarning(UserWarning):
    """A figure text holds Korean but no English part, so the English figure shows it in Korean.

    The book's build fails on it (``tools/build_book.py``: every figure must read
    in English too). Turn it into an error in your own notebooks with
    :func:`warnings.simplefilter`, as in the example.

    Examples
    --------
    >>> import warnings
    >>> from dlbook.language import FigureLanguageWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", FigureLanguageWarning)
    ...     try:
    ...         warnings.warn("'손실' has no English part", FigureLanguageWarning)
    ...     except UserWarning as err:  # a UserWarning, raised as an error
    ...         print(type(err).__name__, err)
    FigureLanguageWarning '손실' has no English part
    """


def _opening(text, close):
    """The index of the "(" that the ")" at ``close`` closes, or None when unbalanced."""
    depth = 0
    for index in range(close, -1, -1):
        depth += {")": 1, "(": -1}.get(text[index], 0)
        if depth == 0:
            return index
    return None


def english_span(text):
    """``(start, end)`` of the English name in a bilingual text, else None.

    A bilingual text is Korean followed by its English name in parentheses, the
    last parenthesised group of the text (the Korean part may hold parentheses of
    its own: ``GPU (선택 사항) (GPU, Optional)``). The English part holds no Hangul.

    Parameters
    ----------
    text : str
        The text; trailing white space is ignored. Anything but a str raises
        TypeError.

    Returns
    -------
    tuple of int or None
        ``(start, end)`` such that ``text[start:end]`` is the English name without
        the white space around it inside the parentheses; None when ``text`` does
        not end with such a group after Korean text.

    Examples
    --------
    >>> text = "GPU (선택 사항) (GPU, Optional)"
    >>> start, end = english_span(text)
    >>> text[start:end]
    'GPU, Optional'
    >>> english_span("Glossary") is None, english_span("용어집") is None
    (True, True)
    >>> english_span("LSTM (전체 평균, overall)") is None  # Korean inside the parentheses
    True
    """
    if not isinstance(text, str):
        raise TypeError(f"Expected `text` to be a str, got {describe(text)}.")
    stripped = text.rstrip()
    if not stripped.endswith(")"):
        return None
    close = len(stripped) - 1
    index = _opening(stripped, close)
    if index is None:
        return None
    korean, english = stripped[:index], stripped[index + 1:close]
    if not HANGUL.search(korean) or HANGUL.search(english) or not english.strip():
        return None
    start = index + 1
    start += len(english) - len(english.lstrip())
    return start, close - (len(english) - len(english.rstrip()))


def _check_language(value, name="lang", allowed=("ko", "en")):
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"Expected `{name}` to be one of {', '.join(map(repr, allowed))}, "
                         f"got {describe(value) if not isinstance(value, str) else repr(value)}.")
    return value


def _split(text):
    """``(korean, english)`` of a bilingual text, or None.

    The English name is a parenthesised group that follows a space and Korean
    text, holds no Hangul, and is followed by no Hangul: either the end of the
    text (``훈련 손실 (training loss)``) or a common tail that both languages
    keep (``배치 크기 (batch size) $B$``, ``선형 (linear), ρ = 0.8``).
    """
    span = english_span(text)
    if span is not None:
        start, end = span
        return text[:start - 1].rstrip(), text[start:end]
    for close in range(len(text) - 1, -1, -1):
        if text[close] != ")":
            continue
        tail = text[close + 1:]
        if HANGUL.search(tail):
            return None  # Korean after every group from here on
        opening = _opening(text, close)
        if opening is None:
            return None
        head, english = text[:opening], text[opening + 1:close]
        if (head[-1:].isspace() and HANGUL.search(head) and english.strip()
                and not HANGUL.search(english)):
            return head.rstrip() + tail, english.strip() + tail
    return None


def in_language(text, lang):
    """``text`` as the figure of language ``lang`` shows it, or None where it cannot.

    ``'ko'`` keeps the Korean part of ``"한국어 (English)"``, ``'en'`` the English
    part; a tail after the parentheses without Hangul (a symbol, a value) stays
    in both. Text without Hangul is the same in both. Korean text without an
    English part stays as it is in ``'ko'`` and gives None in ``'en'``.

    Parameters
    ----------
    text : str
    lang : {'ko', 'en'}

    Examples
    --------
    >>> from dlbook.language import in_language
    >>> in_language("훈련 손실 (training loss)", "ko"), in_language("훈련 손실 (training loss)", "en")
    ('훈련 손실', 'training loss')
    >>> in_language("배치 크기 (batch size) $B$", "ko"), in_language("배치 크기 (batch size) $B$", "en")
    ('배치 크기 $B$', 'batch size $B$')
    >>> in_language("softmax(z)", "ko"), in_language("ReLU", "en")
    ('softmax(z)', 'ReLU')
    >>> in_language("한글만", "ko"), in_language("한글만", "en")
    ('한글만', None)
    """
    _check_language(lang)
    if not isinstance(text, str):
        raise TypeError(f"Expected `text` to be a str, got {describe(text)}.")
    if not HANGUL.search(text):
        return text
    parts = _split(text)
    if parts is None:
        return text if lang == "ko" else None
    return parts[0] if lang == "ko" else parts[1]


def figure_texts(fig):
    """Every text artist of ``fig`` with a non-empty text, tick labels included.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure, searched with ``fig.findobj``; tick labels that a formatter
        makes only when the figure is drawn are not among them yet.

    Returns
    -------
    list of matplotlib.text.Text

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from dlbook.language import figure_texts
    >>> fig, ax = plt.subplots()
    >>> _ = ax.set_title("제목 (title)")
    >>> "제목 (title)" in [t.get_text() for t in figure_texts(fig)]
    True
    >>> plt.close(fig)
    """
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_text()]


def _axes_formatters(fig):
    for ax in fig.get_axes():
        for axis in (ax.xaxis, ax.yaxis, getattr(ax, "zaxis", None)):
            if axis is not None:
                yield axis.get_major_formatter()
                yield axis.get_minor_formatter()


@contextlib.contextmanager
def figure_in_language(fig, lang, missing=None):
    """Show ``fig`` in language ``lang`` inside the ``with`` block; put every text back after.

    Titles, axis labels, legend entries, annotations and tick labels (also those
    a formatter makes when the figure is drawn, such as category names) are
    replaced by :func:`in_language`. A Korean text with no English part stays as
    it is; its text is appended to the list ``missing`` when one is given.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure; the ``with`` statement gives it back (``as fig``).
    lang : {'ko', 'en'}
        The language to show; anything else raises ValueError.
    missing : list, optional
        Receives, once each, the Korean texts without an English part, which
        stay in Korean (only with ``'en'``). By default they are not collected.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from dlbook.language import figure_in_language
    >>> fig, ax = plt.subplots()
    >>> _ = ax.set_xlabel("에포크 (epoch)")
    >>> with figure_in_language(fig, "en"):
    ...     ax.get_xlabel()
    'epoch'
    >>> ax.get_xlabel()
    '에포크 (epoch)'
    >>> plt.close(fig)
    """
    _check_language(lang)

    def translate(text):
        shown = in_language(text, lang)
        if shown is None:
            if missing is not None and text not in missing:
                missing.append(text)
            return text
        return shown

    originals = [(t, t.get_text()) for t in figure_texts(fig)]
    patched = []
    try:
        for artist, text in originals:
            artist.set_text(translate(text))
        for formatter in {id(f): f for f in _axes_formatters(fig)}.values():
            original = formatter.format_ticks
            formatter.format_ticks = (lambda values, _f=original: [translate(str(s)) for s in _f(values)])
            patched.append(formatter)
        yield fig
    finally:
        for formatter in patched:
            del formatter.format_ticks  # the class's method again
        for artist, text in originals:
            artist.set_text(text)


def _tag_svg(svg, lang):
    """The SVG document ``svg`` with ``xml:lang`` set on its root element."""
    if isinstance(svg, bytes):
        svg = svg.decode("utf-8")
    return re.sub(r"<svg\b", f'<svg xml:lang="{lang}"', svg, count=1)


class _Display:
    """IPython's display of matplotlib figures, in one language or once per language.

    Registered with IPython's ``ipython_display_formatter`` for ``Figure``, it is
    called for every figure shown (the inline backend at the end of a cell,
    ``plt.show()``, ``display(fig)``, a figure as a cell's value) and publishes the
    outputs itself. IPython counts a figure as handled once this is called, so it
    steps aside while IPython's own formatters draw each version.
    """

    def __init__(self, shell, language):
        self.shell, self.language = shell, language

    @contextlib.contextmanager
    def _aside(self):
        from matplotlib.figure import Figure

        formatter = self.shell.display_formatter.ipython_display_formatter
        formatter.pop(Figure, None)
        try:
            yield
        finally:
            formatter.for_type(Figure, self)

    def __call__(self, fig):
        from IPython.display import publish_display_data

        korean = any(HANGUL.search(t.get_text()) for t in figure_texts(fig))
        langs = [None] if not korean else ["ko", "en"] if self.language == "both" else [self.language]
        missing, bundles = [], []
        with self._aside():
            for lang in langs:
                if lang is None:
                    data, metadata = self.shell.display_formatter.format(fig)
                else:
                    with figure_in_language(fig, lang, missing=missing if lang == "en" else None):
                        data, metadata = self.shell.display_formatter.format(fig)
                if lang is not None and self.language == "both":
                    if "image/svg+xml" in data:
                        data["image/svg+xml"] = _tag_svg(data["image/svg+xml"], lang)
                    metadata = {**metadata, "dlbook": {"language": lang}}
                if data:
                    bundles.append((data, metadata))
        for text in missing:
            warnings.warn(f"Figure text {text!r} has Korean but no English part: write it as "
                          "'한국어 (English)' so that the English figure can show it.",
                          FigureLanguageWarning, stacklevel=2)
        for data, metadata in bundles:
            publish_display_data(data, metadata)


def show_figures_in(language, shell=None):
    """Make the notebook show every matplotlib figure in ``language``.

    Parameters
    ----------
    language : {'ko', 'en', 'both'} or None
        ``'ko'`` / ``'en'``: one language. ``'both'``: each figure with Korean
        text is shown twice, Korean first, each output's SVG marked with
        ``xml:lang`` (and its metadata with ``{"dlbook": {"language": ...}}``);
        this needs SVG figures. None: figures show their texts as written.
    shell : IPython.core.interactiveshell.InteractiveShell, optional
        Default: the running one. Outside IPython nothing is changed.

    Returns
    -------
    bool
        Whether a shell was configured.

    Examples
    --------
    >>> from dlbook.language import show_figures_in
    >>> show_figures_in("en", shell=object())  # not an IPython shell: nothing to configure
    False
    >>> show_figures_in("de")
    Traceback (most recent call last):
    ...
    ValueError: Expected `figure_language` to be one of 'ko', 'en', 'both', got 'de'.
    """
    if language is not None:
        _check_language(language, "figure_language", FIGURE_LANGUAGES)
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return False
    from matplotlib.figure import Figure

    formatter = shell.display_formatter.ipython_display_formatter
    if language is None:
        formatter.pop(Figure, None)
    else:
        formatter.for_type(Figure, _Display(shell, language))
    return True
