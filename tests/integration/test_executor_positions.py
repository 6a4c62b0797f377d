"""Positions watched and settled, and paper state across restarts: the executor as a process
against the simulator, both on one fast shared clock (the same state folder, so one anchor).

* A BTC window is entered on both sides by a strategy with stop-loss / take-profit limits and
  on one side by a strategy without: as the window runs out one side goes to 1 and the other
  to 0, so the first strategy's positions are exited (take-profit and stop-loss), and the
  second's is settled when the simulator resolves the window — with a kill -9 at the
  ``settling`` fault point first, and a restart after: settled exactly once.
* A resting paper order survives an executor restart (the paper venue's state is persisted),
  and ``autotrader status --json`` counts what the database holds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
import sqlalchemy as sa

from autotrader.config import load_config
from autotrader.domain.intents import IntentKind, OrderIntent
from autotrader.domain.markets import btc_15m_slug, window_start
from autotrader.domain.orders import Side
from autotrader.executor.books import all_ledgers, load_snapshot
from autotrader.store.db import create_db_engine
from autotrader.store.repos_intents import IntentRepo
from autotrader.store.repos_runtime import EventRepo
from autotrader.store.repos_trading import OrderRepo, SettlementRepo
from harness.notify import ServiceManager
from harness.sim import DATA, REPO, SimProcess, autotrader_env
from harness.wait import poll

T = TypeVar("T")
CONFIG = """\
state_dir: {state}
mode: paper
daemons: {{heartbeat_secs: 0.5, shutdown_timeout_secs: 5}}
clock: {{speed: {speed}, start: "{start}"}}
feeds: {{btc: {{sources: [replay], replay: {{path: {data}}}}}}}
polymarket: {{gamma_url: "{url}", clob_url: "{url}"}}
risk: {{max_trade_usd: 20, portfolio_exposure_usd: 500, max_orders_per_minute: 60}}
executor: {{poll_interval_ms: 20, position_check_secs: 0.2}}
strategies:
  - name: exits
    kind: btc_updown_15m
    schedule: {{every: 15m}}
    allocation_usd: 200
    limits: {{daily_loss_usd: 100, max_position_pct: 50, stop_loss_pct: 40, take_profit_pct: 40}}
    params: {{cooldown_secs: 0}}
  - name: holder
    kind: btc_updown_15m
    schedule: {{every: 15m}}
    allocation_usd: 200
    limits: {{daily_loss_usd: 100, max_position_pct: 50}}
    params: {{cooldown_secs: 0}}
