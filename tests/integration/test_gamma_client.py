"""GammaClient, BtcWindows and DataApiClient against a local HTTP server serving real payloads.

The fake Gamma keeps Gamma's semantics that matter here: /markets hides closed markets unless
``closed=true``, filters by numeric ``tag_id`` (a tag slug is looked up at /tags/slug/{slug}),
pages by limit/offset; /markets/slug/{slug} finds closed markets too. Errors and not-yet-ready
markets are scripted per path.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from autotrader.clock import FakeClock
from autotrader.domain.markets import MarketQuery, Window
from autotrader.domain.orders import ReasonCode, Side
from autotrader.errors import DataError, TemporaryError
from autotrader.venue.errors import VenueRefused, VenueUnavailable
from autotrader.venue.polymarket.data_api import DataApiClient
from autotrader.venue.polymarket.gamma import GammaClient
from autotrader.venue.polymarket.windows import BtcWindows, MarketNotReady
from harness.feeds import QuietHandler, serve_http

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "polymarket"
T0 = 1767200400  # window start of gamma_market_btc_updown_15m.json
T = TypeVar("T")

pytestmark = pytest.mark.timeout(60)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def window_market(start: int, **changes: Any) -> dict[str, Any]:
    """The recorded 15-minute market, moved to the window starting at ``start``."""
    m: dict[str, Any] = load("gamma_market_btc_updown_15m.json")
    m.update(
        id=str(start),
        slug=f"btc-updown-15m-{start}",
        conditionId=f"0x{start:064x}",
        clobTokenIds=json.dumps([f"{start}1", f"{start}2"]),
        eventStartTime=datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        endDate=datetime.fromtimestamp(start + 900, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    m.update(changes)
    return m


Reply = tuple[int, bytes, dict[str, str]]


class FakeGamma:
    """Gamma + Data API state, scripted answers, and a log of what was asked."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.markets: list[dict[str, Any]] = []
        self.events = load("gamma_events_negrisk_multimarket.json")
        self.tags = {"crypto": {"id": "21", "label": "Crypto", "slug": "crypto"}}
        self.market_tags: dict[str, list[str]] = {}
        self.scripted: dict[str, list[Reply | None]] = {}  # path → answers, last one repeats
        self.pages: dict[str, dict[str, Any]] = {}  # data api path → {cursor: page}
        self.requests: list[tuple[str, dict[str, list[str]]]] = []

    def script(self, path: str, *answers: Reply | dict[str, Any] | None) -> None:
        """Answer ``path`` with these in turn (a dict is a 200 JSON body, None a hang)."""
        replies = [(200, json.dumps(a).encode(), {}) if isinstance(a, dict) else a for a in answers]
        with self.lock:
            self.scripted[path] = replies

    def asked(self, path: str) -> list[dict[str, list[str]]]:
        with self.lock:
            return [q for p, q in self.requests if p == path]

    def answer(self, path: str, query: dict[str, list[str]]) -> Reply | None:
        with self.lock:
            self.requests.append((path, query))
            script = self.scripted.get(path)
            if script:
                return script.pop(0) if len(script) > 1 else script[0]
        return self.route(path, query)

    def route(self, path: str, query: dict[str, list[str]]) -> Reply:
        one = {k: v[0] for k, v in query.items()}
        parts = path.strip("/").split("/")
        found: Any = None
        if parts[:2] == ["markets", "slug"]:
            found = next((m for m in self.markets if m["slug"] == parts[2]), None)
        elif parts[0] == "markets" and len(parts) == 2:
            found = next((m for m in self.markets if m["id"] == parts[1]), None)
        elif path == "/markets":
            found = self.list_markets(one)
        elif parts[:2] == ["events", "slug"]:
            found = next((e for e in self.events if e["slug"] == parts[2]), None)
        elif parts[0] == "events" and len(parts) == 2:
            found = next((e for e in self.events if e["id"] == parts[1]), None)
        elif path == "/events":
            found = [e for e in self.events if one.get("tag_slug") in (None, *_slugs(e))]
        elif parts[:2] == ["tags", "slug"]:
            found = self.tags.get(parts[2])
        elif path in self.pages:
            found = self.pages[path].get(one.get("cursor", ""))
        if found is None:
            return 404, b'{"type":"not found error","error":"id not found"}', {}
        return 200, json.dumps(found).encode(), {}

    def list_markets(self, q: dict[str, str]) -> list[dict[str, Any]]:
        # Gamma's quirk: without closed=true, closed markets are hidden.
        closed = q.get("closed", "false") == "true"
        rows = [m for m in self.markets if m["closed"] == closed]
        if "tag_id" in q:
            rows = [m for m in rows if q["tag_id"] in self.market_tags.get(m["id"], [])]
        if "volume_num_min" in q:
            rows = [m for m in rows if Decimal(str(m["volumeNum"])) >= Decimal(q["volume_num_min"])]
        offset, limit = int(q.get("offset", 0)), int(q.get("limit", 100))
        return rows[offset : offset + limit]


