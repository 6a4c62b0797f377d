"""Notice when the configuration file changes, so saving it is enough to reload.

Polling a cheap ``stat()`` about once a second is used rather than inotify: it needs no extra
package, survives the file being replaced by a rename (what most editors and config management
tools do: the path then names a new inode) and works the same on every file system.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple


class FileIdentity(NamedTuple):
    """What changes when a file is written in place or replaced by another one."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int


def file_identity(path: Path) -> FileIdentity | None:
    """The identity of the file ``path`` names now (following symlinks), or None if absent."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return FileIdentity(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class ConfigWatcher:
    """Reports a change of one file, once per change.

    A missing file is not a change: an editor that saves by unlink + rename leaves a short gap
    in which the path names nothing, and a reload in that gap would only be refused. The change
    is reported when a file is back under the name.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen = file_identity(path)
        self.generation = 0  # counts mark_current() calls, i.e. reloads

    def mark_current(self) -> None:
        """Take the file as it is now as the applied version (call before reading it)."""
        self._seen = file_identity(self.path)
        self.generation += 1

    def changed(self) -> bool:
        """True once for every new version of the file since the last call or ``mark_current``."""
        now = file_identity(self.path)
        if now is None or now == self._seen:
            return False
        self._seen = now
        return True
