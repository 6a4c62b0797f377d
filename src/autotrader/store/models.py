"""The tables, as typed SQLAlchemy 2 declarative models.

Conventions every later table follows:

* ``Mapped[Decimal]`` columns are ``Money`` and ``Mapped[datetime]`` columns are ``UTCDateTime``
  automatically (see ``Base.type_annotation_map``); give floats (``Mapped[float]``) only to
  measures that are not money (confidence, scores, ages).
* Constraint and index names come from ``NAMING_CONVENTION``, so migrations can name what they
  alter and both backends agree.
* Every change here needs a migration in ``store/migrations/versions/`` (revision ids
  ``0001``, ``0002``, …); ``tests/integration/test_store_migrations.py`` fails while the models
  and the migrations disagree.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from autotrader.store.types import Money, UTCDateTime

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base: naming convention and the Money / UTC timestamp type mapping."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - read by SQLAlchemy at class creation
        Decimal: Money(),
        datetime: UTCDateTime(),
        dict[str, Any]: sa.JSON(),
    }


class DaemonHeartbeat(Base):
    """One row per daemon, rewritten at every beat; ``autotrader status`` reads it."""

    __tablename__ = "daemon_heartbeats"

    daemon: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    pid: Mapped[int]
    host: Mapped[str] = mapped_column(sa.String(255))
    # When the process that is beating now started (its first beat), not the first ever.
    started_at: Mapped[datetime]
    last_beat_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.Text)


class SignalRow(Base):
    """A snapshot of the signal, about one a minute, written by the signal daemon."""

    __tablename__ = "signals"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(index=True)
    direction: Mapped[str] = mapped_column(sa.String(16))
    confidence: Mapped[float] = mapped_column(sa.Double)
    score: Mapped[float | None] = mapped_column(sa.Double)
    price: Mapped[Decimal | None]
    source: Mapped[str | None] = mapped_column(sa.String(32))
    window_start: Mapped[datetime]
    window_slug: Mapped[str] = mapped_column(sa.String(64))
    data_age_secs: Mapped[float | None] = mapped_column(sa.Double)
    reason: Mapped[str | None] = mapped_column(sa.String(32))
    basis: Mapped[dict[str, Any] | None]


# --- executor (issue 4): intents in, orders/fills out; migration 0002 -----------------------------
# Identifier widths: our ids are uuid4 hex (32); Polymarket token ids are ~78-digit numbers and
# order hashes "0x" + 64 hex, so 128 leaves room for other venues.
_ID = 64
_VENUE_ID = 128


class OrderIntentRow(Base):
    """What a strategy (or a person) wants traded: the outbox the executor claims from.

    At most one entry per (strategy, entry_key) is a constraint here, not a habit of the code.
    A NULL entry_key (exits, manual trades) is not an entry; both SQLite and PostgreSQL treat
    NULLs in a unique constraint as distinct, so any number of those may coexist.
    """

    __tablename__ = "order_intents"
    __table_args__ = (
        sa.UniqueConstraint("strategy", "entry_key"),
        sa.Index(None, "status", "created_at"),
        sa.Index(None, "strategy", "created_at"),
        sa.CheckConstraint("(amount_usd IS NULL) <> (shares IS NULL)", name="amount_xor_shares"),
    )

    id: Mapped[str] = mapped_column(sa.String(_ID), primary_key=True)
    strategy: Mapped[str] = mapped_column(sa.String(_ID))
    market_slug: Mapped[str] = mapped_column(sa.String(255))
    token_id: Mapped[str] = mapped_column(sa.String(_VENUE_ID))
    outcome: Mapped[str] = mapped_column(sa.String(_ID))
    side: Mapped[str] = mapped_column(sa.String(8))
    kind: Mapped[str] = mapped_column(sa.String(16))
    amount_usd: Mapped[Decimal | None]
    shares: Mapped[Decimal | None]
    limit_price: Mapped[Decimal | None]
    valid_until: Mapped[datetime]
    entry_key: Mapped[str | None] = mapped_column(sa.String(255))
    reason: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(24))
    reason_code: Mapped[str | None] = mapped_column(sa.String(64))
    reason_text: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    # "host:pid" of the executor that claimed it, so a restarted one finds what it left behind.
    claimed_by: Mapped[str | None] = mapped_column(sa.String(255))
    finished_at: Mapped[datetime | None]


class OrderRow(Base):
    """An order we placed (or adopted): ``id`` is our client order id, committed before sending.

    ``venue_order_id`` (the signed order's hash for live orders) is stored before the POST, so
    after a crash the order is found by it; it is unique because two rows with one hash would be
    one venue order counted twice. ``intent_id`` is NULL for orders adopted at reconciliation.
    """

    __tablename__ = "orders"
    __table_args__ = (
        sa.UniqueConstraint("venue_order_id"),
        sa.Index(None, "status"),
        sa.Index(None, "strategy", "created_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(_ID), primary_key=True)
    intent_id: Mapped[str | None] = mapped_column(
        sa.String(_ID), sa.ForeignKey("order_intents.id"), index=True
    )
    strategy: Mapped[str] = mapped_column(sa.String(_ID))
    market_slug: Mapped[str | None] = mapped_column(sa.String(255))
    outcome: Mapped[str | None] = mapped_column(sa.String(_ID))
    token_id: Mapped[str] = mapped_column(sa.String(_VENUE_ID))
    side: Mapped[str] = mapped_column(sa.String(8))
    order_type: Mapped[str] = mapped_column(sa.String(8))
    price: Mapped[Decimal | None]
    size: Mapped[Decimal | None]
    amount_usd: Mapped[Decimal | None]
    venue_order_id: Mapped[str | None] = mapped_column(sa.String(_VENUE_ID))
    status: Mapped[str] = mapped_column(sa.String(24))
    reason_code: Mapped[str | None] = mapped_column(sa.String(64))
    reason_text: Mapped[str | None] = mapped_column(sa.Text)
    size_matched: Mapped[Decimal]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class FillRow(Base):
    """One execution: the truth positions and P&L are derived from.

    The venue's trade id is the key, so recording the same trade twice is refused by the
    database. ``order_id`` is NULL for a fill of an order we do not know (found at reconciliation).
    """

    __tablename__ = "fills"
    __table_args__ = (sa.Index(None, "strategy", "ts"),)

    trade_id: Mapped[str] = mapped_column(sa.String(_VENUE_ID), primary_key=True)
    order_id: Mapped[str | None] = mapped_column(
        sa.String(_ID), sa.ForeignKey("orders.id"), index=True
    )
    venue_order_id: Mapped[str] = mapped_column(sa.String(_VENUE_ID), index=True)
    strategy: Mapped[str] = mapped_column(sa.String(_ID))
    token_id: Mapped[str] = mapped_column(sa.String(_VENUE_ID))
    side: Mapped[str] = mapped_column(sa.String(8))
    price: Mapped[Decimal]
    size: Mapped[Decimal]
    fee_usd: Mapped[Decimal]
    ts: Mapped[datetime] = mapped_column(index=True)
    liquidity: Mapped[str] = mapped_column(sa.String(8))


class SettlementRow(Base):
    """Tokens of a resolved market paid out for one strategy: at most once per token."""

    __tablename__ = "settlements"
    __table_args__ = (sa.UniqueConstraint("strategy", "token_id", "market_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    strategy: Mapped[str] = mapped_column(sa.String(_ID))
    market_slug: Mapped[str] = mapped_column(sa.String(255))
    market_id: Mapped[str] = mapped_column(sa.String(_VENUE_ID))
    token_id: Mapped[str] = mapped_column(sa.String(_VENUE_ID))
    outcome: Mapped[str] = mapped_column(sa.String(_ID))
    winning_outcome: Mapped[str | None] = mapped_column(sa.String(_ID))
    shares: Mapped[Decimal]
    payout_per_share: Mapped[Decimal]
    ts: Mapped[datetime] = mapped_column(index=True)


class StrategyRuntimeRow(Base):
    """Executor state per strategy that must survive a restart (pause, failure count, entries)."""

    __tablename__ = "strategy_runtime"

    strategy: Mapped[str] = mapped_column(sa.String(_ID), primary_key=True)
    paused: Mapped[bool]
    pause_reason: Mapped[str | None] = mapped_column(sa.Text)
    paused_at: Mapped[datetime | None]
    consecutive_venue_failures: Mapped[int]
    last_entry_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class NotificationEventRow(Base):
    """Something an operator may want to hear about; every daemon writes, issue 6 delivers."""

    __tablename__ = "notification_events"
    __table_args__ = (sa.Index(None, "read_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(sa.String(64))
    strategy: Mapped[str | None] = mapped_column(sa.String(_ID))
    created_at: Mapped[datetime] = mapped_column(index=True)
    payload: Mapped[dict[str, Any]]
    read_at: Mapped[datetime | None]


class ExecutorStateRow(Base):
    """Small executor facts by key, e.g. ``reconciled_at``."""

    __tablename__ = "executor_state"

    key: Mapped[str] = mapped_column(sa.String(_ID), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime]


# Tables declared in their own modules (one per feature); imported here so that importing
# ``models`` registers every table on ``Base.metadata``.
from autotrader.store import (  # noqa: E402
    models_executor,  # noqa: F401
    models_notify,  # noqa: F401
    models_pipeline,  # noqa: F401
    models_scheduler,  # noqa: F401
)
