"""Property tests: random intents of several strategies, checked by ``risk.check`` and filled by a
pure fill model, never breach a limit; the ledger balances after any sequence.

The fill model takes an approved order at the best ask (or bid) for the whole size, as a
marketable order would; a limit that does not cross is killed (nothing rests). Markets resolve
at random (payout 1 or 0 per share). After every step every limit is re-checked against the
replayed fills: allocation (deployed ≤ allocated), max position, max trade (per fill), daily
loss (an entry is only approved below it), portfolio exposure, order rate and cooldown, and
capital (available ≥ 0); and every strategy's ledger is balanced.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autotrader.domain import risk
from autotrader.domain.book import Level, OrderBook
from autotrader.domain.fees import FeeSchedule
from autotrader.domain.fills import Fill, Settlement
from autotrader.domain.intents import IntentKind, OrderIntent
from autotrader.domain.ledger import Ledger, portfolio_exposure
from autotrader.domain.orders import Side
from autotrader.domain.positions import (
    PositionKey,
    Replay,
    StrategyFill,
    StrategySettlement,
    replay,
)
from autotrader.domain.risk import GlobalLimits, RiskContext, StrategyLimits

FEES = FeeSchedule(rate=D("0.07"))
GLOBAL = GlobalLimits(max_trade_usd=D(20), portfolio_exposure_usd=D(90), max_orders_per_minute=4)
LIMITS = {
    "a": StrategyLimits("a", D(60), D(40), D(8), cooldown_secs=0),
    "b": StrategyLimits("b", D(100), D(25), D(15), max_trade_usd=D(12), cooldown_secs=30),
    "c": StrategyLimits("c", D(40), D(100), D(5), cooldown_secs=5),
}
TOKENS = ("t1", "t2", "t3")
T0 = datetime(2026, 3, 1, 23, 50, tzinfo=UTC)  # the calendar day changes during a run


@dataclass
class World:
    """Everything that happened: fills, settlements, order times, entries; the clock."""

    now: datetime = T0
    fills: list[StrategyFill] = field(default_factory=list)
    settlements: list[StrategySettlement] = field(default_factory=list)
    orders: list[datetime] = field(default_factory=list)
    entries: dict[str, list[datetime]] = field(default_factory=dict)
    settled: set[str] = field(default_factory=set)
    n: int = 0

    def history(self) -> Replay:
        return replay(self.fills, self.settlements)

    def ledger(self, name: str, history: Replay) -> Ledger:
        return Ledger.from_replay(name, LIMITS[name].allocation_usd, history)


def book(token: str, ask: D, now: datetime) -> OrderBook:
    return OrderBook(token, (Level(ask - D("0.02"), D(500)),), (Level(ask, D(500)),),
                     D("0.01"), D(5), now)  # fmt: skip


@st.composite
def steps(draw: st.DrawFn) -> tuple[object, ...]:
    kind = draw(st.sampled_from(["buy", "buy", "buy", "sell", "wait", "resolve"]))
    if kind == "wait":
        return ("wait", draw(st.integers(1, 3600)))
    token = draw(st.sampled_from(TOKENS))
    if kind == "resolve":
        return ("resolve", token, draw(st.sampled_from([D(0), D(1)])))
    strategy = draw(st.sampled_from(sorted(LIMITS)))
    ask = D(draw(st.integers(5, 95))) / 100
    market = draw(st.booleans())
    limit = None if market else ask + D(draw(st.integers(-3, 5))) / 100
    if limit is not None and not D("0.01") <= limit <= D("0.99"):
        limit = ask
    usd = D(draw(st.integers(1, 15))) if kind == "buy" and draw(st.booleans()) else None
    shares = None if usd is not None else D(draw(st.integers(1, 40)))
    if market and usd is None and kind == "buy":
        usd, shares = D(draw(st.integers(1, 15))), None
    return (kind, token, strategy, ask, limit, usd, shares, draw(st.sampled_from([0, 0, 2, 20])))


def intent(world: World, step: tuple[object, ...]) -> OrderIntent:
    kind, token, strategy, _, limit, usd, shares, _ = step
    world.n += 1
    return OrderIntent(
        id=f"i{world.n}", strategy=str(strategy), market_slug=f"m-{token}", token_id=str(token),
        outcome="Yes", side=Side.BUY if kind == "buy" else Side.SELL,
        kind=IntentKind.MARKET if limit is None else IntentKind.LIMIT,
        amount_usd=usd if kind == "buy" else None,  # type: ignore[arg-type]
        shares=shares if usd is None or kind == "sell" else None,  # type: ignore[arg-type]
        limit_price=limit,  # type: ignore[arg-type]
        valid_until=world.now + timedelta(minutes=5), entry_key=None, reason="property",
        created_at=world.now,
    )  # fmt: skip


def context(world: World, i: OrderIntent, ob: OrderBook) -> RiskContext:
    history = world.history()
    entries = world.entries.get(i.strategy, [])
    return RiskContext(
        now=world.now, strategy=LIMITS[i.strategy], global_limits=GLOBAL,
        ledger=world.ledger(i.strategy, history), positions=history.positions, book=ob,
        recent_orders=tuple(world.orders), last_entry_at=entries[-1] if entries else None,
        fees=FEES,
    )  # fmt: skip


def fill(world: World, i: OrderIntent, decision: risk.RiskDecision, ob: OrderBook) -> None:
    """The pure fill model: all at the touch, or nothing if the limit does not cross."""
    assert decision.price is not None
    touch = ob.best_ask if i.side is Side.BUY else ob.best_bid
    assert touch is not None
    crosses = decision.price >= touch if i.side is Side.BUY else decision.price <= touch
    world.orders.append(world.now)
    if not crosses:
        return
    if decision.shares is not None:
        size = decision.shares
    else:
        assert decision.amount_usd is not None
        size = (decision.amount_usd / touch).quantize(D("0.01"), "ROUND_DOWN")
    if size <= 0:
        return
    f = Fill(f"tr{world.n}", f"o{world.n}", i.token_id, i.side, touch, size,
             FEES.taker_fee(size, touch), world.now, "taker")  # fmt: skip
    if i.side is Side.BUY:  # the checked bound holds (a sell's notional is its floor)
        assert f.notional_usd <= decision.notional_usd
    world.fills.append(StrategyFill(i.strategy, f))
    if i.side is Side.BUY:
        world.entries.setdefault(i.strategy, []).append(world.now)


def resolve(world: World, token: str, payout: D) -> None:
    history = world.history()
    for key, pos in history.positions.items():
        if key.token_id == token and pos.is_open:
            s = Settlement(f"m-{token}", token, "Yes", pos.shares, payout, world.now)
            world.settlements.append(StrategySettlement(key.strategy, s))
    world.settled.add(token)


def check_limits(world: World, approved_entry: tuple[str, D] | None) -> None:
    history = world.history()
    for name, lim in LIMITS.items():
        ledger = world.ledger(name, history)
        assert ledger.balanced(), (name, ledger.imbalance_usd)
        assert ledger.deployed_usd <= lim.allocation_usd, (name, ledger.deployed_usd)
        assert ledger.available_usd >= 0, (name, ledger.available_usd)
        for token in TOKENS:
            pos = history.positions.get(PositionKey(name, token))
            if pos is not None:
                assert pos.cost_basis_usd <= lim.max_position_usd, (name, token, pos)
        entries = world.entries.get(name, [])
        for a, b in itertools.pairwise(entries):
            assert (b - a).total_seconds() >= lim.cooldown_secs, (name, a, b)
    exposure = portfolio_exposure(history.positions.values())
    assert exposure <= GLOBAL.portfolio_exposure_usd, exposure
    for t in world.orders:
        window = [o for o in world.orders if t - timedelta(seconds=60) < o <= t]
        assert len(window) <= GLOBAL.max_orders_per_minute
    if approved_entry is not None:  # an entry was approved below the daily loss limit
        name, loss_before = approved_entry
        assert loss_before < LIMITS[name].daily_loss_usd


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(steps(), min_size=1, max_size=50))
def test_random_intents_never_breach_a_limit(plan: list[tuple[object, ...]]) -> None:
    world = World()
    for step in plan:
        if step[0] == "wait":
            world.now += timedelta(seconds=int(step[1]))  # type: ignore[call-overload]
            continue
        if step[1] in world.settled:
            continue  # a resolved market takes no more orders
        if step[0] == "resolve":
            resolve(world, str(step[1]), step[2])  # type: ignore[arg-type]
            check_limits(world, None)
            continue
        i = intent(world, step)
        ob = book(i.token_id, step[3], world.now)  # type: ignore[arg-type]
        ctx = context(world, i, ob)
        decision = risk.check(i, ctx)
        entry = None
        if decision.approved:
            if i.side is Side.BUY:
                entry = (i.strategy, -ctx.ledger.today(world.now).net_usd)
            fill(world, i, decision, ob)
        check_limits(world, entry)
        world.now += timedelta(seconds=int(step[7]))  # type: ignore[call-overload]


@settings(max_examples=200, deadline=None)
@given(st.lists(steps(), min_size=1, max_size=60))
def test_ledger_balances_after_any_sequence_of_fills_and_settlements(
    plan: list[tuple[object, ...]],
) -> None:
    """Unchecked fills (no risk check: any buy, sells capped to what is held) and
    settlements: every strategy's ledger balances after each one."""
    world = World()
    for step in plan:
        if step[0] == "wait" or step[1] in world.settled:
            continue
        if step[0] == "resolve":
            resolve(world, str(step[1]), step[2])  # type: ignore[arg-type]
        else:
            i = intent(world, step)
            price, held = (
                step[3],
                world.history().positions.get(PositionKey(i.strategy, i.token_id)),
            )
            size = i.shares or D(step[5]) / price  # type: ignore[arg-type, operator]
            if i.side is Side.SELL:
                size = min(size, held.shares if held is not None else D(0))
            size = D(size).quantize(D("0.01"), "ROUND_DOWN")
            if size > 0:
                f = Fill(f"tr{world.n}", f"o{world.n}", i.token_id, i.side, price, size,  # type: ignore[arg-type]
                         FEES.taker_fee(size, price), world.now, "taker")  # type: ignore[arg-type]  # fmt: skip
                world.fills.append(StrategyFill(i.strategy, f))
        history = world.history()
        for name in LIMITS:
            ledger = world.ledger(name, history)
            assert ledger.balanced(), (name, ledger.imbalance_usd)
        world.now += timedelta(seconds=30)