"""


@dataclass
class Setup:
    """A simulator and the config (and database) executors of one test share."""

    config: Path
    sim: SimProcess

    @property
    def db_url(self) -> str:
        """The executor's SQLite database."""
        return f"sqlite:///{self.config.parent / 'state' / 'autotrader.db'}"

    def autotrader(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run an ``autotrader`` command against this config."""
        argv = [sys.executable, "-m", "autotrader", *args, "--config", str(self.config)]
        return subprocess.run(
            argv, cwd=REPO, env=autotrader_env(), capture_output=True, text=True, timeout=120
        )

    def engine(self) -> sa.Engine:
        """An engine on the executor's database (dispose after use)."""
        return create_db_engine(self.db_url)


@pytest.fixture
def setup(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Setup]:
    """Simulator first (it creates the clock anchor), then the config gets its URL."""
    speed, start = request.param
    path = tmp_path / "autotrader.yaml"

    def write(url: str) -> None:
        path.write_text(
            CONFIG.format(state=tmp_path / "state", speed=speed, start=start, data=DATA, url=url)
        )

    write("http://127.0.0.1:1")
    sim = SimProcess("sim", "--port", "0", "--config", str(path))
    try:
        write(sim.url)
        yield Setup(path, sim)
    finally:
        sim.close()


@contextmanager
def executor(cfg: Path, *, kill_at: str | None = None) -> Iterator[ServiceManager]:
    """`autotrader run executor` under a stand-in service manager, READY before yielding."""
    env = autotrader_env()
    env.pop("AUTOTRADER_FAULT_KILL_AT", None)
    if kill_at is not None:
        env["AUTOTRADER_FAULT_KILL_AT"] = kill_at
    argv = [sys.executable, "-m", "autotrader", "run", "executor", "--config", str(cfg)]
    with ServiceManager(watchdog_secs=5.0) as manager:
        manager.start(argv, cwd=cfg.parent, env=env)
        manager.wait_for_key("READY", "1", timeout=60)
        yield manager
        if manager.proc is not None and manager.proc.poll() is None:
            manager.kill(signal.SIGTERM)
            assert manager.wait_exit(30) == 0, manager.stderr()


def sim_now(s: Setup) -> int:
    """The simulator's clock (epoch seconds)."""
    return int(httpx.get(f"{s.sim.url}/time", timeout=5).json())


def buy(
    s: Setup, strategy: str, slug: str, outcome: str, usd: str, *, limit: str | None = None
) -> str:
    """Write a BUY intent straight into the database (as the scheduler would); its id.

    A market order for ``usd``, or with ``limit`` a limit order for ``usd`` shares."""
    market = httpx.get(f"{s.sim.url}/markets/slug/{slug}", timeout=5).json()
    outcomes, token_ids = json.loads(market["outcomes"]), json.loads(market["clobTokenIds"])
    tokens = dict(zip(outcomes, token_ids, strict=True))
    now = datetime.fromtimestamp(sim_now(s), UTC)
    intent = OrderIntent(
        id=uuid.uuid4().hex, strategy=strategy, market_slug=slug, token_id=tokens[outcome],
        outcome=outcome, side=Side.BUY,
        kind=IntentKind.MARKET if limit is None else IntentKind.LIMIT,
        amount_usd=Decimal(usd) if limit is None else None,
        shares=None if limit is None else Decimal(usd),
        limit_price=None if limit is None else Decimal(limit),
        valid_until=now + timedelta(minutes=10), entry_key=None,
        reason="test", created_at=now,
    )  # fmt: skip
    engine = s.engine()
    try:
        IntentRepo(engine).add(intent)
    finally:
        engine.dispose()
    return intent.id


def intent_status(s: Setup, intent_id: str) -> str | None:
    """The intent's status once terminal, else None."""
    engine = s.engine()
    try:
        stored = IntentRepo(engine).get(intent_id)
    finally:
        engine.dispose()
    return stored.status.value if stored is not None and stored.terminal else None


def events(s: Setup, type_: str) -> list[dict[str, object]]:
    """Payloads of the recorded events of ``type_``, oldest first."""
    engine = s.engine()
    try:
        found = EventRepo(engine).list(type=type_, limit=1000, oldest_first=True)
    finally:
        engine.dispose()
    return [{"strategy": e.strategy, **e.payload} for e in found]


def exit_reasons(s: Setup) -> dict[str, str]:
    """Status of each filled exit intent of ``exits``, by reason (stop_loss / take_profit)."""
    engine = s.engine()
    try:
        found = IntentRepo(engine).list(strategy="exits", limit=100)
    finally:
        engine.dispose()
    return {i.intent.reason: i.status.value for i in found if i.intent.side.value == "SELL"}


SPEED = 60.0


def enter_window(s: Setup) -> str:
    """The next window, once it has started: its price is still near 0.5, where both sides can
    move 40 % either way. (The current window's price can already be extreme: a side bought at
    0.95 has no room for a take-profit. Waiting costs at most 15 s of real time at SPEED.)"""
    start = window_start(sim_now(s)) + 900
    poll(lambda: sim_now(s) >= start + 5, "the next window", timeout=30)
    return btc_15m_slug(start)


@pytest.mark.parametrize("setup", [(SPEED, "2026-02-21T14:30:05+00:00")], indirect=True)
def test_exits_fire_and_a_resolved_window_is_settled_once_across_a_kill(setup: Setup) -> None:
    s = setup
    with executor(s.config, kill_at="settling") as first:
        window = enter_window(s)
        ids = [
            buy(s, strategy, window, outcome, "10")
            for strategy, outcome in (("exits", "Up"), ("exits", "Down"), ("holder", "Up"))
        ]
        for intent_id in ids:
            status = poll(lambda i=intent_id: intent_status(s, i), "a buy", timeout=20)  # type: ignore[misc]
            assert status == "FILLED", first.stderr()

        # As the window runs out, one side of "exits" rises 40 % and the other falls 40 %.
        def both_exits() -> dict[str, str] | None:
            r = exit_reasons(s)
            filled = r.get("take_profit") == r.get("stop_loss") == "FILLED"
            return r if filled else None

        try:
            reasons = poll(both_exits, "a filled take-profit and stop-loss", timeout=30)
        except AssertionError:
            raise AssertionError(f"exits: {exit_reasons(s)}\n{first.stderr()[-3000:]}") from None
        assert set(reasons) == {"take_profit", "stop_loss"}, reasons
        # Then the window resolves: the first settlement decided kills the executor.
        assert first.wait_exit(40) == -signal.SIGKILL, first.stderr()
    engine = s.engine()
    try:
        assert SettlementRepo(engine).all() == []  # killed before anything was stored
    finally:
        engine.dispose()
    with executor(s.config):
        poll(lambda: events(s, "market_settled"), "the settlement", timeout=20)
    with executor(s.config):  # once more: nothing is settled twice
        poll(lambda: len(events(s, "trade_executed")) >= 5, "events", timeout=10)
    engine = s.engine()
    try:
        settlements = SettlementRepo(engine).all()
        snap = load_snapshot(engine)
        ledgers = all_ledgers(load_config(s.config), snap)
    finally:
        engine.dispose()
    assert [(r.strategy, r.market_slug) for r in settlements] == [("holder", window)]
    (settled,) = events(s, "market_settled")
    payout = Decimal(str(settled["payout_per_share"]))
    assert payout in (Decimal(0), Decimal(1)) and "resolved" in str(settled["summary"])
    assert not any(p.is_open for p in snap.history.positions.values())  # exited or settled
    exited = events(s, "trade_exited")
    assert sorted(str(e["reason"]) for e in exited) == ["settlement", "stop_loss", "take_profit"]
    by_reason = {e["reason"]: Decimal(str(e["pnl_usd"])) for e in exited}
    assert by_reason["take_profit"] > 0 > by_reason["stop_loss"]
    assert len(events(s, "trade_executed")) == 5  # 3 buys, 2 exits: each once
    for lg in ledgers.values():
        assert lg.balanced() and lg.deployed_usd == 0, lg
    holder = ledgers["holder"]
    assert holder.available_usd == holder.allocated_usd + holder.net_pnl_usd


@pytest.mark.parametrize("setup", [(10.0, "2026-02-21T14:26:00+00:00")], indirect=True)
def test_resting_paper_order_survives_a_restart_and_status_counts_match(setup: Setup) -> None:
    s = setup
    now = int(httpx.get(f"{s.sim.url}/time", timeout=5).json())
    market = btc_15m_slug(window_start(now) + 900)
    with executor(s.config) as first:
        rest = buy(s, "holder", market, "Up", "10", limit="0.05")
        status = poll(lambda: intent_status(s, rest), "the limit buy", timeout=20)
        assert status == "RESTING", first.stderr()
        taken = buy(s, "exits", market, "Down", "5")
        assert poll(lambda: intent_status(s, taken), "the buy", timeout=20) == "FILLED"
    with executor(s.config) as second:
        poll(lambda: "ready" in (second.status() or ""), "reconciled", timeout=20)
        engine = s.engine()
        try:
            orders = OrderRepo(engine).list()
        finally:
            engine.dispose()
        resting = [o for o in orders if o.strategy == "holder"]
        assert [o.status.value for o in resting] == ["LIVE"], resting  # not closed as vanished
        assert "1 open order" in (second.status() or "")
        shown = s.autotrader("status", "--json")
    doc = json.loads(shown.stdout)
    trading = doc["trading"]
    engine = s.engine()
    try:
        with engine.connect() as conn:
            fills = conn.execute(sa.text("SELECT strategy, count(*) FROM fills GROUP BY 1")).all()
    finally:
        engine.dispose()
    counts: dict[str, int] = {str(k): int(v) for k, v in fills}
    assert trading["trades_total"] == sum(counts.values()) > 0
    assert trading["strategies"]["exits"]["trades_total"] == counts["exits"]
    assert trading["trades_today"] == trading["trades_total"]  # all on the simulated day
    assert trading["strategies"]["exits"]["open_positions"] == 1
    assert trading["strategies"]["holder"] == {
        "trades_today": 0, "trades_total": 0, "open_positions": 0,
    }  # fmt: skip
    assert trading["open_positions"] == 1
    assert os.environ.get("AUTOTRADER_FAULT_KILL_AT") is None
