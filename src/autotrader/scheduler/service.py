"""The scheduler daemon: runs every declared strategy on its schedule (DESIGN.md §1, §3).

Each tick (at most every 0.25 s real, sooner when a run is due):

1. a reloaded configuration is applied (added strategies start, removed ones stop, changed
   ones run their new definition from their next run, unchanged ones are left alone);
2. every ``CONTROL_POLL_SECS`` the CLI's wishes are read from the database — start/stop
   overrides, run-now requests, pauses — and acted on (so within a second);
3. runs that ended are recorded in one batch; a strategy that failed
   ``scheduler.max_consecutive_failures`` times in a row is paused (``strategy_error`` event);
4. runs that are due start, each as its own asyncio task under ``scheduler.run_timeout_secs``:
   one strategy's failure or slowness never delays another's start;
5. the notification dispatcher and the status page writer get their turn (``hosted``).

Strategies read the venue through one wallet-free reader behind a shared, short-lived read
cache (``strategies.context``): thousands of strategies asking Gamma the same question in the
same few seconds cost one request, and at most a handful of requests are in flight at once.

Due times come from a heap (``agenda``), so the cost per tick does not grow with the number
of strategies. A run still in flight when its next one is due makes that occurrence be skipped
(logged), never run twice at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.config import AppConfig
from autotrader.config_strategies import StrategyConfig
from autotrader.scheduler.agenda import Agenda, DbThread, Entry
from autotrader.scheduler.control import Controller
from autotrader.scheduler.hosted import Hosted
from autotrader.scheduler.lifecycle import Status, definition_hash
from autotrader.scheduler.runner import Outcome, execute
from autotrader.scheduler.schedule import following_run
from autotrader.store.repos_scheduler import RunEnd, RunStart, SchedulerRepo
from autotrader.strategies.base import StrategyContext

if TYPE_CHECKING:
    from autotrader.strategies.context import SharedReads

log = logging.getLogger("autotrader.scheduler")

MAX_TICK_SECS = 0.25
MIN_TICK_SECS = 0.005
CONTROL_POLL_SECS = 0.5
HEALTHY_WITHIN_SECS = 60.0
SHUTDOWN_RUN_GRACE_SECS = 3.0
COUNTS_SECS = 1.0  # how stale the status line's counts may be (real seconds)


def _dt(t: float | None) -> datetime | None:
    return None if t is None else datetime.fromtimestamp(t, UTC)


class SchedulerService:
    """The `autotrader run scheduler` service."""

    name = "scheduler"

    def __init__(self, config: AppConfig, clock: Clock, db: sa.Engine) -> None:
        self._config = config
        self._clock = clock
        self._engine = db
        self._repo = SchedulerRepo(db, now=clock.now)
        self._entries: dict[str, Entry] = {}
        self._agenda = Agenda()
        self._db = DbThread()
        self._control = Controller(self._repo, db, clock, self._entries, self._agenda, self._db)
        self._ended: list[tuple[str, int, Outcome]] = []
        self._pending: AppConfig | None = None
        self._ctx: StrategyContext | None = None
        self._reads: SharedReads | None = None
        self._hosted: Hosted | None = None
        self._last_turn = time.monotonic()
        self._next_poll = 0.0
        self._overlaps: set[str] = set()
        self._counted: tuple[float, dict[Status, int], int] | None = None

    # -- life cycle --------------------------------------------------------------------------
    @property
    def tick_secs(self) -> float:
        """Real seconds to the next tick: the next due run or 0.25 s, whichever is sooner."""
        head = self._agenda.peek(self._entries)
        wait = MAX_TICK_SECS
        if head is not None:
            wait = min(wait, (head[1] - self._clock.time()) / self._clock.speed)
        if any(e.run_now for e in self._entries.values()):
            wait = 0.0
        return max(MIN_TICK_SECS, wait)

    async def startup(self) -> None:
        """Open the outside world, recover the stored state and schedule every strategy."""
        self._config.state_dir.mkdir(parents=True, exist_ok=True)
        self._ctx = self._build_context(self._config)
        interrupted = await self._db(self._repo.mark_interrupted)
        if interrupted:
            log.warning(
                "%d run(s) interrupted by the previous scheduler marked failed", interrupted
            )
        await self._control.load(self._config, self._config.strategies)
        self._hosted = Hosted(self._config, self._clock, self._engine)
        log.info("scheduler started: %s", self.status_line())

    async def on_tick(self) -> None:
        """Apply reloads and CLI wishes, record ended runs, start due runs, drive hosted parts."""
        self._last_turn = time.monotonic()
        if self._pending is not None:
            new, self._pending = self._pending, None
            await self._apply(new)
        if time.monotonic() >= self._next_poll:
            self._next_poll = time.monotonic() + CONTROL_POLL_SECS
            await self._control.poll(self._config)
        await self._record_ended()
        await self._dispatch()
        self._agenda.compact(self._entries)
        if self._hosted is not None:
            self._hosted.tick()
        self._last_turn = time.monotonic()

    def reload(self, config: AppConfig) -> None:
        """Take a new configuration; applied at the next tick."""
        self._pending = config

    async def shutdown(self) -> None:
        """Let runs in flight finish briefly, record them, close the outside world."""
        tasks = [e.task for e in self._entries.values() if e.busy]
        tasks += self._control.orphans()
        live = [t for t in tasks if t is not None]
        if live:
            grace = min(SHUTDOWN_RUN_GRACE_SECS, self._config.daemons.shutdown_timeout_secs / 4)
            await asyncio.wait(live, timeout=grace)
            for task in live:
                task.cancel()
            await asyncio.wait(live, timeout=1.0)
        await self._record_ended()
        if self._hosted is not None:
            await self._hosted.aclose(self._config.daemons.shutdown_timeout_secs / 4)
        if self._reads is not None:
            await self._reads.aclose()
        self._db.close()

    def healthy(self) -> bool:
        """Healthy while the tick loop keeps turning."""
        return time.monotonic() - self._last_turn <= HEALTHY_WITHIN_SECS

    def status_line(self) -> str:
        """E.g. "3 strategies: 2 running, 1 paused; next btc-15m in 42s; 1 e-mail pending"."""
        counts, busy = self._counts()
        n = len(self._entries)
        parts = [f"{c} {s.value}" for s in Status if (c := counts.get(s, 0))]
        line = f"{n} {'strategy' if n == 1 else 'strategies'}"
        line += f": {', '.join(parts)}" if parts else ""
        head = self._agenda.peek(self._entries)
        if head is not None:
            secs = max(0.0, head[1] - self._clock.time())
            line += f"; next {head[0].name} in {secs:.0f}s"
        if busy:
            line += f"; {busy} running now"
        extra = self._hosted.status_text() if self._hosted is not None else ""
        return f"{line}; {extra}" if extra else line

    def _counts(self) -> tuple[dict[Status, int], int]:
        """Strategies per status and runs in flight, recounted at most every COUNTS_SECS.

        The runtime asks for the status line several times a second; counting thousands of
        entries each time was the scheduler's largest steady cost after the runs themselves.
        """
        now = time.monotonic()
        if self._counted is not None and now < self._counted[0]:
            return self._counted[1], self._counted[2]
        counts: dict[Status, int] = {}
        busy = 0
        for entry in self._entries.values():
            status = entry.status
            counts[status] = counts.get(status, 0) + 1
            busy += entry.busy
        self._counted = (now + COUNTS_SECS, counts, busy)
        return counts, busy

    # -- runs --------------------------------------------------------------------------------
    async def _dispatch(self) -> None:
        """Start every run that is due (scheduled or requested) in one database batch."""
        now = self._clock.time()
        batch: list[tuple[Entry, RunStart]] = []
        for entry, due in self._agenda.pop_due(now, self._entries):
            nxt = following_run(entry.config.schedule, due, now, self._config.tz)
            entry.due = nxt
            if nxt is not None:
                self._agenda.push(entry.name, nxt)
            if entry.busy:
                self._note_overlap(entry)
                continue
            start = RunStart(entry.name, _dt(now) or self._clock.now(), _dt(due), "schedule",
                             _dt(nxt))  # fmt: skip
            batch.append((entry, start))
        for entry in self._entries.values():
            if entry.run_now and not entry.busy and all(e is not entry for e, _ in batch):
                entry.run_now = False
                batch.append((entry, RunStart(entry.name, self._clock.now(), None, "manual", None)))
        if not batch:
            return
        ids = await self._db(self._repo.start_runs, [s for _, s in batch])
        for (entry, _), run_id in zip(batch, ids, strict=True):
            entry.task = asyncio.create_task(self._run(entry, run_id), name=f"run:{entry.name}")

    def _note_overlap(self, entry: Entry) -> None:
        if entry.name not in self._overlaps:
            log.warning("strategy %s: previous run still in flight; occurrence skipped", entry.name)
            self._overlaps.add(entry.name)

    async def _run(self, entry: Entry, run_id: int) -> None:
        assert self._ctx is not None
        ctx = dataclasses.replace(self._ctx, run_id=run_id)
        timeout = self._config.scheduler.run_timeout_secs
        try:
            outcome = await execute(entry.config, ctx, timeout)
        except asyncio.CancelledError:
            outcome = Outcome("failed", error="interrupted: the scheduler stopped during the run")
            self._ended.append((entry.name, run_id, outcome))
            raise
        self._ended.append((entry.name, run_id, outcome))

    def _count_failures(self, entry: Entry, out: Outcome) -> int:
        """The entry's failures in a row after ``out``; its finished task is let go."""
        entry.consecutive_failures = entry.consecutive_failures + 1 if out.failed else 0
        if not out.failed:
            self._overlaps.discard(entry.name)
        if entry.task is not None and entry.task.done():
            # A finished task keeps its coroutine, context and name (~0.6 KB) until the
            # next run replaces it: per strategy, for the daemon's life.
            entry.task = None
        return entry.consecutive_failures

    async def _record_ended(self) -> None:
        """Write the runs that ended since the last tick; pause strategies failing too often."""
        if not self._ended:
            return
        ended, self._ended = self._ended, []
        ends: list[RunEnd] = []
        for name, run_id, out in ended:
            entry = self._entries.get(name)
            count = 0 if entry is None else self._count_failures(entry, out)
            if out.failed:
                log.warning("strategy %s: run %d %s: %s", name, run_id, out.outcome, out.error)
            ends.append(RunEnd(run_id, name, self._clock.now(), out.outcome, count, out.nodes,
                               out.intents_created, out.error, out.note))  # fmt: skip
        await self._db(self._repo.finish_runs, ends)
        if self._hosted is not None and any(e.intents_created for e in ends):
            self._hosted.force_page()
        limit = self._config.scheduler.max_consecutive_failures
        for end in ends:
            entry = self._entries.get(end.strategy)
            if entry is not None and not entry.paused and end.consecutive_failures >= limit:
                await self._control.pause_for_errors(entry, end.error or end.outcome, limit)

    # -- configuration -----------------------------------------------------------------------
    def _changed(self, kept: list[StrategyConfig]) -> list[StrategyConfig]:
        """The strategies of ``kept`` whose definition differs from the one their entry runs.

        The others' entries take the new (identical) definition, so the old configuration
        is not kept alive beside the new one. Digests are computed here rather than kept
        per entry: a reload is rare, an entry lives as long as the daemon.
        """
        changed = []
        for strategy in kept:
            entry = self._entries[strategy.name]
            if definition_hash(strategy) != definition_hash(entry.config):
                changed.append(strategy)
            else:
                entry.config = strategy
        return changed

    def _build_context(self, config: AppConfig) -> StrategyContext:
        """The strategies' outside world: wallet-free reads behind one shared read cache."""
        from autotrader.strategies.context import build_context, shared_reads

        self._reads = shared_reads(config, self._clock)
        return build_context(config, self._clock, self._engine, self._reads)

    async def _apply(self, new: AppConfig) -> None:
        """Hand over to a new configuration (see the module docstring)."""
        old = self._config
        self._config = new
        self._counted = None  # the status line counts the new set at once
        if new.polymarket != old.polymarket:
            log.warning("polymarket settings changed: strategies use them after a restart")
        if self._ctx is not None:
            self._ctx = dataclasses.replace(self._ctx, config=new)
        if self._hosted is not None:
            self._hosted.reload(new)
        wanted = {s.name: s for s in new.strategies}
        removed = [n for n in self._entries if n not in wanted]
        added = [s for n, s in wanted.items() if n not in self._entries]
        kept = [s for n, s in wanted.items() if n in self._entries]
        changed = self._changed(kept)
        for name in removed:
            self._control.remove(name)
        await self._control.flush_removed()
        await self._control.update(new, changed)
        await self._control.load(new, added)
        if removed or added or changed:
            log.info(
                "strategies reloaded: %d added, %d removed, %d changed, %d unchanged",
                len(added), len(removed), len(changed),
                len(wanted) - len(added) - len(changed),
            )  # fmt: skip
