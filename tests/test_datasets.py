"""Tests of dlbook.datasets (Fashion-MNIST found locally, in Debian's package or downloaded;
scikit-learn tables, MNIST-1D, time series, synthetic problems, as NumPy arrays) and of each
layer's loaders over them (dlbook.mxnet.datasets, dlbook.torch.datasets)."""
import functools
import gzip
import http.server
import re
import threading
from pathlib import Path

import numpy as onp
import pytest
import torch

from dlbook import datasets
from dlbook.data import train_val_split
from dlbook.datasets import (
    fashion_mnist_arrays,
    load_time_series,
    mnist1d_arrays,
    sklearn_arrays,
    synthetic_linear,
    xor_data,
)
from dlbook.download import sha256_of

#: The dtype class labels have in each layer's batches.
LABEL_DTYPE = {"mxnet": "int32", "torch": "int64"}


def _np(array):
    return array.asnumpy() if hasattr(array, "asnumpy") else array.cpu().numpy()


DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")  # the real files (package dataset-fashion-mnist)
FILES = list(datasets._FASHION_FILES)


def _copy_of_real_files(folder, corrupt=None):
    """A folder with symlinks to the real files; ``corrupt`` is replaced by gzip of other bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        if name == corrupt:
            (folder / name).write_bytes(gzip.compress(b"\x00\x00\x08\x01" + b"\x07" * 60))
        else:
            (folder / name).symlink_to(DEBIAN_DIR / name)
    return folder


@pytest.fixture(autouse=True)
def _no_user_data_or_cache(monkeypatch, tmp_path):
    """Ignore the user's $DLBOOK_DATA and keep any download out of ``$HOME``."""
    monkeypatch.delenv("DLBOOK_DATA", raising=False)
    monkeypatch.setenv("DLBOOK_CACHE", str(tmp_path / "dlbook-cache"))


@pytest.fixture(scope="module")
def debian_archive_hashes():
    """SHA-256 of Debian's archives (re-compressed, so not the official archives' hashes)."""
    return {name: sha256_of(DEBIAN_DIR / name) for name in FILES}


@pytest.fixture
def pinned_to_debian(monkeypatch, debian_archive_hashes):
    """Pin the download hashes to Debian's archives, which the local test server serves."""
    monkeypatch.setattr(datasets, "_FASHION_ARCHIVES", dict(debian_archive_hashes))
    return debian_archive_hashes


@pytest.fixture
def no_local_copy(monkeypatch, tmp_path):
    """Hide Debian's copy; the download cache (``$DLBOOK_CACHE``) is an empty temporary folder."""
    monkeypatch.setattr(datasets, "DEBIAN_FASHION_MNIST_DIR", str(tmp_path / "no-debian"))
    cache = tmp_path / "cache"
    monkeypatch.setenv("DLBOOK_CACHE", str(cache))
    return cache