def _slugs(event: dict[str, Any]) -> list[str]:
    return [t["slug"] for t in event.get("tags", [])]


@contextmanager
def fake_gamma() -> Iterator[tuple[FakeGamma, str]]:
    state = FakeGamma()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            reply = state.answer(url.path, parse_qs(url.query))
            if reply is None:  # a hang: hold the request until the test ends
                state.release.wait(10)
                return
            status, body, headers = reply
            self.reply(status, body, {**headers, "Content-Type": "application/json"})

    try:
        with serve_http(Handler) as url:
            yield state, url
    finally:
        state.release.set()


def run(scenario: Callable[[httpx.AsyncClient], Awaitable[T]], timeout: float = 5.0) -> T:
    async def main() -> T:
        async with httpx.AsyncClient(timeout=timeout) as http:
            return await scenario(http)

    return asyncio.run(main())


@pytest.fixture
def gamma() -> Iterator[tuple[FakeGamma, str]]:
    with fake_gamma() as pair:
        yield pair


# --- lookups -------------------------------------------------------------------------------


def test_market_by_slug_and_id(gamma: tuple[FakeGamma, str]) -> None:
    state, url = gamma
    state.markets.append(load("gamma_market_btc_updown_15m.json"))

    async def scenario(http: httpx.AsyncClient) -> None:
        client = GammaClient(url + "/", http)
        m = await client.market_by_slug("btc-updown-15m-1767200400")
        assert m is not None and m.id == "1066851" and m.outcomes == ("Up", "Down")
        assert m.token("Up").token_id.startswith("885184854696257219")
        assert await client.market_by_id("1066851") == m
        assert await client.market_by_slug("btc-updown-15m-0") is None  # 404 → None
        assert await client.market_by_id("999") is None

    run(scenario)
    assert len(state.asked("/markets/slug/btc-updown-15m-1767200400")) == 1


def test_event_lookups(gamma: tuple[FakeGamma, str]) -> None:
    state, url = gamma

    async def scenario(http: httpx.AsyncClient) -> None:
        client = GammaClient(url, http)
        event = await client.event_by_slug("democratic-presidential-nominee-2028")
        assert event is not None and len(event.markets) == 2
        assert event.markets[0].event_slug == event.slug
        assert await client.event_by_id("30829") == event
        assert await client.event_by_slug("nope") is None
        assert [e.id for e in await client.events(tag="politics")] == ["30829"]
        assert await client.events(tag="sports") == []

    run(scenario)
    (query,) = state.asked("/events")[:1]
    assert query["tag_slug"] == ["politics"] and query["closed"] == ["false"]
    assert query["active"] == ["true"] and query["limit"] == ["100"]


# --- listing, closed semantics, paging -----------------------------------------------------


def seed_listing(state: FakeGamma) -> None:
    for i in range(5):
        state.markets.append(window_market(T0 + 900 * i, volumeNum=1000 * (i + 1)))
        state.market_tags[str(T0 + 900 * i)] = ["21"] if i % 2 == 0 else []
    state.markets.append(
        window_market(T0 - 900, closed=True, acceptingOrders=False, outcomePrices='["1", "0"]')
    )


def test_markets_query_params_and_tag_resolution(gamma: tuple[FakeGamma, str]) -> None:
    state, url = gamma
    seed_listing(state)
    q = MarketQuery(
        tag="crypto",
        min_volume_usd=Decimal(2500),
        end_before=datetime(2026, 1, 1, tzinfo=UTC),
        end_after=datetime(2025, 12, 31, tzinfo=UTC),
        limit=10,
    )

    async def scenario(http: httpx.AsyncClient) -> list[str]:
        return [m.slug for m in await GammaClient(url, http).markets(q)]

    assert run(scenario) == [f"btc-updown-15m-{T0 + 1800}", f"btc-updown-15m-{T0 + 3600}"]
    assert len(state.asked("/tags/slug/crypto")) == 1
    (params,) = state.asked("/markets")
    assert params == {
        "limit": ["10"],
        "offset": ["0"],
        "include_tag": ["true"],
        "closed": ["false"],
        "active": ["true"],
        "tag_id": ["21"],
        "volume_num_min": ["2500"],
        "end_date_max": ["2026-01-01T00:00:00Z"],
        "end_date_min": ["2025-12-31T00:00:00Z"],
    }


