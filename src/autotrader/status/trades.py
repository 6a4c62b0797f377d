"""Round trips: the history of fills and settlements cut into trades, for the status page.

A *trade* here is one stretch of a (strategy, token) position from the buy that opened it
(shares 0 → > 0) to the sell or settlement that closed it (back to 0). Re-entering the same
token later starts a new trade. The accounting is the domain's (``apply_fill`` /
``apply_settlement``), so the page's P&L is the ledger's P&L, split into trades:

* ``pnl_usd`` is realized P&L net of every fee paid during the trade; a trade is *won* when
  it is > 0.
* ROI of a set of closed trades is Σ pnl / Σ cost (cost = price × shares bought).

One pass also yields the ``Replay`` (positions and P&L events) that ``Ledger.from_replay``
takes, so the history is walked once per render.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from autotrader.domain.orders import Side
from autotrader.domain.positions import (
    PnlEvent,
    Position,
    PositionKey,
    Replay,
    StrategyFill,
    StrategySettlement,
    apply_fill,
    apply_settlement,
)

ZERO = Decimal(0)


@dataclass(frozen=True)
class RoundTrip:
    """One closed (or still open) trade of one strategy in one token."""

    key: PositionKey
    opened_at: datetime
    closed_at: datetime | None
    cost_usd: Decimal  # price × shares of every buy
    proceeds_usd: Decimal  # price × shares of every sell + settlement payout
    fees_usd: Decimal
    realized_usd: Decimal  # gross of fees, as positions.py defines it
    exit: str  # "open" | "sold" | "settled"

    @property
    def pnl_usd(self) -> Decimal:
        """Realized P&L net of fees."""
        return self.realized_usd - self.fees_usd

    @property
    def won(self) -> bool:
        """Whether the trade made money after fees."""
        return self.pnl_usd > 0


@dataclass
class _Trip:
    opened_at: datetime
    cost: Decimal = ZERO
    proceeds: Decimal = ZERO
    fees: Decimal = ZERO
    realized: Decimal = ZERO

    def close(self, key: PositionKey, at: datetime | None, exit: str) -> RoundTrip:
        return RoundTrip(
            key, self.opened_at, at, self.cost, self.proceeds, self.fees, self.realized, exit
        )


@dataclass(frozen=True)
class History:
    """The replayed history: positions and events (as ``replay``) plus the round trips."""

    replay: Replay
    trips: tuple[RoundTrip, ...]  # closed ones in closing order, then the open ones


Item = tuple[datetime, int, int, StrategyFill | StrategySettlement]


def ordered(
    fills: Iterable[StrategyFill], settlements: Iterable[StrategySettlement] = ()
) -> list[Item]:
    """Fills and settlements in ``replay``'s order: time; a fill before a settlement at the
    same instant; otherwise as given."""
    items: list[Item] = [(sf.fill.ts, 0, i, sf) for i, sf in enumerate(fills)]
    items.extend((ss.settlement.ts, 1, i, ss) for i, ss in enumerate(settlements))
    items.sort(key=lambda it: (it[0], it[1], it[2]))
    return items


@dataclass
class Walker:
    """Applies fills and settlements one by one, cutting them into round trips.

    It can be fed more items later (``HistoryCache`` does, with rows newer than all before),
    which continues the same history.
    """

    positions: dict[PositionKey, Position] = field(default_factory=dict)
    events: list[PnlEvent] = field(default_factory=list)
    open: dict[PositionKey, _Trip] = field(default_factory=dict)
    closed: list[RoundTrip] = field(default_factory=list)

    def feed(self, items: Iterable[Item]) -> None:
        """Apply ``items`` (from ``ordered``) in turn; ``PositionError`` as ``replay`` raises."""
        for _, _, _, item in items:
            if isinstance(item, StrategyFill):
                self._fill(item)
            else:
                self._settle(item)

    def history(self) -> History:
        """The history so far (a copy: feeding more later does not change it)."""
        still_open = tuple(t.close(k, None, "open") for k, t in self.open.items())
        replayed = Replay(dict(self.positions), tuple(self.events))
        return History(replayed, (*self.closed, *still_open))

    def _fill(self, sf: StrategyFill) -> None:
        key = sf.key
        pos = self.positions.get(key) or Position(*key)
        new, event = apply_fill(pos, sf.fill)
        trip = self.open.get(key)
        if trip is None:
            trip = self.open[key] = _Trip(sf.fill.ts)
        notional = sf.fill.notional_usd
        if sf.fill.side is Side.BUY:
            trip.cost += notional
        else:
            trip.proceeds += notional
        trip.fees += sf.fill.fee_usd
        trip.realized += event.realized_usd
        self._moved(key, new, event, "sold")

    def _settle(self, ss: StrategySettlement) -> None:
        key = ss.key
        pos = self.positions.get(key) or Position(*key)
        new, event = apply_settlement(pos, ss.settlement)
        trip = self.open.get(key) or _Trip(ss.settlement.ts)
        self.open[key] = trip
        trip.proceeds += ss.settlement.payout_usd
        trip.realized += event.realized_usd
        self._moved(key, new, event, "settled")

    def _moved(self, key: PositionKey, new: Position, event: PnlEvent, exit: str) -> None:
        self.positions[key] = new
        self.events.append(event)
        if not new.is_open:
            self.closed.append(self.open.pop(key).close(key, event.ts, exit))


def walk(fills: Iterable[StrategyFill], settlements: Iterable[StrategySettlement] = ()) -> History:
    """Apply every fill and settlement in ``replay``'s order, recording each round trip.

    The order and the errors (``PositionError`` subclasses) are those of
    ``autotrader.domain.positions.replay``; duplicate trade ids are the store's job to refuse.
    """
    walker = Walker()
    walker.feed(ordered(fills, settlements))
    return walker.history()


def win_rate(trips: Iterable[RoundTrip]) -> float | None:
    """Share of closed trades that made money (0..1), None when none is closed."""
    closed = [t for t in trips if t.closed_at is not None]
    if not closed:
        return None
    return sum(1 for t in closed if t.won) / len(closed)


def roi(trips: Iterable[RoundTrip]) -> Decimal | None:
    """Σ net P&L / Σ cost of the closed trades, None when nothing closed was bought."""
    closed = [t for t in trips if t.closed_at is not None]
    cost = sum((t.cost_usd for t in closed), ZERO)
    if cost <= 0:
        return None
    return sum((t.pnl_usd for t in closed), ZERO) / cost
