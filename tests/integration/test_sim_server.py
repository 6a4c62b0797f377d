# mypy: disable-error-code="import-untyped"
"""`autotrader sim` as a real subprocess: every endpoint in the real wire shapes.

Responses are validated against the wire schemas (autotrader.venue.polymarket.schemas) and
compared with the fixture files' keys and key order; the CLOB is driven by the real
py-clob-client-v2 (its own L1/L2 headers and order signing) with a throwaway key.
"""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from py_clob_client_v2 import ClobClient
from py_clob_client_v2.clob_types import (
    ApiCreds,
    BalanceAllowanceParams,
    BookParams,
    CreateOrderOptions,
    MarketOrderArgsV2,
    OpenOrderParams,
    OrderArgsV2,
    OrderPayload,
    OrderType,
    PostOrdersV2Args,
    TradeParams,
)
from py_clob_client_v2.exceptions import PolyApiException
from pydantic import BaseModel

from autotrader.venue.polymarket import schemas as S
from harness.sim import DATA, REPO, SimProcess, clob_client, http_client, run_autotrader, serve_sim

FIXTURES = REPO / "tests" / "fixtures" / "polymarket"


# --- the simulator process ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    # Slow simulated time: the house re-quotes every 5 simulated seconds, and the tests compare
    # several reads of one book.
    yield from serve_sim("--seed", "3", "--speed", "0.01")


@pytest.fixture(scope="module")
def http(sim: SimProcess) -> Iterator[httpx.Client]:
    yield from http_client(sim)


@pytest.fixture(scope="module")
def clob(sim: SimProcess) -> ClobClient:
    return clob_client(sim)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def valid(model: type[BaseModel], payload: Any) -> Any:
    return model.model_validate(payload)


def keys_in_fixture_order(got: dict[str, Any], fixture_obj: dict[str, Any]) -> None:
    """Every fixture key is present, and the shared keys come in the fixture's order."""
    missing = [k for k in fixture_obj if k not in got]
    assert not missing, f"missing keys {missing}"
    assert [k for k in got if k in fixture_obj] == list(fixture_obj)


