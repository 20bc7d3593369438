"""Set up a book (or notebook) session in one call."""
import mxnet as mx

from ..plot import use_korean_font
from .utils import seed_everything

__all__ = ["setup"]


def setup(seed=0, figure_format="svg"):
    """Prepare a session the way every chapter of the book starts.

    Turns on MXNet's NumPy interface (``npx.set_np()``), seeds every random
    source, makes matplotlib draw Hangul, and, inside Jupyter, shows figures
    as ``figure_format`` (SVG: sharp at every zoom level).

    Parameters
    ----------
    seed : int, default 0
    figure_format : {'svg', 'png', 'retina'}, default 'svg'

    Examples
    --------
    >>> from dlbook import mxnet as dl
    >>> dl.setup(seed=0)
    >>> import mxnet as mx
    >>> mx.util.is_np_array()
    True
    """
    from .._checks import check_choice

    check_choice("figure_format", figure_format, {"svg", "png", "retina"})
    mx.npx.set_np()
    seed_everything(seed)
    use_korean_font()
    from ..callbacks import in_notebook

    if in_notebook():
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats(figure_format)
