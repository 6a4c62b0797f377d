"""The executor service: reconcile, then claim intents one at a time and carry each to its end.

Every ``executor.poll_interval_ms`` the tick looks whether an intent is pending (one index
probe), and if so claims the oldest (``claim_next``) and runs it through the order path, then
the next, until none is left. For ``HOT_SECS`` after an intent ran the poll is every
``HOT_POLL_SECS`` instead: intents come in bursts, and the next one is noticed sooner. Whoever
commits an intent also nudges the executor (``autotrader.nudge``: a datagram to a socket in the
state folder), which ends the wait at once; the poll is the fallback, never the only way. Then the
trades of orders the venue said matched are collected when due (``pending.py``). Nothing is
claimed until start-up reconciliation has succeeded; ``STATUS=`` says so. Every
``position_check_secs`` the orders that may still change (resting, held, or of unknown fate) are
synced with the venue (``watch.py``), and half a period later the positions are checked
(``monitor.py``): stop-loss / take-profit exits, settlement of resolved markets, the daily loss
limit. Both yield to intents between their requests (``_run_intents``): an intent waits for one
request of theirs at most, not a whole pass. Still one task: the periodic work pauses at a safe
point while the intents run. Healthy — so the watchdog is fed — while this loop keeps turning.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import date

import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.config import AppConfig
from autotrader.errors import DataError, TemporaryError
from autotrader.executor.monitor import PositionMonitor
from autotrader.executor.order_path import OrderPath
from autotrader.executor.reconcile import Reconciler
from autotrader.executor.venues import OpenVenue, build_venue
from autotrader.executor.watch import OrderWatch
from autotrader.nudge import NudgeListener, nudge_path
from autotrader.store.repos_common import default_claimer
from autotrader.store.repos_intents import IntentRepo
from autotrader.store.repos_trading import OrderRepo

log = logging.getLogger("autotrader.executor")

MAX_INTENTS_PER_TICK = 100  # then the runtime gets a turn (status, stop requests)
HEALTHY_WITHIN_SECS = 60.0
HOT_POLL_SECS = 0.002  # the poll while intents are coming
HOT_SECS = 1.0  # real seconds after the last intent that the poll stays hot


class ExecutorService:
    """The `autotrader run executor` service (DESIGN.md §3, §4)."""

    name = "executor"

    def __init__(self, config: AppConfig, clock: Clock, db: sa.Engine) -> None:
        self._config = config
        self._clock = clock
        self._engine = db
        # ConfigError: live without key. Paper: its orders and trades persist in ``db``.
        self._venue: OpenVenue = build_venue(config, clock, db)
        self._path = OrderPath(config, self._venue.venue, db, clock)
        self._reconciler = Reconciler(self._path, self._venue.venue, db, clock)
        self._watch = OrderWatch(self._venue.venue, db, clock)
        self._monitor = PositionMonitor(
            config, self._venue.venue, db, clock, self._path.books.snapshots
        )
        self._intents = IntentRepo(db, now=clock.now)
        self._orders = OrderRepo(db, now=clock.now)
        self._claimer = default_claimer()
        self._reconciled = False
        self._reconcile_error: str | None = None
        self._last_turn = time.monotonic()
        self._next_sync = 0.0
        self._next_check = 0.0
        self._day: date | None = None
        self._done_today = 0
        self._open_orders = 0
        self._open_positions = 0
        self._hot_until = 0.0
        # Set by a nudge (an intent just committed); the runtime's pause between ticks ends.
        self.tick_wakeup = asyncio.Event()
        self._nudges = NudgeListener(nudge_path(config.state_dir), self.tick_wakeup.set)

    @property
    def tick_secs(self) -> float:
        """Real seconds between polls for new intents (shorter just after one ran)."""
        idle = self._config.executor.poll_interval_ms / 1000
        return min(HOT_POLL_SECS, idle) if time.monotonic() < self._hot_until else idle

    async def startup(self) -> None:
        """Create the state folder and try the first reconciliation (retried on every tick)."""
        self._config.state_dir.mkdir(parents=True, exist_ok=True)
        log.info("executor starting: mode %s, venue %s", self._config.mode, self._venue.name)
        self._nudges.open()
        await self._reconcile()

    async def on_tick(self) -> None:
        """Reconcile if not yet done; then run every pending intent; then sync watched orders."""
        self._last_turn = time.monotonic()
        if not self._reconciled and not await self._reconcile():
            return
        await self._run_intents()
        await self._collect_trades()
        # The order sync and the position check each take a while (reads of resting orders,
        # of markets): half a period apart, so one tick never does both; each yields to
        # intents between its requests.
        now, period = time.monotonic(), self._config.executor.position_check_secs
        if now >= self._next_sync:
            self._next_sync = now + period
            self._next_check = max(self._next_check, now + period / 2)
            await self._sync_watched()
        elif now >= self._next_check:
            self._next_check = now + period
            await self._check_positions()

    def reload(self, config: AppConfig) -> None:
        """Take new limits and strategies; a changed mode or venue needs a restart."""
        if (config.mode, config.polymarket) != (self._config.mode, self._config.polymarket):
            log.warning("mode/polymarket changed: the venue changes when the executor restarts")
        self._config = config
        self._path.config = config
        self._monitor.config = config

    async def shutdown(self) -> None:
        """Close the venue's connections (orders in flight are reconciled at the next start)."""
        self._nudges.close()
        await self._venue.aclose()

    def healthy(self) -> bool:
        """Healthy while the venue loop keeps turning, or waits on purpose (``busy_until``)."""
        now = time.monotonic()
        return now - self._last_turn <= HEALTHY_WITHIN_SECS or now <= self.busy_until()

    def busy_until(self) -> float:
        """``time.monotonic()`` until which a long tick is a deliberate wait, not a stall: an
        intent waiting out a 429 or an engine restart within its validity."""
        return self._path.busy_until

    def status_line(self) -> str:
        """One line for STATUS= and the heartbeat row."""
        venue = f"venue {self._venue.name}"
        if not self._reconciled:
            why = f": {self._reconcile_error}" if self._reconcile_error else ""
            return f"reconciling with {venue}, not trading yet{why}"
        orders = "order" if self._open_orders == 1 else "orders"
        positions = "position" if self._open_positions == 1 else "positions"
        return (
            f"ready: {self._done_today} intents done today, {self._open_orders} open {orders}, "
            f"{self._open_positions} open {positions}, {venue}"
        )

    # -- internals ---------------------------------------------------------------------------

    async def _reconcile(self) -> bool:
        try:
            await self._reconciler.run()
        except TemporaryError as exc:
            self._reconcile_error = str(exc)
            log.warning("reconciliation failed, not trading yet: %s", exc)
            return False
        self._reconciled, self._reconcile_error = True, None
        self._path.books.pending.load()
        self._open_orders = len(self._orders.open_orders())
        return True

    async def _run_intents(self) -> bool:
        """Run the pending intents, oldest first (at most MAX_INTENTS_PER_TICK); whether any
        ran. A read of one index entry says whether anything waits; the claim (a write) only
        then. Also called by the order sync and the position check between their requests
        (never concurrently: the pass waits, and reads its orders and positions again after)."""
        ran = 0
        for _ in range(MAX_INTENTS_PER_TICK if self._intents.pending_exists() else 0):
            stored = self._intents.claim_next(self._claimer)
            if stored is None:
                break
            await self._path.run(stored)
            self._count_done()
            ran += 1
            self._last_turn = time.monotonic()
        if ran:
            self._hot_until = time.monotonic() + HOT_SECS
        return ran > 0

    async def _collect_trades(self, *, force: bool = False) -> None:
        # Trades of orders the venue said matched (pending.py): recorded when listed.
        try:
            await self._path.books.pending.collect(force=force, between=self._run_intents)
        except TemporaryError as exc:
            log.warning("collecting matched orders' trades failed: %s", exc)

    def _count_done(self) -> None:
        today = self._clock.now().astimezone(self._config.tz).date()
        if today != self._day:
            self._day, self._done_today = today, 0
        self._done_today += 1
        self._open_orders = self._orders.count_open()

    async def _sync_watched(self) -> None:
        try:
            await self._watch.run(self._run_intents)
        except TemporaryError as exc:
            log.warning("order sync failed: %s", exc)
        self._open_orders = len(self._orders.open_orders())

    async def _check_positions(self) -> None:
        # Positions are replayed from fills: record every listed trade first, so an exit that
        # matched a moment ago is not taken for a position still to be sold.
        await self._collect_trades(force=True)
        try:
            report = await self._monitor.check(self._run_intents)
        except (TemporaryError, DataError) as exc:
            log.warning("position check failed: %s", exc)
            return
        self._open_positions = report.open_positions
        if report.exits or report.settled or report.paused:
            log.info(
                "position check: %d exits, %d settled, %d strategies paused",
                report.exits,
                report.settled,
                report.paused,
            )