def when(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def tradable_window(http: httpx.Client, ahead: int = 2) -> dict[str, Any]:
    """The BTC window ``ahead`` windows from now: listed, taking orders, far from its end."""
    now = http.get("/time").json()
    slug = f"btc-updown-15m-{now // 900 * 900 + 900 * ahead}"
    market = http.get(f"/markets/slug/{slug}").json()
    assert market["acceptingOrders"] is True, market
    return dict(market)


def up_token(market: dict[str, Any]) -> str:
    return str(json.loads(market["clobTokenIds"])[0])


# --- health, time, version ------------------------------------------------------------------------


def test_health_time_and_version(http: httpx.Client) -> None:
    for path in ("/", "/ok"):
        r = http.get(path)
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert valid(S.ClobOk, r.json()).root == "OK"
    first = valid(S.ClobTime, http.get("/time").json()).root
    # Simulated time started at the first candle of the file (2026-02-21T14:26Z).
    assert 1_771_683_960 <= first < 1_771_683_960 + 3 * 86_400
    assert http.get("/version").json() == {"version": 2}


# --- Gamma ----------------------------------------------------------------------------------------


def test_gamma_market_shape_matches_the_fixture(http: httpx.Client) -> None:
    markets = http.get("/markets", params={"limit": 500}).json()
    assert len(markets) > 50
    ref = fixture("gamma_market_btc_updown_15m.json")
    # Only the up/down windows have an eventStartTime (the window start).
    other = {k: v for k, v in ref.items() if k != "eventStartTime"}
    for m in markets:
        parsed = valid(S.GammaMarket, m)
        keys_in_fixture_order(m, ref if m["slug"].startswith("btc-updown-15m-") else other)
        for key in ("outcomes", "outcomePrices", "clobTokenIds"):
            assert isinstance(m[key], str) and len(json.loads(m[key])) == 2
        assert isinstance(m["liquidity"], str) and isinstance(m["volume"], str)
        assert isinstance(m["volumeNum"], int | float)
        assert isinstance(m["orderPriceMinTickSize"], int | float)
        assert parsed.closed is False
        assert m["outcomes"] in ('["Up", "Down"]', '["Yes", "No"]')
    btc = [m for m in markets if m["slug"].startswith("btc-updown-15m-")]
    assert len(btc) >= 90  # a window every 15 minutes for about a day ahead
    fee = btc[0]["feeSchedule"]
    assert (fee["rate"], fee["exponent"], fee["takerOnly"]) == (0.07, 1, True)
    assert btc[0]["events"][0]["slug"] == btc[0]["slug"]


def test_markets_hide_closed_unless_closed_true(http: httpx.Client) -> None:
    closed = http.get("/markets", params={"closed": "true", "limit": 500}).json()
    assert closed and all(m["closed"] is True for m in closed)
    done = next(m for m in closed if m["slug"].startswith("btc-updown-15m-"))
    assert json.loads(done["outcomePrices"]) in (["1", "0"], ["0", "1"])
    meta = done["events"][0]["eventMetadata"]
    assert {"priceToBeat", "finalPrice"} <= set(meta)
    # By slug in the list: hidden without closed=true; the by-slug path always answers.
    assert http.get("/markets", params={"slug": done["slug"]}).json() == []
    again = http.get("/markets", params={"slug": done["slug"], "closed": "true"}).json()
    assert [m["id"] for m in again] == [done["id"]]
    one = http.get(f"/markets/slug/{done['slug']}").json()
    assert one["closed"] is True and one["id"] == done["id"]
    assert http.get(f"/markets/{done['id']}").json()["slug"] == done["slug"]
    # Events follow the same rule.
    assert http.get("/events", params={"slug": done["slug"]}).json() == []
    event = http.get("/events", params={"slug": done["slug"], "closed": "true"}).json()
    assert len(event) == 1 and event[0]["closed"] is True


def test_gamma_filters_and_paging(http: httpx.Client) -> None:
    politics = http.get("/markets", params={"tag_slug": "politics", "include_tag": "true"}).json()
    assert politics
    assert all("politics" in [t["slug"] for t in m["tags"]] for m in politics)
    tag_id = politics[0]["tags"][0]["id"]
    by_id = http.get("/markets", params={"tag_id": tag_id}).json()
    assert {m["id"] for m in by_id} == {m["id"] for m in politics}
    tag = valid(S.GammaTag, http.get("/tags/slug/politics").json())
    assert (tag.slug, tag.id) == ("politics", tag_id)
    assert http.get("/tags/slug/no-such-tag").status_code == 404
    rich = http.get("/markets", params={"volume_num_min": "100000", "limit": 500}).json()
    assert all(Decimal(m["volume"]) >= 100_000 for m in rich)
    everything = http.get("/markets", params={"limit": 500}).json()
    assert len(rich) < len(everything)
    cutoff = everything[10]["endDate"]
    early = http.get("/markets", params={"end_date_max": cutoff, "limit": 500}).json()
    assert early and all(when(m["endDate"]) <= when(cutoff) for m in early)
    assert len(early) < len(everything)
    page = http.get("/markets", params={"limit": 5, "offset": 3}).json()
    assert [m["id"] for m in page] == [m["id"] for m in everything[3:8]]
    top = http.get("/markets", params={"order": "volumeNum", "limit": 3}).json()
    volumes = [m["volumeNum"] for m in top]
    assert volumes == sorted(volumes, reverse=True)
    ranked = sorted(everything, key=lambda m: m["volumeNum"], reverse=True)
    assert [m["id"] for m in top] == [m["id"] for m in ranked[:3]]
    for bad in ({"closed": "maybe"}, {"limit": "x"}, {"end_date_min": "yesterday"}):
        r = http.get("/markets", params=bad)
        assert r.status_code == 400 and set(r.json()) == {"error"}


def test_gamma_events(http: httpx.Client) -> None:
    market = tradable_window(http)
    events = http.get("/events", params={"slug": market["slug"]}).json()
    assert len(events) == 1
    event = events[0]
    parsed = valid(S.GammaEvent, event)
    assert parsed.markets[0].condition_id == market["conditionId"]
    assert event["series"][0]["slug"] == "btc-up-or-down-15m"
    ref = fixture("gamma_events_negrisk_multimarket.json")[0]
    common = [k for k in ref if k in event]
    assert [k for k in event if k in ref] == common
    assert {"id", "slug", "title", "markets", "tags", "closed", "volume"} <= set(common)
    assert http.get(f"/events/{event['id']}").json()["slug"] == market["slug"]
    assert http.get(f"/events/slug/{market['slug']}").json()["id"] == event["id"]
    assert http.get("/events/slug/no-such-event").status_code == 404
    assert http.get("/markets/slug/no-such-market").json() == {"error": "market not found"}


# --- CLOB market data -----------------------------------------------------------------------------


def test_book_is_worst_first_like_the_real_one(http: httpx.Client) -> None:
    token = up_token(tradable_window(http))
    book = http.get("/book", params={"token_id": token}).json()
    assert list(book) == list(fixture("clob_book.json"))
    parsed = valid(S.ClobBook, book)
    bids = [Decimal(level["price"]) for level in book["bids"]]
    asks = [Decimal(level["price"]) for level in book["asks"]]
    assert bids == sorted(bids) and asks == sorted(asks, reverse=True)
    assert bids[-1] < asks[-1]  # the best levels are the last ones
    assert all(isinstance(level["size"], str) for level in book["bids"] + book["asks"])
    assert parsed.tick_size == Decimal("0.01") and parsed.min_order_size == 5
    # /price?side=BUY answers the best bid (the quirk), SELL the best ask.
    buy = http.get("/price", params={"token_id": token, "side": "BUY"}).json()
    sell = http.get("/price", params={"token_id": token, "side": "SELL"}).json()
    assert Decimal(valid(S.ClobPrice, buy).price) == bids[-1]
    assert Decimal(valid(S.ClobPrice, sell).price) == asks[-1]
    mid = valid(S.ClobMidpoint, http.get("/midpoint", params={"token_id": token}).json())
    assert mid.mid == (bids[-1] + asks[-1]) / 2
    spread = valid(S.ClobSpread, http.get("/spread", params={"token_id": token}).json())
    assert spread.spread == asks[-1] - bids[-1]
    books = http.post("/books", json=[{"token_id": token}, {"token_id": "1"}]).json()
    assert [b["asset_id"] for b in books] == [token]
    prices = http.post("/prices", json=[{"token_id": token, "side": "BUY"}]).json()
    assert valid(S.ClobPricesBatch, prices).root == {token: {"BUY": bids[-1]}}
    assert isinstance(prices[token]["BUY"], float)


def test_market_parameters(http: httpx.Client) -> None:
    market = tradable_window(http)
    token, cid = up_token(market), market["conditionId"]
    q = {"token_id": token}
    tick = http.get("/tick-size", params=q).json()
    assert tick == {"minimum_tick_size": "0.01"} and valid(S.ClobTickSize, tick)
    assert valid(S.ClobNegRisk, http.get("/neg-risk", params=q).json()).neg_risk is False
    assert http.get("/fee-rate", params=q).json() == {"base_fee": 1000}
    last = valid(S.ClobLastTradePrice, http.get("/last-trade-price", params=q).json())
    assert last.price is None  # no trade yet in this window
    info = http.get(f"/clob-markets/{cid}").json()
    parsed = valid(S.ClobMarketInfo, info)
    assert list(info) == list(fixture("clob_clob_markets_fee_bearing.json"))
    assert [t.token_id for t in parsed.tokens] == json.loads(market["clobTokenIds"])
    assert parsed.fee_details is not None and parsed.fee_details.rate == Decimal("0.07")
    by_token = valid(S.ClobMarketByToken, http.get(f"/markets-by-token/{token}").json())
    assert by_token.condition_id == cid
    clob_market = http.get(f"/markets/{cid}").json()
    assert valid(S.ClobMarket, clob_market).tokens[0].token_id == token
    keys_in_fixture_order(clob_market, fixture("clob_market_by_condition_id.json"))
    now = http.get("/time").json()
    history = http.get(
        "/prices-history",
        params={"market": token, "startTs": now - 3600, "endTs": now, "fidelity": 5},
    ).json()
    points = valid(S.ClobPricesHistory, history).history
    assert points and all(0 <= p.p <= 1 for p in points)
    assert all(isinstance(p["t"], int) for p in history["history"])


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "message"),
    [
        ("GET", "/book", {}, 400, "Invalid token id"),
        ("GET", "/book?token_id=abc", {}, 400, "Invalid token id"),
        ("GET", "/book?token_id=42", {}, 404, "No orderbook exists for the requested token id"),
        ("GET", "/price?token_id=42&side=UP", {}, 400, "Invalid side"),
        ("POST", "/books", {"content": b"{not json"}, 400, "Invalid payload"),
        ("POST", "/prices", {"json": {"token_id": "1"}}, 400, "Invalid payload"),
        ("GET", "/tick-size?token_id=42", {}, 404, "market not found"),
        ("GET", "/fee-rate?token_id=42", {}, 404, "fee rate not found for market"),
        ("GET", "/clob-markets/0x12", {}, 400, "Invalid market"),
        ("GET", "/prices-history?market=42", {}, 400, None),
        ("GET", "/no/such/route", {}, 404, "not found"),
        ("PUT", "/book", {}, 405, None),
        ("POST", "/order", {"content": b"\xff\xfe"}, 401, "Unauthorized/Invalid api key"),
    ],
)
def test_public_errors_have_the_real_shape(
    http: httpx.Client,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    message: str | None,
) -> None:
    r = http.request(method, path, **kwargs)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/json"
    body = valid(S.ClobErrorBody, r.json())
    assert set(r.json()) == {"error"}
    if message is not None:
        assert body.error == message
    # The connection survives a refusal (keep-alive).
    assert http.get("/ok").json() == "OK"


