"""Parameters of the seed model, and the sampling plan both implementations derive from them.

``SeedParams`` mirrors the config's ``signal.seed`` section (SeedModelConfig) field for field, so
``SeedParams.from_mapping(cfg.signal.seed.model_dump())`` is the whole conversion. ``SeedPlan``
turns the time spans into sample counts for one ``sample_secs``; the incremental engine and the
numpy oracle both take their lags from it, so they cannot disagree on rounding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

# Integer price units (micro-dollars): rolling sums of ints are exact in any order.
PRICE_SCALE = 1_000_000


def _finite(name: str, value: object) -> float:
    """``value`` as a float, or ValueError naming the field."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{name}: must be finite (got {value!r})")
    return out


def _coerce_fields(obj: object) -> None:
    """Replace every field of a frozen dataclass by its value as a finite float."""
    for f in fields(obj):  # type: ignore[arg-type]
        if f.name != "weights":
            object.__setattr__(obj, f.name, _finite(f.name, getattr(obj, f.name)))


@dataclass(frozen=True)
class SeedWeights:
    """Weights of the five components; each >= 0, summing to 1 (the seed's 40/20/20/10/10)."""

    momentum: float = 0.40
    acceleration: float = 0.20
    trend: float = 0.20
    volatility: float = 0.10
    mean_reversion: float = 0.10

    def __post_init__(self) -> None:
        _coerce_fields(self)
        for f in fields(self):
            if getattr(self, f.name) < 0:
                raise ValueError(f"weights.{f.name}: must be >= 0 (got {getattr(self, f.name)})")
        total = sum(getattr(self, f.name) for f in fields(self))
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"weights: must sum to 1 (got {total:.12g})")


