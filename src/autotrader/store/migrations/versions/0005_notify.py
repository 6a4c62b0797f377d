"""Notification delivery tables (issue 6).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the tables."""
    op.create_table(
        "notification_dispatch",
        sa.Column("event_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("scheduled_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["notification_events.id"],
            name=op.f("fk_notification_dispatch_event_id_notification_events"),
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_notification_dispatch")),
    )
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("digest_key", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", _TS, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", _TS, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
        sa.UniqueConstraint(
            "channel", "digest_key", name=op.f("uq_notification_deliveries_channel_digest_key")
        ),
    )
    op.create_index(
        op.f("ix_notification_deliveries_status_next_attempt_at"),
        "notification_deliveries",
        ["status", "next_attempt_at"],
    )
    op.create_table(
        "notification_delivery_events",
        sa.Column("delivery_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["notification_deliveries.id"],
            name=op.f("fk_notification_delivery_events_delivery_id_notification_deliveries"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["notification_events.id"],
            name=op.f("fk_notification_delivery_events_event_id_notification_events"),
        ),
        sa.PrimaryKeyConstraint(
            "delivery_id", "event_id", name=op.f("pk_notification_delivery_events")
        ),
    )
    op.create_index(
        op.f("ix_notification_delivery_events_event_id"),
        "notification_delivery_events",
        ["event_id"],
    )


def downgrade() -> None:
    """Drop the tables, children first."""
    op.drop_table("notification_delivery_events")
    op.drop_table("notification_deliveries")
    op.drop_table("notification_dispatch")
