"""Bringing one of our orders up to date from the venue, by its hash: order, then trades.

Used after an ambiguous submit, for orders the venue holds (DELAYED) or rests (LIVE), and by
start-up reconciliation. Fills are recorded once (the trade id is the fills table's key);
status moves follow the domain's transition table, so a stale report never moves an order back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.domain.fills import Fill
from autotrader.domain.orders import OrderStatus, Side, VenueOrder, can_transition
from autotrader.executor.events import trade_events
from autotrader.executor.faults import kill_point
from autotrader.store.repos_common import Now, utc_now, write_conn
from autotrader.store.repos_fills import insert_fill, position_fills
from autotrader.store.repos_runtime import insert_event
from autotrader.store.repos_trading import OrderRepo, StoredOrder
from autotrader.venue.base import Venue

log = logging.getLogger("autotrader.executor")

# Trades are looked for from a little before the order was created: the venue's clock and ours
# differ, and a lost answer may be read minutes later.
FILL_SLACK = timedelta(minutes=5)
ZERO = Decimal(0)


@dataclass(frozen=True)
class Lookup:
    """What the venue said about an order: ``found`` False when it knows neither order nor fills."""

    order: StoredOrder
    found: bool
    new_fills: tuple[Fill, ...]


def record_fills(
    engine: sa.Engine, order: StoredOrder, fills: list[Fill], now: Now = utc_now
) -> tuple[Fill, ...]:
    """Store the fills of ``order``; the new ones (a known trade id is refused, not doubled).

    New fills get their ``trade_executed`` / ``trade_exited`` events (executor/events.py) in
    the same transaction.
    """
    # One transaction for the fills and their events: a crash between them would leave
    # fills whose trade_executed / trade_exited was never recorded (or never sent).
    with write_conn(engine) as conn:
        new = tuple(
            f for f in fills if insert_fill(conn, f, order_id=order.id, strategy=order.strategy)
        )
        if not new:
            return new
        kill_point("fill_inserted")
        sold = order.side is Side.SELL
        history = position_fills(conn, order.strategy, order.token_id) if sold else []
        at = now()
        for type_, payload in trade_events(engine, order, new, history):
            insert_event(conn, type_, order.strategy, payload, at)
    return new


def _status_without_order(order: StoredOrder, matched: Decimal) -> OrderStatus:
    # The venue no longer lists the order but reports its trades: it is done.
    if order.size is None or matched >= order.size:
        return OrderStatus.FILLED
    return OrderStatus.CANCELED


def move(
    engine: sa.Engine,
    order: StoredOrder,
    status: OrderStatus,
    matched: Decimal,
    *,
    now: Now,
    reason_code: str | None = None,
    reason_text: str | None = None,
) -> StoredOrder:
    """Move ``order`` to ``status`` when that is a legal, non-stale change; else leave it.
    ``now``: the executor's clock, which stamps ``updated_at`` as it stamped ``created_at``."""
    matched = max(matched, order.size_matched)
    if status == order.status and matched == order.size_matched and reason_code is None:
        return order
    if not can_transition(order.status, status):
        log.warning("order %s: venue reports %s after %s; kept", order.id, status, order.status)
        return order
    return OrderRepo(engine, now=now).update_status(
        order.id, status, size_matched=matched, reason_code=reason_code, reason_text=reason_text
    )


class OrderSync:
    """Looks our orders up at the venue and records what it finds."""

    def __init__(self, venue: Venue, engine: sa.Engine, clock: Clock) -> None:
        self._venue = venue
        self._engine = engine
        self._clock = clock

    async def lookup(self, order: StoredOrder) -> Lookup:
        """Ask the venue about ``order`` by hash (order, then trades) and record the answer."""
        oid = order.venue_order_id
        if oid is None:
            return Lookup(order, False, ())
        seen: VenueOrder | None = await self._venue.order(oid)
        trades = await self._venue.fills_since(order.created_at - FILL_SLACK)
        mine = [f for f in trades if f.venue_order_id == oid]
        new = record_fills(self._engine, order, mine, self._clock.now)
        if seen is None and not mine:
            return Lookup(order, False, new)
        filled = sum((f.size for f in mine), ZERO)
        if seen is not None:
            status, matched = seen.status, max(seen.size_matched, filled)
        else:
            status, matched = _status_without_order(order, filled), filled
        return Lookup(move(self._engine, order, status, matched, now=self._clock.now), True, new)
