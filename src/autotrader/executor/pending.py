"""Orders the venue says matched whose trades are not all recorded yet.

A live venue answers a marketable order with "matched" and the amounts it matched, before its
trades are listed at /data/trades. The order path records what the answer tells (status and
shares matched) and moves on; it does not wait for the trades. Until they are recorded:

* the shares matched but not yet recorded count as reservations in every risk check
  (``reservations``): a BUY's at its limit (or worst) price, so no capital is spent twice; a
  SELL's as shares offered, so nothing is sold twice;
* ``collect`` asks the venue for recent trades — one request for all such orders — when one is
  due, and records ours once each (the trade id is the fills table's key: a trade listed twice
  is refused, never doubled). Each order is asked about after ``FIRST_SECS``, then with a
  doubling interval up to ``MAX_SECS``. After ``MAX_LOOKS`` looks (a quarter of an hour) an
  order is no longer asked about in this run: an error is logged, its shares stay reserved,
  and the next start asks again — a fill is never silently dropped from the books.

The set lives in memory and is rebuilt from the database at start-up (``load``: orders whose
recorded fills fall short of their ``size_matched``), so a crash loses nothing either.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.domain.ledger import OpenOrder
from autotrader.executor.sync import FILL_SLACK, record_fills
from autotrader.executor.watch import Between, no_intents
from autotrader.store.repos_trading import FillRepo, OrderRepo, StoredOrder
from autotrader.venue.base import Venue

log = logging.getLogger("autotrader.executor")

# Real seconds before the first look: Polymarket lists a trade within about a second, and
# one read of the trades then serves every order answered meanwhile.
FIRST_SECS = 1.0
MAX_SECS = 60.0
MAX_LOOKS = 20
# Trades are read from a little before the oldest order asked about: SHORT_SLACK on the first
# looks (a just-answered order: cheap reads), the sync's FILL_SLACK once an order was missed
# (our clock and the venue's may differ more than we assumed).
SHORT_SLACK = timedelta(seconds=2)
ZERO = Decimal(0)


@dataclass
class _Awaited:
    order: StoredOrder
    recorded: Decimal
    due: float  # time.monotonic() of the next look
    interval: float
    misses: int = 0


class PendingFills:
    """The matched orders whose trades are awaited (see the module docstring)."""

    def __init__(self, venue: Venue, engine: sa.Engine, clock: Clock) -> None:
        self._venue = venue
        self._engine = engine
        self._clock = clock
        self._awaited: dict[str, _Awaited] = {}

    def __len__(self) -> int:
        return len(self._awaited)

    def load(self) -> None:
        """Rebuild the set from the database (at start-up, after reconciliation)."""
        for order, recorded in OrderRepo(self._engine).missing_fills():
            self.add(order, recorded)
        if self._awaited:
            log.info("%d matched orders await their trades", len(self._awaited))

    def add(self, order: StoredOrder, recorded: Decimal) -> None:
        """Await the trades of ``order`` (``recorded``: shares of it already recorded)."""
        if recorded >= order.size_matched or order.venue_order_id is None:
            return
        due = time.monotonic() + FIRST_SECS
        self._awaited[order.id] = _Awaited(order, recorded, due, FIRST_SECS)

    def reservations(self) -> tuple[OpenOrder, ...]:
        """The shares matched but not yet recorded, as open orders for the risk check."""
        return tuple(
            OpenOrder(
                a.order.strategy,
                a.order.token_id,
                a.order.side,
                a.order.price or ZERO,
                a.order.size_matched - a.recorded,
            )
            for a in self._awaited.values()
        )

    async def collect(self, *, force: bool = False, between: Between = no_intents) -> int:
        """Record the trades of the orders due (all of them with ``force``); how many new
        fills. Yields to intents (``between``) before each order's trades are recorded: a
        busy second's worth of them is many commits. VenueUnavailable propagates: the next
        call tries again."""
        now = time.monotonic()
        asked = [a for a in self._awaited.values() if a.misses < MAX_LOOKS]
        due = [a for a in asked if force or a.due <= now]
        if not due:
            return 0
        # Due together: one read of the trades serves every order (see FIRST_SECS).
        due += [a for a in asked if a not in due and a.due <= now + FIRST_SECS]
        since = min(a.order.created_at - (FILL_SLACK if a.misses else SHORT_SLACK) for a in due)
        trades = await self._venue.fills_since(since)
        new = 0
        fills = FillRepo(self._engine)
        for a in due:
            await between()
            oid = a.order.venue_order_id
            mine = [t for t in trades if t.venue_order_id == oid]
            new += len(record_fills(self._engine, a.order, mine, self._clock.now))
            a.recorded = sum((r.fill.size for r in fills.for_order(a.order.id)), ZERO)
            if a.recorded >= a.order.size_matched:
                del self._awaited[a.order.id]
                continue
            a.misses += 1
            if a.misses == MAX_LOOKS:
                log.error(
                    "order %s: %s of %s matched shares recorded after %d looks; no longer "
                    "asked about until a restart (its shares stay reserved)",
                    a.order.id,
                    a.recorded,
                    a.order.size_matched,
                    a.misses,
                )
            a.interval = min(a.interval * 2, MAX_SECS)
            a.due = now + a.interval
        return new