def test_unknown_tag_is_an_empty_result(gamma: tuple[FakeGamma, str]) -> None:
    state, url = gamma
    seed_listing(state)

    async def scenario(http: httpx.AsyncClient) -> None:
        assert await GammaClient(url, http).markets(MarketQuery(tag="nonexistent")) == []

    run(scenario)
    assert state.asked("/markets") == []


def test_closed_markets_only_when_asked(gamma: tuple[FakeGamma, str]) -> None:
    state, url = gamma
    seed_listing(state)

    async def scenario(http: httpx.AsyncClient) -> None:
        client = GammaClient(url, http)
        open_ = await client.markets(MarketQuery())
        assert len(open_) == 5 and not any(m.closed for m in open_)
        (closed,) = await client.markets(MarketQuery(closed=True))
        assert closed.closed and closed.winning_outcome == "Up"
        # A direct slug lookup finds the closed market regardless.
        by_slug = await client.market_by_slug(f"btc-updown-15m-{T0 - 900}")
        assert by_slug == closed

    run(scenario)


def test_paging_follows_offsets_to_a_short_page(gamma: tuple[FakeGamma, str]) -> None:
    state, url = gamma
    seed_listing(state)

    async def scenario(http: httpx.AsyncClient) -> list[str]:
        found = await GammaClient(url, http).all_markets(MarketQuery(), page_size=2)
        return [m.id for m in found]

    assert run(scenario) == [str(T0 + 900 * i) for i in range(5)]
    assert [(q["offset"], q["limit"]) for q in state.asked("/markets")] == [
        (["0"], ["2"]),
        (["2"], ["2"]),
        (["4"], ["2"]),
    ]


def test_text_filter_and_bad_item_skipped(gamma: tuple[FakeGamma, str]) -> None:
    state, url = gamma
    seed_listing(state)
    state.markets[1]["clobTokenIds"] = "[oops"  # one malformed market in the page

    async def scenario(http: httpx.AsyncClient) -> None:
        client = GammaClient(url, http)
        assert len(await client.markets(MarketQuery())) == 4
        found = await client.markets(MarketQuery(text=f"15m-{T0 + 3600}"))
        assert [m.id for m in found] == [str(T0 + 3600)]

    run(scenario)


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "headers", "kind", "retry_after"),
    [
        (425, {}, "engine_restart", None),
        (429, {"Retry-After": "7"}, "throttled", 7.0),
        (500, {}, "server", None),
        (503, {"Retry-After": "79"}, "server", 79.0),
    ],
)
def test_unavailable_statuses(
    gamma: tuple[FakeGamma, str],
    status: int,
    headers: dict[str, str],
    kind: str,
    retry_after: float | None,
) -> None:
    state, url = gamma
    state.script("/markets/slug/x", (status, b'{"error":"Too Many Requests"}', headers))

    async def scenario(http: httpx.AsyncClient) -> VenueUnavailable:
        with pytest.raises(VenueUnavailable) as err:
            await GammaClient(url, http).market_by_slug("x")
        return err.value

    exc = run(scenario)
    assert isinstance(exc, TemporaryError)
    assert exc.kind == kind and exc.status == status and exc.retry_after_secs == retry_after
    assert f"HTTP {status}" in str(exc) and "\n" not in str(exc)
    assert len(state.asked("/markets/slug/x")) == 1  # no retry inside the client


def test_timeout_and_connection_errors(gamma: tuple[FakeGamma, str]) -> None:
    state, url = gamma
    state.script("/markets/slug/slow", None)

    async def scenario(http: httpx.AsyncClient) -> None:
        with pytest.raises(VenueUnavailable) as err:
            await GammaClient(url, http).market_by_slug("slow")
        assert err.value.kind == "timeout"
        with pytest.raises(VenueUnavailable) as err:
            await GammaClient("http://127.0.0.1:9", http).market_by_slug("any")
        assert err.value.kind == "connection"

    run(scenario, timeout=0.05)


def test_refusal_and_bad_body(gamma: tuple[FakeGamma, str]) -> None:
    state, url = gamma
    state.script("/markets/abc", (400, b'{"error":"Invalid market"}', {}))
    state.script("/markets/slug/garbled", (200, b'{"id": "1", "quest', {}))
    state.script("/markets/slug/wrong", {"id": "1", "question": "q", "slug": "wrong"})
    state.script("/markets", {"not": "a list"})

    async def scenario(http: httpx.AsyncClient) -> None:
        client = GammaClient(url, http)
        with pytest.raises(VenueRefused) as refused:
            await client.market_by_id("abc")
        assert refused.value.reason is ReasonCode.INVALID_TOKEN and refused.value.status == 400
        with pytest.raises(DataError, match="not valid JSON"):
            await client.market_by_slug("garbled")
        with pytest.raises(DataError, match="gamma market: conditionId: Field required"):
            await client.market_by_slug("wrong")
        with pytest.raises(DataError, match="gamma markets: expected a JSON array"):
            await client.markets(MarketQuery())

    run(scenario)


