"""The ``strategies:`` section: schedules, limits and the two kinds of strategy.

A strategy is either ``kind: btc_updown_15m`` (typed ``params``) or ``kind: pipeline`` (a list
of nodes, see :mod:`autotrader.config_nodes`). The kind is dispatched by hand rather than through
a pydantic tagged union, so error locations follow the YAML exactly
(``strategies[1].limits.daily_loss_usd``) with no union tag in between.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from autotrader.config_base import (
    ClockTime,
    Frozen,
    Pct,
    PositiveDuration,
    Probability,
    Usd,
    dump_model,
    format_duration,
    in_window,
    located_error,
)
from autotrader.config_nodes import PipelineNode

STRATEGY_KINDS = ("btc_updown_15m", "pipeline")


def _strategy_name(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,62}", value):
        raise ValueError(
            "expected a name of lowercase letters, digits, '-' and '_' "
            "(starting with a letter or digit, at most 63 characters)"
        )
    return value


StrategyName = Annotated[str, AfterValidator(_strategy_name)]


class ActiveHours(Frozen):
    """A daily window in the configured time zone; ``end <= start`` crosses midnight."""

    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _not_empty(self) -> ActiveHours:
        if self.start == self.end:
            raise located_error("ActiveHours", [(("end",), "must differ from start", None)])
        return self

    def contains(self, now: time) -> bool:
        """Whether the local time of day ``now`` is inside the window."""
        return in_window(now, self.start, self.end)


class ScheduleConfig(Frozen):
    """When a strategy runs: every ``every`` seconds, optionally on the clock's multiples."""

    every: PositiveDuration
    align: bool = False
    offset_secs: float = Field(0.0, ge=0)
    active_hours: ActiveHours | None = None

    @model_validator(mode="after")
    def _offset_below_period(self) -> ScheduleConfig:
        if self.offset_secs >= self.every:
            raise located_error(
                "ScheduleConfig",
                [
                    (
                        ("offset_secs",),
                        f"must be less than every ({format_duration(self.every)})",
                        self.offset_secs,
                    )
                ],
            )
        return self


ExitFraction = Annotated[Decimal, Field(gt=0, le=1, allow_inf_nan=False)]
"""The share of a position an exit sells, in (0, 1]."""


class LimitsConfig(Frozen):
    """Per-strategy risk limits; percentages are of the strategy's allocation or entry price."""

    daily_loss_usd: Usd
    max_position_pct: Pct
    max_trade_usd: Usd | None = None
    stop_loss_pct: Pct | None = None
    take_profit_pct: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = None
    # The share of a position an exit sells when its threshold is first crossed (1: all; a
    # position's own override, `autotrader position set`, wins).
    stop_loss_fraction: ExitFraction | None = None
    take_profit_fraction: ExitFraction | None = None


class BtcParams(Frozen):
    """Parameters of the built-in ``btc_updown_15m`` strategy (seed 000)."""

    min_confidence: float = Field(60.0, ge=0, le=100)
    position_usd: Usd = Decimal(10)
    cooldown_secs: float = Field(120.0, ge=0)
    max_price: Probability | None = None


# ---------------------------------------------------------------- strategies


class StrategyBase(Frozen):
    """What every strategy declares, whatever its kind."""

    shareable: ClassVar[bool] = False  # unique by its name: never equal to another

    name: StrategyName
    enabled: bool = True
    schedule: ScheduleConfig
    allocation_usd: Usd
    limits: LimitsConfig

    def _check_limits(self) -> list[tuple[tuple[str | int, ...], str, Any]]:
        found: list[tuple[tuple[str | int, ...], str, Any]] = []
        cap = self.limits.max_trade_usd
        if cap is not None and cap > self.allocation_usd:
            message = f"must not exceed allocation_usd ({self.allocation_usd})"
            found.append((("limits", "max_trade_usd"), message, cap))
        return found


class BtcUpdown15mStrategy(StrategyBase):
    """The built-in strategy: trade each 15-minute BTC up/down window on the signal."""

    kind: Literal["btc_updown_15m"]
    params: BtcParams = BtcParams()

    misplaced_keys: ClassVar[Mapping[str, str]] = {"pipeline": "only allowed for kind pipeline"}

    @model_validator(mode="after")
    def _cross_checks(self) -> BtcUpdown15mStrategy:
        found = self._check_limits()
        position = self.params.position_usd
        if position > self.allocation_usd:
            # Also when position_usd is the default: say which value is too big.
            message = f"{position} must not exceed allocation_usd ({self.allocation_usd})"
            found.append((("params", "position_usd"), message, None))
        if found:
            raise located_error("Strategy", found)
        return self


class PipelineStrategy(StrategyBase):
    """A declarative strategy: a list of nodes run on each schedule tick."""

    kind: Literal["pipeline"]
    pipeline: tuple[PipelineNode, ...]
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _cross_checks(self) -> PipelineStrategy:
        found = self._check_limits()
        if not self.pipeline:
            found.append((("pipeline",), "must not be empty", None))
        if self.params:
            found.append((("params",), "not used by kind pipeline; leave it out", None))
        if found:
            raise located_error("Strategy", found)
        return self


StrategyConfig = BtcUpdown15mStrategy | PipelineStrategy


def _validate_strategy(value: Any, info: ValidationInfo) -> StrategyConfig:
    """Dispatch on ``kind`` so errors are located without a union tag in the path."""
    if isinstance(value, BtcUpdown15mStrategy | PipelineStrategy):
        return value
    if not isinstance(value, Mapping):
        raise PydanticCustomError("model_type", "expected a mapping", {})
    kind = value.get("kind")
    if kind == "btc_updown_15m":
        return BtcUpdown15mStrategy.model_validate(value, context=info.context)
    if kind == "pipeline":
        return PipelineStrategy.model_validate(value, context=info.context)
    if "kind" not in value:
        raise located_error(
            "Strategy",
            [(("kind",), f"required key missing (one of {', '.join(STRATEGY_KINDS)})", None)],
        )
    raise located_error(
        "Strategy", [(("kind",), f"expected one of {', '.join(STRATEGY_KINDS)}", kind)]
    )


Strategy = Annotated[
    StrategyConfig,
    PlainValidator(_validate_strategy),
    PlainSerializer(dump_model, when_used="always"),
]
