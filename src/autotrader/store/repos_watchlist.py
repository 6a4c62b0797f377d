"""Watchlists and deferred pipeline items (tables of ``models_pipeline``).

* ``WatchlistRepo``: a market is on a strategy's watchlist at most once (UNIQUE(strategy,
  market_slug)); ``add`` is insert-if-new (ON CONFLICT DO NOTHING RETURNING), except that an
  expired entry is replaced, since for everyone reading the list it is no longer there.
* ``DeferredRepo``: what ``wait`` nodes set aside. A run reads the due rows first and deletes
  them only once it has finished, so a run that fails or is cut short leaves them to the next
  one (entries stay at most once per market through the intents' entry_key).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from autotrader.store.db import insert_for
from autotrader.store.models_pipeline import DeferredItemRow, WatchlistRow
from autotrader.store.repos_common import (
    Now,
    one_line,
    read_session,
    to_json_payload,
    utc_now,
    write_session,
)
from autotrader.store.types import MONEY_SCALE

_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)


@dataclass(frozen=True)
class WatchEntry:
    """A market on a strategy's watchlist."""

    strategy: str
    market_slug: str
    market_id: str
    question: str
    reason: str
    added_at: datetime
    expires_at: datetime | None = None
    price_at_add: Decimal | None = None
    volume_at_add: Decimal | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    def expired(self, now: datetime) -> bool:
        """Whether the entry's expiry is at or before ``now``."""
        return self.expires_at is not None and self.expires_at <= now


def _entry(r: WatchlistRow) -> WatchEntry:
    return WatchEntry(
        strategy=r.strategy,
        market_slug=r.market_slug,
        market_id=r.market_id,
        question=r.question,
        reason=r.reason,
        added_at=r.added_at,
        expires_at=r.expires_at,
        price_at_add=r.price_at_add,
        volume_at_add=r.volume_at_add,
        meta=dict(r.meta),
        id=r.id,
    )


def _money(value: Decimal | None) -> Decimal | None:
    # Venue figures may carry more places than the store keeps: rounding them is this
    # repository's decision (they are a record of the time, not money that moves).
    return None if value is None else value.quantize(_QUANTUM)


def _values(e: WatchEntry) -> dict[str, Any]:
    return {
        "strategy": e.strategy,
        "market_slug": e.market_slug,
        "market_id": e.market_id,
        "question": e.question,
        "reason": one_line(e.reason) or "",
        "added_at": e.added_at,
        "expires_at": e.expires_at,
        "price_at_add": _money(e.price_at_add),
        "volume_at_add": _money(e.volume_at_add),
        "meta": to_json_payload(e.meta),
    }


class WatchlistRepo:
    """Reads and changes ``watchlist``."""

    def __init__(self, engine: Engine, *, now: Now = utc_now) -> None:
        self._engine = engine
        self._now = now

    def add(self, entry: WatchEntry) -> bool:
        """Put ``entry`` on the watchlist; ``True`` if it was not there (or had expired)."""
        if not entry.strategy or not entry.market_slug:
            raise ValueError("a watchlist entry needs a strategy and a market slug")
        values = _values(entry)
        stmt = insert_for(self._engine, WatchlistRow).values(**values)
        stmt = stmt.on_conflict_do_nothing().returning(WatchlistRow.id)
        with write_session(self._engine) as session, session.begin():
            if session.execute(stmt).first() is not None:
                return True
            replaced = session.execute(
                sa.update(WatchlistRow)
                .where(
                    WatchlistRow.strategy == entry.strategy,
                    WatchlistRow.market_slug == entry.market_slug,
                    WatchlistRow.expires_at.is_not(None),
                    WatchlistRow.expires_at <= entry.added_at,
                )
                .values(**values)
                .returning(WatchlistRow.id)
            ).first()
            return replaced is not None

    def remove(self, strategy: str, market_slug: str) -> bool:
        """Take the market off the strategy's watchlist; ``True`` if it was on it."""
        stmt = (
            sa.delete(WatchlistRow)
            .where(WatchlistRow.strategy == strategy, WatchlistRow.market_slug == market_slug)
            .returning(WatchlistRow.id)
        )
        with write_session(self._engine) as session, session.begin():
            return session.execute(stmt).first() is not None

    def get(self, strategy: str, market_slug: str) -> WatchEntry | None:
        """The entry of ``market_slug`` on the strategy's watchlist (expired or not)."""
        query = sa.select(WatchlistRow).where(
            WatchlistRow.strategy == strategy, WatchlistRow.market_slug == market_slug
        )
        with read_session(self._engine) as session, session.begin():
            row = session.scalars(query).one_or_none()
            return _entry(row) if row else None

    def list(self, strategy: str | None = None, *, now: datetime | None = None) -> list[WatchEntry]:
        """Entries (of ``strategy``), oldest first; with ``now``, only those unexpired then."""
        query = sa.select(WatchlistRow)
        if strategy is not None:
            query = query.where(WatchlistRow.strategy == strategy)
        if now is not None:
            query = query.where(
                sa.or_(WatchlistRow.expires_at.is_(None), WatchlistRow.expires_at > now)
            )
        query = query.order_by(WatchlistRow.strategy, WatchlistRow.added_at, WatchlistRow.id)
        with read_session(self._engine) as session, session.begin():
            return [_entry(r) for r in session.scalars(query)]

    def purge_expired(self, strategy: str, now: datetime) -> builtins.list[str]:
        """Delete the strategy's entries expired at ``now``; their slugs, sorted."""
        expired = sa.and_(
            WatchlistRow.strategy == strategy,
            WatchlistRow.expires_at.is_not(None),
            WatchlistRow.expires_at <= now,
        )
        # Every run calls this: look first, so the usual "nothing expired" takes no write lock.
        with read_session(self._engine) as session, session.begin():
            if session.scalars(sa.select(WatchlistRow.id).where(expired).limit(1)).first() is None:
                return []
        stmt = sa.delete(WatchlistRow).where(expired).returning(WatchlistRow.market_slug)
        with write_session(self._engine) as session, session.begin():
            return sorted(session.scalars(stmt))


