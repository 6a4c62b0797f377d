"""The risk check: every limit at its boundary, exits, exit triggers and properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

from autotrader.domain.book import Level, OrderBook
from autotrader.domain.fees import FeeSchedule
from autotrader.domain.fills import Fill
from autotrader.domain.intents import IntentKind, OrderIntent, to_order_request
from autotrader.domain.ledger import (
    DailyPnl,
    Ledger,
    OpenOrder,
    day_of,
    portfolio_exposure,
    reserved_usd,
)
from autotrader.domain.orders import OrderType, Side
from autotrader.domain.positions import Position, PositionKey, StrategyFill, replay
from autotrader.domain.risk import (
    ExitKind,
    ExitOverrides,
    GlobalLimits,
    RiskContext,
    RiskDecision,
    RiskReason,
    StrategyLimits,
    check,
    exit_intent,
    exit_triggers,
)

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)  # 12:00 in New York
FEES = FeeSchedule(rate=D("0.07"))
LIMITS = StrategyLimits(
    "s1", allocation_usd=D(100), max_position_pct=D(50), daily_loss_usd=D(50),
    max_trade_usd=D(40), cooldown_secs=120, stop_loss_pct=D(30), take_profit_pct=D(50),
)  # fmt: skip
GLOBAL = GlobalLimits(max_trade_usd=D(100), portfolio_exposure_usd=D(1000), max_orders_per_minute=5)


def book(token: str = "t", bid: str = "0.48", ask: str = "0.50", size: int = 1000) -> OrderBook:
    b, a = D(bid), D(ask)
    return OrderBook(
        token,
        bids=(Level(b, D(size)), Level(b - D("0.02"), D(size))),
        asks=(Level(a, D(size)), Level(a + D("0.02"), D(size))),
        tick_size=D("0.01"),
        min_order_size=D(5),
        ts=NOW,
    )


def ctx(**changes: Any) -> RiskContext:
    base: dict[str, Any] = {
        "now": NOW,
        "strategy": LIMITS,
        "global_limits": GLOBAL,
        "ledger": Ledger("s1", D(100), tz=NY),
        "positions": {},
        "book": book(),
    }
    base.update(changes)
    return RiskContext(**base)


def intent(side: Side = Side.BUY, **changes: Any) -> OrderIntent:
    base: dict[str, Any] = {
        "id": "i1", "strategy": "s1", "market_slug": "m", "token_id": "t", "outcome": "Up",
        "side": side, "kind": IntentKind.LIMIT, "amount_usd": None, "shares": D(10),
        "limit_price": D("0.50"), "valid_until": NOW + timedelta(seconds=30),
        "entry_key": "w1", "reason": "test", "created_at": NOW - timedelta(seconds=1),
    }  # fmt: skip
    base.update(changes)
    return OrderIntent(**base)


def buy(shares: str, **changes: Any) -> OrderIntent:
    """A limit BUY at 0.50: notional = shares / 2."""
    return intent(shares=D(shares), **changes)


def rejected(d: RiskDecision, reason: RiskReason, detail: str | None = None) -> bool:
    assert not d.approved and d.reason is reason, d
    if detail is not None:
        assert d.detail == detail
    return True


def held(shares: str, cost: str, token: str = "t", strategy: str = "s1") -> Position:
    return Position(strategy, token, shares=D(shares), cost_basis_usd=D(cost))


# --- entries ------------------------------------------------------------------------------------


def test_plain_entry_is_approved_with_the_order_terms() -> None:
    d = check(buy("10"), ctx())
    assert d.approved and d.reason is None and not d.is_exit
    assert (d.shares, d.price, d.notional_usd) == (D(10), D("0.50"), D(5))
    req = to_order_request(buy("10"), "c1", tick_size=D("0.01"), price=d.price, shares=d.shares)
    assert req.order_type is OrderType.GTC and req.size == D(10) and req.price == D("0.50")


def test_intent_expired_at_valid_until() -> None:
    it = buy("10")
    assert check(it, ctx(now=it.valid_until - timedelta(microseconds=1))).approved
    d = check(it, ctx(now=it.valid_until))
    assert rejected(d, RiskReason.INTENT_EXPIRED)
    assert d.detail.startswith("intent valid until 2026-11-21T17:00:30")


def test_paused_strategy_rejects_entries() -> None:
    d = check(buy("10"), ctx(paused=True, paused_reason="daily loss limit"))
    assert rejected(d, RiskReason.STRATEGY_PAUSED, "strategy s1 is paused: daily loss limit")


def test_one_entry_per_entry_key() -> None:
    d = check(buy("10"), ctx(entry_exists=True))
    assert rejected(d, RiskReason.DUPLICATE_ENTRY)
    assert "already entered w1" in d.detail
    assert check(buy("10", entry_key="w2"), ctx(entry_exists=False)).approved


def test_cooldown() -> None:
    d = check(buy("10"), ctx(last_entry_at=NOW - timedelta(seconds=119)))
    assert rejected(d, RiskReason.COOLDOWN, "last entry 119s ago < cooldown 120s")
    assert check(buy("10"), ctx(last_entry_at=NOW - timedelta(seconds=120))).approved


def test_daily_loss_limit_in_the_configured_time_zone() -> None:
    # Lost 52.10 at 20:00–20:30 UTC on the 21st = 15:00 in New York.
    t1 = datetime(2026, 11, 21, 20, 0, tzinfo=UTC)
    fills = [
        StrategyFill("s1", Fill("a", "o", "t", Side.BUY, D("0.90"), D(100), D(0), t1, "taker")),
        StrategyFill(
            "s1",
            Fill("b", "o", "t", Side.SELL, D("0.379"), D(100), D(0), t1 + timedelta(minutes=30),
                 "taker"),
        ),
    ]  # fmt: skip
    late = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # 22:00 on the 21st in New York
    ny = Ledger.from_fills("s1", D(100), fills, tz=NY)
    d = check(buy("10", created_at=late, valid_until=late + timedelta(seconds=9)),
              ctx(now=late, ledger=ny))  # fmt: skip
    expected = "daily loss 52.10 ≥ limit 50.00 (America/New_York day 2026-11-21)"
    assert rejected(d, RiskReason.DAILY_LOSS_LIMIT, expected)
    # In UTC that loss was yesterday: a new day, trading resumes.
    utc = Ledger.from_fills("s1", D(100), fills, tz=UTC)
    assert check(buy("10", created_at=late, valid_until=late + timedelta(seconds=9)),
                 ctx(now=late, ledger=utc)).approved  # fmt: skip


@pytest.mark.parametrize(("net", "ok"), [("-49.99", True), ("-50", False), ("-50.01", False)])
def test_daily_loss_boundary(net: str, ok: bool) -> None:
    led = Ledger("s1", D(100), daily=(DailyPnl(date(2026, 11, 21), D(net), D(0)),), tz=NY)
    d = check(buy("10"), ctx(ledger=led))
    assert d.approved is ok
    if not ok:
        assert d.reason is RiskReason.DAILY_LOSS_LIMIT


def test_order_rate_over_a_trailing_minute() -> None:
    four = tuple(NOW - timedelta(seconds=s) for s in (1, 10, 30, 59))
    old = NOW - timedelta(seconds=60)  # outside the (now − 60 s, now] window
    assert check(buy("10"), ctx(recent_orders=(*four, old))).approved
    d = check(buy("10"), ctx(recent_orders=(*four, NOW)))
    assert rejected(d, RiskReason.ORDER_RATE, "5 orders in the last 60s ≥ limit 5/min")


def test_max_trade_size_strategy_and_global() -> None:
    assert check(buy("80"), ctx()).approved  # 40.00 == strategy cap 40
    d = check(buy("80.02"), ctx())
    assert rejected(d, RiskReason.MAX_TRADE_SIZE, "trade 40.01 > max trade 40.00 (strategy)")
    loose = replace(LIMITS, max_trade_usd=None, max_position_pct=D(100))
    tight = replace(GLOBAL, max_trade_usd=D(30))
    assert check(buy("60"), ctx(strategy=loose, global_limits=tight)).approved
    d = check(buy("60.02"), ctx(strategy=loose, global_limits=tight))
    assert rejected(d, RiskReason.MAX_TRADE_SIZE, "trade 30.01 > max trade 30.00 (global)")


def test_allocation() -> None:
    led = Ledger("s1", D(100), cost_basis_usd=D(70), cash_flow_usd=D(-70), tz=NY)
    positions = {PositionKey("s1", "u"): held("140", "70", token="u")}
    assert check(buy("60"), ctx(ledger=led, positions=positions)).approved  # 70 + 30 == 100
    d = check(buy("60.02"), ctx(ledger=led, positions=positions))
    expected = "deployed 70.00 + trade 30.01 > allocation 100.00"
    assert rejected(d, RiskReason.ALLOCATION_EXCEEDED, expected)


def test_max_position_counts_held_cost_and_resting_buys() -> None:
    positions = {PositionKey("s1", "t"): held("40", "20")}
    orders = (OpenOrder("s1", "t", Side.BUY, D("0.50"), D(10)),)  # 5.00 reserved
    led = Ledger("s1", D(100), cost_basis_usd=D(20), reserved_usd=D(5), cash_flow_usd=D(-20))
    c = ctx(positions=positions, open_orders=orders, ledger=replace(led, tz=NY))
    assert check(buy("50"), c).approved  # 25 + 25 == 50 (50 % of 100)
    d = check(buy("50.02"), c)
    expected = "position in t 25.00 + trade 25.01 > max 50.00 (50% of 100.00)"
    assert rejected(d, RiskReason.MAX_POSITION, expected)


def test_portfolio_exposure_across_strategies() -> None:
    positions = {PositionKey("s2", "u"): held("60", "30", token="u", strategy="s2")}
    orders = (OpenOrder("s2", "u", Side.BUY, D("0.50"), D(20)),)  # 10.00 reserved
    c = ctx(
        positions=positions, open_orders=orders,
        global_limits=replace(GLOBAL, portfolio_exposure_usd=D(60)),
    )  # fmt: skip
    assert check(buy("40"), c).approved  # 40 + 20 == 60
    d = check(buy("40.02"), c)
    expected = "portfolio exposure 40.00 + trade 20.01 > limit 60.00"
    assert rejected(d, RiskReason.PORTFOLIO_EXPOSURE, expected)


def test_available_capital_covers_notional_and_the_largest_fee() -> None:
    # 50 shares at ≤ 0.50: 25.00 + a fee of at most 50 × 0.07 × 0.25 = 0.875 (+ a cent margin).
    def with_available(avail: str) -> RiskContext:
        led = Ledger("s1", D(100), cash_flow_usd=D(avail) - 100, tz=NY)
        return ctx(ledger=led, fees=FEES)

    d = check(buy("50"), with_available("25.885"))
    assert d.approved and d.max_fee_usd == D("0.885")
    d = check(buy("50"), with_available("25.884"))
    assert rejected(d, RiskReason.INSUFFICIENT_CAPITAL)
    assert d.detail.startswith("cost 25.00 + fee up to 0.88")


def test_venue_minimums() -> None:
    d = check(buy("4.99"), ctx())
    expected = "limit order of 4.99 shares < venue minimum 5 shares"
    assert rejected(d, RiskReason.BELOW_VENUE_MINIMUM, expected)
    assert check(buy("5"), ctx()).approved
    mkt: dict[str, Any] = {"kind": IntentKind.MARKET, "limit_price": None, "shares": None}
    d = check(intent(amount_usd=D("0.99"), **mkt), ctx())
    expected = "marketable order of 0.99 USD < venue minimum 1.00 USD"
    assert rejected(d, RiskReason.BELOW_VENUE_MINIMUM, expected)
    ok = check(intent(amount_usd=D(1), **mkt), ctx())
    assert ok.approved and ok.amount_usd == D(1) and ok.price == D("0.55")  # ask 0.50 + 0.05


def test_off_tick_prices() -> None:
    d = check(intent(limit_price=D("0.004")), ctx())
    assert rejected(d, RiskReason.OFF_TICK)
    assert "outside [0.01, 0.99]" in d.detail
    snapped = check(intent(limit_price=D("0.506")), ctx())
    assert snapped.approved and snapped.price == D("0.50")  # a BUY snaps down


def test_no_liquidity() -> None:
    mkt: dict[str, Any] = {"kind": IntentKind.MARKET, "limit_price": None, "shares": None}
    d = check(intent(amount_usd=D(10), **mkt), ctx(book=None))
    assert rejected(d, RiskReason.NO_LIQUIDITY, "no order book for token t")
    empty = replace(book(), asks=())
    assert rejected(
        check(intent(amount_usd=D(10), **mkt), ctx(book=empty)), RiskReason.NO_LIQUIDITY
    )
    # Within 0.55 the asks hold 1000 × 0.50 + 1000 × 0.52 = 1020 USD: fill-or-kill needs it all.
    big = replace(GLOBAL, max_trade_usd=D(5000), portfolio_exposure_usd=D(5000))
    rich = replace(LIMITS, allocation_usd=D(5000), max_trade_usd=None, max_position_pct=D(100))
    c = ctx(global_limits=big, strategy=rich, ledger=Ledger("s1", D(5000), tz=NY))
    assert check(intent(amount_usd=D(1020), **mkt), c).approved
    d = check(intent(amount_usd=D("1020.01"), **mkt), c)
    assert rejected(d, RiskReason.NO_LIQUIDITY)
    assert "fill-or-kill" in d.detail


# --- exits --------------------------------------------------------------------------------------


def sell(shares: str, **changes: Any) -> OrderIntent:
    mkt = {"kind": IntentKind.MARKET, "limit_price": None, "entry_key": None}
    return intent(Side.SELL, shares=D(shares), **{**mkt, **changes})


def hostile(**changes: Any) -> RiskContext:
    """Every entry limit breached at once; a 100-share position is held."""
    positions = {PositionKey("s1", "t"): held("100", "40")}
    led = Ledger("s1", D(100), cost_basis_usd=D(400), cash_flow_usd=D(-400), tz=NY,
                 daily=(DailyPnl(date(2026, 11, 21), D(-500), D(0)),))  # fmt: skip
    base: dict[str, Any] = {
        "positions": positions, "ledger": led, "paused": True, "entry_exists": True,
        "last_entry_at": NOW, "global_limits": replace(GLOBAL, portfolio_exposure_usd=D(1),
                                                       max_trade_usd=D(1)),
        "strategy": replace(LIMITS, max_trade_usd=D(1), max_position_pct=D(1)),
    }  # fmt: skip
    base.update(changes)
    return ctx(**base)


def test_entries_are_blocked_in_the_hostile_context() -> None:
    assert not check(buy("10"), hostile()).approved


def test_exits_pass_every_entry_limit() -> None:
    d = check(sell("100"), hostile())
    assert d.approved and d.is_exit and d.shares == D(100) and d.price == D("0.43")
    req = to_order_request(sell("100"), "c", tick_size=D("0.01"), price=d.price, shares=d.shares)
    assert req.order_type is OrderType.FAK and req.side is Side.SELL


def test_exit_is_capped_to_unsold_shares() -> None:
    d = check(sell("150"), hostile())
    assert d.approved and d.shares == D(100) and "capped from 150 to held 100" in d.detail
    resting = (OpenOrder("s1", "t", Side.SELL, D("0.6"), D(70)),)
    d = check(sell("150"), hostile(open_orders=resting))
    assert d.approved and d.shares == D(30)
    d = check(sell("10"), hostile(positions={}))
    assert rejected(d, RiskReason.INSUFFICIENT_CAPITAL, "sell 10 of t but s1 has 0 unsold")


def test_exits_still_obey_expiry_rate_and_venue_rules() -> None:
    rate = tuple(NOW for _ in range(5))
    assert rejected(check(sell("100"), hostile(recent_orders=rate)), RiskReason.ORDER_RATE)
    it = sell("100")
    late = hostile(now=it.valid_until)
    assert rejected(check(it, late), RiskReason.INTENT_EXPIRED)
    assert rejected(check(sell("2"), hostile()), RiskReason.BELOW_VENUE_MINIMUM)  # 2 × 0.43
    no_bids = replace(book(), bids=())
    assert rejected(check(sell("100"), hostile(book=no_bids)), RiskReason.NO_LIQUIDITY)


def cheap_book(bid: str) -> OrderBook:
    b = D(bid)
    return OrderBook(
        "t", bids=(Level(b, D(1000)),), asks=(Level(b + D("0.005"), D(1000)),),
        tick_size=D("0.001"), min_order_size=D(5), ts=NOW,
    )  # fmt: skip


def test_a_cheap_stop_loss_is_priced_to_meet_the_venue_minimum() -> None:
    # The slippage floor alone (0.012 - slippage -> 0.001) would make 100 shares a 0.10 USD
    # order, refused by the $1 minimum although the bid is worth 1.20 USD: the worst price
    # is raised to the lowest that meets the minimum, never above the best bid.
    d = check(sell("100"), hostile(book=cheap_book("0.012")))
    assert d.approved and d.price == D("0.010") and d.shares == D(100), d.detail
    # Where even the best bid is worth less than the minimum, the exit is still refused.
    d = check(sell("100"), hostile(book=cheap_book("0.009")))
    assert rejected(d, RiskReason.BELOW_VENUE_MINIMUM)


# --- exit triggers ------------------------------------------------------------------------------

POS = held("100", "40")  # avg 0.40


def test_stop_loss_and_take_profit_thresholds() -> None:
    assert exit_triggers(POS, book(bid="0.29", ask="0.31"), LIMITS) is None  # −27.5 %
    sl = exit_triggers(POS, book(bid="0.28", ask="0.30"), LIMITS)  # −30 %
    assert sl is not None and sl.kind is ExitKind.STOP_LOSS and sl.shares == D(100)
    assert not sl.partial and sl.move_pct == D(-30) and sl.mark_price == D("0.28")
    assert exit_triggers(POS, book(bid="0.59", ask="0.61"), LIMITS) is None  # +47.5 %
    tp = exit_triggers(POS, book(bid="0.60", ask="0.62"), LIMITS)  # +50 %
    assert tp is not None and tp.kind is ExitKind.TAKE_PROFIT and tp.shares == D(100)


def test_overrides_and_partial_exits() -> None:
    tight = ExitOverrides(stop_loss_pct=D(10), take_profit_fraction=D("0.5"))
    sl = exit_triggers(POS, book(bid="0.36", ask="0.38"), LIMITS, tight)  # −10 %
    assert sl is not None and sl.kind is ExitKind.STOP_LOSS
    tp = exit_triggers(POS, book(bid="0.60", ask="0.62"), LIMITS, tight)
    assert tp is not None and tp.partial and tp.shares == D(50)
    done = replace(tight, partial_done=frozenset({ExitKind.TAKE_PROFIT}))
    assert exit_triggers(POS, book(bid="0.60", ask="0.62"), LIMITS, done) is None
    half_sl = ExitOverrides(
        stop_loss_fraction=D("0.5"), partial_done=frozenset({ExitKind.STOP_LOSS})
    )
    again = exit_triggers(POS, book(bid="0.20", ask="0.22"), LIMITS, half_sl)
    assert again is not None and again.shares == D(100) and not again.partial


def test_partial_exit_never_leaves_an_unsellable_stub() -> None:
    small = held("8", "3.2")  # avg 0.40; half would leave 4 < 5 shares
    half = ExitOverrides(take_profit_fraction=D("0.5"))
    sig = exit_triggers(small, book(bid="0.60", ask="0.62"), LIMITS, half)
    assert sig is not None and sig.shares == D(8) and not sig.partial


def test_no_trigger_without_limits_bid_or_position() -> None:
    bare = replace(LIMITS, stop_loss_pct=None, take_profit_pct=None)
    assert exit_triggers(POS, book(bid="0.03", ask="0.05"), bare) is None
    assert exit_triggers(POS, replace(book(), bids=()), LIMITS) is None
    assert exit_triggers(held("0", "0"), book(bid="0.03", ask="0.05"), LIMITS) is None


def test_exit_intent_goes_through_the_same_check() -> None:
    sig = exit_triggers(POS, book(bid="0.28", ask="0.30"), LIMITS)
    assert sig is not None
    it = exit_intent(sig, intent_id="x1", market_slug="m", outcome="Up", now=NOW,
                     valid_for=timedelta(seconds=30))  # fmt: skip
    assert it.side is Side.SELL and it.reason == "stop_loss" and it.shares == D(100)
    d = check(it, hostile(book=book(bid="0.28", ask="0.30")))
    assert d.approved and d.price == D("0.23")


# --- properties -----------------------------------------------------------------------------------


SIM_LIMITS = {
    "a": StrategyLimits("a", D(60), D(50), D(5), max_trade_usd=None, cooldown_secs=0),
    "b": StrategyLimits("b", D(40), D(100), D(3), max_trade_usd=D(20), cooldown_secs=30),
    "c": StrategyLimits("c", D(150), D(50), D(1000), max_trade_usd=D(50), cooldown_secs=0),
}
SIM_GLOBAL = GlobalLimits(
    max_trade_usd=D(60), portfolio_exposure_usd=D(200), max_orders_per_minute=6
)
MIDS = [D(x) for x in ("0.10", "0.30", "0.50", "0.70", "0.90")]


class Sim:
    """A tiny world: approved orders fill against the book level by level (taker fees), limit
    orders that do not cross rest forever (their cash stays reserved)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 4, 57, tzinfo=UTC)  # 23:57 in New York: a day ends
        self.fills: list[StrategyFill] = []
        self.orders: list[OpenOrder] = []
        self.sent: list[datetime] = []
        self.last_entry: dict[str, datetime] = {}
        self.entered: set[tuple[str, str]] = set()
        self.n = 0

    def context(self, it: OrderIntent, bk: OrderBook) -> RiskContext:
        run = replay(self.fills)
        lim = SIM_LIMITS[it.strategy]
        led = Ledger.from_replay(it.strategy, lim.allocation_usd, run, self.orders, NY)
        return RiskContext(
            now=self.now, strategy=lim, global_limits=SIM_GLOBAL, ledger=led,
            positions=run.positions, book=bk, open_orders=tuple(self.orders),
            recent_orders=tuple(self.sent), last_entry_at=self.last_entry.get(it.strategy),
            entry_exists=(it.strategy, it.entry_key or "") in self.entered, fees=FEES,
        )  # fmt: skip

    def execute(self, it: OrderIntent, d: RiskDecision, bk: OrderBook) -> None:
        self.sent.append(self.now)
        if it.side is Side.BUY:
            self.last_entry[it.strategy] = self.now
            self.entered.add((it.strategy, it.entry_key or ""))
        assert d.price is not None
        walk = bk.walk(it.side, shares=d.shares, usd=d.amount_usd, limit_price=d.price)
        for level in walk.levels:
            self.n += 1
            fee = FEES.taker_fee(level.size, level.price)
            f = Fill(f"t{self.n}", "o", it.token_id, it.side, level.price, level.size, fee,
                     self.now, "taker")  # fmt: skip
            self.fills.append(StrategyFill(it.strategy, f))
        if it.kind is IntentKind.LIMIT and d.shares is not None and walk.shares < d.shares:
            left = d.shares - walk.shares
            self.orders.append(OpenOrder(it.strategy, it.token_id, it.side, d.price, left))


