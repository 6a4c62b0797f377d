"""Pipeline tables: watchlist and deferred items (issue 5).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MONEY = sa.Numeric(precision=20, scale=8)
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the tables."""
    op.create_table(
        "watchlist",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("market_slug", sa.String(length=255), nullable=False),
        sa.Column("market_id", sa.String(length=100), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("added_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=True),
        sa.Column("price_at_add", _MONEY, nullable=True),
        sa.Column("volume_at_add", _MONEY, nullable=True),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlist")),
        sa.UniqueConstraint(
            "strategy", "market_slug", name=op.f("uq_watchlist_strategy_market_slug")
        ),
    )
    op.create_table(
        "deferred_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("node_index", sa.Integer(), nullable=False),
        sa.Column("item", sa.JSON(), nullable=False),
        sa.Column("resume_at", _TS, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deferred_items")),
    )
    op.create_index(
        op.f("ix_deferred_items_strategy_resume_at"), "deferred_items", ["strategy", "resume_at"]
    )


def downgrade() -> None:
    """Drop the tables."""
    op.drop_index(op.f("ix_deferred_items_strategy_resume_at"), table_name="deferred_items")
    op.drop_table("deferred_items")
    op.drop_table("watchlist")
