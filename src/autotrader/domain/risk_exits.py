"""Stop-loss and take-profit: when a held position should be (partly) sold.

Moves are measured from the position's average entry price (fees excluded, see positions.py)
to the best bid — the price an exit would actually get, not the midpoint. Thresholds come
from the strategy's limits, overridden per position by ``ExitOverrides``.

Partial exits: ``*_fraction`` of the held shares is sold (0.01-share grid, rounded down). A
partial exit that would leave fewer shares than the venue's resting minimum — or sell none —
sells everything instead, so no unsellable stub is left behind. Once a kind's partial exit has
been done (the caller records it in ``partial_done``), take-profit no longer fires (the rest
rides, protected by the stop-loss) and stop-loss sells everything (it never leaves a position
unprotected).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from autotrader.domain.book import OrderBook
from autotrader.domain.intents import IntentKind, OrderIntent
from autotrader.domain.money import round_shares
from autotrader.domain.orders import Side
from autotrader.domain.positions import Position, PositionKey
from autotrader.domain.risk_limits import VENUE_MIN_RESTING_SHARES, StrategyLimits

ONE = Decimal(1)


class ExitKind(StrEnum):
    """Why a position is exited; also the exit intent's ``reason``."""

    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"


@dataclass(frozen=True)
class ExitOverrides:
    """Per-position overrides of the strategy's exit limits."""

    stop_loss_pct: Decimal | None = None
    take_profit_pct: Decimal | None = None
    stop_loss_fraction: Decimal = ONE
    take_profit_fraction: Decimal = ONE
    partial_done: frozenset[ExitKind] = frozenset()

    def __post_init__(self) -> None:
        for name in ("stop_loss_pct", "take_profit_pct"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, Decimal) or value <= 0):
                raise ValueError(f"{name} must be a Decimal > 0 (got {value!r})")
        for name in ("stop_loss_fraction", "take_profit_fraction"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not 0 < value <= 1:
                raise ValueError(f"{name} must be a Decimal in (0, 1] (got {value!r})")
        object.__setattr__(self, "partial_done", frozenset(map(ExitKind, self.partial_done)))


NO_OVERRIDES = ExitOverrides()


@dataclass(frozen=True)
class ExitSignal:
    """Sell ``shares`` of ``key`` because of ``kind``; ``partial`` when not everything."""

    kind: ExitKind
    key: PositionKey
    shares: Decimal
    partial: bool
    mark_price: Decimal
    avg_price: Decimal
    move_pct: Decimal
    detail: str


def exit_triggers(
    position: Position,
    book: OrderBook,
    limits: StrategyLimits,
    overrides: ExitOverrides = NO_OVERRIDES,
) -> ExitSignal | None:
    """The exit ``position`` needs now against ``book``, or None."""
    avg = position.avg_price
    bid = book.best_bid
    if avg is None or avg == 0 or bid is None or book.token_id != position.token_id:
        return None
    move = (bid - avg) / avg * 100
    stop = overrides.stop_loss_pct or limits.stop_loss_pct
    take = overrides.take_profit_pct or limits.take_profit_pct
    if stop is not None and move <= -stop:
        done = ExitKind.STOP_LOSS in overrides.partial_done
        fraction = ONE if done else overrides.stop_loss_fraction
        kind, threshold = ExitKind.STOP_LOSS, -stop
    elif take is not None and move >= take and ExitKind.TAKE_PROFIT not in overrides.partial_done:
        fraction, kind, threshold = overrides.take_profit_fraction, ExitKind.TAKE_PROFIT, take
    else:
        return None
    shares, partial = _exit_size(position.shares, fraction, book.min_order_size)
    if shares <= 0:
        return None  # only dust (< 0.01 share) is held: nothing the venue can take
    sign = "≤" if kind is ExitKind.STOP_LOSS else "≥"
    detail = (
        f"{kind} on {position.token_id}: bid {bid} vs avg {avg:.4f} = {move:+.2f}% "
        f"{sign} {threshold:+}%, selling {shares} of {position.shares}"
    )
    return ExitSignal(kind, position.key, shares, partial, bid, avg, move, detail)


def _exit_size(held: Decimal, fraction: Decimal, min_size: Decimal) -> tuple[Decimal, bool]:
    full = round_shares(held)
    if fraction >= 1:
        return full, False
    part = round_shares(held * fraction)
    if part <= 0 or held - part < max(min_size, VENUE_MIN_RESTING_SHARES):
        return full, False
    return part, True


def exit_intent(
    signal: ExitSignal,
    *,
    intent_id: str,
    market_slug: str,
    outcome: str,
    now: datetime,
    valid_for: timedelta,
) -> OrderIntent:
    """A market SELL intent for ``signal``; risk prices it from the book and its slippage cap."""
    return OrderIntent(
        id=intent_id,
        strategy=signal.key.strategy,
        market_slug=market_slug,
        token_id=signal.key.token_id,
        outcome=outcome,
        side=Side.SELL,
        kind=IntentKind.MARKET,
        amount_usd=None,
        shares=signal.shares,
        limit_price=None,
        valid_until=now + valid_for,
        entry_key=None,
        reason=str(signal.kind),
        created_at=now,
    )
