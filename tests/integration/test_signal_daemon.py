"""`autotrader run signal` as a real process, under a stand-in service manager.

The daemon replays real BTC minutes (tests/data/btcusdt_1m_demo.csv) on a scaled clock, so
a simulated minute passes in a fraction of a real second. Every wait is bounded by a deadline
and ends on an event (a notification, a log line, a file or row that appears).
"""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from autotrader.domain.markets import WINDOW_SECS, btc_15m_slug
from autotrader.store.db import create_db_engine
from autotrader.store.repos import SignalRepo, SignalSnapshot
from harness.notify import ServiceManager, gaps

REPO = Path(__file__).resolve().parents[2]
DEMO_CSV = REPO / "tests" / "data" / "btcusdt_1m_demo.csv"
SPEED = 240.0  # one simulated minute (one sample) every 0.25 s
WATCHDOG_SECS = 1.0

CONFIG = """\
state_dir: state
daemons: {{heartbeat_secs: 0.5, shutdown_timeout_secs: 5}}
clock: {{speed: {speed}, start: "{start}"}}
feeds:
  btc:
    sources: [replay]
    stale_after_secs: 180
    unhealthy_after_secs: {unhealthy}
    replay: {{path: {csv}, loop: {loop}}}
signal:
  interval_secs: 60
  snapshot_interval_secs: 60
  # A lower threshold than the seed's 0.25 so directions show up within a short run.
  seed: {{confidence_cap: {cap}, signal_threshold: 0.2}}
"""


def _bars(n: int | None = None) -> list[tuple[int, float]]:
    rows = DEMO_CSV.read_text().splitlines()[1:]
    out = [(int(r.split(",")[0]), float(r.split(",")[4])) for r in rows]
    return out[:n] if n else out


