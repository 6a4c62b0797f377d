"""File helpers: atomic replacement, so readers never see a half-written file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def atomic_write(path: Path, data: bytes | Iterable[bytes], mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` atomically: temp file in the same folder, fsync, rename.

    ``data`` may be the content's pieces, written as they come, so a big file (the status
    page of thousands of strategies) is never held whole in memory. A crash at any point, or
    an exception while the pieces are produced, leaves the old file, never a mix.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(data, bytes):
                fh.write(data)
            else:
                fh.writelines(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def blank_credential(path: Path) -> bool:
    """Whether a credential file holds only white space. The packaged units give each secret an
    empty fallback (``SetCredential=polymarket-key:`` + newline) so paper mode starts without a
    key file: such a credential means "not given", not "a malformed key"."""
    try:
        return not path.read_bytes().strip()
    except OSError:
        return False
