"""Positions, derived only from fills and settlements (fills are the source of truth).

One position per (strategy, token). Accounting choices, fixed here so the ledger can rely on
them:

* **Cost basis excludes fees.** ``cost_basis_usd`` is the sum of price × size of the shares
  still held (average-cost method), so ``avg_price`` is a pure price and stop-loss /
  take-profit percentages compare like with like. Fees are tracked separately in ``fees_usd``.
* **Realized P&L is gross of fees**: a sell realizes ``size × (price − avg_price)``, a
  settlement ``shares × (payout − avg_price)``. ``net_pnl_usd`` = realized − fees is what the
  owner actually made; the daily loss limit uses it.
* The cost removed by a partial sell is rounded to 1e-8 (the store's Numeric(20,8)); a sell
  that closes the position removes the whole remaining basis, so nothing is ever left behind
  and every sum stays exact.
* A duplicate ``trade_id`` is refused (``DuplicateFill``), as is selling more than held
  (``OversoldError``) or settling a number of shares other than those held (``SettlementError``):
  each means the fills are wrong, and guessing would corrupt the money.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from autotrader.domain.fills import Fill, Settlement
from autotrader.domain.money import snap
from autotrader.domain.orders import Side

BASIS_STEP = Decimal("0.00000001")
ZERO = Decimal(0)


class PositionError(ValueError):
    """The fills and settlements do not describe a consistent history."""


class DuplicateFill(PositionError):
    """A trade id seen before: the venue reported a fill twice, or we stored it twice."""


class OversoldError(PositionError):
    """A sell of more shares than the strategy holds."""


class SettlementError(PositionError):
    """A settlement that does not match the held position."""


class PositionKey(NamedTuple):
    """A position's identity."""

    strategy: str
    token_id: str


@dataclass(frozen=True)
class StrategyFill:
    """A fill attributed to the strategy whose order it was."""

    strategy: str
    fill: Fill

    @property
    def key(self) -> PositionKey:
        """The position this fill belongs to."""
        return PositionKey(self.strategy, self.fill.token_id)


@dataclass(frozen=True)
class StrategySettlement:
    """A settlement of one strategy's holding of a token."""

    strategy: str
    settlement: Settlement

    @property
    def key(self) -> PositionKey:
        """The position this settlement closes."""
        return PositionKey(self.strategy, self.settlement.token_id)


@dataclass(frozen=True)
class PnlEvent:
    """A realization of P&L or a fee paid, at a time (for the daily loss limit)."""

    key: PositionKey
    ts: datetime
    realized_usd: Decimal
    fee_usd: Decimal
    cash_usd: Decimal  # the owner's USD change: −(cost + fee) for a buy, proceeds − fee, payout

    @property
    def net_usd(self) -> Decimal:
        """Realized P&L net of the fee."""
        return self.realized_usd - self.fee_usd


@dataclass(frozen=True)
class Position:
    """One strategy's holding of one token."""

    strategy: str
    token_id: str
    shares: Decimal = ZERO
    cost_basis_usd: Decimal = ZERO
    realized_pnl_usd: Decimal = ZERO
    fees_usd: Decimal = ZERO
    opened_at: datetime | None = None
    last_buy_at: datetime | None = None
    updated_at: datetime | None = None
    settled: bool = False

    @property
    def key(self) -> PositionKey:
        """(strategy, token_id)."""
        return PositionKey(self.strategy, self.token_id)

    @property
    def is_open(self) -> bool:
        """Whether shares are held."""
        return self.shares > 0

    @property
    def avg_price(self) -> Decimal | None:
        """Average cost per held share (fees excluded), None when flat."""
        return self.cost_basis_usd / self.shares if self.shares > 0 else None

    @property
    def net_pnl_usd(self) -> Decimal:
        """Realized P&L minus fees paid."""
        return self.realized_pnl_usd - self.fees_usd

    def market_value(self, mark: Decimal) -> Decimal:
        """Held shares valued at ``mark``."""
        return self.shares * mark

    def unrealized_pnl(self, mark: Decimal) -> Decimal:
        """(mark − avg_price) × shares, i.e. market value − cost basis (gross of exit fees)."""
        if not 0 <= mark <= 1:
            raise ValueError(f"mark price must be within [0, 1] (got {mark})")
        return self.market_value(mark) - self.cost_basis_usd


