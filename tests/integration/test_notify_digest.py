"""Quiet hours and digests end to end: fake clock, real database, real SMTP server.

Quiet hours run 23:00–07:00 Europe/Berlin. The nights checked cross midnight and, in March and
October 2026, a daylight-saving change: the held notifications must go out at 07:00 *local*
time (05:00 UTC in summer time, 06:00 UTC in winter time), as one digest.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
import sqlalchemy as sa

from harness.dispatch import NotifyRig, email_settings, notify_config
from harness.smtp import parts, smtp_sink
from harness.store import migrated_engine

BERLIN = "Europe/Berlin"


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """The test database, migrated."""
    yield from migrated_engine(database_url)


def _rig(engine: sa.Engine, port: int, start_local: datetime, **extra: object) -> NotifyRig:
    settings = {
        "email": email_settings(port),
        "quiet_hours": {"start": "23:00", "end": "07:00", "except": ["trade_exited"]},
        "events": {
            "trade_executed": {"email": "immediate"},
            "watchlist_updated": {"email": "hourly"},
            "market_settled": {"email": "daily"},
            "strategy_resumed": {"email": "off"},
            "strategy_paused": {"enabled": False},
        },
        **extra,
    }
    url = engine.url.render_as_string(hide_password=False)
    config = notify_config(url, settings, tz=BERLIN)
    start = start_local.replace(tzinfo=config.tz).astimezone(UTC)
    return NotifyRig(config, engine, start)


@pytest.mark.parametrize(
    ("night", "end_utc"),
    [
        # Spring forward: the night is an hour shorter; 07:00 CEST is 05:00 UTC.
        (datetime(2026, 3, 28, 22, 30), datetime(2026, 3, 29, 5, 0, tzinfo=UTC)),
        # Fall back: an hour longer; 07:00 CET is 06:00 UTC.
        (datetime(2026, 10, 24, 22, 30), datetime(2026, 10, 25, 6, 0, tzinfo=UTC)),
    ],
    ids=["march-dst", "october-dst"],
)
def test_quiet_night_across_dst_holds_until_local_end_as_one_digest(
    engine: sa.Engine, night: datetime, end_utc: datetime
) -> None:
    with smtp_sink() as sink:
        rig = _rig(engine, sink.port, night)
        rig.record("trade_executed", "btc-15m", summary="before quiet hours")
        rig.tick()
        assert sink.count() == 1  # 22:30: not quiet yet
        rig.at(night.replace(hour=23, minute=30))
        rig.record("trade_executed", "btc-15m", summary="bought Up at 23:30")
        rig.record("strategy_error", "politics", summary="politics paused: 3 failures")
        rig.record("trade_exited", "politics", summary="sold +$5", pnl_usd="5.00")
        rig.record("feed_stale", None, summary="BTC feed stale")
        rig.tick()
        # Critical (default list) and the "except" type pass; the others wait.
        later = [str(m["Subject"]) for m in sink.messages()[1:]]
        assert sorted(later) == [
            "[autotrader] politics: politics paused: 3 failures",
            "[autotrader] politics: sold +$5",
        ]
        rig.advance(3600)  # 00:30 next day: still quiet, across midnight
        rig.record("trade_executed", "btc-15m", summary="bought Down at 00:30")
        rig.record("watchlist_updated", "politics", summary="politics added 2 markets")
        rig.tick()
        assert sink.count() == 3
        rig.advance(end_utc.timestamp() - rig.clock.time() - 1)
        rig.tick()
        assert sink.count() == 3  # 06:59:59 local: still held
        rig.advance(1)
        rig.tick()
        assert sink.count() == 4
        digest = sink.messages()[3]
        rig.advance(7200)
        rig.tick()
        assert sink.count() == 4  # nothing else was waiting (the hourly one merged in)
        rig.close()
    assert digest["Subject"] == (
        "[autotrader] Quiet hours digest: 4 notifications from btc-15m, politics, system"
    )
    text, html = parts(digest)
    order = [text.index(s) for s in ("## btc-15m (2)", "## politics (1)", "## system (1)")]
    assert order == sorted(order)
    for summary in ("bought Up at 23:30", "bought Down at 00:30", "politics added 2 markets"):
        assert summary in text and summary in html
    assert digest["Date"] == format_datetime(end_utc)


def test_hourly_digest_groups_strategies_into_one_email(engine: sa.Engine) -> None:
    with smtp_sink() as sink:
        rig = _rig(engine, sink.port, datetime(2026, 6, 1, 10, 5))
        rig.record("watchlist_updated", "politics", summary="politics added <b>Election</b>")
        rig.advance(600)
        rig.record("watchlist_updated", "sports", summary="sports removed 1 market")
        rig.record("watchlist_updated", "politics", summary="politics removed 3 markets")
        rig.record("strategy_resumed", "sports", summary="sports resumed")  # email: off
        rig.record("strategy_paused", "sports", summary="sports paused")  # disabled
        rig.tick()
        assert sink.count() == 0
        rig.at(datetime(2026, 6, 1, 10, 59, 59))
        rig.tick()
        assert sink.count() == 0
        rig.advance(1)  # 11:00 local
        rig.tick()
        [digest] = sink.messages()
        rig.record("watchlist_updated", "politics", summary="politics added 1 market")
        rig.tick()
        assert sink.count() == 1  # the next one waits for 12:00
        rig.close()
    assert digest["Subject"] == "[autotrader] Hourly digest: 3 notifications from politics, sports"
    text, html = parts(digest)
    assert text.index("## politics (2)") < text.index("## sports (1)")
    assert "sports resumed" not in text and "sports paused" not in text
    assert "&lt;b&gt;Election&lt;/b&gt;" in html and "<b>Election</b>" not in html


def test_daily_digest_goes_at_the_configured_local_time(engine: sa.Engine) -> None:
    with smtp_sink() as sink:
        rig = _rig(engine, sink.port, datetime(2026, 6, 1, 9, 0), daily_digest_at="08:30")
        rig.record("market_settled", "btc-15m", summary="btc-updown-15m settled Up")
        rig.at(datetime(2026, 6, 1, 20, 0))
        rig.record("market_settled", "btc-15m", summary="btc-updown-15m settled Down")
        rig.tick()
        rig.at(datetime(2026, 6, 2, 8, 29))
        rig.tick()
        assert sink.count() == 0
        rig.at(datetime(2026, 6, 2, 8, 30))
        rig.tick()
        [digest] = sink.messages()
        rig.close()
    assert digest["Subject"].startswith("[autotrader] Daily digest: 2 notifications")
