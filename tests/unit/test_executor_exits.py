"""The pure parts of exits, settlement and trade events: overrides, settlement records and
their summaries, realized P&L of an exit, CLI value checks, the status trading lines."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from autotrader.cli.position_cmd import UsageError, parse_value
from autotrader.cli.status_cmd import render_trading
from autotrader.config_strategies import LimitsConfig
from autotrader.domain.book import Level, OrderBook
from autotrader.domain.fees import FREE
from autotrader.domain.fills import Fill
from autotrader.domain.markets import Market, OutcomeToken
from autotrader.domain.orders import OrderStatus, OrderType, Side
from autotrader.domain.positions import Position
from autotrader.domain.risk_exits import ExitKind, exit_triggers
from autotrader.domain.risk_limits import StrategyLimits
from autotrader.executor.events import trade_payloads
from autotrader.executor.exits import overrides_for
from autotrader.executor.settlement import settlement_record
from autotrader.store.repos_executor import PositionOverride
from autotrader.store.repos_trading import StoredOrder

T = datetime(2026, 2, 21, 14, 30, tzinfo=UTC)
LIMITS = StrategyLimits("s", D(100), D(50), D(50), stop_loss_pct=D(20), take_profit_pct=D(40))


def _pos(shares: str = "20", cost: str = "10") -> Position:
    return Position("s", "up", shares=D(shares), cost_basis_usd=D(cost), opened_at=T)


def _book(bid: str) -> OrderBook:
    bids, asks = (Level(D(bid), D(100)),), (Level(D("0.99"), D(100)),)
    return OrderBook("up", bids, asks, D("0.01"), D(5), ts=T)


def test_no_override_keeps_the_strategy_limits() -> None:
    ov = overrides_for(None, frozenset())
    assert exit_triggers(_pos(), _book("0.69"), LIMITS, ov) is None  # +38 % < 40 %
    signal = exit_triggers(_pos(), _book("0.70"), LIMITS, ov)
    assert signal is not None and signal.kind is ExitKind.TAKE_PROFIT and signal.shares == D(20)


def test_override_pct_and_fraction_give_a_partial_take_profit_once() -> None:
    row = PositionOverride("s", "m", "Up", take_profit_pct=D(10), take_profit_fraction=D("0.5"))
    signal = exit_triggers(_pos(), _book("0.56"), LIMITS, overrides_for(row, frozenset()))
    assert signal is not None and signal.partial and signal.shares == D(10)
    done = overrides_for(row, frozenset({"take_profit"}))
    assert exit_triggers(_pos(), _book("0.56"), LIMITS, done) is None  # the rest rides
    stop = exit_triggers(_pos(), _book("0.39"), LIMITS, done)
    assert stop is not None and stop.kind is ExitKind.STOP_LOSS and stop.shares == D(20)


def test_the_strategy_limits_give_a_partial_exit_and_an_override_wins() -> None:
    limits = LimitsConfig(daily_loss_usd=D(10), max_position_pct=D(100),
                          take_profit_fraction=D("0.25"), stop_loss_fraction=D("0.5"))  # fmt: skip
    tp = exit_triggers(_pos(), _book("0.70"), LIMITS, overrides_for(None, frozenset(), limits))
    assert tp is not None and tp.partial and tp.shares == D(5)
    sl = exit_triggers(_pos(), _book("0.30"), LIMITS, overrides_for(None, frozenset(), limits))
    assert sl is not None and sl.kind is ExitKind.STOP_LOSS and sl.shares == D(10)
    row = PositionOverride("s", "m", "Up", take_profit_fraction=D("0.75"))
    mine = exit_triggers(_pos(), _book("0.70"), LIMITS, overrides_for(row, frozenset(), limits))
    assert mine is not None and mine.shares == D(15)


MARKET = Market(
    id="m1", condition_id="0xc", slug="btc-updown-15m-1771684200", question="?",
    tokens=(OutcomeToken("Up", "up"), OutcomeToken("Down", "down")), tick_size=D("0.01"),
    min_order_size=D(5), neg_risk=False, fees=FREE, start_date=None, end_date=None,
    active=True, closed=True, accepting_orders=False,
)  # fmt: skip


@pytest.mark.parametrize(
    ("winner", "payout", "pnl", "redeemable"),
    [("Up", D(1), D(10), True), ("down", D(0), D(-10), False)],
)
def test_settlement_record_pays_one_or_zero_and_announces_it(
    winner: str, payout: D, pnl: D, redeemable: bool
) -> None:
    rec = settlement_record(_pos(), MARKET, winner, redeemable_if_won=True, now=T)
    assert rec.settlement.payout_per_share == payout and rec.settlement.shares == D(20)
    assert rec.redeemable is redeemable
    (settled_type, settled), (exited_type, exited) = rec.events
    assert (settled_type, exited_type) == ("market_settled", "trade_exited")
    assert settled["pnl_usd"] == exited["pnl_usd"] == pnl and exited["reason"] == "settlement"
    assert f"resolved {winner}" in settled["summary"] and "\n" not in settled["summary"]


def test_paper_settlement_is_never_redeemable() -> None:
    rec = settlement_record(_pos(), MARKET, "Up", redeemable_if_won=False, now=T)
    assert not rec.redeemable


def _order(side: Side) -> StoredOrder:
    return StoredOrder(
        id="o1", intent_id=None, strategy="s", market_slug="m", outcome="Up", token_id="up",
        side=side, order_type=OrderType.FAK, price=D("0.6"), size=D(10), amount_usd=None,
        venue_order_id="v", status=OrderStatus.FILLED, reason_code=None, reason_text=None,
        size_matched=D(10), created_at=T, updated_at=T,
    )  # fmt: skip


def _fill(trade: str, side: Side, price: str, size: str, fee: str = "0") -> Fill:
    return Fill(trade, "v", "up", side, D(price), D(size), D(fee), T, "taker")


def test_an_exit_fill_carries_its_realized_pnl_net_of_its_fees() -> None:
    history = [_fill("b1", Side.BUY, "0.50", "20"), _fill("s1", Side.SELL, "0.60", "10", "0.05")]
    events = trade_payloads(_order(Side.SELL), history[1:], history, "take_profit")
    assert [t for t, _ in events] == ["trade_executed", "trade_exited"]
    executed, exited = events[0][1], events[1][1]
    assert (executed["shares"], executed["price"], executed["usd"]) == (D(10), D("0.6"), D(6))
    assert exited["pnl_usd"] == D("0.95") and exited["reason"] == "take_profit"  # 1.00 − 0.05
    assert "P&L +0.95" in exited["summary"]


def test_a_buy_fill_is_executed_not_exited() -> None:
    fills = [_fill("b1", Side.BUY, "0.40", "5")]
    events = trade_payloads(_order(Side.BUY), fills, fills, None)
    assert [t for t, _ in events] == ["trade_executed"]
    assert events[0][1]["summary"].startswith("s bought 5 Up @ 0.4000 on m")


@pytest.mark.parametrize(
    ("option", "text"),
    [("stop_loss_pct", "0"), ("stop_loss_pct", "101"), ("take_profit_fraction", "1.5"),
     ("take_profit_pct", "abc"), ("stop_loss_fraction", "nan")],
)  # fmt: skip
def test_bad_override_values_are_refused(option: str, text: str) -> None:
    with pytest.raises(UsageError, match="--" + option.replace("_", "-")):
        parse_value(option, text)


def test_good_override_values_pass() -> None:
    assert parse_value("take_profit_pct", "250") == D(250)
    assert parse_value("stop_loss_fraction", "1") == D(1)
    assert parse_value("stop_loss_pct", None) is None


def test_status_trading_lines() -> None:
    trading = {
        "day": "2026-02-21", "trades_today": 3, "trades_total": 7, "open_positions": 1,
        "strategies": {"a": {"trades_today": 3, "trades_total": 7, "open_positions": 1}},
    }  # fmt: skip
    text = render_trading(trading)
    assert text.splitlines()[0] == (
        "trading (2026-02-21): 3 trades today, 7 in total, 1 open positions"
    )
    assert "a" in text.splitlines()[1] and render_trading(None).startswith("trading: no trades")
