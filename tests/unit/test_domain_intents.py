"""Order intents: validation and the mapping to venue orders."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal as D
from typing import Any

import pytest

from autotrader.domain.intents import (
    TERMINAL,
    IntentKind,
    IntentStatus,
    OrderIntent,
    order_type_for,
    to_order_request,
    worst_price,
)
from autotrader.domain.orders import OrderType, Side

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TICK = D("0.01")


def intent(**changes: Any) -> OrderIntent:
    base: dict[str, Any] = {
        "id": "i1",
        "strategy": "s1",
        "market_slug": "btc-updown-15m-1763726400",
        "token_id": "tok",
        "outcome": "Up",
        "side": Side.BUY,
        "kind": IntentKind.MARKET,
        "amount_usd": D(10),
        "shares": None,
        "limit_price": None,
        "valid_until": NOW + timedelta(seconds=30),
        "entry_key": "btc-updown-15m-1763726400",
        "reason": "signal UP 74%",
        "created_at": NOW,
    }
    base.update(changes)
    return OrderIntent(**base)


def test_statuses_and_terminal_set() -> None:
    assert {s.value for s in IntentStatus} == {
        "PENDING", "CLAIMED", "FILLED", "PARTIALLY_FILLED", "RESTING", "REJECTED", "EXPIRED",
        "FAILED",
    }  # fmt: skip
    assert frozenset(IntentStatus) - TERMINAL == {IntentStatus.PENDING, IntentStatus.CLAIMED}
    assert IntentStatus.RESTING.terminal and not IntentStatus.CLAIMED.terminal
    assert IntentKind("market") is IntentKind.MARKET


def test_valid_intent_normalises_to_utc() -> None:
    plus2 = timezone(timedelta(hours=2))
    it = intent(created_at=datetime(2026, 11, 21, 14, 0, tzinfo=plus2), side="BUY", kind="limit",
                limit_price=D("0.40"))  # fmt: skip
    assert it.created_at == NOW and it.created_at.tzinfo is UTC
    assert it.side is Side.BUY and it.kind is IntentKind.LIMIT


def test_expired_at_and_after_valid_until() -> None:
    it = intent()
    assert not it.expired(NOW + timedelta(seconds=29))
    assert it.expired(NOW + timedelta(seconds=30))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"shares": D(5)}, "exactly one of amount_usd and shares"),
        ({"amount_usd": None}, "exactly one of amount_usd and shares"),
        ({"amount_usd": D(0)}, "amount_usd must be a Decimal > 0"),
        ({"amount_usd": 10.0}, "amount_usd must be a Decimal > 0"),
        ({"amount_usd": None, "shares": D(-1)}, "shares must be a Decimal > 0"),
        ({"limit_price": D(1)}, "limit_price must be < 1"),
        ({"limit_price": D(0)}, "limit_price must be a Decimal > 0"),
        ({"kind": IntentKind.LIMIT}, "a limit intent needs a limit_price"),
        ({"side": Side.SELL}, "SELL intent is sized in shares"),
        ({"valid_until": datetime(2026, 11, 21, 13)}, "valid_until must be a timezone-aware"),
        ({"valid_until": NOW}, "valid_until must be after created_at"),
        ({"strategy": ""}, "strategy must not be empty"),
        ({"entry_key": ""}, "entry_key must be None or non-empty"),
        ({"kind": "stop"}, "'stop' is not a valid IntentKind"),
    ],
)
def test_bad_intents_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        intent(**changes)


def test_order_type_mapping() -> None:
    assert order_type_for(intent()) is OrderType.FOK
    sell = intent(side=Side.SELL, amount_usd=None, shares=D(10))
    assert order_type_for(sell) is OrderType.FAK
    lim = intent(kind=IntentKind.LIMIT, limit_price=D("0.4"))
    assert order_type_for(lim) is OrderType.GTC
    assert order_type_for(lim, expires=True) is OrderType.GTD


def test_market_buy_by_usd_is_fok_with_slippage_capped_worst_price() -> None:
    req = to_order_request(
        intent(amount_usd=D("10.129")), "c1", tick_size=TICK,
        reference_price=D("0.50"), max_slippage=D("0.037"),
    )  # fmt: skip
    assert req.order_type is OrderType.FOK
    assert req.amount_usd == D("10.12")  # cents, rounded down
    assert req.size is None
    assert req.price == D("0.53")  # 0.537 snapped down: a BUY never pays more than asked
    assert (req.client_order_id, req.token_id, req.tick_size) == ("c1", "tok", TICK)


def test_market_worst_price_is_clamped_into_the_valid_range() -> None:
    buy = intent()
    assert worst_price(buy, TICK, reference_price=D("0.98"), max_slippage=D("0.05")) == D("0.99")
    sell = intent(side=Side.SELL, amount_usd=None, shares=D(10))
    assert worst_price(sell, TICK, reference_price=D("0.03"), max_slippage=D("0.05")) == D("0.01")


def test_market_intent_without_any_price_bound_is_refused() -> None:
    with pytest.raises(ValueError, match="no any-price orders"):
        to_order_request(intent(), "c1", tick_size=TICK)


def test_market_sell_is_fak_and_snaps_up() -> None:
    sell = intent(side=Side.SELL, amount_usd=None, shares=D("12.345"), limit_price=D("0.413"))
    req = to_order_request(sell, "c2", tick_size=TICK)
    assert req.order_type is OrderType.FAK
    assert req.price == D("0.42")  # a SELL never accepts less than asked
    assert req.size == D("12.34")


def test_limit_buy_by_usd_becomes_whole_share_steps() -> None:
    lim = intent(kind=IntentKind.LIMIT, limit_price=D("0.417"))
    req = to_order_request(lim, "c3", tick_size=TICK)
    assert req.order_type is OrderType.GTC and req.price == D("0.41")
    assert req.size == D("24.39")  # floor(10 / 0.41, 0.01)
    assert req.amount_usd is None


def test_limit_with_expiry_is_gtd_and_overrides_apply() -> None:
    lim = intent(kind=IntentKind.LIMIT, limit_price=D("0.40"), amount_usd=None, shares=D(50))
    until = NOW + timedelta(minutes=15)
    req = to_order_request(
        lim, "c4", tick_size=TICK, expires_at=until, price=D("0.385"), shares=D(20)
    )
    assert req.order_type is OrderType.GTD and req.expires_at == until
    assert req.price == D("0.38") and req.size == D(20)


def test_price_off_the_grid_after_snapping_is_refused() -> None:
    low = intent(kind=IntentKind.LIMIT, limit_price=D("0.004"))
    with pytest.raises(ValueError, match="outside"):
        to_order_request(low, "c5", tick_size=TICK)
    high = replace(low, side=Side.SELL, amount_usd=None, shares=D(5), limit_price=D("0.995"))
    with pytest.raises(ValueError, match="outside"):
        to_order_request(high, "c6", tick_size=TICK)
    with pytest.raises(ValueError, match="is not one of"):
        worst_price(intent(limit_price=D("0.4")), D("0.05"))
