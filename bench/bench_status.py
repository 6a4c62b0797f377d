"""Render time of the whole status site with 100 strategies and 10,000 trades (target ≤ 300 ms).

A SQLite database (the default backend) is filled in bulk: 100 strategies, each with 100 fills
(48 round trips and two positions still open), 50 runs, 10 watched markets and 20 events.
Then the site is gathered (every database read + the replay of the fills) and rendered (101
pages) several times; the medians are printed, with the ratio to the target. The steady state
is what the writer does every refresh: one new fill, the gather that extends the cached replay,
and the incremental render (only the changed strategy's page, plus the index). Writing the
files (atomic, fsync'd) is timed separately: it depends on the disk, not on the code.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from autotrader.config import AppConfig, load_config
from autotrader.status.history import HistoryCache
from autotrader.status.render import render_pages, render_site
from autotrader.status.snapshot import gather
from autotrader.status.writer import write_site
from autotrader.store import migrate
from autotrader.store.db import create_db_engine
from autotrader.store.models import (
    DAEMON_HEARTBEATS,
    FILLS,
    NOTIFICATION_EVENTS,
    ORDERS,
    STRATEGY_RUNTIME,
)
from autotrader.store.models_pipeline import WATCHLIST
from autotrader.store.models_scheduler import STRATEGY_RUNS, STRATEGY_STATE

STRATEGIES = 100
FILLS_PER_STRATEGY = 100
RUNS = 5
TARGET_MS = 300.0
NOW = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
STRATEGY_YAML = """\
  - name: {name}
    kind: btc_updown_15m
    enabled: {enabled}
    schedule: {{every: 15m, align: true}}
    allocation_usd: 1000
    limits: {{daily_loss_usd: 100, max_position_pct: 20}}