@pytest.fixture
def serve(monkeypatch):
    """Start HTTP servers on 127.0.0.1 serving a folder; return (url, requested paths)."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    servers = []

    def start(folder):
        requested = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                requested.append(self.path.lstrip("/"))
                super().do_GET()

        handler = functools.partial(Handler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/", requested

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------- Fashion-MNIST
def test_fashion_mnist_loads_the_real_files():
    (X_tr, y_tr), (X_te, y_te) = fashion_mnist_arrays(download=False)
    assert X_tr.shape == (60000, 1, 28, 28) and X_te.shape == (10000, 1, 28, 28)
    assert X_tr.dtype == X_te.dtype == onp.float32
    assert y_tr.dtype == y_te.dtype == onp.int32
    assert X_tr.min() == 0.0 and X_tr.max() == 1.0 and 0.0 <= X_te.min() <= X_te.max() <= 1.0
    # Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class.
    assert onp.bincount(y_tr).tolist() == [6000] * 10
    assert onp.bincount(y_te).tolist() == [1000] * 10
    assert len(datasets.FASHION_MNIST_LABELS) == 10


def test_fashion_mnist_flat_and_as_loaders():
    (X_flat, _), _ = fashion_mnist_arrays(flatten=True, download=False)
    raw = datasets._fashion_arrays(str(DEBIAN_DIR))[0]  # uint8, shape (60000, 28, 28)
    assert X_flat.shape == (60000, 784)
    onp.testing.assert_allclose(X_flat[:5], raw[:5].reshape(5, 784) / 255.0, rtol=1e-6)


def test_fashion_mnist_loaders_of_each_layer(dl):
    train, test = dl.load_fashion_mnist(batch_size=2500, seed=0, download=False)
    assert isinstance(train, dl.ArrayLoader) and (len(train), len(test)) == (24, 4)
    assert train.shuffle and not test.shuffle
    X, y = next(iter(test))
    assert tuple(X.shape) == (2500, 1, 28, 28) and tuple(y.shape) == (2500,)
    assert _np(y).dtype == LABEL_DTYPE[dl.FRAMEWORK] and _np(X).dtype == onp.float32
    _, y_test = fashion_mnist_arrays(download=False)[1]
    onp.testing.assert_array_equal(_np(y), y_test[:2500])  # the test loader keeps the order
    (X_flat, _), _ = dl.load_fashion_mnist(flatten=True, as_arrays=True, download=False)
    assert isinstance(X_flat, onp.ndarray) and X_flat.shape == (60000, 784)


def test_search_order_data_dir_then_env_then_debian_then_cache(monkeypatch, tmp_path,
                                                               pinned_to_debian):
    find = datasets._find_fashion_mnist
    mine = _copy_of_real_files(tmp_path / "mine")
    env_root = tmp_path / "env"
    _copy_of_real_files(env_root / "fashion-mnist")
    cache = tmp_path / "cache"
    _copy_of_real_files(cache / "fashion-mnist")

    assert find(mine, False, cache) == mine  # data_dir wins over Debian's copy
    monkeypatch.setenv("DLBOOK_DATA", str(env_root))
    assert find(None, False, cache) == env_root / "fashion-mnist"
    assert find(mine, False, cache) == mine
    monkeypatch.setenv("DLBOOK_DATA", str(tmp_path))  # a data root without fashion-mnist/
    assert find(None, False, cache) == DEBIAN_DIR
    monkeypatch.delenv("DLBOOK_DATA")
    assert find(None, False, cache) == DEBIAN_DIR
    monkeypatch.setattr(datasets, "DEBIAN_FASHION_MNIST_DIR", str(tmp_path / "no-debian"))
    assert find(None, False, cache) == cache / "fashion-mnist"


@pytest.mark.parametrize("folder", ["missing", "incomplete", "a-file", "empty"])
def test_a_data_dir_without_the_files_is_refused_not_passed_over(dl, tmp_path, folder):
    """Debian's copy (a later source) is there, yet a wrong `data_dir` raises, naming what lacks."""
    path = tmp_path / folder
    if folder == "incomplete":
        path.mkdir()
        (path / FILES[0]).symlink_to(DEBIAN_DIR / FILES[0])
    elif folder == "a-file":
        path.write_text("not a folder")
    elif folder == "empty":
        path.mkdir()
    what = {"missing": "which does not exist", "a-file": "which is not a folder",
            "incomplete": "which lacks " + ", ".join(FILES[1:]),
            "empty": "which lacks " + ", ".join(FILES)}[folder]
    pattern = (r"`data_dir` names the folder " + re.escape(str(path)) + ", " + re.escape(what)
               + r".*Fix: put the four official")
    with pytest.raises(FileNotFoundError, match=pattern):
        dl.load_fashion_mnist(data_dir=path, download=False)
    with pytest.raises(FileNotFoundError, match=pattern):
        fashion_mnist_arrays(data_dir=str(path))  # with downloads allowed, too


