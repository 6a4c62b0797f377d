"""Delivery of notification events (placeholder until issue 6 lands; the interface is fixed)."""

from __future__ import annotations

import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.config import AppConfig


class Dispatcher:
    """Turns recorded events into e-mail and webhook deliveries (run by the scheduler)."""

    def __init__(self, config: AppConfig, clock: Clock, engine: sa.Engine) -> None:
        self._config = config
        self._clock = clock
        self._engine = engine

    def reload(self, config: AppConfig) -> None:
        """Take the new notification settings."""
        self._config = config

    async def on_tick(self) -> None:
        """Schedule new events and send what is due."""

    async def aclose(self) -> None:
        """Close connections."""

    def status_text(self) -> str:
        """A short phrase for the scheduler's STATUS line."""
        return ""
