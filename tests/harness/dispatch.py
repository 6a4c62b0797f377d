"""Building a notification ``Dispatcher`` for tests: config, migrated engine and a fake clock.

``NotifyRig`` holds the three together; ``tick()`` runs one ``on_tick`` (all ticks of a test
share one event loop, as in the daemon), ``record()`` stores an event stamped with the fake
clock, and ``at(...)`` moves the clock to a local wall time of the configured zone.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from autotrader.clock import FakeClock
from autotrader.config import AppConfig
from autotrader.notify.dispatcher import Dispatcher
from autotrader.store.repos_notify import Delivery, DeliveryRepo
from autotrader.store.repos_runtime import EventRepo


def notify_config(
    database_url: str, notifications: dict[str, Any], *, tz: str = "UTC", state_dir: str = "/tmp"
) -> AppConfig:
    """An AppConfig with only the database, time zone and ``notifications`` set."""
    return AppConfig.model_validate(
        {
            "state_dir": state_dir,
            "database_url": database_url,
            "timezone": tz,
            "notifications": notifications,
        }
    )


def email_settings(port: int, **extra: Any) -> dict[str, Any]:
    """An ``email:`` section for a sink on 127.0.0.1:``port``."""
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "from": "autotrader@example.org",
        "to": ["ops@example.org", "desk@example.org"],
        "timeout_secs": 5,
        **extra,
    }


class NotifyRig:
    """A dispatcher over a real database, driven by a hand-moved clock."""

    def __init__(self, config: AppConfig, engine: sa.Engine, start: datetime) -> None:
        self.config = config
        self.engine = engine
        self.clock = FakeClock(start.timestamp())
        self.dispatcher = Dispatcher(config, self.clock, engine)
        self.events = EventRepo(engine, now=self.clock.now)
        self.deliveries = DeliveryRepo(engine)
        self.loop = asyncio.new_event_loop()

    @property
    def tz(self) -> ZoneInfo:
        """The configured zone."""
        return self.config.tz

    def record(self, type: str, strategy: str | None = None, **payload: Any) -> int:
        """Record an event now (fake clock)."""
        return self.events.record(type, strategy, payload)

    def tick(self) -> None:
        """One dispatcher tick."""
        self.loop.run_until_complete(self.dispatcher.on_tick())

    def at(self, local: datetime) -> None:
        """Move the clock (forward only) to the naive local wall time ``local``."""
        target = local.replace(tzinfo=self.tz).timestamp()
        assert target >= self.clock.time(), "the fake clock only moves forward"
        self.clock.advance(target - self.clock.time())

    def advance(self, secs: float) -> None:
        """Move the clock forward."""
        self.clock.advance(secs)

    def restart(self) -> None:
        """Replace the dispatcher by a new one on the same database (a daemon restart)."""
        self.loop.run_until_complete(self.dispatcher.aclose())
        self.dispatcher = Dispatcher(self.config, self.clock, self.engine)

    def all(self) -> list[Delivery]:
        """Every delivery, oldest first."""
        return self.deliveries.all()

    def close(self) -> None:
        """Close the dispatcher and the loop."""
        self.loop.run_until_complete(self.dispatcher.aclose())
        self.loop.close()
