"""Order intents: the outbox the scheduler (and ``autotrader trade``) fills, the executor drains.

* ``add`` refuses a second entry for the same (strategy, entry_key) through the database's
  unique constraint and says so with a ``DuplicateEntry`` result: nothing raises, nothing is
  written. Intents without an entry_key (exits, manual trades) never collide.
* ``claim_next`` hands the oldest PENDING intent to exactly one claimer: PostgreSQL locks it with
  ``SELECT … FOR UPDATE SKIP LOCKED`` (concurrent claimers take different rows without waiting);
  SQLite serialises claimers with an IMMEDIATE transaction (``db.immediate``).
* Every intent ends in a terminal status with a reason code and text (``finish``,
  ``expire_stale``). CLAIMED intents are what a crash leaves behind: ``claimed()`` finds them,
  with the ``host:pid`` that claimed each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from autotrader.domain.intents import TERMINAL, IntentKind, IntentStatus, OrderIntent
from autotrader.domain.orders import Side
from autotrader.nudge import send_nudge
from autotrader.store.db import insert_for
from autotrader.store.models import ORDER_INTENTS
from autotrader.store.repos_common import (
    Now,
    check_limit,
    first_row,
    one_line,
    read_conn,
    utc_now,
    write_conn,
)

# The risk reason (domain/risk.py RiskReason.INTENT_EXPIRED) for intents expired unclaimed.
INTENT_EXPIRED = "INTENT_EXPIRED"
_OPEN = (IntentStatus.PENDING.value, IntentStatus.CLAIMED.value)
_CLAIM = (
    sa.select(ORDER_INTENTS)
    .where(ORDER_INTENTS.c.status == IntentStatus.PENDING.value)
    .order_by(ORDER_INTENTS.c.created_at, ORDER_INTENTS.c.id)
    .limit(1)
    .with_for_update(skip_locked=True)  # rendered on PostgreSQL only
)


@dataclass(frozen=True)
class StoredIntent:
    """An intent with where it is in its life."""

    intent: OrderIntent
    status: IntentStatus
    reason_code: str | None
    reason_text: str | None
    claimed_at: datetime | None
    claimed_by: str | None
    finished_at: datetime | None

    @property
    def id(self) -> str:
        """The intent's id."""
        return self.intent.id

    @property
    def terminal(self) -> bool:
        """Whether the executor is done with it."""
        return self.status in TERMINAL


@dataclass(frozen=True)
class IntentAdded:
    """``add`` stored the intent."""

    id: str


@dataclass(frozen=True)
class DuplicateEntry:
    """``add`` refused the intent: the strategy already has an entry for this entry_key."""

    id: str
    strategy: str
    entry_key: str
    existing_id: str

    @property
    def message(self) -> str:
        """One line for logs, the CLI and the intent's rejection."""
        return (
            f"strategy {self.strategy} already has an entry for {self.entry_key} "
            f"(intent {self.existing_id}); intent {self.id} refused"
        )


def _stored(r: sa.Row[Any] | SimpleNamespace) -> StoredIntent:
    intent = OrderIntent(
        id=r.id,
        strategy=r.strategy,
        market_slug=r.market_slug,
        token_id=r.token_id,
        outcome=r.outcome,
        side=Side(r.side),
        kind=IntentKind(r.kind),
        amount_usd=r.amount_usd,
        shares=r.shares,
        limit_price=r.limit_price,
        valid_until=r.valid_until,
        entry_key=r.entry_key,
        reason=r.reason,
        created_at=r.created_at,
    )
    return StoredIntent(
        intent=intent,
        status=IntentStatus(r.status),
        reason_code=r.reason_code,
        reason_text=r.reason_text,
        claimed_at=r.claimed_at,
        claimed_by=r.claimed_by,
        finished_at=r.finished_at,
    )