def sim_book(token: str, mid: D) -> OrderBook:
    return book(token, bid=str(mid - D("0.01")), ask=str(mid + D("0.01")), size=300)


TOKENS = ["x", "y", "z", "w"]


@st.composite
def sim_intent(draw: st.DrawFn, sim: Sim, n: int, mid: D) -> OrderIntent:
    """A random intent; sells mostly target what the strategy holds (else they are trivial)."""
    strategy = draw(st.sampled_from(sorted(SIM_LIMITS)))
    side = draw(st.sampled_from([Side.BUY, Side.BUY, Side.SELL]))
    kind = draw(st.sampled_from(list(IntentKind)))
    by_usd = side is Side.BUY and draw(st.booleans())
    cents = st.integers(50, 8000) if by_usd else st.integers(100, 15000)
    size = D(draw(cents)) / 100
    amount, shares = (size, None) if by_usd else (None, size)
    held = sorted(k.token_id for k, p in replay(sim.fills).positions.items()
                  if k.strategy == strategy and p.is_open)  # fmt: skip
    tokens = held if side is Side.SELL and held and draw(st.integers(0, 4)) else TOKENS
    # Limits near the book (most cross and fill), now and then far from it (they rest).
    offsets = st.sampled_from([D(x) / 100 for x in range(-6, 7)])
    limit = draw(st.one_of(offsets.map(lambda o: mid + o), st.decimals(D("0.05"), D("0.95"))))
    limit = min(max(limit.quantize(D("0.01")), D("0.02")), D("0.98"))
    return OrderIntent(
        id=f"i{n}", strategy=strategy, market_slug="m", token_id=draw(st.sampled_from(tokens)),
        outcome="Up", side=side, kind=kind, amount_usd=amount, shares=shares,
        limit_price=limit if kind is IntentKind.LIMIT or draw(st.booleans()) else None,
        valid_until=sim.now + timedelta(seconds=30),
        entry_key=f"w{draw(st.integers(0, 40))}" if side is Side.BUY else None,
        reason="prop", created_at=sim.now - timedelta(seconds=1),
    )  # fmt: skip


