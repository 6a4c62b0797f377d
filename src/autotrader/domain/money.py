"""Money arithmetic: Decimal only, snapped to the venue's grids.

Polymarket prices live on a tick grid (0.1 … 0.0001, 0.01 for most markets, 0.001 near the
extremes), share sizes have two decimals, and USDC has six. Floats never enter: a float price
that "looks like" 0.3 is not 0.3, and a fee or balance computed from it drifts.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal

RoundMode = Literal["nearest", "down", "up"]

TICK_SIZES: tuple[Decimal, ...] = (
    Decimal("0.1"),
    Decimal("0.01"),
    Decimal("0.001"),
    Decimal("0.0001"),
)
SHARE_STEP = Decimal("0.01")
USD_STEP = Decimal("0.000001")

_ROUNDING = {"nearest": ROUND_HALF_UP, "down": ROUND_FLOOR, "up": ROUND_CEILING}


def to_decimal(x: str | int | Decimal) -> Decimal:
    """``x`` as a finite Decimal; floats (and bools) are refused with ``TypeError``."""
    if isinstance(x, bool | float):
        raise TypeError(f"refusing {type(x).__name__} {x!r} as money: pass a str, int or Decimal")
    if isinstance(x, Decimal):
        value = x
    elif isinstance(x, int | str):
        try:
            value = Decimal(x.strip() if isinstance(x, str) else x)
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {x!r}") from None
    else:
        raise TypeError(f"cannot read {type(x).__name__} {x!r} as a decimal")
    if not value.is_finite():
        raise ValueError(f"not a finite decimal: {x!r}")
    return value


def _rounding(mode: str) -> str:
    try:
        return _ROUNDING[mode]
    except KeyError:
        raise ValueError(f"rounding mode must be nearest, down or up (got {mode!r})") from None


def _check_step(step: Decimal, what: str) -> None:
    if not isinstance(step, Decimal) or not step.is_finite() or step <= 0:
        raise ValueError(f"{what} must be a positive Decimal (got {step!r})")


def snap(value: Decimal, step: Decimal, mode: RoundMode = "nearest") -> Decimal:
    """``value`` rounded to a multiple of ``step`` (nearest rounds halves up)."""
    _check_step(step, "step")
    units = (value / step).to_integral_value(rounding=_rounding(mode))
    return (units * step).quantize(step)


def snap_price(price: Decimal, tick: Decimal, mode: RoundMode = "nearest") -> Decimal:
    """``price`` on the ``tick`` grid; ``down``/``up`` for the side that must not overpay."""
    return snap(price, tick, mode)


def on_tick(price: Decimal, tick: Decimal) -> bool:
    """Whether ``price`` is an exact multiple of ``tick``."""
    _check_step(tick, "tick")
    return price % tick == 0


def price_in_range(price: Decimal, tick: Decimal) -> bool:
    """Whether ``price`` is a valid order price for ``tick``: tick <= price <= 1 - tick."""
    _check_step(tick, "tick")
    return tick <= price <= 1 - tick


def round_shares(size: Decimal, mode: RoundMode = "down") -> Decimal:
    """``size`` on the 0.01-share grid (down by default: never claim more than we have)."""
    return snap(size, SHARE_STEP, mode)


def round_usd(x: Decimal) -> Decimal:
    """``x`` to USDC's six decimals, halves up."""
    return snap(x, USD_STEP, "nearest")
