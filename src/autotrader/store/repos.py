"""Repositories: the only code that reads and writes the tables.

Each method is one short transaction and returns plain frozen dataclasses, so callers never hold
database rows (or locks) across ticks. Writes are portable upserts
(``INSERT … ON CONFLICT``) that run unchanged on SQLite and PostgreSQL.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from autotrader.domain.signals import Signal
from autotrader.store.db import insert_for
from autotrader.store.models import DAEMON_HEARTBEATS, SIGNALS
from autotrader.store.repos_common import read_conn
from autotrader.store.types import MONEY_SCALE


def utc_now() -> datetime:
    """Wall-clock now, aware UTC: heartbeats measure real liveness, never simulated time."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Heartbeat:
    """A daemon's last beat, as ``autotrader status`` shows it."""

    daemon: str
    pid: int
    host: str
    started_at: datetime
    last_beat_at: datetime
    state: str
    status: str

    def age_secs(self, now: datetime) -> float:
        """Seconds since the last beat (negative if the beat is from a clock ahead of ours)."""
        return (now - self.last_beat_at).total_seconds()


@dataclass(frozen=True)
class SignalSnapshot:
    """One stored signal snapshot."""

    id: int
    ts: datetime
    direction: str
    confidence: float
    score: float | None
    price: Decimal | None
    source: str | None
    window_start: datetime
    window_slug: str
    data_age_secs: float | None
    reason: str | None
    basis: dict[str, Any] | None


class HeartbeatRepo:
    """Reads and writes ``daemon_heartbeats``.

    ``started_at`` is the time of the first beat this repository wrote for a daemon (one
    repository per process), unless ``beat`` is given it explicitly.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        host: str | None = None,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._engine = engine
        self._host = host or socket.gethostname()
        self._now = now
        self._started: dict[str, datetime] = {}

    def beat(
        self,
        daemon: str,
        pid: int,
        status: str,
        state: str = "running",
        *,
        started_at: datetime | None = None,
    ) -> None:
        """Insert or overwrite the daemon's row with this beat."""
        now = self._now()
        started = started_at or self._started.setdefault(daemon, now)
        self._started[daemon] = started
        values = {
            "daemon": daemon,
            "pid": pid,
            "host": self._host,
            "started_at": started,
            "last_beat_at": now,
            "state": state,
            # STATUS= is one line; so is the row, whatever the caller passed.
            "status": " ".join(status.split()),
        }
        stmt = insert_for(self._engine, DAEMON_HEARTBEATS).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[DAEMON_HEARTBEATS.c.daemon],
            set_={k: stmt.excluded[k] for k in values if k != "daemon"},
        )
        with self._engine.begin() as conn:
            conn.execute(stmt)

    def all(self) -> list[Heartbeat]:
        """Every daemon's row, by name."""
        with read_conn(self._engine) as conn:
            rows = conn.execute(sa.select(DAEMON_HEARTBEATS).order_by(DAEMON_HEARTBEATS.c.daemon))
            return [
                Heartbeat(
                    daemon=r.daemon,
                    pid=r.pid,
                    host=r.host,
                    started_at=r.started_at,
                    last_beat_at=r.last_beat_at,
                    state=r.state,
                    status=r.status,
                )
                for r in rows
            ]


class SignalRepo:
    """Writes and reads the ``signals`` snapshots."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add_snapshot(self, signal: Signal) -> None:
        """Store ``signal`` as one row."""
        price = None
        if signal.price is not None:
            # The feed price is a float; keep what it printed as, rounded to the column.
            price = Decimal(repr(signal.price)).quantize(Decimal(1).scaleb(-MONEY_SCALE))
        row = {
            "ts": signal.timestamp,
            "direction": signal.direction.value,
            "confidence": float(signal.confidence),
            "score": signal.basis.score if signal.basis else None,
            "price": price,
            "source": signal.source,
            "window_start": signal.window.start_dt,
            "window_slug": signal.window.slug,
            "data_age_secs": signal.data_age_secs,
            "reason": signal.reason.value if signal.reason else None,
            "basis": asdict(signal.basis) if signal.basis else None,
        }
        with self._engine.begin() as conn:
            conn.execute(sa.insert(SIGNALS).values(**row))

    def latest(self, limit: int = 1) -> list[SignalSnapshot]:
        """The newest ``limit`` snapshots, newest first."""
        if limit < 1:
            raise ValueError(f"limit must be >= 1 (got {limit})")
        query = sa.select(SIGNALS).order_by(SIGNALS.c.ts.desc(), SIGNALS.c.id.desc()).limit(limit)
        with read_conn(self._engine) as conn:
            return [_snapshot(r) for r in conn.execute(query)]


def _snapshot(r: sa.Row[Any]) -> SignalSnapshot:
    return SignalSnapshot(
        id=r.id,
        ts=r.ts,
        direction=r.direction,
        confidence=r.confidence,
        score=r.score,
        price=r.price,
        source=r.source,
        window_start=r.window_start,
        window_slug=r.window_slug,
        data_age_secs=r.data_age_secs,
        reason=r.reason,
        basis=r.basis,
    )
