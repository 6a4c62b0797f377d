"""Start-up reconciliation: the database and the venue agree before the first new order.

1. Every order whose fate is not final is looked up by hash (order, then trades) and brought up
   to date; fills are recorded once. An order without a hash was never sent and is closed as
   such; one the venue does not know is closed as vanished, with a reason.
2. Open orders at the venue that the database does not know are adopted (no intent, strategy
   ``unattributed``), so they count against exposure and are watched.
3. Intents a previous run claimed but did not finish are finished from their orders; those
   whose orders were never sent (or that have none) are run again from the start, which
   rejects them if they expired meanwhile.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.domain.orders import OrderRequest, OrderStatus, OrderType, VenueOrder
from autotrader.executor.order_path import OrderPath
from autotrader.executor.sync import OrderSync, move
from autotrader.store.repos_intents import IntentRepo
from autotrader.store.repos_trading import OrderRepo, StoredOrder
from autotrader.venue.base import Venue

log = logging.getLogger("autotrader.executor")

NOT_SENT = "NOT_SENT"
VANISHED = "ORDER_NOT_FOUND"
UNATTRIBUTED = "unattributed"


@dataclass
class ReconcileReport:
    """What reconciliation did, for the log and the status line."""

    synced: int = 0
    closed: int = 0
    adopted: int = 0
    finished_intents: int = 0
    rerun_intents: int = 0

    def summary(self) -> str:
        """One line."""
        return (
            f"{self.synced} orders synced, {self.closed} closed, {self.adopted} adopted, "
            f"{self.finished_intents} intents finished, {self.rerun_intents} re-run"
        )


def _adopted_type(seen: OrderType | None) -> OrderType:
    return OrderType.GTC if seen in (None, OrderType.GTD) else seen


class Reconciler:
    """Runs the three steps of the module docstring, in order."""

    def __init__(self, path: OrderPath, venue: Venue, engine: sa.Engine, clock: Clock) -> None:
        self._path = path
        self._venue = venue
        self._engine = engine
        self._clock = clock
        self._orders = OrderRepo(engine, now=clock.now)
        self._intents = IntentRepo(engine, now=clock.now)
        self._sync = OrderSync(venue, engine, clock)

    async def run(self) -> ReconcileReport:
        """Reconcile; VenueUnavailable propagates (the caller retries: no trading until done)."""
        report = ReconcileReport()
        for order in self._orders.non_terminal():
            await self._order(order, report)
        for seen in await self._venue.open_orders():
            if self._orders.by_venue_id(seen.venue_order_id) is None:
                self._adopt(seen)
                report.adopted += 1
        await self._claimed(report)
        log.info("reconciled with venue %s: %s", self._venue.name, report.summary())
        return report

    async def _order(self, order: StoredOrder, report: ReconcileReport) -> None:
        if order.venue_order_id is None:
            move(
                self._engine,
                order,
                OrderStatus.REJECTED,
                order.size_matched,
                now=self._clock.now,
                reason_code=NOT_SENT,
                reason_text="never sent: no hash was stored",
            )
            report.closed += 1
            return
        look = await self._sync.lookup(order)
        if look.found:
            report.synced += 1
            return
        # Unknown at the venue: a PENDING/SUBMITTED order never arrived; a resting one is gone.
        gone = (
            OrderStatus.REJECTED
            if order.status in (OrderStatus.PENDING, OrderStatus.SUBMITTED)
            else OrderStatus.CANCELED
        )
        move(
            self._engine,
            order,
            gone,
            order.size_matched,
            now=self._clock.now,
            reason_code=VANISHED,
            reason_text="not found at the venue at start-up reconciliation",
        )
        report.closed += 1

    def _adopt(self, seen: VenueOrder) -> None:
        request = OrderRequest(
            client_order_id=f"adopted-{uuid.uuid4().hex}",
            token_id=seen.token_id,
            side=seen.side,
            # A GTD's expiry is not reported: recorded as GTC (it rests either way).
            order_type=OrderType.GTC
            if seen.order_type in (None, OrderType.GTD)
            else seen.order_type,
            price=seen.price,
            size=seen.original_size,
        )
        self._orders.create(
            request,
            intent_id=None,
            strategy=UNATTRIBUTED,
            venue_order_id=seen.venue_order_id,
            status=seen.status,
            size_matched=seen.size_matched,
        )
        log.warning(
            "adopted venue order %s (%s %s @ %s): not in the database",
            seen.venue_order_id,
            seen.side,
            seen.original_size,
            seen.price,
        )

    async def _claimed(self, report: ReconcileReport) -> None:
        for stored in self._intents.claimed():
            orders = self._orders.for_intent(stored.id)
            sent = [o for o in orders if o.reason_code != NOT_SENT]
            if not sent:
                await self._path.run(stored)
                report.rerun_intents += 1
            else:
                await self._path.resume(stored.intent, sent[-1])
                report.finished_intents += 1
