"""Executor additions (migration 0006): exit overrides, exit intents, settlements with their
events, redeemable positions, and the counts ``autotrader status`` shows.

* ``OverrideRepo``: per-position stop-loss / take-profit overrides and partial-exit fractions.
* ``ExitRepo``: the SELL intents the position watcher wrote; whether one is still in flight
  for a position; which partial exits of the current holding are done.
* ``SettlementStore.settle``: the settlement row, its notification events and (live) the
  redeemable mark in ONE transaction, insert-if-new on the settlements' unique key — so a
  market is settled, and announced, exactly once, whatever crashes around it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from autotrader.domain.fills import Settlement
from autotrader.domain.intents import IntentStatus
from autotrader.domain.orders import TERMINAL, Side
from autotrader.store.db import insert_for
from autotrader.store.models import (
    FILLS,
    NOTIFICATION_EVENTS,
    ORDER_INTENTS,
    ORDERS,
    SETTLEMENTS,
)
from autotrader.store.models_executor import (
    EXIT_INTENTS,
    POSITION_OVERRIDES,
    POSITION_REDEMPTIONS,
)
from autotrader.store.repos_common import (
    Now,
    first_row,
    read_conn,
    to_json_payload,
    utc_now,
    write_conn,
)

REDEEMABLE = "redeemable"
_OPEN_INTENTS = (IntentStatus.PENDING.value, IntentStatus.CLAIMED.value)
_FILLED_INTENTS = (IntentStatus.FILLED.value, IntentStatus.PARTIALLY_FILLED.value)


@dataclass(frozen=True)
class PositionOverride:
    """Overrides of one (strategy, market, outcome); None keeps the strategy's limit."""

    strategy: str
    market_slug: str
    outcome: str
    stop_loss_pct: Decimal | None = None
    take_profit_pct: Decimal | None = None
    stop_loss_fraction: Decimal | None = None
    take_profit_fraction: Decimal | None = None


_OVERRIDE_FIELDS = (
    "stop_loss_pct",
    "take_profit_pct",
    "stop_loss_fraction",
    "take_profit_fraction",
)


def _override(r: sa.Row[Any]) -> PositionOverride:
    return PositionOverride(
        r.strategy, r.market_slug, r.outcome,
        r.stop_loss_pct, r.take_profit_pct, r.stop_loss_fraction, r.take_profit_fraction,
    )  # fmt: skip


class OverrideRepo:
    """Reads and writes ``position_overrides``."""

    def __init__(self, engine: Engine, *, now: Now = utc_now) -> None:
        self._engine = engine
        self._now = now

    def set(self, override: PositionOverride) -> PositionOverride:
        """Store the fields of ``override`` that are not None (others keep their value)."""
        given = {f: getattr(override, f) for f in _OVERRIDE_FIELDS}
        given = {k: v for k, v in given.items() if v is not None}
        key = {
            "strategy": override.strategy,
            "market_slug": override.market_slug,
            "outcome": override.outcome,
        }
        stmt = insert_for(self._engine, POSITION_OVERRIDES).values(
            **key, **given, updated_at=self._now()
        )
        update = {k: getattr(stmt.excluded, k) for k in (*given, "updated_at")}
        stmt = stmt.on_conflict_do_update(index_elements=list(key), set_=update)
        with self._engine.begin() as conn:
            conn.execute(stmt)
        stored = self.get(override.strategy, override.market_slug, override.outcome)
        assert stored is not None  # just written
        return stored

    def clear(self, strategy: str, market_slug: str, outcome: str) -> bool:
        """Remove the overrides; True if there were any."""
        stmt = sa.delete(POSITION_OVERRIDES).where(
            POSITION_OVERRIDES.c.strategy == strategy,
            POSITION_OVERRIDES.c.market_slug == market_slug,
            POSITION_OVERRIDES.c.outcome == outcome,
        )
        with self._engine.begin() as conn:
            return bool(conn.execute(stmt).rowcount)

    def get(self, strategy: str, market_slug: str, outcome: str) -> PositionOverride | None:
        """The overrides of one position, or None."""
        key = {"strategy": strategy, "market_slug": market_slug, "outcome": outcome}
        with read_conn(self._engine) as conn:
            row = first_row(conn, POSITION_OVERRIDES, **key)
            return _override(row) if row else None

    def all(self) -> dict[tuple[str, str, str], PositionOverride]:
        """Every override by (strategy, market_slug, outcome)."""
        with read_conn(self._engine) as conn:
            rows = conn.execute(sa.select(POSITION_OVERRIDES))
            return {(r.strategy, r.market_slug, r.outcome): _override(r) for r in rows}


