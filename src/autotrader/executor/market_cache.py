"""The markets the order path just read, kept for ``MARKET_TTL_SECS`` of clock time.

Every intent needs its market (tradable? which tokens? neg-risk?) and reading it from Gamma is
an HTTP round trip — most of an intent's latency when a strategy sends several orders into the
same market. A market is reused for a couple of clock seconds, never past its end date; a
market that closed early meanwhile is refused by the venue itself, with its own reason.
"""

from __future__ import annotations

from autotrader.clock import Clock
from autotrader.domain.markets import Market

MARKET_TTL_SECS = 2.0


class MarketCache:
    """Markets by slug for a short while (see the module docstring)."""

    def __init__(self, clock: Clock, ttl_secs: float = MARKET_TTL_SECS) -> None:
        self._clock = clock
        self._ttl = ttl_secs
        self._markets: dict[str, tuple[float, Market]] = {}

    def get(self, slug: str) -> Market | None:
        """The market read for ``slug`` in the last ``ttl_secs``, if it has not ended."""
        hit = self._markets.get(slug)
        if hit is None:
            return None
        until, market = hit
        now = self._clock.now()
        ended = market.end_date is not None and market.end_date <= now
        if now.timestamp() >= until or ended:
            del self._markets[slug]
            return None
        return market

    def put(self, market: Market) -> None:
        """Remember ``market`` (only tradable ones: a closed market is read again)."""
        if market.tradable:
            if len(self._markets) > 1000:  # old windows' markets: drop them all
                self._markets.clear()
            self._markets[market.slug] = (self._clock.now().timestamp() + self._ttl, market)
