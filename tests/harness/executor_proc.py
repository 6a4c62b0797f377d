"""`autotrader run executor` as a real process against a real simulator, for crash and fault
tests and the benchmark.

``ExecutorRig`` holds one run's config (its own database and, live, its own wallet; the state
folder is shared with the simulator so every process reads the same simulated clock), writes
intents straight into the database, starts the executor under a ``ServiceManager`` (optionally
with ``AUTOTRADER_FAULT_KILL_AT``) and reads back what the simulator holds
(``/_sim/orders``, ``/_sim/trades``). ``check_books`` is the common verdict: every intent
terminal with a reason, at most one order per intent at the venue, every venue fill recorded
once and told about once (one ``trade_executed`` event), every ledger balanced.
"""

from __future__ import annotations

import json
import random
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from eth_account import Account

from autotrader.config import AppConfig, load_config
from autotrader.daemons.setup import build_clock
from autotrader.domain.intents import IntentKind, IntentStatus, OrderIntent
from autotrader.domain.markets import btc_15m_slug, window_start
from autotrader.domain.orders import Side
from autotrader.executor.books import all_ledgers, load_snapshot
from autotrader.executor.faults import FAULT_ENV
from autotrader.store.db import create_db_engine
from autotrader.store.repos_intents import IntentAdded, IntentRepo, StoredIntent
from autotrader.store.repos_paper import PaperStateRepo
from autotrader.store.repos_runtime import EventRepo
from autotrader.store.repos_trading import FillRepo, OrderRepo, StoredOrder
from harness.notify import ServiceManager
from harness.sim import DATA, autotrader_env

START = "2026-02-21T14:26:00+00:00"  # the demo candles' first minute
STRATEGIES = ("alpha", "beta")

CONFIG = """\
state_dir: {state}
database_url: "{db}"
mode: {mode}
daemons: {{heartbeat_secs: 0.5, shutdown_timeout_secs: 5}}
clock: {{speed: {speed}, start: "{start}"}}
feeds: {{btc: {{sources: [replay], replay: {{path: {data}}}}}}}
polymarket: {{gamma_url: "{url}", clob_url: "{url}", data_url: "{url}"{key}}}
risk: {{max_trade_usd: 20, portfolio_exposure_usd: 100000, max_orders_per_minute: 100000}}
executor:
  poll_interval_ms: {poll_ms}
  position_check_secs: {check_secs}
  max_consecutive_venue_failures: {failures}
strategies:
  - name: alpha
    kind: btc_updown_15m
    schedule: {{every: 15m}}
    allocation_usd: 50000
    limits: {{daily_loss_usd: 1000, max_position_pct: 100}}
    params: {{cooldown_secs: 0}}
  - name: beta
    kind: btc_updown_15m
    schedule: {{every: 15m}}
    allocation_usd: 50000
    limits: {{daily_loss_usd: 1000, max_position_pct: 100}}
    params: {{cooldown_secs: 0}}
"""


def sim_config(root: Path, speed: float) -> Path:
    """The simulator's config: the clock every run shares (state folder ``root/state``)."""
    path = root / "sim.yaml"
    text = CONFIG.format(state=root / "state", db=f"sqlite:///{root / 'sim.db'}", mode="paper",
                         speed=speed, start=START, data=DATA, url="http://127.0.0.1:1", key="",
                         poll_ms=20, failures=5, check_secs=1)  # fmt: skip
    path.write_text(text)
    return path


