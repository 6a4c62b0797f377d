"""Folding old history into one position and one event per strategy, so the executor's replay
stays bounded however long it runs.

A 24/7 executor keeps the replay of every fill (``snapshot.SnapshotCache``): a P&L event per
fill and a position per token ever traded. Fifteen-minute markets bring new tokens every
window, so without folding that grows by tens of MB a year, and so does the cost of every
ledger built from it. What the executor needs of the past is only sums: each strategy's
realized P&L, fees and cash flow (its ledger) and today's P&L (the daily loss limit). So:

* a position that is flat and untouched since ``cutoff`` is added into the strategy's archive
  position (token id ``ARCHIVE_TOKEN``: no real token, never open, never settled); a new fill
  of that token later starts a fresh position, which is what a flat one amounts to;
* P&L events before ``cutoff`` become one event per strategy, at the oldest of their times.

Every sum a ledger takes is unchanged; only the split by day before ``cutoff`` is lost, and
the caller keeps ``cutoff`` days before "today" in any time zone.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from autotrader.domain.positions import PnlEvent, Position, PositionKey, Replay

ARCHIVE_TOKEN = ""  # token ids are never empty (domain.fills.Fill refuses one)
ZERO = Decimal(0)


def fold(history: Replay, cutoff: datetime) -> Replay:
    """``history`` with flat positions untouched since ``cutoff`` and the events before it
    folded per strategy (see the module docstring)."""
    return Replay(_fold_positions(history, cutoff), _fold_events(history, cutoff))


def _fold_positions(history: Replay, cutoff: datetime) -> dict[PositionKey, Position]:
    kept: dict[PositionKey, Position] = {}
    archived: dict[str, tuple[Decimal, Decimal]] = {}
    for key, pos in history.positions.items():
        old = pos.updated_at is not None and pos.updated_at < cutoff
        if key.token_id == ARCHIVE_TOKEN or pos.shares != 0 or not old:
            kept[key] = pos
            continue
        realized, fees = archived.get(key.strategy, (ZERO, ZERO))
        archived[key.strategy] = (realized + pos.realized_pnl_usd, fees + pos.fees_usd)
    for strategy, (realized, fees) in archived.items():
        key = PositionKey(strategy, ARCHIVE_TOKEN)
        into = kept.get(key) or Position(strategy, ARCHIVE_TOKEN, updated_at=cutoff)
        kept[key] = replace(
            into,
            realized_pnl_usd=into.realized_pnl_usd + realized,
            fees_usd=into.fees_usd + fees,
        )
    return kept


def _fold_events(history: Replay, cutoff: datetime) -> tuple[PnlEvent, ...]:
    sums: dict[str, tuple[datetime, Decimal, Decimal, Decimal]] = {}
    later: list[PnlEvent] = []
    for e in history.events:
        if e.ts >= cutoff:
            later.append(e)
            continue
        first, realized, fees, cash = sums.get(e.key.strategy, (e.ts, ZERO, ZERO, ZERO))
        sums[e.key.strategy] = (
            min(first, e.ts),
            realized + e.realized_usd,
            fees + e.fee_usd,
            cash + e.cash_usd,
        )
    lumps = [
        PnlEvent(PositionKey(strategy, ARCHIVE_TOKEN), first, realized, fees, cash)
        for strategy, (first, realized, fees, cash) in sums.items()
    ]
    lumps.sort(key=lambda e: e.ts)
    return (*lumps, *later)
