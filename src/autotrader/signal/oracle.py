"""The seed model vectorised over a whole series with numpy: the test oracle of the engine.

Same definition as ``autotrader.signal.seed.SeedEngine`` (and the same lags, from ``SeedPlan``),
computed array-wise: samples not after their predecessor are ignored, gaps start new warm-up
segments, rolling sums come from integer cumulative sums. Every float is produced by the same
operations in the same order as in the engine, so the two agree bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from autotrader.signal.params import PRICE_SCALE, Lag, SeedParams, SeedPlan

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Ints = npt.NDArray[Any]  # int64, or object (Python ints) when int64 could overflow

# Direction codes.
UP, NO_TRADE, DOWN = 1, 0, -1
# Reason codes (why a row is NO_TRADE, or 0).
REASON_NONE, REASON_WARMING_UP, REASON_BELOW_THRESHOLD, REASON_IGNORED = 0, 1, 2, 3

# Products of ints stay below this in int64; otherwise the oracle switches to Python ints.
_INT64_SAFE = 2**62
# Ints up to 2**53 convert to float64 exactly, so one float division is correctly rounded,
# exactly like Python's int / int.
_FLOAT_EXACT = 2**53


def seed_oracle(
    ts_ms: npt.ArrayLike, close: npt.ArrayLike, params: SeedParams, sample_secs: float
) -> dict[str, np.ndarray]:
    """Evaluate the seed model at every sample.

    Returns arrays as long as the input: ``score`` (NaN while warming up or ignored),
    ``direction`` (1 UP, 0 NO_TRADE, -1 DOWN), ``reason`` (0 none, 1 warming up, 2 below
    threshold, 3 ignored), ``confidence``, the components ``mom m_mid m_long accel c_mom c_acc
    c_trend c_vol c_mr z`` (NaN where no score) and label codes ``volatility`` (1 expanding,
    0 stable, -1 contracting), ``trend`` (2 … -2) and ``reversion`` (2 high, 1 medium, 0 low).
    """
    plan = SeedPlan.build(params, sample_secs)
    ts = np.asarray(ts_ms, dtype=np.int64)
    px = np.asarray(close, dtype=np.float64)
    if ts.shape != px.shape or ts.ndim != 1:
        raise ValueError(f"ts_ms and close must be 1-d and equally long ({ts.shape}, {px.shape})")
    if px.size and not (np.all(np.isfinite(px)) and np.all(px > 0)):
        raise ValueError("close: every price must be a positive finite number")
    accepted = _accepted(ts)
    inner = _evaluate(ts[accepted], px[accepted], plan)
    n = ts.size
    out: dict[str, np.ndarray] = {}
    for name, values in inner.items():
        fill: float | int = np.nan if values.dtype.kind == "f" else 0
        full = np.full(n, fill, dtype=values.dtype)
        full[accepted] = values
        out[name] = full
    out["reason"][~accepted] = REASON_IGNORED
    out["accepted"] = accepted
    return out


def _accepted(ts: I64) -> npt.NDArray[np.bool_]:
    """Samples after every earlier one; the engine ignores the rest (its last ts is their max)."""
    ok = np.ones(ts.size, dtype=bool)
    if ts.size > 1:
        ok[1:] = ts[1:] > np.maximum.accumulate(ts)[:-1]
    return ok


def _evaluate(ts: I64, px: F64, plan: SeedPlan) -> dict[str, np.ndarray]:
    n = ts.size
    idx = np.arange(n)
    # Position of each sample inside its gap-free segment.
    new_seg = np.ones(n, dtype=bool)
    if n > 1:
        new_seg[1:] = np.diff(ts) > plan.gap_ms
    seg_start = np.maximum.accumulate(np.where(new_seg, idx, 0))
    pos = idx - seg_start
    ready = pos + 1 >= plan.warmup

    big = _price_units(px)
    steps = np.zeros(n, dtype=big.dtype)
    steps[1:] = np.abs(np.diff(big))
    steps[new_seg] = 0
    # Window sums ending at a ready sample never reach back across a segment start.
    vol_s = _window_sum(steps, plan.n_short)
    vol_l = _window_sum(steps, plan.n_long)
    d_sum = _window_sum(steps, plan.n_reversion)
    s_sum = _window_sum(big, plan.n_reversion)

    mom, m_mid, m_long, m_trend = (_momentum(px, lag) for lag in plan.lags)
    comp = _components(plan, big, mom, m_mid, m_long, m_trend, vol_s, vol_l, d_sum, s_sum)
    return _finish(plan.params, ready, comp)


def _price_units(px: F64) -> Ints:
    """round(price * 10**6) as int64, or as Python ints for absurdly large prices."""
    scaled = np.rint(px * PRICE_SCALE)
    if scaled.size == 0 or float(np.max(scaled)) < _INT64_SAFE:
        return scaled.astype(np.int64)
    to_int: Callable[[F64], npt.NDArray[np.object_]] = np.frompyfunc(int, 1, 1)
    return to_int(scaled)


def _window_sum(x: Ints, width: int) -> Ints:
    """Sum of the last ``width`` values at every index (fewer at the start), exactly.

    int64 cumulative sums may wrap on very long series, but the difference of two wrapped sums
    is still exact whenever the window sum itself fits, since the arithmetic is modulo 2**64;
    when a window sum might not fit, the sums are taken over Python ints instead.
    """
    if x.dtype != object and _max_abs(x) * width >= _INT64_SAFE:
        x = x.astype(object)
    with np.errstate(over="ignore"):
        c = np.cumsum(x)
        out = c.copy()
        out[width:] -= c[:-width]
    return out


def _momentum(px: F64, lag: Lag) -> F64:
    """m(s) at every index (garbage where the look-back is not in the segment; masked later)."""
    n = px.size
    now_k = _shift(px, lag.k, n)
    # f == 0 is a whole number of samples: the engine's extra term is "+ x * 0.0", exact.
    ago = now_k * (1.0 - lag.f) + _shift(px, lag.k + 1, n) * lag.f if lag.f > 0 else now_k
    with np.errstate(divide="ignore", invalid="ignore"):
        out: F64 = (px / ago - 1.0) * 100.0
    return out


def _shift(x: F64, k: int, n: int) -> F64:
    out = np.ones(n, dtype=np.float64)
    if k < n:
        out[k:] = x[: n - k]
    return out


def _components(
    plan: SeedPlan,
    big: Ints,
    mom: F64,
    m_mid: F64,
    m_long: F64,
    m_trend: F64,
    vol_s: Ints,
    vol_l: Ints,
    d_sum: Ints,
    s_sum: Ints,
) -> dict[str, np.ndarray]:
    p = plan.params
    accel = m_mid - (m_long - m_mid)
    # Largest product each comparison forms: vol * n * max(1000, ratio_pm).
    vol_bound = _max_abs(vol_s, vol_l) * max(plan.n_long, plan.n_short) * max(1000, plan.ratio_pm)
    vs, vl = _as_exact(vol_bound, vol_s, vol_l)
    expanding = vs * (plan.n_long * 1000) > vl * (plan.n_short * plan.ratio_pm)
    contracting = vs * (plan.n_long * plan.ratio_pm) < vl * (plan.n_short * 1000)
    n_r = plan.n_reversion
    z_bound = max((n_r * _max_abs(big) + _max_abs(s_sum)) * n_r, n_r * _max_abs(d_sum))
    bg, ss, dd = _as_exact(z_bound, big, s_sum, d_sum)
    z = _exact_div((bg * n_r - ss) * n_r, n_r * dd)
    c_trend = np.clip(m_trend / p.trend_threshold_pct, -1.0, 1.0)
    return {
        "mom": mom,
        "m_mid": m_mid,
        "m_long": m_long,
        "accel": accel,
        "c_mom": np.clip(mom / p.momentum_threshold_pct, -1.0, 1.0),
        "c_acc": np.clip(accel / p.acceleration_threshold_pct, -1.0, 1.0),
        "c_trend": c_trend,
        "c_vol": np.where(np.asarray(expanding, dtype=bool), 1.0, 0.0),
        "c_mr": np.clip(-z / p.mean_reversion_threshold, -1.0, 1.0),
        "z": z,
        "volatility": np.where(
            np.asarray(expanding, dtype=bool),
            1,
            np.where(np.asarray(contracting, dtype=bool), -1, 0),
        ).astype(np.int8),
        "trend": _trend_codes(c_trend),
        "reversion": _reversion_codes(z, p.mean_reversion_threshold),
    }


def _max_abs(*arrays: Ints) -> int:
    return max((int(np.max(np.abs(a))) for a in arrays if a.size), default=0)


def _as_exact(bound: int, *arrays: Ints) -> tuple[Ints, ...]:
    """The arrays as they are if ``bound`` fits int64, else as Python ints (object arrays)."""
    if bound < _INT64_SAFE:
        return arrays
    return tuple(a.astype(object) for a in arrays)


def _exact_div(num: Ints, den: Ints) -> F64:
    """num / den correctly rounded like Python's int division; 0 where den == 0."""
    z = np.zeros(num.shape, dtype=np.float64)
    if num.dtype == object:
        nz = den != 0
        z[nz] = (num[nz] / den[nz]).astype(np.float64)
        return z
    exact = (np.abs(num) <= _FLOAT_EXACT) & (den <= _FLOAT_EXACT) & (den != 0)
    np.divide(num, den, out=z, where=exact)
    rest = (~exact) & (den != 0)
    if rest.any():
        # Beyond 2**53 a float64 cast would round before the division; Python ints do not.
        z[rest] = (num[rest].astype(object) / den[rest].astype(object)).astype(np.float64)
    return z


