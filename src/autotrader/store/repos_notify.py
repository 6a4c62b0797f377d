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
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from autotrader.store.db import insert_for
from autotrader.store.models import NOTIFICATION_EVENTS
from autotrader.store.models_notify import (
    NOTIFICATION_DELIVERIES,
    NOTIFICATION_DELIVERY_EVENTS,
    NOTIFICATION_DISPATCH,
)
from autotrader.store.repos_common import (
    Now,
    check_limit,
    first_row,
    read_conn,
    utc_now,
    write_conn,
)
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


def _event(r: sa.Row[Any]) -> NotificationEvent:
    return NotificationEvent(r.id, r.type, r.strategy, r.created_at, dict(r.payload), r.read_at)


def _delivery(r: sa.Row[Any], events: Iterable[NotificationEvent] = ()) -> Delivery:
    return Delivery(
        r.id, r.channel, r.kind, r.due_at, r.status, r.attempts, r.next_attempt_at,
        r.last_error, r.sent_at, tuple(events),
    )  # fmt: skip


def _state(r: sa.Row[Any]) -> DeliveryState:
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
        with read_conn(self._engine) as conn:
            if not self._unplanned(conn, 1):
                return 0
        with write_conn(self._engine) as conn:
            events = self._unplanned(conn, check_limit(limit))
            for event in events:
                for plan in planner(event):
                    self._attach(conn, plan, event.id, now)
                mark = sa.insert(NOTIFICATION_DISPATCH).values(event_id=event.id, scheduled_at=now)
                conn.execute(mark)
        return len(events)

    @staticmethod
    def _unplanned(conn: Connection, limit: int) -> list[NotificationEvent]:
        ev, mark = NOTIFICATION_EVENTS.c, NOTIFICATION_DISPATCH.c
        floor = sa.select(sa.func.coalesce(sa.func.max(mark.event_id), 0) - _REORDER_WINDOW)
        query = (
            sa.select(NOTIFICATION_EVENTS)
            .where(ev.id > floor.scalar_subquery())
            .where(~sa.exists().where(mark.event_id == ev.id))
            .order_by(ev.id)
            .limit(limit)
        )
        return [_event(r) for r in conn.execute(query)]

    def _attach(self, conn: Connection, plan: Plan, event_id: int, now: datetime) -> None:
        """Add ``event_id`` to the open delivery ``plan`` names, creating it if needed."""
        row = self._open_delivery(conn, plan, plan.key, now)
        if row is None:
            # The digest with this key already went out (the clock was set back): send the
            # event on its own rather than never.
            row = self._open_delivery(conn, plan, f"{plan.key}#{event_id}", now)
            assert row is not None
        if plan.kind == "quiet_hours" and row.kind != plan.kind:
            # An hourly digest that quiet hours pushed back.
            d = NOTIFICATION_DELIVERIES
            conn.execute(sa.update(d).where(d.c.id == row.id).values(kind=plan.kind))
        link = insert_for(self._engine, NOTIFICATION_DELIVERY_EVENTS).values(
            delivery_id=row.id, event_id=event_id
        )
        conn.execute(link.on_conflict_do_nothing())

    def _open_delivery(
        self, conn: Connection, plan: Plan, key: str, now: datetime
    ) -> sa.Row[Any] | None:
        seed = insert_for(self._engine, NOTIFICATION_DELIVERIES).values(
            channel=plan.channel, digest_key=key, kind=plan.kind, due_at=plan.due_at,
            status="pending", attempts=0, next_attempt_at=plan.due_at, created_at=now,
        )  # fmt: skip
        conn.execute(seed.on_conflict_do_nothing(index_elements=["channel", "digest_key"]))
        d = NOTIFICATION_DELIVERIES
        query = (
            sa.select(d)
            .where(d.c.channel == plan.channel)
            .where(d.c.digest_key == key)
            .with_for_update()
        )
        row = conn.execute(query).one()
        return None if row.status == "sent" else row

    # -- sending -----------------------------------------------------------------------------
    def due(self, channel: str, at: datetime, *, limit: int = 20) -> list[Delivery]:
        """Open deliveries of ``channel`` whose next attempt is due at ``at``, earliest first."""
        d = NOTIFICATION_DELIVERIES.c
        query = (
            sa.select(NOTIFICATION_DELIVERIES)
            .where(d.channel == channel, d.status.in_(OPEN_STATUSES), d.next_attempt_at <= at)
            .order_by(d.next_attempt_at, d.id)
            .limit(check_limit(limit))
        )
        with read_conn(self._engine) as conn:
            rows = list(conn.execute(query))
            events = self._events_of(conn, [r.id for r in rows])
            return [_delivery(r, events[r.id]) for r in rows]

    @staticmethod
    def _events_of(conn: Connection, ids: list[int]) -> dict[int, list[NotificationEvent]]:
        link, ev = NOTIFICATION_DELIVERY_EVENTS.c, NOTIFICATION_EVENTS
        query = (
            sa.select(link.delivery_id, ev)
            .join(ev, ev.c.id == link.event_id)
            .where(link.delivery_id.in_(ids))
            .order_by(ev.c.id)
        )
        found: dict[int, list[NotificationEvent]] = defaultdict(list)
        for row in conn.execute(query):  # delivery_id, then the event's columns
            found[row.delivery_id].append(_event(row))
        return found

    def mark_sent(self, delivery_id: int, at: datetime) -> None:
        """Record a successful attempt."""
        d = NOTIFICATION_DELIVERIES.c
        stmt = (
            sa.update(NOTIFICATION_DELIVERIES)
            .where(d.id == delivery_id)
            .values(status="sent", sent_at=at, attempts=d.attempts + 1, last_error=None)
        )
        with self._engine.begin() as conn:
            conn.execute(stmt)

    def mark_failed(self, delivery_id: int, error: str, retry_at: datetime) -> int:
        """Record a failed attempt and when to try again; the attempts so far."""
        d = NOTIFICATION_DELIVERIES.c
        stmt = (
            sa.update(NOTIFICATION_DELIVERIES)
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
        d = NOTIFICATION_DELIVERIES.c
        query = (
            sa.select(d.channel, d.status, sa.func.count())
            .where(d.status.in_(OPEN_STATUSES))
            .group_by(d.channel, d.status)
        )
        with read_conn(self._engine) as conn:
            return {(c, s): int(n) for c, s, n in conn.execute(query)}

    def get(self, delivery_id: int) -> Delivery | None:
        """One delivery with its events."""
        with read_conn(self._engine) as conn:
            row = first_row(conn, NOTIFICATION_DELIVERIES, id=delivery_id)
            if row is None:
                return None
            return _delivery(row, self._events_of(conn, [row.id])[row.id])

    def all(self, *, limit: int = 1000) -> list[Delivery]:
        """Deliveries, oldest first (without their events)."""
        d = NOTIFICATION_DELIVERIES
        query = sa.select(d).order_by(d.c.id).limit(check_limit(limit))
        with read_conn(self._engine) as conn:
            return [_delivery(r) for r in conn.execute(query)]

    def states_for(self, event_ids: Sequence[int]) -> dict[int, list[DeliveryState]]:
        """How each of ``event_ids`` was delivered, per channel (absent: not planned yet)."""
        link, d = NOTIFICATION_DELIVERY_EVENTS.c, NOTIFICATION_DELIVERIES
        query = (
            sa.select(link.event_id, d)
            .join(d, d.c.id == link.delivery_id)
            .where(link.event_id.in_(list(event_ids)))
            .order_by(d.c.channel, d.c.id)
        )
        found: dict[int, list[DeliveryState]] = defaultdict(list)
        with read_conn(self._engine) as conn:
            for r in conn.execute(query):  # event_id, then the delivery's columns
                found[r.event_id].append(_state(r))
        return dict(found)

    def planned(self, event_ids: Sequence[int]) -> set[int]:
        """Which of ``event_ids`` the dispatcher has planned."""
        mark = NOTIFICATION_DISPATCH.c
        query = sa.select(mark.event_id).where(mark.event_id.in_(list(event_ids)))
        with read_conn(self._engine) as conn:
            return set(conn.scalars(query))