class ExitRepo:
    """Reads and writes ``exit_intents``; looks at intents and orders to find exits in flight."""

    def __init__(self, engine: Engine, *, now: Now = utc_now) -> None:
        self._engine = engine
        self._now = now

    def record(
        self,
        intent_id: str,
        *,
        strategy: str,
        token_id: str,
        kind: str,
        partial: bool,
        position_opened_at: datetime | None,
    ) -> None:
        """Remember why the watcher writes intent ``intent_id`` (call before writing it)."""
        stmt = sa.insert(EXIT_INTENTS).values(
            intent_id=intent_id, strategy=strategy, token_id=token_id, kind=kind,
            partial=partial, position_opened_at=position_opened_at, created_at=self._now(),
        )  # fmt: skip
        with write_conn(self._engine) as conn:
            conn.execute(stmt)

    def in_flight(self, strategy: str, token_id: str) -> bool:
        """Whether a SELL of this position is still pending: an unfinished intent or an order
        that may still trade (a held or resting one)."""
        intents = sa.select(ORDER_INTENTS.c.id).where(
            ORDER_INTENTS.c.strategy == strategy,
            ORDER_INTENTS.c.token_id == token_id,
            ORDER_INTENTS.c.side == Side.SELL.value,
            ORDER_INTENTS.c.status.in_(_OPEN_INTENTS),
        )
        orders = sa.select(ORDERS.c.id).where(
            ORDERS.c.strategy == strategy,
            ORDERS.c.token_id == token_id,
            ORDERS.c.side == Side.SELL.value,
            ORDERS.c.status.not_in(sorted(s.value for s in TERMINAL)),
        )
        with read_conn(self._engine) as conn:
            return any(conn.execute(q.limit(1)).first() for q in (intents, orders))

    def partial_done(
        self, strategy: str, token_id: str, opened_at: datetime | None
    ) -> frozenset[str]:
        """Kinds of partial exits that (at least partly) filled for the current holding."""
        query = (
            sa.select(EXIT_INTENTS.c.kind, EXIT_INTENTS.c.position_opened_at)
            .join(ORDER_INTENTS, ORDER_INTENTS.c.id == EXIT_INTENTS.c.intent_id)
            .where(
                EXIT_INTENTS.c.strategy == strategy,
                EXIT_INTENTS.c.token_id == token_id,
                EXIT_INTENTS.c.partial.is_(True),
                ORDER_INTENTS.c.status.in_(_FILLED_INTENTS),
            )
        )
        with read_conn(self._engine) as conn:
            rows = conn.execute(query).all()
        return frozenset(kind for kind, at in rows if at == opened_at)

    def kind_of(self, intent_id: str) -> str | None:
        """Why the watcher wrote ``intent_id`` (None: not one of its exits)."""
        with read_conn(self._engine) as conn:
            row = first_row(conn, EXIT_INTENTS, intent_id=intent_id)
            return row.kind if row else None


