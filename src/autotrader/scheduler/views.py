"""What `autotrader strategy …` shows and does, over the database (the daemon need not run).

Rows are plain dicts (datetimes as aware UTC), so ``--json`` and the tables print the same
facts; the status page can use ``Views.rows`` too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.config import AppConfig
from autotrader.config_strategies import StrategyConfig
from autotrader.scheduler.lifecycle import Status, strategy_status
from autotrader.store.repos_runtime import EventRepo, StrategyRuntime, StrategyRuntimeRepo
from autotrader.store.repos_scheduler import SchedulerRepo, StrategyState
from autotrader.tables import aligned

_COLUMNS = (("NAME", "name"), ("KIND", "kind"), ("STATUS", "status"), ("LAST RUN", "last"),
            ("NEXT RUN", "next"), ("RUNS", "executions"), ("OK", "successes"),
            ("FAILED", "failures"))  # fmt: skip


def _ago(secs: float) -> str:
    """A short human duration: 42s, 3m05s, 2h07m, 3d04h."""
    s = max(0, round(secs))
    for unit, size, sub, sub_size in (("d", 86400, "h", 3600), ("h", 3600, "m", 60)):
        if s >= size:
            return f"{s // size}{unit}{(s % size) // sub_size:02d}{sub}"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


class Views:
    """Strategy rows, details and control actions for one configuration."""

    def __init__(self, config: AppConfig, engine: sa.Engine, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._repo = SchedulerRepo(engine, now=clock.now)
        self._runtime = StrategyRuntimeRepo(engine, now=clock.now)
        self._events = EventRepo(engine, now=clock.now)

    # -- reads ---------------------------------------------------------------------------------
    def rows(self, name: str | None = None) -> list[dict[str, Any]]:
        """One row per configured strategy (or just ``name``)."""
        states = self._repo.states()
        runtimes = {r.strategy: r for r in self._runtime.all()}
        return [
            self._row(s, states.get(s.name), runtimes.get(s.name))
            for s in self._config.strategies
            if name in (None, s.name)
        ]

    def _row(
        self, strategy: StrategyConfig, state: StrategyState | None, rt: StrategyRuntime | None
    ) -> dict[str, Any]:
        state = state or StrategyState(strategy.name)
        paused = rt is not None and rt.paused
        status = strategy_status(enabled=strategy.enabled, desired=state.desired, paused=paused,
                                 consecutive_failures=state.consecutive_failures)  # fmt: skip
        now = self._clock.time()
        started = state.started_at if status.scheduled else None
        return {
            "name": strategy.name,
            "kind": strategy.kind,
            "status": status.value,
            "enabled": strategy.enabled,
            "desired": state.desired,
            "pause_reason": rt.pause_reason if paused and rt else None,
            "started_at": started,
            "uptime_secs": None if started is None else round(now - started.timestamp(), 3),
            "last_run_at": state.last_run_at,
            "last_outcome": state.last_outcome,
            "last_error": state.last_error,
            "next_run_at": state.next_run_at if status.scheduled else None,
            "run_now_requested": state.run_now_at is not None,
            "consecutive_failures": state.consecutive_failures,
            "executions": state.executions,
            "successes": state.successes,
            "failures": state.failures,
        }

    def show(self, name: str, runs: int) -> dict[str, Any]:
        """The row of ``name`` with its newest ``runs`` runs."""
        (row,) = self.rows(name)
        row["runs"] = [
            {
                "id": r.id,
                "started_at": r.started_at,
                "ended_at": r.ended_at,
                "outcome": r.outcome,
                "trigger": r.trigger,
                "scheduled_for": r.scheduled_for,
                "intents_created": r.intents_created,
                "nodes": r.nodes,
                "note": r.note,
                "error": r.error,
            }
            for r in self._repo.runs(name, runs)
        ]
        return row

    # -- text ----------------------------------------------------------------------------------
    def _when(self, at: datetime | None, *, future: bool) -> str:
        if at is None:
            return "-"
        secs = at.timestamp() - self._clock.time()
        if future:
            return f"in {_ago(secs)}" if secs > 0 else "due now"
        return f"{_ago(-secs)} ago"

    def table(self, rows: list[dict[str, Any]]) -> str:
        """``list`` as an aligned table."""
        if not rows:
            return "no strategies configured"
        cells = []
        for row in rows:
            last = self._when(row["last_run_at"], future=False)
            if row["last_outcome"]:
                last += f" ({row['last_outcome']})"
            view = {**row, "last": last, "next": self._when(row["next_run_at"], future=True)}
            cells.append([str(view[key]) for _, key in _COLUMNS])
        return aligned([h for h, _ in _COLUMNS], cells)

    def details(self, doc: dict[str, Any]) -> str:
        """``show`` as text: the facts, then one line per run."""
        lines = [f"{doc['name']} ({doc['kind']}): {doc['status']}"]
        if doc["pause_reason"]:
            lines.append(f"  paused: {doc['pause_reason']}")
        if doc["uptime_secs"] is not None:
            lines.append(f"  running for {_ago(doc['uptime_secs'])}")
        lines.append(f"  last run: {self._when(doc['last_run_at'], future=False)}"
                     f" ({doc['last_outcome'] or '-'})")  # fmt: skip
        lines.append(f"  next run: {self._when(doc['next_run_at'], future=True)}")
        lines.append(f"  runs: {doc['executions']} ({doc['successes']} ok, {doc['failures']} "
                     f"failed, {doc['consecutive_failures']} failed in a row)")  # fmt: skip
        if doc["last_error"]:
            lines.append(f"  last error: {doc['last_error']}")
        for r in doc["runs"]:
            what = r["error"] or r["note"] or ""
            lines.append(f"  #{r['id']} {r['started_at']:%Y-%m-%d %H:%M:%S} {r['outcome']:<8} "
                         f"intents {r['intents_created']} {what}".rstrip())  # fmt: skip
        return "\n".join(lines)

    # -- actions -------------------------------------------------------------------------------
    def act(self, action: str, name: str, reason: str) -> dict[str, Any]:
        """Carry out start/stop/pause/resume/run-now on ``name``; what happened."""
        (row,) = self.rows(name)
        status = Status(row["status"])
        if action == "start":
            self._repo.set_desired(name, "running")
            message = f"{name} started"
            if status is Status.PAUSED:
                message += " (still paused: `strategy resume` lets it run)"
        elif action == "stop":
            self._repo.set_desired(name, "stopped")
            message = f"{name} stopped"
        elif action == "pause":
            message = self._pause(name, reason)
        elif action == "resume":
            message = self._resume(name)
        else:
            if not status.scheduled:
                raise ValueError(f"{name} is {status.value}: start or resume it before run-now")
            self._repo.request_run_now(name, self._clock.now())
            message = f"{name}: run requested"
        (after,) = self.rows(name)
        return {"strategy": name, "action": action, "status": after["status"], "message": message}

    def _pause(self, name: str, reason: str) -> str:
        if not self._runtime.pause(name, reason):
            return f"{name} was already paused"
        summary = f"strategy {name} paused: {reason}"
        self._events.record("strategy_paused", name, {"summary": summary, "reason": reason})
        return f"{name} paused"

    def _resume(self, name: str) -> str:
        self._repo.reset_failures(name)
        if not self._runtime.resume(name):
            return f"{name} was not paused"
        summary = f"strategy {name} resumed"
        self._events.record("strategy_resumed", name, {"summary": summary})
        return f"{name} resumed"
