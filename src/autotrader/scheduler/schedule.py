"""When a strategy runs next: pure functions of its schedule, the time zone and "now".

* ``every`` alone: the first run is at once, then every ``every`` seconds after the previous
  run was *due* (not after it ended), so runs do not drift by their own duration.
* ``align: true``: runs fall on the clock's multiples of ``every`` (epoch seconds, i.e. in UTC:
  ``every: 15m`` is :00/:15/:30/:45) plus ``offset_secs``.
* ``active_hours``: only times whose local time (in the configured zone) falls inside the
  window are used; a window with ``end <= start`` crosses midnight. Outside it, the next run
  is the window's next opening (aligned to the grid when ``align`` is set). Local times are
  resolved with ``zoneinfo``, so a window opening inside a DST gap opens at the first instant
  after the gap, and one in the repeated hour opens at its first occurrence.

Missed runs are never caught up: a strategy that was not running (daemon down, paused) runs
once at the next due time, never in a burst.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from autotrader.config_strategies import ActiveHours, ScheduleConfig

# Window openings examined before deciding that an aligned schedule never meets its active
# hours (e.g. every 1h aligned, active 09:10-09:20): more than a year of days.
MAX_WINDOW_STEPS = 400


def grid_ceil(schedule: ScheduleConfig, t: float) -> float:
    """The first grid time (k × every + offset) at or after ``t``."""
    every, offset = float(schedule.every), float(schedule.offset_secs)
    k = math.ceil((t - offset) / every)
    point = k * every + offset
    # Floating point: a point that rounds to just below t moves one step on.
    return point if point >= t else point + every


def in_active_hours(hours: ActiveHours | None, t: float, tz: ZoneInfo) -> bool:
    """Whether epoch time ``t`` falls in the active hours (always, without any)."""
    if hours is None:
        return True
    local = datetime.fromtimestamp(t, UTC).astimezone(tz)
    return hours.contains(local.time().replace(tzinfo=None))


def next_opening(hours: ActiveHours, t: float, tz: ZoneInfo) -> float:
    """The first instant after ``t`` at which the active window opens (local ``start``)."""
    local = datetime.fromtimestamp(t, UTC).astimezone(tz)
    for days in range(0, 3):
        day = local.date() + timedelta(days=days)
        opening = datetime.combine(day, hours.start, tzinfo=tz)
        # In a DST gap the wall time does not exist: zoneinfo maps it past the gap (fold=0
        # uses the offset before the change), which is the first instant the window is open.
        at = opening.timestamp()
        if at > t:
            return at
    raise AssertionError("unreachable: a window opens every day")  # pragma: no cover


def _fit(schedule: ScheduleConfig, t: float, tz: ZoneInfo) -> float | None:
    """The first time at or after ``t`` that is on the grid (if aligned) and in active hours."""
    hours = schedule.active_hours
    candidate = grid_ceil(schedule, t) if schedule.align else t
    for _ in range(MAX_WINDOW_STEPS):
        if in_active_hours(hours, candidate, tz):
            return candidate
        assert hours is not None
        candidate = next_opening(hours, candidate, tz)
        if schedule.align:
            candidate = grid_ceil(schedule, candidate)
    return None


def first_run(schedule: ScheduleConfig, now: float, tz: ZoneInfo) -> float | None:
    """When a strategy that starts (or resumes) at ``now`` runs first; None: never."""
    return _fit(schedule, now, tz)


def following_run(schedule: ScheduleConfig, due: float, now: float, tz: ZoneInfo) -> float | None:
    """The run after the one that was due at ``due``, seen at ``now``; None: never.

    Normally ``due + every`` (the next grid point when aligned). If that is already past —
    the run started very late — the schedule restarts from ``now`` rather than bursting.
    """
    if schedule.align:
        nxt = grid_ceil(schedule, due + float(schedule.every) / 2)
    else:
        nxt = due + float(schedule.every)
    if nxt < now:
        nxt = grid_ceil(schedule, now) if schedule.align else now
    return _fit(schedule, nxt, tz)


def resume_run(
    schedule: ScheduleConfig, stored: float | None, now: float, tz: ZoneInfo
) -> float | None:
    """The next run after a restart: the stored one if still ahead, else as for a new start."""
    if stored is not None and stored > now:
        fitted = _fit(schedule, stored, tz)
        if fitted is not None and fitted == stored:
            return stored
    return first_run(schedule, now, tz)
