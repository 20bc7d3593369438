"""Tests of dlbook.augment: random crops and flips of NumPy image batches, AugmentedLoader.

The functions are framework-free; the loader is also fed to both layers' Trainer
(``dl`` fixture), which must take its NumPy batches.
"""
import numpy as onp
import pytest

from dlbook import augment
from dlbook.augment import AugmentedLoader, flip_and_crop, random_crop, random_flip


def _images(n=6, c=2, h=5, w=7, seed=0):
    """Distinct positive values, so that a moved pixel can be told from a padded zero."""
    rng = onp.random.default_rng(seed)
    return (1 + rng.random((n, c, h, w))).astype("float32")


def _shifted(image, dy, dx):
    """``image`` (c, h, w) moved by (dy, dx) pixels with zeros coming in: the oracle of a crop."""
    c, h, w = image.shape
    out = onp.zeros_like(image)
    src = image[:, max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
    out[:, max(0, dy):max(0, dy) + src.shape[1], max(0, dx):max(0, dx) + src.shape[2]] = src
    return out


# ------------------------------------------------------------------ shapes
@pytest.mark.parametrize("padding, size, expected", [
    (2, None, (6, 2, 5, 7)), (0, 3, (6, 2, 3, 3)), (1, (4, 9), (6, 2, 4, 9)), (0, (5, 7), (6, 2, 5, 7)),
])
def test_random_crop_shapes(padding, size, expected):
    out = random_crop(_images(), padding, size=size, rng=0)
    assert out.shape == expected and out.dtype == onp.float32


def test_functions_keep_the_nhwc_layout():
    X = _images().transpose(0, 2, 3, 1)                      # (6, 5, 7, 2)
    assert random_crop(X, 1, rng=0, layout="NHWC").shape == X.shape
    assert random_crop(X, 0, size=(3, 4), rng=0, layout="NHWC").shape == (6, 3, 4, 2)
    assert random_flip(X, rng=0, layout="NHWC").shape == X.shape
    assert flip_and_crop(padding=1, layout="NHWC")(X, onp.random.default_rng(0)).shape == X.shape


def test_nhwc_gives_the_same_images_as_nchw():
    X = _images()
    for fn, kwargs in ((random_crop, dict(padding=2)), (random_flip, dict(p=0.5))):
        nchw = fn(X, rng=3, **kwargs)
        nhwc = fn(X.transpose(0, 2, 3, 1), rng=3, layout="NHWC", **kwargs)
        onp.testing.assert_array_equal(nhwc, nchw.transpose(0, 2, 3, 1))


def test_colour_photos_of_scikit_learn_are_augmented_offline():
    """The chapter's colour images: sklearn's two sample photos, shipped with the wheel."""
    from sklearn.datasets import load_sample_images

    photos = onp.stack(load_sample_images().images)[:, ::8, ::8] / 255.0
    assert photos.shape == (2, 54, 80, 3)
    views = random_crop(random_flip(photos, rng=0, layout="NHWC"), 0, size=(40, 60), rng=0,
                        layout="NHWC")
    assert views.shape == (2, 40, 60, 3) and 0 <= views.min() and views.max() <= 1


# -------------------------------------------------------- reproducibility
def test_the_same_seed_gives_the_same_augmentation():
    X = _images()
    onp.testing.assert_array_equal(random_crop(X, 2, rng=7), random_crop(X, 2, rng=7))
    onp.testing.assert_array_equal(random_crop(X, 2, rng=onp.random.default_rng(7)),
                                   random_crop(X, 2, rng=7))
    onp.testing.assert_array_equal(random_flip(X, rng=7), random_flip(X, rng=7))
    assert not (random_crop(X, 2, rng=7) == random_crop(X, 2, rng=8)).all()


def test_without_rng_numpy_global_seed_decides():
    X = _images()
    onp.random.seed(1)
    first = random_crop(X, 2)
    onp.random.seed(1)
    onp.testing.assert_array_equal(random_crop(X, 2), first)


def test_a_generator_moves_on_between_calls():
    X, rng = _images(), onp.random.default_rng(0)
    assert not (random_crop(X, 2, rng=rng) == random_crop(X, 2, rng=rng)).all()


# ------------------------------------------------- values are only moved
def test_a_crop_of_the_same_size_is_a_shift_with_zeros_coming_in():
    X = _images(n=40)
    out = random_crop(X, 2, rng=0)
    shifts = set()
    for image, moved in zip(X, out):
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                   if onp.array_equal(moved, _shifted(image, dy, dx))]
        assert matches, "a crop must be the image shifted by at most `padding` pixels"
        shifts.add(matches[0])
    assert len(shifts) > 5                                   # offsets differ between images
    assert set(onp.unique(out)) <= set(onp.unique(X)) | {0.0}   # no value is made up


