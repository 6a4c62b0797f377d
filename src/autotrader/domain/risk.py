"""The risk check: every limit, before every order. Pure: everything comes in a ``RiskContext``.

Entries (BUY intents) pass, in order: expiry, pause, one entry per entry_key, cooldown, daily
loss, order rate, price/tick/liquidity, venue minimums, max trade size, allocation, max
position, portfolio exposure and available capital. The first failure is the reason.

Exits (SELL intents, which always reduce a held position) pass only expiry, order rate and
the venue's rules (tick, liquidity, minimums). Pause, daily loss, allocation, max position, max
trade, exposure, cooldown and duplicate entry never block them: a stop-loss must be able to
sell. A sell of more than is held (less what our resting sells already offer) is capped to
that; a sell of nothing held is refused (INSUFFICIENT_CAPITAL). The order rate is a global
order-flow limit, not an entry limit: an exit it defers is re-proposed by the next position
check.

Boundaries: size limits are inclusive maxima (exactly at the limit is allowed). The daily loss
limit is *reached* at equality (a loss of 50.00 against 50.00 blocks entries). The rate allows
``max_orders_per_minute`` orders in any trailing 60 s; cooldown blocks while less than
``cooldown_secs`` have passed since the last entry.

Amounts: the notional checked against limits is an upper bound of what the order can spend —
shares × limit (or worst) price, or the USD amount of a market buy. Capital must also cover the
largest taker fee the order could pay. Market orders without a limit price get a worst price of
best ask + ``max_slippage`` (BUY) or best bid − ``max_slippage`` (SELL).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from autotrader.domain.book import OrderBook
from autotrader.domain.fees import FREE, FeeSchedule
from autotrader.domain.intents import OrderIntent
from autotrader.domain.ledger import Ledger, OpenOrder, portfolio_exposure, reserved_usd
from autotrader.domain.orders import Side
from autotrader.domain.positions import Position, PositionKey
from autotrader.domain.risk_exits import (
    NO_OVERRIDES,
    ExitKind,
    ExitOverrides,
    ExitSignal,
    exit_intent,
    exit_triggers,
)
from autotrader.domain.risk_limits import (
    ORDER_RATE_WINDOW_SECS,
    GlobalLimits,
    RiskReason,
    StrategyLimits,
)
from autotrader.domain.risk_quote import Quote, quote

__all__ = [
    "NO_OVERRIDES",
    "ExitKind",
    "ExitOverrides",
    "ExitSignal",
    "GlobalLimits",
    "RiskContext",
    "RiskDecision",
    "RiskReason",
    "StrategyLimits",
    "check",
    "exit_intent",
    "exit_triggers",
]

ZERO = Decimal(0)


def _usd(x: Decimal) -> str:
    return f"{x:.2f}"


@dataclass(frozen=True)
class RiskContext:
    """Everything the check needs, gathered by the executor.

    ``positions`` and ``open_orders`` cover all strategies (portfolio exposure); ``ledger`` is
    the intent's strategy's (built with the same open orders, in the configured time zone:
    the daily loss limit uses its calendar day); ``recent_orders`` are the send
    times of all orders (the rate is global); ``last_entry_at`` and ``entry_exists`` are about
    the intent's strategy and ``entry_key``; ``book`` is the intent's token's.
    """

    now: datetime
    strategy: StrategyLimits
    global_limits: GlobalLimits
    ledger: Ledger
    positions: Mapping[PositionKey, Position]
    book: OrderBook | None
    open_orders: tuple[OpenOrder, ...] = ()
    recent_orders: tuple[datetime, ...] = ()
    paused: bool = False
    paused_reason: str = ""
    last_entry_at: datetime | None = None
    entry_exists: bool = False
    fees: FeeSchedule = FREE
    max_slippage: Decimal = Decimal("0.05")

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError(f"risk context now must be timezone-aware (got {self.now})")
        if self.ledger.strategy != self.strategy.name:
            raise ValueError(
                f"ledger is {self.ledger.strategy!r}'s, limits are {self.strategy.name!r}'s"
            )
        object.__setattr__(self, "open_orders", tuple(self.open_orders))
        object.__setattr__(self, "recent_orders", tuple(self.recent_orders))


@dataclass(frozen=True)
class RiskDecision:
    """The verdict. When approved: the order's (capped) size or USD amount and its price."""

    approved: bool
    reason: RiskReason | None
    detail: str
    shares: Decimal | None = None
    amount_usd: Decimal | None = None
    price: Decimal | None = None
    notional_usd: Decimal = ZERO
    max_fee_usd: Decimal = ZERO
    is_exit: bool = False

    @classmethod
    def reject(cls, reason: RiskReason, detail: str, *, is_exit: bool = False) -> RiskDecision:
        """A rejection with its code and one-line detail."""
        return cls(False, reason, detail, is_exit=is_exit)

    @classmethod
    def approve(cls, q: Quote, detail: str, *, is_exit: bool) -> RiskDecision:
        """An approval carrying the quoted order."""
        return cls(
            True, None, detail, q.shares, q.amount_usd, q.price, q.notional_usd, q.max_fee_usd,
            is_exit,
        )  # fmt: skip


