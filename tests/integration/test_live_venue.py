# mypy: disable-error-code="import-untyped"
"""The live venue (py-clob-client-v2 under PolymarketVenue) against a real simulator process.

The simulator is started as the demo starts it (``python -m autotrader sim --port 0 ...``); the
venue derives API credentials with a throwaway key, reads the current BTC window, trades on a
window a few hours ahead (still priced around 0.5 with the house book, and open for minutes of
real time at --speed 60), and meets the simulator's refusals and injected faults.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import stat
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from eth_account import Account

from autotrader.domain.markets import Market, btc_15m_slug, window_start
from autotrader.domain.orders import (
    OrderRequest,
    OrderStatus,
    OrderType,
    PreparedOrder,
    ReasonCode,
    Side,
)
from autotrader.venue.errors import AmbiguousSubmit, VenueUnavailable
from autotrader.venue.polymarket.clob import PolymarketVenue
from autotrader.venue.polymarket.credentials import API_CREDS_FILE, WalletKey
from harness.sim import DATA, SimProcess

T = TypeVar("T")


@pytest.fixture(scope="module")
def sim() -> Iterator[str]:
    """A simulator process; yields its base URL."""
    try:
        import autotrader.sim.server  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"the simulator server (autotrader.sim.server) cannot be imported yet: {exc}")
    process = SimProcess("sim", "--port", "0", "--data", str(DATA), "--speed", "60")
    try:
        yield process.url
    finally:
        process.close()


def _venue(url: str, state_dir: Path, key: WalletKey | None = None) -> PolymarketVenue:
    return PolymarketVenue(
        clob_url=url,
        gamma_url=url,
        key=key or WalletKey(Account.create().key.hex()),
        state_dir=state_dir,
        timeout_secs=5.0,
    )


def _run(url: str, state_dir: Path, scenario: Callable[[PolymarketVenue], Awaitable[T]]) -> T:
    async def main() -> T:
        venue = _venue(url, state_dir)
        try:
            return await scenario(venue)
        finally:
            await venue.aclose()

    return asyncio.run(main())


def _set_faults(url: str, spec: str) -> None:
    r = httpx.post(f"{url}/_sim/faults", json={"spec": spec, "seed": 1}, timeout=5)
    assert r.status_code == 200, r.text


@pytest.fixture
def faults(sim: str) -> Iterator[Callable[[str], None]]:
    yield lambda spec: _set_faults(sim, spec)
    _set_faults(sim, "none")


def _sim_now(url: str) -> int:
    return int(httpx.get(f"{url}/time", timeout=5).json())


async def _window_market(venue: PolymarketVenue, url: str, hours_ahead: int) -> Market:
    start = window_start(_sim_now(url)) + hours_ahead * 3600
    market = await venue.market_by_slug(btc_15m_slug(start))
    assert market is not None, f"no market for the window at {start}"
    return market


async def _until(what: str, probe: Callable[[], Awaitable[T | None]], secs: float = 20) -> T:
    deadline = time.monotonic() + secs
    while True:
        got = await probe()
        if got is not None:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def _limit(token: str, price: str, size: str, side: Side = Side.BUY, **kw: Any) -> OrderRequest:
    return OrderRequest(
        f"c-{time.monotonic_ns()}", token, side, OrderType.GTC, Decimal(price), Decimal(size), **kw
    )


# --- credentials and market data -------------------------------------------------------------


def test_credentials_are_derived_once_and_cached(sim: str, tmp_path: Path) -> None:
    key = WalletKey(Account.create().key.hex())

    async def scenario() -> tuple[Decimal, Decimal]:
        first = _venue(sim, tmp_path, key)
        try:
            balance = await first.balance_usd()
        finally:
            await first.aclose()
        second = _venue(sim, tmp_path, key)
        try:
            return balance, await second.balance_usd()
        finally:
            await second.aclose()

    first, second = asyncio.run(scenario())
    assert first == second == Decimal(1000)
    path = tmp_path / API_CREDS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    cached = json.loads(path.read_text())
    assert cached["address"] == key.address.lower() and cached["host"] == sim
    assert key.reveal()[2:] not in path.read_text()


def test_book_of_the_current_btc_window(sim: str, tmp_path: Path) -> None:
    async def scenario(venue: PolymarketVenue) -> None:
        market = await _window_market(venue, sim, 0)
        assert market.slug == btc_15m_slug(window_start(_sim_now(sim)))
        up = market.token("Up")
        book = await venue.book(up.token_id)
        assert book.token_id == up.token_id
        assert book.bids and book.asks and book.bids[0].price < book.asks[0].price
        assert book.bids == tuple(sorted(book.bids, key=lambda lv: lv.price, reverse=True))
        assert await venue.tick_size(up.token_id) == book.tick_size
        mid = await venue.midpoint(up.token_id)
        assert mid is not None and book.bids[0].price <= mid <= book.asks[0].price
        fees = await venue.fee_schedule(up.token_id)
        assert fees.rate > 0  # 15-minute crypto markets charge takers
        assert await venue.resolution(market) is None  # still trading
        now = datetime.fromtimestamp(_sim_now(sim), UTC)
        history = await venue.price_history(
            up.token_id, start=now - timedelta(hours=1), end=now, fidelity_mins=1
        )
        assert history and all(0 <= p <= 1 and t <= now for t, p in history)
        assert [t for t, _ in history] == sorted(t for t, _ in history)
        if market.event_slug:
            event = await venue.event_by_slug(market.event_slug)
            assert event is not None and market.id in [m.id for m in event.markets]

    _run(sim, tmp_path, scenario)


# --- orders ---------------------------------------------------------------------------------


def test_marketable_order_is_matched_and_reported_as_a_fill(sim: str, tmp_path: Path) -> None:
    async def scenario(venue: PolymarketVenue) -> None:
        since = datetime.fromtimestamp(_sim_now(sim), UTC) - timedelta(seconds=1)
        up = (await _window_market(venue, sim, 3)).token("Up")
        book = await venue.book(up.token_id)
        worst = book.asks[0].price + 2 * book.tick_size
        req = OrderRequest(
            "mkt-1", up.token_id, Side.BUY, OrderType.FOK, worst, None, amount_usd=Decimal(5)
        )
        prepared = await venue.prepare(req)
        assert re.fullmatch(r"0x[0-9a-f]{64}", prepared.venue_order_id)
        result = await venue.post(prepared)
        assert result.accepted, result
        assert result.venue_order_id == prepared.venue_order_id
        assert result.status in (OrderStatus.FILLED, OrderStatus.DELAYED)

        async def our_fills() -> list[Any] | None:
            fills = await venue.fills_since(since)
            mine = [f for f in fills if f.venue_order_id == prepared.venue_order_id]
            return mine or None

        fills = await _until("the fill in /data/trades", our_fills)
        assert all(f.liquidity == "taker" and f.side is Side.BUY for f in fills)
        assert all(f.token_id == up.token_id and f.price <= worst for f in fills)
        assert sum(f.price * f.size for f in fills) <= Decimal(5)
        assert all(f.fee_usd > 0 for f in fills)
        assert await venue.balance_usd() < Decimal(1000)

    _run(sim, tmp_path, scenario)


def test_resting_order_is_open_then_cancelled(sim: str, tmp_path: Path) -> None:
    async def scenario(venue: PolymarketVenue) -> None:
        up = (await _window_market(venue, sim, 3)).token("Up")
        prepared = await venue.prepare(_limit(up.token_id, "0.10", "10"))
        result = await venue.post(prepared)
        assert (result.accepted, result.status) == (True, OrderStatus.LIVE), result
        open_ids = [o.venue_order_id for o in await venue.open_orders()]
        assert prepared.venue_order_id in open_ids
        seen = await venue.order(prepared.venue_order_id)
        assert seen is not None and seen.status is OrderStatus.LIVE
        assert (seen.price, seen.original_size, seen.side) == (
            Decimal("0.10"),
            Decimal(10),
            Side.BUY,
        )
        assert await venue.cancel(prepared.venue_order_id) is True
        assert prepared.venue_order_id not in [o.venue_order_id for o in await venue.open_orders()]
        gone = await venue.order(prepared.venue_order_id)
        assert gone is None or gone.status is OrderStatus.CANCELED
        assert await venue.cancel(prepared.venue_order_id) is False

    _run(sim, tmp_path, scenario)


def test_cancel_all(sim: str, tmp_path: Path) -> None:
    async def scenario(venue: PolymarketVenue) -> None:
        up = (await _window_market(venue, sim, 3)).token("Up")
        ids = set()
        for price in ("0.11", "0.12"):
            prepared = await venue.prepare(_limit(up.token_id, price, "5"))
            assert (await venue.post(prepared)).accepted
            ids.add(prepared.venue_order_id)
        assert set(await venue.cancel_all()) == ids
        assert await venue.open_orders() == []

    _run(sim, tmp_path, scenario)


def test_tampered_signature_is_refused_with_the_real_message(sim: str, tmp_path: Path) -> None:
    async def scenario(venue: PolymarketVenue) -> None:
        up = (await _window_market(venue, sim, 3)).token("Up")
        prepared = await venue.prepare(_limit(up.token_id, "0.20", "10"))
        payload = prepared.payload
        bigger = str(int(payload.signed.takerAmount) * 2)  # twice the shares, same signature
        tampered = PreparedOrder(
            prepared.request,
            prepared.venue_order_id,
            dataclasses.replace(
                payload, signed=dataclasses.replace(payload.signed, takerAmount=bigger)
            ),
        )
        result = await venue.post(tampered)
        assert not result.accepted
        assert (result.reason, result.message) == (
            ReasonCode.INVALID_SIGNATURE,
            "invalid signature",
        )
        assert result.status is OrderStatus.REJECTED
        assert await venue.order(prepared.venue_order_id) is None

    _run(sim, tmp_path, scenario)


def test_tick_violation_is_refused_and_the_stale_tick_forgotten(sim: str, tmp_path: Path) -> None:
    async def scenario(venue: PolymarketVenue) -> None:
        up = (await _window_market(venue, sim, 3)).token("Up")
        assert await venue.tick_size(up.token_id) == Decimal("0.01")
        # As if a tick_size_change to 0.001 had been seen and the market had moved back since.
        venue.set_tick_size(up.token_id, Decimal("0.001"))
        prepared = await venue.prepare(_limit(up.token_id, "0.205", "10"))
        result = await venue.post(prepared)
        assert not result.accepted
        assert result.reason is ReasonCode.INVALID_ORDER_MIN_TICK_SIZE, result
        assert "tick size" in result.message
        assert venue.tokens.tick(up.token_id) is None
        assert await venue.tick_size(up.token_id) == Decimal("0.01")
        with pytest.raises(ValueError, match=r"not on the 0\.01 tick"):
            await venue.prepare(_limit(up.token_id, "0.205", "10"))

    _run(sim, tmp_path, scenario)


def test_venue_refusals_become_reason_codes(sim: str, tmp_path: Path) -> None:
    async def scenario(venue: PolymarketVenue) -> None:
        up = (await _window_market(venue, sim, 3)).token("Up")
        small = await venue.post(await venue.prepare(_limit(up.token_id, "0.10", "1")))
        assert (small.accepted, small.reason) == (False, ReasonCode.INVALID_ORDER_MIN_SIZE)
        rich = await venue.post(await venue.prepare(_limit(up.token_id, "0.50", "5000")))
        assert (rich.accepted, rich.reason) == (False, ReasonCode.NOT_ENOUGH_BALANCE)

    _run(sim, tmp_path, scenario)


# --- faults ---------------------------------------------------------------------------------


def test_lost_answer_is_ambiguous_and_the_order_is_found_by_hash(
    sim: str, tmp_path: Path, faults: Callable[[str], None]
) -> None:
    async def scenario(venue: PolymarketVenue) -> None:
        up = (await _window_market(venue, sim, 3)).token("Up")
        await venue.balance_usd()  # credentials derived before the faults start
        prepared = await venue.prepare(_limit(up.token_id, "0.13", "5"))
        faults("lost:1")
        with pytest.raises(AmbiguousSubmit) as err:
            await venue.post(prepared)
        assert err.value.venue_order_id == prepared.venue_order_id
        faults("none")
        found = await venue.order(prepared.venue_order_id)
        assert found is not None and found.status is OrderStatus.LIVE
        assert await venue.cancel(prepared.venue_order_id)

    _run(sim, tmp_path, scenario)


def test_dropped_and_failed_posts_are_ambiguous_not_retried(
    sim: str, tmp_path: Path, faults: Callable[[str], None]
) -> None:
    async def scenario(venue: PolymarketVenue) -> None:
        up = (await _window_market(venue, sim, 3)).token("Up")
        await venue.balance_usd()
        for spec in ("drop:1", "500:1"):
            prepared = await venue.prepare(_limit(up.token_id, "0.14", "5"))
            faults(spec)
            with pytest.raises(AmbiguousSubmit):
                await venue.post(prepared)
            faults("none")
            # The simulator refused before placing it; one POST only, so nothing was doubled.
            assert await venue.order(prepared.venue_order_id) is None

    _run(sim, tmp_path, scenario)


def test_post_timeout_is_ambiguous_and_the_late_order_is_found_by_hash(
    sim: str, tmp_path: Path, faults: Callable[[str], None]
) -> None:
    async def scenario() -> None:
        venue = PolymarketVenue(
            clob_url=sim,
            gamma_url=sim,
            key=WalletKey(Account.create().key.hex()),
            state_dir=tmp_path,
            timeout_secs=0.3,
        )
        try:
            up = (await _window_market(venue, sim, 3)).token("Up")
            await venue.balance_usd()
            prepared = await venue.prepare(_limit(up.token_id, "0.16", "5"))
            faults("slow:1, slow=1.5")  # held 1.5 s, then placed: the answer comes too late
            with pytest.raises(AmbiguousSubmit) as err:
                await venue.post(prepared)
            assert err.value.cause == "timeout"
            faults("none")

            async def placed() -> Any:
                return await venue.order(prepared.venue_order_id)

            found = await _until("the late order", placed)
            assert found.status is OrderStatus.LIVE
            assert await venue.cancel(prepared.venue_order_id)
        finally:
            await venue.aclose()

    asyncio.run(scenario())


def test_throttle_and_engine_restart_are_retryable(
    sim: str, tmp_path: Path, faults: Callable[[str], None]
) -> None:
    async def scenario(venue: PolymarketVenue) -> None:
        up = (await _window_market(venue, sim, 3)).token("Up")
        await venue.balance_usd()
        prepared = await venue.prepare(_limit(up.token_id, "0.15", "5"))
        faults("429:1, retry-after=3")
        with pytest.raises(VenueUnavailable) as err:
            await venue.post(prepared)
        assert (err.value.kind, err.value.status) == ("throttled", 429)
        assert err.value.retry_after_secs is not None
        faults("restart@+0:3600:3600")
        with pytest.raises(VenueUnavailable) as err:
            await venue.post(prepared)
        assert err.value.kind == "engine_restart"
        faults("429:1, scope=all")
        with pytest.raises(VenueUnavailable) as err:
            await venue.book(up.token_id)
        assert err.value.kind == "throttled"
        faults("none")
        assert await venue.order(prepared.venue_order_id) is None

    _run(sim, tmp_path, scenario)


def test_unreachable_venue_is_a_connection_error_not_ambiguous(tmp_path: Path) -> None:
    with socket_closed_port() as url:

        async def scenario(venue: PolymarketVenue) -> None:
            token = "1" * 70
            with pytest.raises(VenueUnavailable) as err:
                await venue.book(token)
            assert err.value.kind == "connection"
            req = _limit(token, "0.50", "5", tick_size=Decimal("0.01"), neg_risk=False)
            with pytest.raises(VenueUnavailable):
                await venue.prepare(req)  # /version is read first: still nothing sent

        _run(url, tmp_path, scenario)


class socket_closed_port:
    """A URL on 127.0.0.1 where nothing listens (the port was bound, then released)."""

    def __enter__(self) -> str:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        return None


def test_key_never_appears_in_logs_or_reprs(
    sim: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = WalletKey(Account.create().key.hex())

    async def scenario() -> str:
        venue = _venue(sim, tmp_path, key)
        try:
            await venue.balance_usd()
            up = (await _window_market(venue, sim, 3)).token("Up")
            prepared = await venue.prepare(_limit(up.token_id, "0.10", "1"))
            return repr(prepared) + repr(await venue.post(prepared)) + repr(venue.__dict__)
        finally:
            await venue.aclose()

    with caplog.at_level("DEBUG"):
        text = asyncio.run(scenario())
    secret = key.reveal()[2:]
    assert secret not in text and secret not in caplog.text


# --- offline: signing and hashing through the real client, no simulator --------------------


class _Builder:
    """The two ClobClient calls build_signed makes, on the client's real OrderBuilder."""

    def __init__(self) -> None:
        from py_clob_client_v2.order_builder.builder import OrderBuilder
        from py_clob_client_v2.signer import Signer

        self.builder = OrderBuilder(Signer(Account.create().key.hex(), 137))

    def _options(self, o: Any) -> Any:
        from py_clob_client_v2.clob_types import CreateOrderOptions

        return CreateOrderOptions(tick_size=o.tick_size, neg_risk=o.neg_risk)

    def create_order(self, args: Any, options: Any) -> Any:
        return self.builder.build_order(args, self._options(options), version=options.version)

    def create_market_order(self, args: Any, options: Any) -> Any:
        return self.builder.build_market_order(args, self._options(options), version=2)


