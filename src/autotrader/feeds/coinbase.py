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
from autotrader.feeds.backoff import Backoff
from autotrader.feeds.base import BaseFeed, Candle, Tick
from autotrader.feeds.rest import fetch_parsed, get_json, new_client, poll_loop
from autotrader.feeds.wire import (
    epoch_secs,
    expect_list,
    expect_object,
    field,
    iso_time,
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
    return Tick(
        price(field(obj, "price", what), f"{what} 'price'"),
        iso_time(field(obj, "time", what), f"{what} 'time'"),
    )


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
    ticks = []
    for i, trade in enumerate(trades):
        item = expect_object(trade, f"{what} trades[{i}]")
        ticks.append(
            Tick(
                price(field(item, "price", what), f"{what} trades[{i}].price"),
                iso_time(field(item, "time", what), f"{what} trades[{i}].time"),
            )
        )
    return max(ticks, key=lambda t: t.ts)


def parse_coinbase_advanced_candles(payload: object) -> list[Candle]:
    """Advanced Trade ``/market/products/<id>/candles``: ``{"candles": [{start, close, …}]}``."""
    what = "coinbase advanced candles"
    rows = expect_list(field(expect_object(payload, what), "candles", what), f"{what} 'candles'")
    candles: list[Candle] = []
    for i, row in enumerate(rows):
        item = expect_object(row, f"{what}[{i}]")
        candles.append(
            Candle(
                epoch_secs(field(item, "start", what), f"{what}[{i}].start"),
                price(field(item, "close", what), f"{what}[{i}].close"),
            )
        )
    candles.sort()
    return candles


class CoinbaseFeed(BaseFeed):
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
        super().__init__(name, clock)
        self.url = url.rstrip("/")
        self.product = product
        self.poll_interval_secs = poll_interval_secs
        self.request_timeout_secs = request_timeout_secs
        self.max_backoff_secs = reconnect_max_backoff_secs

    def _runners(self) -> list[Coroutine[Any, Any, None]]:
        return [self._poll()]

    async def _poll(self) -> None:
        path = f"/products/{self.product}/ticker"
        async with new_client(self.url, self.request_timeout_secs) as client:

            async def fetch() -> Tick:
                return parse_coinbase_ticker(await get_json(client, path))

            await poll_loop(
                self,
                fetch,
                interval_secs=self.poll_interval_secs,
                backoff=Backoff(self.poll_interval_secs, self.max_backoff_secs),
                where=f"{self.url}{path}",
            )

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
