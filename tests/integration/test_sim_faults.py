# mypy: disable-error-code="import-untyped"
"""Faults of `autotrader sim`, observed from the outside: statuses, headers, dropped connections,
orders placed although the answer was lost, engine-restart windows, the control endpoint."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from py_clob_client_v2 import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2, OrderType, PostOrdersV2Args
from py_clob_client_v2.config import get_contract_config
from py_clob_client_v2.exceptions import PolyApiException
from py_clob_client_v2.order_utils import ExchangeOrderBuilderV2
from py_clob_client_v2.order_utils.model.order_data_v2 import SignedOrderV2, order_to_json_v2

from autotrader.venue.polymarket import schemas as S
from harness.sim import DATA, SimProcess, clob_client, http_client, run_autotrader, serve_sim


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    yield from serve_sim("--seed", "5", "--speed", "0.01")


@pytest.fixture(scope="module")
def http(sim: SimProcess) -> Iterator[httpx.Client]:
    yield from http_client(sim)


@pytest.fixture(scope="module")
def clob(sim: SimProcess) -> ClobClient:
    return clob_client(sim)


@pytest.fixture(scope="module")
def token(http: httpx.Client) -> str:
    now = http.get("/time").json()
    market = http.get(f"/markets/slug/btc-updown-15m-{now // 900 * 900 + 1800}").json()
    return str(json.loads(market["clobTokenIds"])[0])


@pytest.fixture(autouse=True)
def no_faults_after(http: httpx.Client) -> Iterator[None]:
    yield
    set_faults(http, "none")


def set_faults(http: httpx.Client, spec: str, seed: int = 1) -> dict[str, Any]:
    r = http.post("/_sim/faults", json={"spec": spec, "seed": seed})
    assert r.status_code == 200, r.text
    return dict(r.json())


def resting_order(clob: ClobClient, token: str) -> SignedOrderV2:
    order = clob.create_order(OrderArgsV2(token_id=token, price=0.05, size=10, side="BUY"))
    assert isinstance(order, SignedOrderV2)
    return order


def order_hash(clob: ClobClient, order: SignedOrderV2) -> str:
    """The order's EIP-712 hash, computed by py-clob-client-v2's own builder."""
    builder = ExchangeOrderBuilderV2(get_contract_config(137).exchange_v2, 137, clob.signer)
    return str(builder.build_order_hash(builder.build_order_typed_data(order)))


def raw_post(
    http: httpx.Client, clob: ClobClient, order: SignedOrderV2, *, post_only: bool = False
) -> httpx.Response:
    """POST /order exactly as the client sends it, but answered raw (status, headers)."""
    assert clob.creds is not None
    payload = order_to_json_v2(order, clob.creds.api_key, OrderType.GTC, post_only)
    body = json.dumps(payload, separators=(",", ":"))
    headers = clob._l2_headers("POST", "/order", body=payload, serialized_body=body)
    return http.post("/order", content=body, headers=headers)


def signed_delete(http: httpx.Client, clob: ClobClient, path: str) -> httpx.Response:
    return http.delete(path, headers=clob._l2_headers("DELETE", path))


# --- one fault kind at a time -------------------------------------------------------------------


def test_429_carries_retry_after_and_spares_other_endpoints(
    http: httpx.Client, clob: ClobClient, token: str
) -> None:
    set_faults(http, "429:1,retry-after=7")
    r = signed_delete(http, clob, "/cancel-all")
    assert r.status_code == 429 and r.headers["retry-after"] == "7"
    assert S.ClobErrorBody.model_validate(r.json()).error == "Too Many Requests"
    assert http.get("/book", params={"token_id": token}).status_code == 200
    set_faults(http, "429:1,scope=all")
    assert http.get("/book", params={"token_id": token}).status_code == 429
    assert http.get("/ok").status_code == 429


@pytest.mark.parametrize("status", [425, 500])
def test_error_statuses(http: httpx.Client, clob: ClobClient, token: str, status: int) -> None:
    order = resting_order(clob, token)
    set_faults(http, f"{status}:1")
    r = raw_post(http, clob, order)
    assert r.status_code == status
    assert set(r.json()) == {"error"}
    set_faults(http, "none")
    assert clob.get_open_orders() == []  # refused before it reached the book


def test_drop_closes_the_connection_and_places_nothing(
    http: httpx.Client, clob: ClobClient, token: str
) -> None:
    order = resting_order(clob, token)
    set_faults(http, "drop:1")
    with pytest.raises(httpx.RemoteProtocolError):
        raw_post(http, clob, order)
    set_faults(http, "none")
    r = http.get(
        f"/data/order/{order_hash(clob, order)}",
        headers=clob._l2_headers("GET", f"/data/order/{order_hash(clob, order)}"),
    )
    assert r.status_code == 404
    assert clob.get_open_orders() == []


def test_lost_answer_but_the_order_is_placed(
    http: httpx.Client, clob: ClobClient, token: str
) -> None:
    order = resting_order(clob, token)
    expected_id = order_hash(clob, order)
    set_faults(http, "lost:1")
    with pytest.raises(httpx.RemoteProtocolError):
        raw_post(http, clob, order)
    set_faults(http, "none")
    placed = clob.get_order(expected_id)
    assert placed["status"] == "LIVE" and placed["asset_id"] == token
    assert [o["id"] for o in clob.get_open_orders()] == [expected_id]
    # Posting it again (the naive retry) is refused as a duplicate, not doubled.
    r = raw_post(http, clob, order)
    assert r.status_code == 400 and "Duplicated" in r.json()["error"]
    assert clob.cancel_all()["canceled"] == [expected_id]


def test_slow_holds_the_answer(http: httpx.Client, clob: ClobClient) -> None:
    set_faults(http, "slow:1,slow=2")
    with pytest.raises(httpx.ReadTimeout):
        http.delete("/cancel-all", timeout=0.2)
    answered = http.delete("/cancel-all", timeout=30)  # held too, then answered
    assert answered.status_code == 401


def test_control_endpoint_refuses_a_bad_spec(http: httpx.Client) -> None:
    set_faults(http, "429:0.5")
    r = http.post("/_sim/faults", json={"spec": "500:1,bogus"})
    assert r.status_code == 400 and "'bogus'" in r.json()["error"]
    assert http.get("/_sim/faults").json()["spec"] == "429:0.5"
    assert http.post("/_sim/faults", content=b"[").status_code == 400
    assert http.post("/_sim/faults", json={"spec": 5}).status_code == 400


def test_same_seed_same_faults(http: httpx.Client) -> None:
    def run() -> list[int]:
        set_faults(http, "429:0.3,500:0.3", seed=11)
        return [http.delete("/cancel-all").status_code for _ in range(30)]

    first = run()
    assert set(first) == {401, 429, 500}
    assert run() == first


def test_state_counts_injected_faults(http: httpx.Client) -> None:
    before = http.get("/_sim/state").json()["counts"].get("500", 0)
    set_faults(http, "500:1")
    for _ in range(3):
        http.delete("/cancel-all")
    state = http.get("/_sim/state").json()
    assert state["counts"]["500"] == before + 3
    assert state["spec"] == "500:1" and isinstance(state["time"], int)


# --- engine restart -------------------------------------------------------------------------------


def test_restart_window_425_then_post_only(
    http: httpx.Client, clob: ClobClient, token: str
) -> None:
    state = set_faults(http, "restart@+0:600:600")
    assert state["engine"] == "down"
    r = raw_post(http, clob, resting_order(clob, token))
    assert r.status_code == 425
    assert signed_delete(http, clob, "/cancel-all").status_code == 425
    assert http.get("/book", params={"token_id": token}).status_code == 200
    # 650 s after the start: 90 … the 425 part is over, 550 s of post-only remain.
    assert set_faults(http, "restart@-650:600:600")["engine"] == "post_only"
    r = raw_post(http, clob, resting_order(clob, token))
    assert r.status_code == 503
    body = S.ClobErrorBody.model_validate(r.json())
    assert body.error == "post-only mode: only post-only orders and cancels are allowed"
    assert body.code == "post_only_mode" and body.retry_after_seconds is not None
    assert 0 < int(r.headers["retry-after"]) <= 550
    with pytest.raises(PolyApiException) as info:
        clob.post_order(resting_order(clob, token))
    assert info.value.status_code == 503
    maker = raw_post(http, clob, resting_order(clob, token), post_only=True)
    assert maker.status_code == 200 and maker.json()["status"] == "live"
    batch = clob.post_orders(
        [PostOrdersV2Args(order=resting_order(clob, token), orderType=OrderType.GTC)]
    )
    assert batch[0]["errorMsg"] == body.error and batch[0]["orderID"] == ""
    cancelled = signed_delete(http, clob, "/cancel-all")  # cancels are allowed
    assert cancelled.status_code == 200
    assert cancelled.json()["canceled"] == [maker.json()["orderID"]]
    set_faults(http, "none")
    assert raw_post(http, clob, resting_order(clob, token)).status_code == 200
    clob.cancel_all()


# --- the --faults flag --------------------------------------------------------------------------


def test_faults_flag_applies_from_the_start() -> None:
    process = SimProcess("sim", "--data", str(DATA), "--faults", "500:1", "--seed", "2")
    try:
        with httpx.Client(base_url=process.url, timeout=30) as http:
            assert http.delete("/cancel-all").status_code == 500
            assert http.get("/time").status_code == 200
            assert http.get("/_sim/faults").json()["spec"] == "500:1"
    finally:
        assert process.stop(signal.SIGINT) == 0


def test_bad_spec_flag_is_one_line_naming_the_token() -> None:
    proc = run_autotrader("sim", "--data", str(DATA), "--faults", "425:0.1,oops:2")
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "'oops:2'" in lines[0], proc.stderr
