"""The tables, as SQLAlchemy Core tables.

Conventions every later table follows:

* Money columns are ``Money`` (an exact ``Numeric``, read back as ``Decimal``) and timestamps
  ``UTCDateTime`` (aware UTC); floats (``sa.Double``) only for measures that are not money
  (confidence, scores, ages).
* Core, not the ORM: repositories read rows and write with ``insert``/``update`` statements, and
  the daemons never import ``sqlalchemy.orm`` (about 7 MB of RSS in each process).
* Constraint and index names come from ``NAMING_CONVENTION``, so migrations can name what they
  alter and both backends agree.
* Every change here needs a migration in ``store/migrations/versions/`` (revision ids
  ``0001``, ``0002``, …); ``tests/integration/test_store_migrations.py`` fails while the models
  and the migrations disagree.
"""

from __future__ import annotations

import sqlalchemy as sa

from autotrader.store.types import Money, UTCDateTime

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# One MetaData for every table: the naming convention gives constraints and indexes the
# names migrations refer to, on both backends.
metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

# Identifier widths, for every table: our ids are uuid4 hex (32); Polymarket token ids are
# ~78-digit numbers and order hashes "0x" + 64 hex, so 128 leaves room for other venues.
ID_WIDTH = 64
VENUE_ID_WIDTH = 128