# --- trading through py-clob-client-v2 --------------------------------------------------------


def test_credentials_are_derived_consistently(http: httpx.Client, clob: ClobClient) -> None:
    assert clob.creds is not None
    assert clob.derive_api_key() == clob.creds
    assert clob.create_api_key() == clob.creds
    raw = http.get("/auth/derive-api-key", headers=clob._l1_headers()).json()
    assert list(raw) == list(fixture("clob_api_key_response.json"))
    assert valid(S.ClobApiKey, raw).api_key == clob.creds.api_key


def test_marketable_order_is_matched_and_listed_in_trades(
    http: httpx.Client, clob: ClobClient
) -> None:
    market = tradable_window(http)
    token = up_token(market)
    book = clob.get_order_book(token)
    assert (
        book["asks"][-1]["price"]
        == http.get("/price", params={"token_id": token, "side": "SELL"}).json()["price"]
    )
    res = clob.create_and_post_market_order(
        MarketOrderArgsV2(token_id=token, amount=5, side="BUY"), order_type=OrderType.FOK
    )
    parsed = valid(S.ClobPostOrderResponse, res)
    keys_in_fixture_order(res, fixture("clob_post_order_response_matched.json"))
    assert parsed.success and parsed.status == "matched" and parsed.trade_ids
    assert parsed.making_amount == 5 and parsed.taking_amount is not None
    assert parsed.transactions_hashes
    trades = clob.get_trades(TradeParams(id=parsed.trade_ids[0]))
    assert [t["id"] for t in trades] == parsed.trade_ids[:1]
    trade = valid(S.ClobTrade, trades[0])
    keys_in_fixture_order(trades[0], fixture("clob_data_trade_object.json"))
    assert trade.taker_order_id == parsed.order_id and trade.trader_side == "TAKER"
    assert trade.price == Decimal(book["asks"][-1]["price"])
    page = http.get(
        "/v2/trades", params={"user": clob.get_address(), "market": market["conditionId"]}
    ).json()
    rows = valid(S.DataV2TradesPage, page)
    assert rows.data and rows.data[0].token_id == token
    assert list(page["pagination"]) == ["limit", "offset", "has_more", "next_cursor"]
    everyone = http.get("/v2/trades", params={"market": market["conditionId"]}).json()
    assert clob.get_address().lower() in [row["proxy_wallet"] for row in everyone["data"]]
    big = {"user": clob.get_address(), "filter_type": "CASH", "filter_amount": "1000"}
    assert http.get("/v2/trades", params=big).json()["data"] == []
    positions = valid(
        S.DataV2PositionsPage, http.get("/v2/positions", params={"user": clob.get_address()}).json()
    )
    assert any(p.token_id == token and p.current_size > 0 for p in positions.data or [])
    held = clob.get_balance_allowance(
        BalanceAllowanceParams(asset_type="CONDITIONAL", token_id=token)
    )
    assert valid(S.ClobBalanceAllowance, held).balance == trade.size * 1_000_000
    cash = clob.get_balance_allowance(BalanceAllowanceParams(asset_type="COLLATERAL"))
    assert isinstance(cash["balance"], str) and int(cash["balance"]) < 1000 * 10**6


