"""The scheduler's shared read cache: single flight, expiry, errors, cancellation, the cap.

Reads here are coroutines that count their calls and wait on an event the test controls, so
"concurrent" is exact: every caller is parked on the same read before it is let go.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial

from autotrader.domain.orders import Side
from autotrader.errors import TemporaryError
from autotrader.strategies.cached_reads import CachedMarketData, CachedTrades, ReadCache
from autotrader.venue.polymarket.data_api import DataTrade


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 1_000.0

    def __call__(self) -> float:
        return self.t


class Source:
    """A read that counts calls; blocks on ``gate`` while it is clear."""

    def __init__(self) -> None:
        self.calls = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.running = 0
        self.most_running = 0
        self.fail_next = False

    async def read(self, value: str) -> str:
        self.calls += 1
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await self.gate.wait()
            if self.fail_next:
                self.fail_next = False
                raise TemporaryError("venue down")
            return f"{value}#{self.calls}"
        finally:
            self.running -= 1


async def settle() -> None:
    """Let every ready task run until all are parked again."""
    for _ in range(5):
        await asyncio.sleep(0)


def test_concurrent_identical_reads_are_one_request() -> None:
    async def go() -> None:
        cache, src = ReadCache(FakeClock()), Source()
        src.gate.clear()
        waiters = [asyncio.create_task(cache.get("k", lambda: src.read("v"))) for _ in range(50)]
        await settle()
        assert src.calls == 1
        src.gate.set()
        assert await asyncio.gather(*waiters) == ["v#1"] * 50
        assert cache.stats.fetched == 1 and cache.stats.coalesced == 49

    asyncio.run(go())


def test_answers_expire_after_the_ttl_on_the_clock() -> None:
    async def go() -> None:
        clock = FakeClock()
        cache, src = ReadCache(clock, ttl_secs=5), Source()
        assert await cache.get("k", lambda: src.read("v")) == "v#1"
        clock.t += 4.9
        assert await cache.get("k", lambda: src.read("v")) == "v#1"
        clock.t += 0.2
        assert await cache.get("k", lambda: src.read("v")) == "v#2"
        assert await cache.get("other", lambda: src.read("w")) == "w#3"

    asyncio.run(go())


def test_errors_are_shared_by_waiters_but_never_cached() -> None:
    async def go() -> None:
        cache, src = ReadCache(FakeClock()), Source()
        src.gate.clear()
        src.fail_next = True
        waiters = [asyncio.create_task(cache.get("k", lambda: src.read("v"))) for _ in range(3)]
        await settle()
        src.gate.set()
        results = await asyncio.gather(*waiters, return_exceptions=True)
        assert all(isinstance(r, TemporaryError) for r in results)
        assert src.calls == 1 and len(cache) == 0
        assert await cache.get("k", lambda: src.read("v")) == "v#2"

    asyncio.run(go())


def test_a_cancelled_caller_does_not_cancel_the_read_for_others() -> None:
    async def go() -> None:
        cache, src = ReadCache(FakeClock()), Source()
        src.gate.clear()
        first = asyncio.create_task(cache.get("k", lambda: src.read("v")))
        second = asyncio.create_task(cache.get("k", lambda: src.read("v")))
        await settle()
        first.cancel()
        await settle()
        src.gate.set()
        assert await second == "v#1"
        assert first.cancelled() and src.calls == 1

    asyncio.run(go())


def test_outgoing_reads_are_capped() -> None:
    async def go() -> None:
        cache, src = ReadCache(FakeClock(), max_concurrent=3), Source()
        src.gate.clear()
        waiters = [asyncio.create_task(cache.get(i, partial(src.read, str(i)))) for i in range(10)]
        await settle()
        assert src.running == 3
        src.gate.set()
        await asyncio.gather(*waiters)
        assert src.most_running == 3 and src.calls == 10

    asyncio.run(go())


def test_expired_answers_are_dropped_without_being_looked_up() -> None:
    async def go() -> None:
        clock = FakeClock()
        cache, src = ReadCache(clock, ttl_secs=5), Source()
        for i in range(3):
            await cache.get(i, partial(src.read, str(i)))
        clock.t += 6
        await cache.get("new", partial(src.read, "new"))
        assert len(cache) == 1  # the three stale answers no longer hold memory

    asyncio.run(go())


def test_the_cache_keeps_at_most_max_entries() -> None:
    async def go() -> None:
        clock = FakeClock()
        cache, src = ReadCache(clock, ttl_secs=5, max_entries=4), Source()
        for i in range(10):
            await cache.get(i, partial(src.read, str(i)))
        assert len(cache) == 4
        assert await cache.get(9, lambda: src.read("9")) == "9#10"  # the newest stayed
        assert await cache.get(0, lambda: src.read("0")) == "0#11"  # the oldest went

    asyncio.run(go())


T0 = datetime(2026, 2, 21, 14, 0, 30, tzinfo=UTC)


class History:
    """A ``price_history`` that records the windows asked for; one point per minute."""

    def __init__(self) -> None:
        self.asked: list[tuple[datetime, datetime]] = []

    async def price_history(
        self, token_id: str, *, start: datetime, end: datetime, fidelity_mins: int = 1
    ) -> list[tuple[datetime, Decimal]]:
        self.asked.append((start, end))
        minutes = int((end - start).total_seconds() // 60)
        return [(start + timedelta(minutes=m), Decimal(m) / 100) for m in range(minutes + 1)]


def test_price_histories_of_the_same_minute_are_one_read_filtered_per_caller() -> None:
    async def go() -> None:
        inner = History()
        md = CachedMarketData(inner, ReadCache(FakeClock()))  # type: ignore[arg-type]
        a = await md.price_history("t", start=T0 - timedelta(hours=1), end=T0)
        later = T0 + timedelta(seconds=20)
        b = await md.price_history("t", start=later - timedelta(hours=1), end=later)
        assert len(inner.asked) == 1
        lo, hi = inner.asked[0]
        assert lo <= T0 - timedelta(hours=1) and hi >= later
        assert all(T0 - timedelta(hours=1) <= t <= T0 for t, _ in a)
        assert all(later - timedelta(hours=1) <= t <= later for t, _ in b)
        assert a[0][0] == datetime(2026, 2, 21, 13, 1, tzinfo=UTC)
        assert b[-1][0] == datetime(2026, 2, 21, 14, 0, tzinfo=UTC)

    asyncio.run(go())


def _trade(minute: int) -> DataTrade:
    return DataTrade(
        ts=T0 + timedelta(minutes=minute),
        side=Side.BUY,
        size=Decimal(100),
        price=Decimal("0.5"),
        usd=Decimal(50),
        wallet="0xwhale",
        condition_id="0xc",
        token_id="yes",
        outcome="Yes",
        tx_hash=str(minute),
    )


class Tape:
    """A Data API whose market tape is fixed; records the queries."""

    def __init__(self) -> None:
        self.queries: list[tuple[object, ...]] = []

    async def trades(
        self,
        user: str | None = None,
        market: str | None = None,
        since: datetime | None = None,
        min_size_usd: Decimal | None = None,
    ) -> list[DataTrade]:
        self.queries.append((user, market, since, min_size_usd))
        rows = [_trade(m) for m in range(10)]
        return [t for t in rows if since is None or t.ts >= since]


def test_market_trades_are_shared_and_filtered_by_each_callers_since() -> None:
    async def go() -> None:
        tape = Tape()
        trades = CachedTrades(tape, ReadCache(FakeClock()))
        a = await trades.trades(market="0xc", since=T0 + timedelta(minutes=5))
        b = await trades.trades(market="0xc", since=T0 + timedelta(minutes=8))
        assert [t.tx_hash for t in a] == ["5", "6", "7", "8", "9"]
        assert [t.tx_hash for t in b] == ["8", "9"]
        assert tape.queries == [(None, "0xc", None, None)]
        await trades.trades(user="0xme", since=T0)  # a wallet's trades are never shared
        assert tape.queries[-1] == ("0xme", None, T0, None)

    asyncio.run(go())


def test_a_zero_ttl_never_reuses_an_answer() -> None:
    async def go() -> None:
        cache, src = ReadCache(FakeClock(), ttl_secs=0.0), Source()
        assert await cache.get("k", lambda: src.read("v")) == "v#1"
        assert await cache.get("k", lambda: src.read("v")) == "v#2"

    asyncio.run(go())
