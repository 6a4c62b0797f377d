"""The scheduler daemon: the Service the runtime runs (the work is in ``autotrader.scheduler``)."""

from __future__ import annotations

from autotrader.scheduler.service import SchedulerService

__all__ = ["SchedulerService"]
