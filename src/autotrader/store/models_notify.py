"""Notification delivery tables (issue 6).

Imported at the end of ``models.py`` so every table is on ``Base.metadata``.

* ``notification_dispatch``: one row per event the dispatcher has planned (even when no channel
  wanted it). An anti-join against it finds new events; a plain "last id" cursor would skip an
  event whose transaction committed after a later id's (PostgreSQL hands ids out before commit).
* ``notification_deliveries``: one message to send on one channel — a single event, or a digest
  (hourly, daily, end of quiet hours) keyed by its channel and release time. It records every
  attempt: status, attempts, the next attempt and the last error, so a restart resumes it.
* ``notification_delivery_events``: which events a delivery carries.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from autotrader.store.models import Base


class NotificationDispatchRow(Base):
    """An event the dispatcher has turned into deliveries (possibly none)."""

    __tablename__ = "notification_dispatch"

    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("notification_events.id"), primary_key=True, autoincrement=False
    )
    scheduled_at: Mapped[datetime]


class NotificationDeliveryRow(Base):
    """One e-mail or webhook call, for one event or a digest of several."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("channel", "digest_key"),
        sa.Index(None, "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(sa.String(16))
    # "event:<id>" for a single event, "digest:<release time>" for a digest.
    digest_key: Mapped[str] = mapped_column(sa.String(128))
    # event | hourly | daily | quiet_hours: why it goes out when it does (the e-mail says so).
    kind: Mapped[str] = mapped_column(sa.String(16))
    due_at: Mapped[datetime]
    # pending (not tried yet) | retrying (failed, next_attempt_at set) | sent
    status: Mapped[str] = mapped_column(sa.String(16))
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class NotificationDeliveryEventRow(Base):
    """Event ``event_id`` is part of delivery ``delivery_id``."""

    __tablename__ = "notification_delivery_events"

    delivery_id: Mapped[int] = mapped_column(
        sa.ForeignKey("notification_deliveries.id"), primary_key=True, autoincrement=False
    )
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("notification_events.id"), primary_key=True, autoincrement=False, index=True
    )
