"""Polymarket wire → domain: every recorded payload translated, with exact expected values."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from autotrader.domain.fees import FREE, FeeSchedule
from autotrader.domain.orders import (
    OrderRequest,
    OrderStatus,
    OrderType,
    ReasonCode,
    Side,
)
from autotrader.errors import DataError
from autotrader.venue.polymarket import parsing as P
from autotrader.venue.polymarket import parsing_orders as PO
from autotrader.venue.polymarket.data_api import (
    parse_data_positions_page,
    parse_data_trades_page,
    parse_data_v1_trades,
)
from autotrader.venue.polymarket.reasons import error_message, reason_from_error

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "polymarket"
UP_15M = "8851848546962572193739008211889046036776198486765606333032192644001246174440"
DOWN_15M = "10181859819235412241349111952383458602722012323104397550162049365057126390549"
CRYPTO_FEES = FeeSchedule(rate=Decimal("0.07"))


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def ts(secs: float) -> datetime:
    return datetime.fromtimestamp(secs, UTC)


# --- Gamma ---------------------------------------------------------------------------------


def test_gamma_15m_market() -> None:
    m = P.parse_gamma_market(load("gamma_market_btc_updown_15m.json"))
    assert (m.id, m.slug) == ("1066851", "btc-updown-15m-1767200400")
    assert m.condition_id == "0x2e6af11e4b853b05ba7135239b21d77e808889b6ce1e735de856c94c4e5b5fce"
    assert m.question == "Bitcoin Up or Down - December 31, 12:00PM-12:15PM ET"
    assert m.outcomes == ("Up", "Down") and m.token_ids == (UP_15M, DOWN_15M)
    assert m.token("up").price == Decimal("0.585") and m.token("Down").price == Decimal("0.415")
    assert m.tick_size == Decimal("0.01") and m.min_order_size == Decimal(5)
    assert m.neg_risk is False and m.fees == FREE
    # The window start (eventStartTime), not the creation time (startDate).
    assert m.start_date == ts(1767200400) and m.end_date == ts(1767200400 + 900)
    assert (m.active, m.closed, m.accepting_orders, m.tradable) == (True, False, True, True)
    assert m.volume_usd == Decimal("92509.470055") and m.liquidity_usd == Decimal("20579.7452")
    assert m.tags == () and m.event_slug is None
    assert m.price_to_beat is None and m.final_price is None and m.winning_outcome is None
    assert m.btc_window is not None and m.btc_window.start == 1767200400


def test_gamma_fee_schedule_wins_over_base_fee() -> None:
    m = P.parse_gamma_market(load("gamma_market_btc_updown_5m_twap_subset.json"))
    assert m.fees == FeeSchedule(Decimal("0.07"), Decimal(1), True, Decimal("0.2"))
    assert m.fees.taker_fee(Decimal(100), Decimal("0.5")) == Decimal("1.75")
    assert m.volume_usd == 0 and m.liquidity_usd == 0  # absent in the subset


def test_gamma_nested_event_gives_slug_and_base_fee() -> None:
    m = P.parse_gamma_market(load("gamma_market_btc_updown_5m_with_nested_event.json"))
    assert m.event_slug == "btc-updown-5m-1773307200"
    assert m.start_date == datetime(2026, 3, 12, 9, 20, tzinfo=UTC)
    # No feeSchedule: the legacy takerBaseFee (1000 bps) read as a linear rate.
    assert m.fees == FeeSchedule(rate=Decimal("0.1"))
    assert m.volume_usd == Decimal("9.999997")


def test_gamma_resolved_market_and_metadata() -> None:
    payload = load("gamma_market_btc_updown_15m.json")
    payload.update(
        closed=True,
        acceptingOrders=False,
        outcomePrices='["0", "1"]',
        eventMetadata={"priceToBeat": 87654.32, "finalPrice": "87600.01"},
    )
    m = P.parse_gamma_market(payload)
    assert m.winning_outcome == "Down" and not m.tradable
    assert m.price_to_beat == Decimal("87654.32") and m.final_price == Decimal("87600.01")
    payload["outcomePrices"] = '["0.5", "0.5"]'
    assert P.parse_gamma_market(payload).winning_outcome is None
    payload.update(closed=False, outcomePrices='["1", "0"]')
    assert P.parse_gamma_market(payload).winning_outcome is None  # not closed yet


def test_gamma_metadata_from_nested_event() -> None:
    payload = load("gamma_market_btc_updown_5m_with_nested_event.json")
    payload["events"][0]["eventMetadata"] = {"priceToBeat": "70123.4"}
    payload["events"][0]["tags"] = [{"id": "21", "label": "Crypto", "slug": "crypto"}]
    m = P.parse_gamma_market(payload)
    assert m.price_to_beat == Decimal("70123.4") and m.tags == ("crypto",)


def test_gamma_not_deployed_market_has_no_tokens() -> None:
    payload = load("gamma_market_btc_updown_15m.json")
    payload["clobTokenIds"] = "[]"
    payload["acceptingOrders"] = False
    m = P.parse_gamma_market(payload)
    assert m.tokens == () and not m.tradable
    del payload["clobTokenIds"]
    assert P.parse_gamma_market(payload).tokens == ()


def test_gamma_token_count_mismatch_is_data_error() -> None:
    payload = load("gamma_market_btc_updown_15m.json")
    payload["clobTokenIds"] = '["1"]'
    with pytest.raises(DataError, match="gamma market 1066851: clobTokenIds has 1 ids for 2"):
        P.parse_gamma_market(payload)


def test_gamma_events() -> None:
    (event,) = P.parse_gamma_events(load("gamma_events_negrisk_multimarket.json"))
    assert (event.id, event.slug, event.closed) == (
        "30829",
        "democratic-presidential-nominee-2028",
        False,
    )
    assert event.title == "Democratic Presidential Nominee 2028"
    assert event.tags == (
        "world-elections",
        "global-elections",
        "elections",
        "politics",
        "us-presidential-election",
        "earn-4",
        "primaries",
    )
    smith, whitmer = event.markets
    assert smith.slug == "will-stephen-a-smith-win-the-2028-democratic-presidential-nomination-914"
    assert smith.event_slug == event.slug and smith.tags == event.tags
    assert smith.neg_risk is True and smith.tick_size == Decimal("0.001")
    assert smith.token("Yes").token_id.startswith("6059004548934712273")
    assert smith.token("No").price == Decimal("0.9895")
    assert whitmer.volume_usd == Decimal("6313171.174692103")
    assert whitmer.liquidity_usd == Decimal("573479.49303")
    assert P.parse_gamma_event(load("gamma_events_negrisk_multimarket.json")[0]) == event


# --- CLOB market data ----------------------------------------------------------------------


def test_book_best_level_first() -> None:
    book = P.parse_book(load("clob_book.json"))
    assert book.token_id.startswith("7261053235534362519929")
    assert [(lv.price, lv.size) for lv in book.bids] == [
        (Decimal("0.002"), Decimal("6.99")),
        (Decimal("0.001"), Decimal("667.12")),
    ]
    assert book.asks == () and book.best_ask is None and book.midpoint is None
    assert book.tick_size == Decimal("0.001") and book.min_order_size == Decimal(5)
    assert book.ts == ts(1785734468.581) and book.hash == "d7df883ae546b09533a4f485bfae0810da1af04e"


def test_book_2024_shape_reversed_and_defaults() -> None:
    book = P.parse_book(load("clob_book_2024.json"), tick_size=Decimal("0.01"))
    assert [lv.price for lv in book.bids] == [
        Decimal(p) for p in ("0.1", "0.09", "0.08", "0.06", "0.01")
    ]
    assert [lv.price for lv in book.asks] == [
        Decimal(p) for p in ("0.14", "0.2", "0.38", "0.46", "0.47", "0.5", "0.98")
    ]
    assert book.best_bid == Decimal("0.1") and book.best_ask == Decimal("0.14")
    assert book.asks[3].size == Decimal("10") and book.spread == Decimal("0.04")
    assert book.tick_size == Decimal("0.01") and book.min_order_size == Decimal(5)
    walk = book.walk(Side.BUY, shares=Decimal(800))
    assert walk.levels[0].price == Decimal("0.14") and walk.levels[1].size == Decimal(70)


def test_ws_book_is_the_same_shape() -> None:
    book = P.parse_book(load("ws_market_book.json"))
    assert book.best_bid == Decimal("0.07") and book.best_ask == Decimal("0.08")
    assert book.bids[-1].price == Decimal("0.01") and book.asks[-1].price == Decimal("0.99")


def test_book_bad_level_is_data_error() -> None:
    payload = load("clob_book.json")
    payload["bids"].append({"price": "1.5", "size": "1"})
    with pytest.raises(DataError, match=r"clob book .* bids: level price must be within"):
        P.parse_book(payload)


def test_small_market_data_endpoints() -> None:
    assert P.parse_price(load("clob_price.json")) == Decimal("0.5")
    assert P.parse_midpoint(load("clob_midpoint.json")) == Decimal("0.5")
    assert P.parse_midpoint({"mid": ""}) is None
    assert P.parse_spread(load("clob_spread.json")) == Decimal("0.5")
    assert P.parse_tick_size(load("clob_tick_size.json")) == Decimal("0.1")
    assert P.parse_neg_risk(load("clob_neg_risk.json")) is True
    assert P.parse_fee_rate_bps(load("clob_fee_rate.json")) == 0
    assert P.parse_last_trade_price(load("clob_last_trade_price.json")) == (
        Decimal("0.12"),
        Side.BUY,
    )
    assert P.parse_server_time(load("clob_time.json")) == 1764612536
    assert P.parse_ok(load("clob_ok.json")) is True
    assert P.parse_prices(load("clob_prices_batch.json")) == {
        "1": {Side.BUY: Decimal("0.5"), Side.SELL: Decimal("0.6")}
    }
    with pytest.raises(DataError, match="clob tick size: minimum_tick_size: out of range"):
        P.parse_tick_size({"minimum_tick_size": "0"})


def test_prices_history() -> None:
    points = P.parse_prices_history(load("clob_prices_history.json"))
    assert len(points) == 10
    assert points[0] == (ts(1729000000), Decimal("0.51"))
    assert points[5] == (ts(1729000300), Decimal("0.5"))
    assert points[-1] == (ts(1729000540), Decimal("0.54"))


def test_clob_market_info_fee_bearing_and_free() -> None:
    fee = P.parse_clob_market_info(load("clob_clob_markets_fee_bearing.json"))
    assert fee.condition_id.startswith("0x0e7b7cc2")
    assert [t.outcome for t in fee.tokens] == ["Yes", "No"]
    assert fee.tokens[0].token_id.startswith("4318733364192299618839")
    assert fee.tick_size == Decimal("0.001") and fee.min_order_size == Decimal(5)
    assert fee.fees == FeeSchedule(Decimal("0.07"), Decimal(1), True)
    assert fee.neg_risk is False and fee.accepting_orders is True
    free = P.parse_clob_market_info(load("clob_clob_markets_fee_free.json"))
    assert free.fees == FREE and free.neg_risk is True


def test_clob_market_object() -> None:
    m = P.parse_clob_market(load("clob_market_by_condition_id.json"))
    assert m.condition_id.startswith("0xdd22472e")
    assert [(t.outcome, t.price) for t in m.tokens] == [
        ("Yes", Decimal("0.4865")),
        ("No", Decimal("0.5135")),
    ]
    assert m.tick_size == Decimal("0.001") and m.min_order_size == Decimal(5)
    assert m.neg_risk is True and m.fees == FREE and m.winning_outcome is None
    assert P.parse_market_by_token({"condition_id": "0xabc"}) == "0xabc"


# --- orders, trades, post answer -----------------------------------------------------------


def test_orders_page() -> None:
    orders, cursor = PO.parse_orders_page(load("clob_data_orders_page.json"))
    assert cursor is None  # "LTE=" is the end
    first, second = orders
    assert first.venue_order_id.endswith("0001") and first.status is OrderStatus.LIVE
    assert first.side is Side.BUY and first.price == Decimal("0.6")
    assert first.original_size == Decimal(200) and first.size_matched == 0
    assert first.order_type is OrderType.GTC and first.created_at == ts(1703875200)
    assert second.status is OrderStatus.PARTIALLY_FILLED  # LIVE with 50 matched
    assert second.side is Side.SELL and second.size_matched == Decimal(50)
    assert second.remaining == Decimal(100) and second.order_type is OrderType.GTD


@pytest.mark.parametrize(
    ("wire", "matched", "order_type", "expected"),
    [
        ("LIVE", "0", "GTC", OrderStatus.LIVE),
        ("ORDER_STATUS_LIVE", "2", "GTC", OrderStatus.PARTIALLY_FILLED),
        ("MATCHED", "10", "GTC", OrderStatus.FILLED),
        ("MATCHED", "4", "GTC", OrderStatus.PARTIALLY_FILLED),
        ("MATCHED", "4", "FAK", OrderStatus.CANCELED),
        ("MATCHED", None, "FOK", OrderStatus.FILLED),
        ("CANCELED", "0", "GTC", OrderStatus.CANCELED),
        ("canceled_market_resolved", "3", "GTC", OrderStatus.CANCELED),
        ("DELAYED", "0", "FOK", OrderStatus.DELAYED),
        ("UNMATCHED", "0", "FAK", OrderStatus.CANCELED),
        ("EXPIRED", "0", "GTD", OrderStatus.EXPIRED),
    ],
)
def test_order_status_mapping(
    wire: str, matched: str | None, order_type: str, expected: OrderStatus
) -> None:
    payload = load("clob_data_orders_page.json")["data"][0]
    payload.update(status=wire, size_matched=matched, original_size="10", order_type=order_type)
    order = PO.parse_order(payload)
    assert order.status is expected
    if matched is None:
        assert order.size_matched == Decimal(10)  # "matched" in full


def test_killed_fok_from_user_channel() -> None:
    order = PO.parse_order(load("ws_user_order_fok_killed.json"))
    assert order.status is OrderStatus.CANCELED and order.size_matched == 0
    assert order.order_type is OrderType.FOK and order.created_at is None


def test_unknown_order_status_is_data_error() -> None:
    payload = load("clob_data_orders_page.json")["data"][0]
    payload["status"] = "WEIRD"
    with pytest.raises(DataError, match="status: unknown 'WEIRD'"):
        PO.parse_order(payload)


def test_taker_trade_fill_with_fee() -> None:
    (fill,) = PO.parse_trade(load("clob_data_trade_object.json"), fees=CRYPTO_FEES)
    assert fill.trade_id == "0c357886-b9d3-44bb-9aa9-72d8abc90e6e"
    assert fill.venue_order_id.startswith("0x4505aada")
    assert fill.side is Side.BUY and fill.liquidity == "taker"
    assert fill.price == Decimal("0.489") and fill.size == Decimal(5)
    # 5 × 0.07 × 0.489 × 0.511 = 0.08745765 → 0.087458
    assert fill.fee_usd == Decimal("0.087458")
    assert fill.ts == ts(1726043102)


def test_maker_trade_fill_is_our_side() -> None:
    payload = load("clob_data_trade_object.json")
    payload["trader_side"] = "MAKER"
    owner = "62880c97-4a03-c6fa-2665-e6072ffc6ae6"
    (fill,) = PO.parse_trade(payload, fees=CRYPTO_FEES, owner=owner)
    assert (
        fill.trade_id
        == "0c357886-b9d3-44bb-9aa9-72d8abc90e6e:" + payload["maker_orders"][0]["order_id"]
    )
    assert fill.venue_order_id.startswith("0x6dd169f8")
    assert fill.side is Side.SELL and fill.liquidity == "maker"  # the taker bought
    assert fill.size == Decimal(5) and fill.price == Decimal("0.489")
    assert fill.fee_usd == 0  # taker-only schedule
    address = "0x1bfdf7224c358405a486b5fd8489f13c2adcb5f3"  # case differs from the wire
    assert PO.parse_trade(payload, fees=CRYPTO_FEES, maker_address=address) == [fill]
    assert PO.parse_trade(payload, fees=CRYPTO_FEES, owner="someone-else") == []
    with pytest.raises(DataError, match="maker trade needs owner or maker_address"):
        PO.parse_trade(payload, fees=CRYPTO_FEES)


def test_maker_on_complementary_token_trades_the_same_way() -> None:
    payload = load("clob_data_trade_object.json")
    payload["trader_side"] = "MAKER"
    payload["maker_orders"][0]["asset_id"] = (
        "48331043336612883890938759509493159234755048973500640148014422747788308965732"
    )
    (fill,) = PO.parse_trade(payload, fees=FREE, owner="62880c97-4a03-c6fa-2665-e6072ffc6ae6")
    assert fill.side is Side.BUY and fill.token_id.startswith("4833104333")


def test_trades_page_and_fee_lookup() -> None:
    seen: list[str] = []

    def fees_for(token_id: str) -> FeeSchedule:
        seen.append(token_id)
        return CRYPTO_FEES

    fills, cursor = PO.parse_trades_page(load("clob_data_trades_page.json"), fees=fees_for)
    assert cursor is None
    (fill,) = fills
    assert fill.trade_id == "trade-0x001" and fill.ts == datetime(2024, 1, 1, tzinfo=UTC)
    assert fill.size == Decimal(10) and fill.fee_usd == Decimal("0.175")
    assert seen == [fill.token_id]


def test_failed_trade_is_no_fill() -> None:
    payload = load("clob_data_trade_object.json")
    payload["status"] = "FAILED"
    assert PO.parse_trade(payload, fees=FREE) == []


def test_post_order_answers() -> None:
    live = PO.parse_post_order_response(load("clob_post_order_response_live_docs.json"))
    assert live.accepted and live.status is OrderStatus.LIVE and live.reason is None
    assert live.venue_order_id == "0xabcdef1234567890abcdef1234567890abcdef12"
    matched = load("clob_post_order_response_matched.json")
    # Without the request "matched" could be partial: not terminal, the caller looks it up.
    assert PO.parse_post_order_response(matched).status is OrderStatus.PARTIALLY_FILLED
    fak = OrderRequest(
        "c1", "tok", Side.BUY, OrderType.FAK, Decimal("0.7"), None, amount_usd=Decimal(10)
    )
    assert PO.parse_post_order_response(matched, fak).status is OrderStatus.FILLED
    gtc = OrderRequest("c2", "tok", Side.BUY, OrderType.GTC, Decimal("0.7"), Decimal(20))
    assert PO.parse_post_order_response(matched, gtc).status is OrderStatus.PARTIALLY_FILLED
    small = OrderRequest("c3", "tok", Side.BUY, OrderType.GTC, Decimal("0.7"), Decimal("14.9"))
    assert PO.parse_post_order_response(matched, small).status is OrderStatus.FILLED
    mock = PO.parse_post_order_response(load("clob_post_order_response_matched_sdk_mock.json"))
    assert mock.venue_order_id is not None and mock.venue_order_id.startswith("0x23b45727")


@pytest.mark.parametrize(
    ("payload", "accepted", "status", "reason"),
    [
        (
            {
                "success": True,
                "status": "delayed",
                "errorMsg": "order match delayed due to market conditions",
                "orderID": "0x1",
            },
            True,
            OrderStatus.DELAYED,
            None,
        ),
        (
            {"success": True, "status": "unmatched", "orderID": "0x1"},
            True,
            OrderStatus.SUBMITTED,
            None,
        ),
        (
            {
                "success": False,
                "errorMsg": (
                    "order couldn't be fully filled. FOK orders are fully filled or killed."
                ),
                "orderID": "",
            },
            False,
            OrderStatus.REJECTED,
            ReasonCode.FOK_NOT_FILLED,
        ),
        (
            {
                "success": True,
                "errorMsg": "order is invalid. Price breaks minimum tick size rules",
                "status": "",
            },
            False,
            OrderStatus.REJECTED,
            ReasonCode.INVALID_ORDER_MIN_TICK_SIZE,
        ),
        (
            {
                "errorMsg": "post-only mode: only post-only orders and cancels are allowed",
                "orderID": "",
                "takingAmount": "",
                "makingAmount": "",
                "status": "",
                "success": False,
            },
            False,
            OrderStatus.REJECTED,
            ReasonCode.POST_ONLY_PERIOD,
        ),
        ({"success": False}, False, OrderStatus.REJECTED, ReasonCode.UNKNOWN_VENUE_ERROR),
    ],
)
def test_post_order_refusals_and_statuses(
    payload: dict[str, Any], accepted: bool, status: OrderStatus, reason: ReasonCode | None
) -> None:
    result = PO.parse_post_order_response(payload)
    assert (result.accepted, result.status, result.reason) == (accepted, status, reason)
    if not accepted:
        assert result.venue_order_id is None and result.message


def test_post_orders_batch() -> None:
    batch = [
        load("clob_post_order_response_live_docs.json"),
        {"success": False, "errorMsg": "not enough balance / allowance"},
    ]
    first, second = PO.parse_post_orders_response(batch)
    assert first.status is OrderStatus.LIVE
    assert second.reason is ReasonCode.NOT_ENOUGH_BALANCE


def test_cancel_and_balance() -> None:
    ok = PO.parse_cancel_response(load("clob_cancel_response_ok.json"))
    oid = "0xb816482a1234567890abcdef1234567890abcdef1234567890abcdef12345678"
    assert ok.canceled == (oid,) and ok.reason(oid) is None
    failed = PO.parse_cancel_response(load("clob_cancel_response_failed.json"))
    assert failed.canceled == () and failed.not_canceled[oid] == "already canceled or matched"
    assert failed.reason(oid) is ReasonCode.ORDER_NOT_CANCELABLE
    assert PO.parse_balance_usd(load("clob_balance_allowance.json")) == Decimal(1000)


# --- reasons -------------------------------------------------------------------------------


def test_error_fixture_reasons() -> None:
    rows = load("clob_error_responses.json")
    got = [reason_from_error(r["http_status"], r["body"]) for r in rows]
    assert got == [
        ReasonCode.NOT_ENOUGH_BALANCE,
        ReasonCode.INVALID_ORDER_MIN_SIZE,
        # "maker address not allowed, please use the deposit wallet flow"
        ReasonCode.INVALID_SIGNATURE,
        ReasonCode.INVALID_TOKEN,
        ReasonCode.INVALID_TOKEN,
    ]


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (
            "order 0x1 is invalid. Price (0.525) breaks minimum tick size rule: 0.01",
            ReasonCode.INVALID_ORDER_MIN_TICK_SIZE,
        ),
        (
            "order 0x1 is invalid. Size (1) lower than the minimum: 5",
            ReasonCode.INVALID_ORDER_MIN_SIZE,
        ),
        (
            "invalid amount for a marketable BUY order ($0.30), min size: $1",
            ReasonCode.INVALID_ORDER_MIN_SIZE,
        ),
        (
            "order couldn't be fully filled, FOK orders are fully filled/killed",
            ReasonCode.FOK_NOT_FILLED,
        ),
        (
            "no orders found to match with FAK order. "
            "FAK orders are partially filled or killed if no match is found.",
            ReasonCode.FOK_NOT_FILLED,
        ),
        ("the market is not yet ready to process new orders", ReasonCode.MARKET_NOT_READY),
        ("invalid post-only order: order crosses book", ReasonCode.POST_ONLY_WOULD_CROSS),
        ("order 0x1 crosses the book", ReasonCode.POST_ONLY_WOULD_CROSS),
        (
            "invalid post-only order: only GTC and GTD order types are allowed",
            ReasonCode.INVALID_ORDER,
        ),
        ("order 0x1 is invalid. Duplicated.", ReasonCode.DUPLICATE_ORDER),
        ("invalid expiration", ReasonCode.ORDER_EXPIRED),
        ("invalid signature", ReasonCode.INVALID_SIGNATURE),
        (
            "the order signer address has to be the address of the API KEY",
            ReasonCode.INVALID_SIGNATURE,
        ),
        ("the order owner has to be the owner of the API KEY", ReasonCode.INVALID_API_KEY),
        ("Unauthorized/Invalid api key", ReasonCode.INVALID_API_KEY),
        ("No orderbook exists for the requested token id", ReasonCode.INVALID_TOKEN),
        ("market not found", ReasonCode.INVALID_TOKEN),
        (
            "Trading is currently cancel-only. "
            "New orders are not accepted, but cancels are allowed.",
            ReasonCode.MARKET_CLOSED,
        ),
        ("Invalid orderID", ReasonCode.ORDER_NOT_FOUND),
        ("Invalid order payload", ReasonCode.INVALID_ORDER),
        ("the trade contains rounding issues", ReasonCode.INVALID_ORDER),
        ("could not insert order", ReasonCode.UNKNOWN_VENUE_ERROR),
        ("'0xabc' address banned", ReasonCode.UNKNOWN_VENUE_ERROR),
    ],
)
def test_reason_patterns(message: str, code: ReasonCode) -> None:
    assert reason_from_error(400, {"error": message}) is code


def test_reason_body_forms() -> None:
    assert (
        reason_from_error(400, b'{"error": "not enough balance / allowance"}')
        is ReasonCode.NOT_ENOUGH_BALANCE
    )
    assert reason_from_error(400, "not enough balance / allowance") is ReasonCode.NOT_ENOUGH_BALANCE
    assert (
        reason_from_error(503, {"error": "x", "code": "post_only_mode"})
        is ReasonCode.POST_ONLY_PERIOD
    )
    assert reason_from_error(401, None) is ReasonCode.INVALID_API_KEY
    assert reason_from_error(400, None) is ReasonCode.UNKNOWN_VENUE_ERROR
    assert (
        reason_from_error(400, {"error": {"nested": "FOK orders are filled or killed"}})
        is ReasonCode.FOK_NOT_FILLED
    )
    assert error_message('{"errorMsg": "a\\n b"}') == "a b"


# --- Data API ------------------------------------------------------------------------------


def test_data_trades_page() -> None:
    trades, cursor = parse_data_trades_page(load("data_v2_trades_page_envelope.json"))
    assert cursor is None and len(trades) == 3
    sell, buy, other = trades
    assert sell.side is Side.SELL and sell.size == Decimal("92.59") and sell.price == Decimal("0.7")
    assert sell.usd == Decimal("64.813") and sell.ts == ts(1786179735)
    assert sell.wallet == "0x1111111111111111111111111111111111111111"
    assert sell.condition_id == "0x" + "c" * 64 and sell.outcome == "T1"
    assert buy.price == Decimal("0.709999959") and buy.size == Decimal("1.464786")
    assert other.outcome == "Hanwha Life Esports" and other.token_id.endswith("0002")
    bare, none = parse_data_trades_page(load("data_v2_trades.json"))
    assert none is None and [t.side for t in bare] == [Side.BUY, Side.SELL]
    assert bare[0].usd == Decimal("48.7010")


def test_data_positions_and_v1_trades() -> None:
    positions, _ = parse_data_positions_page(
        {
            "data": load("data_v2_positions.json"),
            "pagination": {"has_more": True, "next_cursor": "abc"},
        }
    )
    assert _ == "abc"
    no, yes = positions
    assert (no.outcome, no.size, no.avg_price) == ("No", Decimal(400000), Decimal("0.5"))
    assert yes.current_price == Decimal("0.2455") and yes.current_value == Decimal(98200)
    assert yes.redeemable is False and yes.condition_id.startswith("0x7ad403c3")
    v1 = parse_data_v1_trades(load("data_v1_trades.json"))
    assert [t.side for t in v1] == [Side.SELL, Side.BUY, Side.BUY, Side.SELL]
    assert v1[0].usd == Decimal("5.3892") and v1[3].token_id.startswith("4833104333")
