"""The paper venue: real (or simulated) market data, imaginary money.

``PaperVenue`` answers market-data calls from the wrapped ``MarketData`` and executes orders
against the book that source publishes right now: it walks the levels, charges the market's
taker fee, rests GTC/GTD remainders and fills them when a later book crosses them, expires GTD
orders and pays out held tokens when a market resolves. It refuses orders with the same reason
codes the live venue produces, so nothing outside ``venue/`` can tell it apart.

State (cash, positions, orders, fills) lives in memory only; issue 4 persists it.
Resting orders are matched lazily: on ``poll()`` and whenever an execution call is made.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from autotrader.clock import Clock
from autotrader.domain.book import BookWalk, OrderBook
from autotrader.domain.fees import FeeSchedule
from autotrader.domain.fills import Fill, Settlement
from autotrader.domain.markets import Event, Market, MarketQuery
from autotrader.domain.money import round_shares, snap, to_decimal
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
from autotrader.errors import AutotraderError, DataError
from autotrader.venue.base import MarketData
from autotrader.venue.paper_book import LiquidityTracker, PaperOrder
from autotrader.venue.paper_rules import (
    CENT,
    check_rules,
    paper_order_id,
    refused,
    status_after_submit,
)

log = logging.getLogger("autotrader.venue.paper")
_OrderPred = Callable[[PaperOrder], bool]


@dataclass(frozen=True)
class _Plan:
    """What a checked order will do: take ``walk`` now, rest ``rest`` shares."""

    size: Decimal | None
    walk: BookWalk
    level_fees: tuple[Decimal, ...]  # taker fee per level taken
    rest: Decimal
    rest_fee: Decimal  # maker fee the resting part would pay (0 under a taker-only schedule)

    @property
    def taker_fee(self) -> Decimal:
        """Total taker fee of the part that executes now."""
        return sum(self.level_fees, Decimal(0))


class PaperVenue:
    """A full ``Venue``: market data from ``market_data``, execution simulated in memory."""

    def __init__(
        self,
        market_data: MarketData,
        clock: Clock,
        *,
        initial_balance_usd: Decimal = Decimal(1000),
        name: str = "paper",
    ) -> None:
        self.name = name
        self._md = market_data
        self._clock = clock
        self._cash = to_decimal(initial_balance_usd)
        if self._cash < 0:
            raise ValueError(f"initial balance must be >= 0 (got {self._cash})")
        self._positions: dict[str, Decimal] = {}
        self._orders: dict[str, PaperOrder] = {}
        self._fills: list[Fill] = []
        self._settlements: list[Settlement] = []
        self._liquidity = LiquidityTracker()
        # Every state change happens under this lock: a post awaits the book mid-way, and two
        # interleaved posts must not both spend the same balance.
        self._lock = asyncio.Lock()

    # --- MarketData: delegated unchanged -----------------------------------------------------

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

    # --- Execution ---------------------------------------------------------------------------

    async def prepare(self, req: OrderRequest) -> PreparedOrder:
        """The order with its deterministic id; nothing is sent or reserved."""
        return PreparedOrder(req, paper_order_id(req.client_order_id), payload=None)

    async def post(self, order: PreparedOrder) -> SubmitResult:
        """Match ``order`` against the current book; refusals come back as reason codes."""
        async with self._lock:
            await self._refresh()
            oid = order.venue_order_id
            existing = self._orders.get(oid)
            if existing is not None:
                # The original's status, so a caller re-posting after a timeout learns its fate.
                msg = f"order {oid} was already posted"
                return refused(
                    ReasonCode.DUPLICATE_ORDER, msg, order_id=oid, status=existing.status
                )
            if oid != paper_order_id(order.request.client_order_id):
                msg = f"order id {oid} does not belong to {order.request.client_order_id}"
                return refused(ReasonCode.INVALID_ORDER, msg, order_id=oid)
            req = order.request
            raw = await self._md.book(req.token_id)
            fees = await self._md.fee_schedule(req.token_id)
            plan = self._plan(req, self._liquidity.effective(raw), fees, oid)
            if isinstance(plan, SubmitResult):
                return plan
            refusal = self._check_balance(req, plan, oid)
            if refusal is not None:
                return refusal
            return self._execute(order, plan, raw)

    async def cancel(self, venue_order_id: str) -> bool:
        """Cancel a resting order; False if unknown or no longer open."""
        async with self._lock:
            await self._refresh()
            po = self._orders.get(venue_order_id)
            if po is None or not po.is_open:
                return False
            po.status = OrderStatus.CANCELED
            return True

    async def cancel_all(self) -> list[str]:
        """Cancel every resting order; the ids cancelled."""
        async with self._lock:
            await self._refresh()
            return self._cancel_where(lambda po: True)

    async def order(self, venue_order_id: str) -> VenueOrder | None:
        """The order as the paper venue sees it, None if it never accepted it."""
        async with self._lock:
            await self._refresh()
            po = self._orders.get(venue_order_id)
            return None if po is None else po.to_venue_order()

    async def open_orders(self) -> list[VenueOrder]:
        """Resting orders, oldest first."""
        async with self._lock:
            await self._refresh()
            return [po.to_venue_order() for po in self._orders.values() if po.is_open]

    async def fills_since(self, since: datetime) -> list[Fill]:
        """Fills at or after ``since``, oldest first."""
        async with self._lock:
            await self._refresh()
            return [f for f in self._fills if f.ts >= since]

    async def balance_usd(self) -> Decimal:
        """USD held. As on Polymarket, resting BUY orders do not reduce it (see available_usd)."""
        async with self._lock:
            await self._refresh()
            return self._cash

    async def poll(self) -> list[Fill]:
        """Expire due GTD orders and fill resting orders the current books cross; new fills."""
        async with self._lock:
            return await self._refresh()

    async def settle(self, market: Market) -> list[Settlement]:
        """Pay held tokens of a resolved ``market`` 1 (winner) or 0; [] while unresolved.

        Open orders on the market are cancelled first. Settling twice pays nothing twice: the
        settled positions are gone.
        """
        async with self._lock:
            winner = await self._md.resolution(market)
            if winner is None:
                return []
            if not any(t.outcome.lower() == winner.lower() for t in market.tokens):
                raise DataError(f"market {market.slug} resolved to unknown outcome {winner!r}")
            tokens = set(market.token_ids)
            self._cancel_where(lambda po: po.token_id in tokens)
            now = self._clock.now()
            out: list[Settlement] = []
            for tok in market.tokens:
                shares = self._positions.pop(tok.token_id, Decimal(0))
                if shares <= 0:
                    continue
                payout = Decimal(1) if tok.outcome.lower() == winner.lower() else Decimal(0)
                s = Settlement(market.id, tok.token_id, tok.outcome, shares, payout, now)
                self._cash += s.payout_usd
                out.append(s)
            self._settlements.extend(out)
            return out

    # --- Inspection (paper only; not part of the protocol) -----------------------------------

    def positions(self) -> dict[str, Decimal]:
        """Shares held per token (non-zero only)."""
        return {t: s for t, s in self._positions.items() if s != 0}

    def available_usd(self) -> Decimal:
        """USD not promised to resting BUY orders."""
        return self._cash - sum(
            (po.remaining * po.price for po in self._open(Side.BUY)), Decimal(0)
        )

    def available_shares(self, token_id: str) -> Decimal:
        """Shares of ``token_id`` not promised to resting SELL orders."""
        held = self._positions.get(token_id, Decimal(0))
        return held - sum(
            (po.remaining for po in self._open(Side.SELL) if po.token_id == token_id), Decimal(0)
        )

    def settlements(self) -> list[Settlement]:
        """Every settlement paid so far."""
        return list(self._settlements)

    # --- internals ---------------------------------------------------------------------------

    def _open(self, side: Side | None = None) -> list[PaperOrder]:
        return [
            po for po in self._orders.values() if po.is_open and (side is None or po.side is side)
        ]

    def _cancel_where(self, pred: _OrderPred) -> list[str]:
        ids = []
        for po in self._open():
            if pred(po):
                po.status = OrderStatus.CANCELED
                ids.append(po.venue_order_id)
        return ids

    def _plan(
        self, req: OrderRequest, book: OrderBook, fees: FeeSchedule, oid: str
    ) -> _Plan | SubmitResult:
        """Check ``req`` against the venue's rules and the book; what it would do, or why not."""
        refusal = check_rules(req, book, self._clock.now())
        if refusal is not None:
            reason, msg = refusal
            return refused(reason, msg, order_id=oid)
        size = round_shares(req.size) if req.size is not None else None
        usd = snap(req.amount_usd, CENT, "down") if req.amount_usd is not None else None
        walk = book.walk(req.side, shares=size, usd=usd, limit_price=req.price)
        if req.order_type is OrderType.FOK and not walk.complete:
            msg = (
                "order couldn't be fully filled. FOK orders are fully filled or killed. "
                f"(available {walk.shares} shares)"
            )
            return refused(ReasonCode.FOK_NOT_FILLED, msg, order_id=oid)
        if req.order_type is OrderType.FAK and walk.shares == 0:
            msg = (
                "no orders found to match with FAK order. FAK orders are partially filled or killed"
            )
            return refused(ReasonCode.FOK_NOT_FILLED, msg, order_id=oid)
        rest = size - walk.shares if req.order_type.rests and size is not None else Decimal(0)
        level_fees = tuple(fees.taker_fee(lv.size, lv.price) for lv in walk.levels)
        rest_fee = fees.maker_fee(rest, req.price) if rest > 0 and req.price else Decimal(0)
        return _Plan(size, walk, level_fees, rest, rest_fee)

    def _check_balance(self, req: OrderRequest, plan: _Plan, oid: str) -> SubmitResult | None:
        """USD for a BUY (taker cost, fees, the resting part at its limit); shares for a SELL."""
        if req.side is Side.BUY:
            rest_cost = plan.rest * (req.price or Decimal(0)) + plan.rest_fee
            need, have = plan.walk.usd + plan.taker_fee + rest_cost, self.available_usd()
        else:
            need, have = plan.size or Decimal(0), self.available_shares(req.token_id)
            # Proceeds cover the fee under any sane rate; refuse rather than go negative.
            if self._cash + plan.walk.usd < plan.taker_fee:
                need, have = plan.taker_fee, self._cash + plan.walk.usd
        if need > have:
            msg = f"not enough balance / allowance: need {need}, available {have}"
            return refused(ReasonCode.NOT_ENOUGH_BALANCE, msg, order_id=oid)
        return None

    def _execute(self, order: PreparedOrder, plan: _Plan, raw: OrderBook) -> SubmitResult:
        req, walk = order.request, plan.walk
        worst = walk.levels[-1].price if walk.levels else Decimal(0)
        po = PaperOrder(
            request=req,
            venue_order_id=order.venue_order_id,
            price=req.price if req.price is not None else worst,
            size=plan.size if plan.size is not None else walk.shares,
            status=OrderStatus.SUBMITTED,
            created_at=self._clock.now(),
        )
        self._orders[po.venue_order_id] = po
        self._liquidity.consume(raw, req.side, walk.levels)
        fills = []
        for lv, fee in zip(walk.levels, plan.level_fees, strict=True):
            fills.append(self._record_fill(po, lv.price, lv.size, fee, "taker"))
        po.status = status_after_submit(req, po, walk)
        msg = f"{po.status.lower()}: matched {po.matched} of {po.size} shares"
        return SubmitResult(True, po.status, po.venue_order_id, None, msg, tuple(fills))

    def _record_fill(
        self,
        po: PaperOrder,
        price: Decimal,
        size: Decimal,
        fee: Decimal,
        liquidity: Literal["taker", "maker"],
    ) -> Fill:
        po.n_fills += 1
        fill = Fill(
            trade_id=f"{po.venue_order_id}-{po.n_fills}",
            venue_order_id=po.venue_order_id,
            token_id=po.token_id,
            side=po.side,
            price=price,
            size=size,
            fee_usd=fee,
            ts=self._clock.now(),
            liquidity=liquidity,
        )
        self._cash += fill.cash_delta_usd
        self._positions[po.token_id] = self._positions.get(po.token_id, Decimal(0)) + (
            fill.share_delta
        )
        po.matched += size
        self._fills.append(fill)
        return fill

    async def _refresh(self) -> list[Fill]:
        """Expire due GTD orders, then fill resting orders the current books cross."""
        now = self._clock.now()
        for po in self._open():
            if po.expired_at(now):
                po.status = OrderStatus.EXPIRED
        by_token: dict[str, list[PaperOrder]] = defaultdict(list)
        for po in self._open():
            by_token[po.token_id].append(po)
        new: list[Fill] = []
        for token_id, orders in by_token.items():
            try:
                raw = await self._md.book(token_id)
                fees = await self._md.fee_schedule(token_id)
            except AutotraderError as exc:
                # One token's missing book must not block the venue; try again next time.
                log.warning("paper: cannot match resting orders on %s: %s", token_id, exc)
                continue
            new.extend(self._match_resting(raw, fees, orders))
        return new

    def _match_resting(
        self, raw: OrderBook, fees: FeeSchedule, orders: list[PaperOrder]
    ) -> list[Fill]:
        new = []
        # Price priority (best first), then time: the order the venue's engine would fill.
        orders = sorted(
            orders, key=lambda po: (-po.price if po.side is Side.BUY else po.price, po.created_at)
        )
        for po in orders:
            book = self._liquidity.effective(raw)
            if not book.crosses(po.side, po.price):
                continue
            walk = book.walk(po.side, shares=po.remaining, limit_price=po.price)
            if walk.shares == 0:
                continue
            self._liquidity.consume(raw, po.side, walk.levels)
            # A resting order is the maker: it trades at its own price and pays no taker fee.
            fee = fees.maker_fee(walk.shares, po.price)
            new.append(self._record_fill(po, po.price, walk.shares, fee, "maker"))
            po.status = OrderStatus.FILLED if po.remaining == 0 else OrderStatus.PARTIALLY_FILLED
        return new
