"""Read-only snapshots the world hands to the HTTP server: books, market stats, positions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from autotrader.domain.fees import FeeSchedule
from autotrader.sim.ledger import Position
from autotrader.sim.markets import SimMarket, btc_volume, extra_liquidity, extra_volume
from autotrader.sim.pricing import Level


@dataclass(frozen=True)
class SimBook:
    """One token's order book, best level first on both sides (the wire reverses them)."""

    token_id: str
    market: str  # condition id
    bids: list[Level]
    asks: list[Level]
    tick_size: Decimal
    min_order_size: Decimal
    neg_risk: bool
    fee: FeeSchedule
    last_trade_price: Decimal | None
    ts_ms: int
    hash: str

    @property
    def best_bid(self) -> Decimal | None:
        """Highest bid."""
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        """Lowest ask."""
        return self.asks[0][0] if self.asks else None

    @property
    def midpoint(self) -> Decimal | None:
        """(best bid + best ask) / 2 when both exist."""
        bid, ask = self.best_bid, self.best_ask
        return None if bid is None or ask is None else (bid + ask) / 2

    @property
    def spread(self) -> Decimal | None:
        """best ask - best bid when both exist."""
        bid, ask = self.best_bid, self.best_ask
        return None if bid is None or ask is None else ask - bid


def book_hash(token_id: str, ts_ms: int, bids: list[Level], asks: list[Level]) -> str:
    """A 40-hex digest of the book's content, like the CLOB's ``hash`` field."""
    text = f"{token_id}|{ts_ms}|{bids}|{asks}"
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class SimMarketStats:
    """The moving numbers of a market (first outcome's book), for Gamma and /clob-markets."""

    best_bid: Decimal | None
    best_ask: Decimal | None
    spread: Decimal | None
    last_trade_price: Decimal | None
    outcome_prices: tuple[Decimal, Decimal]  # Gamma outcomePrices: mid, then 1/0 when resolved
    volume: Decimal
    volume_24h: Decimal
    liquidity: Decimal
    tick_size: Decimal
    accepting_orders: bool


def market_stats(
    m: SimMarket,
    now: float,
    book: SimBook,
    fair_prices: tuple[Decimal, Decimal],
    last_trade: Decimal | None,
    user_volume: Decimal,
) -> SimMarketStats:
    """The stats of ``m`` at ``now``: prices from its first token's ``book`` (the fair/settled
    ``fair_prices`` when closed or empty), simulated volume plus what users traded."""
    mid = book.midpoint
    prices = (mid, 1 - mid) if mid is not None and not m.closed else fair_prices
    accepting = m.accepting_orders(now)
    if m.window_start is not None:
        volume = vol24 = btc_volume(m, now)
        liquidity = m.base_liquidity
    else:
        volume, vol24 = extra_volume(m, now)
        liquidity = extra_liquidity(m, now)
    return SimMarketStats(
        best_bid=book.best_bid,
        best_ask=book.best_ask,
        spread=book.spread,
        last_trade_price=last_trade if last_trade is not None else mid,
        outcome_prices=prices,
        volume=_dec(volume, 6) + user_volume,
        volume_24h=_dec(vol24, 6) + user_volume,
        liquidity=_dec(liquidity if accepting else 0.0, 4),
        tick_size=book.tick_size,
        accepting_orders=accepting,
    )


def _dec(x: float, places: int) -> Decimal:
    return Decimal(repr(round(x, places)))


@dataclass(frozen=True)
class SimPosition:
    """One holding of one wallet, with the fields of a Data API /v2/positions item."""

    wallet: str
    token_id: str
    condition_id: str
    outcome: str
    outcome_index: int
    opposite_outcome: str
    opposite_token_id: str
    size: Decimal
    avg_price: Decimal
    entry_cost: Decimal
    entry_fees: Decimal
    current_price: Decimal
    current_value: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    total_bought: Decimal
    redeemable: bool
    negative_risk: bool
    title: str
    slug: str
    icon: str
    event_id: str
    event_slug: str
    end_date: float
    last_event_at: int

    @property
    def total_pnl(self) -> Decimal:
        """Realised + unrealised."""
        return self.realized_pnl + self.unrealized_pnl


def position_view(
    wallet: str, market: SimMarket, token_id: str, pos: Position, price: Decimal
) -> SimPosition:
    """A wallet's position in ``token_id`` valued at ``price``."""
    idx = market.token_ids.index(token_id)
    value = (pos.size * price).quantize(Decimal("0.000001"))
    return SimPosition(
        wallet=wallet,
        token_id=token_id,
        condition_id=market.condition_id,
        outcome=market.outcomes[idx],
        outcome_index=idx,
        opposite_outcome=market.outcomes[1 - idx],
        opposite_token_id=market.token_ids[1 - idx],
        size=pos.size,
        avg_price=pos.avg_price,
        entry_cost=pos.cost,
        entry_fees=pos.fees,
        current_price=price,
        current_value=value,
        realized_pnl=pos.realized,
        unrealized_pnl=value - pos.cost,
        total_bought=pos.bought,
        redeemable=market.closed,
        negative_risk=market.neg_risk,
        title=market.question,
        slug=market.slug,
        icon=market.image,
        event_id=market.event_id,
        event_slug=market.event_slug,
        end_date=market.end_date,
        last_event_at=pos.last_ts,
    )