class SignalDaemon:
    """A config, a state folder and the manager running `autotrader run signal`."""

    def __init__(self, root: Path, manager: ServiceManager, csv: Path) -> None:
        self.root, self.manager, self.csv = root, manager, csv
        self.config = root / "autotrader.yaml"
        self.state = root / "state"
        first_open_ms = int(csv.read_text().splitlines()[1].split(",")[0])
        self.start_iso = datetime.fromtimestamp(first_open_ms / 1000, UTC).isoformat()

    def write_config(self, *, cap: float = 95, loop: bool = True, unhealthy: float = 900) -> None:
        """Write the config file (in place, as an operator's editor might)."""
        self.config.write_text(
            CONFIG.format(
                speed=SPEED,
                start=self.start_iso,
                csv=self.csv,
                loop=str(loop).lower(),
                cap=cap,
                unhealthy=unhealthy,
            )
        )

    def start(self) -> None:
        """Start the daemon as a subprocess."""
        argv = [sys.executable, "-m", "autotrader", "run", "signal", "--config", str(self.config)]
        self.manager.start(argv, cwd=self.root)

    def signal_json(self) -> dict[str, Any] | None:
        """The published signal.json, or None before the first one."""
        try:
            data: dict[str, Any] = json.loads((self.state / "signal.json").read_text())
        except FileNotFoundError:
            return None
        return data

    def snapshots(self) -> list[SignalSnapshot]:
        """Every row of the signals table, oldest first."""
        engine = create_db_engine(f"sqlite:///{self.state / 'autotrader.db'}")
        try:
            return list(reversed(SignalRepo(engine).latest(10_000)))
        finally:
            engine.dispose()

    def wait_rows(
        self, ok: Callable[[list[SignalSnapshot]], bool], timeout: float = 30
    ) -> list[SignalSnapshot]:
        """Poll the signals table until ``ok(rows)``."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.snapshots() if (self.state / "autotrader.db").exists() else []
            if ok(rows):
                return rows
            if time.monotonic() > deadline:
                tail = [(r.ts, r.direction, r.reason, r.confidence) for r in rows[-5:]]
                raise TimeoutError(
                    f"signals never matched; last rows {tail}\n{self.manager.stderr()}"
                )
            time.sleep(0.1)  # polling interval, not a synchronisation


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[SignalDaemon]:
    """A signal daemon over the demo slice (not started yet)."""
    with ServiceManager(watchdog_secs=WATCHDOG_SECS) as manager:
        d = SignalDaemon(tmp_path, manager, DEMO_CSV)
        d.write_config()
        yield d


def _directional(rows: list[SignalSnapshot]) -> list[SignalSnapshot]:
    return [r for r in rows if r.direction in ("UP", "DOWN")]


def test_ready_watchdog_status_and_published_signal(daemon: SignalDaemon) -> None:
    daemon.start()
    ready = daemon.manager.wait_for_key("READY", "1")
    pings = daemon.manager.wait_for_watchdogs(6, after=ready.t)
    # Pings at half the watchdog period: generous bounds, this is a shared 2-core machine.
    assert all(0.2 <= g <= 0.9 for g in gaps(pings)), gaps(pings)
    rows = daemon.wait_rows(lambda rows: len(_directional(rows)) >= 2)
    closes = {round(close, 2) for _, close in _bars()}
    for row in rows:
        start = int(row.window_start.timestamp())
        assert row.window_slug == btc_15m_slug(start)
        age_in_window = row.ts.timestamp() - start
        assert -WINDOW_SECS / 2 <= age_in_window < WINDOW_SECS / 2
        if row.price is not None:
            assert round(float(row.price), 2) in closes  # only real prices are published
    for row in _directional(rows):
        assert row.score is not None and abs(row.score) >= 0.2
        assert (row.direction == "UP") == (row.score > 0)
        assert row.confidence == pytest.approx(min(95, 50 + abs(row.score) * 100), abs=0.01)
    doc = daemon.signal_json()
    assert doc is not None and doc["source"] == "replay"
    assert set(doc) >= {"timestamp", "direction", "confidence", "price", "basis", "window"}
    assert doc["window"]["slug"] == btc_15m_slug(doc["window"]["start_ts"])
    status = daemon.manager.status()
    assert status and "btc-updown-15m-" in status, status


def test_reload_on_sighup_and_broken_config_kept_out(daemon: SignalDaemon) -> None:
    daemon.start()
    daemon.manager.wait_for_key("READY", "1")
    daemon.wait_rows(lambda rows: any(r.confidence > 70 for r in _directional(rows)))

    daemon.write_config(cap=70)
    sent = daemon.manager.kill(signal.SIGHUP)
    reloading = daemon.manager.wait_for_key("RELOADING", "1", after=sent)
    assert int(reloading.fields["MONOTONIC_USEC"]) > 0
    ready_again = daemon.manager.wait_for_key("READY", "1", after=reloading.t)
    # One row of margin: a sample in flight while the reload was handled may predate it.
    mark = daemon.wait_rows(lambda rows: bool(rows))[-1].id + 1
    rows = daemon.wait_rows(lambda rows: any(r.id > mark for r in _directional(rows)), timeout=60)
    after = [r for r in _directional(rows) if r.id > mark]
    assert after and all(r.confidence == pytest.approx(70) for r in after)

    daemon.config.write_text("mode: banana\nfeeds: [\n")
    sent = daemon.manager.kill(signal.SIGHUP)
    refused = daemon.manager.wait_for_log("reload refused", after=sent)
    assert refused.text.startswith("<3>")
    daemon.manager.wait_for_watchdogs(3, after=refused.t)  # still healthy, still pinging
    assert daemon.manager.proc is not None and daemon.manager.proc.poll() is None
    mark = daemon.snapshots()[-1].id
    rows = daemon.wait_rows(lambda rows: any(r.id > mark for r in _directional(rows)), timeout=60)
    assert all(r.confidence == pytest.approx(70) for r in _directional(rows) if r.id > mark)
    assert ready_again.t < refused.t


def test_stopped_feed_goes_stale_then_stops_pinging(tmp_path: Path) -> None:
    bars = _bars(40)
    csv = tmp_path / "short.csv"
    csv.write_text(
        "open_time_ms,open,high,low,close,volume\n"
        + "".join(f"{t},{c},{c},{c},{c},1\n" for t, c in bars)
    )
    with ServiceManager(watchdog_secs=WATCHDOG_SECS) as manager:
        daemon = SignalDaemon(tmp_path, manager, csv)
        daemon.write_config(loop=False, unhealthy=600)
        daemon.start()
        ready = manager.wait_for_key("READY", "1")
        manager.wait_for_watchdogs(2, after=ready.t)
        end_of_data = bars[-1][0] / 1000 + 60
        rows = daemon.wait_rows(lambda rows: any(r.reason == "stale" for r in rows), timeout=60)
        manager.wait_for(lambda m: "stale" in m.fields.get("STATUS", ""), after=ready.t)
        for row in rows:
            if row.ts.timestamp() > end_of_data + 180:  # beyond stale_after_secs
                assert row.direction == "NO_TRADE", row
        # 600 simulated seconds of stale data = 2.5 real seconds: then the pings must stop.
        deadline = time.monotonic() + 30
        while True:
            last = manager.watchdog_times()[-1]
            if time.monotonic() - last > 3 * WATCHDOG_SECS:
                break
            assert time.monotonic() < deadline, "the daemon kept pinging on stale data"
            time.sleep(0.1)  # polling interval, not a synchronisation
        assert manager.proc is not None and manager.proc.poll() is None  # systemd's job to kill


def test_sigterm_stops_cleanly(daemon: SignalDaemon) -> None:
    daemon.start()
    daemon.manager.wait_for_key("READY", "1")
    daemon.wait_rows(lambda rows: len(rows) >= 2)
    sent = daemon.manager.kill(signal.SIGTERM)
    daemon.manager.wait_for_key("STOPPING", "1", after=sent)
    assert daemon.manager.wait_exit(20) == 0
