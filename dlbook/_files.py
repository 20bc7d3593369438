"""Files written whole or not at all: the one atomic write of the package."""
import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_open"]


@contextlib.contextmanager
def atomic_open(path, mode="wb", **kwargs):
    """Open a temporary file beside ``path``; on success it replaces ``path``.

    The file is flushed and synced before the rename, so a crash or an error
    inside the ``with`` block leaves the previous ``path`` (or none) and no
    temporary file behind.

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_open(folder / "a.txt", "w", encoding="utf-8") as f:
    ...     _ = f.write("whole")
    >>> try:
    ...     with atomic_open(folder / "a.txt", "w", encoding="utf-8") as f:
    ...         _ = f.write("half")
    ...         raise RuntimeError("crash mid-write")
    ... except RuntimeError:
    ...     pass
    >>> (folder / "a.txt").read_text(), sorted(p.name for p in folder.iterdir())
    ('whole', ['a.txt'])
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