def _trend_codes(c: F64) -> npt.NDArray[np.int8]:
    codes = np.zeros(c.shape, dtype=np.int8)
    codes[c >= 0.1] = 1
    codes[c >= 0.5] = 2
    codes[c <= -0.1] = -1
    codes[c <= -0.5] = -2
    return codes


def _reversion_codes(z: F64, threshold: float) -> npt.NDArray[np.int8]:
    a = np.abs(z)
    codes = np.zeros(z.shape, dtype=np.int8)
    codes[a >= threshold / 2] = 1
    codes[a >= threshold] = 2
    return codes


def _finish(
    params: SeedParams, ready: npt.NDArray[np.bool_], c: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    w = params.weights
    score = (
        w.momentum * c["c_mom"]
        + w.acceleration * c["c_acc"]
        + w.trend * c["c_trend"]
        + w.volatility * c["c_vol"]
        + w.mean_reversion * c["c_mr"]
    )
    th = params.signal_threshold
    direction = np.where(score >= th, UP, np.where(score <= -th, DOWN, NO_TRADE)).astype(np.int8)
    confidence = np.minimum(
        params.confidence_cap, params.confidence_base + np.abs(score) * params.confidence_scale
    )
    confidence = np.where(direction == NO_TRADE, 0.0, confidence)
    reason = np.where(direction == NO_TRADE, REASON_BELOW_THRESHOLD, REASON_NONE).astype(np.int8)
    out: dict[str, np.ndarray] = {
        "score": score,
        "direction": direction,
        "confidence": confidence,
        "reason": reason,
        **c,
    }
    not_ready = ~ready
    for values in out.values():
        if values.dtype.kind == "f":
            values[not_ready] = np.nan
        else:
            values[not_ready] = 0
    out["reason"][not_ready] = REASON_WARMING_UP
    return out