def test_a_dlbook_data_folder_that_is_missing_or_incomplete_is_refused(dl, monkeypatch, tmp_path):
    monkeypatch.setenv("DLBOOK_DATA", str(tmp_path / "typo"))
    with pytest.raises(FileNotFoundError, match=r"\$DLBOOK_DATA names the folder "
                       + re.escape(str(tmp_path / "typo")) + r", which does not exist\. "
                       r"Fix: set \$DLBOOK_DATA to a folder whose fashion-mnist"):
        dl.load_fashion_mnist(download=False)
    partial = tmp_path / "data" / "fashion-mnist"
    _copy_of_real_files(partial)
    (partial / "t10k-labels-idx1-ubyte.gz").unlink()
    monkeypatch.setenv("DLBOOK_DATA", str(tmp_path / "data"))
    with pytest.raises(FileNotFoundError, match=r"\$DLBOOK_DATA names the folder "
                       + re.escape(str(partial)) + r", which lacks t10k-labels-idx1-ubyte\.gz "):
        dl.load_fashion_mnist(download=False)


def test_corrupted_copy_in_data_dir_raises_a_checksum_error(tmp_path):
    folder = _copy_of_real_files(tmp_path / "broken", corrupt="train-images-idx3-ubyte.gz")
    with pytest.raises(OSError, match=r"Checksum mismatch for .*broken.*train-images-idx3-ubyte\.gz"):
        fashion_mnist_arrays(data_dir=folder, download=False)


def test_bad_idx_files_raise_clear_errors(tmp_path):
    bad_magic = tmp_path / "magic.gz"
    bad_magic.write_bytes(gzip.compress(b"\x01\x02\x03\x04\x00\x00\x00\x01x"))
    truncated = tmp_path / "short.gz"
    truncated.write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x05abc"))
    good = tmp_path / "good.gz"
    good.write_bytes(gzip.compress(b"\x00\x00\x08\x02\x00\x00\x00\x02\x00\x00\x00\x03abcdef"))
    with pytest.raises(OSError, match="bad magic number"):
        datasets._read_idx(bad_magic)
    with pytest.raises(OSError, match=r"truncated: header says \[5\], found 3 bytes"):
        datasets._read_idx(truncated)
    assert datasets._read_idx(good).tolist() == [[97, 98, 99], [100, 101, 102]]


def test_missing_fashion_mnist_names_every_place_tried(no_local_copy, monkeypatch, tmp_path):
    (tmp_path / "env").mkdir()  # a data root without a fashion-mnist folder
    monkeypatch.setenv("DLBOOK_DATA", str(tmp_path / "env"))
    with pytest.raises(FileNotFoundError) as info:
        fashion_mnist_arrays(download=False)
    message = str(info.value)
    for place in (f"$DLBOOK_DATA ({tmp_path / 'env' / 'fashion-mnist'})",
                  f"Debian's dataset-fashion-mnist ({tmp_path / 'no-debian'})",
                  f"the download cache ({no_local_copy / 'fashion-mnist'})",
                  "a download (disabled: download=False)"):
        assert place in message
    assert "apt install dataset-fashion-mnist" in message
    assert not no_local_copy.exists()  # nothing was written


def test_download_fills_the_cache_and_loads(no_local_copy, pinned_to_debian, serve,
                                            monkeypatch, tmp_path):
    url, requested = serve(_copy_of_real_files(tmp_path / "server"))
    monkeypatch.setattr(datasets, "FASHION_MNIST_URL", url)
    (X_tr, y_tr), (X_te, y_te) = fashion_mnist_arrays()
    folder = no_local_copy / "fashion-mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
    for name in FILES:
        assert (folder / name).read_bytes() == (DEBIAN_DIR / name).read_bytes()
    assert sorted(requested) == sorted(FILES)
    assert X_tr.shape == (60000, 1, 28, 28) and y_te.shape == (10000,)
    # A second call finds the cache and downloads nothing.
    assert datasets._find_fashion_mnist(None, True, no_local_copy) == folder
    assert len(requested) == 4


