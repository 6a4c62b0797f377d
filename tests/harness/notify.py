"""A stand-in for systemd's side of the sd_notify protocol, for tests of daemons as processes.

``ServiceManager`` binds an ``AF_UNIX`` datagram socket (a path in a fresh temporary folder, or
an abstract ``@name``) with ``SO_PASSCRED``, so every datagram carries the sender's pid as it
does for systemd. It starts the daemon as a real subprocess with ``NOTIFY_SOCKET`` and
``WATCHDOG_USEC`` set, records every message with its ``time.monotonic()`` receive time and
sender pid, and captures the daemon's stderr line by line.

Messages from any pid but the main process are kept apart in ``rejected``, as systemd does with
``NotifyAccess=main``. With ``enforce_watchdog`` it also acts like systemd's watchdog: once the
daemon is READY, a gap of ``watchdog_secs`` without ``WATCHDOG=1`` gets it SIGABRT. All waits
are condition-variable waits with a deadline; nothing sleeps for a fixed time.
Not emulated: cgroups, sandboxing, Restart= logic, journald, ExecReload=.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

_CREDS = struct.Struct("3i")  # struct ucred: pid, uid, gid


@dataclass(frozen=True)
class Message:
    """One datagram: receive time (monotonic), sender pid and its KEY=VALUE assignments."""

    t: float
    pid: int
    fields: Mapping[str, str]
    raw: str

    def has(self, key: str, value: str | None = None) -> bool:
        """True when the message assigns ``key`` (to ``value``, if given)."""
        return key in self.fields and (value is None or self.fields[key] == value)


@dataclass(frozen=True)
class LogLine:
    """One stderr line of the daemon with its receive time."""

    t: float
    text: str


def parse_message(data: bytes) -> dict[str, str]:
    """The assignments of one notification datagram (newline-separated KEY=VALUE)."""
    fields: dict[str, str] = {}
    for line in data.decode("utf-8", "replace").split("\n"):
        key, sep, value = line.partition("=")
        if sep:
            fields[key] = value
    return fields


class ServiceManager:
    """Plays the service manager for one daemon process (see the module docstring)."""

    def __init__(
        self,
        *,
        watchdog_secs: float | None = 1.0,
        abstract: bool = False,
        enforce_watchdog: bool = False,
    ) -> None:
        self.watchdog_secs = watchdog_secs
        self.enforce_watchdog = enforce_watchdog
        self.watchdog_fired_at: float | None = None
        self.messages: list[Message] = []
        self.rejected: list[Message] = []
        self.log: list[LogLine] = []
        self.proc: subprocess.Popen[bytes] | None = None
        self._cond = threading.Condition()
        self._closing = threading.Event()
        # A short folder of our own: AF_UNIX paths are limited to 108 bytes.
        self._dir = Path(tempfile.mkdtemp(prefix="sdn-"))
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        if abstract:
            name = f"autotrader-test-{os.getpid()}-{id(self):x}"
            self.sock.bind("\0" + name)
            self.address = "@" + name
        else:
            path = self._dir / "notify.sock"
            self.sock.bind(str(path))
            self.address = str(path)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.settimeout(0.05)  # lets the reader notice close(); not a synchronisation
        self._threads = [threading.Thread(target=self._receive, daemon=True)]
        self._threads[0].start()

    # -- process ---------------------------------------------------------------------------------
    def start(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        notify: bool = True,
    ) -> subprocess.Popen[bytes]:
        """Spawn the daemon with NOTIFY_SOCKET / WATCHDOG_USEC (unless ``notify`` is False)."""
        environ = dict(os.environ if env is None else env)
        for key in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
            environ.pop(key, None)
        if notify:
            environ["NOTIFY_SOCKET"] = self.address
            if self.watchdog_secs:
                environ["WATCHDOG_USEC"] = str(int(self.watchdog_secs * 1_000_000))
        self.proc = subprocess.Popen(
            list(argv), env=environ, cwd=cwd, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        assert self.proc.stderr is not None
        reader = threading.Thread(target=self._read_stderr, args=(self.proc.stderr,), daemon=True)
        reader.start()
        self._threads.append(reader)
        if self.enforce_watchdog and self.watchdog_secs:
            enforcer = threading.Thread(target=self._enforce_watchdog, daemon=True)
            enforcer.start()
            self._threads.append(enforcer)
        return self.proc

    @property
    def pid(self) -> int:
        """The main pid."""
        assert self.proc is not None, "start() first"
        return self.proc.pid

    def kill(self, sig: signal.Signals) -> float:
        """Send ``sig`` to the daemon; returns the monotonic time just before sending."""
        assert self.proc is not None
        t = time.monotonic()
        self.proc.send_signal(sig)
        return t

    def wait_exit(self, timeout: float) -> int:
        """The exit code (negative: killed by that signal); TimeoutError after ``timeout``."""
        assert self.proc is not None
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"daemon still running after {timeout}s\n{self.stderr()}") from None
        for thread in self._threads[1:]:
            thread.join(timeout)  # stderr is complete once its reader saw EOF
        return code

    def close(self) -> None:
        """Kill the daemon if it still runs and release the socket."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._closing.set()
        for thread in self._threads:
            thread.join(5)
        self.sock.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> ServiceManager:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- receiving -------------------------------------------------------------------------------
    def _receive(self) -> None:
        while not self._closing.is_set():
            try:
                data, ancillary, _flags, _addr = self.sock.recvmsg(
                    65536, socket.CMSG_SPACE(_CREDS.size)
                )
            except TimeoutError:
                continue
            except OSError:
                return
            pid = 0
            for level, kind, cdata in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = _CREDS.unpack(cdata[: _CREDS.size])[0]
            msg = Message(
                time.monotonic(), pid, parse_message(data), data.decode("utf-8", "replace")
            )
            with self._cond:
                main = self.proc.pid if self.proc is not None else pid
                (self.messages if pid == main else self.rejected).append(msg)
                self._cond.notify_all()

    def _enforce_watchdog(self) -> None:
        """Like systemd: SIGABRT when no WATCHDOG=1 came for ``watchdog_secs`` after READY."""
        assert self.proc is not None and self.watchdog_secs
        with self._cond:
            while not self._closing.is_set() and self.proc.poll() is None:
                pings = [
                    m.t for m in self.messages if m.has("WATCHDOG", "1") or m.has("READY", "1")
                ]
                if not pings:
                    self._cond.wait(0.5)  # not READY yet; woken by every message
                    continue
                left = pings[-1] + self.watchdog_secs - time.monotonic()
                if left <= 0:
                    self.watchdog_fired_at = time.monotonic()
                    self.proc.send_signal(signal.SIGABRT)
                    return
                self._cond.wait(left)

    def _read_stderr(self, stream: IO[bytes]) -> None:
        for raw in stream:
            line = LogLine(time.monotonic(), raw.decode("utf-8", "replace").rstrip("\n"))
            with self._cond:
                self.log.append(line)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    # -- waiting ---------------------------------------------------------------------------------
    def _wait(self, find: Callable[[], object], timeout: float, what: str) -> object:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = find()
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {what} within {timeout}s\n{self._summary()}")
                self._cond.wait(left)

    def wait_for(
        self,
        predicate: Callable[[Message], bool],
        *,
        timeout: float = 15.0,
        after: float = 0.0,
        what: str = "matching message",
    ) -> Message:
        """The first message received at or after ``after`` that satisfies ``predicate``."""

        def find() -> Message | None:
            return next((m for m in self.messages if m.t >= after and predicate(m)), None)

        found = self._wait(find, timeout, what)
        assert isinstance(found, Message)
        return found

    def wait_for_key(
        self, key: str, value: str | None = None, *, timeout: float = 15.0, after: float = 0.0
    ) -> Message:
        """The first ``KEY=VALUE`` (or any ``KEY=``) message since ``after``."""
        what = f"{key}={value if value is not None else '*'}"
        return self.wait_for(lambda m: m.has(key, value), timeout=timeout, after=after, what=what)

    def wait_for_watchdogs(self, count: int, *, after: float, timeout: float = 15.0) -> list[float]:
        """Receive times of the first ``count`` WATCHDOG=1 pings since ``after``."""

        def find() -> list[float] | None:
            times = self.watchdog_times(after)
            return times[:count] if len(times) >= count else None

        found = self._wait(find, timeout, f"{count} WATCHDOG=1 pings")
        assert isinstance(found, list)
        return found

    def wait_for_log(self, needle: str, *, timeout: float = 15.0, after: float = 0.0) -> LogLine:
        """The first stderr line since ``after`` that contains ``needle``."""

        def find() -> LogLine | None:
            return next((ln for ln in self.log if ln.t >= after and needle in ln.text), None)

        found = self._wait(find, timeout, f"log line containing {needle!r}")
        assert isinstance(found, LogLine)
        return found

    # -- analysis --------------------------------------------------------------------------------
    def watchdog_times(self, since: float = 0.0, until: float = float("inf")) -> list[float]:
        """Receive times of WATCHDOG=1 pings in [since, until]."""
        with self._cond:
            return [m.t for m in self.messages if m.has("WATCHDOG", "1") and since <= m.t <= until]

    def status(self) -> str | None:
        """The last STATUS= received."""
        with self._cond:
            found = [m.fields["STATUS"] for m in self.messages if "STATUS" in m.fields]
        return found[-1] if found else None

    def lines(self, since: float = 0.0, prefix: str = "") -> list[str]:
        """stderr lines received since ``since`` that start with ``prefix``."""
        with self._cond:
            return [ln.text for ln in self.log if ln.t >= since and ln.text.startswith(prefix)]

    def stderr(self) -> str:
        """Everything the daemon wrote to stderr so far."""
        with self._cond:
            return "\n".join(ln.text for ln in self.log)

    def _summary(self) -> str:
        recent = [m.raw.replace("\n", " ") for m in self.messages[-8:]]
        state = "running" if self.proc is None or self.proc.poll() is None else "exited"
        return f"daemon {state}; last messages: {recent}\nstderr tail:\n" + "\n".join(
            ln.text for ln in self.log[-15:]
        )


def gaps(times: Sequence[float]) -> list[float]:
    """Differences between consecutive times."""
    return [b - a for a, b in itertools.pairwise(times)]
