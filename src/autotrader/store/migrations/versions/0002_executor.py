"""Executor tables: intents, orders, fills, settlements, strategy runtime, events, state.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MONEY = sa.Numeric(precision=20, scale=8)
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the executor's tables (parents before children)."""
    _intents()
    _orders()
    _fills()
    _settlements()
    _runtime_events_state()


def _intents() -> None:
    op.create_table(
        "order_intents",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("market_slug", sa.String(length=255), nullable=False),
        sa.Column("token_id", sa.String(length=128), nullable=False),
        sa.Column("outcome", sa.String(length=64), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_usd", _MONEY, nullable=True),
        sa.Column("shares", _MONEY, nullable=True),
        sa.Column("limit_price", _MONEY, nullable=True),
        sa.Column("valid_until", _TS, nullable=False),
        sa.Column("entry_key", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("reason_code", sa.String(length=64), nullable=True),
        sa.Column("reason_text", sa.Text(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("claimed_at", _TS, nullable=True),
        sa.Column("claimed_by", sa.String(length=255), nullable=True),
        sa.Column("finished_at", _TS, nullable=True),
        sa.CheckConstraint(
            "(amount_usd IS NULL) <> (shares IS NULL)",
            name=op.f("ck_order_intents_amount_xor_shares"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_intents")),
        sa.UniqueConstraint(
            "strategy", "entry_key", name=op.f("uq_order_intents_strategy_entry_key")
        ),
    )
    op.create_index(
        op.f("ix_order_intents_status_created_at"), "order_intents", ["status", "created_at"]
    )
    op.create_index(
        op.f("ix_order_intents_strategy_created_at"), "order_intents", ["strategy", "created_at"]
    )


def _orders() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("intent_id", sa.String(length=64), nullable=True),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("market_slug", sa.String(length=255), nullable=True),
        sa.Column("outcome", sa.String(length=64), nullable=True),
        sa.Column("token_id", sa.String(length=128), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("order_type", sa.String(length=8), nullable=False),
        sa.Column("price", _MONEY, nullable=True),
        sa.Column("size", _MONEY, nullable=True),
        sa.Column("amount_usd", _MONEY, nullable=True),
        sa.Column("venue_order_id", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("reason_code", sa.String(length=64), nullable=True),
        sa.Column("reason_text", sa.Text(), nullable=True),
        sa.Column("size_matched", _MONEY, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["intent_id"], ["order_intents.id"], name=op.f("fk_orders_intent_id_order_intents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("venue_order_id", name=op.f("uq_orders_venue_order_id")),
    )
    op.create_index(op.f("ix_orders_intent_id"), "orders", ["intent_id"])
    op.create_index(op.f("ix_orders_status"), "orders", ["status"])
    op.create_index(op.f("ix_orders_strategy_created_at"), "orders", ["strategy", "created_at"])


def _fills() -> None:
    op.create_table(
        "fills",
        sa.Column("trade_id", sa.String(length=128), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("venue_order_id", sa.String(length=128), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("token_id", sa.String(length=128), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("price", _MONEY, nullable=False),
        sa.Column("size", _MONEY, nullable=False),
        sa.Column("fee_usd", _MONEY, nullable=False),
        sa.Column("ts", _TS, nullable=False),
        sa.Column("liquidity", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_fills_order_id_orders")),
        sa.PrimaryKeyConstraint("trade_id", name=op.f("pk_fills")),
    )
    op.create_index(op.f("ix_fills_order_id"), "fills", ["order_id"])
    op.create_index(op.f("ix_fills_strategy_ts"), "fills", ["strategy", "ts"])
    op.create_index(op.f("ix_fills_ts"), "fills", ["ts"])
    op.create_index(op.f("ix_fills_venue_order_id"), "fills", ["venue_order_id"])


def _settlements() -> None:
    op.create_table(
        "settlements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("market_slug", sa.String(length=255), nullable=False),
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("token_id", sa.String(length=128), nullable=False),
        sa.Column("outcome", sa.String(length=64), nullable=False),
        sa.Column("winning_outcome", sa.String(length=64), nullable=True),
        sa.Column("shares", _MONEY, nullable=False),
        sa.Column("payout_per_share", _MONEY, nullable=False),
        sa.Column("ts", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlements")),
        sa.UniqueConstraint(
            "strategy",
            "token_id",
            "market_slug",
            name=op.f("uq_settlements_strategy_token_id_market_slug"),
        ),
    )
    op.create_index(op.f("ix_settlements_ts"), "settlements", ["ts"])


def _runtime_events_state() -> None:
    op.create_table(
        "strategy_runtime",
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("pause_reason", sa.Text(), nullable=True),
        sa.Column("paused_at", _TS, nullable=True),
        sa.Column("consecutive_venue_failures", sa.Integer(), nullable=False),
        sa.Column("last_entry_at", _TS, nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("strategy", name=op.f("pk_strategy_runtime")),
    )
    op.create_table(
        "notification_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("read_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_events")),
    )
    op.create_index(
        op.f("ix_notification_events_created_at"), "notification_events", ["created_at"]
    )
    op.create_index(
        op.f("ix_notification_events_read_at_id"), "notification_events", ["read_at", "id"]
    )
    op.create_table(
        "executor_state",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_executor_state")),
    )


def downgrade() -> None:
    """Drop them again, children first."""
    for table in (
        "executor_state",
        "notification_events",
        "strategy_runtime",
        "settlements",
        "fills",
        "orders",
        "order_intents",
    ):
        # Dropping a table drops its indexes on both backends.
        op.drop_table(table)
