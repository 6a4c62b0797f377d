# mypy: disable-error-code="import-untyped"
"""The simulator's CLOB authentication against what the real py-clob-client-v2 produces.

Every header and order here is made by the client's own signing functions (offline, with a
throwaway key generated per test), so a check that drifts from the client fails here.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from py_clob_client_v2.clob_types import (
    ApiCreds,
    CreateOrderOptions,
    MarketOrderArgsV2,
    OrderArgsV2,
    RequestArgs,
)
from py_clob_client_v2.config import get_contract_config
from py_clob_client_v2.headers.headers import create_level_1_headers, create_level_2_headers
from py_clob_client_v2.order_builder.builder import OrderBuilder
from py_clob_client_v2.order_utils.exchange_order_builder_v2 import ExchangeOrderBuilderV2
from py_clob_client_v2.order_utils.model.order_data_v2 import OrderV2, order_to_json_v2
from py_clob_client_v2.signer import Signer

from autotrader.sim.auth import (
    L1_INVALID,
    L2_INVALID,
    ORDER_INVALID_PAYLOAD,
    ORDER_INVALID_SIGNATURE,
    ORDER_OWNER_MISMATCH,
    ORDER_SIGNER_MISMATCH,
    AuthError,
    SimAuth,
    derive_api_creds,
    hmac_signature,
    verify_l1,
    verify_l2,
    verify_order,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "polymarket"
TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
TS = 1_763_000_000


def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def signer() -> Signer:
    return Signer("0x" + Account.create().key.hex().removeprefix("0x"), 137)


def _client_creds(address: str) -> ApiCreds:
    c = derive_api_creds(address)
    return ApiCreds(api_key=c.api_key, api_secret=c.secret, api_passphrase=c.passphrase)


def _signed_order(
    signer: Signer, *, neg_risk: bool = False, side: str = "BUY", funder: str | None = None
) -> dict[str, Any]:
    builder = OrderBuilder(signer, signature_type=1 if funder else None, funder=funder)
    args = OrderArgsV2(token_id=TOKEN, price=0.47, size=12.5, side=side)
    order = builder.build_order(args, CreateOrderOptions(tick_size="0.01", neg_risk=neg_risk))
    return order_to_json_v2(order, "owner-key", "GTC")["order"]  # type: ignore[no-any-return]


def _client_hash(order: dict[str, Any], signer: Signer, neg_risk: bool) -> str:
    cfg = get_contract_config(137)
    contract = cfg.neg_risk_exchange_v2 if neg_risk else cfg.exchange_v2
    xb = ExchangeOrderBuilderV2(contract, 137, signer)
    fields = {f.name for f in dataclasses.fields(OrderV2)}
    raw = {k: v for k, v in order.items() if k in fields}
    raw["side"] = 0 if raw["side"] == "BUY" else 1
    raw["salt"] = str(raw["salt"])
    return str(xb.build_order_hash(xb.build_order_typed_data(OrderV2(**raw))))


# --- L2 HMAC ---------------------------------------------------------------------------------


def test_fixture_hmac_vector_verifies() -> None:
    v = _fixture("clob_auth_test_vectors.json")["l2_hmac"]
    got = hmac_signature(v["secret"], v["timestamp"], v["method"], v["request_path"], v["body"])
    assert got == v["expected_signature"]


def test_derived_creds_have_the_real_shape_and_are_stable(signer: Signer) -> None:
    real = _fixture("clob_api_key_response.json")
    creds = derive_api_creds(signer.address())
    wire = creds.to_wire()
    assert set(wire) == set(real)
    assert uuid.UUID(wire["apiKey"])
    assert len(base64.urlsafe_b64decode(wire["secret"])) == len(
        base64.urlsafe_b64decode(real["secret"])
    )
    assert re.fullmatch(r"[0-9a-f]{64}", wire["passphrase"])
    assert derive_api_creds(signer.address().lower()) == creds
    assert derive_api_creds(signer.address(), nonce=1) != creds
    assert creds.secret not in repr(creds)
    other = SimAuth(b"another server").derive_api_creds(signer.address())
    assert other.api_key != creds.api_key


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/data/orders", None),
        ("DELETE", "/cancel-all", None),
        ("POST", "/order", '{"order":{"salt":1,"side":"BUY"},"owner":"k","orderType":"GTC"}'),
        ("DELETE", "/order", '{"orderID":"0xabc"}'),
    ],
)
def test_client_l2_headers_verify(signer: Signer, method: str, path: str, body: str | None) -> None:
    args = RequestArgs(method=method, request_path=path, body=body, serialized_body=body)
    headers = create_level_2_headers(signer, _client_creds(signer.address()), args, timestamp=TS)
    address, api_key = verify_l2(headers, method, path + "?next_cursor=MA==", body, now=TS + 5)
    assert address == signer.address()
    assert api_key == derive_api_creds(signer.address()).api_key


def _l2(signer: Signer, body: str = '{"orderID":"0xabc"}') -> dict[str, str]:
    args = RequestArgs(method="DELETE", request_path="/order", body=body, serialized_body=body)
    return dict(create_level_2_headers(signer, _client_creds(signer.address()), args, timestamp=TS))


@pytest.mark.parametrize(
    ("change", "method", "path", "body"),
    [
        ({}, "DELETE", "/order", '{"orderID":"0xabd"}'),  # body tampered
        ({}, "POST", "/order", '{"orderID":"0xabc"}'),  # method
        ({}, "DELETE", "/orders", '{"orderID":"0xabc"}'),  # path
        ({}, "DELETE", "/order", None),  # body dropped
        ({"POLY_TIMESTAMP": str(TS + 1)}, "DELETE", "/order", '{"orderID":"0xabc"}'),
        ({"POLY_API_KEY": str(uuid.uuid4())}, "DELETE", "/order", '{"orderID":"0xabc"}'),
        ({"POLY_PASSPHRASE": "0" * 64}, "DELETE", "/order", '{"orderID":"0xabc"}'),
        ({"POLY_SIGNATURE": ""}, "DELETE", "/order", '{"orderID":"0xabc"}'),
        ({"POLY_ADDRESS": "0x" + "11" * 20}, "DELETE", "/order", '{"orderID":"0xabc"}'),
    ],
)
def test_tampered_l2_is_refused(
    signer: Signer, change: dict[str, str], method: str, path: str, body: str | None
) -> None:
    headers = {**_l2(signer), **change}
    with pytest.raises(AuthError) as err:
        verify_l2(headers, method, path, body)
    assert (err.value.message, err.value.http_status) == (L2_INVALID, 401)
    assert err.value.body() == {"error": "Unauthorized/Invalid api key"}


def test_l2_header_names_are_case_insensitive_and_stale_timestamps_refused(signer: Signer) -> None:
    headers = {k.lower().replace("_", "-"): v for k, v in _l2(signer).items()}
    assert verify_l2(headers, "DELETE", "/order", '{"orderID":"0xabc"}')[0] == signer.address()
    with pytest.raises(AuthError, match="Invalid api key"):
        verify_l2(_l2(signer), "DELETE", "/order", '{"orderID":"0xabc"}', now=TS + 3600)


def test_l2_body_is_signed_with_single_quotes_replaced(signer: Signer) -> None:
    body = """{"note":"it's"}"""
    args = RequestArgs(method="POST", request_path="/order", body=body, serialized_body=body)
    headers = create_level_2_headers(signer, _client_creds(signer.address()), args, timestamp=TS)
    assert verify_l2(headers, "POST", "/order", body)[0] == signer.address()


def test_nonzero_nonce_creds_verify_on_the_same_instance(signer: Signer) -> None:
    auth = SimAuth()
    c = auth.derive_api_creds(signer.address(), nonce=7)
    creds = ApiCreds(api_key=c.api_key, api_secret=c.secret, api_passphrase=c.passphrase)
    args = RequestArgs(method="GET", request_path="/data/trades")
    headers = create_level_2_headers(signer, creds, args, timestamp=TS)
    assert auth.verify_l2(headers, "GET", "/data/trades", None) == (signer.address(), c.api_key)


# --- L1 ClobAuth -----------------------------------------------------------------------------


def test_fixture_clob_auth_vector_verifies() -> None:
    v = _fixture("clob_auth_test_vectors.json")["l1_clob_auth_eip712"]
    address = Account.from_key(v["private_key"]).address
    headers = {
        "POLY_ADDRESS": address,
        "POLY_SIGNATURE": v["expected_signature"],
        "POLY_TIMESTAMP": str(v["timestamp"]),
        "POLY_NONCE": str(v["nonce"]),
    }
    assert SimAuth(chain_id=v["chain_id"]).verify_l1(headers) == address
    with pytest.raises(AuthError, match=L1_INVALID):
        verify_l1(headers)  # signed for chain 80002, checked as Polygon


def test_client_l1_headers_verify(signer: Signer) -> None:
    headers = create_level_1_headers(signer, nonce=3, timestamp=TS)
    assert verify_l1(headers, now=TS - 10) == signer.address()
    assert SimAuth().l1_nonce(headers) == 3


@pytest.mark.parametrize(
    "change",
    [
        {"POLY_TIMESTAMP": str(TS + 1)},
        {"POLY_NONCE": "4"},
        {"POLY_ADDRESS": "0x" + "22" * 20},
        {"POLY_SIGNATURE": "0x" + "ab" * 65},
        {"POLY_SIGNATURE": "0x" + "00" * 64 + "1b"},
        {"POLY_SIGNATURE": "0x" + "ff" * 64 + "1c"},
        {"POLY_SIGNATURE": "nonsense"},
        {"POLY_NONCE": "-1"},
    ],
)
def test_tampered_l1_is_refused(signer: Signer, change: dict[str, str]) -> None:
    headers = {**create_level_1_headers(signer, nonce=3, timestamp=TS), **change}
    with pytest.raises(AuthError) as err:
        verify_l1(headers)
    assert (err.value.message, err.value.http_status) == (L1_INVALID, 401)


def test_l1_outside_the_clock_window_is_refused(signer: Signer) -> None:
    headers = create_level_1_headers(signer, nonce=0, timestamp=TS)
    with pytest.raises(AuthError, match=L1_INVALID):
        verify_l1(headers, now=TS + 301)


# --- orders ----------------------------------------------------------------------------------


@pytest.mark.parametrize("neg_risk", [False, True])
@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_client_signed_v2_order_verifies_with_the_clients_hash(
    signer: Signer, neg_risk: bool, side: str
) -> None:
    order = _signed_order(signer, neg_risk=neg_risk, side=side)
    got_signer, got_hash = verify_order(order, 137, neg_risk)
    assert got_signer == signer.address()
    assert got_hash == _client_hash(order, signer, neg_risk)
    assert re.fullmatch(r"0x[0-9a-f]{64}", got_hash)


def test_market_order_and_proxy_wallet_order_verify(signer: Signer) -> None:
    builder = OrderBuilder(signer)
    args = MarketOrderArgsV2(token_id=TOKEN, amount=10, side="BUY", price=0.55)
    market = builder.build_market_order(args, CreateOrderOptions(tick_size="0.01", neg_risk=False))
    assert verify_order(order_to_json_v2(market, "k", "FOK")["order"])[0] == signer.address()
    funder = "0x" + "ab" * 20
    proxy = _signed_order(signer, funder=funder)
    assert proxy["maker"].lower() == funder and proxy["signatureType"] == 1
    assert verify_order(proxy)[0] == signer.address()


def test_v1_order_is_understood(signer: Signer) -> None:
    from py_clob_client_v2.clob_types import OrderArgsV1
    from py_clob_client_v2.order_utils.model.order_data_v1 import order_to_json_v1

    args = OrderArgsV1(token_id=TOKEN, price=0.3, size=10, side="SELL")
    opts = CreateOrderOptions(tick_size="0.01", neg_risk=False)
    order = OrderBuilder(signer).build_order(args, opts, version=1, fee_rate_bps=0)
    assert verify_order(order_to_json_v1(order, "k", "GTC")["order"])[0] == signer.address()


def _flip_side(o: dict[str, Any]) -> None:
    o["side"] = "SELL" if o["side"] == "BUY" else "BUY"


def _flip_signature(o: dict[str, Any]) -> None:
    sig = o["signature"]
    o["signature"] = sig[:10] + ("0" if sig[10] != "0" else "1") + sig[11:]


TAMPERS: dict[str, Any] = {
    "price (makerAmount)": lambda o: o.update(makerAmount=str(int(o["makerAmount"]) - 10_000)),
    "size (takerAmount)": lambda o: o.update(takerAmount=str(int(o["takerAmount"]) + 1_000_000)),
    "tokenId": lambda o: o.update(tokenId=str(int(o["tokenId"]) + 1)),
    "side": _flip_side,
    "signature": _flip_signature,
    "timestamp": lambda o: o.update(timestamp=str(int(o["timestamp"]) + 1)),
    "salt": lambda o: o.update(salt=o["salt"] + 1),
    "maker": lambda o: o.update(maker="0x" + "33" * 20),
    "signatureType": lambda o: o.update(signatureType=2),
    # Off-curve or malformed r/s/v: eth_keys raises its own BadSignature, not a ValueError.
    "signature r=s=0": lambda o: o.update(signature="0x" + "00" * 64 + "1b"),
    "signature r=n": lambda o: o.update(signature="0x" + "ff" * 32 + o["signature"][66:]),
    "signature v=29": lambda o: o.update(signature=o["signature"][:-2] + "1d"),
    "signature too short": lambda o: o.update(signature=o["signature"][:-2]),
}


@pytest.mark.parametrize("field", sorted(TAMPERS))
def test_tampered_order_is_refused(signer: Signer, field: str) -> None:
    order = _signed_order(signer)
    TAMPERS[field](order)
    with pytest.raises(AuthError) as err:
        verify_order(order)
    assert (err.value.message, err.value.http_status) == (ORDER_INVALID_SIGNATURE, 400)


def test_order_signed_for_the_other_exchange_is_refused(signer: Signer) -> None:
    with pytest.raises(AuthError, match=ORDER_INVALID_SIGNATURE):
        verify_order(_signed_order(signer, neg_risk=False), 137, True)
    with pytest.raises(AuthError, match=ORDER_INVALID_SIGNATURE):
        verify_order(_signed_order(signer), 80002, False)


def test_order_signed_by_another_key_is_refused(signer: Signer) -> None:
    order = _signed_order(signer)
    other = Signer(Account.create().key.hex(), 137)
    order["signature"] = _signed_order(other)["signature"]
    with pytest.raises(AuthError, match=ORDER_INVALID_SIGNATURE):
        verify_order(order)


def test_fixture_v2_order_parses_but_its_dummy_signature_is_refused() -> None:
    with pytest.raises(AuthError) as err:
        verify_order(_fixture("clob_post_order_request_v2_order.json"))
    assert err.value.message == ORDER_INVALID_SIGNATURE


@pytest.mark.parametrize(
    "change",
    [
        {"salt": "x"},
        {"maker": "0x12"},
        {"tokenId": -1},
        {"side": "HOLD"},
        {"signature": None},
        {"metadata": "0x00"},
        {"makerAmount": 1.5},
        {"signatureType": 9},
        {"timestamp": True},
    ],
)
def test_malformed_order_is_an_invalid_payload(signer: Signer, change: dict[str, Any]) -> None:
    with pytest.raises(AuthError) as err:
        verify_order({**_signed_order(signer), **change})
    assert (err.value.message, err.value.http_status) == (ORDER_INVALID_PAYLOAD, 400)
    with pytest.raises(AuthError, match=ORDER_INVALID_PAYLOAD):
        verify_order("not an object")  # type: ignore[arg-type]


def test_order_owner_and_signer_must_be_the_api_keys(signer: Signer) -> None:
    auth = SimAuth()
    key = auth.derive_api_creds(signer.address()).api_key
    body = {"order": _signed_order(signer), "owner": key, "orderType": "GTC"}
    auth.check_order_owner(body, signer.address(), key)
    with pytest.raises(AuthError, match=ORDER_OWNER_MISMATCH):
        auth.check_order_owner({**body, "owner": "someone"}, signer.address(), key)
    with pytest.raises(AuthError, match=ORDER_SIGNER_MISMATCH):
        auth.check_order_owner(body, "0x" + "44" * 20, key)
