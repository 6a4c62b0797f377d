"""Binance aggTrade and Polymarket RTDS feeds against local WebSocket servers.

The servers play scripted sessions: the real recorded frames mixed with garbage, unknown
events and out-of-order prices, then a dropped connection; the feeds must log each bad frame,
publish only good, newer prices, reconnect and resume.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from autotrader.clock import FakeClock
from autotrader.feeds.binance import BinanceFeed
from autotrader.feeds.polymarket_rtds import PolymarketRtdsFeed
from harness.feeds import QuietHandler, debug_lines, errors, serve_http, wait_until

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
FRAMES = (FIXTURES / "binance_ws_btcusdt_captured_frames.jsonl").read_text().splitlines()
AGG_OLD, BOOK_TICKER, AGG_NEW, KLINE = FRAMES
RTDS_SNAPSHOT = (FIXTURES / "rtds_crypto_prices_subscribe_snapshot.json").read_text()
RTDS_UPDATE = (FIXTURES / "rtds_crypto_prices_update.json").read_text()
BN_TICKER = (FIXTURES / "binance_ticker_price_btcusdt.json").read_bytes()

pytestmark = pytest.mark.timeout(60)

Session = Callable[[ServerConnection], Awaitable[None]]


class Script:
    """The sessions a fake server plays (the last one repeats) and what it saw."""

    def __init__(self, *sessions: Session) -> None:
        self.sessions = sessions
        self.connections = 0
        self.closed = 0
        self.paths: list[str] = []
        self.received: list[str | bytes] = []


@asynccontextmanager
async def ws_server(script: Script) -> AsyncIterator[str]:
    """A WebSocket server on 127.0.0.1 playing ``script``; yields its ws:// URL."""

    async def handler(ws: ServerConnection) -> None:
        index = script.connections
        script.connections += 1
        assert ws.request is not None
        script.paths.append(ws.request.path)
        try:
            await script.sessions[min(index, len(script.sessions) - 1)](ws)
        except ConnectionClosed:
            pass
        finally:
            script.closed += 1

    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


async def collect_until_closed(ws: ServerConnection, script: Script) -> None:
    """Record what the client sends until it goes away."""
    async for message in ws:
        script.received.append(message)


def drop(ws: ServerConnection) -> None:
    """Cut the TCP connection without a closing handshake."""
    ws.transport.abort()


def price_of(feed: BinanceFeed | PolymarketRtdsFeed) -> float | None:
    quote = feed.latest()
    return None if quote is None else quote.price


def agg_trade(price: str, trade_ms: int) -> str:
    frame = json.loads(AGG_NEW)
    frame["data"].update(p=price, T=trade_ms, E=trade_ms + 1)
    return json.dumps(frame)


def binance_ws(clock: FakeClock, ws_url: str, rest_url: str = "http://127.0.0.1:9") -> BinanceFeed:
    return BinanceFeed(
        clock,
        url=rest_url,
        ws_url=ws_url,
        use_websocket=True,
        poll_interval_secs=0.02,
        request_timeout_secs=2,
        reconnect_max_backoff_secs=0.05,
        idle_timeout_secs=5,
    )


# -- Binance ----------------------------------------------------------------------------------


def test_binance_stream_bad_frames_out_of_order_and_reconnect(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="autotrader.feeds")
    release = asyncio.Event()
    negative = json.loads(AGG_NEW)
    negative["data"]["p"] = "-89879.79"

    async def first(ws: ServerConnection) -> None:
        await ws.send(AGG_OLD)
        await ws.send('{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","p":"8')  # truncated
        await ws.send("\x00garbage")
        await ws.send(json.dumps(negative))
        await ws.send('{"e":"depthUpdate","E":1769224658000,"s":"BTCUSDT"}')
        await ws.send(BOOK_TICKER)
        await ws.send(AGG_NEW)
        await ws.send(AGG_OLD)  # older than AGG_NEW: must be ignored
        await release.wait()
        drop(ws)

    async def second(ws: ServerConnection) -> None:
        await ws.send(agg_trade("90001.50", 1_769_224_700_000))
        await collect_until_closed(ws, script)

    script = Script(first, second)

    async def scenario() -> None:
        async with ws_server(script) as url:
            feed = binance_ws(FakeClock(), url)
            await feed.start()
            try:
                await wait_until(lambda: len(debug_lines(caplog, "out-of-order")) >= 1, "AGG_OLD")
                quote = feed.latest()
                assert quote is not None
                assert (quote.price, quote.ts) == (89879.79, 1_769_224_658.079)
                bad = errors(caplog, "dropped bad data")
                assert len(bad) == 4, bad
                assert all(url + "/ws/btcusdt@aggTrade" in line for line in bad)
                assert any("not valid JSON" in line for line in bad)
                assert any("must be > 0" in line for line in bad)
                assert any("unknown event type 'depthUpdate'" in line for line in bad)
                release.set()
                await wait_until(lambda: price_of(feed) == 90001.50, "the price after reconnect")
                assert script.connections == 2
                assert any("websocket" in line for line in errors(caplog))
                assert feed.state == "ok"
            finally:
                release.set()  # a failed assertion must not leave the server session waiting
                await asyncio.wait_for(feed.stop(), timeout=5)
            await wait_until(lambda: script.closed == 2, "the server to see the close")

    asyncio.run(scenario())
    assert script.paths == ["/ws/btcusdt@aggTrade", "/ws/btcusdt@aggTrade"]


