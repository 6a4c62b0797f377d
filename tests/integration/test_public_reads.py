"""The wallet-free ``PublicReads`` and the scheduler's read cache over real HTTP.

Against a local server answering with the recorded Polymarket payloads (and counting what it
is asked), and against the simulator.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from autotrader.domain.markets import MarketQuery
from autotrader.domain.orders import ReasonCode
from autotrader.strategies.cached_reads import CachedMarketData, ReadCache
from autotrader.venue.errors import VenueRefused, VenueUnavailable
from autotrader.venue.polymarket.parsing import (
    parse_book,
    parse_clob_market_info,
    parse_gamma_market,
    parse_midpoint,
    parse_prices_history,
    parse_tick_size,
)
from autotrader.venue.polymarket.public_reads import PublicReads, public_http
from harness.feeds import QuietHandler, serve_http, wait_until
from harness.sim import SimProcess, serve_sim

FIXTURES = Path("/work/shared/fixtures/polymarket")
if not FIXTURES.is_dir():
    FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "polymarket"

pytestmark = pytest.mark.timeout(90)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


MARKET = load("gamma_market_btc_updown_15m.json")
FEES = load("clob_clob_markets_fee_bearing.json")
TOKEN = FEES["t"][0]["t"]
ROUTES: dict[str, Any] = {
    "/book": load("clob_book.json"),
    "/midpoint": load("clob_midpoint.json"),
    "/prices-history": load("clob_prices_history.json"),
    "/tick-size": load("clob_tick_size.json"),
    f"/markets-by-token/{TOKEN}": {"condition_id": FEES["c"]},
    f"/clob-markets/{FEES['c']}": FEES,
    f"/markets/slug/{MARKET['slug']}": MARKET,
    "/markets": [MARKET],
}


@dataclass
class Venue:
    """What the local server was asked, scripted failures, and a gate holding answers."""

    url: str = ""
    asked: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)
    fail: dict[str, list[int]] = field(default_factory=dict)  # path -> statuses to answer first
    gate: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for p, _ in self.asked if p == path)


@pytest.fixture
def venue() -> Iterator[Venue]:
    state = Venue()
    state.gate.set()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            with state.lock:
                state.asked.append((url.path, parse_qs(url.query)))
                scripted = state.fail.get(url.path)
                status = scripted.pop(0) if scripted else 200
            state.gate.wait(timeout=30)
            body = ROUTES.get(url.path)
            if body is None or status == 404:
                status, body = 404, {"error": "No orderbook exists for the requested token id"}
            elif status != 200:
                body = {"error": "busy"}
            payload = json.dumps(body)
            self.reply(status, payload.encode(), {"Content-Type": "application/json"})

    with serve_http(Handler) as url:
        state.url = url
        yield state


def reader(url: str) -> PublicReads:
    return PublicReads(gamma_url=url, clob_url=url, timeout_secs=10)


def test_reads_translate_the_recorded_payloads(venue: Venue) -> None:
    async def go() -> None:
        r = reader(venue.url)
        try:
            assert await r.book(TOKEN) == parse_book(ROUTES["/book"])
            assert await r.midpoint(TOKEN) == parse_midpoint(ROUTES["/midpoint"])
            assert await r.tick_size(TOKEN) == parse_tick_size(ROUTES["/tick-size"])
            start, end = datetime(2024, 10, 15, tzinfo=UTC), datetime(2024, 10, 16, tzinfo=UTC)
            history = await r.price_history(TOKEN, start=start, end=end, fidelity_mins=5)
            assert history == parse_prices_history(ROUTES["/prices-history"])
            assert await r.fee_schedule(TOKEN) == parse_clob_market_info(FEES).fees
            assert await r.fee_schedule(FEES["t"][1]["t"]) == parse_clob_market_info(FEES).fees
            assert await r.market_by_slug(MARKET["slug"]) == parse_gamma_market(MARKET)
            assert await r.markets(MarketQuery(limit=5)) == [parse_gamma_market(MARKET)]
        finally:
            await r.aclose()
        params = dict(venue.asked)
        assert params["/book"] == {"token_id": [TOKEN]}
        assert params["/prices-history"] == {
            "market": [TOKEN], "startTs": [str(int(start.timestamp()))],
            "endTs": [str(int(end.timestamp()))], "fidelity": ["5"],
        }  # fmt: skip
        assert venue.count(f"/markets-by-token/{TOKEN}") == 1  # the second token was cached

    asyncio.run(go())


def test_unknown_tokens_are_refused_and_outages_are_temporary(venue: Venue) -> None:
    async def go() -> None:
        r = reader(venue.url)
        try:
            venue.fail["/book"] = [404]
            with pytest.raises(VenueRefused) as refused:
                await r.book("123")
            assert refused.value.reason is ReasonCode.INVALID_TOKEN
            venue.fail["/midpoint"] = [503, 429]
            for _ in range(2):
                with pytest.raises(VenueUnavailable):
                    await r.midpoint(TOKEN)
            assert await r.midpoint(TOKEN) is not None
        finally:
            await r.aclose()

    asyncio.run(go())


def test_many_concurrent_identical_reads_are_one_request(venue: Venue) -> None:
    async def go() -> None:
        md = CachedMarketData(reader(venue.url), ReadCache(lambda: 0.0))
        try:
            venue.gate.clear()  # the server holds its answer: every read is concurrent
            q = MarketQuery(tag=None, min_volume_usd=None, limit=20)
            tasks = [asyncio.create_task(md.markets(q)) for _ in range(200)]
            await wait_until(lambda: venue.count("/markets") == 1, "the first request")
            for _ in range(5):
                await asyncio.sleep(0)  # every other caller joins the read in flight
            venue.gate.set()
            results = await asyncio.gather(*tasks)
            assert all(r == [parse_gamma_market(MARKET)] for r in results)
            assert venue.count("/markets") == 1
            assert await md.markets(q) == results[0]  # still fresh: no request either
            assert venue.count("/markets") == 1
        finally:
            venue.gate.set()
            await md.aclose()

    asyncio.run(go())


def test_failed_reads_are_not_cached(venue: Venue) -> None:
    async def go() -> None:
        md = CachedMarketData(reader(venue.url), ReadCache(lambda: 0.0))
        try:
            venue.fail["/book"] = [503]
            with pytest.raises(VenueUnavailable):
                await md.book(TOKEN)
            assert await md.book(TOKEN) == parse_book(ROUTES["/book"])
            assert venue.count("/book") == 2
        finally:
            await md.aclose()

    asyncio.run(go())


def test_a_shared_pool_is_left_open_for_its_owner(venue: Venue) -> None:
    async def go() -> None:
        http = public_http()
        r = PublicReads(gamma_url=venue.url, clob_url=venue.url, http=http)
        await r.midpoint(TOKEN)
        await r.aclose()
        assert not http.is_closed  # the Data API reads of the scheduler use it too
        assert await r.midpoint(TOKEN) == parse_midpoint(ROUTES["/midpoint"])
        await http.aclose()

    asyncio.run(go())


# --- against the simulator ---------------------------------------


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    yield from serve_sim()


def test_the_simulator_reads_agree_with_each_other(sim: SimProcess) -> None:
    now = int(httpx.get(f"{sim.url}/time", timeout=10).json())  # the simulator's clock

    async def go() -> dict[str, Any]:
        r = reader(sim.url)
        try:
            markets = await r.markets(MarketQuery(limit=5))
            token = markets[0].tokens[0].token_id
            end = datetime.fromtimestamp(now, UTC)
            hist = await r.price_history(token, start=end - timedelta(hours=2), end=end)
            book = await r.book(token)
            assert book.token_id == token and (book.bids or book.asks)
            assert await r.midpoint(token) == book.midpoint
            slug = markets[0].slug
            found = await r.market_by_slug(slug)
            assert found is not None and found.id == markets[0].id
            with pytest.raises(VenueRefused):
                await r.book("1" * 70)
            assert markets[0].tokens[0].token_id == token and len(markets) <= 5
            assert await r.tick_size(token) > 0
            assert (await r.fee_schedule(token)) is not None
            return {"history": len(hist) > 0}
        finally:
            await r.aclose()

    ours = asyncio.run(go())
    assert ours["history"]
