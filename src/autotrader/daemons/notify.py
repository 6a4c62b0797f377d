"""The daemon side of the sd_notify protocol (READY, RELOADING, STOPPING, STATUS, WATCHDOG).

Sending goes through the ``sdnotify`` package. Without ``NOTIFY_SOCKET`` every call is a no-op,
so a daemon behaves the same in a terminal as under systemd. Abstract socket addresses
(``@name``) work: sdnotify translates the ``@`` into the leading NUL byte.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

import sdnotify

log = logging.getLogger("autotrader.runtime")

# A wedged service manager must not freeze the event loop: a datagram that cannot be queued
# within this time is dropped (systemd reads its socket continuously, so this never triggers
# under systemd; it bounds the damage when something else plays the manager).
_SEND_TIMEOUT_SECS = 0.5


def monotonic_usec() -> int:
    """CLOCK_MONOTONIC in microseconds, the clock systemd expects in ``MONOTONIC_USEC=``."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def watchdog_period_secs(env: Mapping[str, str], pid: int) -> float | None:
    """The watchdog period systemd asked for, or None when the watchdog is off for this process.

    Mirrors ``sd_watchdog_enabled()``: ``WATCHDOG_USEC`` must be a positive integer, and when
    ``WATCHDOG_PID`` is set it must name this process (otherwise the request was meant for a
    parent and is ignored).
    """
    raw = env.get("WATCHDOG_USEC", "").strip()
    if not raw:
        return None
    try:
        usec = int(raw)
    except ValueError:
        log.warning("ignoring WATCHDOG_USEC=%r: not an integer", raw)
        return None
    if usec <= 0:
        return None
    owner = env.get("WATCHDOG_PID", "").strip()
    if owner and owner != str(pid):
        return None
    return usec / 1_000_000


class Notifier:
    """One connection to the service manager's notification socket.

    The variables are removed from ``os.environ`` once read (like ``sd_notify(1, …)``), so child
    processes cannot send on our behalf; systemd with ``NotifyAccess=main`` would reject their
    messages anyway and log a warning for each.
    """

    def __init__(self) -> None:
        environ = os.environ
        self.address = environ.get("NOTIFY_SOCKET") or None
        self.watchdog_period = watchdog_period_secs(environ, os.getpid())
        self._notifier: sdnotify.SystemdNotifier | None = None
        if self.address is not None:
            # sdnotify reads NOTIFY_SOCKET from os.environ itself.
            self._notifier = sdnotify.SystemdNotifier()
            sock: socket.socket | None = self._notifier.socket
            if sock is None:
                log.warning(
                    "cannot connect to NOTIFY_SOCKET=%s: notifications are off", self.address
                )
                self._notifier = None
            else:
                sock.settimeout(_SEND_TIMEOUT_SECS)
        for key in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
            environ.pop(key, None)

    @property
    def enabled(self) -> bool:
        """True when a service manager is listening."""
        return self._notifier is not None

    def send(self, *assignments: str) -> None:
        """Send ``KEY=VALUE`` assignments as one datagram (a no-op without a manager)."""
        if self._notifier is not None and assignments:
            self._notifier.notify("\n".join(assignments))

    def ready(self, status: str) -> None:
        """Start-up or reload finished."""
        self.send("READY=1", status_assignment(status))

    def reloading(self) -> None:
        """A reload begins; systemd 252 pairs it with the monotonic time of the request."""
        self.send("RELOADING=1", f"MONOTONIC_USEC={monotonic_usec()}")

    def stopping(self, status: str) -> None:
        """Shutdown begins."""
        self.send("STOPPING=1", status_assignment(status))

    def status(self, status: str) -> None:
        """Update the one-line status ``systemctl status`` shows."""
        self.send(status_assignment(status))

    def watchdog(self) -> None:
        """Tell systemd we are healthy."""
        self.send("WATCHDOG=1")


def status_assignment(text: str) -> str:
    """``STATUS=<text>`` on one line: a newline would start a new assignment."""
    return "STATUS=" + " ".join(text.split("\n")).replace("\r", " ")
