"""The periodic sync of our orders that may still change: resting, held, or of unknown fate.

Every ``executor.position_check_secs`` the service hands the watched orders to ``OrderWatch``:

* Resting and held orders (LIVE, PARTIALLY_FILLED, DELAYED) are compared with one read of our
  open orders at the venue. One the venue lists unchanged (same status, same shares matched)
  needs nothing more; the others — changed, or no longer listed — are looked up by hash
  (order, then trades: ``sync.OrderSync``), which records their fills once and moves them on.
  So the cost of a sync is one request plus one lookup per order that changed, not two
  requests and a scan of every recent trade per resting order.
* An order left SUBMITTED (an ambiguous submit whose intent failed after the grace period) is
  looked up on a back-off schedule: first after ``UNKNOWN_FIRST_SECS`` of clock time, then
  doubling up to ``UNKNOWN_MAX_SECS``. Found, it is brought up to date like any other. After
  ``UNKNOWN_MISSES`` "not found" answers *and* ``UNKNOWN_FINAL_SECS`` since it was created
  (far past the order path's grace period: an order the venue accepted is listed within
  seconds), it is closed REJECTED with reason ORDER_NOT_FOUND: it was never placed. Nothing
  is ever re-sent for it, so closing it cannot double an order.

A pass yields to intents: before each request it calls ``between`` (the service runs any
pending intent there, one at a time, then the pass resumes), so an intent never waits behind a
whole sync, only behind the one request in flight. Each order is read again after that, so
what the intents changed meanwhile is seen.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.domain.orders import OrderStatus
from autotrader.executor.sync import OrderSync, move
from autotrader.store.models import ORDERS
from autotrader.store.repos_trading import OrderRepo, StoredOrder
from autotrader.venue.base import Venue

log = logging.getLogger("autotrader.executor")

RESTING = (OrderStatus.LIVE, OrderStatus.PARTIALLY_FILLED, OrderStatus.DELAYED)
UNKNOWN_FIRST_SECS = 5.0
UNKNOWN_MAX_SECS = 300.0
UNKNOWN_MISSES = 5
UNKNOWN_FINAL_SECS = 600.0
NEVER_PLACED = "ORDER_NOT_FOUND"

# Called between units of periodic work; runs pending intents, True when any ran.
Between = Callable[[], Awaitable[bool]]


async def no_intents() -> bool:
    """The default ``Between``: nothing to yield to."""
    return False


@dataclass
class _Unknown:
    misses: int
    next_at: float  # clock seconds
    interval: float


@dataclass(frozen=True)
class _State:
    id: str
    venue_order_id: str
    now: tuple[OrderStatus, Decimal]  # (status, size_matched) as recorded


def _states(engine: sa.Engine, statuses: tuple[OrderStatus, ...]) -> list[_State]:
    """What the comparison needs of our orders in ``statuses``: four plain columns, not whole
    rows (hundreds of resting orders are compared every pass)."""
    o = ORDERS.c
    query = sa.select(o.id, o.venue_order_id, o.status, o.size_matched).where(
        o.status.in_([s.value for s in statuses]), o.venue_order_id.is_not(None)
    )
    with engine.connect() as conn:
        return [
            _State(id_, vid or "", (OrderStatus(status), matched))
            for id_, vid, status, matched in conn.execute(query)
        ]


class OrderWatch:
    """Brings watched orders up to date (see the module docstring)."""

    def __init__(self, venue: Venue, engine: sa.Engine, clock: Clock) -> None:
        self._venue = venue
        self._engine = engine
        self._clock = clock
        self._orders = OrderRepo(engine, now=clock.now)
        self._sync = OrderSync(venue, engine, clock)
        self._unknown: dict[str, _Unknown] = {}

    async def run(self, between: Between = no_intents) -> None:
        """One pass, yielding to intents through ``between`` before each request;
        VenueUnavailable propagates (the next pass tries again)."""
        resting = _states(self._engine, RESTING)
        if resting:
            await between()
            listed = {v.venue_order_id: v for v in await self._venue.open_orders()}
            for state in resting:
                seen = listed.get(state.venue_order_id)
                if seen is not None and (seen.status, seen.size_matched) == state.now:
                    continue  # listed as we know it: nothing to look up
                await between()
                order = self._orders.get(state.id)  # read after the intents ran
                if order is not None and order.status in RESTING:
                    await self._sync.lookup(order)
        submitted = {s.id for s in _states(self._engine, (OrderStatus.SUBMITTED,))}
        for gone in set(self._unknown) - submitted:
            del self._unknown[gone]
        for order_id in sorted(submitted):
            if self._due(order_id):
                await between()
            order = self._orders.get(order_id)
            if order is not None and order.status is OrderStatus.SUBMITTED:
                await self._unknown_fate(order)

    def _due(self, order_id: str) -> bool:
        """Whether an order of unknown fate is to be looked up now (else no request)."""
        state = self._unknown.get(order_id)
        return state is None or self._clock.time() >= state.next_at

    async def _unknown_fate(self, order: StoredOrder) -> None:
        now = self._clock.time()
        state = self._unknown.get(order.id)
        if state is None:
            state = _Unknown(0, now, UNKNOWN_FIRST_SECS)
            self._unknown[order.id] = state
        if now < state.next_at:
            return
        if (await self._sync.lookup(order)).found:
            del self._unknown[order.id]
            return
        state.misses += 1
        age = now - order.created_at.timestamp()
        if state.misses >= UNKNOWN_MISSES and age >= UNKNOWN_FINAL_SECS:
            del self._unknown[order.id]
            text = (
                f"never found at the venue by hash ({state.misses} lookups over "
                f"{age:.0f}s after an ambiguous submit): not placed"
            )
            move(
                self._engine,
                order,
                OrderStatus.REJECTED,
                order.size_matched,
                now=self._clock.now,
                reason_code=NEVER_PLACED,
                reason_text=text,
            )
            log.warning("order %s: %s", order.id, text)
            return
        state.next_at = now + state.interval
        state.interval = min(state.interval * 2, UNKNOWN_MAX_SECS)
