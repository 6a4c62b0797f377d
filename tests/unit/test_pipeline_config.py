"""Pipeline formulas are checked when the config loads: `autotrader config check` names the
formula's YAML line for an unknown name, a syntax error or hostile input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from autotrader.config import load_config
from autotrader.config_nodes import ExitPosition
from autotrader.config_strategies import PipelineStrategy
from autotrader.errors import ConfigError

HEAD = """\
mode: paper
state_dir: state
strategies:
  - name: momentum
    kind: pipeline
    schedule: {every: 5m}
    allocation_usd: 500
    limits: {daily_loss_usd: 100, max_position_pct: 25}
    pipeline:
      - monitor_watchlist
      - check_momentum: {timeframe: 4h}
"""


def check(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    """`autotrader config check c.yaml` in ``tmp_path``."""
    (tmp_path / "c.yaml").write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "autotrader", "config", "check", "c.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_config_check_reports_an_unknown_name_in_a_formula_with_its_line(tmp_path: Path) -> None:
    text = HEAD + '      - condition: {when: "momentum > 0.05 and volumen > 500000"}\n'
    proc = check(tmp_path, text)
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(
        "c.yaml:12:27: strategies[0].pipeline[2].condition.when: unknown name 'volumen' (known: "
    )


def test_config_check_reports_each_bad_formula_on_its_own_line(tmp_path: Path) -> None:
    text = (
        HEAD
        + "      - filter:\n"
        + '          when: "().__class__"\n'
        + '      - condition: {when: "price >"}\n'
        + '      - filter: {when: "9**9**9 > price"}\n'
    )
    proc = check(tmp_path, text)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert [line.split(": ")[0:2] for line in lines] == [
        ["c.yaml:13:17", "strategies[0].pipeline[2].filter.when"],
        ["c.yaml:14:27", "strategies[0].pipeline[3].condition.when"],
        ["c.yaml:15:24", "strategies[0].pipeline[4].filter.when"],
    ]
    assert "'__' is not allowed in a formula" in lines[0]
    assert "syntax error" in lines[1]
    assert "exponent" in lines[2] and "too large" in lines[2]


def test_a_good_formula_passes_and_is_kept(tmp_path: Path) -> None:
    text = HEAD + '      - condition: {when: "momentum_4h > 0.05 and minutes_on_watchlist > 30"}\n'
    proc = check(tmp_path, text)
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "c.yaml").write_text(text)
    strategy = load_config(tmp_path / "c.yaml").strategies[0]
    assert isinstance(strategy, PipelineStrategy)
    assert strategy.pipeline[2].model_dump() == {
        "when": "momentum_4h > 0.05 and minutes_on_watchlist > 30"
    }


def test_exit_position_takes_a_validity(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(
        HEAD + "      - exit_position: {fraction: 0.5, valid_for: 2m}\n"
    )
    strategy = load_config(tmp_path / "c.yaml").strategies[0]
    assert isinstance(strategy, PipelineStrategy)
    node = strategy.pipeline[2]
    assert isinstance(node, ExitPosition) and node.valid_for == 120.0
    (tmp_path / "c.yaml").write_text(HEAD + "      - exit_position: {valid_for: -1s}\n")
    with pytest.raises(ConfigError, match="valid_for"):
        load_config(tmp_path / "c.yaml")