def assert_within_limits(sim: Sim) -> tuple[float, float]:
    """Assert every limit holds; return (highest deployed / allocation, highest loss) to steer
    the search towards the edges."""
    run = replay(sim.fills)
    deployed = lost = 0.0
    for name, lim in SIM_LIMITS.items():
        led = Ledger.from_replay(name, lim.allocation_usd, run, sim.orders, NY)
        assert led.balanced()
        assert led.deployed_usd <= lim.allocation_usd, (name, led)
        assert led.available_usd >= 0, (name, led)
        deployed = max(deployed, float(led.deployed_usd / lim.allocation_usd))
        lost = max(lost, float(-led.net_pnl_usd / lim.allocation_usd))
    for key, pos in run.positions.items():
        exposure = (pos.cost_basis_usd if pos.is_open else 0) + reserved_usd(sim.orders, key)
        assert exposure <= SIM_LIMITS[key.strategy].max_position_usd, (key, exposure)
    assert (
        portfolio_exposure(run.positions.values(), sim.orders) <= SIM_GLOBAL.portfolio_exposure_usd
    )
    for t in sim.sent:
        in_window = [x for x in sim.sent if t - timedelta(seconds=60) < x <= t]
        assert len(in_window) <= SIM_GLOBAL.max_orders_per_minute
    return deployed, lost


