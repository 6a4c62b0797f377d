"""The daemon runtime as a real process under a stand-in service manager (tests/harness/notify.py).

The daemon is tests/harness/dummy_service.py driven by the real ``run_service``; it is steered
through marker files in its state_dir. Every wait is a deadline-bounded wait for an event
(a notification, a log line, a heartbeat row); nothing sleeps for a fixed time.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from autotrader.daemons.notify import status_assignment, watchdog_period_secs
from autotrader.daemons.runtime import backoff
from autotrader.daemons.watch import ConfigWatcher
from autotrader.store.db import create_db_engine
from autotrader.store.repos import Heartbeat, HeartbeatRepo
from harness.notify import Message, ServiceManager, gaps

REPO = Path(__file__).resolve().parents[2]
WATCHDOG_SECS = 1.0  # pings expected every 0.5 s

BASE_CONFIG = """\
mode: %(mode)s
state_dir: state
daemons: {heartbeat_secs: 0.2, shutdown_timeout_secs: %(shutdown)s}
signal: {interval_secs: %(interval)s}
"""


class Daemon:
    """One dummy daemon: its config file, state folder and the manager that runs it."""

    def __init__(self, root: Path, manager: ServiceManager) -> None:
        self.root = root
        self.manager = manager
        self.config = root / "autotrader.yaml"
        self.state = root / "state"
        self.write_config()
        self.state.mkdir()

    def write_config(
        self, *, interval: float = 0.1, shutdown: float = 5, mode: str = "paper", extra: str = ""
    ) -> None:
        """Rewrite the config file in place."""
        text = BASE_CONFIG % {"interval": interval, "shutdown": shutdown, "mode": mode} + extra
        with open(self.config, "w") as fh:
            fh.write(text)

    def replace_config(self, *, interval: float) -> None:
        """Save the config the way editors do: a new file renamed over the old one."""
        tmp = self.root / ".autotrader.yaml.swp"
        tmp.write_text(BASE_CONFIG % {"interval": interval, "shutdown": 5, "mode": "paper"})
        os.replace(tmp, self.config)

    def marker(self, name: str, content: str = "") -> None:
        """Create a marker file the dummy service reacts to."""
        (self.state / name).write_text(content)

    def unmark(self, name: str) -> None:
        """Remove a marker file."""
        (self.state / name).unlink()

    def start(self, *, notify: bool = True, env: dict[str, str] | None = None) -> None:
        """Start the daemon as ``python tests/harness/dummy_service.py``.

        By path, not ``-m tests.…``: a dependency (py-clob-client-v2) installs a top-level
        ``tests`` package into site-packages, and a regular package there wins over ours.
        """
        script = REPO / "tests" / "harness" / "dummy_service.py"
        argv = [sys.executable, str(script), "--config", str(self.config)]
        self.manager.start(argv, env={**os.environ, **(env or {})}, cwd=REPO, notify=notify)

    def ready(self) -> Message:
        """Wait for the first READY=1."""
        return self.manager.wait_for_key("READY", "1")

    def events(self) -> list[tuple[float, str]]:
        """The dummy's events.log as (monotonic time, event)."""
        path = self.state / "events.log"
        if not path.exists():
            return []
        out = []
        for line in path.read_text().splitlines():
            t, _, what = line.partition(" ")
            out.append((float(t), what))
        return out

    def heartbeats(self) -> list[Heartbeat]:
        """The rows of daemon_heartbeats."""
        engine = create_db_engine(f"sqlite:///{self.state / 'autotrader.db'}")
        try:
            return HeartbeatRepo(engine).all()
        finally:
            engine.dispose()

    def wait_heartbeat(self, ok: Callable[[Heartbeat], bool], timeout: float = 15) -> Heartbeat:
        """Poll the database until the dummy's row satisfies ``ok``."""
        deadline = time.monotonic() + timeout
        while True:
            rows = [h for h in self.heartbeats() if h.daemon == "dummy"]
            if rows and ok(rows[0]):
                return rows[0]
            if time.monotonic() > deadline:
                raise TimeoutError(f"heartbeat never matched; last rows {rows}")
            time.sleep(0.05)  # polling interval, not a synchronisation


