"""The seed model: parameters, hand-computed cases for every component, and engine == oracle.

The small cases use a 10-second grid and short spans so a handful of samples covers every
look-back; their expected values are worked out by hand from the prices (written as arithmetic
on literals below), never by calling the code under test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from autotrader.domain.signals import Direction, NoTradeReason
from autotrader.signal.oracle import (
    _reversion_codes,
    _trend_codes,
    seed_oracle,
)
from autotrader.signal.params import SeedParams, SeedPlan, SeedWeights, reversion_code, trend_code
from autotrader.signal.seed import SeedEngine
from harness.seed import ORACLE_CODES, engine_steps

# Grid of 10 s: momentum 5 s is half a sample (k=0, f=0.5), mid 1, long 2 and trend 3 samples;
# volatility windows of 2 and 4 steps, mean reversion over 3 samples. Warm-up: 5 samples.
SMALL = SeedParams(
    momentum_secs=5,
    momentum_mid_secs=10,
    momentum_long_secs=20,
    trend_secs=30,
    volatility_short_secs=20,
    volatility_long_secs=40,
    mean_reversion_secs=30,
    momentum_threshold_pct=10.0,
    acceleration_threshold_pct=10.0,
    trend_threshold_pct=10.0,
    mean_reversion_threshold=2.0,
)
STEP_MS = 10_000


def feed(engine: SeedEngine, prices: Sequence[float], t0: int = 0) -> list[float | None]:
    """Feed prices one grid step apart; the scores."""
    return [engine.update(t0 + i * STEP_MS, p) for i, p in enumerate(prices)]


# -- parameters --------------------------------------------------------------------------------


def test_defaults_are_the_seeds() -> None:
    p = SeedParams()
    assert p.weights == SeedWeights(0.4, 0.2, 0.2, 0.1, 0.1)
    assert (p.momentum_secs, p.momentum_mid_secs, p.momentum_long_secs) == (30, 60, 120)
    assert (p.momentum_threshold_pct, p.acceleration_threshold_pct) == (0.2, 0.15)
    assert (p.signal_threshold, p.confidence_base, p.confidence_scale, p.confidence_cap) == (
        0.25,
        50,
        100,
        95,
    )


def test_from_mapping_takes_the_config_model_dump() -> None:
    from autotrader.config import SeedModelConfig

    dumped = SeedModelConfig().model_dump()
    assert SeedParams.from_mapping(dumped) == SeedParams()
    dumped["weights"] = {**dumped["weights"], "momentum": 0.3, "trend": 0.3}
    dumped["trend_secs"] = 600
    p = SeedParams.from_mapping(dumped)
    assert p.weights.momentum == 0.3 and p.weights.trend == 0.3
    assert p.trend_secs == 600.0 and isinstance(p.trend_secs, float)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"bogus": 1}, "unknown key(s) bogus"),
        ({"weights": {"momentum": 0.5}}, "weights: must sum to 1"),
        ({"weights": {"speed": 0.1}}, "weights: unknown key(s) speed"),
        ({"weights": {"momentum": -0.1, "acceleration": 0.7}}, "weights.momentum: must be >= 0"),
        ({"momentum_secs": 0}, "momentum_secs: must be greater than 0"),
        ({"momentum_mid_secs": 20}, "momentum_secs < momentum_mid_secs < momentum_long_secs"),
        ({"volatility_long_secs": 300}, "volatility_long_secs: must be greater than"),
        ({"volatility_expansion_ratio": 1.0}, "volatility_expansion_ratio: must be greater than 1"),
        ({"signal_threshold": 1.0}, "signal_threshold: must be between 0 and 1"),
        ({"confidence_cap": 40}, "confidence_cap: must be between confidence_base"),
        ({"trend_threshold_pct": "0.3"}, "trend_threshold_pct: expected a number"),
        ({"trend_secs": True}, "trend_secs: expected a number"),
        ({"mean_reversion_threshold": math.nan}, "mean_reversion_threshold: must be finite"),
    ],
)
def test_bad_parameters_are_refused(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as err:
        SeedParams.from_mapping(data)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_plan_on_minute_and_three_second_grids() -> None:
    minute = SeedPlan.build(SeedParams(), 60)
    assert (minute.momentum.k, minute.momentum.f) == (0, 0.5)
    assert [lag.k for lag in minute.lags] == [0, 1, 2, 15]
    assert (minute.n_short, minute.n_long, minute.n_reversion, minute.ratio_pm) == (5, 15, 15, 1200)
    assert minute.warmup == 16
    live = SeedPlan.build(SeedParams(), 3)
    assert [(lag.k, lag.f) for lag in live.lags] == [(10, 0), (20, 0), (40, 0), (300, 0)]
    assert (live.n_short, live.n_long, live.n_reversion, live.warmup) == (100, 300, 300, 301)
    with pytest.raises(ValueError, match="sample_secs: must be greater than 0"):
        SeedEngine(SeedParams(), 0)


# -- hand-computed cases ------------------------------------------------------------------------


def test_every_component_by_hand() -> None:
    engine = SeedEngine(SMALL, 10)
    scores = feed(engine, [100, 101, 102, 100, 104])
    assert scores[:4] == [None] * 4
    comp = engine.components()
    assert comp is not None
    # momentum 5 s = half a sample: price_ago = 104 * 0.5 + 100 * 0.5 = 102.
    mom = (104 / 102 - 1) * 100
    m_mid = (104 / 100 - 1) * 100  # one sample back
    m_long = (104 / 102 - 1) * 100  # two samples back
    m_trend = (104 / 101 - 1) * 100  # three samples back
    accel = m_mid - (m_long - m_mid)
    assert comp.mom == pytest.approx(mom, rel=1e-12)
    assert comp.m_mid == pytest.approx(4.0, rel=1e-12)
    assert comp.m_long == pytest.approx(m_long, rel=1e-12)
    assert comp.accel == pytest.approx(6.0392156862745, rel=1e-12)
    assert comp.c_mom == pytest.approx(mom / 10, rel=1e-12)
    assert comp.c_acc == pytest.approx(accel / 10, rel=1e-12)
    assert comp.c_trend == pytest.approx(m_trend / 10, rel=1e-12)
    assert comp.trend_code == 1  # 0.297: "up", not "strong_up"
    # Steps (micro-dollars): 1e6, 1e6, 2e6, 4e6. Short (2 steps) 6e6 against long (4) 8e6:
    # 6e6 * 4 * 1000 = 24e9 > 8e6 * 2 * 1200 = 19.2e9, so expanding.
    assert comp.volatility_code == 1 and comp.c_vol == 1.0
    # Mean reversion over 3: S = 306e6, D = 7e6, z = (104e6*3 - 306e6) * 3 / (3 * 7e6) = 6/7.
    assert comp.z == pytest.approx(6 / 7, rel=1e-15)
    assert comp.c_mr == pytest.approx(-3 / 7, rel=1e-15)
    assert comp.reversion_code == 0  # 0.857 < threshold / 2 = 1
    score = 0.4 * (mom / 10) + 0.2 * (accel / 10) + 0.2 * (m_trend / 10) + 0.1 * 1.0 - 0.1 * 3 / 7
    assert scores[4] == pytest.approx(score, rel=1e-12)
    ev = engine.evaluation()
    assert ev is not None and ev.basis is not None
    assert ev.direction is Direction.UP and ev.reason is None
    assert ev.confidence == pytest.approx(50 + score * 100, rel=1e-12)
    assert (ev.ts_ms, ev.price, ev.score) == (40_000, 104, scores[4])
    b = ev.basis
    assert (b.momentum_30s, b.momentum_60s, b.momentum_120s) == (comp.mom, comp.m_mid, comp.m_long)
    assert (b.volatility_state, b.trend_bias, b.mean_reversion_pressure) == (
        "expanding",
        "up",
        "low",
    )
    assert b.components == {
        "momentum": comp.c_mom,
        "acceleration": comp.c_acc,
        "trend": comp.c_trend,
        "volatility": 1.0,
        "mean_reversion": comp.c_mr,
    }


def test_clamps_cap_and_strong_labels() -> None:
    tight = replace(
        SMALL, momentum_threshold_pct=1.0, acceleration_threshold_pct=1.0, trend_threshold_pct=2.0
    )
    engine = SeedEngine(tight, 10)
    score = feed(engine, [100, 101, 102, 100, 104])[-1]
    comp = engine.components()
    assert comp is not None
    assert (comp.c_mom, comp.c_acc, comp.c_trend) == (1.0, 1.0, 1.0)
    assert comp.trend_code == 2
    assert score == pytest.approx(0.9 - 0.1 * 3 / 7, rel=1e-12)
    ev = engine.evaluation()
    assert ev is not None and ev.confidence == 95.0  # 50 + 85.7, capped
    assert ev.basis is not None and ev.basis.trend_bias == "strong_up"


def test_falling_prices_give_down() -> None:
    engine = SeedEngine(replace(SMALL, momentum_threshold_pct=1.0), 10)
    feed(engine, [104, 103, 102, 103, 99])
    ev = engine.evaluation()
    assert ev is not None and ev.score is not None
    assert ev.direction is Direction.DOWN
    assert ev.confidence == pytest.approx(min(95, 50 + abs(ev.score) * 100))
    assert ev.basis is not None and ev.basis.trend_bias in {"down", "strong_down"}


def test_volatility_contracting_and_stable() -> None:
    engine = SeedEngine(SMALL, 10)
    # Steps 4, 4, 0.5, 0.5 ($): short 1e6 * 4 * 1200 = 4.8e9 < long 9e6 * 2 * 1000 = 18e9.
    feed(engine, [100, 104, 100, 100.5, 100])
    comp = engine.components()
    assert comp is not None and (comp.volatility_code, comp.c_vol) == (-1, 0.0)
    engine.reset()
    # Even steps: 2e6 * 4 * 1000 = 8e9 is neither > 9.6e9 nor is 9.6e9 < 8e9: stable.
    feed(engine, [100, 101, 102, 103, 104])
    comp = engine.components()
    assert comp is not None and (comp.volatility_code, comp.c_vol) == (0, 0.0)


def test_mean_reversion_pressure_levels() -> None:
    engine = SeedEngine(SMALL, 10)
    # S = 310e6, D = 10e6: z = (330e6 - 310e6) * 3 / 30e6 = 2 = threshold: high, c_mr = -1.
    feed(engine, [100, 100, 100, 100, 110])
    comp = engine.components()
    assert comp is not None
    assert (comp.z, comp.c_mr, comp.reversion_code) == (2.0, -1.0, 2)
    engine.reset()
    # S = 304e6, D = 3e6: z = (309e6 - 304e6) * 3 / 9e6 = 5/3: medium.
    feed(engine, [100, 100, 100, 101, 103])
    comp = engine.components()
    assert comp is not None
    assert comp.z == pytest.approx(5 / 3, rel=1e-15) and comp.reversion_code == 1
    engine.reset()
    # Below the mean is oversold, which pushes the score up.
    feed(engine, [100, 100, 100, 100, 90])
    comp = engine.components()
    assert comp is not None and (comp.z, comp.c_mr) == (-2.0, 1.0)


def test_flat_prices_score_zero() -> None:
    engine = SeedEngine(SMALL, 10)
    scores = feed(engine, [100.0] * 8)
    assert scores[4:] == [0.0] * 4
    ev = engine.evaluation()
    assert ev is not None and ev.basis is not None
    assert ev.direction is Direction.NO_TRADE and ev.reason is NoTradeReason.BELOW_THRESHOLD
    assert ev.confidence == 0.0
    assert (ev.basis.volatility_state, ev.basis.trend_bias, ev.basis.mean_reversion_pressure) == (
        "stable",
        "neutral",
        "low",
    )


def test_fractional_lag_of_a_third() -> None:
    # 4 s on a 3 s grid: k = 1, f = 1/3 (as 4/3 - 1 in floats).
    params = replace(
        SMALL,
        momentum_secs=4,
        momentum_mid_secs=6,
        momentum_long_secs=9,
        trend_secs=9,
        volatility_short_secs=3,
        volatility_long_secs=6,
        mean_reversion_secs=6,
    )
    engine = SeedEngine(params, 3)
    for i, price in enumerate([100, 102, 103, 101, 105, 106, 104, 108, 110, 107]):
        engine.update(i * 3000, price)
    comp = engine.components()
    assert comp is not None
    f = 4 / 3 - 1
    ago = 110 * (1 - f) + 108 * f  # one sample back, a third of the way to two
    assert comp.mom == pytest.approx((107 / ago - 1) * 100, rel=1e-12)
    assert comp.m_mid == pytest.approx((107 / 108 - 1) * 100, rel=1e-12)  # exactly 2 back
    assert comp.m_long == pytest.approx((107 / 104 - 1) * 100, rel=1e-12)  # exactly 3 back


# -- warm-up, gaps, ignored samples ------------------------------------------------------------


def test_warm_up_and_reset() -> None:
    engine = SeedEngine(SMALL, 10)
    assert engine.evaluation() is None
    assert feed(engine, [100, 101, 102, 103]) == [None] * 4
    ev = engine.evaluation()
    assert ev is not None
    assert (ev.direction, ev.reason, ev.score, ev.basis) == (
        Direction.NO_TRADE,
        NoTradeReason.WARMING_UP,
        None,
        None,
    )
    assert (ev.ts_ms, ev.price, ev.confidence) == (30_000, 103, 0.0)
    assert engine.update(40_000, 104) is not None
    engine.reset()
    assert engine.evaluation() is None
    assert engine.update(0, 100) is None  # earlier than before the reset, but accepted


def test_gap_restarts_warm_up() -> None:
    prices = [100, 101, 102, 100, 104, 103]
    engine = SeedEngine(SMALL, 10)
    feed(engine, prices)
    # 1.5 samples = 15 s is still the same segment; anything longer is a gap.
    assert engine.update(50_000 + 15_000, 105) is not None
    assert engine.update(65_000 + 15_001, 106) is None
    ev = engine.evaluation()
    assert ev is not None and ev.reason is NoTradeReason.WARMING_UP
    after = [engine.update(80_001 + i * STEP_MS, p) for i, p in enumerate([107, 108, 107, 109], 1)]
    assert after[:3] == [None] * 3 and after[3] is not None
    # Nothing from before the gap leaks into the new segment.
    fresh = SeedEngine(SMALL, 10)
    assert feed(fresh, [106, 107, 108, 107, 109])[-1] == after[3]


def test_out_of_order_and_repeated_samples_are_ignored() -> None:
    prices = [100, 101, 102, 100, 104, 103, 105]
    clean = SeedEngine(SMALL, 10)
    expected = feed(clean, prices)
    engine = SeedEngine(SMALL, 10)
    got = []
    for i, p in enumerate(prices):
        got.append(engine.update(i * STEP_MS, p))
        before = engine.evaluation()
        assert engine.update(i * STEP_MS, 999.0) is None  # same time
        assert engine.update(i * STEP_MS - 3_000, 1.0) is None  # earlier
        assert engine.evaluation() == before
    assert got == expected


def test_bad_price_is_refused_and_changes_nothing() -> None:
    engine = SeedEngine(SMALL, 10)
    feed(engine, [100, 101, 102, 100, 104])
    before = engine.evaluation()
    for bad in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="positive finite"):
            engine.update(50_000, bad)
    assert engine.evaluation() == before
    assert engine.update(50_000, 103) is not None


# -- engine against the numpy oracle -----------------------------------------------------------


def _compare(params: SeedParams, sample_secs: float, ts: list[int], px: list[float]) -> None:
    """Every score, direction, component and label of the engine equals the oracle's."""
    oracle = seed_oracle(np.array(ts, dtype=np.int64), np.array(px), params, sample_secs)
    for i, engine, score in engine_steps(params, sample_secs, ts, px):
        if score is None:
            assert math.isnan(oracle["score"][i]), i
            continue
        assert score == oracle["score"][i], i
        ev, comp = engine.evaluation(), engine.components()
        assert ev is not None and comp is not None
        assert ORACLE_CODES[ev.direction] == oracle["direction"][i], i
        assert ev.confidence == oracle["confidence"][i], i
        for name in ("mom", "m_mid", "m_long", "accel", "c_mom", "c_acc", "c_trend", "c_vol"):
            assert getattr(comp, name) == oracle[name][i], (i, name)
        assert (comp.c_mr, comp.z) == (oracle["c_mr"][i], oracle["z"][i]), i
        assert comp.volatility_code == oracle["volatility"][i], i
        assert comp.trend_code == oracle["trend"][i], i
        assert comp.reversion_code == oracle["reversion"][i], i


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[SeedParams, float, list[int], list[float]]:
    sample = draw(st.sampled_from([1.0, 3.0, 7.5, 60.0]))
    spans = sorted(draw(st.lists(st.floats(0.3, 12.0), min_size=3, max_size=3, unique=True)))
    assume(spans[0] * sample < spans[1] * sample < spans[2] * sample)
    params = SeedParams(
        momentum_secs=spans[0] * sample,
        momentum_mid_secs=spans[1] * sample,
        momentum_long_secs=spans[2] * sample,
        trend_secs=draw(st.floats(0.5, 20.0)) * sample,
        volatility_short_secs=draw(st.floats(0.5, 6.0)) * sample,
        volatility_long_secs=draw(st.floats(6.5, 20.0)) * sample,
        mean_reversion_secs=draw(st.floats(0.5, 20.0)) * sample,
        momentum_threshold_pct=draw(st.floats(0.01, 1.0)),
        signal_threshold=draw(st.floats(0.05, 0.5)),
    )
    n = draw(st.integers(1, 160))
    price = draw(st.floats(0.5, 200_000.0))
    step_ms = int(sample * 1000)
    ts, px, t = [], [], 1_700_000_000_000
    for _ in range(n):
        kind = draw(st.sampled_from(["grid"] * 12 + ["flat", "gap", "back", "jitter", "edge"]))
        t += {
            "grid": step_ms,
            "flat": step_ms,
            "gap": 2 * step_ms,
            "back": -step_ms,
            "jitter": step_ms * 14 // 10,
            # Exactly 1.5 samples (still the same segment) or 1 ms more (a gap).
            "edge": step_ms * 3 // 2 + draw(st.integers(0, 1)),
        }[kind]
        if kind != "flat":
            price = round(max(0.01, price * (1 + draw(st.floats(-0.02, 0.02)))), 2)
        ts.append(t)
        px.append(price)
    return params, sample, ts, px


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_engine_matches_oracle_on_random_walks(
    case: tuple[SeedParams, float, list[int], list[float]],
) -> None:
    _compare(*case)


