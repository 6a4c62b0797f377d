"""Pipeline strategies against a real simulator process and a real database (SQLite and PG).

One simulator per module, on the config's simulated clock (shared through ``clock.json``), so
runs here and the simulator agree on "now". Each test has its own database.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from py_clob_client_v2.clob_types import (  # type: ignore[import-untyped, unused-ignore]
    MarketOrderArgsV2,
    OrderType,
)

from autotrader.config import load_config
from autotrader.config_nodes import CheckMomentum, WhaleActivity
from autotrader.config_strategies import PipelineStrategy
from autotrader.daemons.setup import build_clock
from autotrader.domain.fills import Fill
from autotrader.domain.intents import IntentStatus
from autotrader.domain.orders import Side
from autotrader.store.repos_intents import IntentRepo
from autotrader.store.repos_runtime import EventRepo
from autotrader.store.repos_trading import FillRepo
from autotrader.store.repos_watchlist import DeferredRepo, WatchEntry, WatchlistRepo
from autotrader.strategies.base import StrategyContext
from autotrader.strategies.context import build_context, shared_reads
from autotrader.strategies.items import MarketItem
from autotrader.strategies.nodes.base import PipelineRun
from autotrader.strategies.nodes.metrics import check_momentum, momentum_score, whale_activity
from autotrader.strategies.pipeline import run_pipeline
from harness.sim import DATA, REPO, SimProcess, autotrader_env, clob_client
from harness.store import migrated_engine

START = "2026-02-21T14:26:00+00:00"  # the demo candles' first minute
SPEED = 60.0
BIG_POLITICS = "will-maria-alvarez-win-the-2026-presidential-election-473"  # volume ~2M
SMALL_POLITICS = "will-luca-romano-win-the-2026-presidential-election-322"  # volume ~37k

CONFIG = """\
state_dir: {state}
database_url: "{db}"
mode: paper
clock: {{speed: {speed}, start: "{start}"}}
feeds: {{btc: {{sources: [replay], replay: {{path: {data}}}}}}}
polymarket: {{gamma_url: "{url}", clob_url: "{url}", data_url: "{url}"}}
strategies:
  - name: politics
    kind: pipeline
    schedule: {{every: 5m}}
    allocation_usd: 500
    limits: {{daily_loss_usd: 100, max_position_pct: 25}}
    pipeline:
{pipeline}
"""

FIND = """\
      - stream_markets: {tag: politics, min_volume_usd: 10000}
      - filter: {when: "volume > 100000"}
      - add_to_watchlist: {reason: "volume > 100k", expire_after: 7d}
"""
TRADE = """\
      - monitor_watchlist: {}
      - check_momentum: {timeframe: 1h}
      - condition: {when: "momentum >= -1 and volume > 500000"}
      - execute_trade: {outcome: "Yes", amount_usd: 10, order_type: market}
      - remove_from_watchlist: {}
"""
WAIT = """\
      - monitor_watchlist: {}
      - wait: {duration: 3m}
      - remove_from_watchlist: {}
"""


@dataclass(frozen=True)
class Sim:
    """The simulator's URL and the folder whose clock.json it runs on."""

    url: str
    state: Path
    process: SimProcess


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    root = tmp_path_factory.mktemp("pipeline-sim")
    state = root / "state"
    config = root / "sim.yaml"
    config.write_text(
        CONFIG.format(
            state=state,
            db="sqlite://",
            speed=SPEED,
            start=START,
            data=DATA,
            url="http://127.0.0.1:1",
            pipeline="      - monitor_watchlist: {}",
        )
    )
    process = SimProcess("sim", "--port", "0", "--config", str(config))
    try:
        yield Sim(process.url, state, process)
    finally:
        process.close()


def write_config(sim: Sim, tmp_path: Path, database_url: str, pipeline: str) -> Path:
    """A config whose strategy ``politics`` runs ``pipeline`` against the simulator."""
    path = tmp_path / "autotrader.yaml"
    path.write_text(
        CONFIG.format(
            state=sim.state,
            db=database_url,
            speed=SPEED,
            start=START,
            data=DATA,
            url=sim.url,
            pipeline=pipeline.rstrip("\n"),
        )
    )
    return path


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    yield from migrated_engine(database_url)


@asynccontextmanager
async def context(config_path: Path, engine: sa.Engine) -> AsyncIterator[StrategyContext]:
    """A strategy context on the config's simulator and clock, as the scheduler builds it
    (wallet-free reads behind the shared read cache)."""
    config = load_config(config_path)
    clock = build_clock(config)
    reads = shared_reads(config, clock)
    try:
        yield build_context(config, clock, engine, reads)
    finally:
        await reads.aclose()


