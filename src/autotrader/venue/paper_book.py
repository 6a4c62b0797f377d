"""Book-keeping for the paper venue: its order records and the liquidity it already took.

The paper venue trades against books it does not own (the real or simulated venue's), so a
level it takes from stays on that book until the source publishes a new snapshot. To keep two
paper orders (or two polls) from eating the same shares twice, the liquidity consumed from a
snapshot is remembered until the snapshot changes.

``PaperStore`` is where the paper venue keeps its orders, trades and payouts across restarts
(the executor gives it one backed by the database; without one, state lives in memory only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from autotrader.domain.book import Level, OrderBook
from autotrader.domain.fees import FeeSchedule
from autotrader.domain.fills import Fill, Settlement
from autotrader.domain.markets import Event, Market, MarketQuery
from autotrader.domain.orders import OrderRequest, OrderStatus, OrderType, Side, VenueOrder
from autotrader.venue.base import MarketData

OPEN = frozenset({OrderStatus.LIVE, OrderStatus.PARTIALLY_FILLED})


@dataclass
class PaperOrder:
    """One order the paper venue accepted; mutable, unlike the domain records it emits."""

    request: OrderRequest
    venue_order_id: str
    price: Decimal  # limit price; for a market order without one, the worst price taken
    size: Decimal  # shares; for a market BUY by USD, the shares the walk bought
    status: OrderStatus
    created_at: datetime
    matched: Decimal = Decimal(0)
    n_fills: int = 0  # numbers this order's trade ids

    @property
    def side(self) -> Side:
        """BUY or SELL."""
        return self.request.side

    @property
    def token_id(self) -> str:
        """The outcome token traded."""
        return self.request.token_id

    @property
    def remaining(self) -> Decimal:
        """Shares not yet matched."""
        return self.size - self.matched

    @property
    def is_open(self) -> bool:
        """Whether the order rests on the book."""
        return self.status in OPEN

    def expired_at(self, now: datetime) -> bool:
        """Whether a GTD order's expiry has passed."""
        exp = self.request.expires_at
        return self.request.order_type is OrderType.GTD and exp is not None and exp <= now

    def to_venue_order(self) -> VenueOrder:
        """The domain view of this order."""
        return VenueOrder(
            venue_order_id=self.venue_order_id,
            token_id=self.token_id,
            side=self.side,
            price=self.price,
            original_size=self.size,
            size_matched=self.matched,
            status=self.status,
            order_type=self.request.order_type,
            created_at=self.created_at,
        )


@dataclass(frozen=True)
class PaperState:
    """Everything the paper venue ever did, as stored."""

    orders: tuple[PaperOrder, ...] = ()
    fills: tuple[Fill, ...] = ()
    settlements: tuple[Settlement, ...] = ()


class PaperStore(Protocol):
    """Durable paper venue state: written before the venue answers, read once at start."""

    def load(self) -> PaperState:
        """Every stored order, fill and settlement (oldest first)."""
        ...

    def save(
        self,
        orders: Sequence[PaperOrder],
        fills: Sequence[Fill],
        settlements: Sequence[Settlement],
    ) -> None:
        """Upsert ``orders`` and insert the new ``fills`` and ``settlements``, atomically."""
        ...


def holdings(state: PaperState) -> tuple[Decimal, dict[str, Decimal]]:
    """(cash change, shares per token) that ``state``'s fills and settlements add up to."""
    cash = Decimal(0)
    shares: dict[str, Decimal] = {}
    for f in state.fills:
        cash += f.cash_delta_usd
        shares[f.token_id] = shares.get(f.token_id, Decimal(0)) + f.share_delta
    for s in state.settlements:
        cash += s.payout_usd
        shares.pop(s.token_id, None)  # paid out: the venue holds none of it any more
    return cash, shares


@dataclass
class _Snapshot:
    book: OrderBook
    taken: dict[tuple[Side, Decimal], Decimal] = field(default_factory=dict)


class LiquidityTracker:
    """Remembers what paper orders took from each token's current book snapshot."""

    def __init__(self) -> None:
        self._snapshots: dict[str, _Snapshot] = {}

    def effective(self, book: OrderBook) -> OrderBook:
        """``book`` less what was already taken from this same snapshot."""
        snap = self._snapshots.get(book.token_id)
        if snap is None or snap.book != book:
            # A new snapshot from the source already reflects (or forgot) earlier trades.
            self._snapshots[book.token_id] = _Snapshot(book)
            return book
        if not snap.taken:
            return book
        return OrderBook(
            token_id=book.token_id,
            bids=_less(book.bids, snap.taken, Side.SELL),
            asks=_less(book.asks, snap.taken, Side.BUY),
            tick_size=book.tick_size,
            min_order_size=book.min_order_size,
            ts=book.ts,
            hash=book.hash,
        )

    def consume(self, book: OrderBook, taker_side: Side, levels: tuple[Level, ...]) -> None:
        """Record that a ``taker_side`` order took ``levels`` from ``book`` (the raw snapshot)."""
        snap = self._snapshots.get(book.token_id)
        if snap is None or snap.book != book:
            snap = self._snapshots[book.token_id] = _Snapshot(book)
        for level in levels:
            key = (taker_side, level.price)
            snap.taken[key] = snap.taken.get(key, Decimal(0)) + level.size


def _less(
    levels: tuple[Level, ...], taken: dict[tuple[Side, Decimal], Decimal], taker_side: Side
) -> tuple[Level, ...]:
    out = []
    for level in levels:
        left = level.size - taken.get((taker_side, level.price), Decimal(0))
        if left > 0:
            out.append(Level(level.price, left))
    return tuple(out)


class MarketDataProxy:
    """Market data answered unchanged by ``self._md`` (the paper venue trades against it)."""

    _md: MarketData

    async def market_by_slug(self, slug: str) -> Market | None:
        """Delegated to the market data source."""
        return await self._md.market_by_slug(slug)

    async def market_by_id(self, market_id: str) -> Market | None:
        """Delegated to the market data source."""
        return await self._md.market_by_id(market_id)

    async def markets(self, q: MarketQuery) -> list[Market]:
        """Delegated to the market data source."""
        return await self._md.markets(q)

    async def event_by_slug(self, slug: str) -> Event | None:
        """Delegated to the market data source."""
        return await self._md.event_by_slug(slug)

    async def book(self, token_id: str) -> OrderBook:
        """Delegated to the market data source (paper trades do not show in it)."""
        return await self._md.book(token_id)

    async def midpoint(self, token_id: str) -> Decimal | None:
        """Delegated to the market data source."""
        return await self._md.midpoint(token_id)

    async def price_history(
        self, token_id: str, *, start: datetime, end: datetime, fidelity_mins: int = 1
    ) -> list[tuple[datetime, Decimal]]:
        """Delegated to the market data source."""
        return await self._md.price_history(
            token_id, start=start, end=end, fidelity_mins=fidelity_mins
        )

    async def tick_size(self, token_id: str) -> Decimal:
        """Delegated to the market data source."""
        return await self._md.tick_size(token_id)

    async def fee_schedule(self, token_id: str) -> FeeSchedule:
        """Delegated to the market data source."""
        return await self._md.fee_schedule(token_id)

    async def resolution(self, market: Market) -> str | None:
        """Delegated to the market data source."""
        return await self._md.resolution(market)