def apply_fill(pos: Position, fill: Fill) -> tuple[Position, PnlEvent]:
    """``pos`` after ``fill`` and the P&L event it produced."""
    if pos.settled:
        raise SettlementError(f"fill {fill.trade_id} on {pos.key} after it was settled")
    fees = pos.fees_usd + fill.fee_usd
    if fill.side is Side.BUY:
        new = replace(
            pos,
            shares=pos.shares + fill.size,
            cost_basis_usd=pos.cost_basis_usd + fill.notional_usd,
            fees_usd=fees,
            opened_at=pos.opened_at if pos.is_open else fill.ts,
            last_buy_at=fill.ts,
            updated_at=fill.ts,
        )
        return new, PnlEvent(pos.key, fill.ts, ZERO, fill.fee_usd, fill.cash_delta_usd)
    if fill.size > pos.shares:
        raise OversoldError(
            f"fill {fill.trade_id} sells {fill.size} of {pos.key} but only {pos.shares} are held"
        )
    removed = _removed_basis(pos, fill.size)
    realized = fill.notional_usd - removed
    left = pos.shares - fill.size
    new = replace(
        pos,
        shares=left,
        cost_basis_usd=pos.cost_basis_usd - removed,
        realized_pnl_usd=pos.realized_pnl_usd + realized,
        fees_usd=fees,
        opened_at=pos.opened_at if left > 0 else None,
        updated_at=fill.ts,
    )
    return new, PnlEvent(pos.key, fill.ts, realized, fill.fee_usd, fill.cash_delta_usd)


def _removed_basis(pos: Position, size: Decimal) -> Decimal:
    if size == pos.shares:
        return pos.cost_basis_usd
    return snap(pos.cost_basis_usd * size / pos.shares, BASIS_STEP, "nearest")


def apply_settlement(pos: Position, stl: Settlement) -> tuple[Position, PnlEvent]:
    """``pos`` after its market resolved: every held share paid ``payout_per_share``."""
    if pos.settled:
        raise SettlementError(f"{pos.key} was already settled")
    if stl.shares != pos.shares:
        raise SettlementError(
            f"settlement of {stl.shares} shares for {pos.key} holding {pos.shares}"
        )
    realized = stl.payout_usd - pos.cost_basis_usd
    new = replace(
        pos,
        shares=ZERO,
        cost_basis_usd=ZERO,
        realized_pnl_usd=pos.realized_pnl_usd + realized,
        opened_at=None,
        updated_at=stl.ts,
        settled=True,
    )
    return new, PnlEvent(pos.key, stl.ts, realized, ZERO, stl.payout_usd)


@dataclass(frozen=True)
class Replay:
    """The positions after a history, and every P&L event on the way (in time order)."""

    positions: Mapping[PositionKey, Position]
    events: tuple[PnlEvent, ...]


def replay(fills: Iterable[StrategyFill], settlements: Iterable[StrategySettlement] = ()) -> Replay:
    """Apply all fills and settlements in time order (a fill before a settlement at the same
    instant, otherwise the given order). ``DuplicateFill`` on a repeated trade id."""
    fills = list(fills)
    seen: set[str] = set()
    for sf in fills:
        if sf.fill.trade_id in seen:
            raise DuplicateFill(f"trade {sf.fill.trade_id} is already recorded")
        seen.add(sf.fill.trade_id)
    return extend_replay(Replay({}, ()), fills, settlements)


def extend_replay(
    history: Replay, fills: Iterable[StrategyFill], settlements: Iterable[StrategySettlement] = ()
) -> Replay:
    """``history`` with more fills and settlements applied, ordered as ``replay`` orders them
    (the caller knows they come after everything in ``history``)."""
    items: list[tuple[datetime, int, int, StrategyFill | StrategySettlement]] = [
        (sf.fill.ts, 0, i, sf) for i, sf in enumerate(fills)
    ]
    items += [(ss.settlement.ts, 1, i, ss) for i, ss in enumerate(settlements)]
    items.sort(key=lambda it: (it[0], it[1], it[2]))
    positions: dict[PositionKey, Position] = dict(history.positions)
    events: list[PnlEvent] = list(history.events)
    for _, _, _, item in items:
        pos = positions.get(item.key) or Position(*item.key)
        if isinstance(item, StrategyFill):
            pos, event = apply_fill(pos, item.fill)
        else:
            pos, event = apply_settlement(pos, item.settlement)
        positions[item.key] = pos
        events.append(event)
    return Replay(positions, tuple(events))


def build_positions(
    fills: Iterable[StrategyFill], settlements: Iterable[StrategySettlement] = ()
) -> dict[PositionKey, Position]:
    """Every (strategy, token) position the history produced, open or closed."""
    return dict(replay(fills, settlements).positions)


def open_positions(positions: Mapping[PositionKey, Position]) -> dict[PositionKey, Position]:
    """Only the positions that hold shares."""
    return {k: p for k, p in positions.items() if p.is_open}
