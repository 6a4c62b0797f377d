"""Notification delivery tables (issue 6).

Imported at the end of ``models.py`` so every table is on ``metadata``.

* ``notification_dispatch``: one row per event the dispatcher has planned (even when no channel
  wanted it). An anti-join against it finds new events; a plain "last id" cursor would skip an
  event whose transaction committed after a later id's (PostgreSQL hands ids out before commit).
* ``notification_deliveries``: one message to send on one channel — a single event, or a digest
  (hourly, daily, end of quiet hours) keyed by its channel and release time. It records every
  attempt: status, attempts, the next attempt and the last error, so a restart resumes it.
* ``notification_delivery_events``: which events a delivery carries.
"""

from __future__ import annotations

import sqlalchemy as sa

from autotrader.store.models import metadata
from autotrader.store.types import UTCDateTime

# An event the dispatcher has turned into deliveries (possibly none).
NOTIFICATION_DISPATCH = sa.Table(
    "notification_dispatch",
    metadata,
    sa.Column(
        "event_id",
        sa.Integer(),
        sa.ForeignKey("notification_events.id"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("scheduled_at", UTCDateTime(), nullable=False),
)


# One e-mail or webhook call, for one event or a digest of several.
NOTIFICATION_DELIVERIES = sa.Table(
    "notification_deliveries",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(16), nullable=False),
    # "event:<id>" for a single event, "digest:<release time>" for a digest.
    sa.Column("digest_key", sa.String(128), nullable=False),
    # event | hourly | daily | quiet_hours: why it goes out when it does (the e-mail says so).
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("due_at", UTCDateTime(), nullable=False),
    # pending (not tried yet) | retrying (failed, next_attempt_at set) | sent
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
    sa.Column("last_error", sa.Text()),
    sa.Column("sent_at", UTCDateTime()),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("channel", "digest_key"),
    sa.Index(None, "status", "next_attempt_at"),
)


# Event ``event_id`` is part of delivery ``delivery_id``.
NOTIFICATION_DELIVERY_EVENTS = sa.Table(
    "notification_delivery_events",
    metadata,
    sa.Column(
        "delivery_id",
        sa.Integer(),
        sa.ForeignKey("notification_deliveries.id"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column(
        "event_id",
        sa.Integer(),
        sa.ForeignKey("notification_events.id"),
        primary_key=True,
        autoincrement=False,
        index=True,
    ),
)
