"""The heartbeat row each daemon keeps in ``daemon_heartbeats`` (read by ``autotrader status``)."""

from __future__ import annotations

import asyncio
import logging
import threading

from autotrader.store.repos import HeartbeatRepo

log = logging.getLogger("autotrader.runtime")

# A beat is abandoned (the thread finishes on its own) after this long, so a database that
# does not answer can neither stall the daemon's loop nor hold up its shutdown.
MIN_BEAT_TIMEOUT_SECS = 5.0


class HeartbeatWriter:
    """Writes beats in a worker thread, in order, logging a failure once rather than per beat."""

    def __init__(self, repo: HeartbeatRepo, daemon: str, pid: int) -> None:
        self.repo = repo
        self.daemon = daemon
        self.pid = pid
        self._lock = threading.Lock()
        self._seq = 0
        self._written = 0
        self._failing = False

    async def beat(self, state: str, status: str, timeout: float = MIN_BEAT_TIMEOUT_SECS) -> bool:
        """Record ``state`` and ``status`` now; True when the row was written."""
        self._seq += 1
        writing = asyncio.create_task(asyncio.to_thread(self._write, self._seq, status, state))
        try:
            done, _ = await asyncio.wait({writing}, timeout=max(timeout, MIN_BEAT_TIMEOUT_SECS))
            if not done:
                raise TimeoutError("the database did not answer in time")
            writing.result()
        except Exception as exc:
            if not self._failing:
                log.warning("cannot write the heartbeat row: %s: %s", type(exc).__name__, exc)
            self._failing = True
            return False
        if self._failing:
            log.info("heartbeat row written again")
        self._failing = False
        return True

    def _write(self, seq: int, status: str, state: str) -> None:
        # A beat abandoned on its way (at shutdown) may still run in its thread: beats are
        # serialised and an older one never overwrites a newer one ("running" after "stopped").
        with self._lock:
            if seq < self._written:
                return
            self.repo.beat(self.daemon, self.pid, status, state)
            self._written = seq
