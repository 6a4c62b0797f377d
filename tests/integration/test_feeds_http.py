"""Coinbase and Binance REST feeds against a local HTTP server serving the real payloads.

Covers bad bodies (truncated, garbage, wrong values), HTTP errors, out-of-order answers,
candle backfill, and failover in a FeedChain when the first source goes down and recovers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from autotrader.clock import FakeClock
from autotrader.errors import DataError, TemporaryError
from autotrader.feeds.base import Candle, FeedChain
from autotrader.feeds.binance import BinanceFeed
from autotrader.feeds.coinbase import CoinbaseFeed
from harness.feeds import QuietHandler, errors, serve_http, wait_until

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
CB_TICKER = (FIXTURES / "coinbase_exchange_ticker_btcusd.json").read_bytes()
CB_CANDLES = (FIXTURES / "coinbase_exchange_candles_btcusd_60.json").read_bytes()
BN_TICKER = (FIXTURES / "binance_ticker_price_btcusdt.json").read_bytes()
BN_KLINES = (FIXTURES / "binance_klines_btcusdt_1m.json").read_bytes()
CB_TICKER_PATH = "/products/BTC-USD/ticker"
BN_TICKER_PATH = "/api/v3/ticker/price"
CB_TICKER_TS = 1_781_887_413.016274  # 2026-06-19T16:43:33.016274911Z

pytestmark = pytest.mark.timeout(60)


class Routes:
    """What the fake exchange answers, changeable while it runs, and what it was asked."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.table: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.requests: list[tuple[str, dict[str, list[str]], str]] = []

    def set(
        self, path: str, body: bytes, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        with self.lock:
            self.table[path] = (status, body, headers or {})

    def hits(self, path: str) -> int:
        with self.lock:
            return sum(1 for p, _, _ in self.requests if p == path)


@contextmanager
def http_server(routes: Routes) -> Iterator[str]:
    """A threaded HTTP server on 127.0.0.1 answering from ``routes``; yields its base URL."""

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            with routes.lock:
                routes.requests.append(
                    (url.path, parse_qs(url.query), self.headers.get("User-Agent", ""))
                )
                status, body, headers = routes.table.get(
                    url.path, (404, b'{"message":"NotFound"}', {})
                )
            self.reply(status, body, {**headers, "Content-Type": "application/json"})

    with serve_http(Handler) as url:
        yield url


def coinbase(clock: FakeClock, url: str) -> CoinbaseFeed:
    return CoinbaseFeed(
        clock,
        url=url,
        poll_interval_secs=0.02,
        request_timeout_secs=2,
        reconnect_max_backoff_secs=0.05,
    )


def binance_rest(clock: FakeClock, url: str) -> BinanceFeed:
    return BinanceFeed(
        clock,
        url=url,
        use_websocket=False,
        poll_interval_secs=0.02,
        request_timeout_secs=2,
        reconnect_max_backoff_secs=0.05,
    )


def ticker_at(ts_iso: str, price: str) -> bytes:
    doc = json.loads(CB_TICKER)
    doc["time"], doc["price"] = ts_iso, price
    return json.dumps(doc).encode()


def test_coinbase_polls_the_ticker() -> None:
    routes = Routes()
    routes.set(CB_TICKER_PATH, CB_TICKER)
    clock = FakeClock(CB_TICKER_TS + 2)

    async def scenario(url: str) -> None:
        feed = coinbase(clock, url)
        await feed.start()
        try:
            await wait_until(lambda: feed.latest() is not None, "a coinbase quote")
            quote = feed.latest()
            assert quote is not None
            assert quote.price == 63212.97
            assert quote.ts == pytest.approx(CB_TICKER_TS, abs=1e-6)
            assert quote.source == "coinbase"
            assert quote.received_at == clock.time()
            assert feed.state == "ok"
        finally:
            await feed.stop()
        assert feed.state == "stopped"

    with http_server(routes) as url:
        asyncio.run(scenario(url))
    path, _, agent = routes.requests[0]
    assert path == CB_TICKER_PATH and agent.startswith("autotrader")


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (CB_TICKER[: len(CB_TICKER) // 2], 200, "not valid JSON"),
        (b"<html>maintenance</html>", 200, "not valid JSON"),
        (ticker_at("2026-06-19T16:43:33Z", "-1"), 200, "must be > 0"),
        (ticker_at("2026-06-19T16:43:33Z", "NaN"), 200, "decimal number"),
        (b'{"price": "63212.97"}', 200, "missing 'time'"),
        (b'{"message": "Internal server error"}', 500, "HTTP 500"),
    ],
    ids=["truncated", "garbage", "negative", "nan", "missing-time", "http-500"],
)
def test_coinbase_bad_answers_log_an_error_and_publish_nothing(
    caplog: pytest.LogCaptureFixture, body: bytes, status: int, message: str
) -> None:
    routes = Routes()
    routes.set(CB_TICKER_PATH, body, status)
    clock = FakeClock(CB_TICKER_TS + 2)

    async def scenario(url: str) -> None:
        feed = coinbase(clock, url)
        await feed.start()
        try:
            await wait_until(lambda: len(errors(caplog, message)) >= 2, f"errors with {message}")
            assert feed.latest() is None
            assert feed.state.startswith("error:")
            # Each error is one line that says which feed and where.
            line = errors(caplog, message)[0]
            assert line.startswith("coinbase: ") and "\n" not in line
            assert "127.0.0.1" in line
            routes.set(CB_TICKER_PATH, CB_TICKER)  # the source recovers
            await wait_until(lambda: feed.latest() is not None, "a quote after recovery")
            assert feed.state == "ok"
        finally:
            await feed.stop()

    caplog.set_level(logging.DEBUG, logger="autotrader.feeds")
    with http_server(routes) as url:
        asyncio.run(scenario(url))


def test_coinbase_ignores_an_older_ticker(caplog: pytest.LogCaptureFixture) -> None:
    routes = Routes()
    newer = ticker_at("2026-06-19T16:43:40.000000Z", "63300.00")
    routes.set(CB_TICKER_PATH, newer)
    clock = FakeClock(CB_TICKER_TS + 10)

    async def scenario(url: str) -> None:
        feed = coinbase(clock, url)
        await feed.start()
        try:
            await wait_until(lambda: feed.latest() is not None, "the newer quote")
            routes.set(CB_TICKER_PATH, CB_TICKER)  # a lagging replica answers with older data
            seen = routes.hits(CB_TICKER_PATH)
            await wait_until(lambda: routes.hits(CB_TICKER_PATH) >= seen + 3, "more polls")
            quote = feed.latest()
            assert quote is not None and quote.price == 63300.00
            assert any("out-of-order" in r.getMessage() for r in caplog.records)
        finally:
            await feed.stop()

    caplog.set_level(logging.DEBUG, logger="autotrader.feeds")
    with http_server(routes) as url:
        asyncio.run(scenario(url))


def test_coinbase_recent_candles_drop_the_open_minute() -> None:
    routes = Routes()
    routes.set("/products/BTC-USD/candles", CB_CANDLES)

    async def scenario(url: str) -> None:
        done = await coinbase(FakeClock(1_781_887_413.188), url).recent_candles(5)
        assert done == [Candle(1_781_887_080.0, 63244.77), Candle(1_781_887_140.0, 63239.75)]
        # 10 s into the 16:39 minute (open 1781887140) that bar is still forming.
        partial = await coinbase(FakeClock(1_781_887_150.0), url).recent_candles(5)
        assert partial == [Candle(1_781_887_080.0, 63244.77)]

    with http_server(routes) as url:
        asyncio.run(scenario(url))
    _, query, _ = routes.requests[0]
    assert query["granularity"] == ["60"]
    assert query["start"] == ["2026-06-19T16:38:00+00:00"]
    assert query["end"] == ["2026-06-19T16:43:00+00:00"]


def test_recent_candles_errors() -> None:
    routes = Routes()
    routes.set("/products/BTC-USD/candles", b"[[1781887140, 1, 2", 200)
    routes.set(
        "/api/v3/klines", b'{"code":-1003,"msg":"Too many requests"}', 429, {"Retry-After": "7"}
    )

    async def scenario(url: str) -> None:
        where = r"GET http://127\.0\.0\.1:\d+/products/BTC-USD/candles: "
        with pytest.raises(DataError, match=where + "response body: not valid JSON"):
            await coinbase(FakeClock(), url).recent_candles(5)
        routes.set("/products/BTC-USD/candles", b"[[1781887140, 1, 2, 3, -4, 5]]")
        with pytest.raises(DataError, match=where + r"coinbase candles\[0\] close"):
            await coinbase(FakeClock(), url).recent_candles(5)
        with pytest.raises(TemporaryError, match="HTTP 429") as info:
            await binance_rest(FakeClock(), url).recent_candles(5)
        assert info.value.retry_after_secs == 7.0  # the source's hint reaches the caller

    with http_server(routes) as url:
        asyncio.run(scenario(url))


def test_binance_rest_ticker_is_stamped_on_arrival() -> None:
    routes = Routes()
    routes.set(BN_TICKER_PATH, BN_TICKER)
    clock = FakeClock(1_781_887_413.0)

    async def scenario(url: str) -> None:
        feed = binance_rest(clock, url)
        await feed.start()
        try:
            await wait_until(lambda: feed.latest() is not None, "a binance quote")
            quote = feed.latest()
            assert quote is not None
            assert (quote.price, quote.ts, quote.source) == (60740.0, clock.time(), "binance")
            clock.advance(30)
            await wait_until(
                lambda: (q := feed.latest()) is not None and q.ts == clock.time(),
                "a quote stamped with the new time",
            )
        finally:
            await feed.stop()

    with http_server(routes) as url:
        asyncio.run(scenario(url))
    assert routes.requests[0][1]["symbol"] == ["BTCUSDT"]


def test_binance_recent_candles_from_klines() -> None:
    routes = Routes()
    routes.set("/api/v3/klines", BN_KLINES)

    async def scenario(url: str) -> None:
        # The last kline (open 1634944320) closes at 1634944379.999.
        done = await binance_rest(FakeClock(1_634_944_380.0), url).recent_candles(20)
        assert len(done) == 10
        assert done[0] == Candle(1_634_943_780.0, 60719.27)
        assert done[-1] == Candle(1_634_944_320.0, 60739.85)
        forming = await binance_rest(FakeClock(1_634_944_350.0), url).recent_candles(3)
        assert [c.open_time for c in forming] == [1_634_944_140.0, 1_634_944_200.0, 1_634_944_260.0]

    with http_server(routes) as url:
        asyncio.run(scenario(url))
    query = routes.requests[0][1]
    assert (query["symbol"], query["interval"], query["limit"]) == (["BTCUSDT"], ["1m"], ["21"])


def test_failover_to_the_next_source_and_back(caplog: pytest.LogCaptureFixture) -> None:
    routes = Routes()
    routes.set(CB_TICKER_PATH, CB_TICKER)
    routes.set(BN_TICKER_PATH, BN_TICKER)
    clock = FakeClock(CB_TICKER_TS + 1)

    def source() -> str | None:
        quote = chain.freshest()
        return None if quote is None else quote.source

    async def scenario(url: str) -> None:
        await chain.start()
        try:
            await wait_until(lambda: source() == "coinbase", "coinbase first")
            routes.set(CB_TICKER_PATH, b"oops", 503)  # coinbase goes down ...
            await wait_until(lambda: bool(errors(caplog, "HTTP 503")), "the 503 to be logged")
            assert source() == "coinbase"  # ... its last quote is still fresh ...
            clock.advance(20)  # ... until it is not
            await wait_until(lambda: source() == "binance", "failover to binance")
            status = dict((n, (age, state)) for n, age, state in chain.status())
            assert status["coinbase"][1].startswith("error:")
            assert status["coinbase"][0] is not None and status["coinbase"][0] > 15
            routes.set(CB_TICKER_PATH, ticker_at("2026-06-19T16:43:54.000000Z", "63250.00"))
            await wait_until(lambda: source() == "coinbase", "back to coinbase")
            quote = chain.freshest()
            assert quote is not None and quote.price == 63250.00
        finally:
            await chain.stop()
        assert [state for _, _, state in chain.status()] == ["stopped", "stopped"]

    with http_server(routes) as url:
        chain = FeedChain([coinbase(clock, url), binance_rest(clock, url)], clock, 15)
        asyncio.run(scenario(url))