def test_binance_silent_socket_is_dropped_and_retried(caplog: pytest.LogCaptureFixture) -> None:
    async def silent(ws: ServerConnection) -> None:
        await collect_until_closed(ws, script)

    script = Script(silent)

    async def scenario() -> None:
        async with ws_server(script) as url:
            feed = binance_ws(FakeClock(), url)
            feed.idle_timeout_secs = 0.1
            await feed.start()
            try:
                await wait_until(lambda: script.connections >= 3, "reconnects")
                assert errors(caplog, "no message within 0.1s")
                assert feed.latest() is None
            finally:
                await feed.stop()

    asyncio.run(scenario())


@contextmanager
def ticker_server() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server answering every GET with the Binance ticker; yields URL and hit log."""
    hits: list[str] = []

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.reply(200, BN_TICKER)

    with serve_http(Handler) as url:
        yield url, hits


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_binance_rest_fills_in_while_the_socket_is_down(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(rest_url: str) -> None:
        feed = binance_ws(FakeClock(), f"ws://127.0.0.1:{free_port()}", rest_url)
        await feed.start()
        try:
            await wait_until(lambda: price_of(feed) == 60740.0, "a REST quote")
            await wait_until(lambda: len(errors(caplog, "websocket")) >= 2, "ws retries")
        finally:
            await feed.stop()

    with ticker_server() as (rest_url, hits):
        asyncio.run(scenario(rest_url))
    assert hits and hits[0].startswith("/api/v3/ticker/price")


def test_binance_rest_stays_idle_while_the_socket_streams() -> None:
    sent = 0

    async def streaming(ws: ServerConnection) -> None:
        nonlocal sent
        while True:
            await ws.send(agg_trade("90000.00", 1_769_224_700_000 + sent))
            sent += 1
            await asyncio.sleep(0.005)

    async def scenario(rest_url: str) -> None:
        async with ws_server(Script(streaming)) as url:
            feed = binance_ws(FakeClock(), url, rest_url)
            await feed.start()
            try:
                await wait_until(lambda: price_of(feed) == 90000.0, "a streamed quote")
                before, start = len(hits), sent
                # Over 60+ streamed frames, REST (polling every 0.02 s when active) stays idle.
                await wait_until(lambda: sent >= start + 60, "more frames")
                assert len(hits) - before <= 1
            finally:
                await feed.stop()

    with ticker_server() as (rest_url, hits):
        asyncio.run(scenario(rest_url))


# -- Polymarket RTDS --------------------------------------------------------------------------


def rtds_feed(url: str, topic: str, symbol: str) -> PolymarketRtdsFeed:
    return PolymarketRtdsFeed(
        FakeClock(),
        url=url,
        topic=topic,
        symbol=symbol,
        ping_interval_secs=0.05,
        request_timeout_secs=2,
        reconnect_max_backoff_secs=0.05,
    )


def test_rtds_real_frames_subscribe_ping_and_reconnect(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="autotrader.feeds")
    step = asyncio.Event()
    release = asyncio.Event()
    other_symbol = json.loads(RTDS_UPDATE)
    other_symbol["payload"].update(symbol="ethusdt", value=3456.78)
    comments = {"topic": "comments", "type": "comment_created", "timestamp": 1, "payload": {}}

    async def first(ws: ServerConnection) -> None:
        script.received.append(await ws.recv())
        await ws.send(RTDS_SNAPSHOT)
        await step.wait()
        await ws.send("PONG")
        await ws.send(RTDS_UPDATE[:50])  # truncated
        await ws.send(json.dumps(comments))
        await ws.send(json.dumps(other_symbol))
        await ws.send(RTDS_UPDATE)
        async for message in ws:  # until the client has sent its keep-alive PING
            script.received.append(message)
            if message == "PING":
                break
        await release.wait()
        drop(ws)

    async def second(ws: ServerConnection) -> None:
        script.received.append(await ws.recv())
        newer = json.loads(RTDS_UPDATE)
        newer["payload"].update(timestamp=1_780_730_300_000, value=61100.5)
        await ws.send(json.dumps(newer))
        await collect_until_closed(ws, script)

    script = Script(first, second)
    expected_sub = {
        "action": "subscribe",
        "subscriptions": [
            {"topic": "crypto_prices", "type": "*", "filters": '{"symbol":"btcusdt"}'}
        ],
    }

    async def scenario() -> None:
        async with ws_server(script) as url:
            feed = rtds_feed(url, "crypto_prices", "btcusdt")
            await feed.start()
            try:
                await wait_until(lambda: feed.latest() is not None, "the snapshot")
                quote = feed.latest()
                assert quote is not None  # the newest point of the snapshot
                assert (quote.price, quote.ts) == (61150.89, 1_780_726_211.0)
                step.set()
                await wait_until(lambda: price_of(feed) == 61035.86, "the update")
                await wait_until(lambda: "PING" in script.received, "a keep-alive PING")
                bad = errors(caplog, "dropped bad data")
                assert len(bad) == 2, bad  # the truncated frame and the comments topic
                assert any("not valid JSON" in line for line in bad)
                assert any("unknown topic 'comments'" in line for line in bad)
                assert debug_lines(caplog, "ignored crypto_prices prices for ethusdt")
                release.set()
                await wait_until(lambda: price_of(feed) == 61100.5, "the price after reconnect")
                assert script.connections == 2
            finally:
                step.set()  # a failed assertion must not leave the server session waiting
                release.set()
                await asyncio.wait_for(feed.stop(), timeout=5)
            await wait_until(lambda: script.closed == 2, "the server to see the close")

    asyncio.run(scenario())
    subscribes = [json.loads(m) for m in script.received if m != "PING"]
    assert subscribes == [expected_sub, expected_sub]


def test_rtds_chainlink_topic_ignores_older_and_other_topics(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="autotrader.feeds")

    def chainlink(ts_ms: int, value: float, topic: str = "crypto_prices_chainlink") -> str:
        doc = json.loads(RTDS_UPDATE)
        doc["topic"] = topic
        doc["payload"] = {"symbol": "btc/usd", "timestamp": ts_ms, "value": value}
        return json.dumps(doc)

    async def session(ws: ServerConnection) -> None:
        script.received.append(await ws.recv())
        await ws.send(chainlink(1_780_730_270_000, 61040.0))
        await ws.send(chainlink(1_780_730_260_000, 61000.0))  # older: ignored
        await ws.send(chainlink(1_780_730_280_000, 65000.0, "crypto_prices_twap_sixty"))
        await ws.send(chainlink(1_780_730_275_000, 61045.5))
        await collect_until_closed(ws, script)

    script = Script(session)

    async def scenario() -> None:
        async with ws_server(script) as url:
            feed = rtds_feed(url, "crypto_prices_chainlink", "btc/usd")
            await feed.start()
            try:
                await wait_until(lambda: price_of(feed) == 61045.5, "the newest chainlink price")
                quote = feed.latest()
                assert quote is not None and quote.ts == 1_780_730_275.0
                assert quote.source == "polymarket_rtds"
                assert debug_lines(caplog, "out-of-order")
                assert debug_lines(caplog, "ignored crypto_prices_twap_sixty")
                assert not errors(caplog)
            finally:
                await asyncio.wait_for(feed.stop(), timeout=5)

    asyncio.run(scenario())
    sub = json.loads(script.received[0])
    assert sub["subscriptions"] == [
        {"topic": "crypto_prices_chainlink", "type": "*", "filters": '{"symbol":"btc/usd"}'}
    ]
