"""The seed model as an incremental engine: O(1) time and memory per price sample.

The model (see ``autotrader.signal.oracle`` for the same definition over a whole series):

* momenta m(s) = (p_now / price_ago(s) - 1) * 100 over ``momentum_secs``, ``momentum_mid_secs``
  and ``momentum_long_secs``, where price_ago interpolates linearly between samples when ``s`` is
  not a whole number of samples; acceleration = m_mid - (m_long - m_mid);
* trend: m(trend_secs) against ``trend_threshold_pct``;
* volatility: sums of absolute steps over the short and long windows, in integer micro-dollars so
  the running sums are exact; expanding when short/long per step exceeds the expansion ratio;
* mean reversion: z = distance of the price from its window mean in mean absolute steps;
* score = the weighted sum of the five components, each clamped to [-1, 1].

All state lives in fixed-size rings (lists indexed with Python's negative indices, so no modulo)
and running integer sums; ``update`` does a fixed amount of arithmetic and builds no containers.
The labels and the ``SignalBasis`` are built only when ``evaluation()`` asks for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from autotrader.domain.signals import Direction, NoTradeReason, SignalBasis
from autotrader.signal.params import (
    PRICE_SCALE,
    REVERSION_LABELS,
    TREND_LABELS,
    VOLATILITY_LABELS,
    SeedParams,
    SeedPlan,
    reversion_code,
    trend_code,
)

_INF = float("inf")
_SCALE = float(PRICE_SCALE)

# (k, 1 - f, f) for each of the four look-backs: momentum, mid, long, trend.
_Lag4 = tuple[int, int, float, float]
_LagTable = tuple[*_Lag4, *_Lag4, *_Lag4, *_Lag4]


@dataclass(frozen=True)
class Evaluation:
    """The model's view after one sample.

    ``score`` and ``basis`` are None while warming up; ``reason`` is None for UP/DOWN.
    """

    ts_ms: int
    price: float
    direction: Direction
    confidence: float
    score: float | None
    reason: NoTradeReason | None
    basis: SignalBasis | None


@dataclass(frozen=True)
class Components:
    """The raw numbers behind a score (momenta and acceleration in percent, c_* in [-1, 1])."""

    mom: float
    m_mid: float
    m_long: float
    accel: float
    c_mom: float
    c_acc: float
    c_trend: float
    c_vol: float
    c_mr: float
    z: float
    volatility_code: int
    trend_code: int
    reversion_code: int


class SeedEngine:
    """The seed model fed one sample at a time (``sample_secs`` apart)."""

    __slots__ = (
        "_a_con",
        "_a_exp",
        "_b_con",
        "_b_exp",
        "_c_trend",
        "_count",
        "_d",
        "_gap_ms",
        "_j",
        "_k",
        "_last_ts",
        "_m_long",
        "_m_mid",
        "_mom",
        "_n_l",
        "_n_r",
        "_n_s",
        "_p",
        "_plan",
        "_q",
        "_s",
        "_score",
        "_size",
        "_steps",
        "_th",
        "_vol_l",
        "_vol_s",
        "_w",
        "_warmup",
        "_z",
        "_zeros_f",
        "_zeros_i",
        "params",
        "sample_secs",
    )

    def __init__(self, params: SeedParams, sample_secs: float) -> None:
        plan = SeedPlan.build(params, sample_secs)
        self.params = params
        self.sample_secs = plan.sample_secs
        self._plan = plan
        size = plan.history
        self._size = size
        self._gap_ms = plan.gap_ms
        self._warmup = plan.warmup
        self._n_s, self._n_l, self._n_r = plan.n_short, plan.n_long, plan.n_reversion
        # Cross-multiplied forms of vol_s/n_s >< ratio * vol_l/n_l: ints, no division.
        self._a_exp, self._b_exp = plan.n_long * 1000, plan.n_short * plan.ratio_pm
        self._a_con, self._b_con = plan.n_long * plan.ratio_pm, plan.n_short * 1000
        # (k, k + 1, 1 - f, f) for momentum, mid, long, trend. With f == 0 the second term is
        # p[i-k-1] * 0.0 == 0.0 and p[i-k] * 1.0 + 0.0 == p[i-k] exactly, so one branch-free
        # formula serves whole and fractional lags alike.
        m, mid, lng, tr = plan.lags
        self._k: _LagTable = (
            *(m.k, m.k + 1, 1.0 - m.f, m.f),
            *(mid.k, mid.k + 1, 1.0 - mid.f, mid.f),
            *(lng.k, lng.k + 1, 1.0 - lng.f, lng.f),
            *(tr.k, tr.k + 1, 1.0 - tr.f, tr.f),
        )
        w = params.weights
        self._w = (w.momentum, w.acceleration, w.trend, w.volatility, w.mean_reversion)
        self._th = (
            params.momentum_threshold_pct,
            params.acceleration_threshold_pct,
            params.trend_threshold_pct,
            params.mean_reversion_threshold,
        )
        self._zeros_f = [0.0] * size
        self._zeros_i = [0] * size
        self._p = [0.0] * size
        self._q = [0] * size
        self._steps = [0] * size
        self._last_ts: float = -_INF
        self.reset()

    @property
    def plan(self) -> SeedPlan:
        """The lags and windows in samples."""
        return self._plan

    def reset(self) -> None:
        """Forget everything; the next sample starts a new warm-up."""
        self._last_ts = -_INF
        self._restart()

    def _restart(self) -> None:
        # Zeroed rings make the running sums correct from the first sample of a segment:
        # whatever leaves a window before it was ever filled is a zero.
        self._p[:] = self._zeros_f
        self._q[:] = self._zeros_i
        self._steps[:] = self._zeros_i
        self._j = 0
        self._count = 0
        self._vol_s = self._vol_l = self._d = self._s = 0
        self._score: float | None = None
        self._mom = self._m_mid = self._m_long = self._c_trend = self._z = 0.0

    def update(self, ts_ms: int, price: float) -> float | None:
        """Add the sample at ``ts_ms``; return the score, or None while warming up.

        A sample not after the previous one is ignored (None, nothing changes); one more than
        1.5 samples after it starts a new warm-up. ValueError for a price that is not > 0.
        """
        # The hot path: deliberately one long function with inline clamps, since every extra
        # call would cost about 5 % of the throughput. Keep it in step with the oracle.
        last = self._last_ts
        if ts_ms <= last:
            return None
        if not 0.0 < price < _INF:
            raise ValueError(f"price must be a positive finite number (got {price!r})")
        if ts_ms - last > self._gap_ms:
            self._restart()
        self._last_ts = ts_ms
        j = self._j + 1
        if j == self._size:
            j = 0
        self._j = j
        p = self._p
        q = self._q
        steps = self._steps
        p[j] = price
        big = round(price * _SCALE)
        q[j] = big
        count = self._count
        if count:
            step = big - q[j - 1]
            if step < 0:
                step = -step
        else:
            step = 0
        steps[j] = step
        self._vol_s = vol_s = self._vol_s + step - steps[j - self._n_s]
        self._vol_l = vol_l = self._vol_l + step - steps[j - self._n_l]
        n_r = self._n_r
        self._d = d = self._d + step - steps[j - n_r]
        self._s = s = self._s + big - q[j - n_r]
        if count < self._warmup:
            count += 1
            self._count = count
            if count < self._warmup:
                return None
        k0, l0, a0, b0, k1, l1, a1, b1, k2, l2, a2, b2, k3, l3, a3, b3 = self._k
        self._mom = mom = (price / (p[j - k0] * a0 + p[j - l0] * b0) - 1.0) * 100.0
        self._m_mid = m_mid = (price / (p[j - k1] * a1 + p[j - l1] * b1) - 1.0) * 100.0
        self._m_long = m_long = (price / (p[j - k2] * a2 + p[j - l2] * b2) - 1.0) * 100.0
        m_trend = (price / (p[j - k3] * a3 + p[j - l3] * b3) - 1.0) * 100.0
        th_mom, th_acc, th_trend, th_mr = self._th
        c_mom = mom / th_mom
        if c_mom > 1.0:
            c_mom = 1.0
        elif c_mom < -1.0:
            c_mom = -1.0
        c_acc = (m_mid - (m_long - m_mid)) / th_acc
        if c_acc > 1.0:
            c_acc = 1.0
        elif c_acc < -1.0:
            c_acc = -1.0
        c_trend = m_trend / th_trend
        if c_trend > 1.0:
            c_trend = 1.0
        elif c_trend < -1.0:
            c_trend = -1.0
        self._c_trend = c_trend
        self._z = z = ((big * n_r - s) * n_r) / (n_r * d) if d else 0.0
        c_mr = -z / th_mr
        if c_mr > 1.0:
            c_mr = 1.0
        elif c_mr < -1.0:
            c_mr = -1.0
        w_mom, w_acc, w_trend, w_vol, w_mr = self._w
        c_vol = 1.0 if vol_s * self._a_exp > vol_l * self._b_exp else 0.0
        score = w_mom * c_mom + w_acc * c_acc + w_trend * c_trend + w_vol * c_vol + w_mr * c_mr
        self._score = score
        return score

    def components(self) -> Components | None:
        """The raw components of the last sample; None before any sample or while warming up."""
        if self._score is None:
            return None
        th_mom, th_acc, _, th_mr = self._th
        accel = self._m_mid - (self._m_long - self._m_mid)
        expanding = self._vol_s * self._a_exp > self._vol_l * self._b_exp
        contracting = self._vol_s * self._a_con < self._vol_l * self._b_con
        c_trend = self._c_trend
        return Components(
            mom=self._mom,
            m_mid=self._m_mid,
            m_long=self._m_long,
            accel=accel,
            c_mom=_clamp(self._mom / th_mom),
            c_acc=_clamp(accel / th_acc),
            c_trend=c_trend,
            c_vol=1.0 if expanding else 0.0,
            c_mr=_clamp(-self._z / th_mr),
            z=self._z,
            volatility_code=1 if expanding else (-1 if contracting else 0),
            trend_code=trend_code(c_trend),
            reversion_code=reversion_code(self._z, th_mr),
        )

    def evaluation(self) -> Evaluation | None:
        """Direction, confidence and basis of the last accepted sample (None before any)."""
        if self._count == 0:
            return None
        ts_ms = int(self._last_ts)
        price = self._p[self._j]
        score = self._score
        comp = self.components()
        if score is None or comp is None:
            return Evaluation(
                ts_ms,
                price,
                Direction.NO_TRADE,
                0.0,
                None,
                NoTradeReason.WARMING_UP,
                None,
            )
        direction, confidence = decide(self.params, score)
        reason = NoTradeReason.BELOW_THRESHOLD if direction is Direction.NO_TRADE else None
        return Evaluation(ts_ms, price, direction, confidence, score, reason, _basis(comp, score))


def decide(params: SeedParams, score: float) -> tuple[Direction, float]:
    """Direction and confidence of a score (confidence 0 for NO_TRADE)."""
    if score >= params.signal_threshold:
        direction = Direction.UP
    elif score <= -params.signal_threshold:
        direction = Direction.DOWN
    else:
        return Direction.NO_TRADE, 0.0
    conf = params.confidence_base + abs(score) * params.confidence_scale
    return direction, min(params.confidence_cap, conf)


def _clamp(x: float) -> float:
    return 1.0 if x > 1.0 else (-1.0 if x < -1.0 else x)


def _basis(c: Components, score: float) -> SignalBasis:
    return SignalBasis(
        momentum_30s=c.mom,
        momentum_60s=c.m_mid,
        momentum_120s=c.m_long,
        acceleration=c.accel,
        volatility_state=VOLATILITY_LABELS[c.volatility_code],
        trend_bias=TREND_LABELS[c.trend_code],
        mean_reversion_pressure=REVERSION_LABELS[c.reversion_code],
        score=score,
        components={
            "momentum": c.c_mom,
            "acceleration": c.c_acc,
            "trend": c.c_trend,
            "volatility": c.c_vol,
            "mean_reversion": c.c_mr,
        },
    )
