"""Polymarket market data (Gamma + public CLOB reads), shared by the live venue and the
wallet-less reader that paper mode trades against.

A subclass provides ``_client`` (a ``ClobClient`` whose HTTP goes through ``ClobHttp``),
``tokens`` (the per-token cache) and ``_gamma_client()``; tick size and neg-risk stay with the
subclass, since only the signing client caches them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from autotrader.domain.book import OrderBook
from autotrader.domain.fees import FeeSchedule
from autotrader.domain.markets import Event, Market, MarketQuery
from autotrader.venue.polymarket import clob_reads as reads
from autotrader.venue.polymarket.clob_client import TokenCache, unavailable
from autotrader.venue.polymarket.clob_http import ClobHttpError, ClobTransportError
from autotrader.venue.polymarket.gamma import GammaClient

log = logging.getLogger("autotrader.venue.polymarket")

T = TypeVar("T")


class PolymarketMarketReads:
    """The ``MarketData`` methods every Polymarket reader has (see module doc)."""

    _client: Any
    tokens: TokenCache

    def _gamma_client(self) -> GammaClient:
        raise NotImplementedError

    async def _call(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.to_thread(fn, *args)
        except (ClobHttpError, ClobTransportError) as exc:
            raise unavailable(exc, what) from None

    async def market_by_slug(self, slug: str) -> Market | None:
        """The Gamma market with ``slug``, or None."""
        return await self._gamma_client().market_by_slug(slug)

    async def market_by_id(self, market_id: str) -> Market | None:
        """The Gamma market with id ``market_id``, or None."""
        return await self._gamma_client().market_by_id(market_id)

    async def markets(self, q: MarketQuery) -> list[Market]:
        """One page of Gamma markets matching ``q``."""
        return await self._gamma_client().markets(q)

    async def event_by_slug(self, slug: str) -> Event | None:
        """The Gamma event with ``slug``, or None."""
        return await self._gamma_client().event_by_slug(slug)

    async def resolution(self, market: Market) -> str | None:
        """The winning outcome once Gamma shows ``market`` resolved, else None."""
        current = await self.market_by_id(market.id)
        return current.winning_outcome if current is not None else None

    async def book(self, token_id: str) -> OrderBook:
        """GET /book for ``token_id``; a tick size that moved since it was cached replaces it.

        The book carries the market's current tick (0.01 becomes 0.001 beyond 0.04/0.96), so
        every book read also catches a ``tick_size_change`` before an order is signed with a
        stale tick.
        """
        book = await self._call("book", reads.book, self._client, token_id)
        cached = self.tokens.tick(token_id)
        if cached is not None and cached != book.tick_size:
            log.info("tick size of %s changed %s -> %s", token_id[:16], cached, book.tick_size)
            self.tokens.set_tick(token_id, book.tick_size)
        return book

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

    async def fee_schedule(self, token_id: str) -> FeeSchedule:
        """The token's fee schedule from /clob-markets (cached per token until invalidated)."""
        cached = self.tokens.fees(token_id)
        if cached is not None:
            return cached
        return await self._call(
            "clob-markets", reads.fee_schedule, self._client, self.tokens, token_id
        )
