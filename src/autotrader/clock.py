"""Time sources. Every daemon reads time through a ``Clock`` so tests and the demo can run it fast.

``ScaledClock`` runs simulated time at ``speed`` × real time from a shared anchor, so the
simulator and the daemons agree on "now" without talking to each other: the anchor (real epoch
seconds at which simulated time was ``start``) is created once in a file under ``state_dir``
and read by every process that uses the same config.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    """What a component needs to know about time."""

    def time(self) -> float:
        """Current time as epoch seconds (UTC)."""

    def now(self) -> datetime:
        """Current time as an aware UTC datetime."""

    async def sleep(self, secs: float) -> None:
        """Sleep for ``secs`` of this clock's time."""

    @property
    def speed(self) -> float:
        """How many clock seconds pass per real second."""


class LiveClock:
    """Wall-clock time."""

    speed = 1.0

    def time(self) -> float:
        """Current epoch seconds."""
        return time.time()

    def now(self) -> datetime:
        """Current aware UTC datetime."""
        return datetime.fromtimestamp(time.time(), UTC)

    async def sleep(self, secs: float) -> None:
        """Sleep in real time."""
        await asyncio.sleep(max(0.0, secs))


class ScaledClock:
    """Simulated time: ``start + (real_now - anchor) * speed``."""

    def __init__(self, start: float, speed: float, anchor: float | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be > 0 (got {speed})")
        self.start = float(start)
        self._speed = float(speed)
        self.anchor = time.time() if anchor is None else float(anchor)

    @property
    def speed(self) -> float:
        """Simulated seconds per real second."""
        return self._speed

    def time(self) -> float:
        """Simulated epoch seconds."""
        return self.start + (time.time() - self.anchor) * self._speed

    def now(self) -> datetime:
        """Simulated aware UTC datetime."""
        return datetime.fromtimestamp(self.time(), UTC)

    async def sleep(self, secs: float) -> None:
        """Sleep ``secs`` simulated seconds (``secs / speed`` real seconds)."""
        await asyncio.sleep(max(0.0, secs) / self._speed)

    @classmethod
    def shared(cls, anchor_file: Path, start: float, speed: float) -> ScaledClock:
        """The clock every process of one installation agrees on.

        The first process creates ``anchor_file`` (O_EXCL, so two racing processes cannot both
        win); the others read it. A file written for another start or speed is replaced, so a
        changed config starts a fresh simulated timeline.
        """
        anchor_file.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            try:
                data = json.loads(anchor_file.read_text())
                if data.get("start") == start and data.get("speed") == speed:
                    return cls(start, speed, anchor=float(data["anchor"]))
                anchor_file.unlink(missing_ok=True)
            except FileNotFoundError:
                pass
            except (ValueError, KeyError, TypeError):
                anchor_file.unlink(missing_ok=True)
            payload = json.dumps({"start": start, "speed": speed, "anchor": time.time()})
            try:
                fd = os.open(anchor_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            return cls(start, speed, anchor=json.loads(payload)["anchor"])
        raise RuntimeError(f"could not create or read the clock anchor {anchor_file}")


class FakeClock:
    """A clock tests move by hand; ``sleep`` advances it instantly."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:
        self._t = float(start)

    speed = 1.0

    def time(self) -> float:
        """Current fake epoch seconds."""
        return self._t

    def now(self) -> datetime:
        """Current fake aware UTC datetime."""
        return datetime.fromtimestamp(self._t, UTC)

    def advance(self, secs: float) -> None:
        """Move time forward."""
        self._t += secs

    async def sleep(self, secs: float) -> None:
        """Advance the fake time and yield to the loop once."""
        self._t += max(0.0, secs)
        await asyncio.sleep(0)
