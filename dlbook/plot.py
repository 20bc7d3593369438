"""Figures with Korean labels: line plots, functions with derivatives, images, learning curves.

Matplotlib's default font has no Hangul. :func:`use_korean_font` registers
NanumGothic (shipped by the ``koreanize-matplotlib`` package, or Debian's
``fonts-nanum``) with DejaVu Sans as fallback for the glyphs it lacks.
Nothing changes at import. The plotting functions here call it themselves
when matplotlib still has its default fonts, so a figure drawn without
``dl.setup()`` shows Hangul too; a font you chose is left alone.
"""
import importlib.util
import warnings
from pathlib import Path

import numpy as onp

from ._checks import check_int, check_number, describe

__all__ = ["KOREAN_FAMILY", "use_korean_font", "plot_lines", "plot_function", "show_images", "plot_history"]

_SYSTEM_FONT_DIRS = ("/usr/share/fonts/truetype/nanum", "/usr/share/fonts/opentype/nanum")


def _font_files():
    spec = importlib.util.find_spec("koreanize_matplotlib")  # found, never imported
    dirs = []
    if spec is not None and spec.submodule_search_locations:
        dirs += [Path(p) / "fonts" for p in spec.submodule_search_locations]
    dirs += [Path(d) for d in _SYSTEM_FONT_DIRS]
    for folder in dirs:
        files = sorted(folder.glob("NanumGothic*.ttf"))
        regular = [f for f in files if f.stem == "NanumGothic"]
        if regular or files:
            return regular or files
    return []


#: Family name of the patched NanumGothic that :func:`use_korean_font` registers.
KOREAN_FAMILY = "DlbookGothic"


