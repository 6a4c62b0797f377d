"""Fills and settlements: the source of truth positions and P&L are derived from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from autotrader.domain.orders import Side

Liquidity = Literal["taker", "maker"]


def _dec(name: str, value: object) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{name} must be a finite Decimal (got {value!r})")
    return value


@dataclass(frozen=True)
class Fill:
    """One execution of (part of) an order."""

    trade_id: str
    venue_order_id: str
    token_id: str
    side: Side
    price: Decimal
    size: Decimal
    fee_usd: Decimal
    ts: datetime
    liquidity: Liquidity

    def __post_init__(self) -> None:
        if not self.trade_id or not self.venue_order_id or not self.token_id:
            raise ValueError("a fill needs trade_id, venue_order_id and token_id")
        object.__setattr__(self, "side", Side(self.side))
        if not 0 <= _dec("price", self.price) <= 1:
            raise ValueError(f"fill price must be within [0, 1] (got {self.price})")
        if _dec("size", self.size) <= 0:
            raise ValueError(f"fill size must be > 0 (got {self.size})")
        if _dec("fee_usd", self.fee_usd) < 0:
            raise ValueError(f"fee_usd must be >= 0 (got {self.fee_usd})")
        if self.ts.tzinfo is None:
            raise ValueError("fill ts must be timezone-aware")
        if self.liquidity not in ("taker", "maker"):
            raise ValueError(f"liquidity must be 'taker' or 'maker' (got {self.liquidity!r})")

    @property
    def notional_usd(self) -> Decimal:
        """price × size."""
        return self.price * self.size

    @property
    def cash_delta_usd(self) -> Decimal:
        """USD change for the owner: a buy pays notional + fee, a sell receives notional − fee."""
        if self.side is Side.BUY:
            return -(self.notional_usd + self.fee_usd)
        return self.notional_usd - self.fee_usd

    @property
    def share_delta(self) -> Decimal:
        """Token change for the owner: + size for a buy, − size for a sell."""
        return self.size if self.side is Side.BUY else -self.size


@dataclass(frozen=True)
class Settlement:
    """Held tokens paid out when their market resolved: 1 per winning share, 0 per losing one.

    A market resolved 50-50 pays a fraction, so any payout within [0, 1] is accepted.
    """

    market_id: str
    token_id: str
    outcome: str
    shares: Decimal
    payout_per_share: Decimal
    ts: datetime

    def __post_init__(self) -> None:
        if _dec("shares", self.shares) < 0:
            raise ValueError(f"settled shares must be >= 0 (got {self.shares})")
        if not 0 <= _dec("payout_per_share", self.payout_per_share) <= 1:
            raise ValueError(
                f"payout per share must be within [0, 1] (got {self.payout_per_share})"
            )
        if self.ts.tzinfo is None:
            raise ValueError("settlement ts must be timezone-aware")

    @property
    def payout_usd(self) -> Decimal:
        """USD paid out."""
        return self.shares * self.payout_per_share

    @property
    def won(self) -> bool:
        """Whether this token was the winning outcome."""
        return self.payout_per_share == 1
