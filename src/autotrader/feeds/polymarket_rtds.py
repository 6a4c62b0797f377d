"""Polymarket RTDS feed: ``crypto_prices_chainlink``, the price the BTC markets resolve on.

Protocol (docs.polymarket.com, "Real-Time Data Socket"; the official real-time-data-client):
connect to ``wss://ws-live-data.polymarket.com``, send

    {"action": "subscribe", "subscriptions": [{"topic": "crypto_prices_chainlink",
     "type": "*", "filters": "{\\"symbol\\":\\"btc/usd\\"}"}]}

and a text ``PING`` every 5 seconds to keep the connection. Messages are
``{"topic", "type", "timestamp", "payload"}``; a ``subscribe`` message carries a snapshot
(``payload.data`` = ``[{timestamp, value}, …]``), an ``update`` one point
(``payload.timestamp``, ``payload.value``). The timestamps are the oracle's, in milliseconds.
The shapes were checked against the recorded frames of the Binance-sourced ``crypto_prices``
topic and the ``crypto_prices_twap_sixty`` test vector, which use the same envelope.
"""

from __future__ import annotations

import json
from collections.abc import Coroutine
from typing import Any, NamedTuple

from websockets.asyncio.client import ClientConnection

from autotrader.clock import Clock
from autotrader.errors import DataError
from autotrader.feeds.base import RemoteFeed, Tick, log
from autotrader.feeds.wire import (
    decode_json,
    epoch_ms,
    expect_list,
    expect_object,
    field,
    field_as,
    price,
    short,
    text_field,
)
from autotrader.feeds.wsloop import websocket_loop

CHAINLINK_TOPIC = "crypto_prices_chainlink"
#: The RTDS topics that carry crypto prices in the common envelope.
PRICE_TOPICS = frozenset({"crypto_prices", CHAINLINK_TOPIC, "crypto_prices_twap_sixty"})
# Keep-alive replies and the like: plain text, not JSON, and not an error.
_CONTROL_TEXT = frozenset({"", "PING", "PONG"})


class RtdsPrices(NamedTuple):
    """The prices in one RTDS message: its topic, symbol and points (oldest first)."""

    topic: str
    symbol: str
    ticks: tuple[Tick, ...]


def _point(obj: object, what: str) -> Tick:
    item = expect_object(obj, what)
    return Tick(field_as(item, "value", what, price), field_as(item, "timestamp", what, epoch_ms))


def parse_rtds_message(payload: object) -> RtdsPrices:
    """A decoded RTDS price message (snapshot or update) → its prices.

    Unknown topics and message types raise ``DataError``.
    """
    what = "rtds"
    obj = expect_object(payload, what)
    topic = text_field(obj, "topic", what)
    kind = text_field(obj, "type", what)
    if topic not in PRICE_TOPICS:
        raise DataError(f"{what}: unknown topic {short(topic)}")
    what = f"rtds {topic} {kind}"
    body = expect_object(field(obj, "payload", what), f"{what} 'payload'")
    symbol = text_field(body, "symbol", what)
    if kind == "update":
        ticks: tuple[Tick, ...] = (_point(body, f"{what} payload"),)
    elif kind == "subscribe":
        data = expect_list(field(body, "data", what), f"{what} 'data'")
        points = (_point(p, f"{what} data[{i}]") for i, p in enumerate(data))
        ticks = tuple(sorted(points, key=lambda t: t.ts))
    else:
        raise DataError(f"{what}: unknown message type {short(kind)}")
    return RtdsPrices(topic, symbol, ticks)


def subscribe_message(topic: str, symbol: str) -> str:
    """The JSON text that subscribes to ``topic`` for one ``symbol``."""
    filters = json.dumps({"symbol": symbol}, separators=(",", ":"))
    sub = {"topic": topic, "type": "*", "filters": filters}
    return json.dumps({"action": "subscribe", "subscriptions": [sub]})


class PolymarketRtdsFeed(RemoteFeed):
    """The Chainlink BTC/USD price from Polymarket's RTDS WebSocket."""

    def __init__(
        self,
        clock: Clock,
        *,
        url: str = "wss://ws-live-data.polymarket.com",
        symbol: str = "btc/usd",
        topic: str = CHAINLINK_TOPIC,
        ping_interval_secs: float = 5.0,
        request_timeout_secs: float = 5.0,
        reconnect_max_backoff_secs: float = 30.0,
        idle_timeout_secs: float = 15.0,
        name: str = "polymarket_rtds",
    ) -> None:
        super().__init__(
            name,
            clock,
            url=url,
            request_timeout_secs=request_timeout_secs,
            reconnect_max_backoff_secs=reconnect_max_backoff_secs,
        )
        if topic not in PRICE_TOPICS:
            raise ValueError(f"not an RTDS price topic: {topic!r}")
        self.symbol = symbol.lower()
        self.topic = topic
        self.ping_interval_secs = ping_interval_secs
        self.idle_timeout_secs = idle_timeout_secs

    def _runners(self) -> list[Coroutine[Any, Any, None]]:
        return [self._stream()]

    async def _subscribe(self, ws: ClientConnection) -> None:
        await ws.send(subscribe_message(self.topic, self.symbol))

    def _on_frame(self, frame: str | bytes) -> bool:
        if isinstance(frame, str) and frame.strip().upper() in _CONTROL_TEXT:
            return False
        # Bad data raises DataError: websocket_loop logs it and drops the frame.
        msg = parse_rtds_message(decode_json(frame, "rtds"))
        if msg.topic != self.topic or msg.symbol.lower() != self.symbol:
            log.debug("%s: ignored %s prices for %s", self.name, msg.topic, msg.symbol)
            return False
        if not msg.ticks:
            return False
        # A snapshot's newest point is the current price; older points only matter to
        # whoever keeps history, which a feed does not.
        self.publish(msg.ticks[-1])
        return True

    async def _stream(self) -> None:
        await websocket_loop(
            self,
            self.url,
            self._on_frame,
            idle_timeout_secs=self.idle_timeout_secs,
            on_open=self._subscribe,
            keepalive=("PING", self.ping_interval_secs),
        )
