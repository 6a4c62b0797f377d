"""Which venue the executor trades on: chosen once, here, from ``mode`` (no ``if paper`` elsewhere).

* ``paper``: ``PaperVenue`` against Polymarket's public market data at ``polymarket.gamma_url`` /
  ``clob_url`` (the real venue, or the simulator in tests and the demo), read by the
  wallet-free ``PublicReads``: a paper executor never imports py-clob-client-v2 or eth_account
  (tens of MB resident). No key needed. Given the database, its orders, trades and payouts
  persist there (``paper_*`` tables).
* ``live``: ``PolymarketVenue`` with the wallet key from ``$CREDENTIALS_DIRECTORY`` or
  ``polymarket.key_file``; without one the executor refuses to start (``ConfigError`` naming the
  files it looked for). Its module (and the eth stack under it) is imported only then.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.config import AppConfig
from autotrader.venue.base import Venue


@dataclass(frozen=True)
class OpenVenue:
    """A venue and how to release its connections."""

    venue: Venue
    aclose: Callable[[], Awaitable[None]]

    @property
    def name(self) -> str:
        """The venue's name (``paper``, ``polymarket``)."""
        return self.venue.name


def _paper(config: AppConfig, clock: Clock, engine: sa.Engine | None) -> OpenVenue:
    # Here, not at the top: a live executor has no use for the paper venue's modules.
    from autotrader.store.repos_paper import PaperStateRepo
    from autotrader.venue.paper import PaperVenue
    from autotrader.venue.polymarket.public_reads import PublicReads

    pm = config.polymarket
    md = PublicReads(gamma_url=pm.gamma_url, clob_url=pm.clob_url)
    store = PaperStateRepo(engine) if engine is not None else None
    return OpenVenue(PaperVenue(md, clock, store=store), md.aclose)


def _live(config: AppConfig, clock: Clock, engine: sa.Engine | None) -> OpenVenue:
    # Here, not at the top: it pulls in py-clob-client-v2 and eth_account (paper needs neither).
    from autotrader.venue.polymarket.clob import PolymarketVenue

    venue = PolymarketVenue.from_config(config)  # ConfigError without the wallet key
    return OpenVenue(venue, venue.aclose)


VENUE_FACTORIES: dict[str, Callable[[AppConfig, Clock, sa.Engine | None], OpenVenue]] = {
    "paper": _paper,
    "live": _live,
}


def build_venue(config: AppConfig, clock: Clock, engine: sa.Engine | None = None) -> OpenVenue:
    """The venue for ``config.mode`` (ConfigError when live trading lacks its key); with
    ``engine``, a paper venue keeps its state in that database."""
    return VENUE_FACTORIES[config.mode](config, clock, engine)