@pytest.mark.parametrize(("tick", "step"), [(Decimal("0.01"), 1), (Decimal("0.001"), 7)])
def test_signed_amounts_match_the_decimal_intent_across_prices(tick: Decimal, step: int) -> None:
    # py-clob-client-v2 floors market prices in floats (0.57 -> 0.56): this fails without the
    # workaround in clob_orders. Every 0.01 price, every 7th 0.001 price (signing is ~3 ms).
    from autotrader.venue.polymarket.clob_orders import build_signed

    client, unit = _Builder(), Decimal(10) ** 6
    for i in range(1, int(1 / tick), step):
        price = tick * i
        for side in Side:
            limit = _limit("1", str(price), "7.31", side)
            signed = build_signed(client, limit, price=price, tick=tick, neg_risk=False, version=2)
            shares, usd = Decimal("7.31") * unit, Decimal("7.31") * price * unit
            amounts = (Decimal(signed.makerAmount), Decimal(signed.takerAmount))
            assert amounts == ((usd, shares) if side is Side.BUY else (shares, usd))
            kw: dict[str, Any] = {"size": Decimal("7.31")}
            if side is Side.BUY:
                kw = {"size": None, "amount_usd": Decimal("5.17")}
            market = OrderRequest("m", "1", side, OrderType.FOK, price, **kw)
            signed = build_signed(client, market, price=price, tick=tick, neg_risk=False, version=2)
            maker, taker = int(signed.makerAmount), int(signed.takerAmount)
            implied = Decimal(maker) / taker if side is Side.BUY else Decimal(taker) / maker
            assert abs(implied - price) < tick / 2, (price, side)


