"""The framework-neutral part of starting a book session: figures.

Each layer's ``setup`` (:func:`dlbook.mxnet.session.setup`,
:func:`dlbook.torch.session.setup`) checks its arguments with
:func:`check_figure_format`, prepares its framework, seeds everything, then
calls :func:`setup_figures`.
"""
import os

from ._checks import check_choice

__all__ = ["FIGURE_FORMATS", "FIGURE_LANGUAGE_VARIABLE", "check_figure_format", "check_figure_language",
           "setup_figures"]

#: The environment variable that gives ``figure_language`` when ``setup`` is not told
#: (the book's build sets it to ``both``).
FIGURE_LANGUAGE_VARIABLE = "DLBOOK_FIGURE_LANGUAGE"

#: The formats Jupyter can show the book's figures in.
FIGURE_FORMATS = ("svg", "png", "retina")


def check_figure_format(figure_format):
    """Return ``figure_format`` if it is one of :data:`FIGURE_FORMATS`, or raise a clear error.

    Parameters
    ----------
    figure_format : {'svg', 'png', 'retina'}
        The format to check; anything else raises ValueError, which lists the
        formats.

    Returns
    -------
    str

    Examples
    --------
    >>> from dlbook.session import check_figure_format
    >>> check_figure_format("svg")
    'svg'
    >>> check_figure_format("jpeg")
    Traceback (most recent call last):
    ...
    ValueError: Unknown `figure_format` 'jpeg'. Expected one of: 'png', 'retina', 'svg'.
    """
    return check_choice("figure_format", figure_format, set(FIGURE_FORMATS))


def check_figure_language(figure_language, figure_format="svg"):
    """The figure language to use: ``figure_language``, else the environment's, else None.

    None means that figures show their labels as written ("훈련 손실 (training
    loss)"). When ``figure_language`` is None, the environment variable
    :data:`FIGURE_LANGUAGE_VARIABLE` is read (empty: None). ``'both'`` needs SVG
    figures, which carry their language in the file.

    Parameters
    ----------
    figure_language : {'ko', 'en', 'both'} or None
        The language asked for; None reads :data:`FIGURE_LANGUAGE_VARIABLE`.
        Any other value, here or in the variable, raises ValueError.
    figure_format : str, default 'svg'
        The figure format that will be used (see :func:`check_figure_format`);
        ``'both'`` with another format than ``'svg'`` raises ValueError.

    Returns
    -------
    {'ko', 'en', 'both'} or None

    Examples
    --------
    >>> from dlbook.session import check_figure_language
    >>> check_figure_language("en")
    'en'
    >>> check_figure_language("both", "png")
    Traceback (most recent call last):
    ...
    ValueError: `figure_language='both'` needs `figure_format='svg'` (each SVG carries its language), got 'png'.
    >>> check_figure_language("fr")
    Traceback (most recent call last):
    ...
    ValueError: Expected `figure_language` to be one of 'ko', 'en', 'both', got 'fr'.
    """
    from .language import FIGURE_LANGUAGES, _check_language

    source = "figure_language"
    if figure_language is None:
        figure_language = os.environ.get(FIGURE_LANGUAGE_VARIABLE) or None
        source = f"the environment variable {FIGURE_LANGUAGE_VARIABLE}"
    if figure_language is None:
        return None
    if not isinstance(figure_language, str) or figure_language not in FIGURE_LANGUAGES:
        if source == "figure_language":
            _check_language(figure_language, "figure_language", FIGURE_LANGUAGES)
        raise ValueError(f"Expected {source} to be one of {', '.join(FIGURE_LANGUAGES)} "
                         f"or empty, got {figure_language!r}.")
    if figure_language == "both" and figure_format != "svg":
        raise ValueError("`figure_language='both'` needs `figure_format='svg'` (each SVG carries "
                         f"its language), got {figure_format!r}.")
    return figure_language


def setup_figures(figure_format="svg", figure_language=None):
    """Make matplotlib draw Hangul and, inside Jupyter, show figures as ``figure_format``.

    Parameters
    ----------
    figure_format : {'svg', 'png', 'retina'}, default 'svg'
        SVG stays sharp at every zoom level.
    figure_language : {'ko', 'en', 'both'}, optional
        The language of the figures' labels, which the book writes as "한국어
        (English)": ``'ko'`` or ``'en'`` keeps one part, ``'both'`` shows each
        figure once per language (the book's build), None (default) the labels
        as written, unless the environment variable
        :data:`FIGURE_LANGUAGE_VARIABLE` says otherwise. See :mod:`dlbook.language`.

    Examples
    --------
    >>> import matplotlib as mpl
    >>> from dlbook.session import setup_figures
    >>> setup_figures()
    >>> mpl.rcParams["font.family"][0]
    'DlbookGothic'
    """
    from .callbacks import in_notebook
    from .language import show_figures_in
    from .plot import use_korean_font

    check_figure_format(figure_format)
    figure_language = check_figure_language(figure_language, figure_format)
    use_korean_font()
    if in_notebook():
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats(figure_format)
        show_figures_in(figure_language)
