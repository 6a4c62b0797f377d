"""Writes the static status page (placeholder until issue 6 lands; the interface is fixed)."""

from __future__ import annotations

import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.config import AppConfig


class StatusPageWriter:
    """Renders the site into ``status_page.output_dir`` every ``refresh_secs`` (scheduler)."""

    def __init__(self, config: AppConfig, clock: Clock, engine: sa.Engine) -> None:
        self._config = config
        self._clock = clock
        self._engine = engine

    def reload(self, config: AppConfig) -> None:
        """Take the new settings."""
        self._config = config

    async def on_tick(self, *, force: bool = False) -> None:
        """Render the site when it is due (or ``force``)."""