"""


def _names() -> list[str]:
    return [f"strategy-{i:03d}" for i in range(STRATEGIES)]


def _config(folder: Path) -> AppConfig:
    url = f"sqlite:///{folder / 'bench.db'}"
    body = "".join(
        STRATEGY_YAML.format(name=n, enabled="false" if i % 10 == 9 else "true")
        for i, n in enumerate(_names())
    )
    path = folder / "autotrader.yaml"
    path.write_text(f"state_dir: state\ndatabase_url: '{url}'\nstrategies:\n{body}")
    return load_config(path)


def _trading_rows(name: str, rng: random.Random) -> tuple[list[dict[str, Any]], ...]:
    """100 fills of one strategy over 50 tokens, and one order per token (names the market)."""
    fills: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    t0 = NOW - timedelta(days=20)
    for j in range(50):
        token, slug = f"{name}-tok-{j}", f"{name}-market-{j}"
        ts = t0 + timedelta(hours=9 * j)
        orders.append(_order(name, token, slug, ts))
        buy = Decimal(rng.randint(20, 80)) / 100
        fills.append(_fill(name, f"{name}-{j}-b", token, "BUY", buy, Decimal(20), ts))
        sell = Decimal(rng.randint(10, 90)) / 100
        size = Decimal(20) if j < 48 else Decimal(10)  # the last two stay half open
        fills.append(
            _fill(name, f"{name}-{j}-s", token, "SELL", sell, size, ts + timedelta(hours=3))
        )
    return fills, orders


def _fill(
    strategy: str, tid: str, token: str, side: str, px: Decimal, size: Decimal, ts: datetime
) -> dict[str, Any]:
    fee = (size * Decimal("0.07") * px * (1 - px)).quantize(Decimal("0.00000001"))
    return {
        "trade_id": tid,
        "order_id": None,
        "venue_order_id": f"0x{tid}",
        "strategy": strategy,
        "token_id": token,
        "side": side,
        "price": px,
        "size": size,
        "fee_usd": fee,
        "ts": ts,
        "liquidity": "taker",
    }


def _order(strategy: str, token: str, slug: str, ts: datetime) -> dict[str, Any]:
    return {
        "id": f"o-{token}",
        "intent_id": None,
        "strategy": strategy,
        "market_slug": slug,
        "outcome": "Yes",
        "token_id": token,
        "side": "BUY",
        "order_type": "FOK",
        "price": Decimal("0.99"),
        "size": Decimal(20),
        "amount_usd": None,
        "venue_order_id": f"0xo-{token}",
        "status": "FILLED",
        "reason_code": None,
        "reason_text": None,
        "size_matched": Decimal(20),
        "created_at": ts,
        "updated_at": ts,
    }


def _scheduler_rows(i: int, name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    state = {
        "strategy": name,
        "desired": None,
        "started_at": NOW - timedelta(days=20, hours=i),
        "last_run_at": NOW - timedelta(minutes=3),
        "next_run_at": NOW + timedelta(minutes=12),
        "last_outcome": "ok",
        "last_error": None,
        "consecutive_failures": 1 if i % 7 == 6 else 0,
        "executions": 1900,
        "successes": 1890,
        "failures": 10,
        "run_now_at": None,
        "definition_hash": None,
        "updated_at": NOW,
    }
    nodes = [
        {"node": "stream_markets", "in": 0, "out": 40},
        {"node": "condition", "in": 40, "out": 2},
        {"node": "execute_trade", "in": 2, "out": 1},
    ]
    runs = [
        {
            "strategy": name,
            "started_at": NOW - timedelta(minutes=15 * k + 3),
            "ended_at": NOW - timedelta(minutes=15 * k + 3) + timedelta(seconds=1.5),
            "outcome": "ok" if k % 11 else "failed",
            "nodes": nodes,
            "intents_created": k % 2,
            "error": None if k % 11 else "venue said no",
            "note": None,
            "scheduled_for": NOW - timedelta(minutes=15 * k + 3),
            "trigger": "schedule",
        }
        for k in range(50)
    ]
    return state, runs


def _side_rows(name: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    watch: list[dict[str, Any]] = [
        {
            "strategy": name,
            "market_slug": f"{name}-watch-{k}",
            "market_id": f"m{k}",
            "question": f"Will thing {k} happen by <date>?",
            "reason": "volume > 100k",
            "added_at": NOW - timedelta(hours=k),
            "expires_at": None,
            "price_at_add": Decimal("0.42"),
            "volume_at_add": Decimal(150000),
            "meta": {},
        }
        for k in range(10)
    ]
    events = [
        {
            "type": "trade_executed",
            "strategy": name,
            "created_at": NOW - timedelta(hours=k),
            "payload": {"summary": f"{name} bought Yes for $10 in market {k}"},
            "read_at": None,
        }
        for k in range(20)
    ]
    return watch, events


def _rows() -> dict[sa.Table, list[dict[str, Any]]]:
    """Every row of the data set, by table."""
    rng = random.Random(6)
    tables: dict[sa.Table, list[dict[str, Any]]] = defaultdict(list)
    for i, name in enumerate(_names()):
        fills, orders = _trading_rows(name, rng)
        state, runs = _scheduler_rows(i, name)
        watch, events = _side_rows(name)
        tables[FILLS] += fills
        tables[ORDERS] += orders
        tables[STRATEGY_STATE].append(state)
        tables[STRATEGY_RUNS] += runs
        tables[WATCHLIST] += watch
        tables[NOTIFICATION_EVENTS] += events
        if i % 10 == 4:  # a tenth of them paused
            pause = {"strategy": name, "paused": True, "pause_reason": "daily loss limit"}
            tables[STRATEGY_RUNTIME].append(
                {
                    **pause,
                    "paused_at": NOW,
                    "consecutive_venue_failures": 0,
                    "last_entry_at": None,
                    "updated_at": NOW,
                }
            )
    beat = {"pid": 1, "host": "h", "started_at": NOW, "last_beat_at": NOW, "state": "running"}
    tables[DAEMON_HEARTBEATS] = [
        {**beat, "daemon": d, "status": "ok"} for d in ("signal", "scheduler", "executor")
    ]
    return tables


def fill_database(config: AppConfig) -> None:
    """Write the whole data set in bulk (one transaction)."""
    migrate.upgrade(config.database_url)
    engine = create_db_engine(config.database_url)
    with engine.begin() as conn:
        for table, rows in _rows().items():
            conn.execute(sa.insert(table), rows)
    engine.dispose()


def _median_ms(work: Callable[[], object], runs: int = RUNS) -> tuple[float, float]:
    """Median wall and CPU milliseconds of ``work()`` (CPU too: the machine may be shared)."""
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        work()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def _add_fill(engine: sa.Engine, n: int) -> None:
    """One more fill, newer than all others (what the executor adds between two renders)."""
    ts = NOW - timedelta(seconds=60 - n)
    row = _fill(
        "strategy-000", f"extra-{n}", "strategy-000-tok-49", "SELL", Decimal("0.5"), Decimal(1), ts
    )
    with engine.begin() as conn:
        conn.execute(sa.insert(FILLS), [row])


def _line(label: str, figures: tuple[float, float], note: str = "") -> None:
    wall, cpu = figures
    print(f"  {label:<38} {wall:7.1f} ms wall {cpu:7.1f} ms CPU  {note}".rstrip())


def _extended_ms(
    config: AppConfig, engine: sa.Engine, cache: HistoryCache, digests: dict[str, bytes] | None
) -> tuple[float, float]:
    """Median gather after one new fill each time (the insert itself is not timed); with
    ``digests``, also the incremental render the writer does (changed pages + the index)."""
    wall, cpu = [], []
    first = RUNS if digests is not None else 0  # fill numbers (and times) go on increasing
    for n in range(first, first + RUNS):
        _add_fill(engine, n)
        t0, c0 = time.perf_counter(), time.process_time()
        snap = gather(config, engine, now=NOW, real_now=NOW, history=cache)
        if digests is not None:
            current: dict[str, bytes] = {}
            pages = list(render_pages(snap, config.source_path, digests, current))
            assert len(pages) == 2, "one strategy changed: its page and the index"
            digests.clear()
            digests.update(current)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def _measure(config: AppConfig, folder: Path) -> dict[str, tuple[float, float]]:
    engine = create_db_engine(config.database_url)
    cache = HistoryCache()
    snap = gather(config, engine, now=NOW, real_now=NOW, history=cache)
    digests: dict[str, bytes] = {}
    list(render_pages(snap, config.source_path, None, digests))  # warm-up: compiles templates
    out = folder / "www"
    figures = {
        "cold": _median_ms(lambda: gather(config, engine, now=NOW, real_now=NOW)),
        "warm": _median_ms(lambda: gather(config, engine, now=NOW, real_now=NOW, history=cache)),
        "extended": _extended_ms(config, engine, cache, None),
        "render": _median_ms(lambda: render_site(snap, config.source_path)),
        "incremental": _extended_ms(config, engine, cache, digests),
        "write": _median_ms(
            lambda: write_site(config, engine, now=NOW, output_dir=out, history=cache), 3
        ),
    }
    engine.dispose()
    return figures


def main() -> None:
    """Fill the database, then time gathering, rendering and writing the site."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = _config(folder)
        t0 = time.perf_counter()
        fill_database(config)
        print(
            f"data: {STRATEGIES} strategies, {STRATEGIES * FILLS_PER_STRATEGY:,} fills, "
            f"{STRATEGIES * 50:,} runs (written in {time.perf_counter() - t0:.1f} s)"
        )
        fig = _measure(config, folder)
        pages = sum(1 for _ in (folder / "www").iterdir())
    print(f"site: {pages} files; medians of {RUNS} runs (3 for write_site)")
    _line("gather, first render (full replay)", fig["cold"])
    _line("gather, nothing new (cached replay)", fig["warm"])
    _line("gather, one new fill (replay extended)", fig["extended"])
    _line(f"render ({pages} pages, Jinja2)", fig["render"])
    first = tuple(g + r for g, r in zip(fig["cold"], fig["render"], strict=True))
    for label, total in (
        ("first render (all pages)", first),
        ("steady state (incremental)", fig["incremental"]),
    ):
        ratio = f"target <= {TARGET_MS:.0f} ms: ratio {total[0] / TARGET_MS:.2f} wall"
        _line(
            f"whole site, {label}", (total[0], total[1]), f"{ratio}, {total[1] / TARGET_MS:.2f} CPU"
        )
    _line("write_site, all pages (+ fsync'd files)", fig["write"], "(disk-bound, for reference)")


if __name__ == "__main__":
    main()
