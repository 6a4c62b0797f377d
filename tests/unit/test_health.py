"""The watchdog verdict: a tick stuck past the stall limit is unhealthy, unless the service
says it is waiting on purpose (the executor waiting out a venue's Retry-After)."""

from __future__ import annotations

import time

from autotrader.daemons.health import HealthTracker


class _Service:
    tick_secs = 0.05

    def __init__(self, busy_for: float | None) -> None:
        self._busy_until = None if busy_for is None else time.monotonic() + busy_for

    def healthy(self) -> bool:
        return True

    def busy_until(self) -> float:
        return self._busy_until or 0.0


def _verdict(service: object, running_for: float) -> bool:
    tracker = HealthTracker()
    tracker.tick_started = time.monotonic() - running_for
    return tracker.check(service)  # type: ignore[arg-type]


def test_a_tick_running_past_the_stall_limit_is_unhealthy() -> None:
    assert _verdict(_Service(None), running_for=10)
    assert not _verdict(_Service(None), running_for=120)


def test_a_deliberate_wait_is_not_a_stall_until_it_should_have_ended() -> None:
    assert _verdict(_Service(busy_for=300), running_for=120)
    assert not _verdict(_Service(busy_for=-1), running_for=120)
