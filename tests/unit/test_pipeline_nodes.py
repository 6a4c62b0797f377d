"""Pipeline nodes on in-memory inputs: formulas, momentum, whale flow, streaming, items.

The venue is a small in-memory fake of ``PublicReads`` (markets, books, price history);
nodes that need the database are tested against the simulator in
tests/integration/test_pipeline_sim.py.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

import pytest

from autotrader.config_nodes import CheckMomentum, Condition, Filter, StreamMarkets
from autotrader.config_strategies import PipelineStrategy
from autotrader.domain.book import Level, OrderBook
from autotrader.domain.fees import FeeSchedule
from autotrader.domain.markets import Market, MarketQuery, OutcomeToken
from autotrader.domain.orders import Side
from autotrader.strategies.base import StrategyContext
from autotrader.strategies.items import MarketItem
from autotrader.strategies.nodes.base import PipelineRun
from autotrader.strategies.nodes.logic import FORMULA_CACHE_SIZE, formula, keep_where
from autotrader.strategies.nodes.markets import market_query, stream_markets
from autotrader.strategies.nodes.metrics import check_momentum, momentum_score, net_flow
from autotrader.strategies.pipeline import suffix_fingerprint
from autotrader.venue.polymarket.data_api import DataTrade

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def market(slug: str, *, price: str = "0.4", volume: int = 1000, question: str = "") -> Market:
    """A binary Yes/No market ending in two days."""
    return Market(
        id=str(abs(hash(slug)) % 10**6),
        condition_id="0x" + slug.encode().hex()[:64].ljust(64, "0"),
        slug=slug,
        question=question or f"Will {slug} happen?",
        tokens=(
            OutcomeToken("Yes", f"{slug}-yes", Decimal(price)),
            OutcomeToken("No", f"{slug}-no", 1 - Decimal(price)),
        ),
        tick_size=Decimal("0.01"),
        min_order_size=Decimal(5),
        neg_risk=False,
        fees=FeeSchedule(),
        start_date=NOW - timedelta(days=10),
        end_date=NOW + timedelta(days=2),
        active=True,
        closed=False,
        accepting_orders=True,
        volume_usd=Decimal(volume),
        liquidity_usd=Decimal(500),
    )


@dataclass
class FakeMarketData:
    """In-memory Gamma and CLOB reads, recording what was asked."""

    listing: list[Market] = field(default_factory=list)
    history: dict[str, list[tuple[datetime, Decimal]]] = field(default_factory=dict)
    books: dict[str, OrderBook] = field(default_factory=dict)
    queries: list[MarketQuery] = field(default_factory=list)
    history_calls: list[dict[str, Any]] = field(default_factory=list)

    async def markets(self, q: MarketQuery) -> list[Market]:
        self.queries.append(q)
        return self.listing[q.offset : q.offset + q.limit]

    async def price_history(
        self, token_id: str, *, start: datetime, end: datetime, fidelity_mins: int = 1
    ) -> list[tuple[datetime, Decimal]]:
        self.history_calls.append(
            {"token": token_id, "start": start, "end": end, "f": fidelity_mins}
        )
        return self.history.get(token_id, [])

    async def book(self, token_id: str) -> OrderBook:
        return self.books[token_id]


def make_run(md: FakeMarketData) -> PipelineRun:
    strategy = PipelineStrategy.model_validate(
        {
            "name": "unit",
            "kind": "pipeline",
            "schedule": {"every": "5m"},
            "allocation_usd": 100,
            "limits": {"daily_loss_usd": 10, "max_position_pct": 20},
            "pipeline": ["monitor_watchlist"],
        }
    )
    ctx = cast(StrategyContext, SimpleNamespace(market_data=md, engine=None))
    return PipelineRun(strategy, ctx, NOW)


def ramp(start: str, end: str, secs: int, step: int = 60) -> list[tuple[datetime, Decimal]]:
    """A linear price path from ``start`` to ``end`` over the ``secs`` before NOW."""
    a, b = Decimal(start), Decimal(end)
    n = secs // step
    return [
        (NOW - timedelta(seconds=secs - i * step), a + (b - a) * Decimal(i) / Decimal(n))
        for i in range(n + 1)
    ]


# --- momentum and whale flow formulas --------------------------------------------------------


def test_momentum_is_the_relative_change_over_the_timeframe() -> None:
    assert momentum_score(ramp("0.40", "0.44", 3600), NOW, 3600) == pytest.approx(0.1)
    assert momentum_score(ramp("0.50", "0.45", 3600), NOW, 3600) == pytest.approx(-0.1)
    # Points before the timeframe are not part of it.
    longer = ramp("0.10", "0.40", 7200)
    assert momentum_score(longer, NOW, 3600) == pytest.approx(0.40 / 0.25 - 1)


def test_momentum_is_clamped_and_floored() -> None:
    assert momentum_score(ramp("0.20", "0.90", 3600), NOW, 3600) == 1.0
    assert momentum_score(ramp("0.90", "0.001", 3600), NOW, 3600) == pytest.approx(-0.998889, 1e-4)
    # A price near zero is floored at one cent: 0.001 -> 0.005 is +40 %, not +400 %.
    assert momentum_score(ramp("0.001", "0.005", 3600), NOW, 3600) == pytest.approx(0.4)


def test_momentum_needs_history_reaching_half_the_timeframe() -> None:
    assert momentum_score([], NOW, 3600) is None
    assert momentum_score(ramp("0.4", "0.5", 3600)[-1:], NOW, 3600) is None
    assert momentum_score(ramp("0.4", "0.5", 1500), NOW, 3600) is None  # 25 min of 60
    assert momentum_score(ramp("0.4", "0.5", 1800), NOW, 3600) == pytest.approx(0.25)


def trade(token: str, side: Side, usd: str) -> DataTrade:
    return DataTrade(
        ts=NOW,
        side=side,
        size=Decimal(usd) * 2,
        price=Decimal("0.5"),
        usd=Decimal(usd),
        wallet="0x" + "1" * 40,
        condition_id="0xc",
        token_id=token,
        outcome=None,
    )


def test_whale_net_flow_counts_towards_the_first_outcome() -> None:
    trades = [
        trade("yes", Side.BUY, "100"),  # +100
        trade("yes", Side.SELL, "30"),  # -30
        trade("no", Side.BUY, "50"),  # -50
        trade("no", Side.SELL, "20"),  # +20
    ]
    assert net_flow(trades, "yes") == Decimal(40)
    assert net_flow(trades, "no") == Decimal(-40)
    assert net_flow([], "yes") == 0


# --- nodes -----------------------------------------------------------------------------------


def test_check_momentum_sets_the_score_and_drops_markets_without_history() -> None:
    md = FakeMarketData(history={"a-yes": ramp("0.40", "0.46", 4 * 3600, 240)})
    run = make_run(md)
    items = [MarketItem.of(market("a")), MarketItem.of(market("b"))]
    kept = asyncio.run(check_momentum(CheckMomentum(timeframe="4h"), items, run))
    assert [i.slug for i in kept] == ["a"]
    assert kept[0].computed == {"momentum": pytest.approx(0.15), "momentum_4h": pytest.approx(0.15)}
    assert run.dropped == 1
    call = md.history_calls[0]
    assert call["token"] == "a-yes" and call["f"] == 4
    assert (call["start"], call["end"]) == (NOW - timedelta(hours=4), NOW)


def test_filter_keeps_matching_items_and_drops_those_missing_a_value() -> None:
    run = make_run(FakeMarketData())
    items = [MarketItem.of(market(s, volume=v)) for s, v in (("a", 200_000), ("b", 50_000))]
    items.append(MarketItem.of(market("c", volume=900_000)))
    items[0].computed["momentum"] = 0.08
    items[1].computed["momentum"] = 0.09
    # c has no momentum: dropped with a reason, the run goes on.
    spec = Condition(when="momentum > 0.05 and volume > 100000")
    kept = asyncio.run(keep_where(spec, items, run))
    assert [i.slug for i in kept] == ["a"]
    assert run.dropped == 1


def test_compiled_formulas_are_bounded_and_right_after_eviction() -> None:
    # More distinct formulas than the cache holds, each used by its own strategy in turn:
    # a formula compiled again after eviction still gives its own answer.
    formula.cache_clear()
    items = [MarketItem.of(market(f"m{v}", volume=v)) for v in (10, 20, 30)]
    thresholds = range(FORMULA_CACHE_SIZE + 20)
    for _ in range(2):
        for v in thresholds:
            spec = Filter(when=f"volume > {v % 35} + 0 * {v}")  # distinct sources
            kept = asyncio.run(keep_where(spec, list(items), make_run(FakeMarketData())))
            assert [i.slug for i in kept] == [f"m{x}" for x in (10, 20, 30) if x > v % 35]
    assert formula.cache_info().currsize <= FORMULA_CACHE_SIZE
    assert formula("volume > 5") is formula("volume > 5")  # shared while it is cached


def test_filter_on_spread_reads_the_book_on_demand() -> None:
    def book(token: str, bid: str, ask: str) -> OrderBook:
        return OrderBook(
            token_id=token,
            bids=(Level(Decimal(bid), Decimal(100)),),
            asks=(Level(Decimal(ask), Decimal(100)),),
            tick_size=Decimal("0.01"),
            min_order_size=Decimal(5),
            ts=NOW,
        )

    md = FakeMarketData(
        books={"a-yes": book("a-yes", "0.40", "0.42"), "b-yes": book("b-yes", "0.3", "0.5")}
    )
    run = make_run(md)
    items = [MarketItem.of(market("a")), MarketItem.of(market("b"))]
    kept = asyncio.run(keep_where(Filter(when="spread < 0.05"), items, run))
    assert [i.slug for i in kept] == ["a"]
    assert kept[0].price == Decimal("0.41") and kept[0].spread == Decimal("0.02")


def test_stream_markets_queries_gamma_and_filters_text_and_limit() -> None:
    listing = [market(f"m{i}", question=f"Will team {i} win?") for i in range(12)]
    listing.insert(3, market("m-dup", question="Will team 1 win again?"))
    md = FakeMarketData(listing=listing)
    run = make_run(md)
    spec = StreamMarkets(tag="sports", text="TEAM 1", min_volume_usd=Decimal(10), limit=5)
    out = asyncio.run(stream_markets(spec, [MarketItem.of(market("ignored"))], run))
    # "team 1" matches m1, m-dup, m10, m11; the input item is replaced.
    assert [i.slug for i in out] == ["m1", "m-dup", "m10", "m11"]
    q = md.queries[0]
    assert (q.tag, q.min_volume_usd, q.closed, q.active, q.text) == (
        "sports",
        Decimal(10),
        False,
        True,
        None,
    )
    assert out[0].price == Decimal("0.4") and out[0].volume == Decimal(1000)


def test_stream_markets_pages_until_the_limit() -> None:
    md = FakeMarketData(listing=[market(f"m{i}") for i in range(1200)])
    out = asyncio.run(stream_markets(StreamMarkets(limit=700), [], make_run(md)))
    assert len(out) == 700
    assert [q.offset for q in md.queries] == [0, 500]


def test_market_query_end_dates_and_activity() -> None:
    run = make_run(FakeMarketData())
    q = market_query(StreamMarkets(end_before_days=2, active=False), run)
    assert (q.end_before, q.end_after, q.active) == (NOW + timedelta(days=2), NOW, None)


def test_market_query_is_the_same_for_every_run_of_a_minute() -> None:
    spec = StreamMarkets(end_before_days=2)
    queries = set()
    for secs in (0.5, 17, 59.9):
        run = make_run(FakeMarketData())
        run.now = NOW + timedelta(seconds=secs)
        queries.add(market_query(spec, run))
    (q,) = queries  # one cache key for the whole minute, never reaching past "now"
    assert q.end_after == NOW + timedelta(minutes=1)
    assert q.end_before == NOW + timedelta(days=2)


def test_item_values_and_json_round_trip() -> None:
    item = MarketItem.of(market("a", price="0.35", volume=1234))
    item.watch_added_at = NOW - timedelta(minutes=90)
    item.computed = {"momentum": 0.1, "momentum_1h": 0.1, "whale_net_flow": -500.0}
    values = item.values(NOW)
    assert values["price"] == 0.35 and values["volume"] == 1234
    assert values["hours_to_close"] == 48.0 and values["minutes_on_watchlist"] == 90.0
    assert values["spread"] is None and values["momentum_24h"] is None
    fresh = market("a", price="0.5", volume=2000)
    back = MarketItem.from_json(item.to_json(), fresh)
    assert back.computed == item.computed and back.watch_added_at == item.watch_added_at
    assert back.price == Decimal("0.5") and back.volume == Decimal(2000)
    # Unknown or non-numeric metrics in a stored item are ignored.
    junk = {**item.to_json(), "computed": {"momentum": "x", "evil": 1.0, "whale_net_flow": True}}
    assert MarketItem.from_json(junk, fresh).computed == {}


def test_suffix_fingerprint_changes_with_the_rest_of_the_pipeline() -> None:
    def strategy(nodes: list[Any]) -> PipelineStrategy:
        return PipelineStrategy.model_validate(
            {
                "name": "s",
                "kind": "pipeline",
                "schedule": {"every": "1m"},
                "allocation_usd": 10,
                "limits": {"daily_loss_usd": 1, "max_position_pct": 10},
                "pipeline": nodes,
            }
        )

    a = strategy(["monitor_watchlist", {"wait": {"duration": "1h"}}, "remove_from_watchlist"])
    b = strategy(["stream_markets", {"wait": {"duration": "2h"}}, "remove_from_watchlist"])
    c = strategy(["monitor_watchlist", {"wait": {"duration": "1h"}}, {"check_momentum": {}}])
    assert suffix_fingerprint(a, 2) == suffix_fingerprint(b, 2)
    assert suffix_fingerprint(a, 2) != suffix_fingerprint(c, 2)
    assert suffix_fingerprint(a, 1) != suffix_fingerprint(a, 2)
