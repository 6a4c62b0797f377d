"""Pipeline tables: watchlist and deferred items (issue 5).

Imported at the end of ``models.py`` so every table is on ``metadata``.

* ``watchlist``: the markets a pipeline strategy (or its operator, by hand) is watching, one row
  per (strategy, market slug); price and volume when added, and an optional expiry.
* ``deferred_items``: items a ``wait`` node set aside; a later run of the strategy resumes each
  at ``node_index`` once ``resume_at`` has passed. In the database, so a restart loses nothing.
"""

from __future__ import annotations

import sqlalchemy as sa

from autotrader.store.models import ID_WIDTH, metadata
from autotrader.store.types import Money, UTCDateTime

# A market on a strategy's watchlist (at most once per strategy).
WATCHLIST = sa.Table(
    "watchlist",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("strategy", sa.String(ID_WIDTH), nullable=False),
    sa.Column("market_slug", sa.String(255), nullable=False),
    sa.Column("market_id", sa.String(100), nullable=False),
    sa.Column("question", sa.Text(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("added_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime()),
    sa.Column("price_at_add", Money()),
    sa.Column("volume_at_add", Money()),
    sa.Column("meta", sa.JSON(), nullable=False),
    sa.UniqueConstraint("strategy", "market_slug"),
)


# An item waiting (``wait`` node) to resume the pipeline at ``node_index``.
DEFERRED_ITEMS = sa.Table(
    "deferred_items",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("strategy", sa.String(ID_WIDTH), nullable=False),
    sa.Column("node_index", sa.Integer(), nullable=False),
    sa.Column("item", sa.JSON(), nullable=False),
    sa.Column("resume_at", UTCDateTime(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index(None, "strategy", "resume_at"),
)