def strategy_of(config_path: Path) -> PipelineStrategy:
    strategy = load_config(config_path).strategies[0]
    assert isinstance(strategy, PipelineStrategy)
    return strategy


async def run_once(config_path: Path, engine: sa.Engine) -> list[tuple[str, int, int]]:
    async with context(config_path, engine) as ctx:
        result = await run_pipeline(strategy_of(config_path), ctx)
    assert result.outcome == "ok"
    return [(s.node, s.items_in, s.items_out) for s in result.stats]


def watch(engine: sa.Engine, config: Path, slug: str) -> None:
    """Put ``slug`` on the strategy's watchlist by hand (as the CLI does), an hour ago."""
    now = build_clock(load_config(config)).now()
    entry = WatchEntry("politics", slug, "1", slug, "by hand", now - timedelta(hours=1))
    assert WatchlistRepo(engine).add(entry)


def test_seed_example_find_then_trade(
    sim: Sim, tmp_path: Path, database_url: str, engine: sa.Engine
) -> None:
    """stream → filter volume → add to watchlist; then (the definition changed, as after a
    reload) monitor → momentum → condition → execute trade → remove from watchlist."""
    find = write_config(sim, tmp_path, database_url, FIND)
    stats = asyncio.run(run_once(find, engine))
    assert stats == [("stream_markets", 0, 2), ("filter", 2, 1), ("add_to_watchlist", 1, 1)]
    entries = WatchlistRepo(engine).list("politics")
    assert [e.market_slug for e in entries] == [BIG_POLITICS]
    volume, price = entries[0].volume_at_add, entries[0].price_at_add
    assert entries[0].reason == "volume > 100k" and volume is not None and volume > 1_000_000
    assert entries[0].expires_at == entries[0].added_at + timedelta(days=7)
    assert price is not None and 0 < price < 1
    events = EventRepo(engine).list(type="watchlist_updated")
    assert [(e.strategy, e.payload["added"], e.payload["removed"]) for e in events] == [
        ("politics", [BIG_POLITICS], [])
    ]
    assert "added 1" in events[0].payload["summary"]
    # Again: already watched, nothing changes and no new event.
    asyncio.run(run_once(find, engine))
    assert len(WatchlistRepo(engine).list("politics")) == 1
    assert len(EventRepo(engine).list(type="watchlist_updated")) == 1

    watch(engine, find, SMALL_POLITICS)  # volume < 500k: the condition keeps it out
    trade = write_config(sim, tmp_path, database_url, TRADE)
    stats = asyncio.run(run_once(trade, engine))
    assert stats == [
        ("monitor_watchlist", 0, 2),
        ("check_momentum", 2, 2),
        ("condition", 2, 1),
        ("execute_trade", 1, 1),
        ("remove_from_watchlist", 1, 1),
    ]
    (intent,) = [s.intent for s in IntentRepo(engine).list("politics")]
    market = httpx.get(f"{sim.url}/markets/slug/{BIG_POLITICS}", timeout=10).json()
    assert intent.token_id == json.loads(market["clobTokenIds"])[0]
    assert (intent.side, intent.outcome, intent.amount_usd, intent.kind.value) == (
        Side.BUY, "Yes", Decimal(10), "market",
    )  # fmt: skip
    assert intent.entry_key == BIG_POLITICS and intent.market_slug == BIG_POLITICS
    assert intent.valid_until - intent.created_at == timedelta(seconds=30)
    assert [e.market_slug for e in WatchlistRepo(engine).list("politics")] == [SMALL_POLITICS]
    assert EventRepo(engine).list(type="watchlist_updated")[0].payload["removed"] == [BIG_POLITICS]
    # The market left the watchlist: another run trades nothing more. An entry that expired
    # meanwhile is purged by the run and reported.
    now = build_clock(load_config(trade)).now()
    old = WatchEntry("politics", "old-market", "2", "Old?", "r", now - timedelta(days=8),
                     now - timedelta(days=1))  # fmt: skip
    assert WatchlistRepo(engine).add(old)
    asyncio.run(run_once(trade, engine))
    assert len(IntentRepo(engine).list("politics")) == 1
    assert [e.market_slug for e in WatchlistRepo(engine).list("politics")] == [SMALL_POLITICS]
    latest = EventRepo(engine).list(type="watchlist_updated")[0].payload
    assert (latest["expired"], latest["added"], latest["removed"]) == (["old-market"], [], [])