def test_corrupted_download_leaves_nothing_in_the_cache(no_local_copy, pinned_to_debian,
                                                        serve, monkeypatch, tmp_path):
    served = _copy_of_real_files(tmp_path / "server", corrupt="train-images-idx3-ubyte.gz")
    url, requested = serve(served)
    monkeypatch.setattr(datasets, "FASHION_MNIST_URL", url)
    with pytest.raises(OSError, match=r"a download from http://127\.0\.0\.1.*"
                                      r"train-images-idx3-ubyte\.gz does not have the expected SHA-256"):
        fashion_mnist_arrays()
    assert requested == ["train-images-idx3-ubyte.gz"]
    folder = no_local_copy / "fashion-mnist"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_damaged_cached_copy_is_reported_offline_and_fetched_again(
        no_local_copy, pinned_to_debian, serve, monkeypatch, tmp_path):
    cached = _copy_of_real_files(no_local_copy / "fashion-mnist",
                                 corrupt="t10k-labels-idx1-ubyte.gz")
    with pytest.raises(FileNotFoundError,
                       match=r"the download cache \(.*\), where t10k-labels-idx1-ubyte\.gz failed "
                             r"the SHA-256 check; a download \(disabled: download=False\)"):
        fashion_mnist_arrays(download=False)
    url, requested = serve(_copy_of_real_files(tmp_path / "server"))
    monkeypatch.setattr(datasets, "FASHION_MNIST_URL", url)
    assert datasets._find_fashion_mnist(None, True, no_local_copy) == cached
    assert requested == ["t10k-labels-idx1-ubyte.gz"]  # only the damaged file
    assert sha256_of(cached / "t10k-labels-idx1-ubyte.gz") == pinned_to_debian[
        "t10k-labels-idx1-ubyte.gz"]


def test_unreachable_files_on_the_server_are_reported(no_local_copy, serve, monkeypatch, tmp_path):
    empty = tmp_path / "server"
    empty.mkdir()
    url, _ = serve(empty)
    monkeypatch.setattr(datasets, "FASHION_MNIST_URL", url)
    with pytest.raises(FileNotFoundError, match=r"a download from http://127\.0\.0\.1.*404"):
        fashion_mnist_arrays()
    folder = no_local_copy / "fashion-mnist"
    assert not folder.exists() or list(folder.iterdir()) == []


# -------------------------------------------------------- scikit-learn tables
def test_load_sklearn_scales_with_training_statistics_only():
    import sklearn.datasets

    (X_tr, y_tr), (X_te, y_te) = sklearn_arrays("digits", test_fraction=0.25, seed=3)
    X, y = sklearn.datasets.load_digits(return_X_y=True)
    raw_tr, raw_te, ref_y_tr, ref_y_te = train_val_split(X, y, val_fraction=0.25, seed=3,
                                                         stratify=True)
    std = raw_tr.std(axis=0)
    std[std == 0] = 1.0
    onp.testing.assert_allclose(X_tr, (raw_tr - raw_tr.mean(axis=0)) / std, atol=1e-4)
    onp.testing.assert_allclose(X_te, (raw_te - raw_tr.mean(axis=0)) / std, atol=1e-4)
    assert abs(X_te.mean(axis=0)).max() > 1e-3  # the test set is not re-centred
    onp.testing.assert_array_equal(y_te, ref_y_te)
    assert X_tr.dtype == onp.float32 and y_tr.dtype == onp.int32
    assert len(X_tr) + len(X_te) == 1797


def test_load_sklearn_classification_is_stratified():
    (_, y_tr), (_, y_te) = sklearn_arrays("iris", test_fraction=0.2)
    assert onp.bincount(y_te).tolist() == [10, 10, 10]
    assert onp.bincount(y_tr).tolist() == [40, 40, 40]


def test_load_sklearn_regression_and_scaling_choices():
    (X_tr, y_tr), (X_te, y_te) = sklearn_arrays("diabetes", scaling="minmax")
    assert y_tr.shape == (len(X_tr), 1) and y_tr.dtype == onp.float32
    assert X_tr.min() == 0.0 and X_tr.max() == 1.0
    (raw, _), _ = sklearn_arrays("wine", scaling=None)
    assert raw.max() > 100  # proline is in the hundreds when not scaled


