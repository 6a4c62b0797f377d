"""Fills and settlements: cash and share deltas, validation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import pytest

from autotrader.domain.fills import Fill, Settlement
from autotrader.domain.orders import Side

TS = datetime(2026, 1, 1, tzinfo=UTC)
BUY = Fill("tr1", "o1", "t", Side.BUY, D("0.40"), D(100), D("1.68"), TS, "taker")


def test_cash_and_share_deltas() -> None:
    assert BUY.notional_usd == D(40)
    assert BUY.cash_delta_usd == D("-41.68")  # pays 40 + 1.68
    assert BUY.share_delta == D(100)
    sell = replace(BUY, side=Side.SELL)
    assert sell.cash_delta_usd == D("38.32")  # receives 40 − 1.68
    assert sell.share_delta == D(-100)


@pytest.mark.parametrize(
    "changes",
    [
        {"trade_id": ""},
        {"price": D("1.1")},
        {"size": D(0)},
        {"fee_usd": D("-0.01")},
        {"ts": datetime(2026, 1, 1)},
        {"liquidity": "both"},
        {"size": 5.0},
    ],
)
def test_bad_fills_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        replace(BUY, **changes)


def test_settlement() -> None:
    won = Settlement("m", "t", "Up", D(120), D(1), TS)
    lost = Settlement("m", "t2", "Down", D(10), D(0), TS)
    assert (won.payout_usd, won.won) == (D(120), True)
    assert (lost.payout_usd, lost.won) == (D(0), False)
    assert Settlement("m", "t", "Up", D(10), D("0.5"), TS).payout_usd == D(5)  # a 50-50 market
    with pytest.raises(ValueError):
        Settlement("m", "t", "Up", D(10), D(2), TS)
    with pytest.raises(ValueError):
        Settlement("m", "t", "Up", D(-1), D(1), TS)
