"""Wire parsers of the BTC feeds against the real payloads, bad input, and fuzzing.

Also the pieces every feed shares: newer-only publishing, error logging, FeedChain failover,
backoff, and building a chain from the config section.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import math
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autotrader.clock import FakeClock
from autotrader.errors import ConfigError, DataError
from autotrader.feeds import build_feed_chain
from autotrader.feeds.backoff import Backoff
from autotrader.feeds.base import BaseFeed, Candle, FeedChain, PriceQuote, Tick
from autotrader.feeds.binance import (
    BinanceFeed,
    Kline,
    parse_binance_klines,
    parse_binance_ticker_price,
    parse_binance_ws_frame,
)
from autotrader.feeds.coinbase import (
    CoinbaseFeed,
    parse_coinbase_advanced_candles,
    parse_coinbase_advanced_ticker,
    parse_coinbase_candles,
    parse_coinbase_ticker,
)
from autotrader.feeds.polymarket_rtds import (
    PolymarketRtdsFeed,
    RtdsPrices,
    parse_rtds_message,
    subscribe_message,
)
from autotrader.feeds.replay import ReplayFeed
from autotrader.feeds.wire import MAX_EPOCH_SECS, MIN_EPOCH_SECS, decode_json, iso_time

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
RECEIVED = 1_781_887_413.5  # an arbitrary arrival time for the Binance ticker


def load(name: str) -> Any:
    """A fixture file, decoded."""
    return json.loads((FIXTURES / name).read_text())


def captured_frames() -> list[Any]:
    """The Binance combined-stream frames, one per line."""
    text = (FIXTURES / "binance_ws_btcusdt_captured_frames.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# -- the real payloads ------------------------------------------------------------------------


def test_coinbase_exchange_ticker() -> None:
    tick = parse_coinbase_ticker(load("coinbase_exchange_ticker_btcusd.json"))
    assert tick.price == 63212.97
    # 2026-06-19T16:43:33.016274911Z, nanoseconds cut to microseconds
    assert tick.ts == pytest.approx(1_781_887_413.016274, abs=1e-6)


def test_coinbase_exchange_candles_sorted_oldest_first() -> None:
    candles = parse_coinbase_candles(load("coinbase_exchange_candles_btcusd_60.json"))
    assert candles == [Candle(1_781_887_080.0, 63244.77), Candle(1_781_887_140.0, 63239.75)]


def test_coinbase_advanced_ticker_takes_newest_trade() -> None:
    tick = parse_coinbase_advanced_ticker(load("coinbase_advanced_market_ticker_btcusd.json"))
    assert tick.price == 68923.67
    assert tick.ts == pytest.approx(iso_time("2026-04-07T00:28:58.544778Z", "t"))
    assert tick.ts == pytest.approx(1_775_521_738.544778, abs=1e-6)


def test_coinbase_advanced_candles() -> None:
    candles = parse_coinbase_advanced_candles(load("coinbase_advanced_market_candles_btcusd.json"))
    assert candles == [Candle(1_712_188_800.0, 66314.59), Candle(1_712_192_400.0, 66181.6)]


def test_binance_ticker_price_is_stamped_with_arrival_time() -> None:
    tick = parse_binance_ticker_price(
        load("binance_ticker_price_btcusdt.json"), RECEIVED, "BTCUSDT"
    )
    assert tick == Tick(60740.0, RECEIVED)


def test_binance_klines() -> None:
    klines = parse_binance_klines(load("binance_klines_btcusdt_1m.json"))
    assert len(klines) == 10
    assert klines[0] == Kline(1_634_943_780.0, 60719.27, 1_634_943_839.999)
    assert klines[-1] == Kline(1_634_944_320.0, 60739.85, 1_634_944_379.999)


def test_binance_ws_docs_examples() -> None:
    assert parse_binance_ws_frame(load("binance_ws_aggtrade_docs.json")) == Tick(
        0.001, 1_672_515_782.136
    )
    # kline: the bar's latest close, at the event time E
    assert parse_binance_ws_frame(load("binance_ws_kline_docs.json")) == Tick(
        0.002, 1_672_515_782.136
    )


def test_binance_ws_captured_combined_frames() -> None:
    ticks = [parse_binance_ws_frame(f, "BTCUSDT") for f in captured_frames()]
    assert ticks == [
        Tick(89879.78, 1_769_224_657.583),
        None,  # bookTicker carries no trade price or time
        Tick(89879.79, 1_769_224_658.079),
        Tick(108473.03, 1_751_897_378.015),
    ]


def test_binance_ws_raw_and_combined_forms_agree() -> None:
    combined = captured_frames()[0]
    assert parse_binance_ws_frame(combined["data"]) == parse_binance_ws_frame(combined)


def test_rtds_snapshot() -> None:
    msg = parse_rtds_message(load("rtds_crypto_prices_subscribe_snapshot.json"))
    assert msg == RtdsPrices(
        "crypto_prices",
        "btcusdt",
        (
            Tick(61164.12, 1_780_726_209.0),
            Tick(61161.07, 1_780_726_210.0),
            Tick(61150.89, 1_780_726_211.0),
        ),
    )


def test_rtds_update() -> None:
    msg = parse_rtds_message(load("rtds_crypto_prices_update.json"))
    assert msg == RtdsPrices("crypto_prices", "btcusdt", (Tick(61035.86, 1_780_730_269.0),))


def test_rtds_twap_update() -> None:
    msg = parse_rtds_message(load("rtds_crypto_twap_sixty_update.json"))
    assert msg == RtdsPrices(
        "crypto_prices_twap_sixty", "btc/usd", (Tick(64997.81, 1_786_179_814.0),)
    )


def test_rtds_chainlink_update_in_the_documented_shape() -> None:
    doc = load("rtds_crypto_prices_update.json")
    doc["topic"] = "crypto_prices_chainlink"
    doc["payload"]["symbol"] = "btc/usd"
    assert parse_rtds_message(doc).topic == "crypto_prices_chainlink"


def test_rtds_subscribe_message() -> None:
    sent = json.loads(subscribe_message("crypto_prices_chainlink", "btc/usd"))
    assert sent == {
        "action": "subscribe",
        "subscriptions": [
            {"topic": "crypto_prices_chainlink", "type": "*", "filters": '{"symbol":"btc/usd"}'}
        ],
    }


# -- bad input --------------------------------------------------------------------------------


def _with(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A deep copy of ``doc`` with the member at ``path`` set to ``value`` (or removed)."""
    out = copy.deepcopy(doc)
    target = out
    for key in path[:-1]:
        target = target[key]
    if value is _DROP:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return out


