"""The life cycle every autotrader daemon shares (DESIGN.md §3), under systemd or in a terminal.

``run_service`` loads the configuration, prepares the database and the clock, builds the
service and then drives it::

    startup() -> READY=1 -> on_tick() every tick_secs ... -> STOPPING=1 -> shutdown() -> exit 0

Beside the tick loop, separate asyncio tasks send ``WATCHDOG=1`` (half the ``WATCHDOG_USEC``
period, only while the service is healthy), refresh ``STATUS=``, write the heartbeat row and
watch the configuration file, so a slow tick delays none of them. Signal handlers only set
flags; the control loop acts on them.

Exit codes: 0 after a requested stop; 1 when the configuration is invalid at start, start-up
fails or an unexpected exception escapes (systemd's ``Restart=always`` starts the daemon again,
every ``RestartSec``, until the cause is fixed); 143 when a second SIGTERM/SIGINT cuts a
graceful shutdown short (128 + SIGTERM, what a shell reports for a killed process, so the
aborted shutdown stays visible as a failure in ``systemctl status``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from pathlib import Path

import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.config import AppConfig, load_config
from autotrader.daemons.health import HealthTracker, feed_watchdog
from autotrader.daemons.heartbeat import HeartbeatWriter
from autotrader.daemons.notify import Notifier
from autotrader.daemons.process import (
    EXIT_ABORTED,
    EXIT_FAILURE,
    EXIT_OK,
    arm_immediate_exit,
    run_to_completion,
)
from autotrader.daemons.service import Service, ServiceFactory
from autotrader.daemons.setup import build_clock, open_database
from autotrader.daemons.watch import ConfigWatcher
from autotrader.errors import ConfigError, OperationalError, TemporaryError
from autotrader.heap import single_malloc_arena
from autotrader.log import setup_logging
from autotrader.notify.record import record_reload_failed
from autotrader.store.repos import HeartbeatRepo

log = logging.getLogger("autotrader.runtime")

WATCH_INTERVAL_SECS = 1.0
STATUS_REFRESH_SECS = 1.0
MAX_BACKOFF_SECS = 60.0
_SETTLE_SECS = 0.1  # a file still changing after this is being written: wait for the writer


def run_service(
    name: str,
    factory: ServiceFactory,
    config_path: Path,
    *,
    stall_after_secs: float | None = None,
) -> int:
    """Run one daemon through its whole life cycle and return the process exit code.

    ``stall_after_secs``: an ``on_tick`` that has not returned for this long makes the daemon
    unhealthy (default: the larger of 60 s and 10 ticks), so a tick stuck on an ``await`` that
    never completes ends in a watchdog restart rather than a silent hang.
    """
    setup_logging("info")
    single_malloc_arena()  # worker threads share one heap instead of each keeping its peak
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        _log_problems(exc)
        log.error(
            "not starting: the configuration %s is invalid (under systemd the daemon is "
            "started again every RestartSec until the file is fixed)",
            config_path,
        )
        return EXIT_FAILURE
    setup_logging(config.log_level)
    engine = open_database(config)
    if engine is None:
        return EXIT_FAILURE
    try:
        clock = build_clock(config)
    except (OSError, RuntimeError, ValueError) as exc:
        log.error("not starting: cannot set up the clock in %s: %s", config.state_dir, exc)
        engine.dispose()
        return EXIT_FAILURE
    runtime = _Runtime(name, factory, config_path, config, clock, engine, stall_after_secs)
    try:
        return run_to_completion(runtime.run())
    finally:
        engine.dispose()


def _log_problems(exc: ConfigError) -> None:
    for problem in exc.problems:
        log.error("%s", problem)


class _Runtime:
    """The running daemon: one control loop plus the watchdog, status, heartbeat and watch tasks."""

    def __init__(
        self,
        name: str,
        factory: ServiceFactory,
        config_path: Path,
        config: AppConfig,
        clock: Clock,
        engine: sa.Engine,
        stall_after_secs: float | None,
    ) -> None:
        self.name = name
        self.factory = factory
        self.config_path = config_path
        self.config = config
        self.clock = clock
        self.engine = engine
        self.health = HealthTracker(stall_after_secs)
        self.notifier = Notifier()
        self.watcher = ConfigWatcher(config_path)
        self.heartbeat = HeartbeatWriter(HeartbeatRepo(engine), name, os.getpid())
        self.service: Service | None = None
        # Set by signal handlers and tasks; acted on by the control loop.
        self.wake = asyncio.Event()
        self.stop_event = asyncio.Event()
        self.stop_reason: str | None = None
        self.reload_reasons: list[str] = []
        # Observed state.
        self.error_note: str | None = None
        self.sent_status: str | None = None

    # -- the life cycle ----------------------------------------------------------------------
    async def run(self) -> int:
        """Start, serve until asked to stop or a bug escapes, stop; return the exit code."""
        self._install_signal_handlers()
        if not await self._startup():
            if self.stop_reason is None:
                return EXIT_FAILURE
            return await self._stop(None, "stopped", self.stop_reason)
        status = self._status_text()
        self.notifier.ready(status)
        self.sent_status = status
        log.info("%s daemon ready (pid %d): %s", self.name, os.getpid(), status)
        tasks = [
            asyncio.create_task(
                feed_watchdog(self.notifier, self.health, self.service), name="watchdog"
            ),
            asyncio.create_task(self._status_loop(), name="status"),
            asyncio.create_task(self._heartbeat_loop(), name="heartbeat"),
            asyncio.create_task(self._watch_loop(), name="config-watch"),
        ]
        ticks = asyncio.create_task(self._tick_loop(), name="tick")
        ticks.add_done_callback(lambda _task: self.wake.set())
        try:
            crash = await self._control_loop(ticks)
        finally:
            for task in tasks:
                task.cancel()
        if crash is not None:
            log.error(
                "unexpected error in the %s daemon; exiting with status 1 so systemd restarts it",
                self.name,
                exc_info=crash,
            )
            await self._stop(None, "failed", f"crashed: {type(crash).__name__}: {crash}")
            return EXIT_FAILURE
        return await self._stop(ticks, "stopped", self.stop_reason or "stop requested")

    async def _startup(self) -> bool:
        """Build the service and run ``startup()``; False when either failed or a stop came."""
        try:
            self.service = self.factory(self.config, self.clock, self.engine)
        except ConfigError as exc:
            _log_problems(exc)
            log.error("not starting: the %s service refused the configuration", self.name)
            return False
        except Exception:
            log.exception("not starting: the %s service could not be created", self.name)
            return False
        await self.heartbeat.beat("starting", "starting")
        starting = asyncio.create_task(self.service.startup(), name="startup")
        stop_wait = asyncio.create_task(self.stop_event.wait())
        await asyncio.wait({starting, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
        stop_wait.cancel()
        if not starting.done():
            log.info("stop requested during start-up (%s)", self.stop_reason)
            starting.cancel()
            await asyncio.wait({starting}, timeout=self.config.daemons.shutdown_timeout_secs / 2)
            return False
        failure = starting.exception()
        if failure is None:
            return True
        if isinstance(failure, ConfigError):
            _log_problems(failure)
            log.error("not starting: the %s service refused the configuration", self.name)
        else:
            log.error("start-up failed; exiting with status 1", exc_info=failure)
        await self.heartbeat.beat("failed", f"start-up failed: {type(failure).__name__}: {failure}")
        return False

    async def _control_loop(self, ticks: asyncio.Task[None]) -> BaseException | None:
        """Act on reload and stop requests; return the exception that ended the ticks, if any."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            if ticks.done() and not ticks.cancelled() and ticks.exception() is not None:
                return ticks.exception()
            if self.stop_reason is not None:
                return None
            if self.reload_reasons:
                await self._reload()

    async def _stop(self, ticks: asyncio.Task[None] | None, state: str, reason: str) -> int:
        """Graceful shutdown within ``daemons.shutdown_timeout_secs``; returns the exit code."""
        budget = float(self.config.daemons.shutdown_timeout_secs)
        self.notifier.stopping(f"stopping ({reason})")
        log.info("stopping (%s), allowing %gs", reason, budget)
        self.stop_event.set()
        self._wake_ticks()
        deadline = time.monotonic() + budget
        if ticks is not None and not ticks.done():
            # The tick in flight may finish (an order half sent is better completed), but it
            # gets only half the budget so shutdown() always has time left.
            await asyncio.wait({ticks}, timeout=budget / 2)
            if not ticks.done():
                log.warning("the tick in progress did not finish within %gs: cancelled", budget / 2)
                ticks.cancel()
        code = await self._shutdown_service(max(0.0, deadline - time.monotonic()))
        await self.heartbeat.beat(state, f"{state} ({reason})")
        log.info("%s daemon %s", self.name, state)
        return code

    async def _shutdown_service(self, budget: float) -> int:
        if self.service is None:
            return EXIT_OK
        closing = asyncio.create_task(self.service.shutdown(), name="shutdown")
        await asyncio.wait({closing}, timeout=budget)
        if not closing.done():
            closing.cancel()
            log.error("shutdown did not finish within %.1fs; exiting anyway", budget)
            return EXIT_OK
        exc = closing.exception()
        if exc is not None:
            log.error("shutdown failed", exc_info=exc)
            return EXIT_FAILURE
        return EXIT_OK

    # -- signals -----------------------------------------------------------------------------
    def _install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, self._request_reload, "SIGHUP")
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._request_stop, sig)

    def _request_reload(self, reason: str) -> None:
        if self.stop_reason is None:
            self.reload_reasons.append(reason)
            self.wake.set()

    def _request_stop(self, sig: signal.Signals) -> None:
        if self.stop_reason is not None:
            return
        self.stop_reason = sig.name
        self.stop_event.set()
        self.wake.set()
        self._wake_ticks()
        arm_immediate_exit(asyncio.get_running_loop())

    # -- reload ------------------------------------------------------------------------------
    async def _reload(self) -> None:
        """RELOADING=1, load and validate, hand over, READY=1; an invalid file changes nothing."""
        assert self.service is not None
        reasons = ", ".join(dict.fromkeys(self.reload_reasons))
        self.reload_reasons.clear()
        self.notifier.reloading()
        self.watcher.mark_current()
        try:
            new = await asyncio.to_thread(load_config, self.config_path)
            self.service.reload(new)
        except ConfigError as exc:
            problems = "; ".join(str(p) for p in exc.problems)
            log.error("reload refused, keeping the previous configuration: %s", problems)
            refused = [str(p) for p in exc.problems]
            await asyncio.to_thread(record_reload_failed, self.engine, self.name, refused)
        except OSError as exc:  # load_config reports a missing file as ConfigError; be safe
            log.error("reload refused, keeping the previous configuration: %s", exc)
            await asyncio.to_thread(record_reload_failed, self.engine, self.name, [str(exc)])
        else:
            for field in ("state_dir", "database_url", "clock"):
                if getattr(self.config, field) != getattr(new, field):
                    log.warning("%s changed: takes effect when the daemon restarts", field)
            self.config = new
            logging.getLogger().setLevel(new.log_level.upper())
            log.info("configuration reloaded (%s)", reasons)
        status = self._status_text()
        self.notifier.ready(status)
        self.sent_status = status

    # -- ticks -------------------------------------------------------------------------------
    async def _tick_loop(self) -> None:
        """Call on_tick until a stop is requested; unexpected exceptions end the task."""
        assert self.service is not None
        failures = 0
        while self.stop_reason is None:
            delay = self.service.tick_secs
            self.health.tick_begins()
            try:
                await self.service.on_tick()
            except TemporaryError as exc:
                failures += 1
                delay = backoff(delay, failures, exc.retry_after_secs)
                log.warning("temporary failure #%d, retrying in %.1fs: %s", failures, delay, exc)
            except OperationalError as exc:
                note = f"error {exc.reason_code}: {exc}"
                # The same failure on every tick is logged once, not several times a second.
                if note != self.error_note:
                    log.error("operational error [%s]: %s", exc.reason_code, exc)
                self.error_note = note
            else:
                failures = 0
                self.error_note = None
            finally:
                self.health.tick_ends()
            self._refresh_status()
            await self._pause_between_ticks(delay)

    async def _pause_between_ticks(self, delay: float) -> None:
        """Until ``delay`` passes, a stop is requested or the service's ``tick_wakeup`` (an
        optional ``asyncio.Event``: the executor's nudge) is set."""
        wakeup: asyncio.Event | None = getattr(self.service, "tick_wakeup", None)
        waiter = self.stop_event if wakeup is None else wakeup
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter.wait(), timeout=max(0.0, delay))
        if wakeup is not None:
            wakeup.clear()

    def _wake_ticks(self) -> None:
        wakeup: asyncio.Event | None = getattr(self.service, "tick_wakeup", None)
        if wakeup is not None:
            wakeup.set()

    # -- status ------------------------------------------------------------------------------
    async def _status_loop(self) -> None:
        while True:
            await asyncio.sleep(STATUS_REFRESH_SECS)
            self._refresh_status()

    def _refresh_status(self) -> None:
        status = self._status_text()
        if status != self.sent_status:
            self.notifier.status(status)
            self.sent_status = status

    def _status_text(self) -> str:
        assert self.service is not None
        try:
            line = self.service.status_line()
        except Exception as exc:
            line = f"status unavailable ({type(exc).__name__}: {exc})"
        return f"{self.error_note}; {line}" if self.error_note else line

    # -- heartbeat and config watch ----------------------------------------------------------
    async def _heartbeat_loop(self) -> None:
        assert self.service is not None
        while True:
            interval = float(self.config.daemons.heartbeat_secs)
            # Without a watchdog nothing else evaluates health: do it here for the row.
            if self.notifier.watchdog_period is None:
                self.health.check(self.service)
            healthy = self.health.healthy
            await self.heartbeat.beat("running" if healthy else "unhealthy", self._status_text())
            await asyncio.sleep(interval)

    async def _watch_loop(self) -> None:
        """Reload when the configuration file changes (once it has stopped changing)."""
        while True:
            await asyncio.sleep(WATCH_INTERVAL_SECS)
            if self.watcher.changed():
                generation = self.watcher.generation
                for _ in range(20):
                    await asyncio.sleep(_SETTLE_SECS)
                    if not self.watcher.changed():
                        break
                # A SIGHUP may have reloaded the new version meanwhile: no second reload then.
                if self.watcher.generation == generation:
                    self._request_reload(f"{self.config_path.name} changed")


def backoff(base: float, failures: int, hint: float | None = None) -> float:
    """Capped exponential backoff from the tick period, never shorter than the source's hint."""
    delay = min(MAX_BACKOFF_SECS, max(base, 0.1) * 2.0 ** min(failures - 1, 16))
    if hint is not None:
        delay = max(delay, min(hint, 10 * MAX_BACKOFF_SECS))
    return delay


__all__ = ["EXIT_ABORTED", "Service", "ServiceFactory", "backoff", "run_service"]