def day_loss(sim: Sim, strategy: str) -> D:
    """Net realized loss of ``strategy`` today (New York), from the P&L events."""
    today = day_of(sim.now, NY)
    events = [e for e in replay(sim.fills).events if e.key.strategy == strategy]
    return -sum((e.net_usd for e in events if day_of(e.ts, NY) == today), D(0))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_intents_never_breach_a_limit(data: st.DataObject) -> None:
    sim = Sim()
    edge = (0.0, 0.0)
    for step in range(data.draw(st.integers(10, 60))):
        sim.now += timedelta(seconds=data.draw(st.integers(0, 10)))
        mid = data.draw(st.sampled_from(MIDS))
        it = data.draw(sim_intent(sim, step, mid))
        bk = sim_book(it.token_id, mid)
        d = check(it, sim.context(it, bk))
        if not d.approved:
            assert d.reason is not None and d.detail
            continue
        lim = SIM_LIMITS[it.strategy]
        if it.side is Side.BUY:
            assert day_loss(sim, it.strategy) < lim.daily_loss_usd
            caps = [SIM_GLOBAL.max_trade_usd, lim.max_trade_usd or SIM_GLOBAL.max_trade_usd]
            assert d.notional_usd <= min(caps)
            prev = sim.last_entry.get(it.strategy)
            assert prev is None or sim.now - prev >= timedelta(seconds=lim.cooldown_secs)
        sim.execute(it, d, bk)
        now_edge = assert_within_limits(sim)
        edge = (max(edge[0], now_edge[0]), max(edge[1], now_edge[1]))
    target(edge[0], label="deployed / allocation")
    target(edge[1], label="net loss / allocation")