_DROP = object()
CB_TICKER = load("coinbase_exchange_ticker_btcusd.json")
BN_AGG = captured_frames()[0]
RTDS_UPDATE = load("rtds_crypto_prices_update.json")
RTDS_SNAP = load("rtds_crypto_prices_subscribe_snapshot.json")


def _cb(p: Any) -> object:
    return parse_coinbase_ticker(p)


def _bn_ticker(p: Any) -> object:
    return parse_binance_ticker_price(p, RECEIVED, "BTCUSDT")


def _bn_ws(p: Any) -> object:
    return parse_binance_ws_frame(p, "BTCUSDT")


BAD_CASES: list[tuple[str, Callable[[Any], object], Any, str]] = [
    ("cb not an object", _cb, [1, 2], "expected a JSON object"),
    ("cb missing price", _cb, _with(CB_TICKER, ("price",), _DROP), "missing 'price'"),
    ("cb missing time", _cb, _with(CB_TICKER, ("time",), _DROP), "missing 'time'"),
    ("cb zero price", _cb, _with(CB_TICKER, ("price",), "0"), "must be > 0"),
    ("cb negative price", _cb, _with(CB_TICKER, ("price",), "-63212.97"), "must be > 0"),
    ("cb NaN string", _cb, _with(CB_TICKER, ("price",), "NaN"), "decimal number"),
    ("cb NaN float", _cb, _with(CB_TICKER, ("price",), math.nan), "finite"),
    ("cb inf float", _cb, _with(CB_TICKER, ("price",), math.inf), "finite"),
    ("cb bool price", _cb, _with(CB_TICKER, ("price",), True), "expected a number"),
    ("cb list price", _cb, _with(CB_TICKER, ("price",), [1]), "expected a number"),
    ("cb null price", _cb, _with(CB_TICKER, ("price",), None), "expected a number"),
    ("cb word price", _cb, _with(CB_TICKER, ("price",), "abc"), "decimal number"),
    ("cb huge int", _cb, _with(CB_TICKER, ("price",), 10**400), "usable number"),
    ("cb time no zone", _cb, _with(CB_TICKER, ("time",), "2026-06-19T16:43:33"), "zone"),
    ("cb time number", _cb, _with(CB_TICKER, ("time",), 1781887413), "ISO-8601"),
    ("cb time bad date", _cb, _with(CB_TICKER, ("time",), "2026-02-30T00:00:00Z"), "valid"),
    ("cb time 1970", _cb, _with(CB_TICKER, ("time",), "1970-01-01T00:00:00Z"), "range"),
    ("cb error body", _cb, {"message": "NotFound"}, "error response"),
    ("cb candles not list", parse_coinbase_candles, {"a": 1}, "JSON array"),
    ("cb candles short row", parse_coinbase_candles, [[1781887140, 1, 2]], "expected [time"),
    ("cb candles ms time", parse_coinbase_candles, [[1781887140000, 1, 2, 3, 4, 5]], "range"),
    ("cb candles zero", parse_coinbase_candles, [[1781887140, 1, 2, 3, 0, 5]], "> 0"),
    ("cbadv no trades", parse_coinbase_advanced_ticker, {"trades": []}, "no trades"),
    ("cbadv candles", parse_coinbase_advanced_candles, {"candles": [{"start": "x"}]}, "decimal"),
    ("bn ticker missing", _bn_ticker, {"symbol": "BTCUSDT"}, "missing 'price'"),
    ("bn ticker symbol", _bn_ticker, {"symbol": "ETHUSDT", "price": "1"}, "expected 'BTCUSDT'"),
    ("bn ticker error", _bn_ticker, {"code": -1121, "msg": "Invalid symbol."}, "error response"),
    ("bn ticker negative", _bn_ticker, {"symbol": "BTCUSDT", "price": "-5"}, "> 0"),
    ("bn klines short", parse_binance_klines, [[1634943780000, "1", "2"]], "expected [open"),
    (
        "bn klines reversed",
        parse_binance_klines,
        [[1634943780000, "1", "1", "1", "1", "1", 1634943000000]],
        "before open",
    ),
    ("bn ws unknown event", _bn_ws, {"e": "depthUpdate", "E": 1}, "unknown event"),
    ("bn ws no event", _bn_ws, {"x": 1}, "unknown event"),
    ("bn ws missing p", _bn_ws, _with(BN_AGG, ("data", "p"), _DROP), "missing 'p'"),
    ("bn ws missing T", _bn_ws, _with(BN_AGG, ("data", "T"), _DROP), "missing 'T'"),
    ("bn ws zero p", _bn_ws, _with(BN_AGG, ("data", "p"), "0.00000000"), "> 0"),
    ("bn ws T as text", _bn_ws, _with(BN_AGG, ("data", "T"), "soon"), "decimal"),
    ("bn ws T in secs", _bn_ws, _with(BN_AGG, ("data", "T"), 1769224657), "range"),
    ("bn ws symbol", _bn_ws, _with(BN_AGG, ("data", "s"), "ETHUSDT"), "expected 'BTCUSDT'"),
    ("bn ws data not obj", _bn_ws, _with(BN_AGG, ("data",), "x"), "JSON object"),
    ("bn ws stream not str", _bn_ws, _with(BN_AGG, ("stream",), 5), "must be a string"),
    ("rtds not obj", parse_rtds_message, "x", "JSON object"),
    ("rtds unknown topic", parse_rtds_message, _with(RTDS_UPDATE, ("topic",), "comments"), "topic"),
    ("rtds unknown type", parse_rtds_message, _with(RTDS_UPDATE, ("type",), "reaction"), "type"),
    ("rtds no payload", parse_rtds_message, _with(RTDS_UPDATE, ("payload",), _DROP), "payload"),
    ("rtds no value", parse_rtds_message, _with(RTDS_UPDATE, ("payload", "value"), _DROP), "value"),
    ("rtds nan", parse_rtds_message, _with(RTDS_UPDATE, ("payload", "value"), math.nan), "finite"),
    ("rtds neg", parse_rtds_message, _with(RTDS_UPDATE, ("payload", "value"), -1.0), "> 0"),
    (
        "rtds snapshot point",
        parse_rtds_message,
        _with(RTDS_SNAP, ("payload", "data", 1, "timestamp"), None),
        "data[1]",
    ),
    (
        "rtds snapshot data",
        parse_rtds_message,
        _with(RTDS_SNAP, ("payload", "data"), {}),
        "JSON array",
    ),
]


