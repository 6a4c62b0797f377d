"""CLOB REST wire models (clob.polymarket.com): orders, trades and the account.

Snake_case like the rest of the CLOB except for the order structs and the post-order
response, which are camelCase (and the official SDK mock spells ``error_msg`` where the live
wire says ``errorMsg``: both are read). Numbers come as strings.
"""

from __future__ import annotations

from pydantic import AliasChoices, ConfigDict, Field
from pydantic.alias_generators import to_camel

from autotrader.venue.polymarket.schemas_base import (
    OptDecimal,
    OptTime,
    WireDecimal,
    WireId,
    WireModel,
    WireTime,
)

# --- orders and trades ---------------------------------------------------------------------


class ClobOrder(WireModel):
    """An order as /data/orders and /data/order/{id} return it (the "OpenOrder")."""

    id: str
    status: str
    market: str
    asset_id: str
    side: str
    price: WireDecimal
    original_size: WireDecimal
    # A killed FOK carries "" here (ws_user_order_fok_killed.json): read as "nothing matched".
    size_matched: OptDecimal = None
    outcome: str | None = None
    owner: str | None = None
    maker_address: str | None = None
    expiration: OptTime = None
    order_type: str | None = None
    created_at: OptTime = None
    associate_trades: list[str] | None = None


class ClobOrdersPage(WireModel):
    """GET /data/orders: ``{"data": [...], "next_cursor": "LTE="}`` ("LTE=" = the end)."""

    data: list[ClobOrder]
    next_cursor: str | None = None
    limit: int | None = None
    count: int | None = None


class ClobMakerOrder(WireModel):
    """One resting order a trade filled (``maker_orders[]``)."""

    order_id: str
    matched_amount: WireDecimal
    price: WireDecimal
    asset_id: str
    owner: str | None = None
    maker_address: str | None = None
    fee_rate_bps: OptDecimal = None
    outcome: str | None = None
    side: str | None = None


class ClobTrade(WireModel):
    """A trade as /data/trades returns it (and the user channel's ``trade`` message)."""

    id: str
    taker_order_id: str
    market: str
    asset_id: str
    side: str
    size: WireDecimal
    price: WireDecimal
    status: str
    match_time: WireTime
    fee_rate_bps: OptDecimal = None
    last_update: OptTime = None
    outcome: str | None = None
    bucket_index: int | None = None
    owner: str | None = None
    maker_address: str | None = None
    transaction_hash: str | None = None
    maker_orders: list[ClobMakerOrder] = Field(default_factory=list)
    trader_side: str | None = None


class ClobTradesPage(WireModel):
    """GET /data/trades: ``{"data": [...], "next_cursor": "LTE="}``."""

    data: list[ClobTrade]
    next_cursor: str | None = None
    limit: int | None = None
    count: int | None = None


class _CamelModel(WireModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, alias_generator=to_camel)


class ClobSignedOrderV2(_CamelModel):
    """The V2 signed order struct inside POST /order (no nonce, feeRateBps or taker)."""

    salt: int
    maker: str
    signer: str
    token_id: WireId
    maker_amount: WireId
    taker_amount: WireId
    side: str
    signature_type: int
    expiration: WireId = "0"
    timestamp: WireId
    metadata: str
    builder: str
    signature: str


class ClobSignedOrderV1(_CamelModel):
    """The legacy V1 signed order struct (production refuses it since 2026-04-28)."""

    salt: int
    maker: str
    signer: str
    taker: str
    token_id: WireId
    maker_amount: WireId
    taker_amount: WireId
    side: str
    expiration: WireId
    nonce: WireId
    fee_rate_bps: WireId
    signature_type: int
    signature: str


class ClobPostOrderRequest(_CamelModel):
    """POST /order body (and each item of POST /orders) carrying a V2 order."""

    order: ClobSignedOrderV2
    owner: str
    order_type: str
    defer_exec: bool = False
    post_only: bool = False


class ClobPostOrderRequestV1(_CamelModel):
    """POST /order body carrying a legacy V1 order (as in the docs example)."""

    order: ClobSignedOrderV1
    owner: str
    order_type: str
    defer_exec: bool = False
    post_only: bool = False


class ClobPostOrderResponse(WireModel):
    """POST /order response (and each item of POST /orders).

    ``status`` is "matched" | "live" | "delayed" | "unmatched" (or "" on a refusal);
    ``errorMsg`` is spelled ``error_msg`` by the SDK's own mock.
    """

    success: bool
    error_msg: str = Field(
        default="",
        validation_alias=AliasChoices("errorMsg", "error_msg"),
        serialization_alias="errorMsg",
    )
    order_id: str = Field(
        default="",
        validation_alias=AliasChoices("orderID", "orderId", "order_id"),
        serialization_alias="orderID",
    )
    status: str = ""
    making_amount: OptDecimal = Field(
        default=None,
        validation_alias=AliasChoices("makingAmount", "making_amount"),
        serialization_alias="makingAmount",
    )
    taking_amount: OptDecimal = Field(
        default=None,
        validation_alias=AliasChoices("takingAmount", "taking_amount"),
        serialization_alias="takingAmount",
    )
    transactions_hashes: list[str] = Field(
        default_factory=list,
        validation_alias=AliasChoices("transactionsHashes", "orderHashes"),
        serialization_alias="transactionsHashes",
    )
    trade_ids: list[str] = Field(
        default_factory=list,
        validation_alias=AliasChoices("tradeIDs", "tradeIds"),
        serialization_alias="tradeIDs",
    )


class ClobCancelResponse(WireModel):
    """DELETE /order, /orders, /cancel-all: ``{"canceled": [...], "not_canceled": {id: why}}``."""

    canceled: list[str] = Field(default_factory=list)
    not_canceled: dict[str, str] = Field(default_factory=dict)


# --- account -------------------------------------------------------------------------------


class ClobBalanceAllowance(WireModel):
    """GET /balance-allowance: amounts in base units (USDC has 6 decimals).

    The V1 shape has one ``allowance``; the V2 shape has ``allowances`` per spender.
    """

    balance: WireDecimal
    allowance: OptDecimal = None
    allowances: dict[str, WireDecimal] | None = None


class ClobApiKey(WireModel):
    """GET /auth/derive-api-key and POST /auth/api-key."""

    api_key: str = Field(alias="apiKey")
    secret: str
    passphrase: str


class ClobErrorBody(WireModel):
    """Every CLOB error: ``{"error": "..."}``; the post-only period adds a code and a delay."""

    error: str
    code: str | None = None
    retry_after_seconds: OptDecimal = None
