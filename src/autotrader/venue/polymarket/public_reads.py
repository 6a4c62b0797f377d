"""Polymarket's public market data without a wallet and without py-clob-client-v2.

``PublicReads`` is a ``MarketData`` on the unauthenticated endpoints: Gamma (through
``GammaClient``) and the CLOB's ``/book``, ``/midpoint``, ``/prices-history``, ``/tick-size``,
``/markets-by-token`` and ``/clob-markets``, over one ``httpx.AsyncClient``.

Why not an unsigned py-clob-client-v2 ``ClobClient``: importing py-clob-client-v2 pulls in
eth_account, web3's codecs and py_ecc (~57 MB resident, most of a second of start-up) — the
scheduler, the paper executor and the CLI, which only read, must not pay that. The wire →
domain translation is the venue layer's own (``parsing``); errors map as Gamma's do
(``gamma.fetch_json``): transport trouble, 425, 429 and 5xx raise ``VenueUnavailable``, other
refusals ``VenueRefused``, a malformed body ``DataError``. Nothing here retries or caches reads
(``strategies.cached_reads`` does, for the scheduler); only fee schedules are remembered per
token, as the signing client does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from autotrader.domain.book import OrderBook
from autotrader.domain.fees import FeeSchedule
from autotrader.domain.markets import Event, Market, MarketQuery
from autotrader.domain.orders import ReasonCode
from autotrader.tls import shared_tls
from autotrader.venue.base import MarketData
from autotrader.venue.errors import VenueRefused
from autotrader.venue.polymarket.gamma import GammaClient, fetch_json
from autotrader.venue.polymarket.parsing import (
    parse_book,
    parse_clob_market_info,
    parse_market_by_token,
    parse_midpoint,
    parse_prices_history,
    parse_tick_size,
)

USER_AGENT = "autotrader (public reads)"


def public_http(timeout_secs: float = 10.0, max_connections: int = 32) -> httpx.AsyncClient:
    """A connection pool for public reads (one per process is enough: each costs an SSL
    context with the CA bundle, ~1 MB)."""
    return httpx.AsyncClient(
        verify=shared_tls(),
        timeout=httpx.Timeout(timeout_secs, connect=min(5.0, timeout_secs)),
        limits=httpx.Limits(max_connections=max_connections),
        headers={"User-Agent": USER_AGENT},
    )


class PublicReads:
    """A read-only ``MarketData`` on Polymarket's (or the simulator's) Gamma and CLOB URLs."""

    def __init__(
        self,
        *,
        gamma_url: str,
        clob_url: str,
        timeout_secs: float = 10.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        """``http``: a connection pool to share (its owner closes it); else one of our own."""
        self._clob = clob_url.rstrip("/")
        self._owns_http = http is None
        self._http = http if http is not None else public_http(timeout_secs)
        self._gamma = GammaClient(gamma_url, self._http)
        self._fees: dict[str, FeeSchedule] = {}

    async def aclose(self) -> None:
        """Close the connection pool (if it is ours)."""
        if self._owns_http:
            await self._http.aclose()

    async def _clob_get(self, what: str, path: str, params: Mapping[str, str | int]) -> Any:
        """GET a CLOB endpoint; a 404 is the venue not knowing the token (``INVALID_TOKEN``)."""
        payload = await fetch_json(self._http, f"{self._clob}{path}", params)
        if payload is None:
            raise VenueRefused(
                f"{what}: HTTP 404 (unknown to the CLOB)",
                reason=ReasonCode.INVALID_TOKEN,
                status=404,
            )
        return payload

    # -- Gamma -------------------------------------------------------------------------------
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

    async def resolution(self, market: Market) -> str | None:
        """The winning outcome once Gamma shows ``market`` resolved, else None."""
        current = await self.market_by_id(market.id)
        return current.winning_outcome if current is not None else None

    # -- CLOB --------------------------------------------------------------------------------
    async def book(self, token_id: str) -> OrderBook:
        """GET /book?token_id= → ``OrderBook`` (best level first)."""
        return parse_book(await self._clob_get("book", "/book", {"token_id": token_id}))

    async def midpoint(self, token_id: str) -> Decimal | None:
        """GET /midpoint?token_id= → the midpoint, None when a side is empty."""
        return parse_midpoint(await self._clob_get("midpoint", "/midpoint", {"token_id": token_id}))

    async def price_history(
        self, token_id: str, *, start: datetime, end: datetime, fidelity_mins: int = 1
    ) -> list[tuple[datetime, Decimal]]:
        """GET /prices-history?market=&startTs=&endTs=&fidelity= → [(time, price)]."""
        params: dict[str, str | int] = {
            "market": token_id,
            "startTs": int(start.timestamp()),
            "endTs": int(end.timestamp()),
            "fidelity": fidelity_mins,
        }
        return parse_prices_history(
            await self._clob_get("prices-history", "/prices-history", params)
        )

    async def tick_size(self, token_id: str) -> Decimal:
        """GET /tick-size?token_id= (not cached: the book carries the current tick anyway)."""
        return parse_tick_size(
            await self._clob_get("tick-size", "/tick-size", {"token_id": token_id})
        )

    async def fee_schedule(self, token_id: str) -> FeeSchedule:
        """The token's fee schedule: /markets-by-token/{token} → /clob-markets/{condition}.

        Remembered for every token of the market (fee rates are per market and change rarely;
        the signing client keeps them until an order is refused for them).
        """
        cached = self._fees.get(token_id)
        if cached is not None:
            return cached
        raw = await self._clob_get("markets-by-token", f"/markets-by-token/{token_id}", {})
        condition_id = parse_market_by_token(raw)
        raw = await self._clob_get("clob-markets", f"/clob-markets/{condition_id}", {})
        info = parse_clob_market_info(raw)
        for token in info.tokens:
            self._fees[token.token_id] = info.fees
        self._fees[token_id] = info.fees
        return info.fees


def _conforms(reads: PublicReads) -> MarketData:
    # Never called: makes mypy check PublicReads against the MarketData protocol.
    return reads