@dataclass(frozen=True)
class SeedParams:
    """Every weight and threshold of the seed model (names as in the config's ``signal.seed``).

    Spans are seconds, ``*_pct`` thresholds are percentages (0.2 means 0.2 %).
    """

    weights: SeedWeights = field(default_factory=SeedWeights)
    momentum_secs: float = 30
    momentum_mid_secs: float = 60
    momentum_long_secs: float = 120
    momentum_threshold_pct: float = 0.2
    acceleration_threshold_pct: float = 0.15
    trend_secs: float = 900
    trend_threshold_pct: float = 0.3
    volatility_short_secs: float = 300
    volatility_long_secs: float = 900
    volatility_expansion_ratio: float = 1.2
    mean_reversion_secs: float = 900
    mean_reversion_threshold: float = 2.0
    signal_threshold: float = 0.25
    confidence_base: float = 50
    confidence_scale: float = 100
    confidence_cap: float = 95

    def __post_init__(self) -> None:
        if not isinstance(self.weights, SeedWeights):
            raise ValueError(f"weights: expected SeedWeights, got {type(self.weights).__name__}")
        _coerce_fields(self)
        for name in (
            "momentum_secs",
            "trend_secs",
            "volatility_short_secs",
            "mean_reversion_secs",
            "momentum_threshold_pct",
            "acceleration_threshold_pct",
            "trend_threshold_pct",
            "mean_reversion_threshold",
            "confidence_cap",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: must be greater than 0 (got {getattr(self, name):g})")
        self._check_orders()

    def _check_orders(self) -> None:
        if not self.momentum_secs < self.momentum_mid_secs < self.momentum_long_secs:
            raise ValueError(
                "momentum_secs < momentum_mid_secs < momentum_long_secs must hold (got "
                f"{self.momentum_secs:g}, {self.momentum_mid_secs:g}, {self.momentum_long_secs:g})"
            )
        if self.volatility_long_secs <= self.volatility_short_secs:
            raise ValueError(
                f"volatility_long_secs: must be greater than volatility_short_secs "
                f"({self.volatility_short_secs:g}) (got {self.volatility_long_secs:g})"
            )
        if self.volatility_expansion_ratio <= 1:
            raise ValueError(
                f"volatility_expansion_ratio: must be greater than 1 "
                f"(got {self.volatility_expansion_ratio:g})"
            )
        if not 0 < self.signal_threshold < 1:
            raise ValueError(
                "signal_threshold: must be between 0 and 1 exclusive "
                f"(got {self.signal_threshold:g})"
            )
        if self.confidence_base < 0 or self.confidence_scale < 0:
            raise ValueError("confidence_base and confidence_scale: must be >= 0")
        if not self.confidence_base <= self.confidence_cap <= 100:
            raise ValueError(
                f"confidence_cap: must be between confidence_base ({self.confidence_base:g}) "
                f"and 100 (got {self.confidence_cap:g})"
            )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SeedParams:
        """Build from a plain mapping such as ``SeedModelConfig.model_dump()``.

        Missing keys take their defaults; unknown keys and bad values raise ValueError.
        """
        kwargs = _known_keys(data, cls, "seed parameters")
        if "weights" in kwargs:
            kwargs["weights"] = _weights_from(kwargs["weights"])
        return cls(**kwargs)


def _weights_from(data: object) -> SeedWeights:
    if isinstance(data, SeedWeights):
        return data
    return SeedWeights(**_known_keys(data, SeedWeights, "weights"))


def _known_keys(data: object, cls: type[Any], what: str) -> dict[str, Any]:
    """``data`` as keyword arguments of the dataclass ``cls``; ValueError on anything else."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{what}: expected a mapping, got {type(data).__name__}")
    unknown = sorted(set(data) - {f.name for f in fields(cls)})
    if unknown:
        raise ValueError(f"{what}: unknown key(s) {', '.join(map(str, unknown))}")
    return dict(data)


@dataclass(frozen=True)
class Lag:
    """A look-back of ``secs`` as ``k`` whole samples plus a fraction ``f`` of the next one.

    price_ago = p[i-k] * (1 - f) + p[i-k-1] * f; with f == 0 it is p[i-k].
    """

    secs: float
    k: int
    f: float

    @property
    def samples_needed(self) -> int:
        """Samples the segment must hold before this look-back is defined."""
        return self.k + (2 if self.f > 0 else 1)


def make_lag(secs: float, sample_secs: float) -> Lag:
    """Split ``secs`` into whole and fractional samples of ``sample_secs``."""
    lag = secs / sample_secs
    k = math.floor(lag)
    return Lag(secs, k, lag - k)


@dataclass(frozen=True)
class SeedPlan:
    """The seed model laid out on a grid of ``sample_secs``: lags, window lengths, warm-up."""

    params: SeedParams
    sample_secs: float
    momentum: Lag
    momentum_mid: Lag
    momentum_long: Lag
    trend: Lag
    n_short: int
    n_long: int
    n_reversion: int
    ratio_pm: int
    warmup: int
    gap_ms: float

    @classmethod
    def build(cls, params: SeedParams, sample_secs: float) -> SeedPlan:
        """Lay ``params`` out on the grid; ValueError when ``sample_secs`` is not usable."""
        sample_secs = _finite("sample_secs", sample_secs)
        if sample_secs <= 0:
            raise ValueError(f"sample_secs: must be greater than 0 (got {sample_secs:g})")
        lags = [
            make_lag(s, sample_secs)
            for s in (
                params.momentum_secs,
                params.momentum_mid_secs,
                params.momentum_long_secs,
                params.trend_secs,
            )
        ]
        n_s = max(1, round(params.volatility_short_secs / sample_secs))
        n_l = max(1, round(params.volatility_long_secs / sample_secs))
        n_r = max(1, round(params.mean_reversion_secs / sample_secs))
        warmup = max(*(lag.samples_needed for lag in lags), n_s + 1, n_l + 1, n_r + 1)
        return cls(
            params=params,
            sample_secs=sample_secs,
            momentum=lags[0],
            momentum_mid=lags[1],
            momentum_long=lags[2],
            trend=lags[3],
            n_short=n_s,
            n_long=n_l,
            n_reversion=n_r,
            ratio_pm=round(params.volatility_expansion_ratio * 1000),
            warmup=warmup,
            gap_ms=1.5 * sample_secs * 1000,
        )

    @property
    def lags(self) -> tuple[Lag, Lag, Lag, Lag]:
        """The four price look-backs: momentum, mid, long, trend."""
        return (self.momentum, self.momentum_mid, self.momentum_long, self.trend)

    @property
    def history(self) -> int:
        """Ring-buffer length: every look-back index stays distinct from the current slot."""
        deepest = max(lag.k + 1 for lag in self.lags)
        return max(deepest, self.n_short, self.n_long, self.n_reversion) + 1


# Label codes shared by the engine, the oracle and the replay CLI.
VOLATILITY_LABELS = {1: "expanding", 0: "stable", -1: "contracting"}
TREND_LABELS = {2: "strong_up", 1: "up", 0: "neutral", -1: "down", -2: "strong_down"}
REVERSION_LABELS = {2: "high", 1: "medium", 0: "low"}


def trend_code(c_trend: float) -> int:
    """Trend bias code of a clamped trend component."""
    if c_trend >= 0.5:
        return 2
    if c_trend >= 0.1:
        return 1
    if c_trend <= -0.5:
        return -2
    if c_trend <= -0.1:
        return -1
    return 0


def reversion_code(z: float, threshold: float) -> int:
    """Mean-reversion pressure code of a z value."""
    a = abs(z)
    if a >= threshold:
        return 2
    if a >= threshold / 2:
        return 1
    return 0
