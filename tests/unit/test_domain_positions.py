"""Positions derived from fills and settlements: hand-computed cases and properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autotrader.domain.fills import Fill, Settlement
from autotrader.domain.orders import Side
from autotrader.domain.positions import (
    DuplicateFill,
    OversoldError,
    PositionKey,
    SettlementError,
    StrategyFill,
    StrategySettlement,
    build_positions,
    open_positions,
    replay,
)

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
KEY = PositionKey("s1", "tok")


def fill(
    tid: str, side: Side, price: str, size: str, fee: str, mins: int = 0, *, strategy: str = "s1",
    token: str = "tok",
) -> StrategyFill:  # fmt: skip
    ts = T0 + timedelta(minutes=mins)
    f = Fill(tid, "o-" + tid, token, side, D(price), D(size), D(fee), ts, "taker")
    return StrategyFill(strategy, f)


def settle(payout: str, shares: str, mins: int, *, strategy: str = "s1") -> StrategySettlement:
    ts = T0 + timedelta(minutes=mins)
    return StrategySettlement(strategy, Settlement("m1", "tok", "Up", D(shares), D(payout), ts))


BUY = fill("t1", Side.BUY, "0.40", "100", "1.68", 0)
SELL = fill("t2", Side.SELL, "0.55", "50", "0.866250", 5)  # 50 × 0.07 × 0.55 × 0.45


def test_buy_sell_settle_hand_computed() -> None:
    pos = build_positions([BUY])[KEY]
    assert (pos.shares, pos.cost_basis_usd, pos.avg_price) == (D(100), D(40), D("0.4"))
    assert pos.fees_usd == D("1.68") and pos.realized_pnl_usd == 0
    assert pos.opened_at == T0 and pos.last_buy_at == T0

    pos = build_positions([BUY, SELL])[KEY]
    assert pos.shares == D(50) and pos.cost_basis_usd == D(20)
    assert pos.realized_pnl_usd == D("7.50")  # 50 × (0.55 − 0.40)
    assert pos.fees_usd == D("2.54625")
    assert pos.unrealized_pnl(D("0.60")) == D(10)  # 50 × 0.60 − 20
    assert pos.market_value(D("0.60")) == D(30)

    pos = build_positions([BUY, SELL], [settle("1", "50", 20)])[KEY]
    assert pos.shares == 0 and pos.cost_basis_usd == 0 and pos.settled
    assert pos.realized_pnl_usd == D("37.50")  # 7.50 + 50 × (1 − 0.40)
    assert pos.net_pnl_usd == D("34.95375")  # 37.50 − 1.68 − 0.86625
    assert not pos.is_open and pos.avg_price is None and open_positions({KEY: pos}) == {}


def test_losing_settlement_realizes_the_cost() -> None:
    pos = build_positions([BUY], [settle("0", "100", 20)])[KEY]
    assert pos.realized_pnl_usd == D(-40) and pos.net_pnl_usd == D("-41.68")


def test_average_cost_across_buys() -> None:
    fills = [
        fill("a", Side.BUY, "0.30", "10", "0", 0),
        fill("b", Side.BUY, "0.60", "20", "0", 1),  # 30 shares for 15.00: avg 0.50
        fill("c", Side.SELL, "0.50", "10", "0", 2),
    ]
    pos = build_positions(fills)[KEY]
    assert pos.avg_price == D("0.5") and pos.cost_basis_usd == D(10) and pos.realized_pnl_usd == 0


def test_partial_sells_of_thirds_stay_exact_in_total() -> None:
    # 3 shares for 1.00 (avg 1/3): a partial sell removes the basis rounded to 1e-8, the
    # closing sell removes the rest, so the total realized P&L is exact.
    buys = [fill("p", Side.BUY, "0.25", "1", "0", 0), fill("q", Side.BUY, "0.375", "2", "0", 0)]
    one = build_positions([*buys, fill("r", Side.SELL, "0.5", "1", "0", 1)])[KEY]
    assert one.cost_basis_usd == D("0.66666667")
    assert one.realized_pnl_usd == D("0.16666667")
    done = build_positions(
        [*buys, fill("r", Side.SELL, "0.5", "1", "0", 1), fill("s", Side.SELL, "0.5", "2", "0", 2)]
    )[KEY]
    assert done.shares == 0 and done.cost_basis_usd == 0
    assert done.realized_pnl_usd == D("0.5")  # 1.50 received − 1.00 paid


def test_events_are_applied_in_time_order_fill_before_settlement() -> None:
    late_buy = fill("t9", Side.BUY, "0.40", "100", "0", 30)
    # Given out of order: the settlement (minute 10) comes before the buy (minute 30).
    with pytest.raises(SettlementError, match="after it was settled"):
        replay([late_buy], [settle("1", "0", 10)])
    # At the same instant the fill is applied first.
    same_instant = replay([BUY], [settle("1", "100", 0)])
    assert same_instant.positions[KEY].realized_pnl_usd == D(60)
    ordered = replay([SELL, BUY])  # the sell at minute 5 comes after the buy at minute 0
    assert ordered.positions[KEY].shares == D(50)
    assert [e.ts for e in ordered.events] == [T0, T0 + timedelta(minutes=5)]


def test_strategies_and_tokens_are_separate_positions() -> None:
    other = fill("t3", Side.BUY, "0.50", "10", "0", 1, strategy="s2")
    token2 = fill("t4", Side.BUY, "0.50", "10", "0", 1, token="tok2")
    got = build_positions([BUY, other, token2])
    assert set(got) == {KEY, PositionKey("s2", "tok"), PositionKey("s1", "tok2")}
    assert got[PositionKey("s2", "tok")].shares == 10


def test_inconsistent_histories_are_refused() -> None:
    with pytest.raises(DuplicateFill, match="trade t1 is already recorded"):
        build_positions([BUY, BUY])
    with pytest.raises(OversoldError, match=r"sells 150 .* only 100 are held"):
        build_positions([BUY, fill("t5", Side.SELL, "0.5", "150", "0", 1)])
    with pytest.raises(SettlementError, match="settlement of 99 shares"):
        build_positions([BUY], [settle("1", "99", 5)])
    with pytest.raises(SettlementError, match="already settled"):
        build_positions([BUY], [settle("1", "100", 5), settle("1", "0", 6)])
    with pytest.raises(ValueError, match="mark price"):
        build_positions([BUY])[KEY].unrealized_pnl(D("1.5"))


prices = st.decimals(min_value=D("0.01"), max_value=D("0.99"), places=2)
sizes = st.decimals(min_value=D("0.01"), max_value=D("500"), places=2)


@st.composite
def valid_fills(draw: st.DrawFn) -> list[StrategyFill]:
    """A random valid history (never sells more than held) of distinct trade ids."""
    held: dict[tuple[str, str], D] = {}
    out: list[StrategyFill] = []
    for i in range(draw(st.integers(1, 25))):
        strategy, token = draw(st.sampled_from(["a", "b"])), draw(st.sampled_from(["x", "y"]))
        have = held.get((strategy, token), D(0))
        sell = have > 0 and draw(st.booleans())
        size = draw(sizes)
        if sell:
            size = min(size, have)
        side = Side.SELL if sell else Side.BUY
        held[(strategy, token)] = have - size if sell else have + size
        price, fee = draw(prices), draw(st.decimals(D(0), D(5), places=6))
        f = Fill(
            f"tr{i}", f"o{i}", token, side, price, size, fee, T0 + timedelta(seconds=i), "maker"
        )
        out.append(StrategyFill(strategy, f))
    return out


@given(valid_fills(), st.data())
def test_a_duplicate_trade_id_is_always_refused(
    fills: list[StrategyFill], data: st.DataObject
) -> None:
    build_positions(fills)  # the history itself is fine
    victim = data.draw(st.sampled_from(fills))
    # Same trade id, anything else may differ (another strategy, a later time): still refused.
    copy = StrategyFill(
        data.draw(st.sampled_from(["a", "b"])),
        Fill(
            victim.fill.trade_id, "other", victim.fill.token_id, Side.BUY, D("0.5"), D(1), D(0),
            T0 + timedelta(days=1), "taker",
        ),
    )  # fmt: skip
    where = data.draw(st.integers(0, len(fills)))
    with pytest.raises(DuplicateFill):
        build_positions([*fills[:where], copy, *fills[where:]])


@given(valid_fills())
def test_shares_and_cost_basis_match_the_fills(fills: list[StrategyFill]) -> None:
    got = build_positions(fills)
    for key, pos in got.items():
        mine = [sf.fill for sf in fills if sf.key == key]
        assert pos.shares == sum((f.share_delta for f in mine), D(0))
        assert pos.fees_usd == sum((f.fee_usd for f in mine), D(0))
        assert pos.cost_basis_usd >= 0
        if pos.shares == 0:
            assert pos.cost_basis_usd == 0
