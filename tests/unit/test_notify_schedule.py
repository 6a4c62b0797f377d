"""When notifications go out: local wall times across midnight and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from autotrader.config_notify import NotificationsConfig
from autotrader.notify.schedule import in_quiet_hours, next_hour, next_local, plan_event

BERLIN = ZoneInfo("Europe/Berlin")


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _cfg(**data: Any) -> NotificationsConfig:
    base: dict[str, Any] = {
        "email": {"smtp_host": "h", "from": "a@example.org", "to": ["b@example.org"]},
        "quiet_hours": {"start": "23:00", "end": "07:00", "except": ["trade_exited"]},
    }
    return NotificationsConfig.model_validate(base | data)


@pytest.mark.parametrize(
    ("after", "at", "expected"),
    [
        (_utc(2026, 6, 1, 21, 30), time(7), _utc(2026, 6, 2, 5)),  # CEST, across midnight
        (_utc(2026, 1, 1, 5, 59), time(7), _utc(2026, 1, 1, 6)),  # CET, same morning
        (_utc(2026, 1, 1, 6, 0), time(7), _utc(2026, 1, 2, 6)),  # strictly after
        (_utc(2026, 3, 28, 22, 30), time(7), _utc(2026, 3, 29, 5)),  # spring change night
        (_utc(2026, 10, 24, 22, 30), time(7), _utc(2026, 10, 25, 6)),  # autumn change night
        (_utc(2026, 3, 28, 23, 0), time(2, 30), _utc(2026, 3, 29, 1, 30)),  # in the gap: 03:30
        (_utc(2026, 10, 24, 22, 0), time(2, 30), _utc(2026, 10, 25, 0, 30)),  # fold: first
    ],
)
def test_next_local_follows_the_wall_clock(after: datetime, at: time, expected: datetime) -> None:
    assert next_local(after, at, BERLIN) == expected


def test_next_hour_is_the_local_top_of_the_hour() -> None:
    assert next_hour(_utc(2026, 3, 29, 0, 30), BERLIN) == _utc(2026, 3, 29, 1)  # 01:30 → 03:00
    assert next_hour(_utc(2026, 1, 1, 0, 10), ZoneInfo("Asia/Kolkata")) == _utc(2026, 1, 1, 0, 30)
    assert next_hour(_utc(2026, 1, 1, 9, 0), ZoneInfo("UTC")) == _utc(2026, 1, 1, 10)


def test_quiet_hours_cross_midnight_in_local_time() -> None:
    cfg = _cfg()
    assert in_quiet_hours(cfg, _utc(2026, 6, 1, 21, 0), BERLIN)  # 23:00 CEST
    assert in_quiet_hours(cfg, _utc(2026, 6, 1, 23, 30), BERLIN)  # 01:30
    assert not in_quiet_hours(cfg, _utc(2026, 6, 2, 5, 0), BERLIN)  # 07:00 is the end
    assert not in_quiet_hours(cfg, _utc(2026, 6, 1, 20, 59), BERLIN)


def test_plans_per_frequency_channel_and_criticality() -> None:
    cfg = _cfg(
        webhook={"url": "https://hooks.example.org/x"},
        events={
            "trade_executed": {"email": "immediate", "webhook": "hourly"},
            "market_settled": {"email": "daily", "webhook": "off"},
            "strategy_paused": {"enabled": False},
        },
        daily_digest_at="08:30",
    )
    both = ("email", "webhook")

    def plans(kind: str, now: datetime) -> list[tuple[str, str, str, datetime]]:
        found = plan_event(cfg, event_id=7, event_type=kind, now=now, tz=BERLIN, channels=both)
        return [(p.channel, p.key, p.kind, p.due_at) for p in found]

    noon = _utc(2026, 6, 1, 10, 10)  # 12:10 local
    assert plans("trade_executed", noon) == [
        ("email", "event:7", "event", noon),
        ("webhook", "digest:2026-06-01T11:00:00+00:00", "hourly", _utc(2026, 6, 1, 11)),
    ]
    assert plans("market_settled", noon) == [
        ("email", "digest:2026-06-02T06:30:00+00:00", "daily", _utc(2026, 6, 2, 6, 30))
    ]
    assert plans("strategy_paused", noon) == []
    night = _utc(2026, 6, 1, 22, 10)  # 00:10 local
    end = _utc(2026, 6, 2, 5)
    assert [p[2:] for p in plans("trade_executed", night)] == [
        ("quiet_hours", end),
        ("quiet_hours", end),
    ]
    assert plans("strategy_error", night)[0][1:] == ("event:7", "event", night)  # critical
    assert plans("trade_exited", night)[0][1:] == ("event:7", "event", night)  # except list
    evening = _utc(2026, 6, 1, 20, 30)  # 22:30: the 23:00 hourly digest lands in quiet hours
    assert plans("trade_executed", evening)[1][2:] == ("quiet_hours", end)


def test_only_configured_channels_get_plans() -> None:
    cfg = _cfg()
    found = plan_event(
        cfg, event_id=1, event_type="feed_stale", now=_utc(2026, 6, 1, 12), tz=BERLIN,
        channels=cfg.channels,
    )  # fmt: skip
    assert [p.channel for p in found] == ["email"]


def test_retry_settings_are_validated_and_back_off_exponentially() -> None:
    cfg = _cfg(retry={"initial": "15s", "max": "1m"})
    assert [cfg.retry.delay(n) for n in (1, 2, 3, 4, 50)] == [15, 30, 60, 60, 60]
    with pytest.raises(ValidationError, match="must be at least initial"):
        _cfg(retry={"initial": "1h", "max": "1m"})
    with pytest.raises(ValidationError, match="needs security: starttls or tls"):
        _cfg(email={"smtp_host": "h", "from": "a@b.c", "to": ["d@e.f"], "ca_file": "/x.pem"})