@settings(max_examples=200, deadline=None)
@given(
    shares=st.decimals(D(10), D(500), places=2),
    want=st.decimals(D("0.01"), D(800), places=2),
    avg=st.decimals(D("0.05"), D("0.95"), places=2),
    mid=st.sampled_from(MIDS[1:]),
    paused=st.booleans(),
    exists=st.booleans(),
    cooled=st.booleans(),
    loss=st.decimals(D(0), D(10_000), places=2),
    deployed=st.decimals(D(0), D(10_000), places=2),
    rate=st.integers(0, 4),
)
def test_exits_are_never_blocked_by_entry_limits(
    shares: D, want: D, avg: D, mid: D, paused: bool, exists: bool, cooled: bool, loss: D,
    deployed: D, rate: int,
) -> None:  # fmt: skip
    bk = book("t", bid=str(mid - D("0.01")), ask=str(mid + D("0.01")), size=1000)
    pos = Position("s1", "t", shares=shares, cost_basis_usd=shares * avg)
    led = Ledger("s1", D(100), cost_basis_usd=deployed, cash_flow_usd=-deployed, tz=NY,
                 daily=(DailyPnl(date(2026, 11, 21), -loss, D(0)),))  # fmt: skip
    c = ctx(
        book=bk, positions={pos.key: pos}, ledger=led, paused=paused, entry_exists=exists,
        last_entry_at=NOW if cooled else None, recent_orders=(NOW,) * rate,
        global_limits=replace(GLOBAL, portfolio_exposure_usd=D(1), max_trade_usd=D(1)),
        strategy=replace(LIMITS, max_trade_usd=D(1), max_position_pct=D(1)),
    )  # fmt: skip
    d = check(sell(str(want)), c)
    # Only the venue's $1 minimum may refuse (a tiny sell at the worst price).
    if want * (mid - D("0.06")) < 1:
        assert d.reason in (None, RiskReason.BELOW_VENUE_MINIMUM)
        return
    assert d.approved and d.is_exit, d
    assert d.shares == min(want, shares)