def position_markets(
    engine: Engine, tokens: Collection[str] | None = None
) -> dict[str, tuple[str, str]]:
    """token_id → (market_slug, outcome), from our orders (adopted ones have neither); only
    for ``tokens`` when given (the executor asks for its open positions' every few seconds,
    not for every token it ever traded)."""
    query = (
        sa.select(ORDERS.c.token_id, ORDERS.c.market_slug, ORDERS.c.outcome)
        .where(ORDERS.c.market_slug.is_not(None), ORDERS.c.outcome.is_not(None))
        .distinct()
    )
    if tokens is not None:
        query = query.where(ORDERS.c.token_id.in_(sorted(tokens)))
    with read_conn(engine) as conn:
        return {t: (s, o) for t, s, o in conn.execute(query).all() if s and o}


@dataclass(frozen=True)
class SettlementRecord:
    """A settlement decided by the watcher, with what to announce about it."""

    strategy: str
    market_slug: str
    winning_outcome: str
    settlement: Settlement
    events: tuple[tuple[str, dict[str, Any]], ...]  # (type, payload)
    redeemable: bool


class SettlementStore:
    """Writes a settlement, its events and its redeemable mark together, once."""

    def __init__(self, engine: Engine, *, now: Now = utc_now) -> None:
        self._engine = engine
        self._now = now

    def settle(self, rec: SettlementRecord) -> bool:
        """Store ``rec``; False (nothing written) if this position was already settled."""
        s, now = rec.settlement, self._now()
        stmt = insert_for(self._engine, SETTLEMENTS).values(
            strategy=rec.strategy, market_slug=rec.market_slug, market_id=s.market_id,
            token_id=s.token_id, outcome=s.outcome, winning_outcome=rec.winning_outcome,
            shares=s.shares, payout_per_share=s.payout_per_share, ts=s.ts,
        )  # fmt: skip
        key = [SETTLEMENTS.c.strategy, SETTLEMENTS.c.token_id, SETTLEMENTS.c.market_slug]
        stmt = stmt.on_conflict_do_nothing(index_elements=key).returning(SETTLEMENTS.c.id)
        with self._engine.begin() as conn:
            if conn.execute(stmt).first() is None:
                return False
            for type_, payload in rec.events:
                conn.execute(
                    sa.insert(NOTIFICATION_EVENTS).values(
                        type=type_, strategy=rec.strategy, created_at=now,
                        payload=to_json_payload(payload),
                    )
                )  # fmt: skip
            if rec.redeemable:
                conn.execute(
                    sa.insert(POSITION_REDEMPTIONS).values(
                        strategy=rec.strategy, market_slug=rec.market_slug,
                        token_id=s.token_id, outcome=s.outcome, shares=s.shares,
                        payout_usd=s.payout_usd, status=REDEEMABLE, created_at=now,
                    )
                )  # fmt: skip
        return True


@dataclass(frozen=True)
class Redemption:
    """A settled winning live position and whether it is still to be redeemed."""

    strategy: str
    market_slug: str
    token_id: str
    outcome: str
    shares: Decimal
    payout_usd: Decimal
    status: str
    created_at: datetime


def _redemption(r: sa.Row[Any]) -> Redemption:
    return Redemption(
        r.strategy, r.market_slug, r.token_id, r.outcome, r.shares, r.payout_usd, r.status,
        r.created_at,
    )  # fmt: skip


def redemptions(engine: Engine, status: str | None = REDEEMABLE) -> list[Redemption]:
    """Redemptions (in ``status``), oldest first."""
    query = sa.select(POSITION_REDEMPTIONS).order_by(POSITION_REDEMPTIONS.c.created_at)
    if status is not None:
        query = query.where(POSITION_REDEMPTIONS.c.status == status)
    with read_conn(engine) as conn:
        return [_redemption(r) for r in conn.execute(query)]


def trade_counts(engine: Engine, since: datetime) -> dict[str, tuple[int, int]]:
    """Fills per strategy: (at or after ``since``, all)."""
    recent = sa.func.sum(sa.case((FILLS.c.ts >= since, 1), else_=0))
    query = sa.select(FILLS.c.strategy, recent, sa.func.count()).group_by(FILLS.c.strategy)
    with read_conn(engine) as conn:
        return {s: (int(r or 0), int(n)) for s, r, n in conn.execute(query).all()}
