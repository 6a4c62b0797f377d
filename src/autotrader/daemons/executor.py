"""The executor daemon: the Service the runtime runs (the work is in ``autotrader.executor``)."""

from __future__ import annotations

from autotrader.executor.service import ExecutorService

__all__ = ["ExecutorService"]
