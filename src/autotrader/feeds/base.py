"""The price-feed contract: ``PriceQuote``, the ``PriceFeed`` protocol and ``FeedChain``.

A feed keeps only its latest quote; the signal daemon asks the ``FeedChain`` for the freshest
one. Time comes from the injected ``Clock`` (so a ScaledClock or FakeClock works); only the
pacing of network requests (poll intervals, reconnect backoff, keep-alive pings) uses real
seconds, because remote rate limits and sockets live in real time, whatever the clock says.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from autotrader.clock import Clock
from autotrader.feeds.wire import one_line

log = logging.getLogger("autotrader.feeds")


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """One BTC price: ``ts`` is the source's own time, ``received_at`` the feed clock's."""

    price: float
    ts: float
    source: str
    received_at: float


class Tick(NamedTuple):
    """What a wire parser returns: a price at the source's own time (epoch seconds)."""

    price: float
    ts: float


class Candle(NamedTuple):
    """A finished 1-minute bar: its open time (epoch seconds) and its close price."""

    open_time: float
    close: float


class PriceFeed(Protocol):
    """A source of BTC prices that runs in the background once started."""

    name: str

    @property
    def state(self) -> str:
        """``connecting``, ``ok``, ``stopped`` or ``error: <why>``, for status lines."""

    async def start(self) -> None:
        """Begin fetching in the background; returns at once."""

    async def stop(self) -> None:
        """Cancel background work and close sockets; prompt."""

    def latest(self) -> PriceQuote | None:
        """The newest quote seen so far, or None."""


class BaseFeed:
    """Shared machinery: the latest quote (newer only), state, and background tasks."""

    def __init__(self, name: str, clock: Clock) -> None:
        self.name = name
        self.clock = clock
        self._latest: PriceQuote | None = None
        self._state = "stopped"
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def state(self) -> str:
        """Current state for status lines."""
        return self._state

    def latest(self) -> PriceQuote | None:
        """The newest quote published so far."""
        return self._latest

    def publish(self, tick: Tick) -> bool:
        """Make ``tick`` the latest quote unless it is older than the current one.

        Equal times are accepted: a later message about the same instant wins.
        """
        current = self._latest
        if current is not None and tick.ts < current.ts:
            log.debug(
                "%s: ignored an out-of-order price %.2f at %.3f (latest is at %.3f)",
                self.name,
                tick.price,
                tick.ts,
                current.ts,
            )
            return False
        self._latest = PriceQuote(tick.price, tick.ts, self.name, self.clock.time())
        self._state = "ok"
        return True

    def reject(self, where: str, exc: Exception) -> None:
        """Log bad data from ``where`` as one error line; nothing is published."""
        msg = one_line(str(exc))
        log.error("%s: dropped bad data from %s: %s", self.name, where, msg)
        self._state = f"error: bad data: {msg}"

    def fail(self, what: str, exc: BaseException | str) -> None:
        """Log a transport failure (connection, HTTP status, timeout) as one error line."""
        detail = exc if isinstance(exc, str) else (str(exc) or type(exc).__name__)
        msg = one_line(f"{what}: {detail}")
        log.error("%s: %s", self.name, msg)
        self._state = f"error: {msg}"

    def set_state(self, state: str) -> None:
        """Set the status state (e.g. ``connecting``)."""
        self._state = state

    def _runners(self) -> list[Coroutine[Any, Any, None]]:
        """The background coroutines of this feed; subclasses override."""
        return []

    async def start(self) -> None:
        """Start the background tasks (no-op when already running)."""
        if self._tasks:
            return
        self._state = "connecting"
        for coro in self._runners():
            task = asyncio.create_task(coro, name=f"feed-{self.name}")
            task.add_done_callback(self._task_done)
            self._tasks.append(task)

    async def stop(self) -> None:
        """Cancel the background tasks and wait for them (they close their own sockets)."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._state = "stopped"

    def _task_done(self, task: asyncio.Task[None]) -> None:
        # The loops only end by cancellation; anything else is a bug, made visible here
        # instead of vanishing into an unawaited task. The feed then goes stale and the
        # chain fails over.
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("%s: feed task crashed: %s", self.name, one_line(repr(exc)))
            self._state = f"error: crashed: {one_line(repr(exc), 120)}"


class RemoteFeed(BaseFeed):
    """A feed from a network source: its URL, the request timeout and the retry-backoff cap.

    The REST poll loop and the WebSocket loop read these from the feed, so every network
    feed times out and backs off the same way.
    """

    def __init__(
        self,
        name: str,
        clock: Clock,
        *,
        url: str,
        request_timeout_secs: float,
        reconnect_max_backoff_secs: float,
    ) -> None:
        super().__init__(name, clock)
        self.url = url
        self.request_timeout_secs = request_timeout_secs
        self.max_backoff_secs = reconnect_max_backoff_secs


class FeedChain:
    """Ordered failover: the first source (in configured order) with a fresh quote wins."""

    def __init__(self, feeds: Sequence[PriceFeed], clock: Clock, stale_after_secs: float) -> None:
        if not feeds:
            raise ValueError("a feed chain needs at least one feed")
        if stale_after_secs <= 0:
            raise ValueError(f"stale_after_secs must be > 0 (got {stale_after_secs})")
        self.feeds = list(feeds)
        self.clock = clock
        self.stale_after_secs = float(stale_after_secs)

    def is_fresh(self, quote: PriceQuote, now: float | None = None) -> bool:
        """Fresh: no older than ``stale_after_secs`` by the clock.

        A quote more than ``stale_after_secs`` in the future is not fresh either: one of the
        clocks is badly wrong, and such a quote would otherwise look fresh forever.
        """
        age = (self.clock.time() if now is None else now) - quote.ts
        return -self.stale_after_secs <= age <= self.stale_after_secs

    def freshest(self) -> PriceQuote | None:
        """The latest quote of the first source whose quote is fresh, or None."""
        now = self.clock.time()
        for feed in self.feeds:
            quote = feed.latest()
            if quote is not None and self.is_fresh(quote, now):
                return quote
        return None

    async def start(self) -> None:
        """Start every feed; if one fails to start, the ones already started are stopped."""
        started: list[PriceFeed] = []
        try:
            for feed in self.feeds:
                await feed.start()
                started.append(feed)
        except BaseException:
            await asyncio.gather(*(f.stop() for f in started), return_exceptions=True)
            raise

    async def stop(self) -> None:
        """Stop every feed, all at once."""
        results = await asyncio.gather(*(f.stop() for f in self.feeds), return_exceptions=True)
        for feed, result in zip(self.feeds, results, strict=True):
            if isinstance(result, Exception):
                log.error("%s: error while stopping: %s", feed.name, one_line(repr(result)))

    def status(self) -> list[tuple[str, float | None, str]]:
        """``(name, age of its latest quote in seconds or None, state)`` for every feed."""
        now = self.clock.time()
        rows: list[tuple[str, float | None, str]] = []
        for feed in self.feeds:
            quote = feed.latest()
            rows.append((feed.name, None if quote is None else now - quote.ts, feed.state))
        return rows
