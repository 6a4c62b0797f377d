"""The signal daemon: samples the BTC price on a fixed grid and always holds a published view.

Every ``signal.interval_secs`` (clock time) it takes the freshest quote from the feed chain,
feeds it to the incremental engine and publishes ``signal.json`` atomically; once per
``snapshot_interval_secs`` it also stores a row in the ``signals`` table. Without fresh data it
publishes NO_TRADE (stale) and never a direction; if the data stays stale for
``unhealthy_after_secs`` it reports itself unhealthy, so the runtime stops the watchdog pings
and systemd restarts it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.config import AppConfig
from autotrader.domain.markets import Window
from autotrader.domain.signals import Direction, NoTradeReason, Signal
from autotrader.feeds import build_feed_chain
from autotrader.feeds.base import FeedChain, PriceQuote
from autotrader.fsutil import atomic_write
from autotrader.notify.record import record_feed_stale
from autotrader.signal.params import SeedParams
from autotrader.signal.published import published_path
from autotrader.signal.seed import SeedEngine
from autotrader.store.repos import SignalRepo

log = logging.getLogger("autotrader.signal")


@dataclass
class _Published:
    """What the daemon last published, for the status line and the snapshot cadence."""

    signal: Signal
    snapshot_at: float


class SignalService:
    """The `autotrader run signal` service (see the daemon contract in DESIGN.md §3)."""

    name = "signal"

    def __init__(self, config: AppConfig, clock: Clock, db: sa.Engine) -> None:
        self._config = config
        self._clock = clock
        self._repo = SignalRepo(db)
        self._db = db
        self._stale_event: str | None = None  # feeds summary of a stale episode to record
        self._chain: FeedChain = build_feed_chain(config.feeds.btc, clock)
        self._engine = self._new_engine(config)
        self._pending: AppConfig | None = None
        self._next_sample = 0.0
        self._last_fresh_at = clock.time()
        self._last: _Published | None = None
        self._stale_logged = False
        self._had_data = False
        self._last_sample: tuple[float, float] | None = None

    # -- life cycle --------------------------------------------------------------------------
    @property
    def tick_secs(self) -> float:
        """Real seconds between ticks: a quarter of a sample period, within [0.05, 0.5]."""
        period = self._config.signal.interval_secs / self._clock.speed
        return min(0.5, max(0.05, period / 4))

    async def startup(self) -> None:
        """Create the state folder, start the feeds and align the first sample to the grid."""
        self._config.state_dir.mkdir(parents=True, exist_ok=True)
        await self._chain.start()
        interval = self._config.signal.interval_secs
        self._next_sample = math.floor(self._clock.time() / interval) * interval
        self._last_fresh_at = self._clock.time()
        log.info(
            "signal daemon started: sources %s, every %gs, model %s",
            ", ".join(self._config.feeds.btc.sources),
            interval,
            self._config.signal.model,
        )

    async def on_tick(self) -> None:
        """Take a sample when the grid says so, and publish the result."""
        if self._pending is not None:
            await self._apply_pending()
        now = self._clock.time()
        if now < self._next_sample:
            return
        interval = self._config.signal.interval_secs
        grid_t = math.floor(now / interval) * interval
        self._next_sample = grid_t + interval
        quote = self._chain.freshest()
        signal = self._evaluate(grid_t, now, quote)
        await self._publish(signal, grid_t)
        if self._stale_event is not None:  # one feed_stale notification per stale episode
            feeds, self._stale_event = self._stale_event, None
            stale_after = self._config.feeds.btc.stale_after_secs
            await asyncio.to_thread(record_feed_stale, self._db, stale_after, feeds)

    def reload(self, config: AppConfig) -> None:
        """Take a new configuration; applied at the next tick (feeds restart only if changed)."""
        self._pending = config

    async def shutdown(self) -> None:
        """Stop the feeds; the last published signal stays on disk."""
        await self._chain.stop()

    def healthy(self) -> bool:
        """Healthy while fresh data arrived within ``unhealthy_after_secs``."""
        limit = self._config.feeds.btc.unhealthy_after_secs
        return self._clock.time() - self._last_fresh_at <= limit

    def status_line(self) -> str:
        """One line for STATUS= and the heartbeat row."""
        if self._last is None:
            return "starting: waiting for the first sample"
        s = self._last.signal
        if s.direction is Direction.NO_TRADE:
            detail = s.reason.value if s.reason else "no trade"
            if s.reason is NoTradeReason.STALE:
                stale_for = self._clock.time() - self._last_fresh_at
                detail = f"stale: no fresh price for {stale_for:.0f}s ({self._feed_summary()})"
            elif s.reason is NoTradeReason.WARMING_UP:
                detail = "warming up"
            price = f" @ {s.price:.2f}" if s.price is not None else ""
            return f"NO_TRADE ({detail}){price} for {s.window.slug}"
        return (
            f"{s.direction.value} {s.confidence:.0f}% @ {s.price:.2f} from {s.source} "
            f"(age {s.data_age_secs:.1f}s) for {s.window.slug}"
        )

    # -- internals ---------------------------------------------------------------------------
    @staticmethod
    def _new_engine(config: AppConfig) -> SeedEngine:
        params = SeedParams.from_mapping(config.signal.seed.model_dump())
        return SeedEngine(params, sample_secs=config.signal.interval_secs)

    def _evaluate(self, grid_t: float, now: float, quote: PriceQuote | None) -> Signal:
        window = Window.for_signal_at(grid_t)
        ts = datetime.fromtimestamp(grid_t, UTC)
        if quote is None:
            reason = NoTradeReason.STALE if self._had_data else NoTradeReason.NO_DATA
            self._log_stale()
            return Signal(ts, Direction.NO_TRADE, 0.0, None, None, window, None, None, reason)
        self._had_data = True
        self._last_fresh_at = now
        if self._stale_logged:
            log.info("fresh price again from %s", quote.source)
            self._stale_logged = False
        self._sample(grid_t, quote)
        ev = self._engine.evaluation()
        age = max(0.0, now - quote.ts)
        if ev is None:
            return Signal(
                ts, Direction.NO_TRADE, 0.0, quote.price, None, window, quote.source, age,
                NoTradeReason.WARMING_UP,
            )  # fmt: skip
        return Signal(
            ts,
            ev.direction,
            ev.confidence,
            quote.price,
            ev.basis,
            window,
            quote.source,
            age,
            ev.reason,
        )

    def _sample(self, grid_t: float, quote: PriceQuote) -> None:
        self._catch_up(grid_t)
        try:
            self._engine.update(round(grid_t * 1000), quote.price)
        except ValueError as exc:  # the feeds validate prices; this is the last line of defence
            log.error("dropped an invalid price from %s: %s", quote.source, exc)
            return
        self._last_sample = (grid_t, quote.price)

    def _catch_up(self, grid_t: float) -> None:
        """Carry the last price over grid points a late tick missed while data stayed fresh.

        A skipped sample looks like a gap to the engine, and a gap restarts its warm-up
        (15 minutes at the defaults); a tick that is merely late must not cost that. Only gaps
        shorter than ``stale_after_secs`` are filled: beyond that the data really was missing.
        """
        if self._last_sample is None:
            return
        interval = self._config.signal.interval_secs
        last_t, last_price = self._last_sample
        missed = round((grid_t - last_t) / interval) - 1
        if missed > 0 and missed * interval <= self._config.feeds.btc.stale_after_secs:
            for k in range(1, missed + 1):
                self._engine.update(round((last_t + k * interval) * 1000), last_price)

    def _log_stale(self) -> None:
        if not self._had_data:
            return  # the first samples before any price arrives are not news
        if not self._stale_logged:
            log.warning(
                "no fresh BTC price within %gs: publishing NO_TRADE (stale) (%s)",
                self._config.feeds.btc.stale_after_secs,
                self._feed_summary(),
            )
            self._stale_logged = True
            self._stale_event = self._feed_summary()

    def _feed_summary(self) -> str:
        parts = []
        for name, age, state in self._chain.status():
            parts.append(f"{name} {state}" + (f" {age:.0f}s old" if age is not None else ""))
        return ", ".join(parts)

    async def _publish(self, signal: Signal, grid_t: float) -> None:
        doc = json.dumps(signal.to_json_dict(), separators=(",", ":")).encode()
        path = published_path(self._config.state_dir)
        await asyncio.to_thread(atomic_write, path, doc + b"\n")
        snapshot_at = self._last.snapshot_at if self._last else -math.inf
        # On the sample grid, so float jitter in the tick time never skips a snapshot.
        if grid_t - snapshot_at >= self._config.signal.snapshot_interval_secs:
            await asyncio.to_thread(self._repo.add_snapshot, signal)
            snapshot_at = grid_t
        if self._last is None or self._last.signal.direction != signal.direction:
            log.info("signal %s", self._describe(signal))
        self._last = _Published(signal, snapshot_at)

    @staticmethod
    def _describe(signal: Signal) -> str:
        if signal.direction is Direction.NO_TRADE:
            why = signal.reason.value if signal.reason else "-"
            return f"NO_TRADE ({why}) for {signal.window.slug}"
        score = signal.basis.score if signal.basis else float("nan")
        return (
            f"{signal.direction.value} confidence {signal.confidence:.0f} score {score:+.3f} "
            f"price {signal.price} for {signal.window.slug}"
        )

    async def _apply_pending(self) -> None:
        new, self._pending = self._pending, None
        assert new is not None
        old = self._config
        self._config = new
        if new.feeds != old.feeds:
            log.info("feed configuration changed: restarting feeds")
            await self._chain.stop()
            self._chain = build_feed_chain(new.feeds.btc, self._clock)
            await self._chain.start()
        if new.signal != old.signal:
            log.info("signal model changed: the engine starts a new warm-up")
            self._engine = self._new_engine(new)
            self._last_sample = None
            interval = new.signal.interval_secs
            self._next_sample = math.floor(self._clock.time() / interval) * interval
