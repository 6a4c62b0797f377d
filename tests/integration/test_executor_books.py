"""The executor's kept state against a real database (SQLite and PostgreSQL): the incremental
replay and the open orders' reservations, the back-off of orders of unknown fate, and the
back-off of exits that sold nothing.

Each test migrates its own database; the clock is a ``FakeClock`` and the venue a
``ScriptedVenue`` (no process, no network), so every schedule is checked to the second.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from autotrader.clock import FakeClock
from autotrader.config import AppConfig, load_config
from autotrader.domain.fills import Fill, Settlement
from autotrader.domain.intents import IntentStatus
from autotrader.domain.ledger import Ledger
from autotrader.domain.orders import OrderRequest, OrderStatus, OrderType, Side
from autotrader.domain.positions import Position, StrategyFill, StrategySettlement, replay
from autotrader.executor import watch
from autotrader.executor.books import open_order
from autotrader.executor.exits import EXIT_RETRY_MIN_SECS, ExitWatcher
from autotrader.executor.snapshot import SnapshotCache, open_reservations
from autotrader.executor.watch import OrderWatch
from autotrader.store import migrate
from autotrader.store.db import create_db_engine
from autotrader.store.repos_intents import IntentRepo
from autotrader.store.repos_trading import FillRepo, OrderRepo, SettlementRepo
from harness.scripted_venue import UP, ScriptedVenue

CONFIG = """\
state_dir: {state}
mode: paper
strategies:
  - name: s1
    kind: btc_updown_15m
    schedule: {{every: 15m}}
    allocation_usd: 200
    limits: {{daily_loss_usd: 50, max_position_pct: 50, stop_loss_pct: 20}}
    params: {{cooldown_secs: 0}}