class ExecutorRig:
    """One run: a config with its own database (and wallet, live) on the shared clock."""

    def __init__(
        self,
        root: Path,
        sim_root: Path,
        url: str,
        db_url: str,
        *,
        mode: str,
        speed: float,
        poll_ms: int = 20,
        failures: int = 5,
        check_secs: float = 1,
    ) -> None:
        self.url = url
        self.mode = mode
        root.mkdir(parents=True, exist_ok=True)
        key_line, self.key = "", Account.create().key.hex()
        if mode == "live":
            key_file = root / "wallet.key"
            key_file.write_text(self.key)
            key_file.chmod(0o600)
            key_line = f", key_file: {key_file}"
        self.config_path = root / "autotrader.yaml"
        self.config_path.write_text(
            CONFIG.format(
                state=sim_root / "state",
                db=db_url,
                mode=mode,
                speed=speed,
                start=START,
                data=DATA,
                url=url,
                key=key_line,
                poll_ms=poll_ms,
                failures=failures,
                check_secs=check_secs,
            )
        )
        self.config: AppConfig = load_config(self.config_path)
        self.clock = build_clock(self.config)  # the simulator's timeline (same anchor file)
        self._engine: sa.Engine | None = None
        self.intent_ids: list[str] = []

    @property
    def wallet(self) -> str:
        """The live wallet's address (lower case)."""
        return str(Account.from_key(self.key).address).lower()

    @property
    def engine(self) -> sa.Engine:
        """The run's database (created on first use, after an executor migrated it)."""
        if self._engine is None:
            self._engine = create_db_engine(self.config.database_url)
        return self._engine

    def close(self) -> None:
        """Release the engine."""
        if self._engine is not None:
            self._engine.dispose()

    # --- the executor process ----------------------------------------------------------------

    @contextmanager
    def executor(self, kill_at: str | None = None) -> Iterator[ServiceManager]:
        """The executor under a service manager; killed if still running at the end."""
        env = autotrader_env()
        env.pop(FAULT_ENV, None)
        if kill_at is not None:
            env[FAULT_ENV] = kill_at
        argv = [sys.executable, "-m", "autotrader", "run", "executor", "--config",
                str(self.config_path)]  # fmt: skip
        with ServiceManager(watchdog_secs=None) as manager:
            manager.start(argv, env=env, cwd=self.config_path.parent)
            yield manager

    @staticmethod
    def ready_or_dead(manager: ServiceManager, timeout: float = 60) -> bool:
        """True once READY=1 came; False if the process ended first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                manager.wait_for_key("READY", "1", timeout=0.1)
                return True
            except TimeoutError:
                if manager.proc is not None and manager.proc.poll() is not None:
                    return False
        raise AssertionError(f"executor neither ready nor dead\n{manager.stderr()}")

    @staticmethod
    def stop(manager: ServiceManager) -> None:
        """SIGTERM and a clean exit."""
        manager.kill(signal.SIGTERM)
        code = manager.wait_exit(30)
        assert code == 0, f"exit {code}\n{manager.stderr()}"

    # --- intents -----------------------------------------------------------------------------

    def tradable_market(self, min_left_secs: float) -> str:
        """The current BTC window's slug, or the next one's if fewer than ``min_left_secs``
        simulated seconds of it are left."""
        now = int(httpx.get(f"{self.url}/time", timeout=5).json())
        start = window_start(now)
        return btc_15m_slug(start if start + 900 - now >= min_left_secs else start + 900)

    def market_tokens(self, slug: str) -> dict[str, str]:
        """Outcome → token id of the market ``slug`` at the simulator (Gamma)."""
        r = httpx.get(f"{self.url}/markets/slug/{slug}", timeout=10)
        r.raise_for_status()
        m = r.json()
        return dict(zip(json.loads(m["outcomes"]), json.loads(m["clobTokenIds"]), strict=True))

    def random_intent(
        self, rng: random.Random, slug: str, tokens: dict[str, str], *, small: bool = False
    ) -> OrderIntent:
        """A market buy, a crossing limit buy or a resting limit buy, of a random strategy
        (``small``: near the venue minimums, so hundreds fit in one wallet)."""
        now = self.clock.now()
        outcome = rng.choice(sorted(tokens))
        kind = rng.choice(("market", "cross", "rest"))
        hi = 3 if small else 5
        usd = Decimal(rng.randint(2, hi)) if kind == "market" else None
        shares = None if usd is not None else Decimal(rng.randint(5, hi + 3))
        limit = {"market": None, "cross": Decimal("0.9"), "rest": Decimal("0.05")}[kind]
        return OrderIntent(
            id=uuid.uuid4().hex,
            strategy=rng.choice(STRATEGIES),
            market_slug=slug,
            token_id=tokens[outcome],
            outcome=outcome,
            side=Side.BUY,
            kind=IntentKind.MARKET if limit is None else IntentKind.LIMIT,
            amount_usd=usd,
            shares=shares,
            limit_price=limit,
            valid_until=now + timedelta(minutes=30),
            entry_key=None,
            reason=f"test {kind}",
            created_at=now,
        )

    def add(self, intent: OrderIntent) -> None:
        """Commit ``intent`` (PENDING)."""
        assert isinstance(IntentRepo(self.engine).add(intent), IntentAdded)
        self.intent_ids.append(intent.id)

    def intents(self) -> list[StoredIntent]:
        """The run's intents as stored now."""
        repo = IntentRepo(self.engine)
        found = [repo.get(i) for i in self.intent_ids]
        return [s for s in found if s is not None]

    def settled(self) -> bool:
        """Every intent terminal, no order left PENDING or held (DELAYED), and no matched
        order still awaiting its trades. An order of unknown fate whose intent failed stays
        SUBMITTED for a while by design: later syncs find it if it surfaces."""
        if not all(s.terminal for s in self.intents()):
            return False
        orders = OrderRepo(self.engine)
        busy = ("PENDING", "DELAYED")
        if any(o.status.value in busy for o in orders.non_terminal()):
            return False
        return not orders.missing_fills()

    def wait_settled(self, manager: ServiceManager, timeout: float = 60) -> None:
        """Poll (with a deadline) until ``settled``."""
        deadline = time.monotonic() + timeout
        while not self.settled():
            if time.monotonic() > deadline:
                left = [(s.id, s.status) for s in self.intents() if not s.terminal]
                raise AssertionError(f"not settled: {left}\n{manager.stderr()[-4000:]}")
            time.sleep(0.05)  # polling interval, not a synchronisation

    # --- the verdict -------------------------------------------------------------------------

    def venue_orders(self) -> list[tuple[str, Decimal]]:
        """(id, shares matched) of every order the venue accepted: the simulator's record of
        this run's wallet (live), or the paper venue's own tables (paper)."""
        if self.mode == "paper":
            return [
                (po.venue_order_id, po.matched) for po in PaperStateRepo(self.engine).load().orders
            ]
        r = httpx.get(f"{self.url}/_sim/orders", params={"wallet": self.wallet}, timeout=10)
        r.raise_for_status()
        return [(o["id"], Decimal(o["size_matched"])) for o in r.json()["orders"]]

    def orders(self) -> list[StoredOrder]:
        """Every order row of the run."""
        return OrderRepo(self.engine).list(limit=10_000)

    def check_books(self) -> None:
        """The invariants of a run (see the module docstring)."""
        for s in self.intents():
            assert s.terminal and s.reason_code and (s.reason_text or "").strip(), s
        orders = self.orders()
        by_hash = {o.venue_order_id: o for o in orders if o.venue_order_id}
        fills = FillRepo(self.engine).all()
        recorded: Counter[str] = Counter()
        for f in fills:
            recorded[f.fill.venue_order_id] += 1
        for o in orders:
            got = sum((f.fill.size for f in fills if f.fill.venue_order_id == o.venue_order_id),
                      Decimal(0))  # fmt: skip
            assert got == o.size_matched or o.size is None or not o.terminal, (o, got)
        self._check_venue(by_hash, fills)
        self._check_trade_events(fills)
        for name, ledger in all_ledgers(self.config, load_snapshot(self.engine)).items():
            assert ledger.balanced(), f"{name}: imbalance {ledger.imbalance_usd}"

    def _check_trade_events(self, fills: list[Any]) -> None:
        """Every fill of one of our orders is in exactly one ``trade_executed`` event."""
        told: Counter[str] = Counter()
        for event in EventRepo(self.engine).list(type="trade_executed", limit=100_000):
            told.update(event.payload["trade_ids"])
        ours = [f.fill.trade_id for f in fills if f.order_id is not None]
        wrong = {t: told[t] for t in ours if told[t] != 1}
        assert not wrong, f"fills told about other than once (trade id: times): {wrong}"

    def _check_venue(self, by_hash: dict[str, StoredOrder], fills: list[Any]) -> None:
        per_intent: Counter[str] = Counter()
        for oid, at_venue in self.venue_orders():
            mine = by_hash.get(oid)
            assert mine is not None, f"venue order {oid} unknown to the database"
            assert mine.intent_id is not None
            per_intent[mine.intent_id] += 1
            got = sum((f.fill.size for f in fills if f.fill.venue_order_id == oid), Decimal(0))
            # An order the executor saw end has all its fills; one still open at the venue
            # (or closed after the executor stopped) may have matched more since.
            assert got == at_venue if mine.terminal else got <= at_venue, (oid, at_venue, mine)
        doubled = {i: n for i, n in per_intent.items() if n > 1}
        assert not doubled, f"intents with more than one order at the venue: {doubled}"
        for s in self.intents():
            if s.status in (IntentStatus.FILLED, IntentStatus.PARTIALLY_FILLED,
                            IntentStatus.RESTING):  # fmt: skip
                assert per_intent[s.id] == 1, s