def _with_minus_sign(src, folder):
    """A copy of the font at ``src`` that also maps U+2212 (minus sign), cached in ``folder``.

    NanumGothic has no minus sign. Matplotlib falls back per glyph for plain
    text, but not for math text (log-axis ticks, labels with $...$), whose
    plain parts use the first family only. The copy maps U+2212 to the font's
    own en dash (or hyphen) and is renamed (the SIL Open Font License asks that
    modified fonts not carry the original name).
    """
    import os
    import tempfile

    target = Path(folder) / f"{KOREAN_FAMILY}-{src.stem}.ttf"
    if target.is_file() and target.stat().st_mtime >= src.stat().st_mtime:
        return target
    from fontTools.ttLib import TTFont

    font = TTFont(str(src))
    cmap = font.getBestCmap()
    dash = cmap.get(0x2013) or cmap.get(0x2012) or cmap.get(0x002D)
    for table in font["cmap"].tables:
        if table.isUnicode() and 0x2212 not in table.cmap:
            table.cmap[0x2212] = dash
    style = src.stem.replace("NanumGothic", "") or "Regular"
    for record in font["name"].names:
        if record.nameID in (1, 16):
            record.string = KOREAN_FAMILY
        elif record.nameID == 4:
            record.string = f"{KOREAN_FAMILY} {style}"
        elif record.nameID == 6:
            record.string = f"{KOREAN_FAMILY}-{style}"
    Path(folder).mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    os.close(fd)
    try:
        font.save(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


def _font_cache_dir():
    import tempfile

    from .download import default_cache_dir

    folder = default_cache_dir() / "fonts"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
        return folder
    except OSError:  # read-only home: use a temporary folder instead
        return Path(tempfile.gettempdir()) / "dlbook-fonts"


def _restore_bundled_fonts():
    """Register matplotlib's own fonts (STIX, Computer Modern, ...) where its font list lacks them.

    Matplotlib reads its font list from a cache file in the user's cache
    folder, shared by every matplotlib on the machine. A cache written by an
    installation caught half-way through (an upgrade, a removed virtual
    environment) can lack the bundled fonts; math text then falls back to
    DejaVu Sans with "Font family ['cmsy10'] not found" warnings. Adding the
    missing files in place repairs the list for this process.
    """
    import matplotlib as mpl
    from matplotlib import font_manager

    known = {Path(f.fname).resolve() for f in font_manager.fontManager.ttflist}
    bundled = Path(mpl.get_data_path()) / "fonts" / "ttf"
    for path in sorted(bundled.glob("*.ttf")):
        if path.resolve() not in known:
            font_manager.fontManager.addfont(str(path))


def use_korean_font():
    """Make matplotlib draw Hangul everywhere: in text, tick labels and math text.

    Registers NanumGothic (from the ``koreanize-matplotlib`` package, or
    Debian's ``fonts-nanum``) as the family :data:`KOREAN_FAMILY`, patched
    with a minus sign, and puts it first with DejaVu Sans as the per-glyph
    fallback. Math symbols use DejaVu Sans. SVG text is drawn as paths, so
    figures look the same on machines without the font.

    ``dl.setup()`` calls it, and so do :func:`plot_lines`,
    :func:`plot_function`, :func:`show_images` and :func:`plot_history` when
    matplotlib still has its default fonts; call it yourself before drawing
    Korean text with matplotlib directly.

    Returns
    -------
    str
        The family name now in use, :data:`KOREAN_FAMILY`.

    Raises
    ------
    RuntimeError
        If no NanumGothic file is found.

    Examples
    --------
    >>> from dlbook.plot import use_korean_font
    >>> use_korean_font()
    'DlbookGothic'
    """
    import matplotlib as mpl
    from matplotlib import font_manager

    files = _font_files()
    if not files:
        raise RuntimeError(
            "No Korean font found. Install one: `pip install koreanize-matplotlib` "
            "(ships NanumGothic) or `apt install fonts-nanum`."
        )
    _restore_bundled_fonts()
    folder = _font_cache_dir()
    for f in files:
        font_manager.fontManager.addfont(str(_with_minus_sign(f, folder)))
    # A list of families (not the generic "sans-serif") turns on matplotlib's
    # per-glyph fallback for plain text.
    mpl.rcParams["font.family"] = [KOREAN_FAMILY, "DejaVu Sans"]
    mpl.rcParams["axes.unicode_minus"] = True
    # Math symbols ($\\alpha$, fractions, ...) come from DejaVu Sans.
    mpl.rcParams["mathtext.fontset"] = "custom"
    mpl.rcParams["mathtext.rm"] = "DejaVu Sans"
    mpl.rcParams["mathtext.sf"] = "DejaVu Sans"
    mpl.rcParams["mathtext.it"] = "DejaVu Sans:italic"
    mpl.rcParams["mathtext.bf"] = "DejaVu Sans:bold"
    mpl.rcParams["mathtext.cal"] = "DejaVu Sans"  # the default 'cursive' family is absent
    mpl.rcParams["mathtext.tt"] = "DejaVu Sans Mono"
    mpl.rcParams["svg.fonttype"] = "path"
    return KOREAN_FAMILY


def _ensure_korean_font():
    """Call :func:`use_korean_font` if matplotlib still has its default fonts.

    Cheap once done: the fonts are then no longer the defaults. A user who
    chose fonts (``font.family`` or ``font.sans-serif``, in code or in a
    matplotlibrc) keeps them. Without a Korean font file this warns instead
    of failing the plot.
    """
    import matplotlib as mpl

    if any(list(mpl.rcParams[key]) != list(mpl.rcParamsDefault[key])
           for key in ("font.family", "font.sans-serif")):
        return
    try:
        use_korean_font()
    except RuntimeError as err:
        # Keep the plot; say that Hangul will show as boxes.
        warnings.warn(f"Korean labels will show as boxes: {err}", RuntimeWarning, stacklevel=3)


def _axes(ax, figsize):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_lines(x, ys, labels=None, xlabel=None, ylabel=None, title=None, xlim=None, ylim=None,
               xscale="linear", yscale="linear", styles=None, figsize=(4.5, 3), ax=None):
    """Draw one or more curves over the same x values.

    Parameters
    ----------
    x : array-like, shape (n,)
    ys : array-like or list of array-like, each of shape (n,)
    labels : list of str, optional
        Legend entries, one per curve.
    xlabel, ylabel, title : str, optional
    xlim, ylim : tuple, optional
    xscale, yscale : str, default 'linear'
    styles : list of str, optional
        Matplotlib format strings, one per curve.
    figsize : tuple, default (4.5, 3)
    ax : matplotlib.axes.Axes, optional
        Draw into these axes instead of a new figure.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.plot import plot_lines, use_korean_font
    >>> _ = use_korean_font()
    >>> x = onp.linspace(0, 1, 5)
    >>> ax = plot_lines(x, [x, x ** 2], labels=["직선", "포물선"], xlabel="입력 x")
    >>> [line.get_label() for line in ax.get_lines()]
    ['직선', '포물선']
    """
    x = onp.asarray(x.asnumpy() if hasattr(x, "asnumpy") else x)
    if hasattr(ys, "shape") and len(getattr(ys, "shape")) == 1 or (
            isinstance(ys, (list, tuple)) and ys and onp.isscalar(ys[0])):
        ys = [ys]
    ys = [onp.asarray(y.asnumpy() if hasattr(y, "asnumpy") else y) for y in ys]
    for i, y in enumerate(ys):
        if y.shape != x.shape:
            raise ValueError(f"Expected `ys[{i}]` with the shape of `x` {x.shape}, got {y.shape}.")
    if labels is not None and len(labels) != len(ys):
        raise ValueError(f"Expected {len(ys)} `labels`, one per curve, got {len(labels)}.")
    styles = styles or ["-", "--", "-.", ":", "-", "--"]
    _ensure_korean_font()
    ax = _axes(ax, figsize)
    for i, y in enumerate(ys):
        ax.plot(x, y, styles[i % len(styles)], label=None if labels is None else labels[i])
    ax.set_xscale(xscale)
    ax.set_yscale(yscale)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if xlim is not None:
        ax.set_xlim(xlim)
    if ylim is not None:
        ax.set_ylim(ylim)
    if labels is not None:
        ax.legend()
    ax.grid(True, alpha=0.3)
    return ax


def plot_function(f, x, name=None, derivative=True, xlabel="x", ylabel=None, ax=None,
                  figsize=(4.5, 3), differentiate=None):
    """Plot an element-wise function and its derivative.

    This core version imports no framework: it takes the derivative from
    ``differentiate``, or, when that is None, by central differences on NumPy
    (:func:`dlbook.derivatives.numerical_derivative`). Each layer's
    ``plot_function`` (:func:`dlbook.mxnet.derivatives.plot_function`,
    :func:`dlbook.torch.derivatives.plot_function`) passes its autograd-based
    ``derivative``, so ``dl.plot_function`` takes functions of that layer's tensors.

    Parameters
    ----------
    f : callable
        Maps an array to an array of the same shape, element-wise.
    x : array-like, shape (n,)
        Where to evaluate it.
    name : str, optional
        Used in the legend and title (e.g. ``'ReLU'``).
    derivative : bool, default True
        Draw the derivative too.
    xlabel, ylabel : str, optional
        Axis labels (default ``'x'`` and none).
    ax : matplotlib.axes.Axes, optional
    figsize : tuple, default (4.5, 3)
    differentiate : callable, optional
        ``differentiate(f, x) -> (f(x), f'(x))`` as NumPy arrays, such as a
        layer's ``derivative``. Default: numerical differences, with ``f``
        called on NumPy arrays.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.plot import plot_function, use_korean_font
    >>> _ = use_korean_font()
    >>> ax = plot_function(lambda z: z ** 2, onp.linspace(-1, 1, 5), name="제곱")
    >>> onp.round(ax.get_lines()[1].get_ydata(), 4).tolist()  # d/dz z^2 = 2z
    [-2.0, -1.0, 0.0, 1.0, 2.0]
    """
    from .derivatives import numerical_derivative

    if not callable(f):
        raise TypeError(f"Expected `f` to be callable, got {describe(f)}.")
    if differentiate is not None and not callable(differentiate):
        raise TypeError(f"Expected `differentiate` to be callable, got {describe(differentiate)}.")
    y, dy = (differentiate or numerical_derivative)(f, x)
    xs = onp.asarray(x.asnumpy() if hasattr(x, "asnumpy") else x, dtype="float32")
    label = name or "f"
    ys, labels = [y], [f"{label}(x)"]
    if derivative:
        ys.append(dy)
        labels.append(f"{label}'(x)")
    return plot_lines(xs, ys, labels=labels, xlabel=xlabel, ylabel=ylabel, title=name, ax=ax,
                      figsize=figsize)


def show_images(images, nrows, ncols, titles=None, scale=1.5):
    """Show a grid of images (grayscale ``(n, h, w)`` / ``(n, 1, h, w)`` or RGB ``(n, h, w, 3)``).

    Parameters
    ----------
    images : array-like, shape (n, h, w), (n, 1, h, w), (n, h, w, 3) or (n, h, w, 4)
        The images (NumPy, MXNet or PyTorch on the CPU), grayscale drawn with the
        ``gray`` color map, colour ones with their channels last (RGB, or RGBA
        with 4). Another number of dimensions, or colour images with another
        number of channels last (e.g. channels first, ``(n, 3, h, w)``), raises
        ValueError.
    nrows, ncols : int
        The grid, at least 1 each; the first ``nrows * ncols`` images are shown,
        and cells beyond the last image stay empty.
    titles : sequence of str, optional
        One title per image shown (at least as many as are shown, else
        ValueError). By default the images have none.
    scale : float, default 1.5
        Size of each cell in inches: the figure is ``(ncols * scale, nrows *
        scale)``. A positive finite number (else ValueError; TypeError for
        something not a number).

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.plot import show_images, use_korean_font
    >>> _ = use_korean_font()
    >>> axes = show_images(onp.zeros((2, 28, 28)), 1, 2, titles=["첫째", "둘째"])
    >>> [ax.get_title() for ax in axes]
    ['첫째', '둘째']
    """
    import matplotlib.pyplot as plt

    imgs = onp.asarray(images.asnumpy() if hasattr(images, "asnumpy") else images)
    if imgs.ndim == 4 and imgs.shape[1] == 1:
        imgs = imgs[:, 0]
    if imgs.ndim not in (3, 4):
        raise ValueError(
            "Expected `images` with shape (n, h, w), (n, 1, h, w) or (n, h, w, 3), "
            f"got {imgs.shape}."
        )
    if imgs.ndim == 4 and imgs.shape[-1] not in (3, 4):
        hint = (" For channels first, pass images.transpose(0, 2, 3, 1)."
                if imgs.shape[1] in (3, 4) else "")
        raise ValueError(
            "Expected colour `images` with 3 (RGB) or 4 (RGBA) channels on the last axis, "
            f"shape (n, h, w, 3), got shape {imgs.shape}.{hint}"
        )
    nrows = check_int("nrows", nrows, minimum=1)
    ncols = check_int("ncols", ncols, minimum=1)
    scale = check_number("scale", scale, above=0, what="a number of inches")
    n = min(len(imgs), nrows * ncols)
    if titles is not None and len(titles) < n:
        raise ValueError(f"Expected at least {n} `titles`, got {len(titles)}.")
    _ensure_korean_font()
    _, axes = plt.subplots(nrows, ncols, figsize=(ncols * scale, nrows * scale), squeeze=False)
    axes = axes.ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i < n:
            ax.imshow(imgs[i], cmap="gray" if imgs.ndim == 3 else None)
            if titles is not None:
                ax.set_title(titles[i], fontsize=9)
    return axes


def plot_history(history, metrics=None, figsize=(6.5, 3)):
    """Draw learning curves: loss on the left, other metrics on the right.

    Parameters
    ----------
    history : dlbook.mxnet.train.History or dict of lists
    metrics : sequence of str, optional
        Keys to draw (default: every key except ``time``).
    figsize : tuple, default (6.5, 3)

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from dlbook.plot import plot_history, use_korean_font
    >>> _ = use_korean_font()
    >>> fig = plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7],
    ...                     "accuracy": [0.6, 0.8]})
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['손실 (loss)', '지표 (metric)']
    """
    import matplotlib.pyplot as plt

    data = getattr(history, "history", history)
    if not isinstance(data, dict) or not data:
        raise ValueError(f"Expected a History or a non-empty dict of lists, got {describe(history)}.")
    keys = [k for k in (metrics or data) if k != "time"]
    missing = [k for k in keys if k not in data]
    if missing:
        raise KeyError(f"No metric {missing} in the history. Available: {sorted(data)}.")
    loss_keys = [k for k in keys if k.endswith("loss")]
    other_keys = [k for k in keys if not k.endswith("loss")]
    panels = [p for p in (loss_keys, other_keys) if p]
    _ensure_korean_font()
    fig, axes = plt.subplots(1, len(panels), figsize=figsize, squeeze=False)
    for ax, panel in zip(axes[0], panels):
        for key in panel:
            values = data[key]
            ax.plot(range(1, len(values) + 1), values, "--" if key.startswith("val_") else "-",
                    marker="o", markersize=3, label=key)
        ax.set_xlabel("에포크 (epoch)")
        ax.set_ylabel("손실 (loss)" if panel is loss_keys else "지표 (metric)")
        ax.legend()
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig
