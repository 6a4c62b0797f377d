"""The ``StrategyContext`` the scheduler builds: wallet-free reads behind one shared cache.

Market data comes from ``PublicReads`` (Gamma and the public CLOB over httpx, no
py-clob-client-v2 and so no eth_account in the scheduler's memory) and trades from the Data
API; both go through one ``ReadCache`` so that many strategies asking the same question in the
same few seconds cost one request (``cached_reads``).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.config import AppConfig
from autotrader.nudge import nudge_path
from autotrader.store.repos_intents import IntentRepo
from autotrader.store.repos_runtime import EventRepo
from autotrader.strategies.base import StrategyContext
from autotrader.strategies.cached_reads import CachedMarketData, CachedTrades, ReadCache
from autotrader.venue.polymarket.data_api import DataApiClient
from autotrader.venue.polymarket.public_reads import PublicReads, public_http

HTTP_TIMEOUT_SECS = 10.0


@dataclass
class SharedReads:
    """The cached readers every run of one scheduler shares, and their connection pools."""

    market_data: CachedMarketData
    data_api: CachedTrades
    cache: ReadCache
    http: httpx.AsyncClient

    async def aclose(self) -> None:
        """Cancel the reads in flight and close the connection pool."""
        await self.market_data.aclose()
        await self.http.aclose()


def shared_reads(config: AppConfig, clock: Clock) -> SharedReads:
    """Readers on ``config.polymarket``'s URLs; cached answers expire on ``clock``'s time."""
    pm = config.polymarket
    cache = ReadCache(clock.time)
    # One pool for Gamma, the CLOB and the Data API (often the same host, always the same TLS).
    http = public_http(HTTP_TIMEOUT_SECS)
    reads = PublicReads(gamma_url=pm.gamma_url, clob_url=pm.clob_url, http=http)
    return SharedReads(
        market_data=CachedMarketData(reads, cache),
        data_api=CachedTrades(DataApiClient(pm.data_url, http), cache),
        cache=cache,
        http=http,
    )


def build_context(
    config: AppConfig, clock: Clock, engine: sa.Engine, reads: SharedReads
) -> StrategyContext:
    """The context every run of the scheduler gets (``run_id`` is set per run)."""
    return StrategyContext(
        config=config,
        clock=clock,
        engine=engine,
        market_data=reads.market_data,
        data_api=reads.data_api,
        intents=IntentRepo(engine, now=clock.now, nudge=nudge_path(config.state_dir)),
        events=EventRepo(engine, now=clock.now),
    )