def test_a_smaller_crop_is_a_window_of_the_image():
    X = _images(n=10)
    out = random_crop(X, 0, size=(3, 4), rng=0)
    for image, window in zip(X, out):
        assert any(onp.array_equal(window, image[:, i:i + 3, j:j + 4])
                   for i in range(3) for j in range(4))


def test_flips_mirror_each_image_or_leave_it():
    X = _images(n=200)
    out = random_flip(X, rng=0)
    flipped = onp.array([onp.array_equal(o, x[..., ::-1]) for o, x in zip(out, X)])
    kept = onp.array([onp.array_equal(o, x) for o, x in zip(out, X)])
    assert (flipped | kept).all() and 0.35 < flipped.mean() < 0.65   # p = 0.5
    onp.testing.assert_array_equal(random_flip(X, p=1.0, rng=0), X[..., ::-1])
    onp.testing.assert_array_equal(random_flip(X, p=0.0, rng=0), X)


def test_the_input_is_left_unchanged():
    X = _images()
    before = X.copy()
    random_flip(X, p=1.0, rng=0)
    random_crop(X, 2, rng=0)
    onp.testing.assert_array_equal(X, before)


def test_lists_and_integer_images_are_accepted():
    X = _images().round().astype("uint8")
    assert random_crop(X, 1, rng=0).dtype == onp.uint8
    assert random_flip(X.tolist(), p=1.0, rng=0).shape == X.shape


