"""What the executor must remember across restarts, and the events every daemon records.

* ``StrategyRuntimeRepo``: per strategy, paused (with reason and time), the count of
  consecutive venue failures (repeated ones pause the strategy) and the last entry (cooldown).
  A strategy without a row is running with no failures. Changes are atomic upserts, so two
  writers never lose an increment.
* ``EventRepo``: notification events (``trade_executed``, ``strategy_paused``, …). Any daemon
  records them; issue 6's notifier delivers them and marks them read.
* ``ExecutorStateRepo``: small facts by key (``reconciled_at``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from autotrader.store.db import insert_for
from autotrader.store.models import EXECUTOR_STATE, NOTIFICATION_EVENTS, STRATEGY_RUNTIME
from autotrader.store.repos_common import (
    Now,
    check_limit,
    first_row,
    one_line,
    read_conn,
    to_json_payload,
    utc_now,
    write_conn,
)


@dataclass(frozen=True)
class StrategyRuntime:
    """A strategy's persisted executor state."""

    strategy: str
    paused: bool
    pause_reason: str | None
    paused_at: datetime | None
    consecutive_venue_failures: int
    last_entry_at: datetime | None


def _runtime(r: sa.Row[Any]) -> StrategyRuntime:
    return StrategyRuntime(
        strategy=r.strategy,
        paused=r.paused,
        pause_reason=r.pause_reason,
        paused_at=r.paused_at,
        consecutive_venue_failures=r.consecutive_venue_failures,
        last_entry_at=r.last_entry_at,
    )


class StrategyRuntimeRepo:
    """Reads and changes ``strategy_runtime``."""

    def __init__(self, engine: Engine, *, now: Now = utc_now) -> None:
        self._engine = engine
        self._now = now

    def get(self, strategy: str) -> StrategyRuntime:
        """The strategy's state; running with no failures when it has no row yet."""
        with read_conn(self._engine) as conn:
            row = first_row(conn, STRATEGY_RUNTIME, strategy=strategy)
            if row is None:
                return StrategyRuntime(strategy, False, None, None, 0, None)
            return _runtime(row)

    def all(self) -> list[StrategyRuntime]:
        """Every strategy with a row, by name."""
        query = sa.select(STRATEGY_RUNTIME).order_by(STRATEGY_RUNTIME.c.strategy)
        with read_conn(self._engine) as conn:
            return [_runtime(r) for r in conn.execute(query)]

    def pause(self, strategy: str, reason: str) -> bool:
        """Pause ``strategy``; ``True`` if it was running (so one event is recorded per pause).

        Pausing a paused strategy keeps the first reason and time.
        """
        if not reason.strip():
            raise ValueError(f"strategy {strategy}: a pause needs a reason")
        before = self._change(strategy, paused=True, pause_reason=one_line(reason))
        return not before.paused

    def resume(self, strategy: str) -> bool:
        """Resume ``strategy`` and clear its failure count; ``True`` if it was paused."""
        before = self._change(strategy, paused=False, consecutive_venue_failures=0)
        return before.paused

    def record_venue_failure(self, strategy: str) -> int:
        """Count one more consecutive venue failure; the new count."""
        return self._change(strategy, failure=True).consecutive_venue_failures + 1

    def record_venue_success(self, strategy: str) -> None:
        """Reset the consecutive failure count."""
        self._change(strategy, consecutive_venue_failures=0)

    def record_entry(self, strategy: str, at: datetime) -> None:
        """Remember ``at`` as the strategy's last entry (for the cooldown)."""
        self._change(strategy, last_entry_at=at)

    def _change(self, strategy: str, *, failure: bool = False, **values: Any) -> StrategyRuntime:
        """Apply ``values`` in one locked transaction; the state *before* the change."""
        now = self._now()
        seed = insert_for(self._engine, STRATEGY_RUNTIME).values(
            strategy=strategy, paused=False, consecutive_venue_failures=0, updated_at=now
        )
        query = (
            sa.select(STRATEGY_RUNTIME)
            .where(STRATEGY_RUNTIME.c.strategy == strategy)
            .with_for_update()
        )
        with write_conn(self._engine) as conn:
            # Make sure the row exists, then lock it: concurrent changes queue on the lock.
            conn.execute(seed.on_conflict_do_nothing(index_elements=["strategy"]))
            row = conn.execute(query).one()
            before = _runtime(row)
            if values.get("paused") is True and row.paused:
                values = {}  # keep the first reason and time
            elif values.get("paused") is True:
                values["paused_at"] = now
            elif values.get("paused") is False:
                values.update(pause_reason=None, paused_at=None)
            if failure:
                values["consecutive_venue_failures"] = row.consecutive_venue_failures + 1
            where = STRATEGY_RUNTIME.c.strategy == strategy
            conn.execute(sa.update(STRATEGY_RUNTIME).where(where).values(**values, updated_at=now))
        return before


