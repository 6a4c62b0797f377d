"""The scheduler's state and runs log (tables ``strategy_state`` and ``strategy_runs``).

The scheduler daemon writes in batches: ``start_runs`` inserts every run of one dispatch and
moves each strategy's next run in one transaction; ``finish_runs`` records every run that
ended since the last tick (outcome, counters, pruning to the last ``keep`` runs) in another.
The CLI writes single rows (``set_desired``, ``request_run_now``, ``reset_failures``); the
daemon polls ``control()`` — only the rows carrying an override or a request — so polling
stays cheap with thousands of strategies.

Counters are incremented in SQL (``executions = executions + 1``), so a run finishing while
the CLI changes the same row loses nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from autotrader.store.db import insert_for
from autotrader.store.models import STRATEGY_RUNTIME
from autotrader.store.models_scheduler import STRATEGY_RUNS, STRATEGY_STATE
from autotrader.store.repos_common import Now, check_limit, utc_now, write_conn

KEEP_RUNS = 50
Desired = Literal["running", "stopped"]


@dataclass(frozen=True)
class StrategyState:
    """A ``strategy_state`` row."""

    strategy: str
    desired: str | None = None
    started_at: datetime | None = None
    last_run_at: datetime | None = None
    next_run_at: datetime | None = None
    last_outcome: str | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    executions: int = 0
    successes: int = 0
    failures: int = 0
    run_now_at: datetime | None = None
    definition_hash: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class RunRecord:
    """A ``strategy_runs`` row."""

    id: int
    strategy: str
    started_at: datetime
    ended_at: datetime | None
    outcome: str
    nodes: list[dict[str, Any]]
    intents_created: int
    error: str | None
    note: str | None
    scheduled_for: datetime | None
    trigger: str


@dataclass(frozen=True)
class RunStart:
    """A run about to start, and where its strategy's schedule goes next."""

    strategy: str
    started_at: datetime
    scheduled_for: datetime | None
    trigger: Literal["schedule", "manual"]
    next_run_at: datetime | None


@dataclass(frozen=True)
class RunEnd:
    """How a run ended; ``consecutive_failures`` is the strategy's new count."""

    run_id: int
    strategy: str
    ended_at: datetime
    outcome: str
    consecutive_failures: int
    nodes: list[dict[str, Any]] = field(default_factory=list)
    intents_created: int = 0
    error: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Control:
    """The CLI's wishes for one strategy: a start/stop override and a run-now request."""

    desired: str | None
    run_now_at: datetime | None


def _state(row: Any) -> StrategyState:
    return StrategyState(**{c.name: getattr(row, c.name) for c in STRATEGY_STATE.columns})


def _run(row: Any) -> RunRecord:
    return RunRecord(**{c.name: getattr(row, c.name) for c in STRATEGY_RUNS.columns})


