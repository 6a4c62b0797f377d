"""Window lifecycle: price to beat, end of trading, resolution 20-90 s later, auto-redeem."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from autotrader.clock import FakeClock
from autotrader.domain.orders import OrderType, Side
from autotrader.sim.ledger import SimOrder
from autotrader.sim.world import SimWorld

D = Decimal
T0 = 1_767_225_600
W = T0 + 86_400  # the window under test
WALLET = "0xC0FFEE"


def write_path(tmp_path: Path, start_price: float, end_price: float) -> Path:
    """Two days of minutes: ``start_price`` up to the bar closing at W, a wiggle inside the
    window, ``end_price`` from the bar closing at W + 900 on."""
    i_start = (W - T0) // 60 - 1
    closes = [start_price] * (i_start + 1)
    closes += [start_price + (5 if k % 2 else -5) for k in range(14)]
    closes += [end_price] * (2 * 1_440 - len(closes))
    lines = ["open_time_ms,open,high,low,close,volume"]
    lines += [f"{(T0 + i * 60) * 1000},{c},{c},{c},{c},1" for i, c in enumerate(closes)]
    path = tmp_path / "btc.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def make(
    tmp_path: Path, start_price: float, end_price: float, t: float = W - 300
) -> tuple[SimWorld, FakeClock]:
    clock = FakeClock(t)
    world = SimWorld(clock, write_path(tmp_path, start_price, end_price), seed=5)
    world.advance()
    return world, clock


def at(world: SimWorld, clock: FakeClock, t: float) -> None:
    clock.advance(t - clock.time())
    world.advance()


@pytest.mark.parametrize(
    ("start", "end", "winner"),
    [(90_000.0, 90_000.01, "Up"), (90_000.0, 89_999.99, "Down"), (90_000.0, 90_000.0, "Up")],
)
def test_resolution_follows_the_rule(tmp_path: Path, start: float, end: float, winner: str) -> None:
    world, clock = make(tmp_path, start, end)
    m = world.market_by_slug(f"btc-updown-15m-{W}")
    assert m is not None and m.price_to_beat is None  # not published before the window
    at(world, clock, W + 1)
    assert m.price_to_beat == D(repr(start))
    at(world, clock, W + 900 + 95)
    assert m.closed and m.winner == winner and m.final_price == D(repr(end))
    stats = world.market_stats(m)
    assert stats.outcome_prices == ((D(1), D(0)) if winner == "Up" else (D(0), D(1)))
    assert not stats.accepting_orders


def test_resolution_comes_20_to_90_seconds_after_the_end(tmp_path: Path) -> None:
    world, clock = make(tmp_path, 90_000.0, 90_100.0)
    markets = [world.market_by_slug(f"btc-updown-15m-{W + k * 900}") for k in range(8)]
    delays = [m.resolve_at - m.end_date for m in markets if m is not None]
    assert len(delays) == 8 and all(20 <= d <= 90 for d in delays)
    assert len(set(delays)) == 8  # each window its own delay
    m = markets[0]
    assert m is not None
    at(world, clock, m.end_date)
    assert not m.accepting_orders(world.now) and not m.closed
    at(world, clock, m.resolve_at - 0.5)
    assert not m.closed
    at(world, clock, m.resolve_at)
    assert m.closed and m.closed_at == m.resolve_at
    # The same seed resolves the same window at the same moment in another world.
    other, _ = make(tmp_path, 90_000.0, 90_100.0, t=W - 5_000)
    same = other.market_by_slug(m.slug)
    assert same is not None and same.resolve_at == m.resolve_at


def test_trading_stops_at_the_end_and_open_orders_are_cancelled(tmp_path: Path) -> None:
    world, clock = make(tmp_path, 90_000.0, 90_100.0, t=W + 60)
    m = world.market_by_slug(f"btc-updown-15m-{W}")
    assert m is not None
    up = m.token_ids[0]
    rest = SimOrder("0x" + "a" * 64, up, Side.BUY, D("0.01"), D(100), OrderType.GTC)
    assert world.submit(WALLET, rest).status == "live"
    at(world, clock, W + 900)
    assert world.order(rest.order_id).status == "CANCELED"  # type: ignore[union-attr]
    assert world.order(rest.order_id).reason == "market closed"  # type: ignore[union-attr]
    assert world.open_orders(WALLET) == [] and world.balance(WALLET) == 1000
    book = world.book(up)
    assert book is not None and book.bids == [] and book.asks == []
    late = SimOrder("0x" + "b" * 64, up, Side.BUY, D("0.5"), D(10), OrderType.FOK)
    assert world.submit(WALLET, late).error == f"the orderbook {up} does not exist"


@pytest.mark.parametrize(("end", "paid"), [(90_200.0, True), (89_800.0, False)])
def test_holders_are_paid_on_resolution(tmp_path: Path, end: float, paid: bool) -> None:
    world, clock = make(tmp_path, 90_000.0, end, t=W + 30)
    m = world.market_by_slug(f"btc-updown-15m-{W}")
    assert m is not None
    buy = SimOrder("0x" + "c" * 64, m.token_ids[0], Side.BUY, D("0.9"), D(20), OrderType.FOK)
    r = world.submit(WALLET, buy)
    assert r.status == "matched"
    cost = world.balance(WALLET)
    (pos,) = world.positions(WALLET)
    assert pos.size == 20 and pos.outcome == "Up" and pos.condition_id == m.condition_id
    at(world, clock, m.resolve_at)
    assert world.positions(WALLET) == []
    assert world.balance(WALLET) == cost + (20 if paid else 0)
    redemptions = world.redemptions(WALLET)
    assert [(x.size, x.payout, x.outcome) for x in redemptions] == (
        [(D(20), D(20), "Up")] if paid else []
    )
    assert len(world.trades(WALLET.lower())) == len(r.trade_ids)  # trades are kept
