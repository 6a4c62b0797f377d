"""A venue that answers from a script, for unit tests of the order path and the reconciler.

``ScriptedVenue`` implements the ``Venue`` protocol (venue/base.py) over one market with two
tokens and a fixed book. Each ``post`` takes the next step of ``script`` (``fill`` when the
script is empty):

    fill        accepted and fully matched at the order's price (one trade)
    matched     as ``fill``, answered as a live venue does: "matched" with the amounts and no
                trades; the trade is listed (``fills_since``) only after ``list_held()``
    partial     accepted, half matched (one trade), the rest resting (limit) or killed (market)
    rest        accepted, resting, nothing matched
    refused     answered ``accepted=False`` with ``refusal`` (default NOT_ENOUGH_BALANCE)
    post_only   answered ``accepted=False, reason=POST_ONLY_PERIOD`` (after an engine restart)
    425 / 429 / 500
                ``VenueUnavailable`` (engine restart / throttled with ``retry_after`` / server)
    timeout     ``AmbiguousSubmit``; the order never reached the venue
    lost        the order is placed (as ``fill``) and then ``AmbiguousSubmit``: accepted, but
                the answer never arrived

Every call to ``post`` is logged in ``posts`` (the venue order id sent), so a test can say how
often an order went out; ``accepted`` lists the orders the venue holds, by id. ``read_failures``
makes the next N lookups (``order``, ``fills_since``, ``open_orders``) raise
``VenueUnavailable``. Nothing sleeps: the venue answers at once.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import deque
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from autotrader.clock import Clock
from autotrader.domain.book import Level, OrderBook
from autotrader.domain.fees import FeeSchedule
from autotrader.domain.fills import Fill
from autotrader.domain.markets import Event, Market, MarketQuery, OutcomeToken
from autotrader.domain.orders import (
    OrderRequest,
    OrderStatus,
    OrderType,
    PreparedOrder,
    ReasonCode,
    Side,
    SubmitResult,
    VenueOrder,
)
from autotrader.venue.errors import AmbiguousSubmit, VenueUnavailable

UP, DOWN = "tok-up", "tok-down"
SLUG = "btc-updown-15m-1767225600"
TICK = Decimal("0.01")
STEPS = (
    "fill",
    "matched",
    "partial",
    "rest",
    "refused",
    "post_only",
    "425",
    "429",
    "500",
    "timeout",
    "lost",
)


def scripted_market(slug: str = SLUG) -> Market:
    """The venue's one market: Up / Down, tick 0.01, minimum 5 shares, no fees."""
    return Market(
        id="m1",
        condition_id="0xc1",
        slug=slug,
        question="Bitcoin Up or Down?",
        tokens=(OutcomeToken("Up", UP, None), OutcomeToken("Down", DOWN, None)),
        tick_size=TICK,
        min_order_size=Decimal(5),
        neg_risk=False,
        fees=FeeSchedule(),
        start_date=None,
        end_date=None,
        active=True,
        closed=False,
        accepting_orders=True,
    )


