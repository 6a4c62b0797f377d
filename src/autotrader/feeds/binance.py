"""Binance feed: the aggTrade WebSocket, with REST polling as fallback (or alone).

REST uses ``/api/v3/ticker/price``, stamped with the time the response arrived. That ticker
has no timestamp, but it is the current last price at the moment Binance answers, so the
arrival time is honest to within one request's latency. The other candidate, the newest 1m
kline, is worse: its close *time* is the end of the still-open minute, up to 60 s in the
future, which would let a frozen price look fresh for up to a minute. Klines serve only the
``recent_candles`` backfill, where finished bars are what is wanted.

The WebSocket stream (``<ws_url>/ws/<symbol>@aggTrade``) carries each trade's own time ``T``.
Raw frames and the combined-stream envelope ``{"stream": …, "data": …}`` are both accepted.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, NamedTuple

from autotrader.clock import Clock
from autotrader.errors import DataError
from autotrader.feeds.base import Candle, RemoteFeed, Tick, log
from autotrader.feeds.rest import fetch_parsed, poll_json
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

#: Binance returns at most this many klines per request.
MAX_KLINES = 1000


class Kline(NamedTuple):
    """One kline: open time and close time (epoch seconds) and its close price."""

    open_time: float
    close: float
    close_time: float


def _check_symbol(obj: dict[str, Any], symbol: str | None, what: str) -> None:
    if symbol is None:
        return
    got = text_field(obj, "s" if "s" in obj else "symbol", what)
    if got.upper() != symbol.upper():
        raise DataError(f"{what}: symbol {got!r}, expected {symbol!r}")


def parse_binance_ticker_price(
    payload: object, received_at: float, symbol: str | None = None
) -> Tick:
    """``GET /api/v3/ticker/price`` → the price, stamped ``received_at`` (it has no time)."""
    what = "binance ticker"
    obj = expect_object(payload, what)
    if "price" not in obj and "msg" in obj:
        raise DataError(f"{what}: error response {short(obj['msg'], 80)}")
    _check_symbol(obj, symbol, what)
    return Tick(field_as(obj, "price", what, price), received_at)


def parse_binance_klines(payload: object) -> list[Kline]:
    """``GET /api/v3/klines`` rows ``[open_ms, o, h, l, c, v, close_ms, …]``, oldest first."""
    rows = expect_list(payload, "binance klines")
    klines: list[Kline] = []
    for i, row in enumerate(rows):
        what = f"binance klines[{i}]"
        if not isinstance(row, list) or len(row) < 7:
            raise DataError(f"{what}: expected [open_time, open, high, low, close, volume, …]")
        open_time = epoch_ms(row[0], f"{what} open time")
        close_time = epoch_ms(row[6], f"{what} close time")
        if close_time <= open_time:
            raise DataError(f"{what}: close time before open time")
        klines.append(Kline(open_time, price(row[4], f"{what} close"), close_time))
    klines.sort()
    return klines


def parse_binance_ws_frame(payload: object, symbol: str | None = None) -> Tick | None:
    """One market-stream frame → a Tick, or None for a frame that carries no trade price.

    aggTrade/trade: price ``p`` at trade time ``T``. kline: the bar's latest close ``c`` at the
    event time ``E``. bookTicker and replies to SUBSCRIBE requests: None. Anything else is a
    ``DataError``.
    """
    what = "binance ws"
    obj = expect_object(payload, what)
    if "stream" in obj or "data" in obj:  # the combined-stream envelope
        text_field(obj, "stream", what)
        obj = expect_object(field(obj, "data", what), f"{what} 'data'")
    if "result" in obj and "id" in obj:
        return None
    event = obj.get("e")
    if event is None and {"u", "b", "a"} <= obj.keys():
        return None  # bookTicker: best quotes without a time, not a trade
    if event in ("aggTrade", "trade"):
        what = f"binance {event}"
        _check_symbol(obj, symbol, what)
        return Tick(field_as(obj, "p", what, price), field_as(obj, "T", what, epoch_ms))
    if event == "kline":
        what = "binance kline"
        _check_symbol(obj, symbol, what)
        bar = expect_object(field(obj, "k", what), f"{what} 'k'")
        return Tick(field_as(bar, "c", what, price), field_as(obj, "E", what, epoch_ms))
    raise DataError(f"{what}: unknown event type {short(event)}")


class BinanceFeed(RemoteFeed):
    """BTCUSDT from Binance: WebSocket with REST fallback, or REST polling only."""

    def __init__(
        self,
        clock: Clock,
        *,
        url: str = "https://api.binance.com",
        ws_url: str = "wss://stream.binance.com:9443",
        symbol: str = "BTCUSDT",
        use_websocket: bool = True,
        poll_interval_secs: float = 3.0,
        request_timeout_secs: float = 5.0,
        reconnect_max_backoff_secs: float = 30.0,
        idle_timeout_secs: float = 15.0,
        name: str = "binance",
    ) -> None:
        super().__init__(
            name,
            clock,
            url=url.rstrip("/"),
            request_timeout_secs=request_timeout_secs,
            reconnect_max_backoff_secs=reconnect_max_backoff_secs,
        )
        self.ws_url = ws_url.rstrip("/")
        self.symbol = symbol.upper()
        self.use_websocket = use_websocket
        self.poll_interval_secs = poll_interval_secs
        self.idle_timeout_secs = idle_timeout_secs
        self._ws_live = False

    @property
    def stream_url(self) -> str:
        """The raw aggTrade stream of the symbol."""
        return f"{self.ws_url}/ws/{self.symbol.lower()}@aggTrade"

    def _runners(self) -> list[Coroutine[Any, Any, None]]:
        if not self.use_websocket:
            return [self._poll(lambda: True)]
        # REST only fills in while the socket delivers nothing.
        return [self._stream(), self._poll(lambda: not self._ws_live)]

    async def _poll(self, active: Callable[[], bool]) -> None:
        def parse(payload: object) -> Tick:
            # The ticker has no time of its own: it is stamped when the answer arrives.
            return parse_binance_ticker_price(payload, self.clock.time(), self.symbol)

        await poll_json(
            self,
            "/api/v3/ticker/price",
            parse,
            interval_secs=self.poll_interval_secs,
            params={"symbol": self.symbol},
            active=active,
        )

    def _on_frame(self, frame: str | bytes) -> bool:
        # Bad data raises DataError: websocket_loop logs it and drops the frame.
        tick = parse_binance_ws_frame(decode_json(frame, "binance ws"), self.symbol)
        if tick is None:
            log.debug("%s: ignored a frame without a trade price", self.name)
            return False
        self._ws_live = True
        self.publish(tick)
        return True

    def _on_down(self) -> None:
        self._ws_live = False

    async def _stream(self) -> None:
        await websocket_loop(
            self,
            self.stream_url,
            self._on_frame,
            idle_timeout_secs=self.idle_timeout_secs,
            on_down=self._on_down,
        )

    async def recent_candles(self, minutes: int) -> list[Candle]:
        """The finished 1-minute bars of the last ``minutes`` (at most 1000), oldest first.

        Raises ``TemporaryError`` when the request fails and ``DataError`` on a bad body.
        """
        minutes = max(1, min(int(minutes), MAX_KLINES))
        # One more than asked: the newest kline is usually the minute still forming.
        params: dict[str, str | int] = {
            "symbol": self.symbol,
            "interval": "1m",
            "limit": min(minutes + 1, MAX_KLINES),
        }
        klines = await fetch_parsed(
            self.url, self.request_timeout_secs, "/api/v3/klines", params, parse_binance_klines
        )
        now = self.clock.time()
        # close_time is the bar's last millisecond (open + 59.999 s).
        done = [Candle(k.open_time, k.close) for k in klines if k.close_time < now]
        return done[-minutes:]
