"""Rendering notifications: escaping, subjects on one line, details per type, digests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from autotrader.config_notify import EmailConfig
from autotrader.notify.email import build_message
from autotrader.notify.render import render_message, webhook_body
from autotrader.store.repos_runtime import NotificationEvent

AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def _ev(id: int, type: str, strategy: str | None, **payload: Any) -> NotificationEvent:
    return NotificationEvent(id, type, strategy, AT, payload, None)


def test_html_escapes_every_payload_string_and_text_keeps_it() -> None:
    hostile = '<img src=x onerror="alert(1)">'
    event = _ev(1, "trade_exited", "s<1>", summary=f"sold {hostile}", question=hostile,
                pnl_usd="-3.5", market_slug="m")  # fmt: skip
    out = render_message("event", [event], tz=BERLIN, generated_at=AT)
    assert "<img" not in out.html and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in out.html
    assert "s&lt;1&gt;" in out.html
    assert hostile in out.text and "P&L: -3.50 USD" in out.text
    assert "P&amp;L -3.50 USD" in out.html
    assert out.text.index("Question:") < out.text.index("Market:")  # type's own field order
    assert "2026-06-01 14:00:00 CEST" in out.text  # the configured zone


def test_subject_is_one_line_and_bounded() -> None:
    event = _ev(2, "strategy_error", "x", summary="line one\r\nBcc: evil@example.org\n" + "y" * 500)
    out = render_message("event", [event], tz=BERLIN, generated_at=AT)
    assert "\n" not in out.subject and "\r" not in out.subject and len(out.subject) <= 200
    cfg = EmailConfig.model_validate({"smtp_host": "h", "from": "a@b.org", "to": ["c@d.org"]})
    msg = build_message(cfg, out, delivery_id=9, date=AT)
    assert msg["Bcc"] is None and msg["X-Autotrader-Delivery"] == "9"


def test_missing_summary_falls_back_to_the_type_title() -> None:
    out = render_message("event", [_ev(3, "strategy_resumed", "btc")], tz=BERLIN, generated_at=AT)
    assert out.subject == "[autotrader] btc: Strategy resumed (btc)"


def test_watchlist_lists_show_market_titles() -> None:
    event = _ev(4, "watchlist_updated", "pol", summary="pol: +2 -1",
                added=[{"market_slug": "a", "question": "Will A?"}, {"market_slug": "b"}],
                removed=["c"])  # fmt: skip
    out = render_message("event", [event], tz=BERLIN, generated_at=AT)
    assert "Added: Will A?; b" in out.text and "Removed: c" in out.text


def test_digest_groups_by_strategy_with_system_last() -> None:
    events = [
        _ev(1, "feed_stale", None, summary="stale"),
        _ev(2, "trade_executed", "zeta", summary="z1"),
        _ev(3, "trade_executed", "alpha", summary="a1"),
        _ev(4, "trade_executed", "zeta", summary="z2"),
    ]
    out = render_message("hourly", events, tz=BERLIN, generated_at=AT)
    assert out.subject == "[autotrader] Hourly digest: 4 notifications from alpha, zeta, system"
    heads = [out.text.index(h) for h in ("## alpha (1)", "## zeta (2)", "## system (1)")]
    assert heads == sorted(heads)
    assert out.text.index("z1") < out.text.index("z2")
    many = [_ev(i, "trade_executed", f"s{i}", summary="x") for i in range(5)]
    assert render_message("daily", many, tz=BERLIN, generated_at=AT).subject.endswith(
        "5 notifications from 5 strategies"
    )


def test_nothing_to_render_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one event"):
        render_message("event", [], tz=BERLIN, generated_at=AT)


def test_webhook_body_has_a_chat_line_and_every_event() -> None:
    events = [_ev(1, "trade_executed", "a", summary="a1", usd="1.50"), _ev(2, "feed_stale", None)]
    body = webhook_body(5, "quiet_hours", events, tz=BERLIN)
    assert body["text"] == "Quiet hours digest: a1 | Price feed stale"
    assert [e["id"] for e in body["events"]] == [1, 2]
    assert body["events"][0]["payload"] == {"summary": "a1", "usd": "1.50"}
