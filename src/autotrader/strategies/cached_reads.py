"""One shared, short-lived read cache for every strategy run of a scheduler.

Two thousand pipelines that each ask Gamma "markets tagged X, volume above Y" every minute ask
the same question two thousand times. Polymarket rate-limits Gamma, and every answer costs the
scheduler's one event loop a JSON decode and a validation. So the scheduler's market-data reads
go through ``ReadCache``:

* an answer is reused for ``ttl_secs`` of the daemons' clock (a few seconds: the data of a
  one-minute strategy is that fresh anyway; under a scaled test clock the world moves faster,
  and so does the expiry);
* concurrent identical reads are coalesced into one request in flight (single flight): the
  first caller's fetch runs as its own task, the others await the same result, and a caller
  that gives up (its run timed out) never cancels the read for the rest;
* errors are never cached: the next caller tries again;
* at most ``max_concurrent`` requests leave at once, whatever the number of runs, so a burst
  of starts waits here rather than in the HTTP pool (where it would time out) or at the venue;
* expired answers are dropped as new ones come in, and at most ``max_entries`` are kept
  (the oldest go first).

``CachedMarketData`` and ``CachedTrades`` put the cache in front of a ``MarketData`` and the
Data API's trade reads, keyed by the query.
"""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from autotrader.domain.book import OrderBook
from autotrader.domain.fees import FeeSchedule
from autotrader.domain.markets import Event, Market, MarketQuery
from autotrader.venue.base import MarketData
from autotrader.venue.polymarket.data_api import DataTrade

T = TypeVar("T")

TTL_SECS = 5.0
MAX_CONCURRENT = 16
MAX_ENTRIES = 4096
# Price histories are asked for [now - T, now] with a different "now" per run: widening the
# window to whole minutes lets runs of the same minute share one read (filtered back after).
HISTORY_GRAIN_SECS = 60


@dataclass
class CacheStats:
    """What the cache did: reads sent, answers reused, callers coalesced, reads that failed."""

    fetched: int = 0
    hits: int = 0
    coalesced: int = 0
    errors: int = 0


class ReadCache:
    """A single-flight TTL cache of async reads (see the module doc)."""

    def __init__(
        self,
        now: Callable[[], float],
        *,
        ttl_secs: float = TTL_SECS,
        max_concurrent: int = MAX_CONCURRENT,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self._now = now
        self.ttl_secs = ttl_secs
        self._max_entries = max_entries
        self._gate = asyncio.Semaphore(max_concurrent)
        self._fresh: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._inflight: dict[Hashable, asyncio.Task[Any]] = {}
        self.stats = CacheStats()

    def __len__(self) -> int:
        return len(self._fresh)

    async def get(self, key: Hashable, fetch: Callable[[], Awaitable[T]]) -> T:
        """The answer to ``key``: fresh from the cache, from the read in flight, or ``fetch()``."""
        held = self._fresh.get(key)
        if held is not None:
            if held[0] > self._now():
                self.stats.hits += 1
                value: T = held[1]
                return value
            del self._fresh[key]
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._load(key, fetch))
            task.add_done_callback(_retrieve)
            self._inflight[key] = task
        else:
            self.stats.coalesced += 1
        # shield: a caller that is cancelled (its run timed out) leaves the read to the others.
        result: T = await asyncio.shield(task)
        return result

    async def _load(self, key: Hashable, fetch: Callable[[], Awaitable[T]]) -> T:
        try:
            async with self._gate:
                self.stats.fetched += 1
                value = await fetch()
        except BaseException:
            self.stats.errors += 1
            raise
        finally:
            self._inflight.pop(key, None)
        self._store(key, value)
        return value

    def _store(self, key: Hashable, value: Any) -> None:
        now = self._now()
        self._fresh[key] = (now + self.ttl_secs, value)
        self._fresh.move_to_end(key)
        # One TTL for all: the order of insertion is the order of expiry, so the expired
        # answers are at the front (dropped now, not left to hold memory until looked up).
        while self._fresh:
            expires, _ = next(iter(self._fresh.values()))
            if expires > now and len(self._fresh) <= self._max_entries:
                break
            self._fresh.popitem(last=False)

    async def aclose(self) -> None:
        """Cancel the reads in flight (the scheduler is stopping)."""
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=1.0)


def _retrieve(task: asyncio.Task[Any]) -> None:
    # Every waiter may have gone (timed out): fetch the exception so asyncio does not log it.
    if not task.cancelled():
        task.exception()


class Closable(MarketData, Protocol):
    """A ``MarketData`` with a connection pool to close."""

    async def aclose(self) -> None:
        """Close the connection pool."""
        ...