Verdict = tuple[RiskReason, str] | None


def check(intent: OrderIntent, ctx: RiskContext) -> RiskDecision:
    """Approve or reject ``intent`` under ``ctx`` (see the module docstring)."""
    if intent.strategy != ctx.strategy.name:
        raise ValueError(
            f"intent {intent.id} is {intent.strategy!r}'s, not {ctx.strategy.name!r}'s"
        )
    if intent.expired(ctx.now):
        until = intent.valid_until.isoformat()
        return RiskDecision.reject(
            RiskReason.INTENT_EXPIRED, f"intent valid until {until}, now {ctx.now.isoformat()}"
        )
    if intent.side is Side.SELL:
        return _check_exit(intent, ctx)
    return _check_entry(intent, ctx)


def _check_exit(intent: OrderIntent, ctx: RiskContext) -> RiskDecision:
    key = PositionKey(intent.strategy, intent.token_id)
    pos = ctx.positions.get(key)
    # Shares already offered by our resting sells are not ours to sell twice.
    offered = sum(
        (o.remaining for o in ctx.open_orders
         if o.side is Side.SELL and (o.strategy, o.token_id) == key),
        ZERO,
    )  # fmt: skip
    held = max((pos.shares if pos is not None else ZERO) - offered, ZERO)
    assert intent.shares is not None  # SELL intents are sized in shares (OrderIntent)
    wanted = min(intent.shares, held)
    for verdict in (_held(intent, held), _rate(ctx)):
        if verdict is not None:
            return RiskDecision.reject(*verdict, is_exit=True)
    q = quote(intent, ctx.book, ctx.fees, ctx.max_slippage, shares=wanted)
    if isinstance(q, tuple):
        return RiskDecision.reject(*q, is_exit=True)
    capped = f" (capped from {intent.shares} to held {held})" if intent.shares > held else ""
    return RiskDecision.approve(q, f"exit: sell {q.shares} @ ≥ {q.price}{capped}", is_exit=True)


def _held(intent: OrderIntent, held: Decimal) -> Verdict:
    if held >= Decimal("0.01"):
        return None
    return RiskReason.INSUFFICIENT_CAPITAL, (
        f"sell {intent.shares} of {intent.token_id} but {intent.strategy} has {held} unsold"
    )


def _check_entry(intent: OrderIntent, ctx: RiskContext) -> RiskDecision:
    for gate in (_paused, _duplicate, _cooldown, _daily_loss):
        verdict = gate(intent, ctx)
        if verdict is not None:
            return RiskDecision.reject(*verdict)
    rate = _rate(ctx)
    if rate is not None:
        return RiskDecision.reject(*rate)
    q = quote(intent, ctx.book, ctx.fees, ctx.max_slippage)
    if isinstance(q, tuple):
        return RiskDecision.reject(*q)
    for limit in (_max_trade, _allocation, _max_position, _portfolio, _capital):
        verdict = limit(intent, ctx, q)
        if verdict is not None:
            return RiskDecision.reject(*verdict)
    what = f"{q.shares} shares" if q.shares is not None else f"${q.amount_usd}"
    return RiskDecision.approve(
        q, f"entry: buy {what} @ ≤ {q.price} (≤ {_usd(q.notional_usd)} USD)", is_exit=False
    )


# --- gates before pricing ---------------------------------------------------------------------


def _paused(intent: OrderIntent, ctx: RiskContext) -> Verdict:
    if not ctx.paused:
        return None
    why = f": {ctx.paused_reason}" if ctx.paused_reason else ""
    return RiskReason.STRATEGY_PAUSED, f"strategy {intent.strategy} is paused{why}"