class SchedulerRepo:
    """Reads and writes ``strategy_state`` and ``strategy_runs``."""

    def __init__(self, engine: Engine, *, now: Now = utc_now, keep_runs: int = KEEP_RUNS) -> None:
        self._engine = engine
        self._now = now
        self._keep = check_limit(keep_runs)

    # -- reads ---------------------------------------------------------------------------------
    def get(self, strategy: str) -> StrategyState | None:
        """The row of ``strategy``, if the scheduler has seen it."""
        query = sa.select(STRATEGY_STATE).where(STRATEGY_STATE.c.strategy == strategy)
        with self._engine.begin() as conn:
            row = conn.execute(query).first()
        return _state(row) if row is not None else None

    def states(self) -> dict[str, StrategyState]:
        """Every row, by strategy name."""
        with self._engine.begin() as conn:
            return {r.strategy: _state(r) for r in conn.execute(sa.select(STRATEGY_STATE))}

    def control(self) -> dict[str, Control]:
        """Strategies with a start/stop override or a pending run-now request."""
        query = sa.select(
            STRATEGY_STATE.c.strategy, STRATEGY_STATE.c.desired, STRATEGY_STATE.c.run_now_at
        ).where(
            sa.or_(STRATEGY_STATE.c.desired.is_not(None), STRATEGY_STATE.c.run_now_at.is_not(None))
        )
        with self._engine.begin() as conn:
            return {r.strategy: Control(r.desired, r.run_now_at) for r in conn.execute(query)}

    def paused(self) -> set[str]:
        """Strategies paused in ``strategy_runtime`` (by the CLI, the executor or us)."""
        query = sa.select(STRATEGY_RUNTIME.c.strategy).where(STRATEGY_RUNTIME.c.paused.is_(True))
        with self._engine.begin() as conn:
            return set(conn.execute(query).scalars())

    def runs(self, strategy: str, limit: int = KEEP_RUNS) -> list[RunRecord]:
        """The newest ``limit`` runs of ``strategy``, newest first."""
        query = (
            sa.select(STRATEGY_RUNS)
            .where(STRATEGY_RUNS.c.strategy == strategy)
            .order_by(STRATEGY_RUNS.c.id.desc())
            .limit(check_limit(limit))
        )
        with self._engine.begin() as conn:
            return [_run(r) for r in conn.execute(query)]

    # -- the daemon's writes -------------------------------------------------------------------
    def ensure(self, hashes: Mapping[str, str]) -> dict[str, StrategyState]:
        """Create missing rows, store each strategy's definition hash; every row by name."""
        now = self._now()
        with write_conn(self._engine) as conn:
            if hashes:
                conn.execute(self._seed_stmt(conn, now), [{"strategy": n} for n in hashes])
                conn.execute(
                    sa.update(STRATEGY_STATE)
                    .where(STRATEGY_STATE.c.strategy == sa.bindparam("s"))
                    .where(STRATEGY_STATE.c.definition_hash.is_distinct_from(sa.bindparam("h")))
                    .values(definition_hash=sa.bindparam("h"), updated_at=now),
                    [{"s": name, "h": digest} for name, digest in hashes.items()],
                )
            return {r.strategy: _state(r) for r in conn.execute(sa.select(STRATEGY_STATE))}

    def mark_interrupted(self) -> int:
        """Runs left ``running`` by a scheduler that died: ``failed``; how many."""
        stmt = (
            sa.update(STRATEGY_RUNS)
            .where(STRATEGY_RUNS.c.outcome == "running")
            .values(
                outcome="failed",
                ended_at=self._now(),
                error="interrupted: the scheduler stopped during the run",
            )
        )
        with write_conn(self._engine) as conn:
            return int(conn.execute(stmt).rowcount or 0)

    def start_runs(self, starts: Sequence[RunStart]) -> list[int]:
        """Insert a ``running`` row per start and move each schedule; the run ids, in order."""
        if not starts:
            return []
        now = self._now()
        rows: list[dict[str, Any]] = [
            {
                "strategy": s.strategy,
                "started_at": s.started_at,
                "ended_at": None,
                "outcome": "running",
                "nodes": [],
                "intents_created": 0,
                "error": None,
                "note": None,
                "scheduled_for": s.scheduled_for,
                "trigger": s.trigger,
            }
            for s in starts
        ]
        insert = sa.insert(STRATEGY_RUNS).returning(
            STRATEGY_RUNS.c.id, sort_by_parameter_order=True
        )
        scheduled = [
            {"s": s.strategy, "last": s.started_at, "next": s.next_run_at}
            for s in starts
            if s.trigger == "schedule"
        ]
        manual = [{"s": s.strategy, "last": s.started_at} for s in starts if s.trigger == "manual"]
        with write_conn(self._engine) as conn:
            ids = [int(r[0]) for r in conn.execute(insert, rows)]
            if scheduled:
                conn.execute(
                    sa.update(STRATEGY_STATE)
                    .where(STRATEGY_STATE.c.strategy == sa.bindparam("s"))
                    .values(
                        last_run_at=sa.bindparam("last"),
                        next_run_at=sa.bindparam("next"),
                        updated_at=now,
                    ),
                    scheduled,
                )
            if manual:
                conn.execute(
                    sa.update(STRATEGY_STATE)
                    .where(STRATEGY_STATE.c.strategy == sa.bindparam("s"))
                    .values(last_run_at=sa.bindparam("last"), run_now_at=None, updated_at=now),
                    manual,
                )
        return ids

    def finish_runs(self, ends: Sequence[RunEnd]) -> None:
        """Record how runs ended, update counters and keep only the last runs per strategy."""
        if not ends:
            return
        now = self._now()
        runs = [
            {
                "rid": e.run_id,
                "ended_at": e.ended_at,
                "outcome": e.outcome,
                "nodes": e.nodes,
                "intents_created": e.intents_created,
                "error": e.error,
                "note": e.note,
            }
            for e in ends
        ]
        states = [_counters(e) for e in ends]
        with write_conn(self._engine) as conn:
            conn.execute(
                sa.update(STRATEGY_RUNS)
                .where(STRATEGY_RUNS.c.id == sa.bindparam("rid"))
                .values(
                    {k: sa.bindparam(k) for k in runs[0] if k != "rid"},
                ),
                runs,
            )
            conn.execute(
                sa.update(STRATEGY_STATE)
                .where(STRATEGY_STATE.c.strategy == sa.bindparam("s"))
                .values(
                    last_outcome=sa.bindparam("outcome_"),
                    last_error=sa.bindparam("error_"),
                    consecutive_failures=sa.bindparam("consecutive"),
                    executions=STRATEGY_STATE.c.executions + 1,
                    successes=STRATEGY_STATE.c.successes + sa.bindparam("ok", type_=sa.Integer),
                    failures=STRATEGY_STATE.c.failures + sa.bindparam("bad", type_=sa.Integer),
                    updated_at=now,
                ),
                states,
            )
            self._prune(conn, {e.strategy for e in ends})

    def _prune(self, conn: Connection, strategies: Iterable[str]) -> None:
        # Delete everything at or below the id of the (keep + 1)-th newest run; a NULL bound
        # (fewer runs than that) deletes nothing.
        inner = STRATEGY_RUNS.alias("newer")
        bound = (
            sa.select(inner.c.id)
            .where(inner.c.strategy == sa.bindparam("s"))
            .order_by(inner.c.id.desc())
            .limit(1)
            .offset(self._keep)
            .scalar_subquery()
        )
        stmt = sa.delete(STRATEGY_RUNS).where(
            STRATEGY_RUNS.c.strategy == sa.bindparam("s"), STRATEGY_RUNS.c.id <= bound
        )
        conn.execute(stmt, [{"s": s} for s in sorted(strategies)])

    def set_schedule(
        self, strategy: str, next_run_at: datetime | None, started_at: datetime | None
    ) -> None:
        """Store the next run and when the strategy (last) started running (None: not now)."""
        self._update(strategy, next_run_at=next_run_at, started_at=started_at)

    def set_next_runs(self, nexts: Mapping[str, datetime | None]) -> None:
        """Store the next run of several strategies at once."""
        if not nexts:
            return
        rows = [{"s": name, "next": at} for name, at in nexts.items()]
        stmt = (
            sa.update(STRATEGY_STATE)
            .where(STRATEGY_STATE.c.strategy == sa.bindparam("s"))
            .values(next_run_at=sa.bindparam("next"), updated_at=self._now())
        )
        with write_conn(self._engine) as conn:
            conn.execute(stmt, rows)

    def set_started(self, strategies: Sequence[str], at: datetime) -> None:
        """Record ``at`` as the time these strategies started running."""
        if not strategies:
            return
        stmt = (
            sa.update(STRATEGY_STATE)
            .where(STRATEGY_STATE.c.strategy == sa.bindparam("s"))
            .values(started_at=at, updated_at=self._now())
        )
        with write_conn(self._engine) as conn:
            conn.execute(stmt, [{"s": s} for s in strategies])

    # -- the CLI's writes ----------------------------------------------------------------------
    def set_desired(self, strategy: str, desired: Desired | None) -> None:
        """Override the YAML's ``enabled`` (``None``: follow it again)."""
        self._update(strategy, desired=desired)

    def request_run_now(self, strategy: str, at: datetime) -> None:
        """Ask the daemon for one extra run as soon as it can."""
        self._update(strategy, run_now_at=at)

    def clear_run_now(self, strategy: str) -> None:
        """Drop a run-now request (served, or refused because the strategy is not running)."""
        self._update(strategy, run_now_at=None)

    def reset_failures(self, strategy: str) -> None:
        """Clear the consecutive failure count (on resume)."""
        self._update(strategy, consecutive_failures=0)

    def _update(self, strategy: str, **values: Any) -> None:
        now = self._now()
        with write_conn(self._engine) as conn:
            self._seed(conn, strategy, now)
            stmt = sa.update(STRATEGY_STATE).where(STRATEGY_STATE.c.strategy == strategy)
            conn.execute(stmt.values(**values, updated_at=now))

    def _seed(self, conn: Connection, strategy: str, now: datetime) -> None:
        conn.execute(self._seed_stmt(conn, now), {"strategy": strategy})

    @staticmethod
    def _seed_stmt(conn: Connection, now: datetime) -> Any:
        """Insert-if-new of a fresh row (the strategy name is a bind parameter)."""
        stmt = insert_for(conn, STRATEGY_STATE).values(
            consecutive_failures=0, executions=0, successes=0, failures=0, updated_at=now
        )
        return stmt.on_conflict_do_nothing(index_elements=["strategy"])


def _counters(end: RunEnd) -> dict[str, Any]:
    failed = end.outcome in ("failed", "timeout")
    return {
        "s": end.strategy,
        "outcome_": end.outcome,
        "error_": end.error,
        "consecutive": end.consecutive_failures,
        "ok": 0 if failed else 1,
        "bad": 1 if failed else 0,
    }
