"""The status page against real SQLite and PostgreSQL databases: numbers, cache, writer, CLI."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from autotrader.cli import main
from autotrader.clock import FakeClock
from autotrader.config import AppConfig, load_config
from autotrader.domain.fills import Fill
from autotrader.domain.orders import Side
from autotrader.domain.positions import StrategyFill, StrategySettlement
from autotrader.executor.books import all_ledgers, load_snapshot
from autotrader.status.history import HistoryCache
from autotrader.status.snapshot import gather, gc_paused
from autotrader.status.strategy_views import with_runs
from autotrader.status.trades import History, walk
from autotrader.status.writer import StatusPageWriter
from autotrader.store.db import create_db_engine
from autotrader.store.repos_trading import FillRepo, SettlementRepo
from autotrader.store.repos_watchlist import WatchlistRepo
from harness.status_world import EXPECTED, HOSTILE, NOW, World, seed_world, write_config

World3 = tuple[World, AppConfig, sa.Engine]


@pytest.fixture
def world(tmp_path: Path, database_url: str) -> Iterator[World3]:
    w = seed_world(tmp_path, database_url)
    engine = create_db_engine(database_url)
    yield w, load_config(w.config_path), engine
    engine.dispose()


def test_the_snapshot_agrees_with_the_ledger_cli_and_the_repositories(world: World3) -> None:
    _w, config, engine = world
    snap = gather(config, engine, now=NOW, real_now=datetime.now(UTC))
    views = {s.name: s for s in snap.strategies}
    assert list(views) == ["alpha", "beta", "gamma", "delta"]  # the YAML's order
    ledgers = all_ledgers(config, load_snapshot(engine))
    held = load_snapshot(engine).history.positions.values()
    watch = WatchlistRepo(engine)
    for name, view in views.items():
        ref = ledgers[name]
        got = view.ledger
        assert (got.allocated_usd, got.deployed_usd, got.available_usd) == (
            ref.allocated_usd,
            ref.deployed_usd,
            ref.available_usd,
        )
        assert (got.realized_pnl_usd, got.fees_usd) == (ref.realized_pnl_usd, ref.fees_usd)
        assert got.balanced()
        assert len(view.positions) == sum(1 for p in held if p.is_open and p.strategy == name)
        assert len(view.watchlist) == len(watch.list(name, now=NOW))
        assert view.status == EXPECTED[name]["status"]
    # The index's views carry no runs (a batch of pages reads them), only their sums.
    assert views["alpha"].runs == () and views["alpha"].run_stats is not None
    assert views["alpha"].run_stats.done == 5 and views["alpha"].activity_24h > 0
    alpha = with_runs(views["alpha"], snap.runs_for(["alpha"])["alpha"])
    assert alpha.ledger.net_pnl_usd == Decimal("13.9")
    assert alpha.totals == (5, 5, 0) and len(alpha.runs) == 5
    assert alpha.runs[0].started_at > alpha.runs[-1].started_at  # newest first
    assert alpha.win_rate == 1.0 and alpha.closed_count == 1
    assert alpha.closed[0].market.title == HOSTILE  # named by its watchlist question
    assert {a.kind for a in alpha.timeline} == {"run", "fill", "event"}
    assert views["beta"].pause_reason == "daily loss limit hit"
    assert views["beta"].closed[0].trip.exit == "settled"
    assert views["gamma"].uptime_secs is None and views["delta"].uptime_secs == 600.0
    assert [d.daemon for d in snap.daemons if d.stale] == ["executor"]
    assert snap.signal.state == "ok" and snap.signal.direction == "UP" and not snap.problems


def test_reading_runs_a_batch_at_a_time_leaves_nothing_to_the_paused_collector(
    world: World3,
) -> None:
    # A render reads the runs of hundreds of batches of pages with the cyclic collector
    # paused: a query built per batch was ~10 objects of cyclic garbage each, all kept (and
    # the memory they took pinned) until the render ended.
    _w, config, engine = world
    snap = gather(config, engine, now=NOW, real_now=datetime.now(UTC))
    names = [s.name for s in snap.strategies]
    assert len(snap.runs_for(names)["alpha"]) == 5  # warm: the compiled statement is cached
    gc.collect()
    with gc_paused():
        for _ in range(20):
            assert len(snap.runs_for(names)["alpha"]) == 5
        assert gc.collect() < 20


def test_the_history_cache_extends_with_new_fills_and_replays_on_late_ones(world: World3) -> None:
    _w, config, engine = world
    cache = HistoryCache()
    gather(config, engine, now=NOW, real_now=NOW, history=cache)
    assert cache.full_reads == 1
    gather(config, engine, now=NOW, real_now=NOW, history=cache)
    assert cache.full_reads == 1  # nothing new: nothing read

    def add(tid: str, minutes_ago: float, token: str, side: Side) -> None:
        ts = NOW - timedelta(minutes=minutes_ago)
        fill = Fill(
            tid,
            f"0x{tid}",
            token,
            side,
            Decimal("0.7"),
            Decimal(10),
            Decimal("0.01"),
            ts,
            "taker",
        )
        assert FillRepo(engine).add(fill, order_id=None, strategy="alpha")

    def fresh() -> History:
        return walk(*_all_history(engine))

    add("late-1", 5, "tok-open", Side.SELL)  # newer than everything: extended
    snap = gather(config, engine, now=NOW, real_now=NOW, history=cache)
    assert cache.full_reads == 1
    assert cache.walker is not None and cache.walker.history() == fresh()
    alpha = next(s for s in snap.strategies if s.name == "alpha")
    assert alpha.positions[0].shares == 40
    # The ledger was recomputed for alpha (its events changed), not taken from the memo.
    assert alpha.ledger == all_ledgers(config, load_snapshot(engine))["alpha"]
    add("early-1", 115, "tok-new", Side.BUY)  # older than the last one replayed: everything again
    gather(config, engine, now=NOW, real_now=NOW, history=cache)
    assert cache.full_reads == 2 and cache.walker.history() == fresh()


def _all_history(engine: sa.Engine) -> tuple[list[StrategyFill], list[StrategySettlement]]:
    fills = [StrategyFill(r.strategy, r.fill) for r in FillRepo(engine).all()]
    stls = [StrategySettlement(r.strategy, r.settlement) for r in SettlementRepo(engine).all()]
    return fills, stls


def test_the_writer_renders_when_due_or_forced_and_replaces_files_atomically(world: World3) -> None:
    _w, config, engine = world
    out = config.status_page.output_dir
    out.mkdir(parents=True)
    (out / "strategy-removed.html").write_text("a strategy no longer configured")
    ticks = [1000.0]
    writer = StatusPageWriter(
        config, FakeClock(NOW.timestamp()), engine, monotonic=lambda: ticks[0]
    )

    async def scenario() -> list[int]:
        seen = []
        await writer.on_tick()
        seen.append(writer.renders)
        ticks[0] += 29  # refresh_secs is 30
        await writer.on_tick()
        seen.append(writer.renders)
        await writer.on_tick(force=True)
        seen.append(writer.renders)
        ticks[0] += 30
        await writer.on_tick()
        seen.append(writer.renders)
        return seen

    assert asyncio.run(scenario()) == [1, 1, 2, 3]
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "index.html",
        *(f"strategy-{n}.html" for n in ("alpha", "beta", "delta", "gamma")),
    ]
    assert "2026-11-03 12:00:00" in (out / "index.html").read_text()  # the daemons' clock


def test_page_render_cli_prints_the_index_and_refuses_a_missing_database(
    world: World3, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w, _config, _engine = world
    other = tmp_path / "elsewhere"
    assert main(["page", "render", "--config", str(w.config_path), "--output", str(other)]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == str(other / "index.html") and Path(printed).is_file()
    assert (other / "strategy-alpha.html").is_file()
    (tmp_path / "nodb").mkdir()
    missing = write_config(tmp_path / "nodb", f"sqlite:///{tmp_path / 'nodb' / 'none.db'}")
    assert main(["page", "render", "--config", str(missing)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err
    assert not (tmp_path / "nodb" / "none.db").exists()
