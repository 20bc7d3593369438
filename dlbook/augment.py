"""Data augmentation for batches of images held as NumPy arrays.

Random crops (shifts) and horizontal flips draw from a NumPy ``Generator``
passed in, so a seeded run augments the same way every time, and they work on
``(batch, channels, height, width)`` (``'NCHW'``, the layout of both of
dlbook's frameworks) or ``(batch, height, width, channels)`` (``'NHWC'``).
:class:`AugmentedLoader` draws a fresh augmentation of every training image
in every epoch and can be passed to either layer's ``Trainer.fit``.
Introduced in the book's chapter on modern convolutional networks.
"""
import numbers

import numpy as onp

from ._checks import check_choice, check_fraction, check_int, describe, to_numpy
from .data import BaseArrayLoader

__all__ = ["LAYOUTS", "AugmentedLoader", "flip_and_crop", "random_crop", "random_flip"]

#: Image layouts the functions take: channels first (both frameworks') or last.
LAYOUTS = ("NCHW", "NHWC")


def _generator(rng):
    """``rng`` as a NumPy Generator: a Generator, an int seed, or None (drawn from NumPy's global seed)."""
    if isinstance(rng, onp.random.Generator):
        return rng
    if rng is None:
        return onp.random.default_rng(int(onp.random.randint(0, 2**31 - 1)))
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return onp.random.default_rng(check_int("rng", rng, minimum=0))
    raise TypeError(
        f"Expected `rng` as a numpy.random.Generator, an int seed or None, got {describe(rng)}. "
        "Pass e.g. rng=numpy.random.default_rng(0).")


def _images(images, layout):
    """``images`` as a float NCHW NumPy array (a view where possible) and the layout checked."""
    check_choice("layout", layout, set(LAYOUTS))
    array = to_numpy("images", images)
    if array.ndim != 4:
        order = "(batch, channels, height, width)" if layout == "NCHW" else \
            "(batch, height, width, channels)"
        fix = "images[:, None]" if layout == "NCHW" else "images[..., None]"
        raise ValueError(
            f"Expected `images` with 4 dimensions {order} for layout={layout!r}, got shape "
            f"{array.shape}. Add the missing axes, e.g. {fix} for grey images.")
    return array if layout == "NCHW" else array.transpose(0, 3, 1, 2)


def _back(array, layout):
    return array if layout == "NCHW" else array.transpose(0, 2, 3, 1)