"""


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    migrate.upgrade(database_url)
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def config(tmp_path: Path) -> AppConfig:
    path = tmp_path / "autotrader.yaml"
    path.write_text(CONFIG.format(state=tmp_path / "state"))
    return load_config(path)


class CountingVenue(ScriptedVenue):
    """A scripted venue that counts lookups by hash."""

    lookups = 0

    async def order(self, venue_order_id: str):  # type: ignore[no-untyped-def]
        self.lookups += 1
        return await super().order(venue_order_id)


def _fill(clock: FakeClock, n: int, side: Side, size: str, price: str, secs: float) -> Fill:
    ts = clock.now() + timedelta(seconds=secs)
    fee = Decimal("0.01")
    return Fill(f"t{n}", f"0xo{n}", UP, side, Decimal(price), Decimal(size), fee, ts, "taker")


def _full(engine: sa.Engine) -> tuple[object, ...]:
    fills = [StrategyFill(r.strategy, r.fill) for r in FillRepo(engine).all()]
    stl = [StrategySettlement(r.strategy, r.settlement) for r in SettlementRepo(engine).all()]
    history = replay(fills, stl)
    return history.positions, history.events


def test_replay_is_extended_and_redone_when_a_row_arrives_out_of_order(
    engine: sa.Engine, config: AppConfig
) -> None:
    clock, cache, fills = FakeClock(), SnapshotCache(engine), FillRepo(engine)
    cfg = config.strategies[0]
    steps = [
        _fill(clock, 1, Side.BUY, "10", "0.40", 1),
        _fill(clock, 2, Side.BUY, "5.5", "0.45", 2),
        _fill(clock, 3, Side.SELL, "4.25", "0.60", 3),
        _fill(clock, 0, Side.BUY, "2", "0.30", 0),  # listed late, older than the others
    ]
    expected_full_reads = [1, 1, 1, 2]
    for fill, reads in zip(steps, expected_full_reads, strict=True):
        assert fills.add(fill, order_id=None, strategy="s1")
        snap = cache.load()
        assert (snap.history.positions, snap.history.events) == _full(engine)
        assert cache.full_reads == reads, fill
        bare = Ledger.from_replay("s1", cfg.allocation_usd, snap.history, (), config.tz)
        assert cache.ledger(config, cfg, snap) == bare
    settled = Settlement("m1", UP, "Up", Decimal("13.25"), Decimal(1), clock.now() + timedelta(9))
    assert SettlementRepo(engine).add(settled, strategy="s1", market_slug="m", winning_outcome="Up")
    snap = cache.load()
    assert (snap.history.positions, snap.history.events) == _full(engine)
    assert cache.full_reads == 2  # a newer settlement only extends the replay
    assert cache.load() is not snap and cache.full_reads == 2


def test_fills_in_one_second_extend_the_replay_in_trade_id_order(
    engine: sa.Engine, config: AppConfig
) -> None:
    """The venue stamps trades to the second: a later-recorded trade of the same second whose
    id sorts first is still applied where a full replay puts it, without a full read."""
    clock, cache, fills = FakeClock(), SnapshotCache(engine), FillRepo(engine)
    steps = [
        _fill(clock, 5, Side.BUY, "10", "0.40", 1),
        _fill(clock, 7, Side.BUY, "4", "0.50", 2),
        _fill(clock, 6, Side.SELL, "3", "0.70", 2),  # same second, an id before t7's
        _fill(clock, 4, Side.SELL, "2", "0.65", 2),
        _fill(clock, 8, Side.SELL, "1", "0.60", 3),
    ]
    for fill in steps:
        assert fills.add(fill, order_id=None, strategy="s1")
        snap = cache.load()
        assert (snap.history.positions, snap.history.events) == _full(engine)
    assert cache.full_reads == 1


def test_old_history_is_folded_and_every_ledger_sum_is_kept(
    engine: sa.Engine, config: AppConfig
) -> None:
    """Ten days of round trips on a new token each: the cache folds what is older than three
    days into per-strategy sums, so it holds far fewer events than fills, and the ledger (and
    today's P&L) is the full replay's to the cent."""
    clock, fills = FakeClock(), FillRepo(engine)
    cache = SnapshotCache(engine, fold_every=8)
    cfg = config.strategies[0]
    n = 0
    for day in range(10):
        for trip in range(3):
            token, secs = f"tok{day}-{trip}", day * 86_400 + trip * 600
            for side, size, price, at in (
                (Side.BUY, "10", "0.40", 0),
                (Side.SELL, "10", "0.55", 60),
            ):
                n += 1
                ts = clock.now() + timedelta(seconds=secs + at)
                fill = Fill(f"t{n:03d}", f"0xo{n}", token, side, Decimal(price), Decimal(size),
                            Decimal("0.02"), ts, "taker")  # fmt: skip
                assert fills.add(fill, order_id=None, strategy="s1")
            cache.load()
    held = _fill(clock, 999, Side.BUY, "5", "0.30", 9 * 86_400 + 3_000)  # still open
    assert fills.add(held, order_id=None, strategy="s1")
    snap = cache.load()
    assert len(snap.history.events) < n / 2
    full = replay(
        [StrategyFill(r.strategy, r.fill) for r in FillRepo(engine).all()],
        [StrategySettlement(r.strategy, r.settlement) for r in SettlementRepo(engine).all()],
    )
    folded, whole = (
        cache.ledger(config, cfg, snap),
        Ledger.from_replay("s1", cfg.allocation_usd, full, (), config.tz),
    )
    now = held.ts
    assert (folded.realized_pnl_usd, folded.fees_usd, folded.cash_flow_usd) == (
        whole.realized_pnl_usd, whole.fees_usd, whole.cash_flow_usd)  # fmt: skip
    assert folded.cost_basis_usd == whole.cost_basis_usd and folded.balanced()
    assert folded.today(now) == whole.today(now)
    open_now = {k: p for k, p in snap.history.positions.items() if p.is_open}
    assert open_now == {k: p for k, p in full.positions.items() if p.is_open}


def test_reservations_are_summed_exactly_per_key(engine: sa.Engine) -> None:
    orders = OrderRepo(engine)
    sizes = [("7.33", "1.11", "0.37"), ("2.17", "0", "0.37"), ("0.1", "0.07", "0.41"),
             ("9", "9", "0.37"), ("12.34567891", "0.00000001", "0.05")]  # fmt: skip
    for n, (size, matched, price) in enumerate(sizes):
        req = OrderRequest(f"c{n}", UP, Side.BUY, OrderType.GTC, Decimal(price), Decimal(size))
        status = OrderStatus.PARTIALLY_FILLED if Decimal(matched) else OrderStatus.LIVE
        orders.create(req, intent_id=None, strategy="s1", venue_order_id=f"0x{n}",
                      status=status, size_matched=Decimal(matched))  # fmt: skip
    expected: dict[tuple[str, Side, Decimal], Decimal] = defaultdict(Decimal)
    for o in map(open_order, orders.open_orders()):
        if o.remaining:
            expected[(o.strategy, o.side, o.price)] += o.remaining
    with engine.connect() as conn:
        got = {(o.strategy, o.side, o.price): o.remaining for o in open_reservations(conn)}
    assert got == dict(expected)
    assert got[("s1", Side.BUY, Decimal("0.37"))] == Decimal("8.39")


def _submitted(engine: sa.Engine, clock: FakeClock, oid: str) -> str:
    req = OrderRequest(f"c-{oid}", UP, Side.BUY, OrderType.GTC, Decimal("0.40"), Decimal(10))
    order = OrderRepo(engine, now=clock.now).create(
        req, intent_id=None, strategy="s1", venue_order_id=oid, status=OrderStatus.SUBMITTED
    )
    return order.id


def test_an_order_never_found_is_looked_up_ever_less_often_then_closed(engine: sa.Engine) -> None:
    clock = FakeClock()
    venue = CountingVenue(clock)
    order_id = _submitted(engine, clock, "0xnever")
    sync = OrderWatch(venue, engine, clock)
    looked_at: list[float] = []
    start = clock.time()
    for _ in range(1200):  # a pass every clock second for 20 minutes
        before = venue.lookups
        asyncio.run(sync.run())
        if venue.lookups > before:
            looked_at.append(clock.time() - start)
        clock.advance(1)
    # 0, +5, +10, +20, +40, +80, +160, +300 … : bounded, and closed once well past the grace.
    assert looked_at[:6] == [0, 5, 15, 35, 75, 155], looked_at
    assert len(looked_at) <= 9
    order = OrderRepo(engine).get(order_id)
    assert order is not None and order.status is OrderStatus.REJECTED
    assert order.reason_code == watch.NEVER_PLACED and "not placed" in (order.reason_text or "")
    assert order.updated_at.timestamp() >= start + watch.UNKNOWN_FINAL_SECS  # on our clock


def test_an_order_of_unknown_fate_that_surfaces_is_brought_up_to_date(engine: sa.Engine) -> None:
    clock = FakeClock()
    venue = CountingVenue(clock)
    order_id = _submitted(engine, clock, "0xlate")
    req = OrderRequest("venue-side", UP, Side.BUY, OrderType.GTC, Decimal("0.40"), Decimal(10))
    venue.place(req, "0xlate", "fill")  # it did arrive: matched in full
    asyncio.run(OrderWatch(venue, engine, clock).run())
    order = OrderRepo(engine).get(order_id)
    assert order is not None and order.status is OrderStatus.FILLED
    assert [r.fill.trade_id for r in FillRepo(engine).for_order(order_id)] == ["trade-0xlate"]


def test_an_unsold_exit_is_proposed_again_only_after_a_doubling_back_off(
    engine: sa.Engine, config: AppConfig
) -> None:
    clock = FakeClock()
    intents = IntentRepo(engine, now=clock.now)
    exits = ExitWatcher(config, ScriptedVenue(clock), engine, clock)
    # Bought at 1.00, the bid is 0.49: far past the 20 % stop-loss.
    pos = Position("s1", UP, shares=Decimal(10), cost_basis_usd=Decimal(10), opened_at=clock.now())

    def check() -> str | None:
        before = {s.id for s in intents.list(limit=1000)}
        asyncio.run(exits.check(pos, "m", "Up"))
        new = [s.id for s in intents.list(limit=1000) if s.id not in before]
        assert len(new) <= 1
        return new[0] if new else None

    def end(intent_id: str, status: IntentStatus) -> None:
        intents.finish(intent_id, status, status.value, f"test: {status.value}")

    first = check()
    assert first is not None and check() is None  # in flight: no second exit
    end(first, IntentStatus.REJECTED)
    for wait, sold in ((EXIT_RETRY_MIN_SECS, False), (2 * EXIT_RETRY_MIN_SECS, True)):
        clock.advance(wait - 0.5)
        assert check() is None  # still backing off
        clock.advance(1)
        again = check()
        assert again is not None, wait
        end(again, IntentStatus.FILLED if sold else IntentStatus.REJECTED)
    assert check() is not None  # it sold: the next exit needs no wait
