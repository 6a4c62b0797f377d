"""The ledger per strategy: hand-computed values, daily P&L by time zone, and it always balances."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from autotrader.domain.fills import Fill, Liquidity, Settlement
from autotrader.domain.ledger import (
    Ledger,
    OpenOrder,
    ledgers,
    portfolio_exposure,
    reserved_usd,
)
from autotrader.domain.orders import OrderStatus, Side, VenueOrder
from autotrader.domain.positions import PositionKey, StrategyFill, StrategySettlement, replay

NY = ZoneInfo("America/New_York")
BUY_TS = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # 07:00 in New York, the 21st
SELL_TS = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # 22:00 in New York, still the 21st
SETTLE_TS = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)  # 01:00 in New York, the 22nd


def sf(
    tid: str, side: Side, price: str, size: str, fee: str, ts: datetime, s: str = "s1"
) -> StrategyFill:
    return StrategyFill(
        s, Fill(tid, "o" + tid, "tok", side, D(price), D(size), D(fee), ts, "taker")
    )


BUY = sf("t1", Side.BUY, "0.40", "100", "1.68", BUY_TS)
SELL = sf("t2", Side.SELL, "0.55", "50", "0.86625", SELL_TS)
SETTLE = StrategySettlement("s1", Settlement("m", "tok", "Up", D(50), D(1), SETTLE_TS))


def test_ledger_hand_computed_mid_life() -> None:
    resting = OpenOrder("s1", "tok2", Side.BUY, D("0.30"), D(10))
    led = Ledger.from_fills("s1", D(100), [BUY, SELL], open_orders=[resting])
    assert led.realized_pnl_usd == D("7.50")
    assert led.fees_usd == D("2.54625")
    assert led.cost_basis_usd == D(20)
    assert led.reserved_usd == D(3)
    assert led.deployed_usd == D(23)
    # Cash: 100 − 41.68 + 26.63375 − 3 reserved.
    assert led.available_usd == D("81.95375")
    assert led.net_pnl_usd == D("4.95375")
    assert led.balanced() and led.imbalance_usd == 0


def test_ledger_hand_computed_after_settlement() -> None:
    led = Ledger.from_fills("s1", D(100), [BUY, SELL], [SETTLE])
    assert led.realized_pnl_usd == D("37.50")
    assert led.fees_usd == D("2.54625")
    assert led.deployed_usd == 0
    assert led.available_usd == D("134.95375")  # capital released, profit booked
    assert led.balanced()


def test_other_strategies_do_not_leak_in() -> None:
    other = sf("t3", Side.BUY, "0.50", "10", "0.1", BUY_TS, s="s2")
    resting = OpenOrder("s2", "tok", Side.BUY, D("0.5"), D(10))
    led = Ledger.from_fills("s1", D(100), [BUY, other], open_orders=[resting])
    assert led.cost_basis_usd == D(40) and led.reserved_usd == 0 and led.fees_usd == D("1.68")
    both = ledgers({"s1": D(100), "s2": D(50)}, replay([BUY, other]), [resting])
    assert both["s2"].available_usd == D("39.9")  # 50 − 5.10 − 5 reserved
    assert all(x.balanced() for x in both.values())


def test_a_broken_ledger_is_not_balanced() -> None:
    led = Ledger("s1", D(100), realized_pnl_usd=D(5), cash_flow_usd=D(4))
    assert not led.balanced() and led.imbalance_usd == D(1)


def test_daily_pnl_follows_the_configured_time_zone() -> None:
    ny = Ledger.from_fills("s1", D(100), [BUY, SELL], [SETTLE], tz=NY)
    assert [d.day for d in ny.daily] == [date(2026, 11, 21), date(2026, 11, 22)]
    assert ny.day(date(2026, 11, 21)).net_usd == D("4.95375")  # −1.68 + 7.50 − 0.86625
    assert ny.day(date(2026, 11, 22)).net_usd == D(30)
    utc = Ledger.from_fills("s1", D(100), [BUY, SELL], [SETTLE], tz=UTC)
    assert utc.day(date(2026, 11, 21)).net_usd == D("-1.68")
    assert utc.day(date(2026, 11, 22)).net_usd == D("36.63375")
    assert utc.day(date(2026, 1, 1)).net_usd == 0


def test_open_order_exposure() -> None:
    live = VenueOrder("v1", "tok", Side.BUY, D("0.40"), D(20), D(5), OrderStatus.PARTIALLY_FILLED)
    assert OpenOrder.from_venue("s1", live).reserved_usd == D(6)  # 15 unfilled × 0.40
    done = VenueOrder("v2", "tok", Side.BUY, D("0.40"), D(20), D(5), OrderStatus.CANCELED)
    assert OpenOrder.from_venue("s1", done).reserved_usd == 0
    sell = OpenOrder("s1", "tok", Side.SELL, D("0.6"), D(10))
    orders = [
        OpenOrder.from_venue("s1", live),
        sell,
        OpenOrder("s2", "x", Side.BUY, D("0.1"), D(10)),
    ]
    assert reserved_usd(orders) == D(7)
    assert reserved_usd(orders, PositionKey("s1", "tok")) == D(6)
    positions = replay([BUY, SELL]).positions.values()
    assert portfolio_exposure(positions, orders) == D(27)  # 20 held + 7 reserved


# --- property: the ledger balances after any history ------------------------------------------

STRATEGIES = ("a", "b", "c")
TOKENS = ("x", "y")


@st.composite
def histories(
    draw: st.DrawFn,
) -> tuple[list[StrategyFill], list[StrategySettlement], list[OpenOrder]]:
    """Random valid fills and settlements (settled tokens then trade no more) and open orders."""
    held: dict[tuple[str, str], D] = {}
    settled: set[str] = set()
    fills: list[StrategyFill] = []
    settlements: list[StrategySettlement] = []
    ts = BUY_TS
    for i in range(draw(st.integers(0, 30))):
        ts += timedelta(minutes=draw(st.integers(0, 600)))
        live = [t for t in TOKENS if t not in settled]
        if not live:
            break
        token = draw(st.sampled_from(live))
        if draw(st.integers(0, 9)) == 0:  # the market resolves for every holder
            settled.add(token)
            payout = draw(st.sampled_from([D(0), D(1), D("0.5")]))
            for s in STRATEGIES:
                stl = Settlement("m", token, "Up", held.get((s, token), D(0)), payout, ts)
                settlements.append(StrategySettlement(s, stl))
            continue
        s = draw(st.sampled_from(STRATEGIES))
        have = held.get((s, token), D(0))
        size = draw(st.decimals(D("0.01"), D(300), places=draw(st.sampled_from([2, 4, 6]))))
        side = Side.SELL if have > 0 and draw(st.booleans()) else Side.BUY
        size = min(size, have) if side is Side.SELL else size
        held[(s, token)] = have - size if side is Side.SELL else have + size
        price = draw(st.decimals(D("0.001"), D("0.999"), places=3))
        fee = draw(st.decimals(D(0), D(3), places=6))
        liq: Liquidity = draw(st.sampled_from(["taker", "maker"]))
        fills.append(
            StrategyFill(s, Fill(f"t{i}", f"o{i}", token, side, price, size, fee, ts, liq))
        )
    orders = []
    for _ in range(draw(st.integers(0, 3))):
        price = draw(st.decimals(D("0.01"), D("0.99"), places=2))
        left = draw(st.decimals(D(0), D(50), places=2))
        side = draw(st.sampled_from(list(Side)))
        orders.append(OpenOrder(draw(st.sampled_from(STRATEGIES)), "z", side, price, left))
    return fills, settlements, orders


@settings(max_examples=300)
@given(histories(), st.sampled_from([UTC, NY, ZoneInfo("Asia/Tokyo")]))
def test_ledger_always_balances(
    history: tuple[list[StrategyFill], list[StrategySettlement], list[OpenOrder]], tz: ZoneInfo
) -> None:
    fills, settlements, orders = history
    run = replay(fills, settlements)
    for s in STRATEGIES:
        led = Ledger.from_replay(s, D(1000), run, orders, tz)
        assert led.balanced(), led
        # Independently: available is the allocation plus every cash movement, minus reserves.
        cash = sum((sf.fill.cash_delta_usd for sf in fills if sf.strategy == s), D(0))
        cash += sum((x.settlement.payout_usd for x in settlements if x.strategy == s), D(0))
        reserved = sum((o.reserved_usd for o in orders if o.strategy == s), D(0))
        assert led.available_usd == D(1000) + cash - reserved
        # Daily P&L sums to the total, whatever the time zone.
        assert sum((d.net_usd for d in led.daily), D(0)) == led.net_pnl_usd
        if all(not p.is_open for k, p in run.positions.items() if k.strategy == s):
            assert led.net_pnl_usd == cash  # flat: what was made is what came back
