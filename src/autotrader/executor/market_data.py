"""Polymarket's public market data without a wallet: what the paper venue trades against.

``PolymarketVenue`` needs a wallet key even for reads (its CLOB client signs), so paper mode
reads the same endpoints through this adapter: Gamma through ``GammaClient`` and the CLOB
through an unsigned ``ClobClient`` on the venue layer's own transport (``ClobHttp``), with the
wire → domain translation of ``clob_reads`` / ``parsing``. No wire code is duplicated here.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from py_clob_client_v2.client import ClobClient  # type: ignore[import-untyped, unused-ignore]

from autotrader.venue.base import MarketData
from autotrader.venue.polymarket.clob_client import TokenCache
from autotrader.venue.polymarket.clob_http import ClobHttp
from autotrader.venue.polymarket.clob_market import PolymarketMarketReads
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


class PublicMarketData(PolymarketMarketReads):
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

    def _gamma_client(self) -> GammaClient:
        return self._gamma

    async def aclose(self) -> None:
        """Close both connection pools."""
        await asyncio.to_thread(self._clob_http.close)
        await self._gamma_http.aclose()

    async def tick_size(self, token_id: str) -> Decimal:
        """GET /tick-size (not cached: the book carries the current tick anyway)."""
        url = f"{self._client.host}/tick-size"
        params = {"token_id": token_id}
        raw = await self._call(
            "tick-size", lambda: self._clob_http.request("GET", url, params=params)
        )
        return parse_tick_size(raw)


def _conforms(md: PublicMarketData) -> MarketData:
    # Never called: makes mypy check PublicMarketData against the MarketData protocol.
    return md