# --- the 15-minute BTC windows -------------------------------------------------------------


def test_window_for_any_instant_and_price_to_beat(gamma: tuple[FakeGamma, str]) -> None:
    state, url = gamma
    meta = {"priceToBeat": 87432.1}
    state.markets.append(
        window_market(T0, events=[{"id": "1", "slug": "e", "eventMetadata": meta}])
    )
    clock = FakeClock(T0 + 899.5)

    async def scenario(http: httpx.AsyncClient) -> None:
        windows = BtcWindows(GammaClient(url, http), clock)
        assert windows.window_at() == Window(T0)
        assert windows.window_at(T0 + 900) == Window(T0 + 900)
        w = await windows.current()
        assert w.slug == f"btc-updown-15m-{T0}" and w.window.end == T0 + 900
        assert (w.up_token_id, w.down_token_id) == (f"{T0}1", f"{T0}2")
        assert w.tick_size == Decimal("0.01") and w.min_order_size == Decimal(5)
        assert w.fees.is_free and w.price_to_beat == Decimal("87432.1") and w.tradable
        assert (await windows.at(T0 + 1.0)) == w

    run(scenario)


def test_upcoming_windows(gamma: tuple[FakeGamma, str]) -> None:
    state, url = gamma
    fee = {"rate": 0.07, "exponent": 1, "takerOnly": True, "rebateRate": 0.2}
    for k in range(4):
        state.markets.append(window_market(T0 + 900 * k, feeSchedule=fee))
    clock = FakeClock(T0 + 10)

    async def scenario(http: httpx.AsyncClient) -> None:
        windows = BtcWindows(GammaClient(url, http), clock)
        ahead = await windows.upcoming(3)
        assert [w.window.start for w in ahead] == [T0 + 900, T0 + 1800, T0 + 2700]
        assert ahead[2].up_token_id == f"{T0 + 2700}1"
        assert ahead[0].fees.rate == Decimal("0.07")
        assert ahead[0].fees.taker_fee(Decimal(10), Decimal("0.5")) == Decimal("0.175")
        assert await windows.upcoming(0) == []

    run(scenario)


def test_not_ready_market_is_retried_until_ready(gamma: tuple[FakeGamma, str]) -> None:
    state, url = gamma
    slug = f"btc-updown-15m-{T0}"
    state.script(
        f"/markets/slug/{slug}",
        (404, b'{"error":"not found"}', {}),
        window_market(T0, clobTokenIds="[]", acceptingOrders=False),
        window_market(T0, acceptingOrders=False),
        window_market(T0),
    )
    clock = FakeClock(T0 + 5)

    async def scenario(http: httpx.AsyncClient) -> None:
        windows = BtcWindows(GammaClient(url, http), clock, base_delay_secs=1.0)
        assert await windows.lookup(Window(T0)) is None  # one attempt: the 404
        w = await windows.current()
        assert w.up_token_id == f"{T0}1" and w.tradable

    run(scenario)
    assert len(state.asked(f"/markets/slug/{slug}")) == 4
    # The backoff ran on the fake clock: 1 + 2 s between the three attempts of current().
    assert clock.time() == T0 + 5 + 1 + 2


def test_not_ready_gives_up_within_bounds(gamma: tuple[FakeGamma, str]) -> None:
    state, url = gamma
    slug = f"btc-updown-15m-{T0 + 900}"
    state.script(f"/markets/slug/{slug}", window_market(T0 + 900, clobTokenIds="[]"))
    slept: list[float] = []

    async def sleep(secs: float) -> None:
        slept.append(secs)

    async def scenario(http: httpx.AsyncClient) -> MarketNotReady:
        windows = BtcWindows(
            GammaClient(url, http),
            FakeClock(T0),
            max_attempts=10,
            max_wait_secs=5.0,
            base_delay_secs=1.0,
            max_delay_secs=4.0,
            sleep=sleep,
        )
        with pytest.raises(MarketNotReady) as err:
            await windows.upcoming(1)
        return err.value

    exc = run(scenario)
    assert slept == [1.0, 2.0, 2.0]  # capped by the 5 s budget
    assert exc.attempts == 4 and exc.waited_secs == 5.0 and exc.slug == slug
    assert exc.reason is ReasonCode.MARKET_NOT_READY and isinstance(exc, TemporaryError)
    assert "no clobTokenIds yet" in str(exc)
    assert len(state.asked(f"/markets/slug/{slug}")) == 4


