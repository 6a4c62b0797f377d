"""The ledger per strategy: allocated, deployed, available, realized P&L, fees — always balanced.

Definitions (positions.py fixes the accounting: cost basis and realized P&L exclude fees):

* ``allocated`` — the strategy's ``allocation_usd`` from the YAML.
* ``deployed`` — cost basis of open positions + USD reserved by resting BUY orders
  (price × unfilled size; makers pay no fee under today's schedules).
* ``available`` — computed independently from the cash flows: allocated + Σ cash deltas of
  fills and settlements − reserved. Fees are cash out, so they reduce it.
* ``realized_pnl`` (gross of fees) and ``fees``.

The invariant ``allocated + realized_pnl − fees == available + deployed`` then holds exactly
when the position accounting is right (both sides come from different sums), which is why
``balanced()`` is a real check and not a tautology.

Daily P&L for the loss limit is **net realized** (realized − fees) per calendar day in the
configured time zone. Unrealized losses do not count: the stop-loss handles those.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal

from autotrader.domain.orders import Side, VenueOrder
from autotrader.domain.positions import (
    PnlEvent,
    Position,
    PositionKey,
    Replay,
    StrategyFill,
    StrategySettlement,
    replay,
)

ZERO = Decimal(0)


@dataclass(frozen=True)
class OpenOrder:
    """A resting (or in-flight) order of a strategy: what it may still spend."""

    strategy: str
    token_id: str
    side: Side
    price: Decimal
    remaining: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "side", Side(self.side))
        for name in ("price", "remaining"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise ValueError(f"open order {name} must be a Decimal >= 0 (got {value!r})")

    @classmethod
    def from_venue(cls, strategy: str, order: VenueOrder) -> OpenOrder:
        """The exposure of a venue order (nothing once it is terminal)."""
        remaining = ZERO if order.status.terminal else order.remaining
        return cls(strategy, order.token_id, order.side, order.price, remaining)

    @property
    def reserved_usd(self) -> Decimal:
        """USD a BUY may still spend; a SELL reserves shares, not cash."""
        return self.price * self.remaining if self.side is Side.BUY else ZERO


def day_of(ts: datetime, tz: tzinfo) -> date:
    """The calendar day of ``ts`` in ``tz``."""
    if ts.tzinfo is None:
        raise ValueError(f"timestamp must be timezone-aware (got {ts})")
    return ts.astimezone(tz).date()


@dataclass(frozen=True, slots=True)
class DailyPnl:
    """Realized P&L and fees of one strategy on one calendar day."""

    day: date
    realized_usd: Decimal
    fees_usd: Decimal

    @property
    def net_usd(self) -> Decimal:
        """Realized minus fees; negative is a loss."""
        return self.realized_usd - self.fees_usd


def daily_pnl(events: Iterable[PnlEvent], tz: tzinfo) -> tuple[DailyPnl, ...]:
    """``events`` summed per calendar day in ``tz``, oldest day first."""
    sums: dict[date, tuple[Decimal, Decimal]] = {}
    for ev in events:
        day = day_of(ev.ts, tz)
        realized, fees = sums.get(day, (ZERO, ZERO))
        sums[day] = (realized + ev.realized_usd, fees + ev.fee_usd)
    return tuple(DailyPnl(d, r, f) for d, (r, f) in sorted(sums.items()))


@dataclass(frozen=True, slots=True)
class Ledger:
    """One strategy's money (see the module docstring for the definitions)."""

    strategy: str
    allocated_usd: Decimal
    realized_pnl_usd: Decimal = ZERO
    fees_usd: Decimal = ZERO
    cost_basis_usd: Decimal = ZERO
    reserved_usd: Decimal = ZERO
    cash_flow_usd: Decimal = ZERO
    daily: tuple[DailyPnl, ...] = ()
    tz: tzinfo = UTC  # the zone ``daily`` was summed in

    def __post_init__(self) -> None:
        if not isinstance(self.allocated_usd, Decimal) or self.allocated_usd < 0:
            raise ValueError(f"allocated_usd must be a Decimal >= 0 (got {self.allocated_usd!r})")

    @property
    def deployed_usd(self) -> Decimal:
        """Cost basis of open positions + reserved for resting buys."""
        return self.cost_basis_usd + self.reserved_usd

    @property
    def available_usd(self) -> Decimal:
        """Cash the strategy may still spend: allocated + cash flows − reserved."""
        return self.allocated_usd + self.cash_flow_usd - self.reserved_usd

    @property
    def net_pnl_usd(self) -> Decimal:
        """Realized P&L minus fees."""
        return self.realized_pnl_usd - self.fees_usd

    @property
    def imbalance_usd(self) -> Decimal:
        """(allocated + realized − fees) − (available + deployed); zero when balanced."""
        left = self.allocated_usd + self.realized_pnl_usd - self.fees_usd
        return left - (self.available_usd + self.deployed_usd)

    def balanced(self) -> bool:
        """Whether allocated + realized_pnl − fees == available + deployed, exactly."""
        return self.imbalance_usd == 0

    def day(self, day: date) -> DailyPnl:
        """The P&L of ``day`` (zeros when nothing happened)."""
        for d in self.daily:
            if d.day == day:
                return d
        return DailyPnl(day, ZERO, ZERO)

    def today(self, now: datetime) -> DailyPnl:
        """The P&L of the calendar day (in ``tz``) that contains ``now``."""
        return self.day(day_of(now, self.tz))

    @classmethod
    def from_replay(
        cls,
        strategy: str,
        allocated_usd: Decimal,
        history: Replay,
        open_orders: Iterable[OpenOrder] = (),
        tz: tzinfo = UTC,
    ) -> Ledger:
        """The ledger of ``strategy`` from a replayed history (other strategies ignored)."""
        events = [e for e in history.events if e.key.strategy == strategy]
        positions = [p for k, p in history.positions.items() if k.strategy == strategy]
        return cls(
            strategy=strategy,
            allocated_usd=allocated_usd,
            realized_pnl_usd=sum((p.realized_pnl_usd for p in positions), ZERO),
            fees_usd=sum((p.fees_usd for p in positions), ZERO),
            cost_basis_usd=sum((p.cost_basis_usd for p in positions), ZERO),
            reserved_usd=sum((o.reserved_usd for o in open_orders if o.strategy == strategy), ZERO),
            cash_flow_usd=sum((e.cash_usd for e in events), ZERO),
            daily=daily_pnl(events, tz),
            tz=tz,
        )

    @classmethod
    def from_fills(
        cls,
        strategy: str,
        allocated_usd: Decimal,
        fills: Iterable[StrategyFill],
        settlements: Iterable[StrategySettlement] = (),
        open_orders: Iterable[OpenOrder] = (),
        tz: tzinfo = UTC,
    ) -> Ledger:
        """The ledger of ``strategy`` from all fills and settlements (any strategy's)."""
        return cls.from_replay(strategy, allocated_usd, replay(fills, settlements), open_orders, tz)


def ledgers(
    allocations: Mapping[str, Decimal],
    history: Replay,
    open_orders: Iterable[OpenOrder] = (),
    tz: tzinfo = UTC,
) -> dict[str, Ledger]:
    """One ledger per configured strategy."""
    orders = tuple(open_orders)
    return {
        name: Ledger.from_replay(name, alloc, history, orders, tz)
        for name, alloc in allocations.items()
    }


def reserved_usd(open_orders: Iterable[OpenOrder], key: PositionKey | None = None) -> Decimal:
    """USD reserved by resting buys, all of them or those of one (strategy, token)."""
    return sum(
        (
            o.reserved_usd
            for o in open_orders
            if key is None or (o.strategy, o.token_id) == (key.strategy, key.token_id)
        ),
        ZERO,
    )


def portfolio_exposure(
    positions: Iterable[Position], open_orders: Iterable[OpenOrder] = ()
) -> Decimal:
    """Cost basis of every open position + every resting buy, across all strategies."""
    held = sum((p.cost_basis_usd for p in positions if p.is_open), ZERO)
    return held + reserved_usd(open_orders)
