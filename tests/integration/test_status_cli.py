"""`autotrader status` and `autotrader db` against real SQLite and PostgreSQL databases."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from autotrader.cli import main
from autotrader.domain.markets import Window
from autotrader.domain.signals import Direction, Signal
from autotrader.fsutil import atomic_write
from autotrader.store import migrate
from autotrader.store.db import create_db_engine
from autotrader.store.repos import HeartbeatRepo

REPO = Path(__file__).resolve().parents[2]


def _write_config(tmp_path: Path, database_url: str, heartbeat_secs: float = 60) -> Path:
    path = tmp_path / "autotrader.yaml"
    path.write_text(
        f"state_dir: state\ndatabase_url: '{database_url}'\n"
        f"daemons: {{heartbeat_secs: {heartbeat_secs}}}\n"
    )
    return path


def _beat(url: str, daemon: str, *, age_secs: float = 0, state: str = "running") -> None:
    """A heartbeat written ``age_secs`` ago (real wall time, as daemons write them)."""
    migrate.upgrade(url)
    engine = create_db_engine(url)
    try:
        when = datetime.now(UTC) - timedelta(seconds=age_secs)
        repo = HeartbeatRepo(engine, now=lambda: when)
        repo.beat(daemon, 4242, f"{daemon} is doing fine", state=state)
    finally:
        engine.dispose()


def _write_signal(state_dir: Path, direction: Direction = Direction.UP) -> Window:
    now = datetime.now(UTC)
    window = Window.for_signal_at(now.timestamp())
    signal = Signal(
        timestamp=now,
        direction=direction,
        confidence=72.5,
        price=97000.5,
        basis=None,
        window=window,
        source="replay",
        data_age_secs=0.5,
    )
    atomic_write(state_dir / "signal.json", json.dumps(signal.to_json_dict()).encode())
    return window


def _status(config: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["status", "--config", str(config), *extra])
    out, _err = capsys.readouterr()
    return code, out


def test_nothing_ever_ran_exits_3(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write_config(tmp_path, database_url)
    code, out = _status(config, capsys)
    assert code == 3
    assert "no daemon has ever run" in out
    assert "signal: no signal yet" in out
    if database_url.startswith("sqlite"):
        assert not (tmp_path / "state" / "autotrader.db").exists()  # status creates nothing


def test_fresh_daemons_exit_0_and_show_signal(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write_config(tmp_path, database_url)
    _beat(database_url, "signal")
    _beat(database_url, "executor", age_secs=30)
    window = _write_signal(tmp_path / "state")
    code, out = _status(config, capsys)
    assert code == 0, out
    lines = out.splitlines()
    executor = next(line for line in lines if line.startswith("executor"))
    assert "4242" in executor and "running" in executor and " ok " in executor
    assert "executor is doing fine" in executor
    pattern = rf"signal: UP confidence 72\.5 written \d+s ago, window {window.slug}"
    assert [line for line in lines if re.fullmatch(pattern, line)], out


def test_json_output(tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    config = _write_config(tmp_path, database_url)
    _beat(database_url, "signal", age_secs=500)
    window = _write_signal(tmp_path / "state", Direction.NO_TRADE)
    code, out = _status(config, capsys, "--json")
    assert code == 3
    doc = json.loads(out)
    assert doc["ok"] is False and doc["stale_after_secs"] == 180
    (daemon,) = doc["daemons"]
    assert daemon["daemon"] == "signal" and daemon["pid"] == 4242
    assert daemon["stale"] is True and daemon["active"] is False
    assert daemon["age_secs"] >= 500
    assert daemon["last_beat_at"].endswith("Z")
    assert doc["signal"]["state"] == "ok"
    assert doc["signal"]["direction"] == "NO_TRADE"
    assert doc["signal"]["window_slug"] == window.slug


def test_one_stale_daemon_exits_3(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write_config(tmp_path, database_url, heartbeat_secs=5)
    _beat(database_url, "signal")
    _beat(database_url, "scheduler", age_secs=16)  # just over 3 × 5 s
    code, out = _status(config, capsys)
    assert code == 3
    scheduler = next(line for line in out.splitlines() if line.startswith("scheduler"))
    assert "STALE" in scheduler and re.search(r"\b\d\ds ago", scheduler)
    signal = next(line for line in out.splitlines() if line.startswith("signal "))
    assert "STALE" not in signal


def test_stopped_daemon_is_down(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write_config(tmp_path, database_url)
    _beat(database_url, "signal", state="stopped")
    code, out = _status(config, capsys)
    assert code == 3
    assert "DOWN" in out


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b'{"direction": "UP"}', b""])
def test_corrupt_signal_file_is_one_line(
    tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'state' / 'autotrader.db'}"
    config = _write_config(tmp_path, url)
    _beat(url, "signal")
    (tmp_path / "state" / "signal.json").write_bytes(content)
    code, out = _status(config, capsys)
    assert code == 0  # the daemons are fine; the signal does not decide the exit code
    (line,) = [line for line in out.splitlines() if line.startswith("signal:")]
    assert line.startswith(f"signal: unreadable {tmp_path / 'state' / 'signal.json'}: ")


def test_bad_config_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("daemons: {heartbeat_secs: -1}\n")
    assert main(["status", "--config", str(config)]) == 1
    _out, err = capsys.readouterr()
    assert "daemons.heartbeat_secs" in err


def test_unreachable_database_exits_1_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write_config(tmp_path, "postgresql://postgres@127.0.0.1:1/test")
    assert main(["status", "--config", str(config)]) == 1
    _out, err = capsys.readouterr()
    assert err.startswith("autotrader status: cannot connect to database postgresql+psycopg://")
    assert err.count("\n") == 1


def test_db_upgrade_and_current_as_processes(tmp_path: Path, database_url: str) -> None:
    config = _write_config(tmp_path, database_url)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "autotrader", *args, "--config", str(config)],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
        )

    head = migrate.head_revision()
    before = cli("db", "current")
    assert before.returncode == 3, before.stderr
    assert "at revision none (empty)" in before.stdout
    up = cli("db", "upgrade")
    assert up.returncode == 0, up.stderr
    assert up.stdout.startswith("database ") and up.stdout.endswith(f" at revision {head}\n")
    after = cli("db", "current")
    assert after.returncode == 0 and after.stdout.endswith(f"at revision {head} (head)\n")
    status = cli("status")
    assert status.returncode == 3 and "no daemon has ever run" in status.stdout
    _beat(database_url, "signal")
    status = cli("status")
    assert status.returncode == 0, status.stdout + status.stderr


def test_db_upgrade_hides_the_password(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _write_config(tmp_path, "postgresql://postgres:pw0rd@127.0.0.1:1/test")
    assert main(["db", "upgrade", "--config", str(config)]) == 1
    _out, err = capsys.readouterr()
    assert "pw0rd" not in err and "postgres:***@127.0.0.1:1" in err


def test_status_does_not_touch_a_migrated_schema(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reading status leaves the database as it was (no implicit upgrade, no writes)."""
    config = _write_config(tmp_path, database_url)
    _beat(database_url, "signal")
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as conn:
            before = conn.execute(sa.text("SELECT * FROM daemon_heartbeats")).all()
        _status(config, capsys)
        with engine.connect() as conn:
            after = conn.execute(sa.text("SELECT * FROM daemon_heartbeats")).all()
    finally:
        engine.dispose()
    assert before == after