def _values(intent: OrderIntent) -> dict[str, object]:
    return {
        "id": intent.id,
        "strategy": intent.strategy,
        "market_slug": intent.market_slug,
        "token_id": intent.token_id,
        "outcome": intent.outcome,
        "side": intent.side.value,
        "kind": intent.kind.value,
        "amount_usd": intent.amount_usd,
        "shares": intent.shares,
        "limit_price": intent.limit_price,
        "valid_until": intent.valid_until,
        "entry_key": intent.entry_key,
        "reason": intent.reason,
        "status": IntentStatus.PENDING.value,
        "created_at": intent.created_at,
    }


class IntentRepo:
    """Writes, claims and finishes ``order_intents``."""

    def __init__(self, engine: Engine, *, now: Now = utc_now, nudge: Path | None = None) -> None:
        """``nudge``: the executor's socket (``autotrader.nudge``), woken after each add."""
        self._engine = engine
        self._now = now
        self._nudge = nudge

    def add(self, intent: OrderIntent) -> IntentAdded | DuplicateEntry:
        """Store ``intent`` as PENDING, or refuse a second entry for its (strategy, entry_key).

        Re-adding an intent id that exists raises ``ValueError`` (ids are fresh uuids: a repeat
        is a bug, not a duplicate entry).
        """
        # ON CONFLICT DO NOTHING: a refused row costs no exception and, on PostgreSQL, no
        # aborted transaction; RETURNING says whether a row went in (an INSERT's rowcount is -1
        # under psycopg), and the lookup below says which constraint refused it.
        stmt = insert_for(self._engine, ORDER_INTENTS).values(**_values(intent))
        with self._engine.begin() as conn:
            stmt = stmt.on_conflict_do_nothing().returning(ORDER_INTENTS.c.id)
            added = conn.execute(stmt).first() is not None
        if added:
            send_nudge(self._nudge)  # after the commit: the executor must find the row
            return IntentAdded(intent.id)
        existing = None
        if intent.entry_key is not None:
            existing = self._entry_owner(intent.strategy, intent.entry_key)
        if existing is not None and existing != intent.id:
            return DuplicateEntry(intent.id, intent.strategy, intent.entry_key or "", existing)
        raise ValueError(f"intent {intent.id} already exists")

    def _entry_owner(self, strategy: str, entry_key: str) -> str | None:
        query = sa.select(ORDER_INTENTS.c.id).where(
            ORDER_INTENTS.c.strategy == strategy, ORDER_INTENTS.c.entry_key == entry_key
        )
        with read_conn(self._engine) as conn:
            owner: str | None = conn.execute(query).scalar_one_or_none()
            return owner

    def pending_exists(self) -> bool:
        """Whether any intent is PENDING: one probe of the (status, created_at) index, cheap
        enough to run every few milliseconds (``claim_next`` is a write)."""
        query = sa.select(ORDER_INTENTS.c.id).where(
            ORDER_INTENTS.c.status == IntentStatus.PENDING.value
        )
        with self._engine.connect() as conn:
            return conn.execute(query.limit(1)).first() is not None

    def claim_next(self, claimer: str) -> StoredIntent | None:
        """Mark the oldest PENDING intent CLAIMED by ``claimer`` and return it (None: none).

        Expired intents are claimed too: the executor rejects them with a reason, so every
        intent gets one. Two claimers never get the same intent (see the module docstring).
        """
        # Core, not the ORM: a claim is the first write on every intent's path.
        with write_conn(self._engine) as conn:
            row = conn.execute(_CLAIM).mappings().one_or_none()
            if row is None:
                return None
            changes = {
                "status": IntentStatus.CLAIMED.value,
                "claimed_at": self._now(),
                "claimed_by": claimer,
            }
            conn.execute(
                ORDER_INTENTS.update().where(ORDER_INTENTS.c.id == row["id"]).values(changes)
            )
        return _stored(SimpleNamespace(**{**row, **changes}))

    def finish(
        self, intent_id: str, status: IntentStatus, reason_code: str, reason_text: str
    ) -> StoredIntent:
        """Give the intent its terminal ``status`` and reason.

        Finishing it again with the same status is a no-op (a restarted executor repeating
        itself); any other change to a finished intent, a non-terminal ``status`` or an empty
        reason raises ``ValueError`` and changes nothing.
        """
        new = IntentStatus(status)
        if new not in TERMINAL:
            raise ValueError(f"intent {intent_id}: {new} is not a terminal status")
        if not reason_code or not reason_text.strip():
            raise ValueError(f"intent {intent_id}: a finished intent needs a reason code and text")
        query = sa.select(ORDER_INTENTS).where(ORDER_INTENTS.c.id == intent_id).with_for_update()
        with write_conn(self._engine) as conn:
            row = conn.execute(query).one_or_none()
            if row is None:
                raise ValueError(f"no intent {intent_id}")
            if row.status == new.value:
                return _stored(row)
            if row.status not in _OPEN:
                raise ValueError(
                    f"intent {intent_id} is already {row.status}; cannot make it {new}"
                )
            changes = {
                "status": new.value,
                "reason_code": reason_code,
                "reason_text": one_line(reason_text),
                "finished_at": self._now(),
            }
            conn.execute(
                ORDER_INTENTS.update().where(ORDER_INTENTS.c.id == intent_id).values(changes)
            )
            return _stored(SimpleNamespace(**{**row._mapping, **changes}))

    def expire_stale(self, now: datetime) -> list[str]:
        """Expire every PENDING intent whose ``valid_until`` is at or before ``now``; their ids.

        Claimed ones are left to their claimer, which checks validity itself.
        """
        stale = sa.and_(
            ORDER_INTENTS.c.status == IntentStatus.PENDING.value, ORDER_INTENTS.c.valid_until <= now
        )
        with write_conn(self._engine) as conn:
            ids = list(conn.scalars(sa.select(ORDER_INTENTS.c.id).where(stale).with_for_update()))
            if ids:
                conn.execute(
                    sa.update(ORDER_INTENTS)
                    .where(ORDER_INTENTS.c.id.in_(ids), stale)
                    .values(
                        status=IntentStatus.EXPIRED.value,
                        reason_code=INTENT_EXPIRED,
                        reason_text=f"not claimed before valid_until ({now.isoformat()})",
                        finished_at=self._now(),
                    )
                )
        return sorted(ids)

    def get(self, intent_id: str) -> StoredIntent | None:
        """The intent with this id."""
        with read_conn(self._engine) as conn:
            row = first_row(conn, ORDER_INTENTS, id=intent_id)
            return _stored(row) if row else None

    def claimed(self, claimer: str | None = None) -> list[StoredIntent]:
        """CLAIMED intents (of ``claimer``), oldest first: what a crashed executor left."""
        query = sa.select(ORDER_INTENTS).where(ORDER_INTENTS.c.status == IntentStatus.CLAIMED.value)
        if claimer is not None:
            query = query.where(ORDER_INTENTS.c.claimed_by == claimer)
        query = query.order_by(ORDER_INTENTS.c.created_at, ORDER_INTENTS.c.id)
        with read_conn(self._engine) as conn:
            return [_stored(r) for r in conn.execute(query)]

    def list(
        self,
        strategy: str | None = None,
        status: IntentStatus | None = None,
        limit: int = 100,
    ) -> list[StoredIntent]:
        """The newest ``limit`` intents (of ``strategy``, in ``status``), newest first."""
        query = sa.select(ORDER_INTENTS)
        if strategy is not None:
            query = query.where(ORDER_INTENTS.c.strategy == strategy)
        if status is not None:
            query = query.where(ORDER_INTENTS.c.status == IntentStatus(status).value)
        query = query.order_by(ORDER_INTENTS.c.created_at.desc(), ORDER_INTENTS.c.id.desc())
        with read_conn(self._engine) as conn:
            return [_stored(r) for r in conn.execute(query.limit(check_limit(limit)))]
