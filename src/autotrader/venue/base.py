"""The venue protocol: market data and execution, the same for live, simulated and paper.

Nothing outside ``venue/`` knows which venue it talks to (no ``if paper`` branches). Order
refusals come back as ``SubmitResult(accepted=False, reason=ReasonCode...)``; transport trouble
raises ``venue.errors.VenueUnavailable`` / ``AmbiguousSubmit``; nothing here retries.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from autotrader.domain.book import OrderBook
from autotrader.domain.fees import FeeSchedule
from autotrader.domain.fills import Fill
from autotrader.domain.markets import Event, Market, MarketQuery
from autotrader.domain.orders import OrderRequest, PreparedOrder, SubmitResult, VenueOrder


@runtime_checkable
class MarketData(Protocol):
    """Discovery, books, prices, resolution."""

    async def market_by_slug(self, slug: str) -> Market | None:
        """The market with ``slug``, None if the venue does not know it (yet)."""
        ...

    async def market_by_id(self, market_id: str) -> Market | None:
        """The market with venue id ``market_id``, or None."""
        ...

    async def markets(self, q: MarketQuery) -> list[Market]:
        """Markets matching ``q`` (one page: ``q.limit`` from ``q.offset``)."""
        ...

    async def event_by_slug(self, slug: str) -> Event | None:
        """The event with ``slug``, or None."""
        ...

    async def book(self, token_id: str) -> OrderBook:
        """The current order book of ``token_id`` (best level first on both sides)."""
        ...

    async def midpoint(self, token_id: str) -> Decimal | None:
        """Midpoint of the book, None when a side is empty."""
        ...

    async def price_history(
        self, token_id: str, *, start: datetime, end: datetime, fidelity_mins: int = 1
    ) -> list[tuple[datetime, Decimal]]:
        """Price points of ``token_id`` between ``start`` and ``end``."""
        ...

    async def tick_size(self, token_id: str) -> Decimal:
        """Current tick size of ``token_id`` (it changes near 0 and 1)."""
        ...

    async def fee_schedule(self, token_id: str) -> FeeSchedule:
        """The fee schedule that applies to trades in ``token_id``."""
        ...

    async def resolution(self, market: Market) -> str | None:
        """The winning outcome once ``market`` is resolved, else None."""
        ...


@runtime_checkable
class Execution(Protocol):
    """Orders, fills, balance."""

    async def prepare(self, req: OrderRequest) -> PreparedOrder:
        """Build (and for live: sign and hash) an order; no venue side effect."""
        ...

    async def post(self, order: PreparedOrder) -> SubmitResult:
        """Send a prepared order; refusals are ``SubmitResult(accepted=False, reason=...)``."""
        ...

    async def cancel(self, venue_order_id: str) -> bool:
        """Cancel one order; True if the venue cancelled it."""
        ...

    async def cancel_all(self) -> list[str]:
        """Cancel every open order; the ids cancelled."""
        ...

    async def order(self, venue_order_id: str) -> VenueOrder | None:
        """The order with ``venue_order_id`` as the venue sees it, None if unknown."""
        ...

    async def open_orders(self) -> list[VenueOrder]:
        """Orders resting on the book."""
        ...

    async def fills_since(self, since: datetime) -> list[Fill]:
        """Our fills at or after ``since``, oldest first."""
        ...

    async def balance_usd(self) -> Decimal:
        """Collateral (USDC) held; as on Polymarket, resting BUY orders do not reduce it."""
        ...


@runtime_checkable
class Venue(MarketData, Execution, Protocol):
    """A full venue: market data and execution under one ``name``."""

    name: str