def test_prepare_hash_is_the_clients_and_the_simulators(tmp_path: Path) -> None:
    from py_clob_client_v2.config import get_contract_config
    from py_clob_client_v2.order_utils.exchange_order_builder_v2 import ExchangeOrderBuilderV2
    from py_clob_client_v2.order_utils.model.order_data_v2 import OrderV2

    from autotrader.sim.auth import verify_order

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/version", "prepare must not touch anything else"
        return httpx.Response(200, json={"version": 2})

    async def scenario() -> None:
        venue = PolymarketVenue(
            clob_url="http://clob.invalid",
            gamma_url="http://gamma.invalid",
            key=WalletKey(Account.create().key.hex()),
            state_dir=tmp_path,
            clob_transport=httpx.MockTransport(answer),
        )
        try:
            for neg_risk in (False, True):
                req = _limit(
                    "123456789", "0.57", "10", tick_size=Decimal("0.01"), neg_risk=neg_risk
                )
                prepared = await venue.prepare(req)
                signed = prepared.payload.signed
                cfg = get_contract_config(137)
                contract = cfg.neg_risk_exchange_v2 if neg_risk else cfg.exchange_v2
                xb = ExchangeOrderBuilderV2(contract, 137, venue._client.signer)
                fields = {k: v for k, v in vars(signed).items() if k != "signature"}
                expected = xb.build_order_hash(xb.build_order_typed_data(OrderV2(**fields)))
                assert prepared.venue_order_id == expected
                signer, sim_hash = verify_order(prepared.payload.wire, 137, neg_risk)
                assert (signer, sim_hash) == (venue.address, expected)
        finally:
            await venue.aclose()

    asyncio.run(scenario())