def test_momentum_matches_the_price_history(
    sim: Sim, tmp_path: Path, database_url: str, engine: sa.Engine
) -> None:
    config = write_config(sim, tmp_path, database_url, TRADE)

    async def go() -> tuple[float, float]:
        async with context(config, engine) as ctx:
            market = await ctx.market_data.market_by_slug(BIG_POLITICS)
            assert market is not None
            run = PipelineRun(strategy_of(config), ctx, ctx.clock.now())
            (item,) = await check_momentum(
                CheckMomentum(timeframe="1h"),
                [MarketItem.of(market)],
                run,
            )
            start = int((run.now - timedelta(hours=1)).timestamp())
            params: dict[str, str | int] = {"market": market.tokens[0].token_id, "startTs": start,
                      "endTs": int(run.now.timestamp()), "fidelity": 1}  # fmt: skip
            raw = httpx.get(f"{sim.url}/prices-history", params=params, timeout=10).json()
            from datetime import UTC, datetime

            history = [
                (datetime.fromtimestamp(p["t"], UTC), Decimal(str(p["p"]))) for p in raw["history"]
            ]
            expected = momentum_score(history, run.now, 3600)
            assert expected is not None
            return item.computed["momentum_1h"], expected

    got, expected = asyncio.run(go())
    assert got == pytest.approx(expected) and -1 <= got <= 1


def test_whale_activity_nets_large_trades(
    sim: Sim, tmp_path: Path, database_url: str, engine: sa.Engine
) -> None:
    pipeline = "      - monitor_watchlist: {}\n      - whale_activity: {min_trade_usd: 10}\n"
    config = write_config(sim, tmp_path, database_url, pipeline)

    async def flow() -> dict[str, float]:
        async with context(config, engine) as ctx:
            run = PipelineRun(strategy_of(config), ctx, ctx.clock.now())
            market = await ctx.market_data.market_by_slug(SMALL_POLITICS)
            assert market is not None
            spec = WhaleActivity(min_trade_usd=Decimal(10), window=3600)
            (item,) = await whale_activity(spec, [MarketItem.of(market)], run)
            return item.computed

    before = asyncio.run(flow())["whale_net_flow"]
    clob = clob_client(sim.process)
    market = httpx.get(f"{sim.url}/markets/slug/{SMALL_POLITICS}", timeout=10).json()
    yes, no = json.loads(market["clobTokenIds"])
    for token, amount in ((yes, 40), (no, 15), (yes, 3)):
        res = clob.create_and_post_market_order(
            MarketOrderArgsV2(token_id=token, amount=amount, side="BUY"), order_type=OrderType.FOK
        )
        assert res["success"], res
    after = asyncio.run(flow())
    # Our own fills, as the tape lists them: buying Yes counts +usd, buying No -usd, and a
    # trade under 10 USD (the 3-dollar order) is left out. (Earlier trades of this module's
    # simulator may still be in the hour: compare before and after.)
    wallet = clob.get_address()
    rows = httpx.get(f"{sim.url}/v2/trades", params={"user": wallet}, timeout=10).json()["data"]
    usd = [(str(r["token_id"]), float(r["size"]) * float(r["price"])) for r in rows]
    # One row per match: an order that took two price levels is two trades on the tape.
    assert sum(u for _, u in usd) == pytest.approx(58, abs=0.01)
    expected = sum(u if token == yes else -u for token, u in usd if u >= 10)
    assert after["whale_net_flow"] - before == pytest.approx(expected, abs=1e-6)
    assert after["whale_net_flow_1h"] == after["whale_net_flow"]


