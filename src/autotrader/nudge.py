""" "Look now": a datagram to the executor when an intent is committed, so it need not wait for
its next poll.

The executor listens on a datagram socket in the state folder (``executor.nudge``); whoever
commits an intent (the scheduler's strategies, ``autotrader trade``) sends it one byte after
the commit. Best effort on both sides: no listener, a full buffer, no permission on the socket
or a path too long for a socket (108 bytes) → nothing happens, and the poll
(``executor.poll_interval_ms``) still finds the intent. The byte carries no data: the database
is the only channel for intents, so a forged nudge costs one extra poll and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import stat
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("autotrader.nudge")

SOCKET_NAME = "executor.nudge"


def nudge_path(state_dir: Path) -> Path:
    """Where the executor of this state folder listens."""
    return state_dir / SOCKET_NAME


def send_nudge(path: Path | None) -> None:
    """Wake the executor listening at ``path``, if there is one (never raises, never blocks)."""
    if path is None:
        return
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.setblocking(False)
        s.sendto(b"!", os.fsencode(path))


class NudgeListener:
    """The executor's end: calls ``on_nudge`` (on the event loop) whenever nudges arrive."""

    def __init__(self, path: Path, on_nudge: Callable[[], None]) -> None:
        self._path = path
        self._on_nudge = on_nudge
        self._sock: socket.socket | None = None

    def open(self) -> bool:
        """Bind and start listening; False (logged, polling only) when the socket can't be."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self._remove_stale()
            sock.bind(os.fsencode(self._path))
            sock.setblocking(False)
            asyncio.get_running_loop().add_reader(sock.fileno(), self._drain)
        except OSError as exc:
            sock.close()
            log.warning(
                "no nudge socket at %s (%s): new intents are found by polling", self._path, exc
            )
            return False
        self._sock = sock
        return True

    def close(self) -> None:
        """Stop listening and remove the socket file."""
        if self._sock is None:
            return
        asyncio.get_running_loop().remove_reader(self._sock.fileno())
        self._sock.close()
        self._sock = None
        with contextlib.suppress(OSError):
            self._path.unlink()

    def _remove_stale(self) -> None:
        # A socket left by a killed executor; anything else at that path is not ours to delete.
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISSOCK(self._path.lstat().st_mode):
                self._path.unlink()

    def _drain(self) -> None:
        assert self._sock is not None
        with contextlib.suppress(BlockingIOError):
            while self._sock.recv(64):
                pass
        self._on_nudge()
