"""Risk reason codes and the limits the risk check enforces (values from the YAML config)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

VENUE_MIN_RESTING_SHARES = Decimal(5)
VENUE_MIN_MARKETABLE_USD = Decimal(1)
ORDER_RATE_WINDOW_SECS = 60


class RiskReason(StrEnum):
    """Stable codes for risk rejections; the CLI, e-mails and the status page show them."""

    STRATEGY_PAUSED = "STRATEGY_PAUSED"
    INTENT_EXPIRED = "INTENT_EXPIRED"
    ALLOCATION_EXCEEDED = "ALLOCATION_EXCEEDED"
    INSUFFICIENT_CAPITAL = "INSUFFICIENT_CAPITAL"
    MAX_POSITION = "MAX_POSITION"
    MAX_TRADE_SIZE = "MAX_TRADE_SIZE"
    DAILY_LOSS_LIMIT = "DAILY_LOSS_LIMIT"
    PORTFOLIO_EXPOSURE = "PORTFOLIO_EXPOSURE"
    ORDER_RATE = "ORDER_RATE"
    COOLDOWN = "COOLDOWN"
    DUPLICATE_ENTRY = "DUPLICATE_ENTRY"
    BELOW_VENUE_MINIMUM = "BELOW_VENUE_MINIMUM"
    OFF_TICK = "OFF_TICK"
    NO_LIQUIDITY = "NO_LIQUIDITY"


def _money(name: str, value: object, *, allow_zero: bool = False) -> None:
    ok = (
        isinstance(value, Decimal)
        and value.is_finite()
        and (value >= 0 if allow_zero else value > 0)
    )
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a Decimal {bound} (got {value!r})")


@dataclass(frozen=True)
class StrategyLimits:
    """One strategy's limits: its ``allocation_usd``, ``limits.*`` and ``params.cooldown_secs``.

    Percentages are in (0, 100]: ``max_position_pct`` of the allocation, ``stop_loss_pct`` /
    ``take_profit_pct`` of the average entry price.
    """

    name: str
    allocation_usd: Decimal
    max_position_pct: Decimal
    daily_loss_usd: Decimal
    max_trade_usd: Decimal | None = None
    cooldown_secs: float = 0.0
    stop_loss_pct: Decimal | None = None
    take_profit_pct: Decimal | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("strategy limits need the strategy name")
        _money("allocation_usd", self.allocation_usd)
        _money("daily_loss_usd", self.daily_loss_usd)
        _money("max_position_pct", self.max_position_pct)
        if self.max_position_pct > 100:
            raise ValueError(f"max_position_pct must be <= 100 (got {self.max_position_pct})")
        if self.max_trade_usd is not None:
            _money("max_trade_usd", self.max_trade_usd)
        for name in ("stop_loss_pct", "take_profit_pct"):
            if getattr(self, name) is not None:
                _money(name, getattr(self, name))
        if self.cooldown_secs < 0:
            raise ValueError(f"cooldown_secs must be >= 0 (got {self.cooldown_secs})")

    @property
    def max_position_usd(self) -> Decimal:
        """allocation × max_position_pct / 100."""
        return self.allocation_usd * self.max_position_pct / 100


@dataclass(frozen=True)
class GlobalLimits:
    """The config's ``risk`` section: limits across all strategies."""

    max_trade_usd: Decimal
    portfolio_exposure_usd: Decimal
    max_orders_per_minute: int

    def __post_init__(self) -> None:
        _money("max_trade_usd", self.max_trade_usd)
        _money("portfolio_exposure_usd", self.portfolio_exposure_usd)
        if self.max_orders_per_minute <= 0:
            raise ValueError(
                f"max_orders_per_minute must be > 0 (got {self.max_orders_per_minute})"
            )
