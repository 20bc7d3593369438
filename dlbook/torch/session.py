"""Start a book (or notebook) session with PyTorch in one call: seeding and ``setup``."""
import torch

from ..seeding import check_seed, seed_python_and_numpy
from ..session import check_figure_format, check_figure_language, setup_figures

__all__ = ["seed_everything", "setup"]


def seed_everything(seed=0):
    """Seed every random source dlbook and the book use.

    Seeds Python's ``random``, NumPy's global generator and PyTorch's
    generators (``torch.manual_seed``: the CPU and every CUDA device), and sets
    ``PYTHONHASHSEED`` for child processes.

    Parameters
    ----------
    seed : int, default 0
        A non-negative integer up to 2**31 - 1 (the limit of MXNet's seed, kept
        in both layers).

    See Also
    --------
    dlbook.seeding.seed_python_and_numpy : the framework-neutral part.

    Examples
    --------
    >>> import torch
    >>> from dlbook.torch.session import seed_everything
    >>> seed_everything(42)
    >>> a = torch.rand(3)
    >>> seed_everything(42)
    >>> b = torch.rand(3)
    >>> bool((a == b).all())
    True
    """
    torch.manual_seed(seed_python_and_numpy(seed))


def setup(seed=0, figure_format="svg", figure_language=None):
    """Prepare a session the way every chapter of the book starts.

    Seeds every random source, makes matplotlib draw Hangul, and, inside
    Jupyter, shows figures as ``figure_format`` (SVG: sharp at every zoom
    level). PyTorch needs no switch like MXNet's ``npx.set_np()``: its tensors
    already behave like NumPy arrays, and it runs eagerly by default.

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
    >>> import torch
    >>> from dlbook import torch as dl
    >>> dl.setup(seed=0)
    >>> a = torch.rand(2)
    >>> dl.setup(seed=0)
    >>> bool((a == torch.rand(2)).all())
    True
    """
    check_figure_format(figure_format)
    check_figure_language(figure_language, figure_format)
    check_seed(seed)
    seed_everything(seed)
    setup_figures(figure_format, figure_language)
