"""The items a pipeline passes from node to node: markets with their metrics.

``price`` is the price of the market's first outcome (Yes on a binary market) in 0..1: the
book's midpoint once the book has been read (``monitor_watchlist``, or a formula that needs
``spread``), else the price Gamma lists. ``volume`` and ``liquidity`` are Gamma's figures in
USD. ``momentum`` / ``whale_net_flow`` hold the last ``check_momentum`` / ``whale_activity``
result; the per-timeframe values stay under their own names. A metric no node has computed is
None, and a formula that needs it drops the item with a clear reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from autotrader.domain.book import OrderBook
from autotrader.domain.markets import Market

# Metrics computed by nodes, kept as floats (scores and flows, not money that moves).
COMPUTED = (
    "momentum_1h",
    "momentum_4h",
    "momentum_24h",
    "momentum",
    "whale_net_flow_1h",
    "whale_net_flow",
)


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@dataclass
class MarketItem:
    """One market flowing through a pipeline run."""

    market: Market
    price: Decimal | None = None
    volume: Decimal | None = None
    liquidity: Decimal | None = None
    spread: Decimal | None = None
    book_read: bool = False
    watch_added_at: datetime | None = None
    computed: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, market: Market) -> MarketItem:
        """An item with the metrics Gamma lists for ``market``."""
        item = cls(market)
        item.refresh(market)
        return item

    @property
    def slug(self) -> str:
        """The market's slug (what watchlists, intents and entry keys name)."""
        return self.market.slug

    def refresh(self, market: Market) -> None:
        """Take ``market`` (a fresh read) and its listed price, volume and liquidity."""
        self.market = market
        first = market.tokens[0].price if market.tokens else None
        if not self.book_read:
            self.price = first
        self.volume = market.volume_usd
        self.liquidity = market.liquidity_usd

    def apply_book(self, book: OrderBook) -> None:
        """Price and spread from the first outcome's order book."""
        self.book_read = True
        self.spread = book.spread
        mid = book.midpoint
        if mid is not None:
            self.price = mid

    def values(self, now: datetime) -> dict[str, float | None]:
        """The fields a formula may name (``autotrader.strategies.expr.FIELDS``)."""
        end = self.market.end_date
        added = self.watch_added_at
        out: dict[str, float | None] = {
            "price": _float(self.price),
            "volume": _float(self.volume),
            "liquidity": _float(self.liquidity),
            "spread": _float(self.spread),
            "hours_to_close": None if end is None else (end - now).total_seconds() / 3600,
            "minutes_on_watchlist": None if added is None else (now - added).total_seconds() / 60,
        }
        for name in COMPUTED:
            out[name] = self.computed.get(name)
        return out

    def to_json(self) -> dict[str, Any]:
        """What a deferral stores: the market by slug, and the metrics computed so far."""
        return {
            "slug": self.slug,
            "market_id": self.market.id,
            "question": self.market.question,
            "watch_added_at": None
            if self.watch_added_at is None
            else self.watch_added_at.isoformat(),
            "computed": dict(self.computed),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], market: Market) -> MarketItem:
        """The item stored by ``to_json``, on ``market`` as Gamma lists it now."""
        item = cls.of(market)
        added = data.get("watch_added_at")
        item.watch_added_at = datetime.fromisoformat(added) if isinstance(added, str) else None
        computed = data.get("computed")
        if isinstance(computed, dict):
            item.computed = {
                k: float(v)
                for k, v in computed.items()
                if k in COMPUTED and isinstance(v, int | float) and not isinstance(v, bool)
            }
        return item
