"""The framework-neutral part of starting a book session: figures.

Each layer's ``setup`` (:func:`dlbook.mxnet.session.setup`,
:func:`dlbook.torch.session.setup`) checks its arguments with
:func:`check_figure_format`, prepares its framework, seeds everything, then
calls :func:`setup_figures`.
"""
from ._checks import check_choice

__all__ = ["FIGURE_FORMATS", "check_figure_format", "setup_figures"]

#: The formats Jupyter can show the book's figures in.
FIGURE_FORMATS = ("svg", "png", "retina")


def check_figure_format(figure_format):
    """Return ``figure_format`` if it is one of :data:`FIGURE_FORMATS`, or raise a clear error.

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


def setup_figures(figure_format="svg"):
    """Make matplotlib draw Hangul and, inside Jupyter, show figures as ``figure_format``.

    Parameters
    ----------
    figure_format : {'svg', 'png', 'retina'}, default 'svg'
        SVG stays sharp at every zoom level.

    Examples
    --------
    >>> import matplotlib as mpl
    >>> from dlbook.session import setup_figures
    >>> setup_figures()
    >>> mpl.rcParams["font.family"][0]
    'DlbookGothic'
    """
    from .callbacks import in_notebook
    from .plot import use_korean_font

    check_figure_format(figure_format)
    use_korean_font()
    if in_notebook():
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats(figure_format)