def test_resting_order_can_be_cancelled(http: httpx.Client, clob: ClobClient) -> None:
    token = up_token(tradable_window(http))
    res = clob.create_and_post_order(OrderArgsV2(token_id=token, price=0.05, size=10, side="BUY"))
    assert res["status"] == "live" and res["success"] is True
    order_id = res["orderID"]
    open_orders = clob.get_open_orders(OpenOrderParams(asset_id=token))
    assert order_id in [o["id"] for o in open_orders]
    mine = next(o for o in open_orders if o["id"] == order_id)
    keys_in_fixture_order(mine, fixture("clob_data_orders_page.json")["data"][0])
    order = valid(S.ClobOrder, clob.get_order(order_id))
    assert (order.status, order.price, order.original_size) == ("LIVE", Decimal("0.05"), 10)
    cancel = clob.cancel_order(OrderPayload(orderID=order_id))
    assert cancel == {"canceled": [order_id], "not_canceled": {}}
    assert valid(S.ClobCancelResponse, cancel)
    again = clob.cancel_order(OrderPayload(orderID=order_id))
    assert again["canceled"] == [] and order_id in again["not_canceled"]
    assert order_id not in [o["id"] for o in clob.get_open_orders()]
    assert clob.get_order(order_id)["status"] == "CANCELED"


