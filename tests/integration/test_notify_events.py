"""Events recorded by the daemons themselves, as real processes: ``config_reload_failed`` (any
daemon, when a reload is refused) and ``feed_stale`` (signal daemon, once per stale episode).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from autotrader.store.db import create_db_engine
from autotrader.store.repos import SignalRepo
from autotrader.store.repos_runtime import EventRepo, NotificationEvent
from harness.notify import ServiceManager

REPO = Path(__file__).resolve().parents[2]
DEMO_CSV = REPO / "tests" / "data" / "btcusdt_1m_demo.csv"
T = TypeVar("T")


def _events(db: Path, type: str) -> list[NotificationEvent]:
    if not db.exists():
        return []
    engine = create_db_engine(f"sqlite:///{db}")
    try:
        return EventRepo(engine).list(type=type, oldest_first=True)
    finally:
        engine.dispose()


def _poll(read: Callable[[], T], ok: Callable[[T], bool], what: str, timeout: float = 30) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if ok(value):
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}; last: {value!r}"
        time.sleep(0.1)  # polling interval, not a synchronisation


def test_refused_reload_records_config_reload_failed(tmp_path: Path) -> None:
    config = tmp_path / "autotrader.yaml"
    good = "state_dir: state\ndaemons: {heartbeat_secs: 0.2}\nsignal: {interval_secs: 0.1}\n"
    config.write_text(good)
    (tmp_path / "state").mkdir()
    script = REPO / "tests" / "harness" / "dummy_service.py"
    with ServiceManager(watchdog_secs=None) as manager:
        manager.start(
            [sys.executable, str(script), "--config", str(config)], cwd=REPO, env={**os.environ}
        )
        ready = manager.wait_for_key("READY", "1")
        config.write_text(good + "mode: banana\n")
        manager.kill(signal.SIGHUP)
        manager.wait_for_log("reload refused", after=ready.t)
        db = tmp_path / "state" / "autotrader.db"
        [event] = _poll(lambda: _events(db, "config_reload_failed"), bool, "the event")
    assert event.strategy is None and event.payload["daemon"] == "dummy"
    summary = event.payload["summary"]
    assert summary.startswith("dummy daemon refused the new configuration: ")
    assert "autotrader.yaml:4:7: mode:" in summary and "banana" in summary
    assert "\n" not in summary and event.payload["problems"]


def test_feed_going_stale_records_one_feed_stale_per_episode(tmp_path: Path) -> None:
    rows = DEMO_CSV.read_text().splitlines()
    short = tmp_path / "short.csv"
    short.write_text("\n".join(rows[:11]) + "\n")  # 10 minutes, then the replay ends
    start = datetime.fromtimestamp(int(rows[1].split(",")[0]) / 1000, UTC).isoformat()
    config = tmp_path / "autotrader.yaml"
    config.write_text(
        "state_dir: state\n"
        "daemons: {heartbeat_secs: 0.5}\n"
        f'clock: {{speed: 1200, start: "{start}"}}\n'
        "feeds:\n  btc:\n    sources: [replay]\n    stale_after_secs: 120\n"
        f"    unhealthy_after_secs: 100000\n    replay: {{path: {short}, loop: false}}\n"
        "signal: {interval_secs: 60, snapshot_interval_secs: 60}\n"
    )
    db = tmp_path / "state" / "autotrader.db"
    argv = [sys.executable, "-m", "autotrader", "run", "signal", "--config", str(config)]
    with ServiceManager(watchdog_secs=None) as manager:
        manager.start(argv, cwd=tmp_path)
        manager.wait_for_key("READY", "1")
        [event] = _poll(lambda: _events(db, "feed_stale"), bool, "feed_stale", timeout=60)
        # Ten more stale samples (10 simulated minutes) later: still the one event.
        first_stale = _stale_rows(db)
        _poll(lambda: _stale_rows(db), lambda n: n >= first_stale + 10, "more stale samples")
        assert len(_events(db, "feed_stale")) == 1
    assert event.payload["daemon"] == "signal"
    assert event.payload["summary"].startswith("BTC price feed stale: no fresh price within 120s")


def _stale_rows(db: Path) -> int:
    engine = create_db_engine(f"sqlite:///{db}")
    try:
        return sum(1 for r in SignalRepo(engine).latest(1000) if r.reason == "stale")
    finally:
        engine.dispose()
