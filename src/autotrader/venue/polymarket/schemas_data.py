"""Data API wire models (data-api.polymarket.com): positions, trades, activity.

v2 is snake_case and wraps every payload in ``{"data": ..., "pagination": ...}``; pagination is
cursor-only (``next_cursor`` until null). v1 ``/trades`` is a bare camelCase array.
"""

from __future__ import annotations

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from autotrader.venue.polymarket.schemas_base import (
    OptDecimal,
    WireDecimal,
    WireModel,
    WireTime,
)


class DataPagination(WireModel):
    """``pagination`` of a v2 page."""

    limit: int | None = None
    offset: int | None = None
    has_more: bool = False
    next_cursor: str | None = None


class DataV2Trade(WireModel):
    """One v2 trade row: one order's fill, with the wallet behind it."""

    proxy_wallet: str
    side: str
    token_id: str
    condition_id: str
    size: WireDecimal
    price: WireDecimal
    timestamp: WireTime
    title: str | None = None
    slug: str | None = None
    event_slug: str | None = None
    outcome: str | None = None
    outcome_index: int | None = None
    name: str | None = None
    pseudonym: str | None = None
    transaction_hash: str | None = None


class DataV2TradesPage(WireModel):
    """GET /v2/trades: ``{"data": [...], "pagination": {...}}`` (``data`` may be null)."""

    data: list[DataV2Trade] | None = None
    pagination: DataPagination | None = None


class DataV2Position(WireModel):
    """One v2 position row."""

    proxy_wallet: str
    token_id: str
    condition_id: str
    current_size: WireDecimal
    avg_price: OptDecimal = None
    current_price: OptDecimal = None
    current_value: OptDecimal = None
    entry_cost_usdc: OptDecimal = None
    realized_pnl: OptDecimal = None
    unrealized_pnl: OptDecimal = None
    total_pnl: OptDecimal = None
    status: str | None = None
    redeemable: bool = False
    mergeable: bool = False
    negative_risk: bool = False
    title: str | None = None
    slug: str | None = None
    event_slug: str | None = None
    outcome: str | None = None
    outcome_index: int | None = None
    opposite_token_id: str | None = None
    end_date: str | None = None


class DataV2PositionsPage(WireModel):
    """GET /v2/positions: ``{"data": [...], "pagination": {...}}``."""

    data: list[DataV2Position] | None = None
    pagination: DataPagination | None = None


class DataV2Activity(WireModel):
    """One v2 activity row (TRADE, SPLIT, MERGE, REDEEM, REWARD, ...)."""

    proxy_wallet: str
    timestamp: WireTime
    type: str
    condition_id: str | None = None
    token_id: str | None = None
    size: OptDecimal = None
    usdc_size: OptDecimal = None
    price: OptDecimal = None
    side: str | None = None
    outcome: str | None = None
    outcome_index: int | None = None
    slug: str | None = None
    transaction_hash: str | None = None


class DataV1Trade(WireModel):
    """One v1 /trades row (camelCase; ``asset`` is the token id)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, alias_generator=to_camel)

    proxy_wallet: str
    side: str
    asset: str
    condition_id: str
    size: WireDecimal
    price: WireDecimal
    timestamp: WireTime
    title: str | None = None
    slug: str | None = None
    event_slug: str | None = None
    outcome: str | None = None
    outcome_index: int | None = None
    transaction_hash: str | None = None
    name: str | None = Field(default=None)
