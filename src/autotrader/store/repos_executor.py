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
    FillRow,
    NotificationEventRow,
    OrderIntentRow,
    OrderRow,
    SettlementRow,
)
from autotrader.store.models_executor import (
    ExitIntentRow,
    PositionOverrideRow,
    PositionRedemptionRow,
)
from autotrader.store.repos_common import (
    Now,
    read_session,
    to_json_payload,
    utc_now,
    write_session,
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


def _override(r: PositionOverrideRow) -> PositionOverride:
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
        stmt = insert_for(self._engine, PositionOverrideRow).values(
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
        stmt = sa.delete(PositionOverrideRow).where(
            PositionOverrideRow.strategy == strategy,
            PositionOverrideRow.market_slug == market_slug,
            PositionOverrideRow.outcome == outcome,
        )
        with self._engine.begin() as conn:
            return bool(conn.execute(stmt).rowcount)

    def get(self, strategy: str, market_slug: str, outcome: str) -> PositionOverride | None:
        """The overrides of one position, or None."""
        with read_session(self._engine) as session, session.begin():
            row = session.get(PositionOverrideRow, (strategy, market_slug, outcome))
            return _override(row) if row else None

    def all(self) -> dict[tuple[str, str, str], PositionOverride]:
        """Every override by (strategy, market_slug, outcome)."""
        with read_session(self._engine) as session, session.begin():
            rows = session.scalars(sa.select(PositionOverrideRow))
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
        row = ExitIntentRow(
            intent_id=intent_id, strategy=strategy, token_id=token_id, kind=kind,
            partial=partial, position_opened_at=position_opened_at, created_at=self._now(),
        )  # fmt: skip
        with write_session(self._engine) as session, session.begin():
            session.add(row)

    def in_flight(self, strategy: str, token_id: str) -> bool:
        """Whether a SELL of this position is still pending: an unfinished intent or an order
        that may still trade (a held or resting one)."""
        intents = sa.select(OrderIntentRow.id).where(
            OrderIntentRow.strategy == strategy,
            OrderIntentRow.token_id == token_id,
            OrderIntentRow.side == Side.SELL.value,
            OrderIntentRow.status.in_(_OPEN_INTENTS),
        )
        orders = sa.select(OrderRow.id).where(
            OrderRow.strategy == strategy,
            OrderRow.token_id == token_id,
            OrderRow.side == Side.SELL.value,
            OrderRow.status.not_in(sorted(s.value for s in TERMINAL)),
        )
        with read_session(self._engine) as session, session.begin():
            return any(session.execute(q.limit(1)).first() for q in (intents, orders))

    def partial_done(
        self, strategy: str, token_id: str, opened_at: datetime | None
    ) -> frozenset[str]:
        """Kinds of partial exits that (at least partly) filled for the current holding."""
        query = (
            sa.select(ExitIntentRow.kind, ExitIntentRow.position_opened_at)
            .join(OrderIntentRow, OrderIntentRow.id == ExitIntentRow.intent_id)
            .where(
                ExitIntentRow.strategy == strategy,
                ExitIntentRow.token_id == token_id,
                ExitIntentRow.partial.is_(True),
                OrderIntentRow.status.in_(_FILLED_INTENTS),
            )
        )
        with read_session(self._engine) as session, session.begin():
            rows = session.execute(query).all()
        return frozenset(kind for kind, at in rows if at == opened_at)

    def kind_of(self, intent_id: str) -> str | None:
        """Why the watcher wrote ``intent_id`` (None: not one of its exits)."""
        with read_session(self._engine) as session, session.begin():
            row = session.get(ExitIntentRow, intent_id)
            return row.kind if row else None


def position_markets(
    engine: Engine, tokens: Collection[str] | None = None
) -> dict[str, tuple[str, str]]:
    """token_id → (market_slug, outcome), from our orders (adopted ones have neither); only
    for ``tokens`` when given (the executor asks for its open positions' every few seconds,
    not for every token it ever traded)."""
    query = (
        sa.select(OrderRow.token_id, OrderRow.market_slug, OrderRow.outcome)
        .where(OrderRow.market_slug.is_not(None), OrderRow.outcome.is_not(None))
        .distinct()
    )
    if tokens is not None:
        query = query.where(OrderRow.token_id.in_(sorted(tokens)))
    with read_session(engine) as session, session.begin():
        return {t: (s, o) for t, s, o in session.execute(query).all() if s and o}


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
        stmt = insert_for(self._engine, SettlementRow).values(
            strategy=rec.strategy, market_slug=rec.market_slug, market_id=s.market_id,
            token_id=s.token_id, outcome=s.outcome, winning_outcome=rec.winning_outcome,
            shares=s.shares, payout_per_share=s.payout_per_share, ts=s.ts,
        )  # fmt: skip
        key = [SettlementRow.strategy, SettlementRow.token_id, SettlementRow.market_slug]
        stmt = stmt.on_conflict_do_nothing(index_elements=key).returning(SettlementRow.id)
        with self._engine.begin() as conn:
            if conn.execute(stmt).first() is None:
                return False
            for type_, payload in rec.events:
                conn.execute(
                    sa.insert(NotificationEventRow).values(
                        type=type_, strategy=rec.strategy, created_at=now,
                        payload=to_json_payload(payload),
                    )
                )  # fmt: skip
            if rec.redeemable:
                conn.execute(
                    sa.insert(PositionRedemptionRow).values(
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


def _redemption(r: PositionRedemptionRow) -> Redemption:
    return Redemption(
        r.strategy, r.market_slug, r.token_id, r.outcome, r.shares, r.payout_usd, r.status,
        r.created_at,
    )  # fmt: skip


def redemptions(engine: Engine, status: str | None = REDEEMABLE) -> list[Redemption]:
    """Redemptions (in ``status``), oldest first."""
    query = sa.select(PositionRedemptionRow).order_by(PositionRedemptionRow.created_at)
    if status is not None:
        query = query.where(PositionRedemptionRow.status == status)
    with read_session(engine) as session, session.begin():
        return [_redemption(r) for r in session.scalars(query)]


def trade_counts(engine: Engine, since: datetime) -> dict[str, tuple[int, int]]:
    """Fills per strategy: (at or after ``since``, all)."""
    recent = sa.func.sum(sa.case((FillRow.ts >= since, 1), else_=0))
    query = sa.select(FillRow.strategy, recent, sa.func.count()).group_by(FillRow.strategy)
    with read_session(engine) as session, session.begin():
        return {s: (int(r or 0), int(n)) for s, r, n in session.execute(query).all()}
