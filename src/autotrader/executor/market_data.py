"""Polymarket's public market data without a wallet: what the paper venue trades against.

``PolymarketVenue`` needs a wallet key even for reads (its CLOB client signs), so paper mode
reads the same endpoints through this adapter: Gamma through ``GammaClient`` and the CLOB
through an unsigned ``ClobClient`` on the venue layer's own transport (``ClobHttp``), with the
wire → domain translation of ``clob_reads`` / ``parsing``. No wire code is duplicated here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from py_clob_client_v2.client import ClobClient  # type: ignore[import-untyped, unused-ignore]

from autotrader.domain.book import OrderBook
from autotrader.domain.fees import FeeSchedule
from autotrader.domain.markets import Event, Market, MarketQuery
from autotrader.venue.base import MarketData
from autotrader.venue.polymarket import clob_reads as reads
from autotrader.venue.polymarket.clob_client import TokenCache, unavailable
from autotrader.venue.polymarket.clob_http import ClobHttp, ClobHttpError, ClobTransportError
from autotrader.venue.polymarket.gamma import GammaClient
from autotrader.venue.polymarket.parsing import parse_tick_size

T = TypeVar("T")


class _PublicClob(ClobClient):  # type: ignore[misc]
    """An unsigned ``ClobClient`` (public endpoints only) whose requests go through ClobHttp."""

    def __init__(self, host: str, *, chain_id: int, http: ClobHttp) -> None:
        super().__init__(host, chain_id=chain_id, use_server_time=False, retry_on_error=False)
        self._http = http

    def _get(self, endpoint: str, headers: Any = None, params: Any = None) -> Any:
        return self._http.request("GET", endpoint, headers=headers, params=params)


class PublicMarketData:
    """A read-only ``MarketData`` on Polymarket's (or the simulator's) Gamma and CLOB URLs."""

    def __init__(
        self,
        *,
        gamma_url: str,
        clob_url: str,
        chain_id: int = 137,
        timeout_secs: float = 10.0,
    ) -> None:
        self._clob_http = ClobHttp(timeout_secs=timeout_secs)
        self._client = _PublicClob(clob_url, chain_id=chain_id, http=self._clob_http)
        self._gamma_http = httpx.AsyncClient(timeout=timeout_secs)
        self._gamma = GammaClient(gamma_url, self._gamma_http)
        self.tokens = TokenCache()

    async def aclose(self) -> None:
        """Close both connection pools."""
        await asyncio.to_thread(self._clob_http.close)
        await self._gamma_http.aclose()

    async def _call(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.to_thread(fn, *args)
        except (ClobHttpError, ClobTransportError) as exc:
            raise unavailable(exc, what) from None

    async def market_by_slug(self, slug: str) -> Market | None:
        """The Gamma market with ``slug``, or None."""
        return await self._gamma.market_by_slug(slug)

    async def market_by_id(self, market_id: str) -> Market | None:
        """The Gamma market with id ``market_id``, or None."""
        return await self._gamma.market_by_id(market_id)

    async def markets(self, q: MarketQuery) -> list[Market]:
        """One page of Gamma markets matching ``q``."""
        return await self._gamma.markets(q)

    async def event_by_slug(self, slug: str) -> Event | None:
        """The Gamma event with ``slug``, or None."""
        return await self._gamma.event_by_slug(slug)

    async def book(self, token_id: str) -> OrderBook:
        """GET /book for ``token_id``."""
        return await self._call("book", reads.book, self._client, token_id)

    async def midpoint(self, token_id: str) -> Decimal | None:
        """GET /midpoint for ``token_id``."""
        return await self._call("midpoint", reads.midpoint, self._client, token_id)

    async def price_history(
        self, token_id: str, *, start: datetime, end: datetime, fidelity_mins: int = 1
    ) -> list[tuple[datetime, Decimal]]:
        """GET /prices-history between ``start`` and ``end``."""
        return await self._call(
            "prices-history", reads.price_history, self._client, token_id, start, end, fidelity_mins
        )

    async def tick_size(self, token_id: str) -> Decimal:
        """GET /tick-size (not cached: the book carries the current tick anyway)."""
        url = f"{self._client.host}/tick-size"
        params = {"token_id": token_id}
        raw = await self._call(
            "tick-size", lambda: self._clob_http.request("GET", url, params=params)
        )
        return parse_tick_size(raw)

    async def fee_schedule(self, token_id: str) -> FeeSchedule:
        """The token's fee schedule from /clob-markets (cached per token)."""
        cached = self.tokens.fees(token_id)
        if cached is not None:
            return cached
        return await self._call(
            "clob-markets", reads.fee_schedule, self._client, self.tokens, token_id
        )

    async def resolution(self, market: Market) -> str | None:
        """The winning outcome once Gamma shows ``market`` resolved, else None."""
        current = await self.market_by_id(market.id)
        return current.winning_outcome if current is not None else None


def _conforms(md: PublicMarketData) -> MarketData:
    # Never called: makes mypy check PublicMarketData against the MarketData protocol.
    return md
