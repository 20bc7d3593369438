"""Start a book (or notebook) session with MXNet in one call: seeding and ``setup``."""
import mxnet as mx

from ..seeding import check_seed, seed_python_and_numpy
from ..session import check_figure_format, check_figure_language, setup_figures

__all__ = ["seed_everything", "setup"]


def seed_everything(seed=0):
    """Seed every random source dlbook and the book use.

    Seeds Python's ``random``, NumPy's global generator and MXNet's generators
    (on every device), and sets ``PYTHONHASHSEED`` for child processes.

    Parameters
    ----------
    seed : int, default 0
        A non-negative integer.

    See Also
    --------
    dlbook.seeding.seed_python_and_numpy : the framework-neutral part.

    Examples
    --------
    >>> import mxnet as mx
    >>> from dlbook.mxnet.session import seed_everything
    >>> seed_everything(42)
    >>> a = mx.np.random.uniform(size=3)
    >>> seed_everything(42)
    >>> b = mx.np.random.uniform(size=3)
    >>> bool((a == b).all())
    True
    """
    mx.random.seed(seed_python_and_numpy(seed))


def setup(seed=0, figure_format="svg", figure_language=None):
    """Prepare a session the way every chapter of the book starts.

    Turns on MXNet's NumPy interface (``npx.set_np()``), seeds every random
    source, makes matplotlib draw Hangul, and, inside Jupyter, shows figures
    as ``figure_format`` (SVG: sharp at every zoom level).

    Parameters
    ----------
    seed : int, default 0
    figure_format : {'svg', 'png', 'retina'}, default 'svg'
    figure_language : {'ko', 'en', 'both'}, optional
        Labels written "한국어 (English)" show one language (``'ko'``, ``'en'``),
        or each figure is shown once per language (``'both'``, the book's build).
        Default: as written, or what the environment variable
        ``DLBOOK_FIGURE_LANGUAGE`` says (:func:`dlbook.session.setup_figures`).

    Examples
    --------
    >>> from dlbook import mxnet as dl
    >>> dl.setup(seed=0)
    >>> import mxnet as mx
    >>> mx.util.is_np_array()
    True
    """
    check_figure_format(figure_format)
    check_figure_language(figure_language, figure_format)
    check_seed(seed)
    mx.npx.set_np()
    seed_everything(seed)
    setup_figures(figure_format, figure_language)
