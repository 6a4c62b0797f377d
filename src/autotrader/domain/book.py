"""Order books in domain form: best level first on both sides (the wire has it last)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import pairwise

from autotrader.domain.money import SHARE_STEP, round_shares
from autotrader.domain.orders import Side


def _dec(name: str, value: object) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{name} must be a finite Decimal (got {value!r})")
    return value


@dataclass(frozen=True)
class Level:
    """One price level: ``size`` shares offered at ``price``."""

    price: Decimal
    size: Decimal

    def __post_init__(self) -> None:
        if not 0 < _dec("level price", self.price) < 1:
            raise ValueError(f"level price must be within (0, 1) (got {self.price})")
        if _dec("level size", self.size) < 0:
            raise ValueError(f"level size must be >= 0 (got {self.size})")

    @property
    def notional(self) -> Decimal:
        """USD value of the level (price × size)."""
        return self.price * self.size


@dataclass(frozen=True)
class BookWalk:
    """What taking liquidity would get: the (price, size) taken per level and the totals."""

    levels: tuple[Level, ...]
    shares: Decimal
    usd: Decimal
    complete: bool
    avg_price: Decimal | None


@dataclass(frozen=True)
class OrderBook:
    """A snapshot of one token's book. ``bids`` highest first, ``asks`` lowest first."""

    token_id: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    tick_size: Decimal
    min_order_size: Decimal
    ts: datetime
    hash: str | None = None

    def __post_init__(self) -> None:
        if not self.token_id:
            raise ValueError("order book needs a token_id")
        object.__setattr__(self, "bids", tuple(self.bids))
        object.__setattr__(self, "asks", tuple(self.asks))
        if _dec("tick_size", self.tick_size) <= 0:
            raise ValueError(f"tick_size must be > 0 (got {self.tick_size})")
        if _dec("min_order_size", self.min_order_size) < 0:
            raise ValueError(f"min_order_size must be >= 0 (got {self.min_order_size})")
        if self.ts.tzinfo is None:
            raise ValueError("order book ts must be timezone-aware")
        _check_sorted("bids", self.bids, descending=True)
        _check_sorted("asks", self.asks, descending=False)

    @property
    def best_bid(self) -> Decimal | None:
        """Highest bid price, if any."""
        return self.bids[0].price if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        """Lowest ask price, if any."""
        return self.asks[0].price if self.asks else None

    @property
    def midpoint(self) -> Decimal | None:
        """(best bid + best ask) / 2 when both sides exist."""
        bid, ask = self.best_bid, self.best_ask
        return None if bid is None or ask is None else (bid + ask) / 2

    @property
    def spread(self) -> Decimal | None:
        """best ask − best bid when both sides exist."""
        bid, ask = self.best_bid, self.best_ask
        return None if bid is None or ask is None else ask - bid

    def side_levels(self, side: Side) -> tuple[Level, ...]:
        """The levels a ``side`` order takes from: asks for BUY, bids for SELL."""
        return self.asks if side is Side.BUY else self.bids

    def crosses(self, side: Side, price: Decimal) -> bool:
        """Whether a ``side`` limit order at ``price`` would take liquidity now."""
        levels = self.side_levels(side)
        if not levels:
            return False
        best = levels[0].price
        return best <= price if side is Side.BUY else best >= price

    def walk(
        self,
        side: Side,
        *,
        shares: Decimal | None = None,
        usd: Decimal | None = None,
        limit_price: Decimal | None = None,
    ) -> BookWalk:
        """Take liquidity best level first: up to ``shares``, or spending up to ``usd``.

        BUY walks the asks, SELL the bids; ``limit_price`` stops at the first level worse than
        it. With neither ``shares`` nor ``usd`` everything within the limit is taken. A USD walk
        buys whole share steps (0.01) only, so it may leave a few cents unspent; it is
        ``complete`` when the budget ran out rather than the book.
        """
        if shares is not None and usd is not None:
            raise ValueError("walk by shares or by usd, not both")
        if shares is not None and _dec("shares", shares) <= 0:
            raise ValueError(f"shares must be > 0 (got {shares})")
        if usd is not None and _dec("usd", usd) <= 0:
            raise ValueError(f"usd must be > 0 (got {usd})")
        taken: list[Level] = []
        got = spent = Decimal(0)
        complete = shares is None and usd is None
        for level in self.side_levels(side):
            if limit_price is not None and _worse(side, level.price, limit_price):
                break
            take = level.size
            if shares is not None:
                take = min(take, shares - got)
            elif usd is not None:
                take = min(take, round_shares((usd - spent) / level.price))
            if take > 0:
                taken.append(Level(level.price, take))
                got += take
                spent += take * level.price
            if (shares is not None and got >= shares) or (
                usd is not None and (usd - spent) < level.price * SHARE_STEP
            ):
                complete = True
                break
        avg = spent / got if got > 0 else None
        return BookWalk(tuple(taken), got, spent, complete, avg)


def _worse(side: Side, level_price: Decimal, limit: Decimal) -> bool:
    return level_price > limit if side is Side.BUY else level_price < limit


def _check_sorted(name: str, levels: Sequence[Level], *, descending: bool) -> None:
    for a, b in pairwise(levels):
        if not isinstance(a, Level) or not isinstance(b, Level):
            raise ValueError(f"{name} must be Level objects")
        if (a.price <= b.price) if descending else (a.price >= b.price):
            order = "highest" if descending else "lowest"
            raise ValueError(f"{name} must be strictly sorted {order} first ({a.price}, {b.price})")