def test_load_sklearn_loaders(dl):
    train, test = dl.load_sklearn("breast_cancer", batch_size=64, seed=1)
    assert isinstance(train, dl.ArrayLoader) and train.shuffle and not test.shuffle
    assert train.num_examples + test.num_examples == 569
    X, y = next(iter(train))
    assert tuple(X.shape) == (64, 30) and set(_np(y).tolist()) <= {0, 1}
    assert _np(y).dtype == LABEL_DTYPE[dl.FRAMEWORK]
    (X_te, y_te) = test.to_numpy()
    ref = sklearn_arrays("breast_cancer", seed=1)[1]
    onp.testing.assert_array_equal(X_te, ref[0])
    onp.testing.assert_array_equal(y_te, ref[1])
    _, y_reg = next(iter(dl.load_sklearn("diabetes", batch_size=8)[0]))
    assert tuple(y_reg.shape) == (8, 1) and _np(y_reg).dtype == onp.float32  # regression


def test_layer_as_arrays_are_the_neutral_arrays(dl):
    (X_tr, y_tr), (X_te, y_te) = dl.load_sklearn("wine", seed=2, as_arrays=True)
    (ref_X_tr, ref_y_tr), (ref_X_te, ref_y_te) = sklearn_arrays("wine", seed=2)
    for got, ref in [(X_tr, ref_X_tr), (y_tr, ref_y_tr), (X_te, ref_X_te), (y_te, ref_y_te)]:
        assert isinstance(got, onp.ndarray) and got.dtype == ref.dtype
        onp.testing.assert_array_equal(got, ref)
    (X1, y1), _ = dl.load_mnist1d(as_arrays=True)
    onp.testing.assert_array_equal(X1, mnist1d_arrays()[0][0])


# ----------------------------------------------------------- MNIST-1D, series
def test_mnist1d_arrays():
    (X_tr, y_tr), (X_te, y_te) = mnist1d_arrays()
    assert X_tr.shape == (4000, 40) and X_te.shape == (1000, 40)
    assert X_tr.dtype == onp.float32 and y_tr.dtype == onp.int32
    assert sorted(set(y_tr.tolist())) == list(range(10))
    assert onp.isfinite(X_tr).all() and X_tr.std() > 0.1
    assert not onp.array_equal(X_tr, mnist1d_arrays(seed=1)[0][0])


def test_load_mnist1d_loaders(dl):
    train, test = dl.load_mnist1d(batch_size=500)
    assert (len(train), len(test)) == (8, 2)
    X, y = next(iter(test))
    assert tuple(X.shape) == (500, 40) and _np(y).dtype == LABEL_DTYPE[dl.FRAMEWORK]


def test_loaders_live_on_the_requested_device():
    import mxnet as mx

    from dlbook import mxnet as dlm
    from dlbook import torch as dlt

    assert dlm.load_mnist1d(device=mx.cpu())[0].X.ctx == mx.cpu()
    train, test = dlt.load_mnist1d(device="cpu")
    assert train.device == test.device == torch.device("cpu")
    assert next(iter(train))[0].device == torch.device("cpu")


@pytest.mark.parametrize("name, n, first, last", [
    ("sunspots", 309, 1700, 2008), ("nile", 100, 1871, 1970),
    ("co2", 526, 1958, 2001), ("elnino", 732, 1950, 2010),
])
def test_load_time_series(name, n, first, last):
    t, v = load_time_series(name)
    assert len(t) == len(v) == n
    assert int(t[0]) == first and int(t[-1]) == last
    assert onp.all(onp.diff(t) > 0) and v.dtype == onp.float32 and onp.isfinite(v).all()


# ------------------------------------------------------- synthetic problems
def test_synthetic_linear_without_noise_is_exact():
    X, y = synthetic_linear([2.0, -3.4], 4.2, num_examples=50, noise=0.0)
    onp.testing.assert_allclose(y[:, 0], X @ onp.array([2.0, -3.4]) + 4.2, rtol=1e-5, atol=1e-5)


