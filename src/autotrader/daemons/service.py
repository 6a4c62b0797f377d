"""The interface every daemon implements; ``autotrader.daemons.runtime`` drives it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.config import AppConfig


class Service(Protocol):
    """One daemon's work; the runtime owns the life cycle, signals, watchdog and heartbeat."""

    @property
    def name(self) -> str:
        """ "signal", "executor" or "scheduler"."""

    @property
    def tick_secs(self) -> float:
        """Real seconds from the end of one ``on_tick`` to the next (read after every tick)."""

    async def startup(self) -> None:
        """Acquire resources; READY=1 is sent when this returns."""

    async def on_tick(self) -> None:
        """One round of work; raise TemporaryError / OperationalError as errors.py says."""

    def reload(self, config: AppConfig) -> None:
        """Swap to a new valid configuration; raise ConfigError to refuse it."""

    async def shutdown(self) -> None:
        """Release resources; bounded by ``daemons.shutdown_timeout_secs``."""

    def status_line(self) -> str:
        """One line for ``STATUS=`` and the heartbeat row."""

    def healthy(self) -> bool:
        """WATCHDOG=1 is sent only while this is True."""


ServiceFactory = Callable[[AppConfig, Clock, sa.Engine], Service]