@pytest.fixture(params=["path", "abstract"])
def socket_kind(request: pytest.FixtureRequest) -> str:
    """Both kinds of NOTIFY_SOCKET address systemd may hand out."""
    return str(request.param)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    """A dummy daemon under a manager with a 1 s watchdog (started by the test)."""
    with ServiceManager(watchdog_secs=WATCHDOG_SECS) as manager:
        yield Daemon(tmp_path, manager)


def ticks_of(msg: Message) -> int:
    """The tick counter in a dummy STATUS= line (-1 if none)."""
    found = re.search(r"ticks=(\d+)", msg.fields.get("STATUS", ""))
    return int(found.group(1)) if found else -1


def status_after(daemon: Daemon, needle: str, after: float) -> Message:
    """The first STATUS= containing ``needle`` since ``after``."""
    return daemon.manager.wait_for(
        lambda m: needle in m.fields.get("STATUS", ""), after=after, what=f"STATUS with {needle!r}"
    )


# -- start-up, watchdog, status ----------------------------------------------------------------
def test_ready_status_and_watchdog_rate(tmp_path: Path, socket_kind: str) -> None:
    with ServiceManager(watchdog_secs=WATCHDOG_SECS, abstract=socket_kind == "abstract") as mgr:
        d = Daemon(tmp_path, mgr)
        d.start()
        ready = d.ready()
        assert ready.pid == mgr.pid
        assert ready.fields["STATUS"].startswith("dummy ticks=")
        # READY comes only after startup() returned.
        started = [t for t, what in d.events() if what == "startup"]
        assert started and started[0] <= ready.t
        pings = mgr.wait_for_watchdogs(9, after=ready.t)
        between = gaps(pings)
        median = sorted(between)[len(between) // 2]
        assert 0.3 <= median <= 0.75, between  # half of WATCHDOG_USEC, generous bounds
        assert max(between) < WATCHDOG_SECS, between  # never a gap systemd would kill for
        status_after(d, "ticks=3", ready.t)  # STATUS follows the service's status line
        assert not mgr.rejected  # everything came from the main pid (NotifyAccess=main)


def test_pings_and_heartbeats_keep_their_rate_during_a_slow_tick(daemon: Daemon) -> None:
    daemon.marker("slow", "8")
    daemon.start()
    ready = daemon.ready()
    pings = daemon.manager.wait_for_watchdogs(9, after=ready.t)
    events = daemon.events()
    slow = [t for t, what in events if what == "slow-begin"]
    assert slow and "slow-end" not in [w for _, w in events]
    inside = [t for t in pings if t > slow[0]]  # all sent while the first tick was running
    assert len(inside) >= 7 and max(gaps(inside)) < WATCHDOG_SECS, gaps(pings)
    first = daemon.wait_heartbeat(lambda h: h.state == "running")
    daemon.wait_heartbeat(lambda h: h.last_beat_at >= first.last_beat_at + timedelta(seconds=0.5))
    assert "slow-end" not in [w for _, w in daemon.events()]  # all of it within one slow tick


# -- reload ------------------------------------------------------------------------------------
def test_sighup_reloads_with_monotonic_usec(daemon: Daemon) -> None:
    daemon.start()
    ready = daemon.ready()
    status_after(daemon, "interval=0.1", ready.t)
    daemon.write_config(interval=0.25)
    sent = daemon.manager.kill(signal.SIGHUP)
    reloading = daemon.manager.wait_for_key("RELOADING", "1", after=sent)
    stamp = int(reloading.fields["MONOTONIC_USEC"]) / 1e6  # CLOCK_MONOTONIC, same as ours
    assert sent - 1 <= stamp <= reloading.t
    done = daemon.manager.wait_for_key("READY", "1", after=reloading.t)
    assert "interval=0.25" in done.fields["STATUS"]
    daemon.manager.wait_for_log("configuration reloaded (SIGHUP", after=sent)
    # A SIGHUP with nothing changed is still a complete reload.
    again = daemon.manager.kill(signal.SIGHUP)
    daemon.manager.wait_for_key(
        "READY", "1", after=daemon.manager.wait_for_key("RELOADING", "1", after=again).t
    )


@pytest.mark.parametrize("how", ["in place", "rename"])
def test_saving_the_file_reloads(daemon: Daemon, how: str) -> None:
    daemon.start()
    ready = daemon.ready()
    saved = time.monotonic()
    if how == "rename":
        daemon.replace_config(interval=0.3)
    else:
        daemon.write_config(interval=0.3)
    reloading = daemon.manager.wait_for_key("RELOADING", "1", after=ready.t)
    assert reloading.t >= saved and "MONOTONIC_USEC" in reloading.fields
    done = daemon.manager.wait_for_key("READY", "1", after=reloading.t)
    assert "interval=0.3" in done.fields["STATUS"]
    daemon.manager.wait_for_log("configuration reloaded (autotrader.yaml changed", after=saved)
    assert "reload interval=0.3" in [w for _, w in daemon.events()]


@pytest.mark.parametrize("trigger", ["file change", "SIGHUP"])
def test_broken_config_is_refused_in_one_line_and_the_old_one_stays(
    daemon: Daemon, trigger: str
) -> None:
    daemon.start()
    ready = daemon.ready()
    t = time.monotonic()
    daemon.write_config(mode="banana")
    if trigger == "SIGHUP":
        daemon.manager.kill(signal.SIGHUP)
    reloading = daemon.manager.wait_for_key("RELOADING", "1", after=ready.t)
    done = daemon.manager.wait_for_key("READY", "1", after=reloading.t)
    assert "interval=0.1 mode=paper" in done.fields["STATUS"]
    line = daemon.manager.wait_for_log("reload refused", after=t)
    assert re.match(
        r"<3>autotrader\.runtime: reload refused, keeping the previous configuration: "
        r"\S*autotrader\.yaml:1:7: mode: .*banana",
        line.text,
    ), line.text
    # Still alive and healthy: pings go on after the refusal...
    daemon.manager.wait_for_watchdogs(3, after=done.t)
    # ...and the refusal was the only complaint.
    assert daemon.manager.lines(since=t, prefix="<3>") == [line.text]
    assert daemon.manager.lines(since=t, prefix="<4>") == []
    # Fixing the file is picked up as usual.
    daemon.write_config(interval=0.2)
    status_after(daemon, "interval=0.2", done.t)


# -- health ------------------------------------------------------------------------------------
def test_unhealthy_withholds_pings_until_healthy_again(daemon: Daemon) -> None:
    daemon.start()
    ready = daemon.ready()
    daemon.manager.wait_for_watchdogs(2, after=ready.t)
    daemon.marker("unhealthy")
    withheld = daemon.manager.wait_for_log("watchdog pings withheld", after=ready.t)
    # Let the daemon's own ticks measure time: 25 ticks of 0.1 s are at least 2.5 s, five
    # ping periods, with no ping at all.
    now_ticks = max(ticks_of(m) for m in daemon.manager.messages)
    later = daemon.manager.wait_for(lambda m: ticks_of(m) >= now_ticks + 25, after=withheld.t)
    assert daemon.manager.watchdog_times(withheld.t + 0.2, later.t) == []
    daemon.wait_heartbeat(lambda h: h.state == "unhealthy")
    daemon.unmark("unhealthy")
    resumed = daemon.manager.wait_for_log("healthy again", after=later.t)
    daemon.manager.wait_for_watchdogs(2, after=resumed.t - 0.2)


def test_stalled_tick_ends_in_a_watchdog_kill(tmp_path: Path) -> None:
    with ServiceManager(watchdog_secs=WATCHDOG_SECS, enforce_watchdog=True) as mgr:
        d = Daemon(tmp_path, mgr)
        d.start(env={"DUMMY_STALL_AFTER_SECS": "1"})
        ready = d.ready()
        d.marker("stall")
        mgr.wait_for_log("on_tick has not returned", after=ready.t)
        assert mgr.wait_exit(15) == -signal.SIGABRT
        assert mgr.watchdog_fired_at is not None


def test_blocked_process_ends_in_a_watchdog_kill(tmp_path: Path) -> None:
    with ServiceManager(watchdog_secs=WATCHDOG_SECS, enforce_watchdog=True) as mgr:
        d = Daemon(tmp_path, mgr)
        d.start()
        d.ready()
        d.marker("hang")
        assert mgr.wait_exit(15) == -signal.SIGABRT
        assert mgr.watchdog_fired_at is not None
        assert "hang-begin" in [w for _, w in d.events()]


# -- errors ------------------------------------------------------------------------------------
def test_temporary_errors_back_off_exponentially(daemon: Daemon) -> None:
    daemon.marker("temporary")
    daemon.start()
    ready = daemon.ready()
    third = daemon.manager.wait_for_log("temporary failure #3", after=ready.t)
    delays = [
        float(m.group(1))
        for text in daemon.manager.lines(prefix="<4>")
        if (m := re.search(r"temporary failure #\d+, retrying in ([\d.]+)s", text))
    ]
    assert delays[:3] == [0.1, 0.2, 0.4], delays
    daemon.unmark("temporary")
    before = max(ticks_of(m) for m in daemon.manager.messages)
    daemon.manager.wait_for(lambda m: ticks_of(m) >= before + 3, after=third.t)


def test_operational_error_shows_in_status_and_the_loop_goes_on(daemon: Daemon) -> None:
    daemon.start()
    ready = daemon.ready()
    t = time.monotonic()
    daemon.marker("operational")
    first = status_after(daemon, "error DUMMY_REFUSED", ready.t)
    # Ticks go on while the error stands.
    later = ticks_of(first) + 5
    daemon.manager.wait_for(
        lambda m: "DUMMY_REFUSED" in m.fields.get("STATUS", "") and ticks_of(m) >= later,
        after=first.t,
    )
    errors = daemon.manager.lines(since=t, prefix="<3>")
    assert len(errors) == 1 and "venue refuses on request" in errors[0], errors
    daemon.unmark("operational")
    cleared = daemon.manager.wait_for(
        lambda m: "STATUS" in m.fields and "DUMMY_REFUSED" not in m.fields["STATUS"], after=first.t
    )
    assert cleared.fields["STATUS"].startswith("dummy ticks=")


def test_unexpected_exception_exits_1_with_a_prefixed_traceback(daemon: Daemon) -> None:
    daemon.start()
    daemon.ready()
    daemon.marker("raise")
    assert daemon.manager.wait_exit(15) == 1
    text = daemon.manager.stderr()
    assert "<3>Traceback (most recent call last):" in text
    assert "<3>RuntimeError: boom on request" in text
    assert all(re.match(r"<[1-7]>", line) for line in text.splitlines()), text
    assert daemon.heartbeats()[0].state == "failed"


def test_invalid_config_at_start_exits_1(daemon: Daemon) -> None:
    daemon.write_config(mode="banana", extra="timezone: Mars/Olympus\n")
    daemon.start()
    assert daemon.manager.wait_exit(15) == 1
    errors = daemon.manager.lines(prefix="<3>")
    assert any(re.search(r"autotrader\.yaml:1:7: mode:", e) for e in errors), errors
    assert any(re.search(r"autotrader\.yaml:\d+:\d+: timezone:", e) for e in errors), errors
    assert any("not starting" in e and "RestartSec" in e for e in errors), errors
    assert not [m for m in daemon.manager.messages if m.has("READY")]


def test_failed_startup_exits_1_without_ready(daemon: Daemon) -> None:
    daemon.marker("fail_startup")
    daemon.start()
    assert daemon.manager.wait_exit(15) == 1
    assert "start-up failed on request" in daemon.manager.stderr()
    assert not [m for m in daemon.manager.messages if m.has("READY")]


# -- stopping ----------------------------------------------------------------------------------
def test_sigterm_stops_gracefully_with_exit_0(daemon: Daemon) -> None:
    daemon.start()
    ready = daemon.ready()
    running = daemon.wait_heartbeat(lambda h: h.state == "running")
    assert running.pid == daemon.manager.pid
    sent = daemon.manager.kill(signal.SIGTERM)
    stopping = daemon.manager.wait_for_key("STOPPING", "1", after=sent)
    assert stopping.t >= ready.t
    assert daemon.manager.wait_exit(15) == 0
    assert [w for _, w in daemon.events()][-2:] == ["shutdown-begin", "shutdown-end"]
    final = daemon.heartbeats()[0]
    assert final.state == "stopped" and final.last_beat_at > running.last_beat_at


def test_second_sigterm_exits_at_once(daemon: Daemon) -> None:
    daemon.write_config(shutdown=60)
    daemon.marker("hang_shutdown")
    daemon.start()
    ready = daemon.ready()
    daemon.manager.kill(signal.SIGTERM)
    daemon.manager.wait_for_key("STOPPING", "1", after=ready.t)
    daemon.manager.wait_for_log("stopping (SIGTERM)")
    daemon.manager.kill(signal.SIGTERM)
    # Far sooner than the 60 s the shutdown was allowed.
    assert daemon.manager.wait_exit(10) == 143
    assert "second SIGTERM: exiting without finishing" in daemon.manager.stderr()


def test_hung_shutdown_is_bounded(daemon: Daemon) -> None:
    daemon.write_config(shutdown=1)
    daemon.marker("hang_shutdown")
    daemon.start()
    daemon.ready()
    daemon.manager.kill(signal.SIGTERM)
    assert daemon.manager.wait_exit(15) == 0
    assert "shutdown did not finish within" in daemon.manager.stderr()
    assert daemon.heartbeats()[0].state == "stopped"


def test_runs_unchanged_without_notify_socket(daemon: Daemon) -> None:
    daemon.start(notify=False)
    daemon.manager.wait_for_log("dummy daemon ready")
    since = datetime.now(UTC)
    daemon.wait_heartbeat(lambda h: h.state == "running" and h.last_beat_at > since)
    daemon.write_config(interval=0.2)
    daemon.manager.wait_for_log("configuration reloaded")
    daemon.manager.kill(signal.SIGTERM)
    assert daemon.manager.wait_exit(15) == 0
    assert daemon.manager.messages == [] and daemon.manager.rejected == []
    assert daemon.heartbeats()[0].state == "stopped"


# -- the pure pieces ---------------------------------------------------------------------------
def test_watchdog_period_follows_sd_watchdog_enabled() -> None:
    assert watchdog_period_secs({"WATCHDOG_USEC": "30000000"}, pid=7) == 30.0
    assert watchdog_period_secs({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "7"}, pid=7) == 2.0
    # Meant for another process (e.g. inherited from a parent): not ours to serve.
    assert watchdog_period_secs({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "8"}, pid=7) is None
    assert watchdog_period_secs({}, pid=7) is None
    assert watchdog_period_secs({"WATCHDOG_USEC": "0"}, pid=7) is None
    assert watchdog_period_secs({"WATCHDOG_USEC": "soon"}, pid=7) is None


def test_status_assignment_stays_one_line() -> None:
    assert status_assignment("a\nb\r\nc") == "STATUS=a b  c"


def test_backoff_doubles_up_to_the_cap_and_honours_hints() -> None:
    assert [backoff(0.5, n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert backoff(0.5, 40) == 60.0
    assert backoff(0.5, 1, hint=30) == 30.0


def test_config_watcher_reports_each_new_version_once(tmp_path: Path) -> None:
    path = tmp_path / "autotrader.yaml"
    path.write_text("mode: paper\n")
    watcher = ConfigWatcher(path)
    assert not watcher.changed()
    path.write_text("mode: live\n")
    assert watcher.changed() and not watcher.changed()
    # An editor's save: the name is briefly missing, then names a new file.
    path.unlink()
    assert not watcher.changed()
    (tmp_path / "new").write_text("mode: live\n")
    os.replace(tmp_path / "new", path)
    assert watcher.changed()
    path.write_text("mode: paper\n")
    watcher.mark_current()  # a reload read this version already
    assert not watcher.changed()
