"""The notification outbox: events planned into deliveries, and each delivery's attempts.

``DeliveryRepo.schedule`` finds events not planned yet, asks a planner where each goes and
writes the deliveries in the same transaction as the "planned" marks, so a crash never plans an
event twice or forgets one. Sending is at least once: a crash between the SMTP server's
acceptance and ``mark_sent`` sends that message again after the restart; nothing is lost.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from autotrader.store.db import insert_for
from autotrader.store.models import NotificationEventRow
from autotrader.store.models_notify import (
    NotificationDeliveryEventRow,
    NotificationDeliveryRow,
    NotificationDispatchRow,
)
from autotrader.store.repos_common import Now, check_limit, read_session, utc_now, write_session
from autotrader.store.repos_runtime import NotificationEvent

OPEN_STATUSES = ("pending", "retrying")
# New events are looked for above (highest planned id - this): ids commit out of order only
# within a few concurrent transactions, and the bound keeps the anti-join off old history.
_REORDER_WINDOW = 1000


@dataclass(frozen=True)
class Plan:
    """One channel's delivery of one event: which message it joins and when that is due."""

    channel: str
    key: str  # "event:<id>" or "digest:<release instant>"
    kind: str  # event | hourly | daily | quiet_hours
    due_at: datetime


Planner = Callable[[NotificationEvent], Sequence[Plan]]


@dataclass(frozen=True)
class Delivery:
    """One message on one channel, with the events it carries (oldest first)."""

    id: int
    channel: str
    kind: str
    due_at: datetime
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None
    events: tuple[NotificationEvent, ...] = ()


@dataclass(frozen=True)
class DeliveryState:
    """How one event fared on one channel (for ``autotrader notifications``)."""

    delivery_id: int
    channel: str
    kind: str
    status: str
    attempts: int
    due_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None


def _event(r: NotificationEventRow) -> NotificationEvent:
    return NotificationEvent(r.id, r.type, r.strategy, r.created_at, dict(r.payload), r.read_at)


def _delivery(r: NotificationDeliveryRow, events: Iterable[NotificationEvent] = ()) -> Delivery:
    return Delivery(
        r.id, r.channel, r.kind, r.due_at, r.status, r.attempts, r.next_attempt_at,
        r.last_error, r.sent_at, tuple(events),
    )  # fmt: skip


def _state(r: NotificationDeliveryRow) -> DeliveryState:
    return DeliveryState(
        r.id, r.channel, r.kind, r.status, r.attempts, r.due_at,
        r.next_attempt_at, r.sent_at, r.last_error,
    )  # fmt: skip


