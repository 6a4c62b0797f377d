"""`autotrader run executor` as a real process against a real simulator process.

One simulator per module; each test has its own state folder, config and executor under a
stand-in service manager (NOTIFY_SOCKET). Intents are written by `autotrader trade …` (a real
CLI process) or, for a stale one, straight into the database. Every wait has a deadline.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from py_clob_client_v2 import ClobClient  # type: ignore[import-untyped, unused-ignore]

from autotrader.domain.intents import IntentKind, IntentStatus, OrderIntent
from autotrader.domain.markets import btc_15m_slug, window_start
from autotrader.domain.orders import Side
from autotrader.store.db import create_db_engine
from autotrader.store.repos_intents import IntentRepo, StoredIntent
from autotrader.store.repos_trading import FillRepo, OrderRepo, StoredOrder
from harness.notify import ServiceManager, gaps
from harness.sim import DATA, REPO, SimProcess, autotrader_env

START = "2026-02-21T14:26:00+00:00"  # the demo candles' first minute
SPEED = 10.0

CONFIG = """\
state_dir: {state}
database_url: "{db}"
mode: {mode}
daemons: {{heartbeat_secs: 0.5, shutdown_timeout_secs: 5}}
clock: {{speed: {speed}, start: "{start}"}}
feeds: {{btc: {{sources: [replay], replay: {{path: {data}}}}}}}
polymarket: {{gamma_url: "{url}", clob_url: "{url}"{key}}}
risk: {{max_trade_usd: 20, portfolio_exposure_usd: 500, max_orders_per_minute: 30}}
executor: {{poll_interval_ms: 20}}
strategies:
  - name: manual
    kind: btc_updown_15m
    schedule: {{every: 15m}}
    allocation_usd: 200
    limits: {{daily_loss_usd: 50, max_position_pct: 50}}
    params: {{cooldown_secs: 0}}
"""


def write_config(
    root: Path, url: str, *, mode: str = "paper", key: Path | None = None, db: str | None = None
) -> Path:
    """A config under ``root`` (state in ``root/state``) trading at ``url``; its database
    ``db`` (default: SQLite in the state folder)."""
    path = root / "autotrader.yaml"
    key_line = f", key_file: {key}" if key is not None else ""
    db = db or f"sqlite:///{root / 'state' / 'autotrader.db'}"
    text = CONFIG.format(state=root / "state", db=db, mode=mode, speed=SPEED, start=START,
                         data=DATA, url=url, key=key_line)  # fmt: skip
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The simulator on the config's clock; yields its URL."""
    root = tmp_path_factory.mktemp("sim")
    config = write_config(root, "http://127.0.0.1:1")
    process = SimProcess("sim", "--port", "0", "--config", str(config))
    try:
        yield process.url
    finally:
        process.close()


def next_window(url: str) -> str:
    """Slug of the BTC window after the simulator's current one."""
    now = int(httpx.get(f"{url}/time", timeout=5).json())
    return btc_15m_slug(window_start(now) + 900)


def set_faults(url: str, spec: str) -> None:
    """Apply a simulator fault spec."""
    r = httpx.post(f"{url}/_sim/faults", json={"spec": spec, "seed": 1}, timeout=5)
    assert r.status_code == 200, r.text


def wait_terminal(repo: IntentRepo, intent_id: str, timeout: float = 20.0) -> StoredIntent | None:
    """The intent once terminal; the last seen state at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        stored = repo.get(intent_id)
        if (stored is not None and stored.terminal) or time.monotonic() > deadline:
            return stored
        time.sleep(0.05)  # polling interval, not a synchronisation


@dataclass
class Executor:
    """A running executor and its config."""

    config: Path
    manager: ServiceManager
    db: str

    @property
    def state(self) -> Path:
        """Its state folder."""
        return self.config.parent / "state"

    def trade(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `autotrader trade …` against this executor's config."""
        argv = [sys.executable, "-m", "autotrader", "trade", *args, "--config", str(self.config)]
        return subprocess.run(
            argv, cwd=REPO, env=autotrader_env(), capture_output=True, text=True, timeout=120
        )

    def orders(self) -> list[StoredOrder]:
        """Every order row."""
        engine = create_db_engine(self.db)
        try:
            return OrderRepo(engine).list()
        finally:
            engine.dispose()


def start_executor(manager: ServiceManager, config: Path, db: str) -> Executor:
    """Start `autotrader run executor` and wait for READY=1."""
    argv = [sys.executable, "-m", "autotrader", "run", "executor", "--config", str(config)]
    manager.start(argv, cwd=config.parent, env=autotrader_env())
    manager.wait_for_key("READY", "1", timeout=60)
    return Executor(config, manager, db)