def test_open_orders_page_with_next_cursor(http: httpx.Client, clob: ClobClient) -> None:
    token = up_token(tradable_window(http, ahead=3))
    posted = []
    for _ in range(7):
        batch = [
            PostOrdersV2Args(
                order=clob.create_order(
                    OrderArgsV2(token_id=token, price=0.01, size=5, side="BUY")
                ),
                orderType=OrderType.GTC,
            )
            for _ in range(15)
        ]
        posted += [r["orderID"] for r in clob.post_orders(batch) if r["success"]]
    assert len(posted) == 105
    listed = clob.get_open_orders(OpenOrderParams(asset_id=token))
    assert sorted(o["id"] for o in listed) == sorted(posted)
    headers = clob._l2_headers("GET", "/data/orders")  # the client's own L2 signing
    first = http.get("/data/orders", params={"asset_id": token}, headers=headers).json()
    assert len(first["data"]) == 100 and first["next_cursor"] != "LTE="
    valid(S.ClobOrdersPage, first)
    headers = clob._l2_headers("GET", "/data/orders")
    rest = http.get(
        "/data/orders",
        params={"asset_id": token, "next_cursor": first["next_cursor"]},
        headers=headers,
    ).json()
    assert len(rest["data"]) == 5 and rest["next_cursor"] == "LTE="
    cancelled = clob.cancel_all()
    assert sorted(cancelled["canceled"]) == sorted(posted)