def test_entries_once_per_market_and_exits_from_fills(
    sim: Sim, tmp_path: Path, database_url: str, engine: sa.Engine
) -> None:
    pipeline = """\
      - monitor_watchlist: {}
      - exit_position: {fraction: 0.5}
"""
    trade = write_config(
        sim, tmp_path, database_url, TRADE.replace("      - remove_from_watchlist: {}\n", "")
    )
    watch(engine, trade, BIG_POLITICS)
    assert asyncio.run(run_once(trade, engine))[-1] == ("execute_trade", 1, 1)
    # The entry is pending: no second one.
    assert asyncio.run(run_once(trade, engine))[-1] == ("execute_trade", 1, 0)
    repo = IntentRepo(engine)
    (first,) = repo.list("politics")
    repo.finish(first.id, IntentStatus.FILLED, "FILLED", "filled in the test")
    # Filled and holding: still no new entry while the position is open.
    from datetime import UTC, datetime

    fill = Fill("t1", "0xabc", first.intent.token_id, Side.BUY, Decimal("0.5"), Decimal(20),
                Decimal(0), datetime.now(UTC), "taker")  # fmt: skip
    FillRepo(engine).add(fill, order_id=None, strategy="politics")
    assert asyncio.run(run_once(trade, engine))[-1] == ("execute_trade", 1, 0)

    exit_cfg = tmp_path / "exit"
    exit_cfg.mkdir()
    exits = write_config(sim, exit_cfg, database_url, pipeline)
    assert asyncio.run(run_once(exits, engine))[-1] == ("exit_position", 1, 1)
    sells = [s.intent for s in repo.list("politics") if s.intent.side is Side.SELL]
    assert [(s.shares, s.entry_key, s.token_id) for s in sells] == [
        (Decimal(10), None, first.intent.token_id)
    ]
    # The exit is pending: no second one.
    assert asyncio.run(run_once(exits, engine))[-1] == ("exit_position", 1, 0)
    # Once flat, a new entry is allowed, under a new entry key.
    repo.finish(sells[0].id, IntentStatus.FILLED, "FILLED", "filled in the test")
    sell = Fill("t2", "0xdef", first.intent.token_id, Side.SELL, Decimal("0.5"), Decimal(20),
                Decimal(0), datetime.now(UTC), "taker")  # fmt: skip
    FillRepo(engine).add(sell, order_id=None, strategy="politics")
    assert asyncio.run(run_once(trade, engine))[-1] == ("execute_trade", 1, 1)
    keys = sorted(s.intent.entry_key or "-" for s in repo.list("politics"))
    assert keys == ["-", BIG_POLITICS, f"{BIG_POLITICS}#1"]


RESUME = """\
import asyncio, json, sys
from autotrader.config import load_config
from autotrader.daemons.setup import build_clock
from autotrader.store.db import create_db_engine
from autotrader.strategies.context import build_context, shared_reads
from autotrader.strategies.pipeline import run_pipeline

async def main():
    config = load_config(sys.argv[1])
    clock, engine = build_clock(config), create_db_engine(config.database_url)
    reads = shared_reads(config, clock)
    try:
        ctx = build_context(config, clock, engine, reads)
        result = await run_pipeline(config.strategies[0], ctx)
    finally:
        await reads.aclose()
    print(json.dumps([[s.node, s.items_in, s.items_out] for s in result.stats]))

asyncio.run(main())
"""


def test_wait_defers_across_a_restart(
    sim: Sim, tmp_path: Path, database_url: str, engine: sa.Engine
) -> None:
    config = write_config(sim, tmp_path, database_url, WAIT)
    watch(engine, config, BIG_POLITICS)
    stats = asyncio.run(run_once(config, engine))
    assert stats == [("monitor_watchlist", 0, 1), ("wait", 1, 0), ("remove_from_watchlist", 0, 0)]
    (deferred,) = DeferredRepo(engine).pending("politics")
    assert deferred.node_index == 2 and deferred.item["slug"] == BIG_POLITICS
    # resume_at is the run's time + 3 minutes; created_at the (simulated) time of the write.
    assert timedelta(minutes=2) < deferred.resume_at - deferred.created_at <= timedelta(minutes=3)

    def resume_in_a_new_process() -> list[list[object]]:
        proc = subprocess.run(
            [sys.executable, "-c", RESUME, str(config)],
            cwd=REPO, env=autotrader_env(), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        result: list[list[object]] = json.loads(proc.stdout.splitlines()[-1])
        return result

    clock = build_clock(load_config(config))
    deadline = time.monotonic() + 60
    while clock.now() < deferred.resume_at:  # 3 simulated minutes = 3 s here
        assert time.monotonic() < deadline
        time.sleep(0.1)  # polling the simulated clock, not a synchronisation
    stats2 = resume_in_a_new_process()
    # The deferred market resumes at remove_from_watchlist; monitor emits it again and the
    # wait defers that one anew.
    assert stats2 == [["monitor_watchlist", 0, 1], ["wait", 1, 0], ["remove_from_watchlist", 1, 1]]
    assert WatchlistRepo(engine).list("politics") == []
    assert [d.item["slug"] for d in DeferredRepo(engine).pending("politics")] == [BIG_POLITICS]