class DeliveryRepo:
    """Reads and changes the delivery tables."""

    def __init__(self, engine: Engine, *, now: Now = utc_now) -> None:
        self._engine = engine
        self._now = now

    # -- planning ----------------------------------------------------------------------------
    def schedule(self, planner: Planner, *, limit: int = 500) -> int:
        """Plan up to ``limit`` new events (oldest first); how many were planned."""
        now = self._now()
        # Called every tick: look first, so an idle tick never takes SQLite's write lock.
        with read_session(self._engine) as session, session.begin():
            if not self._unplanned(session, 1):
                return 0
        with write_session(self._engine) as session, session.begin():
            events = self._unplanned(session, check_limit(limit))
            for event in events:
                for plan in planner(event):
                    self._attach(session, plan, event.id, now)
                session.add(NotificationDispatchRow(event_id=event.id, scheduled_at=now))
        return len(events)

    @staticmethod
    def _unplanned(session: Session, limit: int) -> list[NotificationEvent]:
        ev, mark = NotificationEventRow, NotificationDispatchRow
        floor = sa.select(sa.func.coalesce(sa.func.max(mark.event_id), 0) - _REORDER_WINDOW)
        query = (
            sa.select(ev)
            .where(ev.id > floor.scalar_subquery())
            .where(~sa.exists().where(mark.event_id == ev.id))
            .order_by(ev.id)
            .limit(limit)
        )
        return [_event(r) for r in session.scalars(query)]

    def _attach(self, session: Session, plan: Plan, event_id: int, now: datetime) -> None:
        """Add ``event_id`` to the open delivery ``plan`` names, creating it if needed."""
        row = self._open_delivery(session, plan, plan.key, now)
        if row is None:
            # The digest with this key already went out (the clock was set back): send the
            # event on its own rather than never.
            row = self._open_delivery(session, plan, f"{plan.key}#{event_id}", now)
            assert row is not None
        if plan.kind == "quiet_hours" and row.kind != plan.kind:
            row.kind = plan.kind  # an hourly digest that quiet hours pushed back
        link = insert_for(self._engine, NotificationDeliveryEventRow).values(
            delivery_id=row.id, event_id=event_id
        )
        session.execute(link.on_conflict_do_nothing())

    def _open_delivery(
        self, session: Session, plan: Plan, key: str, now: datetime
    ) -> NotificationDeliveryRow | None:
        seed = insert_for(self._engine, NotificationDeliveryRow).values(
            channel=plan.channel, digest_key=key, kind=plan.kind, due_at=plan.due_at,
            status="pending", attempts=0, next_attempt_at=plan.due_at, created_at=now,
        )  # fmt: skip
        session.execute(seed.on_conflict_do_nothing(index_elements=["channel", "digest_key"]))
        query = (
            sa.select(NotificationDeliveryRow)
            .where(NotificationDeliveryRow.channel == plan.channel)
            .where(NotificationDeliveryRow.digest_key == key)
            .with_for_update()
        )
        row = session.scalars(query).one()
        return None if row.status == "sent" else row

    # -- sending -----------------------------------------------------------------------------
    def due(self, channel: str, at: datetime, *, limit: int = 20) -> list[Delivery]:
        """Open deliveries of ``channel`` whose next attempt is due at ``at``, earliest first."""
        d = NotificationDeliveryRow
        query = (
            sa.select(d)
            .where(d.channel == channel, d.status.in_(OPEN_STATUSES), d.next_attempt_at <= at)
            .order_by(d.next_attempt_at, d.id)
            .limit(check_limit(limit))
        )
        with read_session(self._engine) as session, session.begin():
            rows = list(session.scalars(query))
            events = self._events_of(session, [r.id for r in rows])
            return [_delivery(r, events[r.id]) for r in rows]

    @staticmethod
    def _events_of(session: Session, ids: list[int]) -> dict[int, list[NotificationEvent]]:
        link, ev = NotificationDeliveryEventRow, NotificationEventRow
        query = (
            sa.select(link.delivery_id, ev)
            .join(ev, ev.id == link.event_id)
            .where(link.delivery_id.in_(ids))
            .order_by(ev.id)
        )
        found: dict[int, list[NotificationEvent]] = defaultdict(list)
        for delivery_id, row in session.execute(query):
            found[delivery_id].append(_event(row))
        return found

    def mark_sent(self, delivery_id: int, at: datetime) -> None:
        """Record a successful attempt."""
        d = NotificationDeliveryRow
        stmt = (
            sa.update(d)
            .where(d.id == delivery_id)
            .values(status="sent", sent_at=at, attempts=d.attempts + 1, last_error=None)
        )
        with self._engine.begin() as conn:
            conn.execute(stmt)

    def mark_failed(self, delivery_id: int, error: str, retry_at: datetime) -> int:
        """Record a failed attempt and when to try again; the attempts so far."""
        d = NotificationDeliveryRow
        stmt = (
            sa.update(d)
            .where(d.id == delivery_id, d.status.in_(OPEN_STATUSES))
            .values(
                status="retrying",
                attempts=d.attempts + 1,
                next_attempt_at=retry_at,
                last_error=" ".join(error.split())[:500],
            )
            .returning(d.attempts)
        )
        with self._engine.begin() as conn:
            return int(conn.execute(stmt).scalar_one_or_none() or 0)

    # -- reading -----------------------------------------------------------------------------
    def open_counts(self) -> dict[tuple[str, str], int]:
        """Open deliveries by (channel, status)."""
        d = NotificationDeliveryRow
        query = (
            sa.select(d.channel, d.status, sa.func.count())
            .where(d.status.in_(OPEN_STATUSES))
            .group_by(d.channel, d.status)
        )
        with read_session(self._engine) as session, session.begin():
            return {(c, s): int(n) for c, s, n in session.execute(query)}

    def get(self, delivery_id: int) -> Delivery | None:
        """One delivery with its events."""
        with read_session(self._engine) as session, session.begin():
            row = session.get(NotificationDeliveryRow, delivery_id)
            if row is None:
                return None
            return _delivery(row, self._events_of(session, [row.id])[row.id])

    def all(self, *, limit: int = 1000) -> list[Delivery]:
        """Deliveries, oldest first (without their events)."""
        query = sa.select(NotificationDeliveryRow).order_by(NotificationDeliveryRow.id)
        with read_session(self._engine) as session, session.begin():
            return [_delivery(r) for r in session.scalars(query.limit(check_limit(limit)))]

    def states_for(self, event_ids: Sequence[int]) -> dict[int, list[DeliveryState]]:
        """How each of ``event_ids`` was delivered, per channel (absent: not planned yet)."""
        link, d = NotificationDeliveryEventRow, NotificationDeliveryRow
        query = (
            sa.select(link.event_id, d)
            .join(d, d.id == link.delivery_id)
            .where(link.event_id.in_(list(event_ids)))
            .order_by(d.channel, d.id)
        )
        found: dict[int, list[DeliveryState]] = defaultdict(list)
        with read_session(self._engine) as session, session.begin():
            for event_id, r in session.execute(query):
                found[event_id].append(_state(r))
        return dict(found)

    def planned(self, event_ids: Sequence[int]) -> set[int]:
        """Which of ``event_ids`` the dispatcher has planned."""
        mark = NotificationDispatchRow
        query = sa.select(mark.event_id).where(mark.event_id.in_(list(event_ids)))
        with read_session(self._engine) as session, session.begin():
            return set(session.scalars(query))