class CachedMarketData:
    """A ``MarketData`` whose reads go through a ``ReadCache`` (the answers are shared: the
    domain objects are frozen, and lists are copied for each caller)."""

    def __init__(self, inner: Closable, cache: ReadCache) -> None:
        self.inner = inner
        self.cache = cache

    async def aclose(self) -> None:
        """Cancel the reads in flight and close the inner reader."""
        await self.cache.aclose()
        await self.inner.aclose()

    async def market_by_slug(self, slug: str) -> Market | None:
        """The market with ``slug``, or None."""
        return await self.cache.get(
            ("market_by_slug", slug), lambda: self.inner.market_by_slug(slug)
        )

    async def market_by_id(self, market_id: str) -> Market | None:
        """The market with venue id ``market_id``, or None."""
        key = ("market_by_id", market_id)
        return await self.cache.get(key, lambda: self.inner.market_by_id(market_id))

    async def markets(self, q: MarketQuery) -> list[Market]:
        """One page of markets matching ``q``."""
        return list(await self.cache.get(("markets", q), lambda: self.inner.markets(q)))

    async def event_by_slug(self, slug: str) -> Event | None:
        """The event with ``slug``, or None."""
        return await self.cache.get(("event_by_slug", slug), lambda: self.inner.event_by_slug(slug))

    async def book(self, token_id: str) -> OrderBook:
        """The order book of ``token_id``."""
        return await self.cache.get(("book", token_id), lambda: self.inner.book(token_id))

    async def midpoint(self, token_id: str) -> Decimal | None:
        """The midpoint of ``token_id``'s book, None when a side is empty."""
        return await self.cache.get(("midpoint", token_id), lambda: self.inner.midpoint(token_id))

    async def price_history(
        self, token_id: str, *, start: datetime, end: datetime, fidelity_mins: int = 1
    ) -> list[tuple[datetime, Decimal]]:
        """Price points of ``token_id`` in [start, end] (read over whole minutes, shared)."""
        lo = _floor(start)
        hi = _ceil(end)
        key = ("price_history", token_id, lo, hi, fidelity_mins)

        def fetch() -> Awaitable[list[tuple[datetime, Decimal]]]:
            return self.inner.price_history(token_id, start=lo, end=hi, fidelity_mins=fidelity_mins)

        points = await self.cache.get(key, fetch)
        return [(t, p) for t, p in points if start <= t <= end]

    async def tick_size(self, token_id: str) -> Decimal:
        """The tick size of ``token_id``."""
        return await self.cache.get(("tick_size", token_id), lambda: self.inner.tick_size(token_id))

    async def fee_schedule(self, token_id: str) -> FeeSchedule:
        """The fee schedule of ``token_id``."""
        key = ("fee_schedule", token_id)
        return await self.cache.get(key, lambda: self.inner.fee_schedule(token_id))

    async def resolution(self, market: Market) -> str | None:
        """The winning outcome once ``market`` is resolved (from the cached Gamma read)."""
        current = await self.market_by_id(market.id)
        return current.winning_outcome if current is not None else None


def _floor(t: datetime) -> datetime:
    grains = math.floor(t.timestamp() / HISTORY_GRAIN_SECS)
    return datetime.fromtimestamp(grains * HISTORY_GRAIN_SECS, UTC)


def _ceil(t: datetime) -> datetime:
    grains = math.ceil(t.timestamp() / HISTORY_GRAIN_SECS)
    return datetime.fromtimestamp(grains * HISTORY_GRAIN_SECS, UTC)


class TradesReader(Protocol):
    """The Data API read strategies use (``DataApiClient.trades``)."""

    async def trades(
        self,
        user: str | None = None,
        market: str | None = None,
        since: datetime | None = None,
        min_size_usd: Decimal | None = None,
    ) -> list[DataTrade]:
        """Trades of wallet ``user`` and/or market ``market``, newest first."""
        ...


class CachedTrades:
    """``TradesReader`` whose per-market reads go through a ``ReadCache``.

    A market's trades are read without ``since`` (the Data API does not filter a market's tape
    by time: the client filters) and filtered here, so runs with different "now"s share them.
    """

    def __init__(self, inner: TradesReader, cache: ReadCache) -> None:
        self.inner = inner
        self.cache = cache

    async def trades(
        self,
        user: str | None = None,
        market: str | None = None,
        since: datetime | None = None,
        min_size_usd: Decimal | None = None,
    ) -> list[DataTrade]:
        """Trades of wallet ``user`` and/or market ``market`` (see ``DataApiClient.trades``)."""
        if user is not None or market is None:
            return await self.inner.trades(user, market, since, min_size_usd)
        key = ("trades", market, min_size_usd)
        rows = await self.cache.get(
            key, lambda: self.inner.trades(market=market, min_size_usd=min_size_usd)
        )
        return [t for t in rows if since is None or t.ts >= since]
