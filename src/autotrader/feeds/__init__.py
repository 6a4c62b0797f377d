"""BTC price feeds behind one PriceFeed protocol: coinbase, binance, polymarket_rtds, replay.

``build_feed_chain(cfg, clock)`` turns the ``feeds.btc`` config section into a ``FeedChain``
whose sources are tried in the configured order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from autotrader.clock import Clock
from autotrader.errors import ConfigError
from autotrader.feeds.base import BaseFeed, FeedChain, PriceFeed, PriceQuote
from autotrader.feeds.binance import BinanceFeed
from autotrader.feeds.coinbase import CoinbaseFeed
from autotrader.feeds.polymarket_rtds import PolymarketRtdsFeed
from autotrader.feeds.replay import ReplayFeed

if TYPE_CHECKING:
    from autotrader.config import BtcFeedConfig

__all__ = [
    "BaseFeed",
    "BinanceFeed",
    "CoinbaseFeed",
    "FeedChain",
    "PolymarketRtdsFeed",
    "PriceFeed",
    "PriceQuote",
    "ReplayFeed",
    "build_feed",
    "build_feed_chain",
]


class _Transport(TypedDict):
    """The network settings every remote feed takes from the ``feeds.btc`` section."""

    request_timeout_secs: float
    reconnect_max_backoff_secs: float


def build_feed(source: str, cfg: BtcFeedConfig, clock: Clock) -> BaseFeed:
    """One feed of the ``feeds.btc`` section, by source name."""
    net: _Transport = {
        "request_timeout_secs": cfg.request_timeout_secs,
        "reconnect_max_backoff_secs": cfg.reconnect_max_backoff_secs,
    }
    # A socket silent for as long as a quote stays fresh is treated as dead.
    idle = cfg.stale_after_secs
    if source == "coinbase":
        return CoinbaseFeed(
            clock,
            url=cfg.coinbase.url,
            product=cfg.coinbase.product,
            poll_interval_secs=cfg.poll_interval_secs,
            **net,
        )
    if source == "binance":
        return BinanceFeed(
            clock,
            url=cfg.binance.url,
            ws_url=cfg.binance.ws_url,
            symbol=cfg.binance.symbol,
            use_websocket=cfg.binance.use_websocket,
            poll_interval_secs=cfg.poll_interval_secs,
            idle_timeout_secs=idle,
            **net,
        )
    if source == "polymarket_rtds":
        return PolymarketRtdsFeed(
            clock,
            url=cfg.polymarket_rtds.url,
            symbol=cfg.polymarket_rtds.symbol,
            idle_timeout_secs=idle,
            **net,
        )
    if source == "replay":
        if cfg.replay.path is None:
            raise ConfigError("feeds.btc.replay.path: required when sources include replay")
        return ReplayFeed(clock, cfg.replay.path, loop=cfg.replay.loop)
    raise ConfigError(f"feeds.btc.sources: unknown source {source!r}")


def build_feed_chain(cfg: BtcFeedConfig, clock: Clock) -> FeedChain:
    """The configured sources as a FeedChain, in order; nothing is started yet."""
    feeds = [build_feed(source, cfg, clock) for source in cfg.sources]
    return FeedChain(feeds, clock, cfg.stale_after_secs)