@pytest.mark.parametrize(
    ("parser", "payload", "message"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES]
)
def test_bad_payloads_raise_one_line_data_error(
    parser: Callable[[Any], object], payload: Any, message: str
) -> None:
    with pytest.raises(DataError) as info:
        parser(payload)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "{",
        '{"price": "63212.97", "time": "2026-06-19T16:4',  # truncated mid-document
        "not json",
        b"\xff\xfe",
        "[" * 100_000,
    ],
    ids=["empty", "brace", "truncated", "text", "bad-utf8", "deep-nesting"],
)
def test_undecodable_text_is_a_data_error(raw: str | bytes) -> None:
    with pytest.raises(DataError, match="not valid JSON"):
        decode_json(raw, "test")


# -- fuzzing ----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["63212.97", "-1", "0", "1e308", "1e999", "2026-06-19T16:43:33Z"]),
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=25,
)

PARSERS: list[tuple[str, Callable[[Any], object], Any]] = [
    ("coinbase_ticker", _cb, CB_TICKER),
    ("coinbase_candles", parse_coinbase_candles, load("coinbase_exchange_candles_btcusd_60.json")),
    (
        "coinbase_adv_ticker",
        parse_coinbase_advanced_ticker,
        load("coinbase_advanced_market_ticker_btcusd.json"),
    ),
    (
        "coinbase_adv_candles",
        parse_coinbase_advanced_candles,
        load("coinbase_advanced_market_candles_btcusd.json"),
    ),
    ("binance_ticker", _bn_ticker, load("binance_ticker_price_btcusdt.json")),
    ("binance_klines", parse_binance_klines, load("binance_klines_btcusdt_1m.json")),
    ("binance_ws_aggtrade", _bn_ws, BN_AGG),
    ("binance_ws_kline", _bn_ws, captured_frames()[3]),
    ("rtds_snapshot", parse_rtds_message, RTDS_SNAP),
    ("rtds_update", parse_rtds_message, RTDS_UPDATE),
]


