"""The incremental engine against the numpy oracle over every Binance spot file of ../shared.

The acceptance rule of issue 2: the same direction for every bar and scores within 1e-9, with
the warm-up (after the start and after every gap) in the same places.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from autotrader.signal.candles import read_candles
from autotrader.signal.oracle import DOWN, NO_TRADE, UP, seed_oracle
from autotrader.signal.params import SeedParams
from autotrader.signal.seed import decide
from harness.seed import ORACLE_CODES, engine_steps

pytestmark = pytest.mark.shared


def _engine_run(
    params: SeedParams, sample_secs: float, ts: list[int], px: list[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Scores (NaN while warming up) and direction codes of the incremental engine."""
    scores = np.empty(len(ts))
    dirs = np.zeros(len(ts), dtype=np.int8)
    for i, _engine, score in engine_steps(params, sample_secs, ts, px):
        if score is None:
            scores[i] = math.nan
            continue
        scores[i] = score
        dirs[i] = ORACLE_CODES[decide(params, score)[0]]
    return scores, dirs


def _check(path: Path, params: SeedParams) -> None:
    c = read_candles(path)
    sample = c.sample_secs
    oracle = seed_oracle(c.ts_ms, c.close, params, sample)
    scores, dirs = _engine_run(params, sample, c.ts_ms.tolist(), c.close.tolist())
    warm_e, warm_o = np.isnan(scores), np.isnan(oracle["score"])
    assert np.array_equal(warm_e, warm_o), f"{path.name}: warm-up differs"
    assert not warm_e.all(), f"{path.name}: never left the warm-up"
    diff = np.abs(scores[~warm_e] - oracle["score"][~warm_o])
    assert diff.max() <= 1e-9, f"{path.name}: max score difference {diff.max():.3g}"
    mismatch = np.flatnonzero(dirs != oracle["direction"])
    assert mismatch.size == 0, f"{path.name}: direction differs at rows {mismatch[:10] + 2}"
    # Every direction occurs on real data, so the comparison is not vacuous.
    assert {UP, DOWN, NO_TRADE} <= set(np.unique(dirs).tolist())


def test_there_are_spot_files(spot_files: list[Path]) -> None:
    assert len(spot_files) >= 11


def test_engine_equals_oracle_on_every_spot_file(spot_files: list[Path]) -> None:
    for path in spot_files:
        _check(path, SeedParams())


def test_engine_equals_oracle_with_fractional_lags(spot_files: list[Path]) -> None:
    """Spans that are not whole minutes, and other thresholds, on the two gappiest files."""
    params = SeedParams(
        momentum_secs=45,
        momentum_mid_secs=100,
        momentum_long_secs=250,
        trend_secs=1_000,
        volatility_short_secs=200,
        volatility_long_secs=1_300,
        mean_reversion_secs=700,
        momentum_threshold_pct=0.1,
        signal_threshold=0.2,
    )
    gappy = [p for p in spot_files if p.name.startswith(("btcusdt_1m_2019", "btcusdt_1m_2021-04"))]
    assert len(gappy) == 2
    for path in gappy:
        _check(path, params)


def test_gaps_restart_the_warm_up(spot_files: list[Path]) -> None:
    """The 2019 file has 4 gaps: the engine is warming up after each, for 15 bars."""
    path = next(p for p in spot_files if p.name.startswith("btcusdt_1m_2019"))
    c = read_candles(path)
    oracle = seed_oracle(c.ts_ms, c.close, SeedParams(), 60)
    warming = np.isnan(oracle["score"])
    starts = np.flatnonzero(np.diff(c.ts_ms) > 90_000) + 1
    assert len(starts) == 4
    for s in [0, *starts.tolist()]:
        assert warming[s : s + 15].all() and not warming[s + 15]
    assert warming.sum() == 15 * 5