@dataclass(frozen=True)
class NotificationEvent:
    """Something an operator may want to hear about."""

    id: int
    type: str
    strategy: str | None
    created_at: datetime
    payload: dict[str, Any]
    read_at: datetime | None


def _event(r: sa.Row[Any]) -> NotificationEvent:
    return NotificationEvent(r.id, r.type, r.strategy, r.created_at, dict(r.payload), r.read_at)


def insert_event(
    conn: sa.Connection,
    type: str,
    strategy: str | None,
    payload: dict[str, Any] | None,
    now: datetime,
) -> int:
    """``EventRepo.record`` on ``conn``, inside the caller's transaction; the event's id."""
    if not type:
        raise ValueError("an event needs a type")
    table = NOTIFICATION_EVENTS
    values = {"type": type, "strategy": strategy, "created_at": now}
    stmt = table.insert().values(payload=to_json_payload(payload), **values)
    return int(conn.execute(stmt.returning(table.c.id)).scalar_one())


class EventRepo:
    """Records and reads ``notification_events``."""

    def __init__(self, engine: Engine, *, now: Now = utc_now) -> None:
        self._engine = engine
        self._now = now

    def record(
        self, type: str, strategy: str | None = None, payload: dict[str, Any] | None = None
    ) -> int:
        """Record an event; its id. Decimals in ``payload`` are stored as exact strings."""
        with write_conn(self._engine) as conn:
            return insert_event(conn, type, strategy, payload, self._now())

    def list(
        self,
        *,
        unread: bool | None = None,
        type: str | None = None,
        strategy: str | None = None,
        limit: int = 100,
        oldest_first: bool = False,
    ) -> list[NotificationEvent]:
        """Events, newest first (``oldest_first`` for delivery), filtered as asked."""
        query = sa.select(NOTIFICATION_EVENTS)
        if unread is not None:
            read_at = NOTIFICATION_EVENTS.c.read_at
            query = query.where(read_at.is_(None) if unread else read_at.is_not(None))
        if type is not None:
            query = query.where(NOTIFICATION_EVENTS.c.type == type)
        if strategy is not None:
            query = query.where(NOTIFICATION_EVENTS.c.strategy == strategy)
        order = NOTIFICATION_EVENTS.c.id.asc() if oldest_first else NOTIFICATION_EVENTS.c.id.desc()
        query = query.order_by(order).limit(check_limit(limit))
        with read_conn(self._engine) as conn:
            return [_event(r) for r in conn.execute(query)]

    def mark_read(self, target: int | Literal["all"]) -> int:
        """Mark event ``target`` (or every unread one) read; how many changed."""
        stmt = sa.update(NOTIFICATION_EVENTS).where(NOTIFICATION_EVENTS.c.read_at.is_(None))
        if target != "all":
            stmt = stmt.where(NOTIFICATION_EVENTS.c.id == target)
        with self._engine.begin() as conn:
            return conn.execute(stmt.values(read_at=self._now())).rowcount


class ExecutorStateRepo:
    """Reads and writes ``executor_state`` (string values; timestamps as ISO UTC)."""

    def __init__(self, engine: Engine, *, now: Now = utc_now) -> None:
        self._engine = engine
        self._now = now

    def get(self, key: str) -> str | None:
        """The value of ``key``, or None."""
        with read_conn(self._engine) as conn:
            row = first_row(conn, EXECUTOR_STATE, key=key)
            return row.value if row else None

    def set(self, key: str, value: str) -> None:
        """Insert or overwrite ``key``."""
        stmt = insert_for(self._engine, EXECUTOR_STATE).values(
            key=key, value=value, updated_at=self._now()
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[EXECUTOR_STATE.c.key],
            set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
        )
        with self._engine.begin() as conn:
            conn.execute(stmt)

    def get_time(self, key: str) -> datetime | None:
        """The aware datetime stored under ``key`` by ``set_time``."""
        value = self.get(key)
        return None if value is None else datetime.fromisoformat(value)

    def set_time(self, key: str, at: datetime) -> None:
        """Store an aware datetime under ``key`` (naive ones are refused)."""
        if at.tzinfo is None:
            raise ValueError(f"{key}: naive datetime {at.isoformat()} refused")
        self.set(key, at.isoformat())

    def all(self) -> dict[str, str]:
        """Every key and value."""
        with read_conn(self._engine) as conn:
            return {r.key: r.value for r in conn.execute(sa.select(EXECUTOR_STATE))}
