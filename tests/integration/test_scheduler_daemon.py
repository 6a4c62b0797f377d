"""`autotrader run scheduler` as a real process on a scaled clock.

* the btc strategy over many simulated windows against the simulator: one entry intent per
  tradable window, a recorded reason for every skipped one;
* a strategy failing every run is paused with ``strategy_error`` while another keeps its timing;
* hot reload: added, removed, changed and unchanged strategies; an invalid file changes nothing.

Every wait is a poll with a deadline; the tests look at the database the daemon writes.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from autotrader.domain.markets import WINDOW_SECS
from harness.notify import ServiceManager
from harness.scheduler import START, SchedulerDaemon, SignalWriter, strategy_yaml
from harness.sim import DATA, SimProcess
from harness.wait import poll

BTC_SPEED = 1200.0  # a 15-minute window every 0.75 real seconds
DEAD_URL = "http://127.0.0.1:1"  # nothing listens: every market query fails at once


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimProcess]:
    """The simulator on the BTC test's clock (its clock.json is shared with the daemon)."""
    root = tmp_path_factory.mktemp("sim")
    config = root / "sim.yaml"
    config.write_text(
        f"state_dir: {root / 'state'}\n"
        f'clock: {{speed: {BTC_SPEED}, start: "{START}"}}\n'
        f"feeds: {{btc: {{sources: [replay], replay: {{path: {DATA}}}}}}}\n"
    )
    process = SimProcess("sim", "--port", "0", "--config", str(config))
    process.state = root / "state"  # type: ignore[attr-defined]
    try:
        yield process
    finally:
        process.close()


@pytest.fixture
def manager(database_url: str) -> Iterator[ServiceManager]:
    """A stand-in service manager; the daemon must stop cleanly on SIGTERM.

    Depends on ``database_url`` so the daemon is stopped *before* the test's PostgreSQL schema
    is dropped (a daemon writing into a dropped schema exits 1, failing the teardown).
    """
    with ServiceManager(watchdog_secs=2.0) as m:
        yield m
        if m.proc is not None and m.proc.poll() is None:
            m.kill(signal.SIGTERM)
            assert m.wait_exit(30) == 0, m.stderr()


# Window k (counted from the first the daemon trades) gets PLAN[k % len(PLAN)].
PLAN: list[tuple[str, float] | None] = [
    ("UP", 80.0),
    ("DOWN", 70.0),
    ("NO_TRADE", 0.0),
    ("UP", 55.0),  # below min_confidence 60
    None,  # the signal daemon stops publishing: stale
]