def test_engine_matches_oracle_beyond_int64_and_float_exactness() -> None:
    """Prices so large that the oracle needs Python ints, or divides ints above 2**53."""
    rng = np.random.default_rng(7)
    for start, vol in ((1e7, 0.1), (1e9, 0.05), (5e11, 0.01), (2e13, 0.01)):
        px = (start * np.exp(np.cumsum(rng.normal(0, vol, 700)))).round(2).tolist()
        ts = [i * 3000 for i in range(700)]
        _compare(SeedParams(), 3.0, ts, px)


def test_label_boundaries_agree() -> None:
    """Both implementations put the exact threshold values in the same label."""
    edges = [-0.5, -0.1, 0.1, 0.5]
    values = [x for e in edges for x in (math.nextafter(e, -2), e, math.nextafter(e, 2))]
    assert _trend_codes(np.array(values)).tolist() == [trend_code(v) for v in values]
    assert [trend_code(v) for v in (-0.5, -0.1, 0.1, 0.5)] == [-2, -1, 1, 2]
    zs = [x for e in (-2.0, -1.0, 1.0, 2.0) for x in (math.nextafter(e, 0), e)]
    assert _reversion_codes(np.array(zs), 2.0).tolist() == [reversion_code(z, 2.0) for z in zs]
    assert [reversion_code(z, 2.0) for z in (-2.0, -1.0, 1.0, 2.0)] == [2, 1, 1, 2]


def test_oracle_marks_ignored_and_warming_rows() -> None:
    ts = np.array([0, 10_000, 10_000, 5_000, 20_000, 30_000, 40_000, 50_000], dtype=np.int64)
    px = np.array([100, 101, 1, 1, 102, 100, 104, 103], dtype=np.float64)
    out = seed_oracle(ts, px, SMALL, 10)
    assert out["accepted"].tolist() == [True, True, False, False, True, True, True, True]
    assert out["reason"][:7].tolist() == [1, 1, 3, 3, 1, 1, 0]  # the last: UP, the hand case
    assert np.isnan(out["score"][:6]).all() and not np.isnan(out["score"][6:]).any()
    engine = SeedEngine(SMALL, 10)
    assert feed(engine, [100, 101, 102, 100, 104])[-1] == out["score"][6]
