"""When a notification goes out: at once, in the next hourly or daily digest, or when quiet hours
end. Pure functions of (event type, settings, now); no I/O.

Every release time is a wall-clock time in the configured zone (top of the local hour, the
daily digest time, the end of quiet hours) turned into an aware UTC instant, so digests follow
local time across midnight and daylight-saving changes: the quiet night of the spring change is
an hour shorter, and the digest still goes out at 07:00 local.

Events released at the same instant on the same channel share one digest (key
``digest:<UTC instant>``); an immediate event has a delivery of its own (``event:<id>``).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from autotrader.config_notify import NotificationsConfig
from autotrader.store.repos_notify import Plan

CHANNELS = ("email", "webhook")


def next_local(after: datetime, at: time, tz: ZoneInfo) -> datetime:
    """The first instant strictly after ``after`` at which the local clock in ``tz`` shows ``at``.

    A time skipped by a spring-forward change maps to the instant just after the gap (02:30 on
    the change night is 03:30 summer time); an ambiguous autumn time takes its first occurrence.
    """
    local = after.astimezone(tz)
    day = local.date()
    for _ in range(3):
        candidate = _instant(datetime.combine(day, at), tz)
        if candidate > after:
            return candidate
        day += timedelta(days=1)
    raise AssertionError("unreachable: a later day always has the time")  # pragma: no cover


def _instant(naive_local: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall time (see ``next_local`` for gaps and folds)."""
    aware = naive_local.replace(tzinfo=tz, fold=0)
    utc = aware.astimezone(UTC)
    # A wall time inside a DST gap does not round-trip; the round trip lands after the gap.
    return utc if utc.astimezone(tz).replace(tzinfo=None) == naive_local else _after_gap(aware)


def _after_gap(aware: datetime) -> datetime:
    # With fold=0 zoneinfo reads a gap time with the offset before the change, with fold=1 the
    # one after; the later UTC reading is the wall time shifted past the gap (02:30 -> 03:30).
    return max(aware.astimezone(UTC), aware.replace(fold=1).astimezone(UTC))


def next_hour(after: datetime, tz: ZoneInfo) -> datetime:
    """The next top of the hour on the local clock (zones with half-hour offsets included)."""
    local = after.astimezone(tz)
    floor = local.replace(minute=0, second=0, microsecond=0)
    return floor.astimezone(UTC) + timedelta(hours=1)


def in_quiet_hours(cfg: NotificationsConfig, at: datetime, tz: ZoneInfo) -> bool:
    """Whether ``at`` falls inside the configured quiet hours (local time)."""
    quiet = cfg.quiet_hours
    return quiet is not None and quiet.contains(at.astimezone(tz).time().replace(tzinfo=None))


def quiet_end(cfg: NotificationsConfig, at: datetime, tz: ZoneInfo) -> datetime:
    """The end of the quiet period containing ``at``."""
    assert cfg.quiet_hours is not None
    return next_local(at, cfg.quiet_hours.end, tz)


def plan_event(
    cfg: NotificationsConfig,
    *,
    event_id: int,
    event_type: str,
    now: datetime,
    tz: ZoneInfo,
    channels: tuple[str, ...],
) -> list[Plan]:
    """Where and when ``event_type`` goes, on each of ``channels`` (empty when disabled)."""
    settings = cfg.event(event_type)
    if not settings.enabled:
        return []
    critical = cfg.bypasses_quiet_hours(event_type)
    plans = []
    for channel in channels:
        frequency = getattr(settings, channel)
        if frequency == "off":
            continue
        if frequency == "immediate":
            release, kind = now, "event"
        elif frequency == "hourly":
            release, kind = next_hour(now, tz), "hourly"
        else:
            release, kind = next_local(now, cfg.daily_digest_at, tz), "daily"
        if not critical and in_quiet_hours(cfg, release, tz):
            release, kind = quiet_end(cfg, release, tz), "quiet_hours"
        key = f"event:{event_id}" if kind == "event" else f"digest:{release.isoformat()}"
        plans.append(Plan(channel, key, kind, release))
    return plans
