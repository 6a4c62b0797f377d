"""Whether a daemon deserves its next WATCHDOG=1: the service says so and its tick is not stuck."""

from __future__ import annotations

import asyncio
import logging
import time

from autotrader.daemons.notify import Notifier
from autotrader.daemons.service import Service

log = logging.getLogger("autotrader.runtime")

DEFAULT_MIN_STALL_SECS = 60.0
STALL_TICKS = 10


class HealthTracker:
    """Judges health for the watchdog and logs each change of verdict once.

    The runtime marks the start and end of every ``on_tick``; a tick in flight for longer than
    the stall limit (``stall_after_secs``, or the larger of 60 s and 10 ticks) counts as
    unhealthy, so a tick awaiting something that never comes ends in a watchdog restart —
    unless the service says it is waiting on purpose until later (an optional
    ``busy_until()``, on ``time.monotonic()``: the executor waiting out a venue's 429).
    """

    def __init__(self, stall_after_secs: float | None = None) -> None:
        self.stall_after_secs = stall_after_secs
        self.tick_started: float | None = None
        self.healthy = True

    def tick_begins(self) -> None:
        """``on_tick`` was called."""
        self.tick_started = time.monotonic()

    def tick_ends(self) -> None:
        """``on_tick`` returned or raised."""
        self.tick_started = None

    def check(self, service: Service) -> bool:
        """The verdict now; a change from the last verdict is logged."""
        try:
            ok = bool(service.healthy())
            why = "the service reports itself unhealthy"
        except Exception as exc:
            ok, why = False, f"healthy() raised {type(exc).__name__}: {exc}"
        started = self.tick_started
        if ok and started is not None:
            now = time.monotonic()
            running = now - started
            if running > self.stall_limit(service) and now > _busy_until(service):
                ok, why = False, f"on_tick has not returned for {running:.0f}s"
        if ok != self.healthy:
            if ok:
                log.info("healthy again: watchdog pings resumed")
            else:
                log.warning("%s: watchdog pings withheld, systemd restarts the daemon", why)
            self.healthy = ok
        return ok

    def stall_limit(self, service: Service) -> float:
        """Seconds a single tick may run before the daemon counts as stuck."""
        if self.stall_after_secs is not None:
            return self.stall_after_secs
        return max(DEFAULT_MIN_STALL_SECS, STALL_TICKS * service.tick_secs)


def _busy_until(service: Service) -> float:
    """When a service's deliberate wait ends (optional ``busy_until()``; 0: never busy)."""
    busy = getattr(service, "busy_until", None)
    return float(busy()) if callable(busy) else 0.0


async def feed_watchdog(notifier: Notifier, health: HealthTracker, service: Service | None) -> None:
    """WATCHDOG=1 every half period while healthy; nothing at all without a watchdog."""
    period = notifier.watchdog_period
    if period is None or service is None:
        return
    interval = period / 2
    next_at = time.monotonic()
    while True:
        if health.check(service):
            notifier.watchdog()
        next_at += interval
        now = time.monotonic()
        if next_at < now:  # the loop was blocked: restart the schedule instead of bursting
            next_at = now + interval
        await asyncio.sleep(next_at - now)
