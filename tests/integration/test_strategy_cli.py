"""`autotrader strategy …` controlling a running scheduler (a real daemon, real CLI processes).

The daemon runs on a clock 60× real time: "ticker" and "fast" run every simulated minute (every
real second); "slow" runs hourly. Absence of runs is checked against the ticker: while it runs
three more times, a paused or stopped strategy must not run at all.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.notify import ServiceManager
from harness.scheduler import SchedulerDaemon, strategy_yaml
from harness.wait import poll

DEAD_URL = "http://127.0.0.1:1"


# The control test runs many CLI processes: SQLite only, to keep the suite quick; the CLI's
# database code is the same repositories that run on both backends elsewhere.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def daemon(tmp_path: Path, database_url: str) -> Iterator[SchedulerDaemon]:
    """A running scheduler with strategies ticker, fast and slow."""
    d = SchedulerDaemon(tmp_path, database_url, speed=60.0, url=DEAD_URL)
    d.share_clock()
    minute = "{every: 1m, align: true}"
    d.write(strategy_yaml("ticker", minute) + strategy_yaml("fast", minute)
            + strategy_yaml("slow", "{every: 1h}"))  # fmt: skip
    with ServiceManager(watchdog_secs=2.0) as manager:
        d.start(manager)
        yield d
        manager.kill(signal.SIGTERM)
        assert manager.wait_exit(30) == 0, manager.stderr()
    d.close()


def _quiet_while_ticker_runs(d: SchedulerDaemon, name: str) -> None:
    """``name`` does not run while the ticker runs three more times."""
    before, ticks = len(d.runs(name)), len(d.runs("ticker"))
    poll(lambda: len(d.finished("ticker")) >= ticks + 3, "three more ticker runs")
    assert len(d.runs(name)) == before


def _runs_again(d: SchedulerDaemon, name: str) -> None:
    count = len(d.runs(name))
    poll(lambda: len(d.finished(name)) > count, f"a new run of {name}", timeout=10)


@SQLITE_ONLY
def test_pause_resume_stop_start_and_run_now_while_the_daemon_runs(
    daemon: SchedulerDaemon,
) -> None:
    poll(lambda: len(daemon.finished("fast")) >= 2, "two runs of fast")
    listed = {r["name"]: r for r in daemon.cli_json("list")}
    assert [listed[n]["status"] for n in ("ticker", "fast", "slow")] == ["running"] * 3
    assert all(r["next_run_at"] is not None and r["executions"] >= 1 for r in listed.values())
    assert listed["fast"]["kind"] == "btc_updown_15m"

    done = daemon.cli("pause", "fast", "--reason", "checking the feed")
    assert done.returncode == 0 and done.stdout.strip() == "fast paused", done.stderr
    poll(lambda: (s := daemon.state_of("fast")) and s.next_run_at is None, "the daemon halts fast")
    _quiet_while_ticker_runs(daemon, "fast")
    (paused,) = daemon.events("strategy_paused")
    assert paused.strategy == "fast" and "checking the feed" in paused.payload["summary"]
    row = daemon.cli_json("show", "fast")
    assert (row["status"], row["pause_reason"]) == ("paused", "checking the feed")
    assert row["runs"] and row["runs"][0]["note"].startswith("no signal yet")

    assert daemon.cli("resume", "fast").stdout.strip() == "fast resumed"
    _runs_again(daemon, "fast")
    assert [e.strategy for e in daemon.events("strategy_resumed")] == ["fast"]

    assert daemon.cli("stop", "fast").returncode == 0
    poll(lambda: (s := daemon.state_of("fast")) and s.next_run_at is None, "the daemon stops fast")
    _quiet_while_ticker_runs(daemon, "fast")
    refused = daemon.cli("run-now", "fast")
    assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1
    assert "stopped" in refused.stderr

    assert daemon.cli("start", "fast").returncode == 0
    _runs_again(daemon, "fast")

    slow = daemon.state_of("slow")
    assert slow is not None and slow.next_run_at is not None
    assert daemon.cli("run-now", "slow").stdout.strip() == "slow: run requested"
    manual = poll(lambda: [r for r in daemon.finished("slow") if r.trigger == "manual"],
                  "the requested run", timeout=10)  # fmt: skip
    assert len(manual) == 1 and manual[0].scheduled_for is None
    after = daemon.state_of("slow")
    assert after is not None and after.next_run_at == slow.next_run_at  # schedule unchanged
    assert after.run_now_at is None


def test_unknown_strategy_is_one_line_and_changes_nothing(
    tmp_path: Path, database_url: str
) -> None:
    from autotrader.store import migrate

    d = SchedulerDaemon(tmp_path, database_url, speed=60.0, url=DEAD_URL)
    d.write(strategy_yaml("ticker", "{every: 1m}") + strategy_yaml("fast", "{every: 1m}"))
    missing = d.cli("list")  # no tables yet: a clear line, not a traceback
    assert missing.returncode == 1 and "no scheduler tables yet" in missing.stderr
    migrate.upgrade(database_url)
    errors = {}
    for args in (("pause", "nope"), ("run-now",)):
        done = d.cli(*args)
        assert done.returncode == 1, args
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("autotrader strategy: error:"), lines
        errors[args[0]] = lines[0]
    assert errors["pause"].endswith("no strategy named 'nope' (strategies: ticker, fast)")
    assert errors["run-now"].endswith("run-now needs a strategy NAME")
    assert d.repo.states() == {} and d.events("strategy_paused") == []
    table = d.cli("list").stdout.splitlines()
    assert table[0].split()[:3] == ["NAME", "KIND", "STATUS"]
    assert [line.split()[:3] for line in table[1:]] == [
        ["ticker", "btc_updown_15m", "running"],
        ["fast", "btc_updown_15m", "running"],
    ]
    d.close()
