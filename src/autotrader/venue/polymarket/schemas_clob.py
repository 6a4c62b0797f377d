"""CLOB REST wire models (clob.polymarket.com): market data. Orders, trades and the account
are in ``schemas_orders`` (what only the executor and the CLOB adapter read).

The CLOB is snake_case; numbers come as strings almost everywhere, but the small mock-style
endpoints (``/prices``, ``/last-trade-price``) send JSON numbers.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, RootModel

from autotrader.venue.polymarket.schemas_base import (
    OptDecimal,
    OptTime,
    WireDecimal,
    WireModel,
    WireTime,
)

# --- market data -------------------------------------------------------------------------


class ClobLevel(WireModel):
    """One price level of a book: ``{"price": "0.5", "size": "30"}``."""

    price: WireDecimal
    size: WireDecimal


class ClobBook(WireModel):
    """GET /book (and each item of POST /books). Bids ascending, asks descending on the wire.

    The 2024 shape lacks ``min_order_size``, ``tick_size``, ``neg_risk`` and
    ``last_trade_price``; they are optional here for that reason.
    """

    market: str
    asset_id: str
    timestamp: WireTime
    hash: str | None = None
    bids: list[ClobLevel]
    asks: list[ClobLevel]
    min_order_size: OptDecimal = None
    tick_size: OptDecimal = None
    neg_risk: bool | None = None
    last_trade_price: OptDecimal = None


class ClobPrice(WireModel):
    """GET /price: ``{"price": "0.5"}``; side=BUY answers the best bid."""

    price: WireDecimal


class ClobPricesBatch(RootModel[dict[str, dict[str, WireDecimal]]]):
    """POST /prices: ``{token_id: {"BUY": 0.5, "SELL": 0.6}}``."""


class ClobMidpoint(WireModel):
    """GET /midpoint: ``{"mid": "0.5"}``."""

    mid: OptDecimal


class ClobSpread(WireModel):
    """GET /spread: ``{"spread": "0.5"}``."""

    spread: WireDecimal


class ClobTickSize(WireModel):
    """GET /tick-size: ``{"minimum_tick_size": "0.1"}`` (a number on the live wire)."""

    minimum_tick_size: WireDecimal


class ClobNegRisk(WireModel):
    """GET /neg-risk: ``{"neg_risk": true}``."""

    neg_risk: bool


class ClobFeeRate(WireModel):
    """GET /fee-rate: ``{"base_fee": 0}`` (basis points)."""

    base_fee: WireDecimal


class ClobLastTradePrice(WireModel):
    """GET /last-trade-price: ``{"price": 0.12, "side": "BUY"}``."""

    price: OptDecimal
    side: str | None = None


class ClobTime(RootModel[int]):
    """GET /time: a bare JSON integer, epoch seconds."""


class ClobOk(RootModel[str]):
    """GET /ok: the bare JSON string ``"OK"``."""


class ClobHistoryPoint(WireModel):
    """One point of /prices-history: ``{"t": 1729000000, "p": 0.51}``."""

    t: WireTime
    p: WireDecimal


class ClobPricesHistory(WireModel):
    """GET /prices-history: ``{"history": [{"t", "p"}, ...]}``."""

    history: list[ClobHistoryPoint]


class ClobMarketInfoToken(WireModel):
    """A token of the compact /clob-markets shape: ``{"t": token_id, "o": outcome}``."""

    token_id: str = Field(alias="t")
    outcome: str = Field(alias="o")


class ClobFeeDetails(WireModel):
    """``fd`` of /clob-markets: ``{"r": rate, "e": exponent, "to": taker_only}``."""

    rate: WireDecimal = Field(alias="r")
    exponent: WireDecimal = Field(default=Decimal(1), alias="e")
    taker_only: bool = Field(default=True, alias="to")


class ClobMarketRewards(WireModel):
    """``r`` of /clob-markets (liquidity rewards)."""

    min_size: OptDecimal = Field(default=None, alias="mi")
    max_spread: OptDecimal = Field(default=None, alias="ma")
    enabled: bool | None = Field(default=None, alias="e")


class ClobMarketInfo(WireModel):
    """GET /clob-markets/{condition_id}: the compact per-market trading parameters.

    ``nr`` (neg risk) and ``fd`` (fee details) are omitted when false / fee-free.
    """

    condition_id: str = Field(alias="c")
    tokens: list[ClobMarketInfoToken] = Field(alias="t")
    min_tick_size: WireDecimal = Field(alias="mts")
    min_order_size: OptDecimal = Field(default=None, alias="mos")
    neg_risk: bool = Field(default=False, alias="nr")
    fee_details: ClobFeeDetails | None = Field(default=None, alias="fd")
    maker_base_fee: OptDecimal = Field(default=None, alias="mbf")
    taker_base_fee: OptDecimal = Field(default=None, alias="tbf")
    accepting_orders: bool | None = Field(default=None, alias="ao")
    accepting_orders_timestamp: OptTime = Field(default=None, alias="aot")
    rewards: ClobMarketRewards | None = Field(default=None, alias="r")


class ClobMarketToken(WireModel):
    """A token of the CLOB market object: ``{"token_id", "outcome", "price", "winner"}``."""

    token_id: str
    outcome: str
    price: OptDecimal = None
    winner: bool = False


class ClobMarket(WireModel):
    """GET /markets/{condition_id} (the CLOB's own market object, snake_case)."""

    condition_id: str
    question: str = ""
    market_slug: str | None = None
    tokens: list[ClobMarketToken]
    minimum_order_size: OptDecimal = None
    minimum_tick_size: OptDecimal = None
    neg_risk: bool = False
    active: bool = True
    closed: bool = False
    accepting_orders: bool = False
    end_date_iso: OptTime = None
    maker_base_fee: OptDecimal = None
    taker_base_fee: OptDecimal = None
    tags: list[str] | None = None


class ClobMarketByToken(WireModel):
    """GET /markets-by-token/{token_id}: names the token's market by condition id."""

    condition_id: str