@pytest.fixture
def paper(sim: str, tmp_path: Path, database_url: str) -> Iterator[Executor]:
    """A paper executor on the simulator's market data, on SQLite and on PostgreSQL."""
    with ServiceManager(watchdog_secs=2.0) as manager:
        config = write_config(tmp_path, sim, db=database_url)
        executor = start_executor(manager, config, database_url)
        yield executor
        manager.kill(signal.SIGTERM)
        assert manager.wait_exit(30) == 0, manager.stderr()


def test_paper_market_buy_is_filled_recorded_and_journaled(paper: Executor, sim: str) -> None:
    assert "ready" in (paper.manager.status() or "")
    market = next_window(sim)
    done = paper.trade("buy", "--strategy", "manual", "--market", market, "--outcome", "Up",
                       "--usd", "5", "--type", "market", "--valid-for", "5m", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr + paper.manager.stderr()
    outcome = json.loads(done.stdout)
    assert (outcome["status"], outcome["reason_code"]) == ("FILLED", "FILLED")
    engine = create_db_engine(paper.db)
    try:
        (order,) = OrderRepo(engine).for_intent(outcome["id"])
        fills = FillRepo(engine).for_order(order.id)
    finally:
        engine.dispose()
    assert order.venue_order_id and order.status.value == "FILLED" and order.market_slug == market
    assert fills and sum(f.fill.price * f.fill.size for f in fills) <= Decimal(5)
    lines = (paper.state / "trades.jsonl").read_text().splitlines()
    record = json.loads(lines[-1])
    assert record["intent_id"] == outcome["id"] and record["intent_status"] == "FILLED"
    assert record["trade_ids"] == [f.fill.trade_id for f in fills]
    orders = subprocess.run(
        [sys.executable, "-m", "autotrader", "orders", "--json", "--config", str(paper.config)],
        cwd=REPO, env=autotrader_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    (listed,) = json.loads(orders.stdout)
    assert (listed["intent_id"], listed["status"], listed["venue_order_id"]) == (
        outcome["id"], "FILLED", order.venue_order_id,
    )  # fmt: skip


# What `autotrader run executor` loads, up to a built service (its venue included).
IMPORTS = """
import json, sys
from autotrader.cli import main  # the CLI with every command registered
from autotrader.cli.run_cmd import DAEMONS
from autotrader.config import load_config
from autotrader.daemons import runtime
from autotrader.daemons.setup import build_clock, open_database
factory = DAEMONS["executor"]()
config = load_config(sys.argv[1])
service = factory(config, build_clock(config), open_database(config))
heavy = ("eth_account", "py_clob_client_v2", "py_ecc", "web3")
print(json.dumps({"venue": service.status_line(),
                  "heavy": sorted(m for m in sys.modules if m.split(".")[0] in heavy)}))
"""


@pytest.mark.parametrize("mode", ["paper", "live"])
def test_paper_executor_never_loads_the_signing_stack(mode: str, tmp_path: Path) -> None:
    # Paper reads market data through the wallet-free PublicReads: py-clob-client-v2 and
    # eth_account (tens of MB resident) are for live trading only — which does load them.
    _, key = wallet_key(tmp_path)
    config = write_config(tmp_path, "http://127.0.0.1:1", mode=mode, key=key)
    argv = [sys.executable, "-c", IMPORTS, str(config)]
    done = subprocess.run(argv, cwd=REPO, env=autotrader_env(), capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert ("venue paper" in loaded["venue"]) is (mode == "paper")
    if mode == "paper":
        assert loaded["heavy"] == []
    else:
        assert "eth_account" in {m.split(".")[0] for m in loaded["heavy"]}


def test_paper_risk_rejection_carries_its_reason(paper: Executor, sim: str) -> None:
    done = paper.trade("buy", "--strategy", "manual", "--market", next_window(sim),
                       "--outcome", "Up", "--usd", "50", "--valid-for", "5m")  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert done.stdout.startswith("REJECTED [MAX_TRADE_SIZE]"), done.stdout
    assert paper.orders() == []  # nothing was sent


def test_paper_expired_intent_is_not_executed(paper: Executor, sim: str) -> None:
    engine = create_db_engine(paper.db)
    now = httpx.get(f"{sim}/time", timeout=5).json()
    created = datetime.fromtimestamp(now, UTC) - timedelta(minutes=10)
    intent = OrderIntent(
        id="stale0001", strategy="manual", market_slug=next_window(sim), token_id="1",
        outcome="Up", side=Side.BUY, kind=IntentKind.MARKET, amount_usd=Decimal(5), shares=None,
        limit_price=None, valid_until=created + timedelta(seconds=30), entry_key=None,
        reason="test", created_at=created,
    )  # fmt: skip
    try:
        repo = IntentRepo(engine)
        repo.add(intent)
        stored = wait_terminal(repo, intent.id)
    finally:
        engine.dispose()
    assert stored is not None and stored.status is IntentStatus.EXPIRED, stored
    assert stored.reason_code == "INTENT_EXPIRED"
    assert paper.orders() == []


def test_live_without_key_refuses_to_start_naming_the_files(sim: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, sim, mode="live")
    argv = [sys.executable, "-m", "autotrader", "run", "executor", "--config", str(config)]
    proc = subprocess.run(argv, env=autotrader_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    problem = next(line for line in proc.stderr.splitlines() if "wallet key" in line)
    assert "polymarket-key" in problem and "polymarket.key_file" in problem


def wallet_key(root: Path) -> tuple[str, Path]:
    """A fresh wallet key and its file (mode 0600)."""
    key = Account.create().key.hex()
    key_file = root / "wallet.key"
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key, key_file


def test_live_lost_answer_leaves_exactly_one_order_found_by_hash(
    sim: str, tmp_path: Path, database_url: str
) -> None:
    key, key_file = wallet_key(tmp_path)
    config = write_config(tmp_path, sim, mode="live", key=key_file, db=database_url)
    with ServiceManager(watchdog_secs=2.0) as manager:
        live = start_executor(manager, config, database_url)
        set_faults(sim, "lost:1")
        try:
            done = live.trade("buy", "--strategy", "manual", "--market", next_window(sim),
                              "--outcome", "Up", "--shares", "6", "--limit", "0.2",
                              "--type", "limit", "--valid-for", "5m")  # fmt: skip
        finally:
            set_faults(sim, "none")
        assert done.returncode == 0, done.stdout + done.stderr + manager.stderr()
        assert done.stdout.startswith("RESTING [LIVE]"), done.stdout
        (order,) = live.orders()
        assert order.venue_order_id is not None and order.venue_order_id.startswith("0x")
        client = ClobClient(sim, chain_id=137, key=key)
        client.set_api_creds(client.create_or_derive_api_key())
        at_venue = client.get_open_orders()
        assert [o["id"] for o in at_venue] == [order.venue_order_id]
        manager.kill(signal.SIGTERM)
        assert manager.wait_exit(30) == 0, manager.stderr()


def test_notify_protocol_ready_watchdog_status_and_clean_stop(sim: str, tmp_path: Path) -> None:
    """READY=1, then WATCHDOG=1 every half period throughout — also while the venue is down
    and nothing trades (the loop still turns: a restart would not help) — STATUS lines saying
    what the executor is doing, and STOPPING=1 then exit 0 on SIGTERM."""
    _, key_file = wallet_key(tmp_path)
    config = write_config(tmp_path, sim, mode="live", key=key_file)
    db = f"sqlite:///{tmp_path / 'state' / 'autotrader.db'}"
    with ServiceManager(watchdog_secs=1.0, enforce_watchdog=True) as manager:
        set_faults(sim, "500:1,scope=all")  # the venue fails every request: no reconciliation
        try:
            live = start_executor(manager, config, db)
            ready = manager.wait_for_key("READY", "1")
            down = manager.wait_for(
                lambda m: "not trading yet" in m.fields.get("STATUS", ""), after=ready.t
            )
            assert "reconciling with venue polymarket" in down.fields["STATUS"], down.fields
            manager.wait_for_watchdogs(4, after=down.t)  # healthy: the loop turns
        finally:
            set_faults(sim, "none")
        up = manager.wait_for(lambda m: m.fields.get("STATUS", "").startswith("ready: "))
        assert up.fields["STATUS"] == (
            "ready: 0 intents done today, 0 open orders, 0 open positions, venue polymarket"
        )
        done = live.trade("buy", "--strategy", "manual", "--market", next_window(sim),
                          "--outcome", "Up", "--shares", "6", "--limit", "0.2",
                          "--type", "limit", "--valid-for", "5m")  # fmt: skip
        assert done.stdout.startswith("RESTING [LIVE]"), done.stdout + done.stderr
        manager.wait_for(
            lambda m: m.fields.get("STATUS", "").startswith(
                "ready: 1 intents done today, 1 open order, "
            )
        )
        pings = manager.wait_for_watchdogs(3, after=up.t)
        assert all(g <= 0.9 for g in gaps(manager.watchdog_times(since=ready.t))), gaps(pings)
        assert manager.watchdog_fired_at is None  # never went 1 s without a ping
        sent = manager.kill(signal.SIGTERM)
        manager.wait_for_key("STOPPING", "1", after=sent)
        assert manager.wait_exit(30) == 0, manager.stderr()