def test_synthetic_linear_noise_and_seed():
    X, y = synthetic_linear([1.0, 0.5, -2.0], -1.0, num_examples=2000, noise=0.1, seed=1)
    assert X.shape == (2000, 3) and y.shape == (2000, 1) and X.dtype == onp.float32
    residual = y[:, 0] - (X @ onp.array([1.0, 0.5, -2.0]) - 1.0)
    assert 0.09 < residual.std() < 0.11
    A = onp.hstack([X, onp.ones((2000, 1))])
    coef = onp.linalg.lstsq(A, y[:, 0], rcond=None)[0]
    onp.testing.assert_allclose(coef, [1.0, 0.5, -2.0, -1.0], atol=0.01)
    X2, _ = synthetic_linear([1.0, 0.5, -2.0], -1.0, num_examples=2000, noise=0.1, seed=1)
    X3, _ = synthetic_linear([1.0, 0.5, -2.0], -1.0, num_examples=2000, noise=0.1, seed=2)
    onp.testing.assert_array_equal(X, X2)
    assert not onp.array_equal(X, X3)


def test_xor_truth_table_and_noisy_version():
    X, y = xor_data()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and y.tolist() == [0, 1, 1, 0]
    Xn, yn = xor_data(num_examples=103, noise=0.1, seed=0)
    assert Xn.shape == (103, 2) and Xn.dtype == onp.float32 and yn.dtype == onp.int32
    corner = onp.round(Xn).astype(int)
    onp.testing.assert_array_equal(yn, corner[:, 0] ^ corner[:, 1])
    assert not onp.array_equal(Xn, onp.round(Xn))  # noise was added


# ------------------------------------------------------------------ bad input
BAD_INPUTS = [
    (lambda: sklearn_arrays("mnist"), ValueError, r"Unknown `name` 'mnist'. Expected one of: 'breast_cancer'"),
    (lambda: sklearn_arrays("iris", scaling="log"), ValueError, r"Unknown `scaling` 'log'"),
    (lambda: sklearn_arrays("iris", test_fraction=1.0), ValueError, r"`val_fraction` in \(0.0, 1.0\)"),
    (lambda: load_time_series("temperature"), ValueError, r"Unknown `name` 'temperature'"),
    (lambda: mnist1d_arrays(seed=-1), ValueError, r"`seed` >= 0"),
    (lambda: synthetic_linear([[1.0, 2.0]], 0.0), ValueError, r"`w` with 1 dimensions, got shape \(1, 2\)"),
    (lambda: synthetic_linear([1.0, onp.nan], 0.0), ValueError, r"`w` contains 1 NaN"),
    (lambda: synthetic_linear([1.0], 0.0, num_examples=0), ValueError, r"`num_examples` >= 1"),
    (lambda: synthetic_linear([1.0], 0.0, noise=-0.1), ValueError, r"`noise` in \[0.0, inf\)"),
    (lambda: xor_data(num_examples=3), ValueError, r"`num_examples` >= 4"),
    (lambda: xor_data(num_examples=10, noise="a lot"), TypeError, r"`noise` to be a number"),
]


@pytest.mark.parametrize("call, error, pattern", BAD_INPUTS)
def test_bad_input_raises_a_clear_error(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


LAYER_BAD_INPUTS = [
    # The same message from both layers.
    (lambda dl: dl.load_sklearn("mnist"), ValueError, r"Unknown `name` 'mnist'. Expected one of: 'breast_cancer'"),
    (lambda dl: dl.load_sklearn("iris", scaling="log"), ValueError, r"Unknown `scaling` 'log'"),
    (lambda dl: dl.load_sklearn("iris", test_fraction=1.0), ValueError, r"`val_fraction` in \(0.0, 1.0\)"),
    (lambda dl: dl.load_sklearn("iris", batch_size=0), ValueError, r"`batch_size` >= 1"),
    (lambda dl: dl.load_mnist1d(seed=-1), ValueError, r"`seed` >= 0"),
    (lambda dl: dl.load_mnist1d(batch_size=2.0), TypeError, r"`batch_size` to be an integer"),
    (lambda dl: dl.load_fashion_mnist(data_dir=DEBIAN_DIR, batch_size=0), ValueError, r"`batch_size` >= 1"),
]


@pytest.mark.parametrize("call, error, pattern", LAYER_BAD_INPUTS)
def test_layer_bad_input_raises_a_clear_error(dl, call, error, pattern):
    with pytest.raises(error, match=pattern):
        call(dl)
