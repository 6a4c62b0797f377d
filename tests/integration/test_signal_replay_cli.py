"""`autotrader signal replay` and `autotrader signal`, run as real subprocesses."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from autotrader.domain.markets import Window
from autotrader.domain.signals import Direction, NoTradeReason, Signal, SignalBasis
from autotrader.signal.candles import read_candles
from autotrader.signal.oracle import DOWN, NO_TRADE, UP, seed_oracle
from autotrader.signal.params import SeedParams

REPO = Path(__file__).resolve().parent.parent.parent
DEMO = REPO / "tests" / "data" / "btcusdt_1m_demo.csv"
COLUMNS = [
    *("open_time_ms", "direction", "confidence", "score"),
    *("mom", "m_mid", "m_long", "accel", "c_mom", "c_acc", "c_trend", "c_vol", "c_mr"),
    *("volatility_state", "trend_bias", "mean_reversion_pressure", "z", "reason"),
]


def autotrader(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "AUTOTRADER_CONFIG"}
    return subprocess.run(
        [sys.executable, "-m", "autotrader", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd or REPO,
        env=env,
    )


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == COLUMNS
        return list(reader)


# -- replay ------------------------------------------------------------------------------------


def test_replay_writes_one_row_per_bar_matching_the_oracle(tmp_path: Path) -> None:
    out = tmp_path / "signals.csv"
    proc = autotrader("signal", "replay", DEMO, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"wrote 3000 rows to {out}"
    rows = read_rows(out)
    candles = read_candles(DEMO)
    assert [int(r["open_time_ms"]) for r in rows] == candles.ts_ms.tolist()
    oracle = seed_oracle(candles.ts_ms, candles.close, SeedParams(), 60)
    codes = {"UP": UP, "DOWN": DOWN, "NO_TRADE": NO_TRADE}
    assert [codes[r["direction"]] for r in rows] == oracle["direction"].tolist()
    scores = np.array([float(r["score"]) if r["score"] else math.nan for r in rows])
    assert np.array_equal(np.isnan(scores), np.isnan(oracle["score"]))
    ready = ~np.isnan(scores)
    assert np.abs(scores[ready] - oracle["score"][ready]).max() <= 1e-9
    for name in ("mom", "accel", "c_trend", "c_mr"):
        got = np.array([float(r[name]) for r in rows[15:]])
        assert np.abs(got - oracle[name][15:]).max() <= 1e-9, name
    assert {r["reason"] for r in rows[:15]} == {"warming_up"}
    assert {r["volatility_state"] for r in rows[15:]} == {"expanding", "stable", "contracting"}
    trade = [r for r in rows if r["direction"] != "NO_TRADE"]
    assert trade and all(50 <= float(r["confidence"]) <= 95 and r["reason"] == "" for r in trade)


def test_replay_uses_the_configs_seed_section(tmp_path: Path) -> None:
    cfg = tmp_path / "autotrader.yaml"
    cfg.write_text("state_dir: ./state\nsignal:\n  seed:\n    signal_threshold: 0.1\n")
    default, tuned = tmp_path / "default.csv", tmp_path / "tuned.csv"
    assert autotrader("signal", "replay", DEMO, "--out", default).returncode == 0
    proc = autotrader("signal", "replay", DEMO, "--out", tuned, "--config", cfg)
    assert proc.returncode == 0, proc.stderr

    def trades(path: Path) -> int:
        return sum(r["direction"] != "NO_TRADE" for r in read_rows(path))

    assert trades(tuned) > trades(default) > 0


def test_replay_sample_secs_overrides_the_spacing(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    # 120 s samples: trend 900 s = 7.5 samples, so 9 samples of warm-up.
    assert (
        autotrader("signal", "replay", DEMO, "--out", out, "--sample-secs", "120").returncode == 0
    )
    assert [r["reason"] == "warming_up" for r in read_rows(out)[:9]] == [True] * 8 + [False]
    # 30 s samples: 60 s between bars is a gap every time, so it never warms up.
    assert autotrader("signal", "replay", DEMO, "--out", out, "--sample-secs", "30").returncode == 0
    assert {r["reason"] for r in read_rows(out)} == {"warming_up"}


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        ("open_time_ms,open,high,low,close,volume\n1,2,2,2,2,1\n2,2,2,2,x,1\n", "bad.csv:3: close"),
        ("open_time_ms,open,high,low,close,volume\n5,2,2,2,2,1\n5,2,2,2,2,1\n", "bad.csv:3: open"),
        ("time,price\n1,2\n", "bad.csv:1: header must be"),
    ],
)
def test_bad_input_is_one_line_and_leaves_no_output(
    tmp_path: Path, content: str, expect: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    out = tmp_path / "out.csv"
    out.write_text("previous\n")
    proc = autotrader("signal", "replay", bad, "--out", out)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and expect in proc.stderr
    assert proc.stderr.startswith("autotrader signal replay: ")
    assert out.read_text() == "previous\n"  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "out.csv"]  # no temp left


def test_replay_refuses_bad_options(tmp_path: Path) -> None:
    out = tmp_path / "o.csv"
    proc = autotrader("signal", "replay", tmp_path / "none.csv", "--out", out)
    assert proc.returncode == 1 and "none.csv: cannot read" in proc.stderr
    proc = autotrader("signal", "replay", DEMO, "--out", out, "--sample-secs", "0")
    assert proc.returncode == 1 and "sample_secs: must be greater than 0" in proc.stderr
    proc = autotrader("signal", "replay", DEMO, "--out", tmp_path / "no" / "dir.csv")
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    bad_cfg = tmp_path / "bad.yaml"
    bad_cfg.write_text("signal:\n  seed:\n    signal_threshold: 2\n")
    proc = autotrader("signal", "replay", DEMO, "--out", out, "--config", bad_cfg)
    assert proc.returncode == 1 and "signal.seed.signal_threshold" in proc.stderr
    assert not out.exists()


# -- the published signal ----------------------------------------------------------------------


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "autotrader.yaml"
    cfg.write_text("state_dir: ./state\n")
    return cfg


def _publish(state: Path, signal: Signal) -> None:
    state.mkdir(parents=True, exist_ok=True)
    (state / "signal.json").write_text(json.dumps(signal.to_json_dict()))


def test_signal_shows_the_published_view_and_its_age(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    written = time.time() - 42
    basis = SignalBasis(0.21, 0.3, 0.44, 0.16, "expanding", "strong_up", "low", 0.65, {})
    signal = Signal(
        timestamp=datetime.fromtimestamp(written, UTC),
        direction=Direction.UP,
        confidence=74.0,
        price=89617.0,
        basis=basis,
        window=Window.for_signal_at(written),
        source="coinbase",
        data_age_secs=1.5,
    )
    _publish(tmp_path / "state", signal)
    proc = autotrader("signal", "--config", cfg)
    assert proc.returncode == 0, proc.stderr
    head, window, basis_line = proc.stdout.splitlines()
    assert head.startswith("UP confidence 74.0 score +0.650 price 89617.00 at ")
    age = int(head.rsplit("(", 1)[1].split("s ago")[0])
    assert 42 <= age < 100
    assert window == f"window {signal.window.slug}, source coinbase, data age 1.5s"
    assert "30s +0.210%" in basis_line and "trend strong_up" in basis_line
    proc = autotrader("signal", "--json", "--config", cfg)
    doc = json.loads(proc.stdout)
    assert doc["state"] == "ok" and doc["direction"] == "UP" and 42 <= doc["age_secs"] < 100
    assert doc["basis"]["score"] == 0.65 and doc["window"]["slug"] == signal.window.slug


def test_signal_no_trade_without_basis(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    now = time.time()
    signal = Signal(
        datetime.fromtimestamp(now, UTC),
        Direction.NO_TRADE,
        0.0,
        None,
        None,
        Window.for_signal_at(now),
        None,
        None,
        NoTradeReason.STALE,
    )
    _publish(tmp_path / "state", signal)
    proc = autotrader("signal", "--config", cfg)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("NO_TRADE (stale) at ")
    assert "source -, data age -" in proc.stdout


def test_signal_absent_or_unreadable(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    proc = autotrader("signal", "--config", cfg)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"autotrader signal: no signal yet: {tmp_path / 'state' / 'signal.json'} does not exist"
    )
    proc = autotrader("signal", "--json", "--config", cfg)
    assert proc.returncode == 1 and json.loads(proc.stdout)["state"] == "absent"
    (tmp_path / "state").mkdir()
    for garbage, why in (
        ("{not json", "not JSON"),
        ('{"direction": "UP"}', "no 'timestamp' field"),
        ('{"timestamp": "x", "direction": "SIDEWAYS", "confidence": 1}', "direction: unknown"),
        ('{"timestamp": "x", "direction": "UP", "confidence": 1}', "timestamp: not an ISO"),
        ('{"timestamp": 17, "direction": "UP", "confidence": 1}', "timestamp: not an ISO"),
        (
            '{"timestamp": "2026-01-01T00:00:00Z", "direction": "UP", "confidence": 1, "basis": 5}',
            "basis: expected an object",
        ),
    ):
        (tmp_path / "state" / "signal.json").write_text(garbage)
        proc = autotrader("signal", "--config", cfg)
        assert proc.returncode == 1 and why in proc.stderr and proc.stderr.count("\n") == 1
    proc = autotrader("signal", "--config", tmp_path / "missing.yaml")
    assert proc.returncode == 1 and "missing.yaml" in proc.stderr
