"""Who runs and when: strategies entering and leaving the schedule.

``Controller`` owns the status transitions of the in-memory entries and writes what they change
(next run, start time) to ``strategy_state``:

* ``load``: strategies seen for the first time by this process (start-up, added by a reload);
  the stored next run is kept when it is still ahead, so a restart does not rerun everything;
* ``poll``: the CLI's start/stop overrides, pauses and resumes (``strategy_runtime``) and
  run-now requests, read from the database;
* ``update`` / ``remove``: definitions changed or removed by a reload;
* ``pause_for_errors``: too many failed runs in a row.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.config import AppConfig
from autotrader.config_strategies import StrategyConfig
from autotrader.scheduler.agenda import Agenda, DbThread, Entry
from autotrader.scheduler.lifecycle import Status, definition_hash, transition
from autotrader.scheduler.schedule import first_run, resume_run
from autotrader.store.repos_runtime import EventRepo, StrategyRuntimeRepo
from autotrader.store.repos_scheduler import Control, SchedulerRepo

log = logging.getLogger("autotrader.scheduler")
_NO_WISH = Control(None, None)


def _dt(t: float | None) -> datetime | None:
    return None if t is None else datetime.fromtimestamp(t, UTC)


class Controller:
    """Status transitions of the scheduler's entries (see the module docstring)."""

    def __init__(
        self,
        repo: SchedulerRepo,
        engine: sa.Engine,
        clock: Clock,
        entries: dict[str, Entry],
        agenda: Agenda,
        db: DbThread,
    ) -> None:
        self._db = db
        self._repo = repo
        self._runtime = StrategyRuntimeRepo(engine, now=clock.now)
        self._events = EventRepo(engine, now=clock.now)
        self._clock = clock
        self._entries = entries
        self._agenda = agenda
        self._orphans: list[asyncio.Task[object]] = []
        self._removed: list[str] = []

    async def load(self, config: AppConfig, strategies: Sequence[StrategyConfig]) -> None:
        """Add entries for ``strategies`` from their stored state and schedule them."""
        if not strategies:
            return
        digests = {s.name: definition_hash(s) for s in strategies}
        states = await self._db(self._repo.ensure, digests)
        paused = await self._db(self._repo.paused)
        now = self._clock.time()
        changes: dict[str, datetime | None] = {}
        for strategy in strategies:
            state = states[strategy.name]
            entry = Entry(strategy, state.desired, strategy.name in paused,
                          state.consecutive_failures)  # fmt: skip
            self._entries[strategy.name] = entry
            stored = state.next_run_at.timestamp() if state.next_run_at else None
            if entry.status.scheduled:
                self._set_due(entry, resume_run(strategy.schedule, stored, now, config.tz))
            changes[strategy.name] = _dt(entry.due)
        await self._db(self._repo.set_next_runs, changes)
        started = [s.name for s in strategies if self._entries[s.name].status.scheduled]
        await self._db(self._repo.set_started, started, self._clock.now())

    async def poll(self, config: AppConfig) -> None:
        """Read the CLI's wishes and pauses; start, halt or run strategies accordingly."""
        control = await self._db(self._repo.control)
        paused = await self._db(self._repo.paused)
        for entry in self._entries.values():
            wish = control.get(entry.name, _NO_WISH)
            is_paused = entry.name in paused
            if (wish.desired == entry.desired and is_paused == entry.paused
                    and (wish.run_now_at is None or entry.run_now)):  # fmt: skip
                continue  # the facts are unchanged, so is the status: nothing to do
            before = entry.status
            if entry.paused and entry.name not in paused:
                entry.consecutive_failures = 0  # resumed: a fresh start
                await self._db(self._repo.reset_failures, entry.name)
            entry.desired, entry.paused = wish.desired, is_paused
            await self._apply(config, entry, before)
            if wish.run_now_at is not None and not entry.run_now:
                await self._run_now(entry)

    async def _run_now(self, entry: Entry) -> None:
        if entry.status.scheduled:
            entry.run_now = True
            return
        log.info("strategy %s is %s: run-now request dropped", entry.name, entry.status.value)
        await self._db(self._repo.clear_run_now, entry.name)

    async def update(self, config: AppConfig, changed: Sequence[StrategyConfig]) -> None:
        """Take new definitions; a changed schedule is recomputed, anything else keeps its time."""
        if not changed:
            return
        await self._db(self._repo.ensure, {s.name: definition_hash(s) for s in changed})
        for strategy in changed:
            entry = self._entries[strategy.name]
            before = entry.status
            schedule_changed = strategy.schedule != entry.config.schedule
            entry.config = strategy
            if schedule_changed and entry.status.scheduled and before.scheduled:
                self._set_due(entry, first_run(strategy.schedule, self._clock.time(), config.tz))
                await self._store(entry, started=True)
            await self._apply(config, entry, before)

    def remove(self, name: str) -> None:
        """Forget ``name`` (its row and runs stay); a run in flight may finish and is recorded."""
        entry = self._entries.pop(name, None)
        if entry is None:
            return
        entry.due = None
        if entry.task is not None and entry.busy:
            self._orphans.append(entry.task)
        self._orphans = [t for t in self._orphans if not t.done()]
        self._removed.append(name)

    async def flush_removed(self) -> None:
        """Clear the next run of strategies removed since the last call."""
        removed, self._removed = self._removed, []
        if removed:
            await self._db(self._repo.set_next_runs, {n: None for n in removed})

    def orphans(self) -> list[asyncio.Task[object]]:
        """Runs in flight of strategies that were removed."""
        return [t for t in self._orphans if not t.done()]

    async def pause_for_errors(self, entry: Entry, error: str, limit: int) -> None:
        """Pause ``entry`` after ``limit`` failed runs in a row and record ``strategy_error``."""
        before = entry.status
        reason = f"{limit} consecutive failed runs; last: {error}"
        if await self._db(self._runtime.pause, entry.name, reason):
            summary = f"strategy {entry.name} paused after {limit} consecutive failed runs: {error}"
            payload = {"summary": summary, "error": error, "consecutive_failures": limit}
            await self._db(self._events.record, "strategy_error", entry.name, payload)
            log.error("%s", summary)
        entry.paused = True
        await self._apply_status(entry, before)

    # -- internals ---------------------------------------------------------------------------
    async def _apply(self, config: AppConfig, entry: Entry, before: Status) -> None:
        action = transition(before, entry.status)
        if action == "start":
            self._set_due(entry, first_run(entry.config.schedule, self._clock.time(), config.tz))
            log.info("strategy %s %s", entry.name, entry.status.value)
            await self._store(entry, started=True)
        elif action == "halt":
            await self._apply_status(entry, before)

    async def _apply_status(self, entry: Entry, before: Status) -> None:
        if transition(before, entry.status) == "halt":
            entry.due = None
            entry.run_now = False
            log.info("strategy %s %s", entry.name, entry.status.value)
            await self._store(entry, started=False)

    def _set_due(self, entry: Entry, due: float | None) -> None:
        entry.due = due
        if due is not None:
            self._agenda.push(entry.name, due)

    async def _store(self, entry: Entry, *, started: bool) -> None:
        at = self._clock.now() if started else None
        await self._db(self._repo.set_schedule, entry.name, _dt(entry.due), at)
