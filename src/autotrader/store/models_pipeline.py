"""Pipeline tables: watchlist and deferred items (issue 5).

Imported at the end of ``models.py`` so every table is on ``Base.metadata``.

* ``watchlist``: the markets a pipeline strategy (or its operator, by hand) is watching, one row
  per (strategy, market slug); price and volume when added, and an optional expiry.
* ``deferred_items``: items a ``wait`` node set aside; a later run of the strategy resumes each
  at ``node_index`` once ``resume_at`` has passed. In the database, so a restart loses nothing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from autotrader.store.models import Base

_NAME = 64


class WatchlistRow(Base):
    """A market on a strategy's watchlist (at most once per strategy)."""

    __tablename__ = "watchlist"
    __table_args__ = (sa.UniqueConstraint("strategy", "market_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    strategy: Mapped[str] = mapped_column(sa.String(_NAME))
    market_slug: Mapped[str] = mapped_column(sa.String(255))
    market_id: Mapped[str] = mapped_column(sa.String(100))
    question: Mapped[str] = mapped_column(sa.Text)
    reason: Mapped[str] = mapped_column(sa.Text)
    added_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    price_at_add: Mapped[Decimal | None]
    volume_at_add: Mapped[Decimal | None]
    meta: Mapped[dict[str, Any]]


class DeferredItemRow(Base):
    """An item waiting (``wait`` node) to resume the pipeline at ``node_index``."""

    __tablename__ = "deferred_items"
    __table_args__ = (sa.Index(None, "strategy", "resume_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    strategy: Mapped[str] = mapped_column(sa.String(_NAME))
    node_index: Mapped[int]
    item: Mapped[dict[str, Any]]
    resume_at: Mapped[datetime]
    created_at: Mapped[datetime]
