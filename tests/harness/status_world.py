"""A small, fully known world for the status page tests, written through the repositories.

Four strategies, one per status:

* ``alpha`` (pipeline, running): one trade closed with a profit, one position open, a watchlist
  of two markets, one titled ``<script>alert(1)</script>`` (it must stay text), 5 runs.
* ``beta`` (paused by the daily loss limit): one trade closed with a loss, settled at 0.
* ``gamma`` (stopped: ``enabled: false`` in the YAML): nothing ever happened.
* ``delta`` (error: its last two runs failed, with markup in the error text).

The numbers the tests expect are spelled out in ``EXPECTED`` (worked out by hand from the
fills below) and are also recomputed from the database with the ledger CLI's own functions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from autotrader.domain.fills import Fill, Settlement
from autotrader.domain.markets import Window
from autotrader.domain.orders import OrderRequest, OrderStatus, OrderType, Side
from autotrader.domain.signals import Direction, Signal
from autotrader.fsutil import atomic_write
from autotrader.store import migrate
from autotrader.store.db import create_db_engine
from autotrader.store.models_scheduler import STRATEGY_RUNS, STRATEGY_STATE
from autotrader.store.repos import HeartbeatRepo
from autotrader.store.repos_runtime import EventRepo, StrategyRuntimeRepo
from autotrader.store.repos_trading import FillRepo, OrderRepo, SettlementRepo
from autotrader.store.repos_watchlist import WatchEntry, WatchlistRepo

HOSTILE = "<script>alert(1)</script>"
NOW = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)

CONFIG = """\
state_dir: state
database_url: '{url}'
daemons: {{heartbeat_secs: 5}}
status_page: {{output_dir: www, refresh_secs: 30}}
strategies:
  - name: alpha
    kind: pipeline
    schedule: {{every: 5m}}
    allocation_usd: 500
    limits: {{daily_loss_usd: 100, max_position_pct: 25}}
    pipeline:
      - stream_markets: {{tag: politics, min_volume_usd: 100000}}
      - add_to_watchlist: {{reason: "volume > 100k", expire_after: 7d}}
  - name: beta
    kind: btc_updown_15m
    schedule: {{every: 15m, align: true, offset_secs: 5}}
    allocation_usd: 300
    limits: {{daily_loss_usd: 20, max_position_pct: 20}}
  - name: gamma
    kind: btc_updown_15m
    enabled: false
    schedule: {{every: 15m, align: true}}
    allocation_usd: 200
    limits: {{daily_loss_usd: 20, max_position_pct: 20}}
  - name: delta
    kind: btc_updown_15m
    schedule: {{every: 15m, align: true}}
    allocation_usd: 100
    limits: {{daily_loss_usd: 20, max_position_pct: 20}}
