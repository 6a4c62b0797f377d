"""The BTC signal: a view on the next 15 minutes (UP / DOWN / NO_TRADE) with a confidence."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from autotrader.domain.markets import Window


class Direction(StrEnum):
    """Which way the signal points."""

    UP = "UP"
    DOWN = "DOWN"
    NO_TRADE = "NO_TRADE"


class NoTradeReason(StrEnum):
    """Why a signal is NO_TRADE."""

    STALE = "stale"
    WARMING_UP = "warming_up"
    BELOW_THRESHOLD = "below_threshold"
    NO_DATA = "no_data"


@dataclass(frozen=True)
class SignalBasis:
    """The components behind a score, as the seed's signal.json showed them.

    Momenta are percentages (0.21 means +0.21 %); ``components`` are the weighted inputs, each
    in [-1, 1], keyed momentum, acceleration, trend, volatility, mean_reversion.
    """

    momentum_30s: float
    momentum_60s: float
    momentum_120s: float
    acceleration: float
    volatility_state: str
    trend_bias: str
    mean_reversion_pressure: str
    score: float
    components: dict[str, float]


@dataclass(frozen=True)
class Signal:
    """The current view, ready to publish."""

    timestamp: datetime
    direction: Direction
    confidence: float
    price: float | None
    basis: SignalBasis | None
    window: Window
    source: str | None
    data_age_secs: float | None
    reason: NoTradeReason | None = None

    def to_json_dict(self) -> dict[str, Any]:
        """The signal.json document (the seed's fields plus window, source, age and reason)."""
        return {
            "timestamp": _iso(self.timestamp),
            "direction": self.direction.value,
            "confidence": round(self.confidence, 2),
            "price": self.price,
            "basis": asdict(self.basis) if self.basis else None,
            "window": {
                "start": _iso(self.window.start_dt),
                "start_ts": self.window.start,
                "slug": self.window.slug,
            },
            "source": self.source,
            "data_age_secs": None if self.data_age_secs is None else round(self.data_age_secs, 3),
            "reason": self.reason.value if self.reason else None,
        }


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
