"""Checked downloads into a cache, and safe archive extraction.

:func:`fetch` uses pooch: the file is downloaded to a temporary file in the
cache folder, its SHA-256 is checked, and only then is it moved into place. A
cached file is used without any network access when its hash matches; a
cached file whose hash no longer matches is downloaded again. Nothing
downloaded is ever unpickled by dlbook.
"""
import os
import shutil
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

from ._checks import check_path, describe

__all__ = ["DownloadError", "default_cache_dir", "fetch", "safe_extract", "sha256_of"]


class DownloadError(OSError):
    """A file could not be downloaded or verified.

    Examples
    --------
    >>> import tempfile
    >>> from dlbook.download import DownloadError, fetch
    >>> try:  # nothing listens on port 9: a clear error, no partial file
    ...     fetch("http://127.0.0.1:9/data.bin", "0" * 64, tempfile.mkdtemp(), timeout=2)
    ... except DownloadError as err:
    ...     print("Could not download" in str(err))
    True
    """


def default_cache_dir():
    """Where downloads are cached: ``$DLBOOK_CACHE`` or ``~/.cache/dlbook``.

    Examples
    --------
    >>> import os
    >>> from dlbook.download import default_cache_dir
    >>> os.environ["DLBOOK_CACHE"] = "/tmp/dlbook-cache"
    >>> str(default_cache_dir())
    '/tmp/dlbook-cache'
    >>> del os.environ["DLBOOK_CACHE"]
    """
    return Path(os.environ.get("DLBOOK_CACHE", Path.home() / ".cache" / "dlbook"))


def sha256_of(path):
    """SHA-256 of a file, read in chunks.

    Parameters
    ----------
    path : str or Path
        The file, read in binary mode in chunks of 1 MiB (a missing file raises
        FileNotFoundError).

    Returns
    -------
    str
        The digest as 64 lowercase hex digits.

    Examples
    --------
    >>> import tempfile
    >>> from dlbook.download import sha256_of
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"abc")
    >>> sha256_of(f.name)[:16]
    'ba7816bf8f01cfea'
    """
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(url, sha256, folder, fname=None, timeout=30):
    """Return the path of a verified copy of ``url`` in ``folder``, downloading if needed.

    Parameters
    ----------
    url : str
    sha256 : str
        The file's SHA-256 (64 hex digits).
    folder : str or Path
        The cache folder (created if missing).
    fname : str, optional
        File name in the cache (default: the last part of the URL).
    timeout : float, default 30
        Seconds to wait for the server before giving up.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    DownloadError
        If the download fails (network, timeout, an unwritable or full cache) or
        the downloaded file's hash differs. Nothing is left in the cache then.

    Examples
    --------
    >>> import hashlib, pathlib, tempfile
    >>> from dlbook.download import fetch
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / "hello.txt").write_bytes(b"hello")
    5
    >>> digest = hashlib.sha256(b"hello").hexdigest()
    >>> fetch("http://127.0.0.1:9/hello.txt", digest, folder).name  # valid copy: no network
    'hello.txt'
    """
    import pooch

    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"Expected `url` like 'https://host/file', got {describe(url)}.")
    if not isinstance(sha256, str) or len(sha256) != 64 or any(
            c not in "0123456789abcdef" for c in sha256.lower()):
        raise ValueError(f"Expected `sha256` as 64 hexadecimal digits, got {describe(sha256)}.")
    folder = check_path("folder", folder)
    fname = fname or PurePosixPath(url.split("?")[0]).name
    target = folder / fname
    if target.is_file() and sha256_of(target) == sha256.lower():
        return target
    stale = target.is_file()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = pooch.retrieve(url, known_hash=f"sha256:{sha256.lower()}", fname=fname,
                              path=folder, progressbar=False,
                              downloader=pooch.HTTPDownloader(timeout=timeout, progressbar=False))
    except ValueError as err:  # pooch's hash mismatch
        raise DownloadError(
            f"The file downloaded from {url} does not have the expected SHA-256 "
            f"({sha256}); it was discarded. The server may serve a damaged or different "
            f"file. Details: {err}"
        ) from err
    except Exception as err:  # network, timeout, permission or disk errors
        note = (f" The cached copy {target} is damaged (wrong SHA-256)" if stale else "")
        raise DownloadError(
            f"Could not download {url} into {folder}: {type(err).__name__}: {err}.{note} "
            "Check the network (or work offline with a local copy), and that the cache "
            "folder is writable and has space (set $DLBOOK_CACHE to use another folder)."
        ) from err
    return Path(path)


def _check_member(name, dest):
    target = (dest / name).resolve()
    if name.startswith("/") or ".." in PurePosixPath(name).parts or not (
            target == dest or dest in target.parents):
        raise DownloadError(f"Refusing to extract {name!r}: it would land outside {dest}.")
    return target


def _write_members(entries):
    """Write already-checked archive members: (target, is_dir, open_source) triples."""
    extracted = []
    for target, is_dir, open_source in entries:
        if is_dir:
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with open_source() as src, open(target, "wb") as out:
            shutil.copyfileobj(src, out)
        extracted.append(target)
    return extracted


def safe_extract(archive, dest):
    """Extract a ``.tar(.gz|.bz2|.xz)`` or ``.zip`` archive into ``dest`` safely.

    Members with absolute paths or ``..`` components, and links or devices,
    are refused before anything is written, so an archive can never write
    outside ``dest``.

    Parameters
    ----------
    archive : str or Path
        A zip or tar file (tar compressed with gzip, bzip2 or xz is detected
        from its content); anything else raises :class:`DownloadError`, a
        missing file FileNotFoundError.
    dest : str or Path
        The folder to extract into, created (with its parents) if missing,
        once the archive has passed every check (a refused archive creates
        nothing). Existing files of the same names are overwritten.

    Returns
    -------
    list of pathlib.Path
        The extracted files.

    Examples
    --------
    >>> import io, pathlib, tarfile, tempfile
    >>> from dlbook.download import safe_extract
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> with tarfile.open(tmp / "good.tar.gz", "w:gz") as tar:
    ...     info = tarfile.TarInfo("data/a.txt"); info.size = 2
    ...     tar.addfile(info, io.BytesIO(b"hi"))
    >>> [p.name for p in safe_extract(tmp / "good.tar.gz", tmp / "out")]
    ['a.txt']
    """
    archive, dest = check_path("archive", archive), check_path("dest", dest)
    dest = dest.resolve()  # not created yet: a refused archive leaves no folder behind
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            targets = [_check_member(m.filename, dest) for m in members]
            for m, target in zip(members, targets):
                if (m.external_attr >> 16) & 0o170000 == 0o120000:
                    raise DownloadError(f"Refusing to extract the symbolic link {m.filename!r}.")
            dest.mkdir(parents=True, exist_ok=True)  # everything checked: now write
            return _write_members(
                (target, m.is_dir(), lambda m=m: zf.open(m)) for m, target in zip(members, targets))
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            for m in members:
                _check_member(m.name, dest)
                if not (m.isfile() or m.isdir()):
                    raise DownloadError(
                        f"Refusing to extract {m.name!r}: links and special files are not allowed."
                    )
            dest.mkdir(parents=True, exist_ok=True)  # everything checked: now write
            return _write_members(
                (dest / m.name, m.isdir(), lambda m=m: tar.extractfile(m)) for m in members)
    raise DownloadError(f"{archive} is neither a zip nor a tar archive.")