# ------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, error, pattern", [
    (lambda X: random_crop(X[0], 1), ValueError,
     r"Expected `images` with 4 dimensions \(batch, channels, height, width\) for "
     r"layout='NCHW', got shape \(2, 5, 7\)\. .*images\[:, None\]"),
    (lambda X: random_flip(X[:, 0], layout="NHWC"), ValueError,
     r"\(batch, height, width, channels\) for layout='NHWC', got shape \(6, 5, 7\).*images\[\.\.\., None\]"),
    (lambda X: random_crop(X, 1, layout="CHW"), ValueError,
     r"Unknown `layout` 'CHW'\. Expected one of: 'NCHW', 'NHWC'"),
    (lambda X: random_crop(X, -1), ValueError, r"Expected `padding` >= 0, got -1"),
    (lambda X: random_crop(X, 1.5), TypeError, r"Expected `padding` to be an integer, got 1.5"),
    (lambda X: random_crop(X, 0, size=6), ValueError,
     r"Expected `size` between 1 and the padded image size \(5, 7\), got \(6, 6\)"),
    (lambda X: random_crop(X, 1, size=(0, 3)), ValueError, r"`size` between 1 and"),
    (lambda X: random_crop(X, 1, size=(2, 2, 2)), TypeError,
     r"Expected `size` as an int or a pair \(height, width\), got \(2, 2, 2\)"),
    (lambda X: random_crop(X, 1, size="3"), TypeError, r"Expected `size` as an int or a pair"),
    (lambda X: random_crop(X, 1, rng="seed"), TypeError,
     r"Expected `rng` as a numpy.random.Generator, an int seed or None, got 'seed'"),
    (lambda X: random_crop(X, 1, rng=-2), ValueError, r"Expected `rng` >= 0, got -2"),
    (lambda X: random_flip(X, p=1.5), ValueError, r"Expected `p` in \[0.0, 1.0\], got 1.5"),
    (lambda X: random_flip(X, p="half"), TypeError, r"Expected `p` to be a number"),
    (lambda X: random_flip([["a"]]), TypeError, r"Expected `images` to hold numbers"),
    (lambda X: flip_and_crop(padding=-1), ValueError, r"Expected `padding` >= 0, got -1"),
    (lambda X: flip_and_crop(p=2), ValueError, r"Expected `p` in \[0.0, 1.0\], got 2.0"),
    (lambda X: flip_and_crop(layout="nchw"), ValueError, r"Unknown `layout` 'nchw'"),
    (lambda X: AugmentedLoader(X, onp.zeros(6), augment="flip"), TypeError,
     r"Expected `augment` as a function augment\(images, rng\) -> images, got 'flip'.*"
     r"flip_and_crop"),
    (lambda X: AugmentedLoader(X, None, flip_and_crop()), ValueError, r"Expected labels `y`"),
])
def test_bad_arguments_name_the_argument(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call(_images())


def test_an_augmentation_that_drops_images_is_caught():
    loader = AugmentedLoader(_images(), onp.arange(6), lambda images, rng: images[:1],
                             batch_size=3, seed=0)
    with pytest.raises(ValueError, match=r"`augment` returned 1 images for a batch of 3"):
        next(iter(loader))


# ---------------------------------------------------------------- loader
def test_augmented_loader_batches_and_epochs():
    X, y = _images(n=10), onp.arange(10)
    loader = AugmentedLoader(X, y, flip_and_crop(padding=1), batch_size=4, seed=0)
    batches = list(loader)
    assert len(loader) == 3 and [len(yb) for _, yb in batches] == [4, 4, 2]
    assert all(isinstance(xb, onp.ndarray) and xb.dtype == onp.float32 for xb, _ in batches)
    assert sorted(onp.concatenate([yb for _, yb in batches])) == list(range(10))
    epoch1, epoch2 = (onp.concatenate([xb for xb, _ in loader]) for _ in range(2))
    assert not onp.array_equal(epoch1, epoch2)               # fresh augmentations every epoch
    again = AugmentedLoader(X, y, flip_and_crop(padding=1), batch_size=4, seed=0)
    onp.testing.assert_array_equal(onp.concatenate([xb for xb, _ in again]),
                                   onp.concatenate([xb for xb, _ in batches]))  # seeded
    assert repr(loader) == ("AugmentedLoader(num_examples=10, batch_size=4, "
                            "augment=flip_and_crop(padding=1, p=0.5))")


def test_each_label_stays_with_its_image():
    X = onp.zeros((12, 1, 4, 4), dtype="float32")
    X[:, 0, 1:3, 1:3] = onp.arange(12)[:, None, None]      # image i holds the value i
    loader = AugmentedLoader(X, onp.arange(12), flip_and_crop(padding=1), batch_size=5, seed=0)
    for xb, yb in loader:
        assert (xb.max(axis=(1, 2, 3)) == yb).all()


def test_both_trainers_fit_on_an_augmented_loader(dl):
    rng = onp.random.default_rng(0)
    X = rng.random((16, 1, 6, 6)).astype("float32")
    y = onp.arange(16) % 2
    dl.seed_everything(0)
    trainer = dl.Trainer(dl.resnet(channels=4, num_classes=2), loss="cross_entropy",
                         optimizer="adam", learning_rate=0.01, metrics=["accuracy"])
    history = trainer.fit(AugmentedLoader(X, y, flip_and_crop(padding=1), batch_size=8, seed=0),
                          epochs=2, verbose=False)
    assert len(history["loss"]) == 2 and onp.isfinite(history["loss"]).all()


def test_public_names():
    assert set(augment.__all__) == {"LAYOUTS", "AugmentedLoader", "flip_and_crop", "random_crop",
                                    "random_flip"}
    assert augment.LAYOUTS == ("NCHW", "NHWC")
