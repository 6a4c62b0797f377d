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
from autotrader.store.models_pipeline import DEFERRED_ITEMS, WATCHLIST
from autotrader.store.repos_common import (
    Now,
    one_line,
    read_conn,
    to_json_payload,
    utc_now,
    write_conn,
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


def _entry(r: sa.Row[Any]) -> WatchEntry:
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
        w = WATCHLIST.c
        stmt = insert_for(self._engine, WATCHLIST).values(**values)
        stmt = stmt.on_conflict_do_nothing().returning(w.id)
        with write_conn(self._engine) as conn:
            if conn.execute(stmt).first() is not None:
                return True
            replaced = conn.execute(
                sa.update(WATCHLIST)
                .where(
                    w.strategy == entry.strategy,
                    w.market_slug == entry.market_slug,
                    w.expires_at.is_not(None),
                    w.expires_at <= entry.added_at,
                )
                .values(**values)
                .returning(w.id)
            ).first()
            return replaced is not None

    def remove(self, strategy: str, market_slug: str) -> bool:
        """Take the market off the strategy's watchlist; ``True`` if it was on it."""
        w = WATCHLIST.c
        stmt = (
            sa.delete(WATCHLIST)
            .where(w.strategy == strategy, w.market_slug == market_slug)
            .returning(w.id)
        )
        with write_conn(self._engine) as conn:
            return conn.execute(stmt).first() is not None

    def get(self, strategy: str, market_slug: str) -> WatchEntry | None:
        """The entry of ``market_slug`` on the strategy's watchlist (expired or not)."""
        w = WATCHLIST.c
        query = sa.select(WATCHLIST).where(w.strategy == strategy, w.market_slug == market_slug)
        with read_conn(self._engine) as conn:
            row = conn.execute(query).one_or_none()
            return _entry(row) if row else None

    def list(self, strategy: str | None = None, *, now: datetime | None = None) -> list[WatchEntry]:
        """Entries (of ``strategy``), oldest first; with ``now``, only those unexpired then."""
        w = WATCHLIST.c
        query = sa.select(WATCHLIST)
        if strategy is not None:
            query = query.where(w.strategy == strategy)
        if now is not None:
            query = query.where(sa.or_(w.expires_at.is_(None), w.expires_at > now))
        query = query.order_by(w.strategy, w.added_at, w.id)
        with read_conn(self._engine) as conn:
            return [_entry(r) for r in conn.execute(query)]

    def purge_expired(self, strategy: str, now: datetime) -> builtins.list[str]:
        """Delete the strategy's entries expired at ``now``; their slugs, sorted."""
        w = WATCHLIST.c
        expired = sa.and_(w.strategy == strategy, w.expires_at.is_not(None), w.expires_at <= now)
        # Every run calls this: look first, so the usual "nothing expired" takes no write lock.
        with read_conn(self._engine) as conn:
            if conn.scalars(sa.select(w.id).where(expired).limit(1)).first() is None:
                return []
        stmt = sa.delete(WATCHLIST).where(expired).returning(w.market_slug)
        with write_conn(self._engine) as conn:
            return sorted(conn.scalars(stmt))


@dataclass(frozen=True)
class DeferredItem:
    """An item set aside by a ``wait`` node."""

    id: int
    strategy: str
    node_index: int
    item: dict[str, Any]
    resume_at: datetime
    created_at: datetime


def _deferred(r: sa.Row[Any]) -> DeferredItem:
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
            {
                "strategy": strategy,
                "node_index": node_index,
                "item": to_json_payload(item),
                "resume_at": resume_at,
                "created_at": now,
            }
            for item in items
        ]
        if not rows:
            return 0  # as before: nothing to write takes no write lock
        with write_conn(self._engine) as conn:
            conn.execute(sa.insert(DEFERRED_ITEMS), rows)
        return len(rows)

    def due(self, strategy: str, now: datetime) -> list[DeferredItem]:
        """The strategy's items whose ``resume_at`` is at or before ``now``, oldest first."""
        d = DEFERRED_ITEMS.c
        query = (
            sa.select(DEFERRED_ITEMS)
            .where(d.strategy == strategy, d.resume_at <= now)
            .order_by(d.resume_at, d.id)
        )
        with read_conn(self._engine) as conn:
            return [_deferred(r) for r in conn.execute(query)]

    def pending(self, strategy: str | None = None) -> list[DeferredItem]:
        """Every deferred item (of ``strategy``), soonest first."""
        d = DEFERRED_ITEMS.c
        query = sa.select(DEFERRED_ITEMS)
        if strategy is not None:
            query = query.where(d.strategy == strategy)
        query = query.order_by(d.resume_at, d.id)
        with read_conn(self._engine) as conn:
            return [_deferred(r) for r in conn.execute(query)]

    def delete(self, ids: Sequence[int]) -> int:
        """Delete the items with these ids (done with); how many were still there."""
        if not ids:
            return 0
        d = DEFERRED_ITEMS.c
        stmt = sa.delete(DEFERRED_ITEMS).where(d.id.in_(list(ids))).returning(d.id)
        with write_conn(self._engine) as conn:
            return len(list(conn.scalars(stmt)))
