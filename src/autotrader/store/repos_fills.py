"""Fills and settlements: the truth positions and P&L are derived from.

* ``FillRepo``: the venue's trade id is the primary key, so ``add`` of a known trade returns
  ``False`` and records nothing (``INSERT … ON CONFLICT DO NOTHING`` on both backends).
* ``SettlementRepo``: at most one payout per (strategy, token, market), the same way.

Money must fit ``Money`` (8 decimal places): round fees and sizes before storing them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from autotrader.domain.fills import Fill, Liquidity, Settlement
from autotrader.domain.orders import Side
from autotrader.store.db import insert_for
from autotrader.store.models import FILLS, SETTLEMENTS
from autotrader.store.repos_common import read_conn


@dataclass(frozen=True)
class RecordedFill:
    """A fill as stored: the domain ``Fill`` plus whose it is."""

    fill: Fill
    order_id: str | None
    strategy: str


def _fill(r: sa.Row[Any]) -> RecordedFill:
    liquidity: Liquidity = "maker" if r.liquidity == "maker" else "taker"
    fill = Fill(
        trade_id=r.trade_id,
        venue_order_id=r.venue_order_id,
        token_id=r.token_id,
        side=Side(r.side),
        price=r.price,
        size=r.size,
        fee_usd=r.fee_usd,
        ts=r.ts,
        liquidity=liquidity,
    )
    return RecordedFill(fill=fill, order_id=r.order_id, strategy=r.strategy)


def insert_fill(conn: sa.Connection, fill: Fill, *, order_id: str | None, strategy: str) -> bool:
    """``FillRepo.add`` on ``conn``, inside the caller's transaction (with what goes with it)."""
    values = {
        "trade_id": fill.trade_id,
        "order_id": order_id,
        "venue_order_id": fill.venue_order_id,
        "strategy": strategy,
        "token_id": fill.token_id,
        "side": Side(fill.side).value,
        "price": fill.price,
        "size": fill.size,
        "fee_usd": fill.fee_usd,
        "ts": fill.ts,
        "liquidity": fill.liquidity,
    }
    stmt = insert_for(conn, FILLS).values(**values)
    stmt = stmt.on_conflict_do_nothing(index_elements=[FILLS.c.trade_id])
    # RETURNING gives a row only if one was inserted (rowcount of an INSERT is not
    # reliable across drivers: psycopg through SQLAlchemy reports -1).
    return conn.execute(stmt.returning(FILLS.c.trade_id)).first() is not None


def position_fills(conn: sa.Connection, strategy: str, token_id: str) -> list[Fill]:
    """Every fill of ``strategy`` in ``token_id`` on ``conn``, in replay order: the history of
    one position (a sale's realized P&L), not of everything the strategy ever traded."""
    query = (
        sa.select(FILLS)
        .where(FILLS.c.strategy == strategy, FILLS.c.token_id == token_id)
        .order_by(FILLS.c.ts, FILLS.c.trade_id)
    )
    return [_fill(r).fill for r in conn.execute(query)]


class FillRepo:
    """Writes and reads ``fills``; a trade id is recorded at most once."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, fill: Fill, *, order_id: str | None, strategy: str) -> bool:
        """Record ``fill``: ``True`` if new, ``False`` if its trade id is already recorded.

        A duplicate never raises (``INSERT … ON CONFLICT DO NOTHING``, on both backends).
        """
        with self._engine.begin() as conn:
            return insert_fill(conn, fill, order_id=order_id, strategy=strategy)

    def get(self, trade_id: str) -> RecordedFill | None:
        """The fill with this trade id."""
        return next(iter(self._many(sa.select(FILLS).where(FILLS.c.trade_id == trade_id))), None)

    def for_strategy(self, strategy: str) -> list[RecordedFill]:
        """Every fill of ``strategy``, oldest first."""
        return self._many(sa.select(FILLS).where(FILLS.c.strategy == strategy))

    def for_order(self, order_id: str) -> list[RecordedFill]:
        """Every fill of our order ``order_id``, oldest first."""
        return self._many(sa.select(FILLS).where(FILLS.c.order_id == order_id))

    def since(self, ts: datetime) -> list[RecordedFill]:
        """Fills at or after ``ts``, oldest first."""
        return self._many(sa.select(FILLS).where(FILLS.c.ts >= ts))

    def all(self) -> list[RecordedFill]:
        """Every fill, oldest first."""
        return self._many(sa.select(FILLS))

    def _many(self, query: sa.Select[Any]) -> list[RecordedFill]:
        query = query.order_by(FILLS.c.ts, FILLS.c.trade_id)
        with read_conn(self._engine) as conn:
            return [_fill(r) for r in conn.execute(query)]


@dataclass(frozen=True)
class RecordedSettlement:
    """A payout as stored: the domain ``Settlement`` plus strategy and market."""

    settlement: Settlement
    strategy: str
    market_slug: str
    winning_outcome: str | None


def _settlement(r: sa.Row[Any]) -> RecordedSettlement:
    settlement = Settlement(
        market_id=r.market_id,
        token_id=r.token_id,
        outcome=r.outcome,
        shares=r.shares,
        payout_per_share=r.payout_per_share,
        ts=r.ts,
    )
    return RecordedSettlement(
        settlement=settlement,
        strategy=r.strategy,
        market_slug=r.market_slug,
        winning_outcome=r.winning_outcome,
    )


class SettlementRepo:
    """Writes and reads ``settlements``; each (strategy, token, market) is settled once."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(
        self,
        settlement: Settlement,
        *,
        strategy: str,
        market_slug: str,
        winning_outcome: str | None = None,
    ) -> bool:
        """Record the payout: ``True`` if new, ``False`` if this token was already settled."""
        values = {
            "strategy": strategy,
            "market_slug": market_slug,
            "market_id": settlement.market_id,
            "token_id": settlement.token_id,
            "outcome": settlement.outcome,
            "winning_outcome": winning_outcome,
            "shares": settlement.shares,
            "payout_per_share": settlement.payout_per_share,
            "ts": settlement.ts,
        }
        stmt = insert_for(self._engine, SETTLEMENTS).values(**values)
        key = [SETTLEMENTS.c.strategy, SETTLEMENTS.c.token_id, SETTLEMENTS.c.market_slug]
        stmt = stmt.on_conflict_do_nothing(index_elements=key).returning(SETTLEMENTS.c.id)
        with self._engine.begin() as conn:
            return conn.execute(stmt).first() is not None

    def for_strategy(self, strategy: str) -> list[RecordedSettlement]:
        """Every settlement of ``strategy``, oldest first."""
        return self._many(sa.select(SETTLEMENTS).where(SETTLEMENTS.c.strategy == strategy))

    def all(self) -> list[RecordedSettlement]:
        """Every settlement, oldest first."""
        return self._many(sa.select(SETTLEMENTS))

    def since(self, ts: datetime) -> list[RecordedSettlement]:
        """Settlements at or after ``ts``, oldest first."""
        return self._many(sa.select(SETTLEMENTS).where(SETTLEMENTS.c.ts >= ts))

    def _many(self, query: sa.Select[Any]) -> list[RecordedSettlement]:
        query = query.order_by(SETTLEMENTS.c.ts, SETTLEMENTS.c.id)
        with read_conn(self._engine) as conn:
            return [_settlement(r) for r in conn.execute(query)]
