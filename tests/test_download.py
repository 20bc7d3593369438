"""Downloads and cache against a local HTTP server: good, damaged, truncated, slow, offline."""
import errno
import hashlib
import io
import struct
import tarfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import dlbook.datasets as datasets
from dlbook.download import DownloadError, fetch, safe_extract

PAYLOAD = b"dlbook test payload " * 500
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class _Server:
    """Serve files from a dict on 127.0.0.1; count requests; misbehave on demand."""

    def __init__(self):
        self.files, self.requests = {}, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append(self.path)
                body = server.files.get(self.path.split("/", 2)[-1])
                if body is None:
                    self.send_error(404)
                    return
                mode = self.path.split("/")[1]
                if mode == "slow":
                    time.sleep(3)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if mode == "truncated":
                    self.wfile.write(body[: len(body) // 3])
                    self.wfile.flush()
                    self.connection.close()
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = _Server()
    s.files["data.bin"] = PAYLOAD
    yield s
    s.close()


def _leftovers(folder):
    return sorted(p.name for p in Path(folder).rglob("*") if p.is_file()) if Path(folder).exists() else []


def test_download_is_verified_and_cached(server, tmp_path):
    path = fetch(f"{server.url}/ok/data.bin", SHA, tmp_path)
    assert path.read_bytes() == PAYLOAD
    assert _leftovers(tmp_path) == ["data.bin"]


def test_valid_cached_copy_makes_no_request(server, tmp_path):
    fetch(f"{server.url}/ok/data.bin", SHA, tmp_path)
    count = len(server.requests)
    fetch(f"{server.url}/ok/data.bin", SHA, tmp_path)
    assert len(server.requests) == count == 1


def test_damaged_cached_copy_is_downloaded_again(server, tmp_path):
    (tmp_path / "data.bin").write_bytes(b"bit rot")
    path = fetch(f"{server.url}/ok/data.bin", SHA, tmp_path)
    assert path.read_bytes() == PAYLOAD
    assert len(server.requests) == 1


def test_corrupted_download_is_rejected_and_leaves_nothing(server, tmp_path):
    server.files["data.bin"] = PAYLOAD[:-1] + b"X"
    with pytest.raises(DownloadError, match="does not have the expected SHA-256"):
        fetch(f"{server.url}/ok/data.bin", SHA, tmp_path)
    assert _leftovers(tmp_path) == []


def test_truncated_download_leaves_nothing(server, tmp_path):
    with pytest.raises(DownloadError):
        fetch(f"{server.url}/truncated/data.bin", SHA, tmp_path)
    assert _leftovers(tmp_path) == []


def test_slow_server_times_out_in_bounded_time(server, tmp_path):
    start = time.perf_counter()
    with pytest.raises(DownloadError, match="Could not download"):
        fetch(f"{server.url}/slow/data.bin", SHA, tmp_path, timeout=0.5)
    assert time.perf_counter() - start < 10
    assert _leftovers(tmp_path) == []


def test_offline_is_a_clear_error(tmp_path):
    with pytest.raises(DownloadError, match="Check the network"):
        fetch("http://127.0.0.1:9/data.bin", SHA, tmp_path, timeout=2)


def test_offline_with_damaged_cache_says_so(tmp_path):
    (tmp_path / "data.bin").write_bytes(b"bit rot")
    with pytest.raises(DownloadError, match="cached copy .* is damaged"):
        fetch("http://127.0.0.1:9/data.bin", SHA, tmp_path, timeout=2)


def test_unwritable_cache_is_a_clear_error(server, tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(DownloadError, match="cache folder is writable"):
        fetch(f"{server.url}/ok/data.bin", SHA, blocker)


def test_full_disk_leaves_nothing(server, tmp_path, monkeypatch):
    import pooch

    def full(self, url, output_file, pooch_obj, check_only=False):
        with open(output_file, "wb") as f:
            f.write(PAYLOAD[:100])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", full)
    with pytest.raises(DownloadError, match="No space left"):
        fetch(f"{server.url}/ok/data.bin", SHA, tmp_path)
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("url, digest, message", [
    ("not a url", SHA, "Expected `url`"),
    ("http://127.0.0.1/x", "abc", "Expected `sha256` as 64 hexadecimal digits"),
    ("http://127.0.0.1/x", "z" * 64, "Expected `sha256` as 64 hexadecimal digits"),
])
def test_bad_arguments(tmp_path, url, digest, message):
    with pytest.raises(ValueError, match=message):
        fetch(url, digest, tmp_path)


# ---------------------------------------------------------------- extraction
def _tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, kind in members:
            info = tarfile.TarInfo(name)
            if kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                tar.addfile(info)
            else:
                info.size = 2
                tar.addfile(info, io.BytesIO(b"hi"))


@pytest.mark.parametrize("members, message", [
    ([("ok.txt", "file"), ("../evil.txt", "file")], "outside"),
    ([("/tmp/evil-absolute.txt", "file")], "outside"),
    ([("ok.txt", "file"), ("link", "symlink")], "links and special files"),
])
def test_unsafe_tar_is_refused_before_writing(tmp_path, members, message):
    _tar(tmp_path / "a.tar.gz", members)
    with pytest.raises(DownloadError, match=message):
        safe_extract(tmp_path / "a.tar.gz", tmp_path / "out")
    assert _leftovers(tmp_path / "out") == []
    assert not (tmp_path / "evil.txt").exists()


def test_unsafe_zip_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as zf:
        zf.writestr("fine.txt", "ok")
        zf.writestr("../../evil.txt", "no")
    with pytest.raises(DownloadError, match="outside"):
        safe_extract(tmp_path / "a.zip", tmp_path / "out")
    assert _leftovers(tmp_path / "out") == []


def test_safe_archives_extract(tmp_path):
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as zf:
        zf.writestr("dir/fine.txt", "ok")
    files = safe_extract(tmp_path / "a.zip", tmp_path / "out")
    assert [p.read_text() for p in files] == ["ok"]
    (tmp_path / "not-an-archive").write_text("plain")
    with pytest.raises(DownloadError, match="neither a zip nor a tar"):
        safe_extract(tmp_path / "not-an-archive", tmp_path / "out2")



def test_a_refused_archive_leaves_no_folder_behind(tmp_path):
    _tar(tmp_path / "a.tar.gz", [("../evil.txt", "file")])
    (tmp_path / "plain.txt").write_text("plain")
    with pytest.raises(DownloadError, match="outside"):
        safe_extract(tmp_path / "a.tar.gz", tmp_path / "out" / "deep")
    with pytest.raises(DownloadError, match="neither a zip nor a tar"):
        safe_extract(tmp_path / "plain.txt", tmp_path / "out2")
    with pytest.raises(FileNotFoundError):
        safe_extract(tmp_path / "missing.zip", tmp_path / "out3")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tar.gz", "plain.txt"]
    with zipfile.ZipFile(tmp_path / "empty.zip", "w"):
        pass
    assert safe_extract(tmp_path / "empty.zip", tmp_path / "out4") == []
    assert (tmp_path / "out4").is_dir()  # an accepted archive still creates `dest`


# ------------------------------------------------- Fashion-MNIST, end to end
# Debian re-compressed the official archives and reset the gzip header's mtime and
# file name; with these two fields restored, the bytes equal the official downloads
# (their published SHA-256 values are pinned in dlbook.datasets).
_OFFICIAL_MTIMES = {
    "train-images-idx3-ubyte.gz": 1504176606,
    "train-labels-idx1-ubyte.gz": 1504176606,
    "t10k-images-idx3-ubyte.gz": 1504176627,
    "t10k-labels-idx1-ubyte.gz": 1504176627,
}


def _official_archive(name):
    data = (Path(datasets.DEBIAN_FASHION_MNIST_DIR) / name).read_bytes()
    return (b"\x1f\x8b\x08\x08" + struct.pack("<I", _OFFICIAL_MTIMES[name]) + data[8:10]
            + name[:-3].encode() + b"\0" + data[10:])


@pytest.fixture
def fashion_server(server, tmp_path, monkeypatch):
    for name in _OFFICIAL_MTIMES:
        server.files[name] = _official_archive(name)
    monkeypatch.setattr(datasets, "FASHION_MNIST_URL", f"{server.url}/ok/")
    monkeypatch.setattr(datasets, "DEBIAN_FASHION_MNIST_DIR", str(tmp_path / "no-debian"))
    monkeypatch.delenv("DLBOOK_DATA", raising=False)
    monkeypatch.setenv("DLBOOK_CACHE", str(tmp_path / "cache"))
    return server


def test_rebuilt_archives_match_the_published_checksums():
    for name, sha in datasets._FASHION_ARCHIVES.items():
        assert hashlib.sha256(_official_archive(name)).hexdigest() == sha, name


def test_fashion_mnist_downloads_verifies_and_then_works_offline(fashion_server, tmp_path):
    (X, y), (Xt, yt) = datasets.fashion_mnist_arrays()
    assert X.shape == (60000, 1, 28, 28) and Xt.shape == (10000, 1, 28, 28)
    assert len(fashion_server.requests) == 4
    assert _leftovers(tmp_path / "cache") == sorted(_OFFICIAL_MTIMES)
    datasets.fashion_mnist_arrays(download=False)  # valid cache: no request
    assert len(fashion_server.requests) == 4


def test_fashion_mnist_replaces_a_damaged_cached_file(fashion_server, tmp_path):
    datasets.fashion_mnist_arrays()
    damaged = tmp_path / "cache" / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz"
    damaged.write_bytes(b"bit rot")
    with pytest.raises(FileNotFoundError, match="failed the SHA-256 check"):
        datasets.fashion_mnist_arrays(download=False)
    datasets._fashion_arrays.cache_clear()
    datasets.fashion_mnist_arrays()
    assert fashion_server.requests[-1].endswith("t10k-labels-idx1-ubyte.gz")
    assert hashlib.sha256(damaged.read_bytes()).hexdigest() == \
        datasets._FASHION_ARCHIVES["t10k-labels-idx1-ubyte.gz"]


def test_fashion_mnist_offline_names_every_place_tried(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "FASHION_MNIST_URL", "http://127.0.0.1:9/")
    monkeypatch.setattr(datasets, "DEBIAN_FASHION_MNIST_DIR", str(tmp_path / "no-debian"))
    (tmp_path / "data").mkdir()  # a data root without a fashion-mnist folder
    monkeypatch.setenv("DLBOOK_DATA", str(tmp_path / "data"))
    with pytest.raises(FileNotFoundError) as info:
        datasets.fashion_mnist_arrays(cache_dir=tmp_path / "cache")
    message = str(info.value)
    for place in ("$DLBOOK_DATA", "dataset-fashion-mnist", "download cache", "a download from"):
        assert place in message, message