@settings(max_examples=600, deadline=None)
@given(
    data=st.data(),
    deployed=st.integers(3_000, 10_000).map(lambda c: D(c) / 100),
    reserved=st.integers(0, 1_000).map(lambda c: D(c) / 100),
    net=st.integers(-10_000, 10_000).map(lambda c: D(c) / 100),
    today=st.one_of(
        st.sampled_from([D(-50), D("-49.99")]), st.integers(-8_000, 0).map(lambda c: D(c) / 100)
    ),
    token_cost=st.integers(0, 4_000).map(lambda c: D(c) / 100),
    other=st.integers(20_000, 30_000).map(lambda c: D(c) / 100),
    mid=st.sampled_from(MIDS),
)
def test_any_approved_entry_fits_every_limit(
    data: st.DataObject, deployed: D, reserved: D, net: D, today: D, token_cost: D, other: D,
    mid: D,
) -> None:  # fmt: skip
    """Whatever the state, an approved entry fits every limit after the trade, and what it can
    actually spend (walking the book) is within the notional and fee it was approved for."""
    lim = StrategyLimits("s1", D(100), D(60), D(50), max_trade_usd=D(45))
    glob = GlobalLimits(D(60), D(300), 5)
    held_pos = Position("s1", "t", shares=token_cost * 2, cost_basis_usd=token_cost)
    others = Position("s2", "u", shares=other * 2, cost_basis_usd=other)
    led = Ledger("s1", D(100), realized_pnl_usd=net, cost_basis_usd=deployed,
                 reserved_usd=reserved, cash_flow_usd=net - deployed, tz=NY,
                 daily=(DailyPnl(date(2026, 11, 21), today, D(0)),))  # fmt: skip
    bk = book("t", bid=str(mid - D("0.01")), ask=str(mid + D("0.01")), size=2000)
    c = ctx(strategy=lim, global_limits=glob, ledger=led, book=bk, fees=FEES,
            positions={held_pos.key: held_pos, others.key: others},
            recent_orders=(NOW,) * data.draw(st.integers(0, 5)))  # fmt: skip
    # Aim the trade at one limit's remaining headroom, give or take a little.
    headroom = data.draw(st.sampled_from([
        lim.allocation_usd - led.deployed_usd, lim.max_position_usd - token_cost,
        glob.portfolio_exposure_usd - token_cost - other, led.available_usd, D(45), D(60),
    ]))  # fmt: skip
    budget = min(headroom, D(45)) + D(data.draw(st.integers(-150, 150))) / 100
    if budget < 1:
        return
    kind = data.draw(st.sampled_from(["limit", "market_shares", "market_usd"]))
    price = mid + D("0.01") if kind == "limit" else mid + D("0.06")  # the order's worst price
    shares = (budget / price).quantize(D("0.01"))
    it = intent(
        kind=IntentKind.LIMIT if kind == "limit" else IntentKind.MARKET,
        limit_price=price if kind == "limit" else None,
        shares=None if kind == "market_usd" else shares,
        amount_usd=budget if kind == "market_usd" else None,
    )
    d = check(it, c)
    if not d.approved:
        return
    n = d.notional_usd
    assert -today < lim.daily_loss_usd and len(c.recent_orders) < glob.max_orders_per_minute
    assert n <= min(lim.max_trade_usd or n, glob.max_trade_usd)
    assert led.deployed_usd + n <= lim.allocation_usd
    assert token_cost + n <= lim.max_position_usd
    assert token_cost + other + n <= glob.portfolio_exposure_usd
    assert n + d.max_fee_usd <= led.available_usd
    walk = bk.walk(Side.BUY, shares=d.shares, usd=d.amount_usd, limit_price=d.price)
    assert walk.usd <= n
    fees = sum((FEES.taker_fee(lv.size, lv.price) for lv in walk.levels), D(0))
    assert fees <= d.max_fee_usd