def test_refusals_carry_the_real_messages(
    sim: SimProcess, http: httpx.Client, clob: ClobClient
) -> None:
    token = up_token(tradable_window(http))
    # A bad HMAC: the right key, the wrong secret.
    assert clob.creds is not None
    forged = ClobClient(sim.url, chain_id=137, key=clob.signer.private_key)
    forged.set_api_creds(
        ApiCreds(
            clob.creds.api_key,
            "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=",
            clob.creds.api_passphrase,
        )
    )
    with pytest.raises(PolyApiException) as bad_hmac:
        forged.get_open_orders()
    assert bad_hmac.value.status_code == 401
    assert bad_hmac.value.error_msg == {"error": "Unauthorized/Invalid api key"}
    # L1 headers signed by another key than the address they claim.
    headers = clob._l1_headers()
    headers["POLY_ADDRESS"] = Account.create().address
    r = http.get("/auth/derive-api-key", headers=headers)
    assert (r.status_code, r.json()) == (401, {"error": "Invalid L1 Request headers"})
    # An order whose amounts were changed after signing.
    order = clob.create_order(OrderArgsV2(token_id=token, price=0.05, size=10, side="BUY"))
    order.makerAmount = str(int(order.makerAmount) + 10_000)
    with pytest.raises(PolyApiException) as bad_sig:
        clob.post_order(order)
    assert (bad_sig.value.status_code, bad_sig.value.error_msg) == (
        400,
        {"error": "invalid signature"},
    )
    # A price off the market's 0.01 grid, built with a finer tick than the market's.
    off_tick = clob.builder.build_order(
        OrderArgsV2(token_id=token, price=0.055, size=10, side="BUY"),
        CreateOrderOptions(tick_size="0.001", neg_risk=False),
    )
    with pytest.raises(PolyApiException) as tick:
        clob.post_order(off_tick)
    assert tick.value.status_code == 400
    assert re.fullmatch(
        r"order 0x[0-9a-f]{64} is invalid\. Price \(0\.055\) breaks minimum tick size rule: 0\.01",
        tick.value.error_msg["error"],
    ), tick.value.error_msg
    # Too small a resting order.
    with pytest.raises(PolyApiException) as small:
        clob.create_and_post_order(OrderArgsV2(token_id=token, price=0.05, size=2, side="BUY"))
    assert "lower than the minimum: 5" in small.value.error_msg["error"]


def test_books_for_both_outcomes_mirror_each_other(http: httpx.Client, clob: ClobClient) -> None:
    market = tradable_window(http)
    up, down = json.loads(market["clobTokenIds"])
    books = clob.get_order_books([BookParams(token_id=up), BookParams(token_id=down)])
    assert [b["asset_id"] for b in books] == [up, down]
    up_book, down_book = books
    assert Decimal(up_book["bids"][-1]["price"]) + Decimal(down_book["asks"][-1]["price"]) == 1


# --- the command line ---------------------------------------------------------------------------


def test_config_supplies_the_shared_clock_and_the_candles(tmp_path: Path) -> None:
    config = tmp_path / "autotrader.yaml"
    config.write_text(
        "state_dir: ./state\n"
        "clock: {speed: 60, start: '2026-02-21T16:00:00Z'}\n"
        f"feeds: {{btc: {{sources: [replay], replay: {{path: '{DATA}'}}}}}}\n"
    )
    process = SimProcess("--config", str(config), "sim", "--port", "0")
    try:
        now = httpx.get(f"{process.url}/time", timeout=30).json()
        start = 1_771_689_600  # 2026-02-21T16:00:00Z
        assert start <= now < start + 86_400
        anchor = json.loads((tmp_path / "state" / "clock.json").read_text())
        assert (anchor["start"], anchor["speed"]) == (start, 60)
    finally:
        assert process.stop(signal.SIGINT) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("sim",), "give --data CANDLES.csv"),
        (("sim", "--data", "/no/such/file.csv"), "/no/such/file.csv"),
        (("sim", "--data", str(DATA), "--speed", "0"), "--speed must be > 0"),
        (("sim", "--data", str(DATA), "--initial-balance", "lots"), "--initial-balance"),
    ],
)
def test_bad_arguments_are_one_line(args: tuple[str, ...], message: str) -> None:
    proc = run_autotrader(*args)
    assert proc.returncode in (1, 2) and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
