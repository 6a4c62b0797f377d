"""`autotrader run scheduler` as a real process, for the scheduler and strategy CLI tests.

``SchedulerDaemon`` writes a config (scaled clock, state folder, database URL), fixes the shared
clock anchor *before* the daemon starts (so the test knows the daemon's "now" exactly), starts
the daemon under a ``ServiceManager`` and reads what it wrote back from the database.
``SignalWriter`` plays the signal daemon: a thread publishing ``signal.json`` on the daemons'
clock, with a direction and confidence chosen per 15-minute window by the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from autotrader.clock import ScaledClock
from autotrader.domain.markets import Window
from autotrader.store.db import create_db_engine
from autotrader.store.repos_intents import IntentRepo, StoredIntent
from autotrader.store.repos_runtime import EventRepo, NotificationEvent
from autotrader.store.repos_scheduler import RunRecord, SchedulerRepo, StrategyState
from harness.notify import ServiceManager
from harness.sim import REPO, autotrader_env

T = TypeVar("T")
START = "2026-02-21T14:26:00+00:00"  # the demo candles' first minute

HEADER = """\
state_dir: {state}
database_url: "{db}"
daemons: {{heartbeat_secs: 0.5, shutdown_timeout_secs: 5}}
clock: {{speed: {speed}, start: "{start}"}}
polymarket: {{gamma_url: "{url}", clob_url: "{url}"}}
scheduler: {{max_consecutive_failures: 3, run_timeout_secs: 10}}
"""

STRATEGY = """\
  - name: {name}
    kind: btc_updown_15m
    enabled: {enabled}
    schedule: {schedule}
    allocation_usd: 100
    limits: {{daily_loss_usd: 50, max_position_pct: 50}}
    params: {params}
"""


def strategy_yaml(
    name: str, schedule: str, params: str = "{cooldown_secs: 0}", *, enabled: bool = True
) -> str:
    """One btc_updown_15m strategy entry of the ``strategies:`` list."""
    return STRATEGY.format(
        name=name, schedule=schedule, params=params, enabled=str(enabled).lower()
    )


class SchedulerDaemon:
    """A config, state folder and database for one scheduler process."""

    def __init__(self, root: Path, db_url: str, *, speed: float, url: str) -> None:
        self.root, self.db_url, self.speed, self.url = root, db_url, speed, url
        self.config = root / "autotrader.yaml"
        self.state = root / "state"
        self.state.mkdir(parents=True, exist_ok=True)
        self.manager: ServiceManager | None = None
        self.engine = create_db_engine(db_url)
        self.repo = SchedulerRepo(self.engine)

    def write(self, strategies: str, extra: str = "") -> None:
        """(Re)write the config file with these strategy entries."""
        head = HEADER.format(state=self.state, db=self.db_url, speed=self.speed, start=START,
                             url=self.url)  # fmt: skip
        self.config.write_text(head + extra + "strategies:\n" + strategies)

    def share_clock(self, anchor: Path | None = None) -> ScaledClock:
        """Fix the clock anchor (copy ``anchor`` from another state folder, or create one)."""
        target = self.state / "clock.json"
        if anchor is not None:
            shutil.copyfile(anchor, target)
        start = datetime.fromisoformat(START).timestamp()
        return ScaledClock.shared(target, start, self.speed)

    def start(self, manager: ServiceManager) -> None:
        """Start the daemon and wait for READY=1."""
        self.manager = manager
        argv = [sys.executable, "-m", "autotrader", "run", "scheduler", "--config",
                str(self.config)]  # fmt: skip
        manager.start(argv, cwd=self.root, env=autotrader_env())
        manager.wait_for_key("READY", "1", timeout=60)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``autotrader strategy *args`` against this config."""
        argv = [sys.executable, "-m", "autotrader", "strategy", *args, "--config", str(self.config)]
        return subprocess.run(argv, cwd=REPO, env=autotrader_env(), capture_output=True,
                              text=True, timeout=60)  # fmt: skip

    def cli_json(self, *args: str) -> Any:
        """``cli(*args, "--json")`` parsed; fails the test on a non-zero exit."""
        done = self.cli(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def runs(self, name: str) -> list[RunRecord]:
        """The runs of ``name``, oldest first."""
        return list(reversed(self.repo.runs(name, 1000)))

    def finished(self, name: str) -> list[RunRecord]:
        """The runs of ``name`` that have ended, oldest first."""
        return [r for r in self.runs(name) if r.outcome != "running"]

    def state_of(self, name: str) -> StrategyState | None:
        """The strategy_state row of ``name``."""
        return self.repo.get(name)

    def intents(self, name: str) -> list[StoredIntent]:
        """The intents of ``name``, oldest first."""
        return list(reversed(IntentRepo(self.engine).list(strategy=name, limit=1000)))

    def events(self, type_: str) -> list[NotificationEvent]:
        """Recorded events of one type."""
        return EventRepo(self.engine).list(type=type_)

    def close(self) -> None:
        """Dispose of the test's engine."""
        self.engine.dispose()


Plan = Callable[[int], tuple[str, float] | None]
"""Window start -> (direction, confidence) to publish, or None to publish nothing (stale)."""


class SignalWriter:
    """Publishes ``signal.json`` every few real milliseconds on the daemons' clock."""

    def __init__(
        self, state: Path, clock: ScaledClock, plan: Plan, *, current_window: bool = False
    ) -> None:
        """``current_window``: label each signal with the window open now, rather than (as the
        signal daemon does) the nearest window start."""
        self.path = state / "signal.json"
        self.clock, self.plan = clock, plan
        self._window = Window.containing if current_window else Window.for_signal_at
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> SignalWriter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(0.005):  # the publishing cadence, not a synchronisation
            now = self.clock.time()
            window = self._window(now)
            # Decide by the window that is open a minute from now, so a "stale" window has no
            # fresh signal from a minute before it opens.
            choice = self.plan(Window.containing(now + 60).start)
            if choice is None:
                continue
            direction, confidence = choice
            doc = {
                "timestamp": datetime.fromtimestamp(now, UTC).isoformat(),
                "direction": direction,
                "confidence": confidence,
                "price": 68000.0,
                "basis": None,
                "window": {"start_ts": window.start, "slug": window.slug},
                "source": "test",
                "data_age_secs": 0.1,
                "reason": "below_threshold" if direction == "NO_TRADE" else None,
            }
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(doc))
            os.replace(tmp, self.path)
