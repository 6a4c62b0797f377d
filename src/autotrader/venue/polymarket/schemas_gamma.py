"""Gamma API wire models (gamma-api.polymarket.com): markets, events, tags.

Gamma is camelCase on the wire (with a few odd spellings such as ``questionID``); the models
use snake_case names with camelCase aliases and keep every field they do not name.
Quirks absorbed here: ``outcomes``, ``outcomePrices`` and ``clobTokenIds`` are JSON-encoded
strings; ``volume``/``liquidity`` are strings while ``volumeNum``/``liquidityNum`` are numbers;
the nested ``events[]`` of a market carry no ``markets`` of their own.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from autotrader.venue.polymarket.schemas_base import (
    JsonDecimalList,
    JsonStrList,
    OptDecimal,
    OptTime,
    WireDecimal,
    WireId,
    WireModel,
)


class GammaModel(WireModel):
    """Base of the Gamma models: snake_case fields read from camelCase keys."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, alias_generator=to_camel)


class GammaTag(GammaModel):
    """A tag attached to an event (or to a market with ``include_tag=true``)."""

    id: WireId
    label: str | None = None
    slug: str | None = None


class GammaFeeSchedule(GammaModel):
    """``feeSchedule``: taker fee per share = rate × (p(1−p))^exponent."""

    rate: WireDecimal
    exponent: WireDecimal = Decimal(1)
    taker_only: bool = True
    rebate_rate: OptDecimal = None


class GammaEventMetadata(GammaModel):
    """``eventMetadata`` of a crypto up/down event: the reference prices once published."""

    price_to_beat: OptDecimal = None
    final_price: OptDecimal = None


class GammaCryptoMarketConfig(GammaModel):
    """``cryptoMarketConfig`` of the TWAP-era crypto markets."""

    id: str | None = None
    asset: str | None = None
    duration: str | None = None
    twap_enabled: bool | None = None
    twap_lookback_seconds: int | None = None


class GammaSeries(GammaModel):
    """A recurring series (e.g. ``btc-up-or-down-15m``) an event belongs to."""

    id: WireId
    slug: str | None = None
    title: str | None = None
    recurrence: str | None = None


class GammaEvent(GammaModel):
    """A Gamma event: GET /events items, /events/{id}, /events/slug/{slug}, market.events[]."""

    id: WireId
    slug: str
    title: str = ""
    ticker: str | None = None
    active: bool = True
    closed: bool = False
    archived: bool | None = None
    start_date: OptTime = None
    end_date: OptTime = None
    start_time: OptTime = None
    neg_risk: bool = False
    volume: OptDecimal = None
    liquidity: OptDecimal = None
    # Defined below: resolved when GammaEvent is first validated (wire models defer their build).
    markets: list[GammaMarket] = Field(default_factory=list)
    tags: list[GammaTag] = Field(default_factory=list)
    series: list[GammaSeries] = Field(default_factory=list)
    series_slug: str | None = None
    event_metadata: GammaEventMetadata | None = None


class GammaMarket(GammaModel):
    """A Gamma market: GET /markets items, /markets/{id}, /markets/slug/{slug}, event.markets[]."""

    id: WireId
    question: str
    condition_id: str
    slug: str
    question_id: str | None = Field(default=None, alias="questionID")
    outcomes: JsonStrList = ()
    outcome_prices: JsonDecimalList = ()
    clob_token_ids: JsonStrList = ()
    active: bool = True
    closed: bool = False
    archived: bool | None = None
    accepting_orders: bool = False
    enable_order_book: bool | None = None
    order_price_min_tick_size: OptDecimal = None
    order_min_size: OptDecimal = None
    neg_risk: bool = False
    start_date: OptTime = None
    end_date: OptTime = None
    event_start_time: OptTime = None
    volume: OptDecimal = None
    volume_num: OptDecimal = None
    liquidity: OptDecimal = None
    liquidity_num: OptDecimal = None
    best_bid: OptDecimal = None
    best_ask: OptDecimal = None
    last_trade_price: OptDecimal = None
    fees_enabled: bool | None = None
    fee_type: str | None = None
    maker_base_fee: OptDecimal = None
    taker_base_fee: OptDecimal = None
    fee_schedule: GammaFeeSchedule | None = None
    resolution_source: str | None = None
    uma_resolution_statuses: str | None = None
    events: list[GammaEvent] = Field(default_factory=list)
    tags: list[GammaTag] = Field(default_factory=list)
    event_metadata: GammaEventMetadata | None = None
    crypto_market_config: GammaCryptoMarketConfig | None = None
