"""Next-run computation: intervals, alignment with offsets, active hours across midnight and DST."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from autotrader.clock import FakeClock
from autotrader.config import ScheduleConfig
from autotrader.scheduler.lifecycle import Status, strategy_status, transition
from autotrader.scheduler.schedule import first_run, following_run, grid_ceil, resume_run

UTC_TZ = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def sched(**kw: object) -> ScheduleConfig:
    return ScheduleConfig.model_validate(kw)


def ts(text: str, tz: ZoneInfo = UTC_TZ) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=tz).timestamp()


def local(t: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(t, UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S%z")


def test_plain_interval_runs_at_once_then_every_period_from_the_due_time() -> None:
    clock = FakeClock(ts("2026-03-01 10:00:07"))
    s = sched(every="30s")
    due = first_run(s, clock.time(), UTC_TZ)
    assert due == clock.time()
    clock.advance(4.5)  # the run took a while to start: the next is still due + every
    assert following_run(s, due, clock.time(), UTC_TZ) == due + 30


def test_aligned_schedule_uses_clock_multiples_plus_offset() -> None:
    s = sched(every="15m", align=True, offset_secs=5)
    first = first_run(s, ts("2026-03-01 10:07:00"), UTC_TZ)
    assert first == ts("2026-03-01 10:15:05")
    # Exactly on a grid point: that point, not the next one.
    assert first_run(s, ts("2026-03-01 10:30:05"), UTC_TZ) == ts("2026-03-01 10:30:05")
    assert following_run(s, first, first + 0.2, UTC_TZ) == ts("2026-03-01 10:30:05")
    assert grid_ceil(s, ts("2026-03-01 10:45:04.999")) == ts("2026-03-01 10:45:05")


def test_missed_runs_are_not_caught_up() -> None:
    s_plain, s_aligned = sched(every="1m"), sched(every="1m", align=True)
    due = ts("2026-03-01 10:00:00")
    later = ts("2026-03-01 10:07:30")  # seven periods missed (daemon stopped, say)
    assert following_run(s_plain, due, later, UTC_TZ) == later
    assert following_run(s_aligned, due, later, UTC_TZ) == ts("2026-03-01 10:08:00")


def test_active_hours_across_midnight() -> None:
    s = sched(every="1h", align=True, active_hours={"start": "22:00", "end": "02:00"})
    # Inside (before midnight and after) the grid is used as is.
    assert first_run(s, ts("2026-03-01 22:30:00"), UTC_TZ) == ts("2026-03-01 23:00:00")
    due = ts("2026-03-02 01:00:00")
    # 02:00 is the end (exclusive): the next run is the next opening, 22:00 the same day.
    assert following_run(s, due, due, UTC_TZ) == ts("2026-03-02 22:00:00")
    assert first_run(s, ts("2026-03-02 12:00:00"), UTC_TZ) == ts("2026-03-02 22:00:00")


def test_active_hours_in_the_configured_time_zone() -> None:
    s = sched(every="30m", active_hours={"start": "09:00", "end": "17:00"})
    # 07:30 UTC is 08:30 in Berlin (winter, UTC+1): wait until 09:00 local = 08:00 UTC.
    assert first_run(s, ts("2026-01-15 07:30:00"), BERLIN) == ts("2026-01-15 08:00:00")
    # 16:45 local is inside; the next +30m (17:15) is not: next day 09:00 local.
    due = ts("2026-01-15 16:45:00", BERLIN)
    assert local(following_run(s, due, due, BERLIN) or 0, BERLIN) == "2026-01-16 09:00:00+0100"


def test_window_opening_inside_the_spring_forward_gap() -> None:
    # New York, 2026-03-08: 02:00-03:00 local does not exist. A window opening at 02:30 opens
    # at the first instant after the gap, 03:30 EDT (07:30 UTC).
    s = sched(every="10m", active_hours={"start": "02:30", "end": "05:00"})
    opened = first_run(s, ts("2026-03-08 01:00:00", NEW_YORK), NEW_YORK)
    assert opened is not None
    assert local(opened, NEW_YORK) == "2026-03-08 03:30:00-0400"


def test_aligned_hours_follow_local_time_across_the_autumn_change() -> None:
    # Berlin, 2026-10-25: clocks go back at 03:00 CEST. A 09:00-10:00 local window opens at
    # 07:00 UTC before the change and 08:00 UTC after it.
    s = sched(every="1h", align=True, active_hours={"start": "09:00", "end": "10:00"})
    before = first_run(s, ts("2026-10-24 05:00:00"), BERLIN)
    assert before == ts("2026-10-24 07:00:00")
    after = following_run(s, before, before, BERLIN)
    assert after == ts("2026-10-25 08:00:00")
    assert local(after, BERLIN) == "2026-10-25 09:00:00+0100"


def test_aligned_grid_that_never_meets_active_hours_is_never() -> None:
    s = sched(every="1h", align=True, active_hours={"start": "09:10", "end": "09:20"})
    assert first_run(s, ts("2026-03-01 00:00:00"), UTC_TZ) is None


def test_restart_keeps_a_stored_next_run_that_is_still_ahead() -> None:
    s = sched(every="1h")
    now = ts("2026-03-01 10:00:00")
    assert resume_run(s, now + 600, now, UTC_TZ) == now + 600
    assert resume_run(s, now - 600, now, UTC_TZ) == now  # missed while down: run now
    aligned = sched(every="1h", align=True)
    # A stored time off the (new) grid is recomputed.
    assert resume_run(aligned, now + 600, now, UTC_TZ) == now


@pytest.mark.parametrize(
    ("enabled", "desired", "paused", "failures", "expected"),
    [
        (True, None, False, 0, Status.RUNNING),
        (False, None, False, 0, Status.STOPPED),
        (False, "running", False, 0, Status.RUNNING),
        (True, "stopped", True, 3, Status.STOPPED),
        (True, None, True, 3, Status.PAUSED),
        (True, "running", False, 2, Status.ERROR),
    ],
)
def test_strategy_status_rules(
    enabled: bool, desired: str | None, paused: bool, failures: int, expected: Status
) -> None:
    got = strategy_status(
        enabled=enabled, desired=desired, paused=paused, consecutive_failures=failures
    )
    assert got is expected


def test_transitions() -> None:
    assert transition(None, Status.RUNNING) == "start"
    assert transition(Status.PAUSED, Status.ERROR) == "start"
    assert transition(Status.RUNNING, Status.ERROR) is None
    assert transition(Status.ERROR, Status.PAUSED) == "halt"
    assert transition(Status.STOPPED, Status.PAUSED) is None
