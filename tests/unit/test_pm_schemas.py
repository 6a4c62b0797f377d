"""Every recorded Polymarket payload validates against its wire model, quirks decoded."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from autotrader.errors import DataError
from autotrader.venue.polymarket import schemas as S
from autotrader.venue.polymarket.schemas_base import validate, validate_list

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "polymarket"

# Every Polymarket fixture this layer owns → the model (or list of models) it is.
MODELS: dict[str, Any] = {
    "gamma_events_negrisk_multimarket.json": list[S.GammaEvent],
    "gamma_market_btc_updown_15m.json": S.GammaMarket,
    "gamma_market_btc_updown_5m_twap_subset.json": S.GammaMarket,
    "gamma_market_btc_updown_5m_with_nested_event.json": S.GammaMarket,
    "clob_api_key_response.json": S.ClobApiKey,
    "clob_balance_allowance.json": S.ClobBalanceAllowance,
    "clob_book.json": S.ClobBook,
    "clob_book_2024.json": S.ClobBook,
    "clob_cancel_response_failed.json": S.ClobCancelResponse,
    "clob_cancel_response_ok.json": S.ClobCancelResponse,
    "clob_clob_markets_fee_bearing.json": S.ClobMarketInfo,
    "clob_clob_markets_fee_free.json": S.ClobMarketInfo,
    "clob_data_orders_page.json": S.ClobOrdersPage,
    "clob_data_trade_object.json": S.ClobTrade,
    "clob_data_trades_page.json": S.ClobTradesPage,
    "clob_fee_rate.json": S.ClobFeeRate,
    "clob_last_trade_price.json": S.ClobLastTradePrice,
    "clob_market_by_condition_id.json": S.ClobMarket,
    "clob_midpoint.json": S.ClobMidpoint,
    "clob_neg_risk.json": S.ClobNegRisk,
    "clob_ok.json": S.ClobOk,
    "clob_post_order_request_v1_docs.json": S.ClobPostOrderRequestV1,
    "clob_post_order_request_v2_order.json": S.ClobSignedOrderV2,
    "clob_post_order_response_live_docs.json": S.ClobPostOrderResponse,
    "clob_post_order_response_matched.json": S.ClobPostOrderResponse,
    "clob_post_order_response_matched_sdk_mock.json": S.ClobPostOrderResponse,
    "clob_price.json": S.ClobPrice,
    "clob_prices_batch.json": S.ClobPricesBatch,
    "clob_prices_history.json": S.ClobPricesHistory,
    "clob_spread.json": S.ClobSpread,
    "clob_tick_size.json": S.ClobTickSize,
    "clob_time.json": S.ClobTime,
    "data_v1_trades.json": list[S.DataV1Trade],
    "data_v2_activity.json": list[S.DataV2Activity],
    "data_v2_positions.json": list[S.DataV2Position],
    "data_v2_trades.json": list[S.DataV2Trade],
    "data_v2_trades_page_envelope.json": S.DataV2TradesPage,
    "ws_market_best_bid_ask.json": S.WsBestBidAsk,
    "ws_market_book.json": S.WsBook,
    "ws_market_last_trade_price.json": S.WsLastTradePrice,
    "ws_market_last_trade_price_docs.json": S.WsLastTradePrice,
    "ws_market_market_resolved.json": S.WsMarketResolved,
    "ws_market_new_market.json": S.WsNewMarket,
    "ws_market_price_change.json": S.WsPriceChange,
    "ws_market_price_change_docs.json": S.WsPriceChange,
    "ws_market_price_change_legacy_pre2025-09.json": S.WsPriceChangeLegacy,
    "ws_market_subscribe_docs.json": S.WsMarketSubscribe,
    "ws_market_subscribe_dynamic_docs.json": S.WsMarketSubscribe,
    "ws_market_tick_size_change.json": S.WsTickSizeChange,
    "ws_user_order_cancellation.json": S.WsUserOrder,
    "ws_user_order_fok_killed.json": S.WsUserOrder,
    "ws_user_order_placement.json": S.WsUserOrder,
    "ws_user_trade.json": S.WsUserTrade,
}
# Owned elsewhere: the L1/L2 signing vectors (credentials/auth) and the error list (below).
PREFIXES = ("gamma_", "clob_", "data_", "ws_")
NOT_MODELLED = {"clob_auth_test_vectors.json", "clob_error_responses.json"}


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def test_every_polymarket_fixture_has_a_model() -> None:
    # Gamma, CLOB, Data API and CLOB WebSocket payloads; RTDS and exchange feeds live elsewhere.
    names = {p.name for p in FIXTURES.glob("*.json") if p.name.startswith(PREFIXES)}
    assert names - NOT_MODELLED == set(MODELS)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_fixture_validates(name: str) -> None:
    TypeAdapter(MODELS[name]).validate_python(load(name))


def test_error_bodies_validate() -> None:
    bodies = [row["body"] for row in load("clob_error_responses.json")]
    errors = [S.ClobErrorBody.model_validate(b).error for b in bodies]
    assert errors[0] == "not enough balance / allowance"
    assert errors[3] == "Invalid token id"
    post_only = {"error": "post-only mode", "code": "post_only_mode", "retry_after_seconds": 79}
    body = S.ClobErrorBody.model_validate(post_only)
    assert body.code == "post_only_mode" and body.retry_after_seconds == Decimal(79)


def test_gamma_market_json_encoded_strings_are_decoded() -> None:
    m = S.GammaMarket.model_validate(load("gamma_market_btc_updown_15m.json"))
    assert m.outcomes == ("Up", "Down")
    assert m.outcome_prices == (Decimal("0.585"), Decimal("0.415"))
    assert m.clob_token_ids == (
        "8851848546962572193739008211889046036776198486765606333032192644001246174440",
        "10181859819235412241349111952383458602722012323104397550162049365057126390549",
    )
    assert m.condition_id.startswith("0x2e6af11e")
    assert m.question_id == "0xf69e4e6eb29d29bd1852208e2a27f652e16053fdfdad35ce6953e08f0fb08424"
    # "volume" is a string and "volumeNum" a float on the wire: both exact decimals here.
    assert m.volume == Decimal("92509.470055") and m.volume_num == Decimal("92509.470055")
    assert m.order_price_min_tick_size == Decimal("0.01")
    assert m.order_min_size == Decimal(5)
    assert m.event_start_time == datetime(2025, 12, 31, 17, 0, tzinfo=UTC)
    assert m.end_date == datetime(2025, 12, 31, 17, 15, tzinfo=UTC)
    assert m.accepting_orders is True and m.closed is False and m.fee_schedule is None
    # Unknown fields are kept, not dropped.
    assert m.model_extra is not None and m.model_extra["competitive"] == 0.9928268261808434


def test_gamma_fee_schedule_and_nested_event() -> None:
    twap = S.GammaMarket.model_validate(load("gamma_market_btc_updown_5m_twap_subset.json"))
    assert twap.fee_schedule is not None
    assert twap.fee_schedule.rate == Decimal("0.07")  # not 0.07000000000000000666
    assert twap.fee_schedule.exponent == 1 and twap.fee_schedule.taker_only is True
    assert twap.fee_schedule.rebate_rate == Decimal("0.2")
    assert twap.taker_base_fee == Decimal(1000)
    assert twap.crypto_market_config is not None
    assert twap.crypto_market_config.twap_lookback_seconds == 60
    nested = S.GammaMarket.model_validate(load("gamma_market_btc_updown_5m_with_nested_event.json"))
    assert [e.slug for e in nested.events] == ["btc-updown-5m-1773307200"]
    assert nested.events[0].series[0].slug == "btc-up-or-down-5m"
    assert nested.events[0].markets == []
    assert nested.fees_enabled is True and nested.fee_type == "crypto_fees"


def test_gamma_event_metadata() -> None:
    payload = load("gamma_market_btc_updown_15m.json")
    payload["eventMetadata"] = {"priceToBeat": 87654.32, "finalPrice": "87700.5"}
    m = S.GammaMarket.model_validate(payload)
    assert m.event_metadata is not None
    assert m.event_metadata.price_to_beat == Decimal("87654.32")
    assert m.event_metadata.final_price == Decimal("87700.5")


def test_json_list_fields_dump_back_as_strings() -> None:
    raw = load("gamma_market_btc_updown_15m.json")
    m = S.GammaMarket.model_validate(raw)
    dumped = m.model_dump(by_alias=True, mode="json")
    assert dumped["outcomes"] == raw["outcomes"]
    assert dumped["clobTokenIds"] == raw["clobTokenIds"]
    assert json.loads(dumped["outcomePrices"]) == ["0.585", "0.415"]
    assert S.GammaMarket.model_validate(dumped).clob_token_ids == m.clob_token_ids


def test_gamma_events_neg_risk() -> None:
    (event,) = TypeAdapter(list[S.GammaEvent]).validate_python(
        load("gamma_events_negrisk_multimarket.json")
    )
    assert event.neg_risk is True and len(event.markets) == 2
    assert [t.slug for t in event.tags][:2] == ["world-elections", "global-elections"]
    assert event.markets[1].order_price_min_tick_size == Decimal("0.001")
    assert event.markets[1].liquidity == Decimal("573479.49303")


def test_book_shapes() -> None:
    book = S.ClobBook.model_validate(load("clob_book.json"))
    assert book.timestamp == datetime.fromtimestamp(1785734468.581, UTC)
    assert [lv.price for lv in book.bids] == [Decimal("0.001"), Decimal("0.002")]
    assert book.asks == [] and book.last_trade_price is None  # "" on the wire
    assert book.tick_size == Decimal("0.001") and book.neg_risk is True
    old = S.ClobBook.model_validate(load("clob_book_2024.json"))
    assert old.tick_size is None and old.min_order_size is None
    assert old.asks[0].price == Decimal("0.98") and old.asks[-1].price == Decimal("0.14")


def test_clob_markets_compact_shape() -> None:
    fee = S.ClobMarketInfo.model_validate(load("clob_clob_markets_fee_bearing.json"))
    assert fee.min_tick_size == Decimal("0.001") and fee.min_order_size == Decimal(5)
    assert fee.fee_details is not None and fee.fee_details.rate == Decimal("0.07")
    assert fee.fee_details.exponent == 1 and fee.fee_details.taker_only is True
    assert [t.outcome for t in fee.tokens] == ["Yes", "No"] and fee.neg_risk is False
    free = S.ClobMarketInfo.model_validate(load("clob_clob_markets_fee_free.json"))
    assert free.fee_details is None and free.neg_risk is True


def test_post_order_response_spellings() -> None:
    live = S.ClobPostOrderResponse.model_validate(load("clob_post_order_response_live_docs.json"))
    assert live.order_id == "0xabcdef1234567890abcdef1234567890abcdef12" and live.status == "live"
    mock = S.ClobPostOrderResponse.model_validate(
        load("clob_post_order_response_matched_sdk_mock.json")
    )
    assert mock.error_msg == "" and mock.making_amount == Decimal(100)
    assert mock.transactions_hashes[0].startswith("0x2369f69a")
    dumped = mock.model_dump(by_alias=True, mode="json")
    assert dumped["orderID"] == mock.order_id and "errorMsg" in dumped


def test_signed_order_v2_and_request() -> None:
    order = load("clob_post_order_request_v2_order.json")
    signed = S.ClobSignedOrderV2.model_validate(order)
    assert signed.token_id.startswith("7132104567") and signed.maker_amount == "100000000"
    assert signed.timestamp == "1713398400000" and signed.signature_type == 0
    request = {"order": order, "owner": "key", "orderType": "GTC", "postOnly": True}
    req = S.ClobPostOrderRequest.model_validate(request)
    assert req.post_only is True and req.defer_exec is False and req.order_type == "GTC"
    with pytest.raises(ValidationError):  # a V1 order lacks timestamp/metadata/builder
        S.ClobPostOrderRequest.model_validate(load("clob_post_order_request_v1_docs.json"))


def test_data_api_shapes() -> None:
    page = S.DataV2TradesPage.model_validate(load("data_v2_trades_page_envelope.json"))
    assert page.data is not None and len(page.data) == 3
    assert page.pagination is not None and page.pagination.next_cursor is None
    assert page.data[1].price == Decimal("0.709999959")
    assert page.data[0].timestamp == datetime.fromtimestamp(1786179735, UTC)
    v1 = TypeAdapter(list[S.DataV1Trade]).validate_python(load("data_v1_trades.json"))
    assert v1[1].proxy_wallet == "0xd53d94afcb32eb1db663118e5f830b48d83808ee"
    assert v1[1].size == Decimal("94.37")


@pytest.mark.parametrize(
    ("model", "payload", "where"),
    [
        (S.GammaMarket, {"id": "1", "question": "q", "slug": "s"}, "conditionId"),
        (
            S.ClobBook,
            {"market": "m", "asset_id": "a", "timestamp": "1785734468581", "bids": []},
            "asks",
        ),
        (S.ClobPrice, {"price": "abc"}, "price"),
        (S.ClobPrice, {"price": True}, "price"),
        (S.ClobPrice, {"price": "NaN"}, "price"),
        (S.ClobMidpoint, {"mid": 0.5e400}, "mid"),
    ],
)
def test_required_and_typed_fields_are_checked(
    model: type[BaseModel], payload: Any, where: str
) -> None:
    with pytest.raises(DataError, match=where):
        validate(model, payload, "thing")


def test_bad_json_encoded_list_is_one_clear_error() -> None:
    payload = load("gamma_market_btc_updown_15m.json")
    payload["clobTokenIds"] = '["123", '
    with pytest.raises(DataError) as err:
        validate(S.GammaMarket, payload, "gamma market")
    assert str(err.value).startswith("gamma market: clobTokenIds: not a JSON-encoded list")
    assert "\n" not in str(err.value)


def test_times_accept_every_wire_form() -> None:
    when = datetime(2024, 9, 11, 8, 25, 2, tzinfo=UTC)
    for value in (1726043102, "1726043102", 1726043102000, "1726043102000", "2024-09-11T08:25:02Z"):
        point = S.ClobHistoryPoint.model_validate({"t": value, "p": 0.5})
        assert point.t == when, value
    gamma_style = S.GammaTag.model_validate({"id": 2, "slug": "politics"})
    assert gamma_style.id == "2"
    with pytest.raises(DataError, match="out of range"):
        validate(S.ClobHistoryPoint, {"t": 5, "p": 0.5}, "history")


def test_validate_list_names_the_index() -> None:
    rows = load("data_v2_trades.json")
    rows[1]["size"] = "lots"
    with pytest.raises(DataError, match=r"data trades: \[1\]\.size"):
        validate_list(S.DataV2Trade, rows, "data trades")