def _duplicate(intent: OrderIntent, ctx: RiskContext) -> Verdict:
    if intent.entry_key is None or not ctx.entry_exists:
        return None
    return RiskReason.DUPLICATE_ENTRY, (
        f"{intent.strategy} already entered {intent.entry_key} (one entry per window/market)"
    )


def _cooldown(intent: OrderIntent, ctx: RiskContext) -> Verdict:
    last, secs = ctx.last_entry_at, ctx.strategy.cooldown_secs
    if last is None or secs <= 0:
        return None
    since = ctx.now - last
    if since >= timedelta(seconds=secs):
        return None
    return RiskReason.COOLDOWN, (
        f"last entry {since.total_seconds():.0f}s ago < cooldown {secs:g}s"
    )


def _daily_loss(intent: OrderIntent, ctx: RiskContext) -> Verdict:
    today = ctx.ledger.today(ctx.now)
    loss, limit = -today.net_usd, ctx.strategy.daily_loss_usd
    if loss < limit:
        return None
    return RiskReason.DAILY_LOSS_LIMIT, (
        f"daily loss {_usd(loss)} ≥ limit {_usd(limit)} "
        f"({ctx.ledger.tz} day {today.day.isoformat()})"
    )


def _rate(ctx: RiskContext) -> Verdict:
    start = ctx.now - timedelta(seconds=ORDER_RATE_WINDOW_SECS)
    count = sum(1 for ts in ctx.recent_orders if start < ts <= ctx.now)
    limit = ctx.global_limits.max_orders_per_minute
    if count < limit:
        return None
    return RiskReason.ORDER_RATE, (
        f"{count} orders in the last {ORDER_RATE_WINDOW_SECS}s ≥ limit {limit}/min"
    )


# --- limits on the priced order ---------------------------------------------------------------


def _max_trade(intent: OrderIntent, ctx: RiskContext, q: Quote) -> Verdict:
    cap, scope = ctx.global_limits.max_trade_usd, "global"
    own = ctx.strategy.max_trade_usd
    if own is not None and own < cap:
        cap, scope = own, "strategy"
    if q.notional_usd <= cap:
        return None
    return RiskReason.MAX_TRADE_SIZE, (
        f"trade {_usd(q.notional_usd)} > max trade {_usd(cap)} ({scope})"
    )


def _allocation(intent: OrderIntent, ctx: RiskContext, q: Quote) -> Verdict:
    deployed, alloc = ctx.ledger.deployed_usd, ctx.strategy.allocation_usd
    if deployed + q.notional_usd <= alloc:
        return None
    return RiskReason.ALLOCATION_EXCEEDED, (
        f"deployed {_usd(deployed)} + trade {_usd(q.notional_usd)} > allocation {_usd(alloc)}"
    )


def _max_position(intent: OrderIntent, ctx: RiskContext, q: Quote) -> Verdict:
    key = PositionKey(intent.strategy, intent.token_id)
    pos = ctx.positions.get(key)
    held = pos.cost_basis_usd if pos is not None and pos.is_open else ZERO
    current = held + reserved_usd(ctx.open_orders, key)
    cap = ctx.strategy.max_position_usd
    if current + q.notional_usd <= cap:
        return None
    return RiskReason.MAX_POSITION, (
        f"position in {intent.token_id} {_usd(current)} + trade {_usd(q.notional_usd)} > max "
        f"{_usd(cap)} ({ctx.strategy.max_position_pct}% of {_usd(ctx.strategy.allocation_usd)})"
    )


def _portfolio(intent: OrderIntent, ctx: RiskContext, q: Quote) -> Verdict:
    current = portfolio_exposure(ctx.positions.values(), ctx.open_orders)
    cap = ctx.global_limits.portfolio_exposure_usd
    if current + q.notional_usd <= cap:
        return None
    return RiskReason.PORTFOLIO_EXPOSURE, (
        f"portfolio exposure {_usd(current)} + trade {_usd(q.notional_usd)} > limit {_usd(cap)}"
    )


def _capital(intent: OrderIntent, ctx: RiskContext, q: Quote) -> Verdict:
    available = ctx.ledger.available_usd
    need = q.notional_usd + q.max_fee_usd
    if need <= available:
        return None
    return RiskReason.INSUFFICIENT_CAPITAL, (
        f"cost {_usd(q.notional_usd)} + fee up to {_usd(q.max_fee_usd)} "
        f"> available {_usd(available)}"
    )
