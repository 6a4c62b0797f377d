"""Settlement: when a market we hold resolves, each position is paid 1 or 0 per share.

``Settler.check`` is given a market that no longer trades and our open positions in it. Once
the venue reports the winner (``resolution``), each position is settled at its full size:
winners 1 per share, losers 0. The settlement row, its ``market_settled`` and ``trade_exited``
events and (for a venue that does not pay out by itself, i.e. live Polymarket) the
"redeemable" mark are written in one transaction, insert-if-new on the settlements' unique
(strategy, token, market) — so settling is exactly once, across restarts and crashes
(fault point ``settling`` sits between deciding and storing). Capital is released because the
ledger is replayed from fills + settlements: the payout is cash, the cost basis is gone.

A venue that settles its own book (the paper venue's ``settle``) is told to, first: it pays
its imaginary tokens and cancels resting orders on the market, and is idempotent itself.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.domain.fills import Settlement
from autotrader.domain.markets import Market
from autotrader.domain.positions import Position
from autotrader.errors import DataError
from autotrader.executor.events import signed_usd, usd
from autotrader.executor.faults import kill_point
from autotrader.store.repos_executor import SettlementRecord, SettlementStore
from autotrader.venue.base import Venue

log = logging.getLogger("autotrader.executor")

ONE, ZERO = Decimal(1), Decimal(0)


@runtime_checkable
class SelfSettling(Protocol):
    """A venue that pays out resolved markets itself (the paper venue)."""

    async def settle(self, market: Market) -> Sequence[Settlement]:
        """Pay held tokens of resolved ``market``; [] while unresolved."""
        ...


def settlement_record(
    pos: Position, market: Market, winner: str, *, redeemable_if_won: bool, now: Any
) -> SettlementRecord:
    """What settling ``pos`` in ``market`` resolved to ``winner`` writes and announces."""
    tok = market.token_by_id(pos.token_id)
    won = tok.outcome.lower() == winner.lower()
    stl = Settlement(market.id, tok.token_id, tok.outcome, pos.shares, ONE if won else ZERO, now)
    pnl = stl.payout_usd - pos.cost_basis_usd
    shares = f"{pos.shares.normalize():f} {tok.outcome}"
    base = {
        "strategy": pos.strategy, "market_slug": market.slug, "outcome": tok.outcome,
        "token_id": tok.token_id, "winning_outcome": winner, "shares": pos.shares,
        "payout_per_share": stl.payout_per_share, "payout_usd": stl.payout_usd,
        "cost_basis_usd": pos.cost_basis_usd, "pnl_usd": pnl,
    }  # fmt: skip
    settled = (
        f"{market.slug} resolved {winner}: {pos.strategy}'s {shares} paid "
        f"{usd(stl.payout_usd)} USD, P&L {signed_usd(pnl)} USD"
    )
    exited = f"{pos.strategy} exited (settlement): {shares} on {market.slug}, P&L {signed_usd(pnl)}"
    events = (
        ("market_settled", {**base, "summary": settled}),
        ("trade_exited", {**base, "reason": "settlement", "side": "SETTLE", "summary": exited}),
    )
    return SettlementRecord(
        strategy=pos.strategy,
        market_slug=market.slug,
        winning_outcome=winner,
        settlement=stl,
        events=events,
        redeemable=won and redeemable_if_won,
    )


class Settler:
    """Settles our positions in resolved markets (see the module docstring)."""

    def __init__(self, venue: Venue, engine: sa.Engine, clock: Clock) -> None:
        self._venue = venue
        self._clock = clock
        self._store = SettlementStore(engine, now=clock.now)

    async def check(self, market: Market, positions: Sequence[Position]) -> int:
        """Settle ``positions`` (open, in ``market``) if it resolved; how many were settled."""
        winner = await self._venue.resolution(market)
        if winner is None:
            return 0
        if not any(t.outcome.lower() == winner.lower() for t in market.tokens):
            raise DataError(f"market {market.slug} resolved to unknown outcome {winner!r}")
        self_settling = isinstance(self._venue, SelfSettling)
        if self_settling:
            await self._venue.settle(market)  # type: ignore[attr-defined]  # SelfSettling
        settled = 0
        for pos in positions:
            rec = settlement_record(
                pos, market, winner, redeemable_if_won=not self_settling, now=self._clock.now()
            )
            kill_point("settling")
            if self._store.settle(rec):
                settled += 1
                log.info("settled: %s", rec.events[0][1]["summary"])
        return settled
