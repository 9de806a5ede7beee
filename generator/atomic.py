"""The one atomic file write: every file Gongu writes gets the same fsync and mode behaviour.

Temp file in the target's folder → write → fsync the file → rename over the target → fsync the
folder: a reader sees the old file or the new one, never half of one, and the rename survives a
power cut. The new file gets the mode a normal file would get (0666 less the umask, 0644 usually),
so a sealed report and a rendered report look alike; private keys pass mode=0o600."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def default_file_mode() -> int:
    """What open(…, "w") would give a new file: 0666 less the process umask."""
    return 0o666 & ~_umask()


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: str | Path, data: bytes, *, mode: int | None = None) -> Path:
    """Replace `path` with `data` atomically. `mode` (e.g. 0o600 for a private key) overrides the
    usual mode; the parent folder is created if missing. Nothing is left behind on failure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp creates 0600: give the file the mode a normal new file gets, unless told otherwise.
        os.chmod(tmp, default_file_mode() if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path