@dataclass(frozen=True)
class DeferredItem:
    """An item set aside by a ``wait`` node."""

    id: int
    strategy: str
    node_index: int
    item: dict[str, Any]
    resume_at: datetime
    created_at: datetime


def _deferred(r: DeferredItemRow) -> DeferredItem:
    return DeferredItem(r.id, r.strategy, r.node_index, dict(r.item), r.resume_at, r.created_at)


class DeferredRepo:
    """Reads and changes ``deferred_items``."""

    def __init__(self, engine: Engine, *, now: Now = utc_now) -> None:
        self._engine = engine
        self._now = now

    def add(
        self, strategy: str, node_index: int, items: Sequence[dict[str, Any]], resume_at: datetime
    ) -> int:
        """Set ``items`` aside to resume at ``node_index`` after ``resume_at``; how many."""
        if node_index < 0:
            raise ValueError(f"node_index must be >= 0 (got {node_index})")
        now = self._now()
        rows = [
            DeferredItemRow(
                strategy=strategy,
                node_index=node_index,
                item=to_json_payload(item),
                resume_at=resume_at,
                created_at=now,
            )
            for item in items
        ]
        with write_session(self._engine) as session, session.begin():
            session.add_all(rows)
        return len(rows)

    def due(self, strategy: str, now: datetime) -> list[DeferredItem]:
        """The strategy's items whose ``resume_at`` is at or before ``now``, oldest first."""
        query = (
            sa.select(DeferredItemRow)
            .where(DeferredItemRow.strategy == strategy, DeferredItemRow.resume_at <= now)
            .order_by(DeferredItemRow.resume_at, DeferredItemRow.id)
        )
        with read_session(self._engine) as session, session.begin():
            return [_deferred(r) for r in session.scalars(query)]

    def pending(self, strategy: str | None = None) -> list[DeferredItem]:
        """Every deferred item (of ``strategy``), soonest first."""
        query = sa.select(DeferredItemRow)
        if strategy is not None:
            query = query.where(DeferredItemRow.strategy == strategy)
        query = query.order_by(DeferredItemRow.resume_at, DeferredItemRow.id)
        with read_session(self._engine) as session, session.begin():
            return [_deferred(r) for r in session.scalars(query)]

    def delete(self, ids: Sequence[int]) -> int:
        """Delete the items with these ids (done with); how many were still there."""
        if not ids:
            return 0
        stmt = (
            sa.delete(DeferredItemRow)
            .where(DeferredItemRow.id.in_(list(ids)))
            .returning(DeferredItemRow.id)
        )
        with write_session(self._engine) as session, session.begin():
            return len(list(session.scalars(stmt)))
