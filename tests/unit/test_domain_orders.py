"""Orders: the submit command's validation, the status table, the venue's answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import pytest

from autotrader.domain.fills import Fill
from autotrader.domain.orders import (
    TERMINAL,
    TRANSITIONS,
    OrderRequest,
    OrderStatus,
    OrderType,
    PreparedOrder,
    ReasonCode,
    Side,
    SubmitResult,
    VenueOrder,
    can_transition,
    transition,
)

S = OrderStatus
TS = datetime(2026, 1, 1, tzinfo=UTC)
BASE = OrderRequest(
    client_order_id="c1",
    token_id="t",
    side=Side.BUY,
    order_type=OrderType.GTC,
    price=D("0.40"),
    size=D(10),
)


def test_reason_codes_are_exactly_the_contract() -> None:
    assert {r.value for r in ReasonCode} == {
        "INVALID_ORDER_MIN_TICK_SIZE",
        "INVALID_ORDER_MIN_SIZE",
        "NOT_ENOUGH_BALANCE",
        "FOK_NOT_FILLED",
        "MARKET_NOT_READY",
        "MARKET_CLOSED",
        "INVALID_SIGNATURE",
        "INVALID_API_KEY",
        "INVALID_ORDER",
        "INVALID_TOKEN",
        "POST_ONLY_WOULD_CROSS",
        "POST_ONLY_PERIOD",
        "DUPLICATE_ORDER",
        "ORDER_NOT_FOUND",
        "ORDER_NOT_CANCELABLE",
        "ORDER_EXPIRED",
        "UNKNOWN_VENUE_ERROR",
    }


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (S.PENDING, S.SUBMITTED),
        (S.PENDING, S.LIVE),
        (S.PENDING, S.REJECTED),
        (S.SUBMITTED, S.FILLED),
        (S.SUBMITTED, S.DELAYED),
        (S.LIVE, S.PARTIALLY_FILLED),
        (S.LIVE, S.CANCELED),
        (S.LIVE, S.EXPIRED),
        (S.DELAYED, S.FILLED),
        (S.DELAYED, S.LIVE),
        (S.PARTIALLY_FILLED, S.FILLED),
        (S.PARTIALLY_FILLED, S.PARTIALLY_FILLED),  # another partial fill
        (S.FILLED, S.FILLED),  # a repeated report
    ],
)
def test_legal_transitions(a: OrderStatus, b: OrderStatus) -> None:
    assert can_transition(a, b) and transition(a, b) is b


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (S.FILLED, S.LIVE),
        (S.CANCELED, S.FILLED),
        (S.REJECTED, S.LIVE),
        (S.EXPIRED, S.CANCELED),
        (S.LIVE, S.PENDING),
        (S.LIVE, S.SUBMITTED),
        (S.LIVE, S.REJECTED),
        (S.SUBMITTED, S.PENDING),
        (S.PARTIALLY_FILLED, S.LIVE),
        (S.DELAYED, S.REJECTED),
    ],
)
def test_illegal_transitions_are_refused(a: OrderStatus, b: OrderStatus) -> None:
    assert not can_transition(a, b)
    with pytest.raises(ValueError, match=f"{a} -> {b}"):
        transition(a, b)


def test_table_covers_every_status_and_terminal_states_are_final() -> None:
    assert set(TRANSITIONS) == set(OrderStatus)
    assert {S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED} == TERMINAL
    for status in TERMINAL:
        assert status.terminal and TRANSITIONS[status] == frozenset()
    assert not S.LIVE.terminal
    # nothing ever goes back to PENDING
    assert all(S.PENDING not in targets for targets in TRANSITIONS.values())


def test_valid_requests() -> None:
    market_buy = replace(BASE, order_type=OrderType.FOK, price=None, size=None, amount_usd=D(25))
    assert market_buy.marketable_type and not BASE.marketable_type
    gtd = replace(BASE, order_type=OrderType.GTD, expires_at=TS, post_only=True)
    assert gtd.order_type.rests
    assert OrderRequest("c", "t", "SELL", "FAK", None, D(5)).side is Side.SELL  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"client_order_id": ""}, "client_order_id"),
        ({"size": None}, "exactly one"),
        ({"amount_usd": D(5)}, "exactly one"),
        ({"size": D(0)}, "size must be > 0"),
        ({"size": D(-1)}, "size must be > 0"),
        ({"price": D(1)}, "price must be < 1"),
        ({"price": D(0)}, "price must be > 0"),
        ({"price": 0.4}, "finite Decimal"),
        ({"price": None}, "needs a limit price"),
        ({"size": None, "amount_usd": D(5)}, "amount_usd is only for market"),
        ({"order_type": OrderType.FOK, "post_only": True}, "post_only"),
        ({"order_type": OrderType.GTD}, "expires_at"),
        ({"expires_at": TS}, "expires_at"),
        ({"order_type": OrderType.GTD, "expires_at": datetime(2026, 1, 1)}, "timezone"),
        ({"tick_size": D("0.05")}, "tick_size"),
        ({"side": "HOLD"}, "HOLD"),
    ],
)
def test_invalid_requests_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(BASE, **changes)


def test_market_sell_by_usd_is_refused() -> None:
    with pytest.raises(ValueError, match="BUY"):
        OrderRequest("c", "t", Side.SELL, OrderType.FOK, None, None, amount_usd=D(5))


def test_prepared_and_results() -> None:
    with pytest.raises(ValueError):
        PreparedOrder(BASE, "", None)
    with pytest.raises(ValueError, match="reason"):
        SubmitResult(False, S.REJECTED, None, None, "no")
    fill = Fill("tr", "o", "t", Side.BUY, D("0.4"), D(7), D(0), TS, "taker")
    ok = SubmitResult(True, S.FILLED, "o", None, "ok", (fill, fill))
    assert ok.filled_size == D(14)


def test_venue_order() -> None:
    o = VenueOrder("o", "t", Side.BUY, D("0.4"), D(10), D(3), S.PARTIALLY_FILLED, OrderType.GTC, TS)
    assert o.remaining == D(7)
    with pytest.raises(ValueError, match="exceeds"):
        replace(o, size_matched=D(11))
    with pytest.raises(ValueError, match="price"):
        replace(o, price=D(-1))
