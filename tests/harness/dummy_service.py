"""A minimal Service, run by the real runtime, so the daemon life cycle is tested on its own.

Run it as ``python tests/harness/dummy_service.py --config FILE`` (by path: a dependency
installs a top-level ``tests`` package that would shadow ours under ``-m``). It ticks every
``signal.interval_secs`` real seconds and is steered through marker files in its ``state_dir``:

========================  ==============================================================
``unhealthy``             ``healthy()`` returns False
``slow`` (seconds)        each ``on_tick`` awaits that long (the event loop stays free)
``stall``                 ``on_tick`` awaits forever (until cancelled)
``hang``                  ``on_tick`` blocks the whole process (a deadlock: nothing runs)
``raise``                 ``on_tick`` raises RuntimeError (a bug: the daemon exits 1)
``temporary``             ``on_tick`` raises TemporaryError
``operational``           ``on_tick`` raises OperationalError
``hang_shutdown``         ``shutdown`` awaits forever
``fail_startup``          ``startup`` raises RuntimeError
========================  ==============================================================

Each life-cycle step is appended to ``<state_dir>/events.log`` as ``<CLOCK_MONOTONIC> <event>``
(the clock the harness stamps messages with), so a test can line up what the daemon did with
what the service manager received. ``$DUMMY_STALL_AFTER_SECS`` sets the runtime's stall limit.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.config import AppConfig
from autotrader.daemons.runtime import run_service
from autotrader.errors import OperationalError, TemporaryError


class DummyService:
    """Counts ticks; its status line shows the settings a reload can change."""

    name = "dummy"

    def __init__(self, config: AppConfig, clock: Clock, engine: sa.Engine) -> None:
        self.config = config
        self.clock = clock
        self.engine = engine
        self.ticks = 0
        self.state_dir = config.state_dir

    @property
    def tick_secs(self) -> float:
        """The configured signal interval, in real seconds."""
        return float(self.config.signal.interval_secs)

    def _marker(self, name: str) -> Path | None:
        path = self.state_dir / name
        return path if path.exists() else None

    def event(self, what: str) -> None:
        """Record a life-cycle step with the monotonic time."""
        with open(self.state_dir / "events.log", "a") as fh:
            fh.write(f"{time.monotonic():.6f} {what}\n")

    async def startup(self) -> None:
        """Fail on request, else note the start."""
        if self._marker("fail_startup"):
            raise RuntimeError("start-up failed on request")
        self.event("startup")

    async def on_tick(self) -> None:
        """Count the tick, then do what the markers ask."""
        self.ticks += 1
        if self._marker("raise"):
            raise RuntimeError("boom on request")
        if self._marker("temporary"):
            raise TemporaryError("venue busy on request")
        if self._marker("operational"):
            raise OperationalError("venue refuses on request", reason_code="DUMMY_REFUSED")
        slow = self._marker("slow")
        if slow is not None:
            self.event("slow-begin")
            await asyncio.sleep(float(slow.read_text() or "1"))
            self.event("slow-end")
        if self._marker("stall"):
            self.event("stall-begin")
            await asyncio.Event().wait()
        if self._marker("hang"):
            self.event("hang-begin")
            while True:  # blocks the event loop on purpose, like a deadlocked C call
                time.sleep(3600)

    def reload(self, config: AppConfig) -> None:
        """Take the new settings."""
        self.config = config
        self.event(f"reload interval={config.signal.interval_secs:g}")

    async def shutdown(self) -> None:
        """Hang on request, else note the shutdown."""
        self.event("shutdown-begin")
        if self._marker("hang_shutdown"):
            await asyncio.Event().wait()
        self.event("shutdown-end")

    def status_line(self) -> str:
        """Ticks so far and the settings in force."""
        return (
            f"dummy ticks={self.ticks} interval={self.config.signal.interval_secs:g} "
            f"mode={self.config.mode}"
        )

    def healthy(self) -> bool:
        """Healthy unless the ``unhealthy`` marker exists."""
        return self._marker("unhealthy") is None


def main() -> int:
    """Run the dummy daemon under the real runtime."""
    parser = argparse.ArgumentParser(prog="dummy_service")
    parser.add_argument("--config", type=Path, required=True)
    args = parser.parse_args()
    stall = os.environ.get("DUMMY_STALL_AFTER_SECS")
    return run_service(
        "dummy",
        DummyService,
        args.config,
        stall_after_secs=float(stall) if stall else None,
    )


if __name__ == "__main__":
    raise SystemExit(main())