# One row per daemon, rewritten at every beat; ``autotrader status`` reads it.
DAEMON_HEARTBEATS = sa.Table(
    "daemon_heartbeats",
    metadata,
    sa.Column("daemon", sa.String(ID_WIDTH), primary_key=True),
    sa.Column("pid", sa.Integer(), nullable=False),
    sa.Column("host", sa.String(255), nullable=False),
    # When the process that is beating now started (its first beat), not the first ever.
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("last_beat_at", UTCDateTime(), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
)


# A snapshot of the signal, about one a minute, written by the signal daemon.
SIGNALS = sa.Table(
    "signals",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("ts", UTCDateTime(), nullable=False, index=True),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("confidence", sa.Double(), nullable=False),
    sa.Column("score", sa.Double()),
    sa.Column("price", Money()),
    sa.Column("source", sa.String(32)),
    sa.Column("window_start", UTCDateTime(), nullable=False),
    sa.Column("window_slug", sa.String(ID_WIDTH), nullable=False),
    sa.Column("data_age_secs", sa.Double()),
    sa.Column("reason", sa.String(32)),
    sa.Column("basis", sa.JSON()),
)


# What a strategy (or a person) wants traded: the outbox the executor claims from.
#
# At most one entry per (strategy, entry_key) is a constraint here, not a habit of the code.
# A NULL entry_key (exits, manual trades) is not an entry; both SQLite and PostgreSQL treat
# NULLs in a unique constraint as distinct, so any number of those may coexist.
ORDER_INTENTS = sa.Table(
    "order_intents",
    metadata,
    sa.Column("id", sa.String(ID_WIDTH), primary_key=True),
    sa.Column("strategy", sa.String(ID_WIDTH), nullable=False),
    sa.Column("market_slug", sa.String(255), nullable=False),
    sa.Column("token_id", sa.String(VENUE_ID_WIDTH), nullable=False),
    sa.Column("outcome", sa.String(ID_WIDTH), nullable=False),
    sa.Column("side", sa.String(8), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("amount_usd", Money()),
    sa.Column("shares", Money()),
    sa.Column("limit_price", Money()),
    sa.Column("valid_until", UTCDateTime(), nullable=False),
    sa.Column("entry_key", sa.String(255)),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("reason_code", sa.String(ID_WIDTH)),
    sa.Column("reason_text", sa.Text()),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("claimed_at", UTCDateTime()),
    # "host:pid" of the executor that claimed it, so a restarted one finds what it left behind.
    sa.Column("claimed_by", sa.String(255)),
    sa.Column("finished_at", UTCDateTime()),
    sa.UniqueConstraint("strategy", "entry_key"),
    sa.Index(None, "status", "created_at"),
    sa.Index(None, "strategy", "created_at"),
    sa.CheckConstraint("(amount_usd IS NULL) <> (shares IS NULL)", name="amount_xor_shares"),
)


# An order we placed (or adopted): ``id`` is our client order id, committed before sending.
#
# ``venue_order_id`` (the signed order's hash for live orders) is stored before the POST, so
# after a crash the order is found by it; it is unique because two rows with one hash would be
# one venue order counted twice. ``intent_id`` is NULL for orders adopted at reconciliation.
ORDERS = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.String(ID_WIDTH), primary_key=True),
    sa.Column("intent_id", sa.String(ID_WIDTH), sa.ForeignKey("order_intents.id"), index=True),
    sa.Column("strategy", sa.String(ID_WIDTH), nullable=False),
    sa.Column("market_slug", sa.String(255)),
    sa.Column("outcome", sa.String(ID_WIDTH)),
    sa.Column("token_id", sa.String(VENUE_ID_WIDTH), nullable=False),
    sa.Column("side", sa.String(8), nullable=False),
    sa.Column("order_type", sa.String(8), nullable=False),
    sa.Column("price", Money()),
    sa.Column("size", Money()),
    sa.Column("amount_usd", Money()),
    sa.Column("venue_order_id", sa.String(VENUE_ID_WIDTH)),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("reason_code", sa.String(ID_WIDTH)),
    sa.Column("reason_text", sa.Text()),
    sa.Column("size_matched", Money(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("venue_order_id"),
    sa.Index(None, "status"),
    sa.Index(None, "strategy", "created_at"),
)


# One execution: the truth positions and P&L are derived from.
#
# The venue's trade id is the key, so recording the same trade twice is refused by the
# database. ``order_id`` is NULL for a fill of an order we do not know (found at reconciliation).
FILLS = sa.Table(
    "fills",
    metadata,
    sa.Column("trade_id", sa.String(VENUE_ID_WIDTH), primary_key=True),
    sa.Column("order_id", sa.String(ID_WIDTH), sa.ForeignKey("orders.id"), index=True),
    sa.Column("venue_order_id", sa.String(VENUE_ID_WIDTH), nullable=False, index=True),
    sa.Column("strategy", sa.String(ID_WIDTH), nullable=False),
    sa.Column("token_id", sa.String(VENUE_ID_WIDTH), nullable=False),
    sa.Column("side", sa.String(8), nullable=False),
    sa.Column("price", Money(), nullable=False),
    sa.Column("size", Money(), nullable=False),
    sa.Column("fee_usd", Money(), nullable=False),
    sa.Column("ts", UTCDateTime(), nullable=False, index=True),
    sa.Column("liquidity", sa.String(8), nullable=False),
    sa.Index(None, "strategy", "ts"),
)


# Tokens of a resolved market paid out for one strategy: at most once per token.
SETTLEMENTS = sa.Table(
    "settlements",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("strategy", sa.String(ID_WIDTH), nullable=False),
    sa.Column("market_slug", sa.String(255), nullable=False),
    sa.Column("market_id", sa.String(VENUE_ID_WIDTH), nullable=False),
    sa.Column("token_id", sa.String(VENUE_ID_WIDTH), nullable=False),
    sa.Column("outcome", sa.String(ID_WIDTH), nullable=False),
    sa.Column("winning_outcome", sa.String(ID_WIDTH)),
    sa.Column("shares", Money(), nullable=False),
    sa.Column("payout_per_share", Money(), nullable=False),
    sa.Column("ts", UTCDateTime(), nullable=False, index=True),
    sa.UniqueConstraint("strategy", "token_id", "market_slug"),
)


# Executor state per strategy that must survive a restart (pause, failure count, entries).
STRATEGY_RUNTIME = sa.Table(
    "strategy_runtime",
    metadata,
    sa.Column("strategy", sa.String(ID_WIDTH), primary_key=True),
    sa.Column("paused", sa.Boolean(), nullable=False),
    sa.Column("pause_reason", sa.Text()),
    sa.Column("paused_at", UTCDateTime()),
    sa.Column("consecutive_venue_failures", sa.Integer(), nullable=False),
    sa.Column("last_entry_at", UTCDateTime()),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)


# Something an operator may want to hear about; every daemon writes, issue 6 delivers.
NOTIFICATION_EVENTS = sa.Table(
    "notification_events",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("type", sa.String(ID_WIDTH), nullable=False),
    sa.Column("strategy", sa.String(ID_WIDTH)),
    sa.Column("created_at", UTCDateTime(), nullable=False, index=True),
    sa.Column("payload", sa.JSON(), nullable=False),
    sa.Column("read_at", UTCDateTime()),
    sa.Index(None, "read_at", "id"),
)


# Small executor facts by key, e.g. ``reconciled_at``.
EXECUTOR_STATE = sa.Table(
    "executor_state",
    metadata,
    sa.Column("key", sa.String(ID_WIDTH), primary_key=True),
    sa.Column("value", sa.Text(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)


# Tables declared in their own modules (one per feature); imported here so that importing
# ``models`` registers every table on ``metadata``.
from autotrader.store import (  # noqa: E402
    models_executor,  # noqa: F401
    models_notify,  # noqa: F401
    models_pipeline,  # noqa: F401
    models_scheduler,  # noqa: F401
)
