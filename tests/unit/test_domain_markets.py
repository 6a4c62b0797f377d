"""Markets, events and queries; the window arithmetic already in the module keeps working."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import pytest

from autotrader.domain.fees import FeeSchedule
from autotrader.domain.markets import (
    Event,
    Market,
    MarketQuery,
    OutcomeToken,
    Window,
    btc_15m_slug,
    parse_btc_15m_slug,
)

T = 1767200400  # 2025-12-31 17:00Z, the window of the real Gamma sample
END = datetime.fromtimestamp(T + 900, UTC)
MARKET = Market(
    id="1025412",
    condition_id="0xabc",
    slug=f"btc-updown-15m-{T}",
    question="Bitcoin Up or Down - December 31, 12:00PM-12:15PM ET",
    tokens=(OutcomeToken("Up", "111", D("0.505")), OutcomeToken("Down", "222", D("0.495"))),
    tick_size=D("0.01"),
    min_order_size=D(5),
    neg_risk=False,
    fees=FeeSchedule(rate=D("0.07")),
    start_date=datetime.fromtimestamp(T, UTC),
    end_date=END,
    active=True,
    closed=False,
    accepting_orders=True,
    volume_usd=D("12345.6"),
    liquidity_usd=D("5000"),
    tags=("Crypto", "Bitcoin"),
    event_slug=f"btc-updown-15m-{T}",
    price_to_beat=D("87654.32"),
    final_price=None,
    winning_outcome=None,
)


def test_window_helpers_unchanged() -> None:
    assert btc_15m_slug(T) == MARKET.slug and parse_btc_15m_slug(MARKET.slug) == T
    assert Window.containing(T + 899).start == T


def test_tokens() -> None:
    assert MARKET.token("up").token_id == "111" and MARKET.token("DOWN").token_id == "222"
    assert MARKET.outcomes == ("Up", "Down") and MARKET.token_ids == ("111", "222")
    assert MARKET.token_by_id("222").outcome == "Down"
    with pytest.raises(ValueError, match=r"no outcome 'Yes'.*'Up', 'Down'"):
        MARKET.token("Yes")
    with pytest.raises(ValueError, match="333"):
        MARKET.token_by_id("333")


def test_derived() -> None:
    assert MARKET.tradable and MARKET.btc_window == Window(T)
    assert replace(MARKET, slug="will-x-happen").btc_window is None
    assert not replace(MARKET, tokens=()).tradable  # Gamma lists it before the tokens exist
    assert not replace(MARKET, closed=True).tradable


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": ""}, "id"),
        ({"tick_size": D(0)}, "tick_size"),
        ({"tick_size": 0.01}, "tick_size"),
        ({"min_order_size": D(-5)}, "min_order_size"),
        ({"volume_usd": 1.5}, "volume_usd"),
        ({"start_date": datetime(2026, 1, 1)}, "timezone"),
        ({"winning_outcome": "Sideways"}, "Sideways"),
        ({"tokens": (OutcomeToken("Up", "1"), OutcomeToken("up", "2"))}, "twice"),
    ],
)
def test_bad_markets(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(MARKET, **changes)


def test_outcome_token_price_range() -> None:
    with pytest.raises(ValueError):
        OutcomeToken("Up", "1", D("1.01"))
    with pytest.raises(ValueError):
        OutcomeToken("", "1")


def test_event() -> None:
    ev = Event("e1", MARKET.slug, "BTC", [MARKET], ["Crypto"])  # type: ignore[arg-type]
    assert ev.markets == (MARKET,) and ev.tags == ("Crypto",) and not ev.closed
    with pytest.raises(ValueError):
        Event("", "s", "t", ())


def test_query_matches() -> None:
    assert MarketQuery().matches(MARKET)
    assert MarketQuery(tag="bitcoin", text="UP OR DOWN").matches(MARKET)
    assert not MarketQuery(tag="Politics").matches(MARKET)
    assert MarketQuery(min_volume_usd=D(12000), min_liquidity_usd=D(5000)).matches(MARKET)
    assert not MarketQuery(min_volume_usd=D(20000)).matches(MARKET)
    assert MarketQuery(end_after=datetime.fromtimestamp(T, UTC)).matches(MARKET)
    assert not MarketQuery(end_before=END).matches(MARKET)
    closed = replace(MARKET, closed=True)
    assert not MarketQuery().matches(closed)  # Gamma hides closed markets by default
    assert MarketQuery(closed=True).matches(closed) and MarketQuery(closed=None).matches(closed)


@pytest.mark.parametrize(
    "kwargs",
    [{"limit": 0}, {"offset": -1}, {"min_volume_usd": D(-1)}, {"end_before": datetime(2026, 1, 1)}],
)
def test_bad_queries(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        MarketQuery(**kwargs)
