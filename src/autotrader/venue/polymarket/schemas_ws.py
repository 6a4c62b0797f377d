"""CLOB WebSocket message models (ws-subscriptions-clob.polymarket.com/ws/{market,user}).

Nothing in issue 3 subscribes to these yet; they are here so every recorded Polymarket
payload has one model, and because ``book``, ``trade`` and ``order`` reuse the REST shapes.
"""

from __future__ import annotations

from pydantic import Field

from autotrader.venue.polymarket.schemas_base import (
    OptDecimal,
    OptTime,
    WireDecimal,
    WireModel,
    WireTime,
)
from autotrader.venue.polymarket.schemas_clob import ClobBook
from autotrader.venue.polymarket.schemas_orders import ClobOrder, ClobTrade


class WsBook(ClobBook):
    """Market channel ``book``: the REST book plus ``event_type``."""

    event_type: str = "book"


class WsPriceChangeLevel(WireModel):
    """One entry of ``price_changes[]`` (schema in use since 2025-09-15)."""

    asset_id: str
    price: WireDecimal
    side: str
    size: WireDecimal
    hash: str | None = None
    best_bid: OptDecimal = None
    best_ask: OptDecimal = None


class WsPriceChange(WireModel):
    """Market channel ``price_change``."""

    event_type: str
    market: str
    price_changes: list[WsPriceChangeLevel]
    timestamp: WireTime


class WsPriceChangeLegacy(WireModel):
    """Market channel ``price_change`` before 2025-09: one level per message."""

    event_type: str
    asset_id: str
    market: str
    price: WireDecimal
    side: str
    size: WireDecimal
    timestamp: WireTime
    hash: str | None = None


class WsTickSizeChange(WireModel):
    """Market channel ``tick_size_change`` (0.01 → 0.001 beyond 0.04/0.96)."""

    event_type: str
    asset_id: str
    market: str
    old_tick_size: WireDecimal
    new_tick_size: WireDecimal
    timestamp: WireTime


class WsLastTradePrice(WireModel):
    """Market channel ``last_trade_price``."""

    event_type: str
    asset_id: str
    market: str
    price: WireDecimal
    side: str
    size: WireDecimal
    timestamp: WireTime
    fee_rate_bps: OptDecimal = None
    transaction_hash: str | None = None


class WsBestBidAsk(WireModel):
    """Market channel ``best_bid_ask`` (needs ``custom_feature_enabled``)."""

    event_type: str
    market: str
    asset_id: str
    best_bid: OptDecimal = None
    best_ask: OptDecimal = None
    spread: OptDecimal = None
    timestamp: WireTime


class WsNewMarket(WireModel):
    """Market channel ``new_market`` (needs ``custom_feature_enabled``)."""

    event_type: str
    id: str
    market: str
    slug: str
    question: str = ""
    assets_ids: list[str] = Field(default_factory=list)
    outcomes: list[str] = Field(default_factory=list)
    timestamp: WireTime
    order_price_min_tick_size: OptDecimal = None


class WsMarketResolved(WireModel):
    """Market channel ``market_resolved`` (needs ``custom_feature_enabled``)."""

    event_type: str
    id: str
    market: str
    assets_ids: list[str] = Field(default_factory=list)
    winning_asset_id: str
    winning_outcome: str
    timestamp: WireTime


class WsMarketSubscribe(WireModel):
    """The market channel's subscription message (initial or dynamic)."""

    assets_ids: list[str]
    type: str | None = None
    operation: str | None = None


class WsUserOrder(ClobOrder):
    """User channel ``order`` (PLACEMENT / UPDATE / CANCELLATION)."""

    event_type: str = "order"
    type: str | None = None
    timestamp: OptTime = None


class WsUserTrade(ClobTrade):
    """User channel ``trade``."""

    event_type: str = "trade"
    type: str | None = None
    timestamp: OptTime = None
