"""Fuzzing every Polymarket parser: malformed payloads give one DataError, never a crash.

Two kinds of input: arbitrary JSON values, and the recorded fixtures with random damage
(keys dropped, values swapped for wrong-typed ones, lists truncated, deep fields changed) —
the second reaches the field-level code the first rarely gets past validation to.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autotrader.domain.fees import FeeSchedule
from autotrader.domain.orders import OrderRequest, OrderType, ReasonCode, Side
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
FEES = FeeSchedule(rate=Decimal("0.07"))
OWNER = "62880c97-4a03-c6fa-2665-e6072ffc6ae6"
GTC = OrderRequest("c", "t", Side.BUY, OrderType.GTC, Decimal("0.5"), Decimal(10))


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


# Each parser with the fixture(s) it reads.
PARSERS: dict[str, tuple[Callable[[Any], object], tuple[str, ...]]] = {
    "gamma_market": (
        P.parse_gamma_market,
        (
            "gamma_market_btc_updown_15m.json",
            "gamma_market_btc_updown_5m_twap_subset.json",
            "gamma_market_btc_updown_5m_with_nested_event.json",
        ),
    ),
    "gamma_markets": (P.parse_gamma_markets, ()),
    "gamma_events": (P.parse_gamma_events, ("gamma_events_negrisk_multimarket.json",)),
    "gamma_event": (P.parse_gamma_event, ()),
    "book": (P.parse_book, ("clob_book.json", "clob_book_2024.json", "ws_market_book.json")),
    "books": (P.parse_books, ()),
    "price": (P.parse_price, ("clob_price.json",)),
    "prices": (P.parse_prices, ("clob_prices_batch.json",)),
    "midpoint": (P.parse_midpoint, ("clob_midpoint.json",)),
    "spread": (P.parse_spread, ("clob_spread.json",)),
    "tick_size": (P.parse_tick_size, ("clob_tick_size.json",)),
    "neg_risk": (P.parse_neg_risk, ("clob_neg_risk.json",)),
    "fee_rate": (P.parse_fee_rate_bps, ("clob_fee_rate.json",)),
    "last_trade_price": (P.parse_last_trade_price, ("clob_last_trade_price.json",)),
    "time": (P.parse_server_time, ("clob_time.json",)),
    "ok": (P.parse_ok, ("clob_ok.json",)),
    "prices_history": (P.parse_prices_history, ("clob_prices_history.json",)),
    "clob_market_info": (
        P.parse_clob_market_info,
        ("clob_clob_markets_fee_bearing.json", "clob_clob_markets_fee_free.json"),
    ),
    "clob_market": (P.parse_clob_market, ("clob_market_by_condition_id.json",)),
    "market_by_token": (P.parse_market_by_token, ()),
    "order": (PO.parse_order, ("ws_user_order_placement.json", "ws_user_order_fok_killed.json")),
    "orders_page": (PO.parse_orders_page, ("clob_data_orders_page.json",)),
    "trade_taker": (
        lambda p: PO.parse_trade(p, fees=FEES),
        ("clob_data_trade_object.json", "ws_user_trade.json"),
    ),
    "trade_maker": (
        lambda p: (
            PO.parse_trade({**p, "trader_side": "MAKER"}, fees=FEES, owner=OWNER)
            if isinstance(p, dict)
            else PO.parse_trade(p, fees=FEES, owner=OWNER)
        ),
        ("clob_data_trade_object.json",),
    ),
    "trades_page": (
        lambda p: PO.parse_trades_page(p, fees=lambda _t: FEES, maker_address="0xabc"),
        ("clob_data_trades_page.json",),
    ),
    "post_order": (
        PO.parse_post_order_response,
        (
            "clob_post_order_response_live_docs.json",
            "clob_post_order_response_matched.json",
            "clob_post_order_response_matched_sdk_mock.json",
        ),
    ),
    "post_order_with_request": (
        lambda p: PO.parse_post_order_response(p, GTC),
        ("clob_post_order_response_matched.json",),
    ),
    "post_orders": (PO.parse_post_orders_response, ()),
    "cancel": (
        PO.parse_cancel_response,
        ("clob_cancel_response_ok.json", "clob_cancel_response_failed.json"),
    ),
    "balance": (PO.parse_balance_usd, ("clob_balance_allowance.json",)),
    "data_trades": (
        parse_data_trades_page,
        ("data_v2_trades_page_envelope.json", "data_v2_trades.json"),
    ),
    "data_positions": (parse_data_positions_page, ("data_v2_positions.json",)),
    "data_v1_trades": (parse_data_v1_trades, ("data_v1_trades.json",)),
}

# Field names from the real payloads, so random objects sometimes look like the real thing.
KEYS = sorted(
    {
        "id", "slug", "question", "conditionId", "outcomes", "outcomePrices", "clobTokenIds",
        "closed", "acceptingOrders", "feeSchedule", "events", "eventMetadata", "markets",
        "asset_id", "market", "timestamp", "bids", "asks", "price", "size", "tick_size",
        "status", "side", "original_size", "size_matched", "maker_orders", "trader_side",
        "success", "errorMsg", "orderID", "data", "next_cursor", "pagination", "t", "mts", "fd",
    }
)  # fmt: skip
ODD_STRINGS = [
    "", "0", "1", "-1", "0.5", "1.5", "1e400", "1e-400", "NaN", "Infinity", "[]", '["a"]',
    '["1","0"]', "[1, 2", "LTE=", "BUY", "sell", "MAKER", "TAKER", "LIVE", "MATCHED",
    "CANCELED_x", "FAILED", "matched", "delayed", "1726043102", "1726043102000",
    "2026-01-01T00:00:00Z", "2026-13-01T00:00:00Z", "Up", "Down",
]  # fmt: skip

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(ODD_STRINGS)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=25,
)


def mutate(data: st.DataObject, value: Any, depth: int = 0) -> Any:
    """``value`` with one random change somewhere inside it."""
    if isinstance(value, dict) and value and depth < 6:
        key = data.draw(st.sampled_from(sorted(value)))
        action = data.draw(st.sampled_from(["delete", "replace", "deeper", "deeper"]))
        out = dict(value)
        if action == "delete":
            del out[key]
        elif action == "replace":
            out[key] = data.draw(json_values)
        else:
            out[key] = mutate(data, value[key], depth + 1)
        return out
    if isinstance(value, list) and value and depth < 6:
        action = data.draw(st.sampled_from(["truncate", "deeper", "deeper", "append"]))
        if action == "truncate":
            return value[: data.draw(st.integers(0, len(value) - 1))]
        if action == "append":
            return [*value, data.draw(json_values)]
        i = data.draw(st.integers(0, len(value) - 1))
        return [*value[:i], mutate(data, value[i], depth + 1), *value[i + 1 :]]
    return data.draw(json_values)


def only_data_errors(parser: Callable[[Any], object], payload: Any) -> None:
    try:
        parser(payload)
    except DataError as exc:
        text = str(exc)
        assert text and "\n" not in text, text
        assert text.split(":")[0].strip(), text  # names the payload kind


FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("name", sorted(PARSERS))
@FUZZ
@given(payload=json_values)
def test_random_json(name: str, payload: Any) -> None:
    only_data_errors(PARSERS[name][0], payload)


WITH_FIXTURES = sorted(n for n, (_, files) in PARSERS.items() if files)


@pytest.mark.parametrize("name", WITH_FIXTURES)
@FUZZ
@given(data=st.data())
def test_damaged_fixtures(name: str, data: st.DataObject) -> None:
    parser, files = PARSERS[name]
    payload = load(data.draw(st.sampled_from(files)))
    for _ in range(data.draw(st.integers(1, 3))):
        payload = mutate(data, payload)
    only_data_errors(parser, payload)


@pytest.mark.parametrize("name", ["gamma_markets", "gamma_event", "books", "post_orders"])
@FUZZ
@given(data=st.data())
def test_damaged_fixture_lists(name: str, data: st.DataObject) -> None:
    # The list-taking parsers get lists of damaged fixture items.
    source = {
        "gamma_markets": "gamma_market_btc_updown_15m.json",
        "gamma_event": "gamma_events_negrisk_multimarket.json",
        "books": "clob_book_2024.json",
        "post_orders": "clob_post_order_response_live_docs.json",
    }[name]
    item = load(source)
    item = item[0] if isinstance(item, list) else item
    payload: Any = item if name == "gamma_event" else [item, item]
    payload = mutate(data, payload)
    only_data_errors(PARSERS[name][0], payload)


@FUZZ
@given(status=st.integers(100, 599), body=json_values | st.binary(max_size=40))
def test_reason_from_error_never_raises(status: int, body: Any) -> None:
    assert isinstance(reason_from_error(status, body), ReasonCode)
    assert "\n" not in error_message(body)


def test_fixtures_parse_unharmed() -> None:
    # The harness itself: undamaged fixtures go through every parser without error.
    for parser, files in PARSERS.values():
        for name in files:
            parser(load(name))
