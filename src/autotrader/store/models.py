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