def _check_outcome(parser: Callable[[Any], object], payload: Any) -> None:
    """A parser gives well-formed prices, None or a DataError, and nothing else."""
    try:
        result = parser(payload)
    except DataError as exc:
        assert "\n" not in str(exc)
        return
    ticks: list[Any]
    if isinstance(result, RtdsPrices):
        ticks = list(result.ticks)
    elif isinstance(result, list):
        ticks = result
    else:
        ticks = [] if result is None else [result]
    for item in ticks:
        value, when = (item[1], item[0]) if isinstance(item, Candle | Kline) else item
        assert isinstance(value, float) and math.isfinite(value) and value > 0
        assert MIN_EPOCH_SECS <= when <= MAX_EPOCH_SECS


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every member path inside a JSON document."""
    out: list[tuple[Any, ...]] = []
    items = (
        doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else []
    )
    for key, value in items:
        out.append((*prefix, key))
        out.extend(_paths(value, (*prefix, key)))
    return out


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(
    ("parser", "fixture"), [p[1:] for p in PARSERS], ids=[p[0] for p in PARSERS]
)
@FUZZ
@given(payload=json_values)
def test_fuzz_arbitrary_json(parser: Callable[[Any], object], fixture: Any, payload: Any) -> None:
    _check_outcome(parser, payload)


@pytest.mark.parametrize(
    ("parser", "fixture"), [p[1:] for p in PARSERS], ids=[p[0] for p in PARSERS]
)
@FUZZ
@given(data=st.data(), value=json_values)
def test_fuzz_mutated_real_payloads(
    parser: Callable[[Any], object], fixture: Any, data: st.DataObject, value: Any
) -> None:
    path = data.draw(st.sampled_from(_paths(fixture)))
    drop = data.draw(st.booleans())
    _check_outcome(parser, _with(fixture, path, _DROP if drop else value))


@pytest.mark.parametrize(
    ("parser", "fixture"), [p[1:] for p in PARSERS], ids=[p[0] for p in PARSERS]
)
@FUZZ
@given(data=st.data())
def test_fuzz_truncated_and_garbled_text(
    parser: Callable[[Any], object], fixture: Any, data: st.DataObject
) -> None:
    text = json.dumps(fixture)
    cut = data.draw(st.integers(0, len(text)))
    noise = data.draw(st.text(max_size=5))
    raw = text[:cut] + noise

    def parse_text(raw: str) -> object:
        return parser(decode_json(raw, "fuzz"))

    _check_outcome(parse_text, raw)


# -- the shared feed machinery ----------------------------------------------------------------


class StubFeed(BaseFeed):
    """A feed that publishes only what a test hands it."""


def test_publish_keeps_only_newer_quotes(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock(1_781_887_420.0)
    feed = StubFeed("stub", clock)
    assert feed.publish(Tick(100.0, 1_781_887_410.0))
    clock.advance(1)
    with caplog.at_level(logging.DEBUG, logger="autotrader.feeds"):
        assert not feed.publish(Tick(99.0, 1_781_887_409.0))
    assert feed.latest() == PriceQuote(100.0, 1_781_887_410.0, "stub", 1_781_887_420.0)
    assert any("out-of-order" in r.getMessage() for r in caplog.records)
    assert all(r.levelno == logging.DEBUG for r in caplog.records)
    assert feed.publish(Tick(101.0, 1_781_887_410.0))  # same instant, later message wins
    assert feed.publish(Tick(102.0, 1_781_887_411.0))
    assert feed.latest() == PriceQuote(102.0, 1_781_887_411.0, "stub", 1_781_887_421.0)


def test_reject_logs_one_error_line_and_keeps_the_quote(caplog: pytest.LogCaptureFixture) -> None:
    feed = StubFeed("stub", FakeClock())
    feed.publish(Tick(100.0, 1_767_225_600.0))
    before = feed.latest()
    with caplog.at_level(logging.DEBUG, logger="autotrader.feeds"):
        feed.reject("ws://127.0.0.1:1/x", DataError("binance aggTrade: missing 'p'\nsecond line"))
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "\n" not in errors[0].getMessage()
    assert "ws://127.0.0.1:1/x" in errors[0].getMessage()
    assert feed.latest() == before
    assert feed.state.startswith("error: bad data")


def _chain(clock: FakeClock) -> tuple[FeedChain, StubFeed, StubFeed]:
    first, second = StubFeed("first", clock), StubFeed("second", clock)
    return FeedChain([first, second], clock, stale_after_secs=15), first, second


def test_chain_prefers_first_fresh_source_in_order() -> None:
    clock = FakeClock(1_800_000_000.0)
    chain, first, second = _chain(clock)
    assert chain.freshest() is None
    second.publish(Tick(2.0, clock.time()))
    assert chain.freshest() == second.latest()
    first.publish(Tick(1.0, clock.time() - 10))
    assert chain.freshest() == first.latest()  # older than second's, but fresh and first
    clock.advance(5.0)  # first is now exactly 15 s old: still fresh
    assert chain.freshest() == first.latest()
    clock.advance(0.5)
    assert chain.freshest() == second.latest()
    clock.advance(15)
    assert chain.freshest() is None
    first.publish(Tick(1.5, clock.time()))
    assert chain.freshest() == first.latest()


def test_chain_distrusts_quotes_from_the_far_future() -> None:
    clock = FakeClock(1_800_000_000.0)
    chain, first, second = _chain(clock)
    first.publish(Tick(1.0, clock.time() + 3600))
    second.publish(Tick(2.0, clock.time() + 5))  # a little ahead: clocks differ slightly
    assert chain.freshest() == second.latest()


def test_chain_status() -> None:
    clock = FakeClock(1_800_000_000.0)
    chain, first, _ = _chain(clock)
    first.publish(Tick(1.0, clock.time() - 4))
    assert chain.status() == [("first", 4.0, "ok"), ("second", None, "stopped")]


def test_chain_needs_a_feed() -> None:
    with pytest.raises(ValueError):
        FeedChain([], FakeClock(), 15)


def test_backoff_grows_caps_and_resets() -> None:
    backoff = Backoff(1.0, 8.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(8)]
    for n, delay in enumerate(delays):
        ceiling = min(8.0, 2.0**n)
        assert ceiling / 2 <= delay <= ceiling
    backoff.reset()
    assert 0.5 <= backoff.next_delay() <= 1.0
    assert Backoff(5.0, 0.2).base_secs == 0.2  # a cap below the base wins
    with pytest.raises(ValueError):
        Backoff(0, 1)


def test_build_feed_chain_from_config(tmp_path: Path) -> None:
    config = pytest.importorskip("autotrader.config")
    csv_path = tmp_path / "bars.csv"
    csv_path.write_text("open_time_ms,open,high,low,close,volume\n1571176200000,1,1,1,1,1\n")
    cfg = config.BtcFeedConfig(
        sources=["replay", "binance", "polymarket_rtds", "coinbase"],
        stale_after_secs=20,
        replay={"path": csv_path, "loop": False},
        binance={"use_websocket": False, "symbol": "btcusdt"},
    )
    chain = build_feed_chain(cfg, FakeClock())
    assert [f.name for f in chain.feeds] == ["replay", "binance", "polymarket_rtds", "coinbase"]
    assert chain.stale_after_secs == 20
    replay, binance, rtds, coinbase = chain.feeds
    assert isinstance(replay, ReplayFeed) and replay.path == csv_path and not replay.loop
    assert isinstance(binance, BinanceFeed) and not binance.use_websocket
    assert binance.symbol == "BTCUSDT" and binance.idle_timeout_secs == 20
    assert isinstance(rtds, PolymarketRtdsFeed) and rtds.symbol == "btc/usd"
    assert isinstance(coinbase, CoinbaseFeed) and coinbase.product == "BTC-USD"


def test_build_feed_chain_refuses_replay_without_path() -> None:
    class Section:
        sources = ("replay",)
        replay = type("R", (), {"path": None, "loop": True})()
        stale_after_secs = 15.0
        request_timeout_secs = 5.0
        reconnect_max_backoff_secs = 30.0

    with pytest.raises(ConfigError, match=r"replay\.path"):
        build_feed_chain(Section(), FakeClock())  # type: ignore[arg-type]


def test_stop_of_unstarted_feeds_is_harmless() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        chain = FeedChain([CoinbaseFeed(clock), BinanceFeed(clock)], clock, 15)
        await chain.stop()
        assert [s for _, _, s in chain.status()] == ["stopped", "stopped"]

    asyncio.run(scenario())