def test_btc_strategy_trades_each_window_once_and_records_why_it_skips(
    sim: SimProcess, manager: ServiceManager, database_url: str, tmp_path: Path
) -> None:
    daemon = SchedulerDaemon(tmp_path, database_url, speed=BTC_SPEED, url=sim.url)
    clock = daemon.share_clock(sim.state / "clock.json")  # type: ignore[attr-defined]
    # A minute of signal-age slack (50 ms real): a busy machine may delay the writer thread.
    daemon.write(strategy_yaml("btc-15m", "{every: 15m, align: true, offset_secs: 5}",
                               "{min_confidence: 60, cooldown_secs: 0}"),
                 "feeds: {btc: {stale_after_secs: 60}}\n")  # fmt: skip
    first = (int(clock.time()) // WINDOW_SECS + 1) * WINDOW_SECS
    plans = {first + k * WINDOW_SECS: PLAN[k % len(PLAN)] for k in range(40)}
    with SignalWriter(daemon.state, clock, lambda start: plans.get(start, ("NO_TRADE", 0))):
        daemon.start(manager)
        (run0, *_) = poll(lambda: daemon.finished("btc-15m"), "a first run")
        assert run0.scheduled_for is not None
        windows = [int(run0.scheduled_for.timestamp()) - 5 + k * WINDOW_SECS for k in range(6)]
        poll(lambda: len([r for r in daemon.finished("btc-15m")
                          if r.scheduled_for and r.scheduled_for.timestamp() >= windows[-1]]),
             "runs over six windows", timeout=60)  # fmt: skip
    runs = {r.scheduled_for.timestamp(): r for r in daemon.finished("btc-15m") if r.scheduled_for}
    intents = {i.intent.entry_key: i.intent for i in daemon.intents("btc-15m")}
    seen = set()
    for start in windows:
        run = runs[start + 5]  # exactly one run per window, at :00/:15/:30/:45 + 5 s
        slug = f"btc-updown-15m-{start}"
        plan = plans[start]
        seen.add(plan)
        if plan is not None and plan[0] != "NO_TRADE" and plan[1] >= 60:
            assert run.outcome == "ok" and run.intents_created == 1, run
            intent = intents[slug]
            assert intent.outcome == ("Up" if plan[0] == "UP" else "Down")
            assert intent.amount_usd == Decimal(10) and intent.kind.value == "market"
            # Default max price: the highest price with positive EV after the 7% fee curve.
            assert intent.limit_price == (Decimal("0.78") if plan[1] == 80 else Decimal("0.68"))
            assert start < intent.valid_until.timestamp() <= start + WINDOW_SECS - 60
            assert run.nodes[-1] == {"node": "entry", "in": 1, "out": 1}
        else:
            assert run.outcome == "skipped" and slug not in intents, run
            expected = {None: "signal stale", "NO_TRADE": "NO_TRADE", "UP": "below 60"}
            assert expected[None if plan is None else plan[0]] in (run.note or ""), run
    assert seen == set(PLAN)  # six windows cover every case of the plan
    assert len(runs) == len(daemon.finished("btc-15m"))  # no window ran twice
    state = daemon.state_of("btc-15m")
    assert state is not None and state.next_run_at is not None
    assert (state.next_run_at.timestamp() - 5) % WINDOW_SECS == 0
    assert state.failures == 0 and state.executions == len(runs)
    daemon.close()


def test_failing_strategy_is_paused_while_another_keeps_its_timing(
    manager: ServiceManager, database_url: str, tmp_path: Path
) -> None:
    daemon = SchedulerDaemon(tmp_path, database_url, speed=120.0, url=DEAD_URL)
    clock = daemon.share_clock()
    every_minute = "{every: 1m, align: true}"
    daemon.write(
        strategy_yaml("broken", every_minute, "{min_confidence: 50, cooldown_secs: 0}")
        + strategy_yaml("steady", every_minute, "{min_confidence: 100, cooldown_secs: 0}")
    )
    # Every run of "broken" gets past the signal and fails on the market query.
    with SignalWriter(daemon.state, clock, lambda _start: ("UP", 90.0), current_window=True):
        daemon.start(manager)
        (event,) = poll(lambda: daemon.events("strategy_error"), "strategy_error", timeout=30)
        paused_at = event.created_at.timestamp()
        poll(lambda: len([r for r in daemon.finished("steady")
                          if r.started_at.timestamp() > paused_at]) >= 3,
             "three more runs of steady")  # fmt: skip
    broken = daemon.finished("broken")
    assert [r.outcome for r in broken[-3:]] == ["failed"] * 3
    # Skips: a window's last minute (no entry), or a run on a window's first instant that
    # reads the signal published a moment before, for the previous window.
    skips = ("too late", "signal is for window")
    for r in broken:
        assert "VenueUnavailable" in (r.error or "") or any(s in (r.note or "") for s in skips), r
    assert event.strategy == "broken" and "3 consecutive failed runs" in event.payload["summary"]
    (row,) = [r for r in daemon.cli_json("list") if r["name"] == "broken"]
    assert row["status"] == "paused" and row["next_run_at"] is None
    assert row["consecutive_failures"] == 3
    assert row["failures"] == len([r for r in broken if r.outcome == "failed"])
    steady = daemon.finished("steady")
    due = [r.scheduled_for.timestamp() for r in steady if r.scheduled_for]
    # One run every minute on the minute, none missed, before and after the other's failures.
    assert due == [due[0] + 60 * k for k in range(len(due))]
    assert {r.outcome for r in steady} == {"skipped"}
    daemon.close()


SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _hot_reload_config(daemon: SchedulerDaemon, names: dict[str, str]) -> None:
    daemon.write("".join(strategy_yaml(n, "{every: 1h}", p) for n, p in names.items()))


@SQLITE_ONLY  # keeps the suite quick; the same repositories run on PostgreSQL above
def test_hot_reload_adds_removes_changes_and_leaves_the_rest_alone(
    manager: ServiceManager, database_url: str, tmp_path: Path
) -> None:
    daemon = SchedulerDaemon(tmp_path, database_url, speed=60.0, url=DEAD_URL)
    daemon.share_clock()
    plain = "{cooldown_secs: 0}"
    _hot_reload_config(daemon, {"gone": plain, "changed": plain, "same": plain})
    daemon.start(manager)
    for name in ("gone", "changed", "same"):
        poll(lambda n=name: daemon.finished(n), f"first run of {name}")  # type: ignore[misc]
    before = {n: daemon.state_of(n) for n in ("gone", "changed", "same")}
    _hot_reload_config(daemon, {"changed": "{cooldown_secs: 30}", "same": plain, "new": plain})
    manager.kill(signal.SIGHUP)
    poll(lambda: daemon.finished("new"), "first run of the added strategy")
    after = {n: daemon.state_of(n) for n in ("gone", "changed", "same", "new")}
    assert after["gone"] is not None and after["gone"].next_run_at is None  # stopped, kept
    assert len(daemon.runs("gone")) == 1
    old, new = before["changed"], after["changed"]
    assert old is not None and new is not None
    assert new.definition_hash != old.definition_hash  # the new definition is in use
    assert (new.next_run_at, new.executions) == (old.next_run_at, old.executions)
    assert after["same"] == before["same"]  # not touched at all
    assert [r["name"] for r in daemon.cli_json("list")] == ["changed", "same", "new"]
    poll(lambda: "3 strategies: 3 running" in (manager.status() or ""), "STATUS after reload")
    # An invalid file changes nothing: same strategies, same rows, the daemon stays up.
    daemon.config.write_text(daemon.config.read_text() + "  - name: [broken\n")
    manager.kill(signal.SIGHUP)
    manager.wait_for_log("reload refused", timeout=20)
    assert daemon.state_of("same") == before["same"]
    assert daemon.state_of("new") == after["new"]
    assert "3 strategies" in (manager.status() or "")
    daemon.close()