def random_crop(images, padding, size=None, rng=None, layout="NCHW"):
    """Cut a random window out of each image, after padding it with zeros.

    With ``size`` left as the image size, this shifts every image by a random
    offset of up to ``padding`` pixels in each direction (the empty border is
    0): the crop used by He et al. (2016) on CIFAR-10 (``padding=4``, 32x32).
    Each image gets its own offset, drawn uniformly.

    Parameters
    ----------
    images : array-like, shape (n, c, h, w) or (n, h, w, c)
        A batch of images.
    padding : int
        Zeros added on every side before cropping (0 or more).
    size : int or (int, int), optional
        Height and width of the crop, at most the padded size; default: the
        images' own size.
    rng : numpy.random.Generator or int, optional
        Where the offsets come from (an int seeds a new Generator). Default:
        drawn from NumPy's global generator (``seed_everything`` seeds it).
    layout : {'NCHW', 'NHWC'}, default 'NCHW'

    Returns
    -------
    numpy.ndarray
        ``(n, c, size, size)`` (or NHWC), of the input's dtype.

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.augment import random_crop
    >>> images = onp.arange(2 * 3 * 3, dtype="float32").reshape(2, 1, 3, 3)
    >>> out = random_crop(images, padding=1, rng=onp.random.default_rng(0))
    >>> out.shape
    (2, 1, 3, 3)
    >>> out[0, 0]  # this image moved up by one pixel, and zeros came in at the bottom
    array([[3., 4., 5.],
           [6., 7., 8.],
           [0., 0., 0.]], dtype=float32)
    >>> random_crop(images, padding=0, size=2, rng=0).shape  # a 2x2 window of each image
    (2, 1, 2, 2)
    """
    array = _images(images, layout)
    padding = check_int("padding", padding, minimum=0)
    n, c, h, w = array.shape
    if size is None:
        size = (h, w)
    elif isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = (size, size)
    if not (isinstance(size, (tuple, list)) and len(size) == 2 and all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in size)):
        raise TypeError(f"Expected `size` as an int or a pair (height, width), got {describe(size)}.")
    ch, cw = int(size[0]), int(size[1])
    if not (1 <= ch <= h + 2 * padding and 1 <= cw <= w + 2 * padding):
        raise ValueError(
            f"Expected `size` between 1 and the padded image size ({h + 2 * padding}, "
            f"{w + 2 * padding}), got {tuple(size)}.")
    rng = _generator(rng)
    padded = onp.pad(array, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    top = rng.integers(0, h + 2 * padding - ch + 1, size=n)
    left = rng.integers(0, w + 2 * padding - cw + 1, size=n)
    rows = (top[:, None] + onp.arange(ch))[:, :, None]          # (n, ch, 1)
    cols = (left[:, None] + onp.arange(cw))[:, None, :]         # (n, 1, cw)
    out = padded[onp.arange(n)[:, None, None], :, rows, cols]    # (n, ch, cw, c)
    return _back(onp.ascontiguousarray(out.transpose(0, 3, 1, 2)), layout)


def random_flip(images, p=0.5, rng=None, layout="NCHW"):
    """Mirror each image left to right with probability ``p``.

    Parameters
    ----------
    images : array-like, shape (n, c, h, w) or (n, h, w, c)
    p : float, default 0.5
        Probability that an image is flipped, in [0, 1].
    rng : numpy.random.Generator or int, optional
        As in :func:`random_crop`.
    layout : {'NCHW', 'NHWC'}, default 'NCHW'

    Returns
    -------
    numpy.ndarray
        A new array of the same shape.

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.augment import random_flip
    >>> images = onp.array([[[[1, 2, 3]]], [[[4, 5, 6]]]], dtype="float32")  # (2, 1, 1, 3)
    >>> random_flip(images, p=1.0, rng=0)[:, 0, 0]
    array([[3., 2., 1.],
           [6., 5., 4.]], dtype=float32)
    >>> random_flip(images, p=0.0, rng=0)[:, 0, 0]
    array([[1., 2., 3.],
           [4., 5., 6.]], dtype=float32)
    """
    array = _images(images, layout)
    p = check_fraction("p", p, include_high=True)
    flip = _generator(rng).random(len(array)) < p
    out = array.copy()
    out[flip] = array[flip][..., ::-1]
    return _back(out, layout)


def flip_and_crop(padding=2, p=0.5, layout="NCHW"):
    """An augmentation ``f(images, rng)``: a random flip, then a random crop (shift).

    The usual augmentation for small images, ready for :class:`AugmentedLoader`.

    Parameters
    ----------
    padding : int, default 2
        As in :func:`random_crop` (the crop keeps the image size).
    p : float, default 0.5
        Probability of a flip, as in :func:`random_flip`.
    layout : {'NCHW', 'NHWC'}, default 'NCHW'

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.augment import flip_and_crop
    >>> augment = flip_and_crop(padding=1)
    >>> augment(onp.ones((4, 1, 5, 5)), onp.random.default_rng(0)).shape
    (4, 1, 5, 5)
    """
    padding = check_int("padding", padding, minimum=0)
    p = check_fraction("p", p, include_high=True)
    check_choice("layout", layout, set(LAYOUTS))

    def augment(images, rng):
        return random_crop(random_flip(images, p=p, rng=rng, layout=layout), padding,
                           rng=rng, layout=layout)

    augment.__name__ = augment.__qualname__ = f"flip_and_crop(padding={padding}, p={p})"
    return augment


class AugmentedLoader(BaseArrayLoader):
    """Mini-batches of images with a fresh random augmentation in every epoch.

    Like the layers' ``ArrayLoader``, it shuffles the examples every epoch; in
    addition every batch of images passes through ``augment(images, rng)``
    before it is yielded, so the network never sees exactly the same image
    twice. Batches are NumPy arrays (``float32`` images, the labels' own
    integer type); both layers' ``Trainer.fit`` take the loader and move each
    batch to the device. Use it for training only: evaluate on the images as
    they are.

    Parameters
    ----------
    X : array-like, shape (n, c, h, w)
        Images (whatever layout ``augment`` expects).
    y : array-like, shape (n,)
        Labels.
    augment : callable
        ``augment(images, rng) -> images`` on a NumPy batch, with ``rng`` a
        NumPy Generator, e.g. :func:`flip_and_crop`.
    batch_size : int, default 32
    shuffle : bool, default True
    seed : int, optional
        Seeds both the shuffling and the augmentation (default: drawn from
        NumPy's global generator).
    drop_last : bool, default False

    Examples
    --------
    >>> import numpy as onp
    >>> from dlbook.augment import AugmentedLoader, flip_and_crop
    >>> X = onp.random.default_rng(0).random((10, 1, 6, 6)).astype("float32")
    >>> loader = AugmentedLoader(X, onp.arange(10), flip_and_crop(padding=1), batch_size=4,
    ...                          seed=0)
    >>> len(loader), [xb.shape for xb, yb in loader][-1]
    (3, (2, 1, 6, 6))
    >>> first, second = (onp.concatenate([xb for xb, _ in loader]) for _ in range(2))
    >>> bool((first == second).all())  # each epoch draws new augmentations
    False
    """

    def __init__(self, X, y, augment, batch_size=32, shuffle=True, seed=None, drop_last=False):
        if not callable(augment):
            raise TypeError(
                f"Expected `augment` as a function augment(images, rng) -> images, got "
                f"{describe(augment)}. Pass e.g. augment=flip_and_crop(padding=2).")
        if y is None:
            raise ValueError("Expected labels `y` with the images `X`; an AugmentedLoader "
                             "is for training, which needs targets.")
        super().__init__(X, y, batch_size=batch_size, shuffle=shuffle, seed=seed,
                         drop_last=drop_last)
        self.augment = augment
        # a second stream from the same seed, so that shuffling and augmenting do not interact
        self._augment_rng = onp.random.default_rng([self.seed, 1])

    def __iter__(self):
        for X, y in super().__iter__():
            out = onp.asarray(self.augment(X, self._augment_rng), dtype="float32")
            if out.shape[0] != X.shape[0]:
                raise ValueError(
                    f"`augment` returned {out.shape[0]} images for a batch of {X.shape[0]}; "
                    "it must return one image per input image.")
            yield out, y

    def __repr__(self):
        name = getattr(self.augment, "__name__", type(self.augment).__name__)
        return (f"AugmentedLoader(num_examples={self.num_examples}, batch_size={self.batch_size}, "
                f"augment={name})")
