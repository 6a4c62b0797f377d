"""Coinbase Exchange REST feed: polls ``/products/<product>/ticker``; candles for backfill.

The ticker's ``time`` is the time of the last trade, so a quote's age is honest even when the
poll itself succeeds. Parsers for the Advanced Trade API shapes are here too (same data,
different envelope), for callers that use that API.
"""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from autotrader.clock import Clock
from autotrader.errors import DataError
from autotrader.feeds.base import Candle, RemoteFeed, Tick
from autotrader.feeds.rest import fetch_parsed, poll_json
from autotrader.feeds.wire import (
    epoch_secs,
    expect_list,
    expect_object,
    field,
    field_as,
    iso_time,
    object_rows,
    price,
    short,
)

#: Coinbase returns at most this many candles per request.
MAX_CANDLES = 300


def parse_coinbase_ticker(payload: object) -> Tick:
    """``GET /products/<id>/ticker`` → the last trade's price and time."""
    what = "coinbase ticker"
    obj = expect_object(payload, what)
    if "price" not in obj and "message" in obj:
        raise DataError(f"{what}: error response {short(obj['message'], 80)}")
    return Tick(field_as(obj, "price", what, price), field_as(obj, "time", what, iso_time))


def parse_coinbase_candles(payload: object) -> list[Candle]:
    """``GET /products/<id>/candles`` rows ``[time, low, high, open, close, volume]``.

    Coinbase lists the newest first; the result is sorted oldest first.
    """
    rows = expect_list(payload, "coinbase candles")
    candles: list[Candle] = []
    for i, row in enumerate(rows):
        what = f"coinbase candles[{i}]"
        if not isinstance(row, list) or len(row) < 6:
            raise DataError(f"{what}: expected [time, low, high, open, close, volume]")
        candles.append(Candle(epoch_secs(row[0], f"{what} time"), price(row[4], f"{what} close")))
    candles.sort()
    return candles


def parse_coinbase_advanced_ticker(payload: object) -> Tick:
    """Advanced Trade ``/market/products/<id>/ticker``: the newest of its ``trades``."""
    what = "coinbase advanced ticker"
    trades = expect_list(field(expect_object(payload, what), "trades", what), f"{what} 'trades'")
    if not trades:
        raise DataError(f"{what}: no trades")
    ticks = [
        Tick(
            price(field(item, "price", what), f"{label}.price"),
            iso_time(field(item, "time", what), f"{label}.time"),
        )
        for label, item in object_rows(trades, f"{what} trades")
    ]
    return max(ticks, key=lambda t: t.ts)


def parse_coinbase_advanced_candles(payload: object) -> list[Candle]:
    """Advanced Trade ``/market/products/<id>/candles``: ``{"candles": [{start, close, …}]}``."""
    what = "coinbase advanced candles"
    rows = expect_list(field(expect_object(payload, what), "candles", what), f"{what} 'candles'")
    candles = [
        Candle(
            epoch_secs(field(item, "start", what), f"{label}.start"),
            price(field(item, "close", what), f"{label}.close"),
        )
        for label, item in object_rows(rows, what)
    ]
    candles.sort()
    return candles


class CoinbaseFeed(RemoteFeed):
    """Polls the Coinbase Exchange ticker every ``poll_interval_secs``."""

    def __init__(
        self,
        clock: Clock,
        *,
        url: str = "https://api.exchange.coinbase.com",
        product: str = "BTC-USD",
        poll_interval_secs: float = 3.0,
        request_timeout_secs: float = 5.0,
        reconnect_max_backoff_secs: float = 30.0,
        name: str = "coinbase",
    ) -> None:
        super().__init__(
            name,
            clock,
            url=url.rstrip("/"),
            request_timeout_secs=request_timeout_secs,
            reconnect_max_backoff_secs=reconnect_max_backoff_secs,
        )
        self.product = product
        self.poll_interval_secs = poll_interval_secs

    def _runners(self) -> list[Coroutine[Any, Any, None]]:
        path = f"/products/{self.product}/ticker"
        return [poll_json(self, path, parse_coinbase_ticker, interval_secs=self.poll_interval_secs)]

    async def recent_candles(self, minutes: int) -> list[Candle]:
        """The finished 1-minute bars of the last ``minutes`` (at most 300), oldest first.

        Raises ``TemporaryError`` when the request fails and ``DataError`` on a bad body.
        """
        minutes = max(1, min(int(minutes), MAX_CANDLES))
        now = self.clock.time()
        end = int(now // 60 * 60)
        params: dict[str, str | int] = {
            "granularity": 60,
            "start": datetime.fromtimestamp(end - minutes * 60, UTC).isoformat(),
            "end": datetime.fromtimestamp(end, UTC).isoformat(),
        }
        path = f"/products/{self.product}/candles"
        candles = await fetch_parsed(
            self.url, self.request_timeout_secs, path, params, parse_coinbase_candles
        )
        # The bar still forming is not a finished minute; a backfill must not include it.
        return [c for c in candles if c.open_time + 60 <= now][-minutes:]
