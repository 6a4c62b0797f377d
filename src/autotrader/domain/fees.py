"""Fee schedules, read from the market (Gamma ``feeSchedule`` / CLOB ``fd``), never hard-coded.

Today crypto markets charge takers ``shares × 0.07 × p × (1 − p)`` and makers nothing; the
rate and exponent change, so they travel with the market.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from autotrader.domain.money import round_usd


def _check(name: str, value: object) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{name} must be a finite Decimal (got {value!r})")
    return value


@dataclass(frozen=True)
class FeeSchedule:
    """``fee = shares × rate × (p × (1 − p)) ** exponent``, charged to takers (makers too unless
    ``taker_only``)."""

    rate: Decimal = Decimal(0)
    exponent: Decimal = Decimal(1)
    taker_only: bool = True
    rebate_rate: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if _check("rate", self.rate) < 0:
            raise ValueError(f"fee rate must be >= 0 (got {self.rate})")
        if _check("exponent", self.exponent) <= 0:
            raise ValueError(f"fee exponent must be > 0 (got {self.exponent})")
        if not 0 <= _check("rebate_rate", self.rebate_rate) <= 1:
            raise ValueError(f"rebate rate must be within [0, 1] (got {self.rebate_rate})")

    @property
    def is_free(self) -> bool:
        """Whether no fee is ever charged."""
        return self.rate == 0

    def taker_fee(self, shares: Decimal, price: Decimal) -> Decimal:
        """USD fee a taker pays for ``shares`` at ``price``, rounded to 1e-6 (halves up)."""
        if _check("shares", shares) < 0:
            raise ValueError(f"shares must be >= 0 (got {shares})")
        if not 0 <= _check("price", price) <= 1:
            raise ValueError(f"price must be within [0, 1] (got {price})")
        if self.rate == 0 or shares == 0:
            return Decimal(0)
        base = price * (1 - price)
        # Integer exponents stay exact; Decimal's power is only approximate for fractional ones.
        factor = (
            base ** int(self.exponent)
            if self.exponent == self.exponent.to_integral()
            else (base**self.exponent)
        )
        return round_usd(shares * self.rate * factor)

    def maker_fee(self, shares: Decimal, price: Decimal) -> Decimal:
        """USD fee a maker pays: nothing under a taker-only schedule, else the taker formula."""
        return Decimal(0) if self.taker_only else self.taker_fee(shares, price)


FREE = FeeSchedule()