class ScriptedVenue:
    """A ``Venue`` whose order answers follow ``script`` (see the module docstring)."""

    name = "scripted"

    def __init__(self, clock: Clock, script: Iterable[str] = (), *, retry_after: float = 1) -> None:
        self._clock = clock
        self.script: deque[str] = deque()
        self.extend(script)
        self.retry_after = retry_after
        self.refusal = ReasonCode.NOT_ENOUGH_BALANCE
        self.market = scripted_market()
        self.posts: list[str] = []
        self.orders: dict[str, VenueOrder] = {}
        self.fills: list[Fill] = []
        self.held: list[Fill] = []  # matched, not listed yet (step ``matched``)
        self.read_failures = 0
        self._ids = itertools.count(1)

    def extend(self, steps: Iterable[str]) -> None:
        """Append ``steps`` to the script (each one of ``STEPS``)."""
        for step in steps:
            if step not in STEPS:
                raise ValueError(f"unknown script step {step!r}; one of {STEPS}")
            self.script.append(step)

    @property
    def accepted(self) -> list[str]:
        """Ids of every order the venue holds (any status)."""
        return list(self.orders)

    # --- MarketData ---------------------------------------------------------------------------

    async def market_by_slug(self, slug: str) -> Market | None:
        """The one market, by its slug."""
        return self.market if slug == self.market.slug else None

    async def market_by_id(self, market_id: str) -> Market | None:
        """The one market, by its id."""
        return self.market if market_id == self.market.id else None

    async def markets(self, q: MarketQuery) -> list[Market]:
        """The one market if it matches."""
        return [self.market] if q.matches(self.market) else []

    async def event_by_slug(self, slug: str) -> Event | None:
        """No events."""
        return None

    async def book(self, token_id: str) -> OrderBook:
        """A deep book around 0.50 (asks 0.51, bids 0.49)."""
        return OrderBook(
            token_id=token_id,
            bids=(Level(Decimal("0.49"), Decimal(10_000)),),
            asks=(Level(Decimal("0.51"), Decimal(10_000)),),
            tick_size=TICK,
            min_order_size=Decimal(5),
            ts=self._clock.now(),
        )

    async def midpoint(self, token_id: str) -> Decimal | None:
        """0.50."""
        return Decimal("0.50")

    async def price_history(
        self, token_id: str, *, start: datetime, end: datetime, fidelity_mins: int = 1
    ) -> list[tuple[datetime, Decimal]]:
        """No history."""
        return []

    async def tick_size(self, token_id: str) -> Decimal:
        """0.01."""
        return TICK

    async def fee_schedule(self, token_id: str) -> FeeSchedule:
        """Free."""
        return self.market.fees

    async def resolution(self, market: Market) -> str | None:
        """Never resolved."""
        return None

    # --- Execution ----------------------------------------------------------------------------

    async def prepare(self, req: OrderRequest) -> PreparedOrder:
        """A fresh hash-like id per prepared order (as signing with a new salt gives)."""
        return PreparedOrder(req, f"0xhash{next(self._ids):04d}", payload=None)

    async def post(self, order: PreparedOrder) -> SubmitResult:
        """The next scripted answer (see the module docstring)."""
        oid = order.venue_order_id
        self.posts.append(oid)
        step = self.script.popleft() if self.script else "fill"
        if step in ("425", "429", "500"):
            raise _unavailable(step, self.retry_after)
        if step == "timeout":
            raise AmbiguousSubmit("read timed out", venue_order_id=oid, cause="timeout")
        if step in ("refused", "post_only"):
            reason = ReasonCode.POST_ONLY_PERIOD if step == "post_only" else self.refusal
            return SubmitResult(False, OrderStatus.REJECTED, oid, reason, f"scripted {step}")
        result = self.place(order.request, oid, step)
        if step == "matched":
            self.held.append(self.fills.pop())
            shares = result.filled_size
            usd = shares * (order.request.price or Decimal("0.51"))
            return dataclasses.replace(result, fills=(), matched_shares=shares, matched_usd=usd)
        if step == "lost":
            raise AmbiguousSubmit("connection closed", venue_order_id=oid, cause="lost")
        return result

    def place(self, req: OrderRequest, oid: str, step: str = "fill") -> SubmitResult:
        """Accept ``req`` as ``oid`` (``fill``/``lost``, ``partial`` or ``rest``); record it."""
        price = req.price if req.price is not None else Decimal("0.51")
        size = req.size if req.size is not None else (req.amount_usd or Decimal(0)) / price
        size = size.quantize(Decimal("0.01"))
        matched = {"partial": (size / 2).quantize(Decimal("0.01")), "rest": Decimal(0)}.get(
            step, size
        )
        if matched == size:
            status = OrderStatus.FILLED
        elif req.order_type.rests:
            status = OrderStatus.PARTIALLY_FILLED if matched else OrderStatus.LIVE
        else:
            status = OrderStatus.CANCELED
        fills: tuple[Fill, ...] = ()
        if matched > 0:
            fill = Fill(f"trade-{oid}", oid, req.token_id, req.side, price, matched,
                        Decimal(0), self._clock.now(), "taker")  # fmt: skip
            self.fills.append(fill)
            fills = (fill,)
        self.orders[oid] = VenueOrder(oid, req.token_id, req.side, price, size, matched, status,
                                      req.order_type, self._clock.now())  # fmt: skip
        return SubmitResult(True, status, oid, None, f"scripted {step}", fills)

    def list_held(self) -> None:
        """List the trades of ``matched`` answers (a live venue does within a second)."""
        self.fills.extend(self.held)
        self.held.clear()

    def adopt_foreign(self, oid: str, size: Decimal = Decimal(10)) -> VenueOrder:
        """An order resting at the venue that the database does not know (placed elsewhere)."""
        seen = VenueOrder(oid, UP, Side.BUY, Decimal("0.40"), size, Decimal(0),
                          OrderStatus.LIVE, OrderType.GTC, self._clock.now())  # fmt: skip
        self.orders[oid] = seen
        return seen

    def _read(self) -> None:
        if self.read_failures > 0:
            self.read_failures -= 1
            raise VenueUnavailable("scripted read failure", kind="server", status=500)

    async def cancel(self, venue_order_id: str) -> bool:
        """Cancel a resting order."""
        seen = self.orders.get(venue_order_id)
        if seen is None or seen.status.terminal:
            return False
        self.orders[venue_order_id] = _with_status(seen, OrderStatus.CANCELED)
        return True

    async def cancel_all(self) -> list[str]:
        """Cancel every resting order."""
        ids = [oid for oid, o in self.orders.items() if not o.status.terminal]
        for oid in ids:
            await self.cancel(oid)
        return ids

    async def order(self, venue_order_id: str) -> VenueOrder | None:
        """The order as the venue holds it, None if it never arrived."""
        self._read()
        return self.orders.get(venue_order_id)

    async def open_orders(self) -> list[VenueOrder]:
        """Orders still resting."""
        self._read()
        open_ = (OrderStatus.LIVE, OrderStatus.PARTIALLY_FILLED, OrderStatus.DELAYED)
        return [o for o in self.orders.values() if o.status in open_]

    async def fills_since(self, since: datetime) -> list[Fill]:
        """Every trade at or after ``since``."""
        self._read()
        return [f for f in self.fills if f.ts >= since]

    async def balance_usd(self) -> Decimal:
        """Plenty."""
        return Decimal(1_000_000)


def _with_status(seen: VenueOrder, status: OrderStatus) -> VenueOrder:
    return VenueOrder(seen.venue_order_id, seen.token_id, seen.side, seen.price,
                      seen.original_size, seen.size_matched, status, seen.order_type,
                      seen.created_at)  # fmt: skip


def _unavailable(step: str, retry_after: float) -> VenueUnavailable:
    if step == "425":
        return VenueUnavailable("engine restarting", kind="engine_restart", status=425)
    if step == "429":
        return VenueUnavailable(
            "too many requests", kind="throttled", status=429, retry_after_secs=retry_after
        )
    return VenueUnavailable("internal server error", kind="server", status=500)
