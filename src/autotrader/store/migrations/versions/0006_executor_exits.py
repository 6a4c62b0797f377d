"""Executor additions: paper venue state, position overrides, redeemable (issue 4).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MONEY = sa.Numeric(precision=20, scale=8)
_TS = sa.DateTime(timezone=True)
_TABLES = (
    "position_overrides",
    "exit_intents",
    "position_redemptions",
    "paper_orders",
    "paper_fills",
    "paper_settlements",
)


def upgrade() -> None:
    """Create the tables."""
    _positions()
    _paper()


def _positions() -> None:
    op.create_table(
        "position_overrides",
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("market_slug", sa.String(length=255), nullable=False),
        sa.Column("outcome", sa.String(length=64), nullable=False),
        sa.Column("stop_loss_pct", _MONEY, nullable=True),
        sa.Column("take_profit_pct", _MONEY, nullable=True),
        sa.Column("stop_loss_fraction", _MONEY, nullable=True),
        sa.Column("take_profit_fraction", _MONEY, nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint(
            "strategy", "market_slug", "outcome", name=op.f("pk_position_overrides")
        ),
    )
    op.create_table(
        "exit_intents",
        sa.Column("intent_id", sa.String(length=64), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("token_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.Column("position_opened_at", _TS, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("intent_id", name=op.f("pk_exit_intents")),
    )
    op.create_index(
        op.f("ix_exit_intents_strategy_token_id"), "exit_intents", ["strategy", "token_id"]
    )
    op.create_table(
        "position_redemptions",
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("market_slug", sa.String(length=255), nullable=False),
        sa.Column("token_id", sa.String(length=128), nullable=False),
        sa.Column("outcome", sa.String(length=64), nullable=False),
        sa.Column("shares", _MONEY, nullable=False),
        sa.Column("payout_usd", _MONEY, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("redeemed_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint(
            "strategy", "market_slug", "token_id", name=op.f("pk_position_redemptions")
        ),
    )


def _paper() -> None:
    op.create_table(
        "paper_orders",
        sa.Column("venue_order_id", sa.String(length=128), nullable=False),
        sa.Column("client_order_id", sa.String(length=128), nullable=False),
        sa.Column("token_id", sa.String(length=128), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("order_type", sa.String(length=8), nullable=False),
        sa.Column("req_price", _MONEY, nullable=True),
        sa.Column("req_size", _MONEY, nullable=True),
        sa.Column("req_amount_usd", _MONEY, nullable=True),
        sa.Column("post_only", sa.Boolean(), nullable=False),
        sa.Column("expires_at", _TS, nullable=True),
        sa.Column("tick_size", _MONEY, nullable=True),
        sa.Column("neg_risk", sa.Boolean(), nullable=True),
        sa.Column("price", _MONEY, nullable=False),
        sa.Column("size", _MONEY, nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("matched", _MONEY, nullable=False),
        sa.Column("n_fills", sa.Integer(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("venue_order_id", name=op.f("pk_paper_orders")),
    )
    op.create_index(op.f("ix_paper_orders_status"), "paper_orders", ["status"])
    op.create_table(
        "paper_fills",
        sa.Column("trade_id", sa.String(length=128), nullable=False),
        sa.Column("venue_order_id", sa.String(length=128), nullable=False),
        sa.Column("token_id", sa.String(length=128), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("price", _MONEY, nullable=False),
        sa.Column("size", _MONEY, nullable=False),
        sa.Column("fee_usd", _MONEY, nullable=False),
        sa.Column("ts", _TS, nullable=False),
        sa.Column("liquidity", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("trade_id", name=op.f("pk_paper_fills")),
    )
    op.create_index(op.f("ix_paper_fills_ts"), "paper_fills", ["ts"])
    op.create_index(op.f("ix_paper_fills_venue_order_id"), "paper_fills", ["venue_order_id"])
    op.create_table(
        "paper_settlements",
        sa.Column("token_id", sa.String(length=128), nullable=False),
        sa.Column("market_id", sa.String(length=128), nullable=False),
        sa.Column("outcome", sa.String(length=64), nullable=False),
        sa.Column("shares", _MONEY, nullable=False),
        sa.Column("payout_per_share", _MONEY, nullable=False),
        sa.Column("ts", _TS, nullable=False),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_paper_settlements")),
    )


def downgrade() -> None:
    """Drop the tables (their indexes go with them)."""
    for table in reversed(_TABLES):
        op.drop_table(table)
