"""`autotrader config check|show` as a user runs them: a real process, exit codes, output."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autotrader.cli import config_cmd

REPO = Path(__file__).resolve().parents[2]
AUTOTRADER = Path(sys.executable).parent / "autotrader"


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``autotrader ARGS`` (the installed console script) with $AUTOTRADER_CONFIG unset."""
    environ = {k: v for k, v in os.environ.items() if k != "AUTOTRADER_CONFIG"}
    environ.update(env or {})
    command = [str(AUTOTRADER)] if AUTOTRADER.exists() else [sys.executable, "-m", "autotrader"]
    return subprocess.run(
        [*command, *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=60
    )


GOOD = """\
mode: live
state_dir: state
strategies:
  - name: btc-15m
    kind: btc_updown_15m
    schedule: {every: 15m, align: true}
    allocation_usd: 100
    limits: {daily_loss_usd: 10, max_position_pct: 20}
  - name: idle
    kind: pipeline
    enabled: false
    schedule: {every: 1h}
    allocation_usd: 100
    limits: {daily_loss_usd: 10, max_position_pct: 20}
    pipeline: [monitor_watchlist]
"""

BAD = """\
mode: paper
risk:
  max_trade_usd: 0
mode: live
"""


def test_check_valid_file_prints_one_summary_line(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    proc = run("config", "check", "good.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout == (
        "good.yaml: OK (mode live, 2 strategies: btc-15m, idle (disabled);"
        f" database sqlite:///{tmp_path}/state/autotrader.db)\n"
    )


def test_check_production_example(tmp_path: Path) -> None:
    proc = run("config", "check", str(REPO / "etc" / "autotrader.yaml"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (
        f"{REPO}/etc/autotrader.yaml: OK (mode paper, 2 strategies: btc-15m, politics-momentum;"
        " database sqlite:////var/lib/autotrader/autotrader.db)\n"
    )


def test_check_invalid_file_prints_one_line_per_problem_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "autotrader.yaml").write_text(BAD)
    proc = run("config", "check", "autotrader.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "autotrader.yaml:3:18: risk.max_trade_usd: must be greater than 0 (got 0)",
        "autotrader.yaml:4:1: mode: duplicate key (first at line 1)",
    ]


def test_path_argument_overrides_config_option_and_environment(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text(BAD)
    env = {"AUTOTRADER_CONFIG": "bad.yaml"}
    assert run("config", "check", "good.yaml", cwd=tmp_path, env=env).returncode == 0
    assert run("--config", "bad.yaml", "config", "check", "good.yaml", cwd=tmp_path).returncode == 0
    # Without PATH: --config (before or after the command), else $AUTOTRADER_CONFIG.
    assert run("--config", "good.yaml", "config", "check", cwd=tmp_path).returncode == 0
    assert run("config", "check", "--config", "bad.yaml", cwd=tmp_path).returncode == 1
    assert run("config", "check", cwd=tmp_path, env=env).returncode == 1
    proc = run("config", "check", cwd=tmp_path, env={"AUTOTRADER_CONFIG": "good.yaml"})
    assert proc.returncode == 0 and proc.stdout.startswith("good.yaml: OK")


def test_check_missing_file(tmp_path: Path) -> None:
    proc = run("config", "check", "nowhere.yaml", cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", "nowhere.yaml: no such file\n")


def test_check_never_echoes_a_secret(tmp_path: Path) -> None:
    key = "ab" * 32
    (tmp_path / "c.yaml").write_text(f"polymarket:\n  private_key: {key}\n")
    proc = run("config", "check", "c.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    assert key not in proc.stderr + proc.stdout
    assert proc.stderr.startswith("c.yaml:2:3: polymarket.private_key: secrets do not belong")
    assert "LoadCredential=polymarket-key:" in proc.stderr


def test_show_json_is_the_effective_config_with_the_password_masked(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(GOOD + "database_url: postgresql://bot:pw123@db/at\n")
    proc = run("config", "show", "--json", "c.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["database_url"] == "postgresql://bot:***@db/at"
    assert "pw123" not in proc.stdout
    assert data["state_dir"] == str(tmp_path / "state")
    assert data["status_page"]["output_dir"] == str(tmp_path / "state" / "www")
    assert data["strategies"][1]["pipeline"] == [{"monitor_watchlist": {}}]
    assert data["strategies"][0]["schedule"]["every"] == 900


def test_show_yaml_and_show_of_a_bad_file(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text(BAD)
    proc = run("config", "show", "good.yaml", cwd=tmp_path)
    assert proc.returncode == 0 and "mode: live\n" in proc.stdout
    bad = run("config", "show", "bad.yaml", cwd=tmp_path)
    assert bad.returncode == 1 and bad.stdout == "" and len(bad.stderr.splitlines()) == 2


def test_config_without_subcommand_is_a_usage_error(tmp_path: Path) -> None:
    proc = run("config", cwd=tmp_path)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_handler_directly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    args = argparse.Namespace(path=tmp_path / "good.yaml")
    assert config_cmd.check_command(args) == 0
    assert capsys.readouterr().out.startswith(f"{tmp_path}/good.yaml: OK (mode live")
    (tmp_path / "bad.yaml").write_text(BAD)
    assert config_cmd.check_command(argparse.Namespace(path=tmp_path / "bad.yaml")) == 1
    assert len(capsys.readouterr().err.splitlines()) == 2