"""

# Worked out by hand from the fills in seed_world (cost basis and realized P&L exclude fees).
EXPECTED = {
    "alpha": {
        "status": "running",
        "active_trades": 1,
        "watchlist": 2,
        "net_pnl": "+$13.90",  # (0.55 − 0.40) × 100 − fees 0.50 + 0.40 + 0.20 (open one's)
        "allocated": "$500.00",
        "deployed": "$30.00",  # 50 × 0.60 still held
        "available": "$483.90",  # 500 − 40.50 + 54.60 − 30.20
        "win_rate": "100.0%",
        "roi": "35.2%",  # the closed trade: (15 − 0.90) / 40 = 0.3525, shown to 0.1%
        "executions": 5,
    },
    "beta": {
        "status": "paused",
        "active_trades": 0,
        "watchlist": 0,
        "net_pnl": "−$10.10",  # bought 20 @ 0.50 (fee 0.10), settled at 0
        "win_rate": "0.0%",
    },
    "gamma": {"status": "stopped", "active_trades": 0, "watchlist": 0, "net_pnl": "$0.00"},
    "delta": {"status": "error", "active_trades": 0, "watchlist": 0, "net_pnl": "$0.00"},
}


@dataclass(frozen=True)
class World:
    """Where the seeded world lives."""

    config_path: Path
    database_url: str
    state_dir: Path
    output_dir: Path


def write_config(tmp_path: Path, database_url: str) -> Path:
    """The YAML of the world (state_dir and output_dir inside ``tmp_path``)."""
    path = tmp_path / "autotrader.yaml"
    path.write_text(CONFIG.format(url=database_url))
    return path


def seed_world(tmp_path: Path, database_url: str) -> World:
    """Migrate the database and write the whole world into it (and signal.json)."""
    config_path = write_config(tmp_path, database_url)
    migrate.upgrade(database_url)
    engine = create_db_engine(database_url)
    try:
        _scheduler(engine)
        _trading(engine)
        _watchlist(engine)
        _runtime_and_events(engine)
        _heartbeats(engine)
    finally:
        engine.dispose()
    state = tmp_path / "state"
    _signal(state)
    return World(config_path, database_url, state, tmp_path / "www")


def _at(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def _scheduler(engine: sa.Engine) -> None:
    def state(
        name: str, started: float, runs: int, ok: int, failing: int, error: str | None
    ) -> dict[str, Any]:
        return {
            "strategy": name,
            "desired": None,
            "started_at": _at(started),
            "last_run_at": _at(1),
            "next_run_at": NOW + timedelta(minutes=4),
            "last_outcome": "failed" if failing else "ok",
            "last_error": error,
            "consecutive_failures": failing,
            "executions": runs,
            "successes": ok,
            "failures": runs - ok,
            "updated_at": _at(1),
        }

    states = [
        state("alpha", 180, 5, 5, 0, None),
        state("beta", 24 * 60, 3, 3, 0, None),
        state("delta", 10, 2, 0, 2, "boom <b>bold</b>"),
    ]
    runs: list[dict[str, Any]] = []
    for i in range(5):
        nodes = [
            {"node": "stream_markets", "in": 0, "out": 12},
            {"node": "add_to_watchlist", "in": 12, "out": 2},
        ]
        runs.append(_run("alpha", 5 * i + 1, "ok", nodes, intents=1 if i == 0 else 0))
    for i in range(3):
        runs.append(_run("beta", 15 * i + 2, "ok", [], intents=0))
    for i in range(2):
        runs.append(_run("delta", 5 * i + 1, "failed", [], error=f"boom <b>bold</b> #{i}"))
    with engine.begin() as conn:
        conn.execute(sa.insert(STRATEGY_STATE), states)
        conn.execute(sa.insert(STRATEGY_RUNS), runs)


def _run(
    name: str,
    ago: float,
    outcome: str,
    nodes: list[dict[str, object]],
    *,
    intents: int = 0,
    error: str | None = None,
) -> dict[str, Any]:
    return {
        "strategy": name,
        "started_at": _at(ago),
        "ended_at": _at(ago) + timedelta(seconds=2),
        "outcome": outcome,
        "nodes": nodes,
        "intents_created": intents,
        "error": error,
        "note": None,
        "scheduled_for": _at(ago),
        "trigger": "schedule",
    }


def _order(engine: sa.Engine, oid: str, strategy: str, token: str, slug: str, side: Side) -> None:
    request = OrderRequest(oid, token, side, OrderType.FOK, Decimal("0.99"), Decimal(1))
    OrderRepo(engine, now=lambda: NOW).create(
        request,
        intent_id=None,
        strategy=strategy,
        market_slug=slug,
        outcome="Yes",
        venue_order_id=f"0x{oid}",
        status=OrderStatus.FILLED,
    )


def _fill(
    engine: sa.Engine,
    tid: str,
    strategy: str,
    token: str,
    side: Side,
    px: str,
    size: str,
    fee: str,
    ago: float,
) -> None:
    fill = Fill(
        tid, f"0x{tid}", token, side, Decimal(px), Decimal(size), Decimal(fee), _at(ago), "taker"
    )
    assert FillRepo(engine).add(fill, order_id=None, strategy=strategy)


def _trading(engine: sa.Engine) -> None:
    _order(engine, "o1", "alpha", "tok-hostile", "hostile-market", Side.BUY)
    _order(engine, "o2", "alpha", "tok-open", "open-market", Side.BUY)
    _order(engine, "o3", "beta", "tok-beta", "btc-updown-15m-1793707200", Side.BUY)
    _fill(engine, "t1", "alpha", "tok-hostile", Side.BUY, "0.40", "100", "0.50", 120)
    _fill(engine, "t2", "alpha", "tok-hostile", Side.SELL, "0.55", "100", "0.40", 60)
    _fill(engine, "t3", "alpha", "tok-open", Side.BUY, "0.60", "50", "0.20", 30)
    _fill(engine, "t4", "beta", "tok-beta", Side.BUY, "0.50", "20", "0.10", 90)
    stl = Settlement("m-beta", "tok-beta", "Yes", Decimal(20), Decimal(0), _at(70))
    SettlementRepo(engine).add(stl, strategy="beta", market_slug="btc-updown-15m-1793707200")


def _watchlist(engine: sa.Engine) -> None:
    repo = WatchlistRepo(engine, now=lambda: NOW)
    for slug, question in (("hostile-market", HOSTILE), ("open-market", "Will it rain?")):
        repo.add(
            WatchEntry(
                strategy="alpha",
                market_slug=slug,
                market_id=f"id-{slug}",
                question=question,
                reason="volume > 100k",
                added_at=_at(100),
                price_at_add=Decimal("0.41"),
                volume_at_add=Decimal(250000),
            )
        )
    # Expired: the page must not count it.
    repo.add(
        WatchEntry(
            strategy="alpha",
            market_slug="old-market",
            market_id="id-old",
            question="Old?",
            reason="r",
            added_at=_at(500),
            expires_at=_at(5),
        )
    )


def _runtime_and_events(engine: sa.Engine) -> None:
    StrategyRuntimeRepo(engine, now=lambda: NOW).pause("beta", "daily loss limit hit")
    events = EventRepo(engine, now=lambda: _at(50))
    events.record("trade_exited", "alpha", {"summary": f"alpha sold {HOSTILE} for +$15.00"})
    events.record("strategy_paused", "beta", {"summary": "beta paused: daily loss limit"})


def _heartbeats(engine: sa.Engine) -> None:
    real = datetime.now(UTC)
    HeartbeatRepo(engine, now=lambda: real).beat("scheduler", 101, "3 strategies running")
    old = real - timedelta(minutes=10)
    HeartbeatRepo(engine, now=lambda: old).beat("executor", 102, f"idle {HOSTILE}")


def _signal(state_dir: Path) -> None:
    now = datetime.now(UTC)
    signal = Signal(
        timestamp=now,
        direction=Direction.UP,
        confidence=72.5,
        price=97000.5,
        basis=None,
        window=Window.for_signal_at(now.timestamp()),
        source="replay",
        data_age_secs=0.5,
    )
    atomic_write(state_dir / "signal.json", json.dumps(signal.to_json_dict()).encode())


def alpha_roi() -> Decimal:
    """ROI of alpha's closed trade: net P&L of the trade / its cost = (15 − 0.90) / 40."""
    return (Decimal(15) - Decimal("0.90")) / Decimal(40)