def test_attempt_limit_and_unavailable_propagates(gamma: tuple[FakeGamma, str]) -> None:
    state, url = gamma
    state.script(f"/markets/slug/btc-updown-15m-{T0}", (404, b"{}", {}))
    state.script(f"/markets/slug/btc-updown-15m-{T0 + 900}", (429, b"{}", {"Retry-After": "3"}))

    async def scenario(http: httpx.AsyncClient) -> None:
        clock = FakeClock(T0)
        windows = BtcWindows(GammaClient(url, http), clock, max_attempts=3)
        with pytest.raises(MarketNotReady, match=r"after 3 attempts over 3s \(not listed yet"):
            await windows.current()
        with pytest.raises(VenueUnavailable):
            await windows.upcoming(1)

    run(scenario)
    assert len(state.asked(f"/markets/slug/btc-updown-15m-{T0 + 900}")) == 1


def test_ended_window_is_returned_without_retry(gamma: tuple[FakeGamma, str]) -> None:
    state, url = gamma
    state.markets.append(window_market(T0, acceptingOrders=False))

    async def scenario(http: httpx.AsyncClient) -> None:
        windows = BtcWindows(GammaClient(url, http), FakeClock(T0 + 930), max_attempts=5)
        w = await windows.resolve(Window(T0))
        assert not w.tradable and w.market.accepting_orders is False

    run(scenario)
    assert len(state.asked(f"/markets/slug/btc-updown-15m-{T0}")) == 1


# --- Data API ------------------------------------------------------------------------------


def test_data_api_positions_follow_the_cursor(gamma: tuple[FakeGamma, str]) -> None:
    state, url = gamma
    rows = load("data_v2_positions.json")
    state.pages["/v2/positions"] = {
        "": {"data": rows[:1], "pagination": {"has_more": True, "next_cursor": "c2"}},
        "c2": {"data": rows[1:], "pagination": {"has_more": False, "next_cursor": None}},
    }

    async def scenario(http: httpx.AsyncClient) -> None:
        positions = await DataApiClient(url, http).positions("0xabc")
        assert [p.outcome for p in positions] == ["No", "Yes"]
        assert positions[0].size == Decimal(400000)

    run(scenario)
    first, second = state.asked("/v2/positions")
    assert first == {"user": ["0xabc"], "limit": ["500"]}
    assert second == {"user": ["0xabc"], "cursor": ["c2"]}


def test_data_api_trades_filters(gamma: tuple[FakeGamma, str]) -> None:
    state, url = gamma
    envelope = load("data_v2_trades_page_envelope.json")
    state.pages["/v2/trades"] = {"": envelope}
    since = datetime.fromtimestamp(1786179730, UTC)

    async def scenario(http: httpx.AsyncClient) -> None:
        client = DataApiClient(url, http)
        trades = await client.trades(user="0x11", market="0xcc", since=since)
        assert [t.ts.timestamp() for t in trades] == [1786179735, 1786179730]
        big = await client.trades(market="0xcc", min_size_usd=Decimal(50))
        assert [(t.side, t.usd) for t in big] == [
            (Side.SELL, Decimal("64.813")),
            (Side.BUY, Decimal(244) * Decimal("0.2972581967")),
        ]

    run(scenario)
    first, second = state.asked("/v2/trades")
    assert first == {
        "user": ["0x11"],
        "start": ["1786179730"],
        "condition": ["0xcc"],
        "limit": ["500"],
    }
    assert second == {
        "condition": ["0xcc"],
        "filter_type": ["CASH"],
        "filter_amount": ["50"],
        "limit": ["500"],
    }
    assert all("offset" not in q for q in state.asked("/v2/trades"))


def test_data_api_cursor_loop_is_cut(gamma: tuple[FakeGamma, str]) -> None:
    state, url = gamma
    page = copy.deepcopy(load("data_v2_trades_page_envelope.json"))
    page["pagination"]["next_cursor"] = "same"
    state.pages["/v2/trades"] = {"": page, "same": page}

    async def scenario(http: httpx.AsyncClient) -> int:
        return len(await DataApiClient(url, http).trades(user="0x11"))

    assert run(scenario) == 6  # two pages, then the repeated cursor stops it
    assert len(state.asked("/v2/trades")) == 2
