"""The paper venue: real (or simulated) market data, imaginary money.

``PaperVenue`` answers market-data calls from the wrapped ``MarketData`` and executes orders
against the book that source publishes right now: it walks the levels, charges the market's
taker fee, rests GTC/GTD remainders and fills them when a later book crosses them, expires GTD
orders and pays out held tokens when a market resolves. It refuses orders with the same reason
codes the live venue produces, so nothing outside ``venue/`` can tell it apart.

State (orders, fills, payouts; cash and positions are summed from them) is kept in memory and,
given a ``PaperStore``, written through to it before each call returns — like a real venue, it
remembers what it accepted across an executor restart, so resting paper orders resume and
start-up reconciliation finds them. Resting orders are matched lazily: on ``poll()`` and
whenever an execution call is made.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Literal

from autotrader.clock import Clock
from autotrader.domain.book import OrderBook
from autotrader.domain.fees import FeeSchedule
from autotrader.domain.fills import Fill, Settlement
from autotrader.domain.markets import Market
from autotrader.domain.money import to_decimal
from autotrader.domain.orders import (
    OrderRequest,
    OrderStatus,
    PreparedOrder,
    ReasonCode,
    Side,
    SubmitResult,
    VenueOrder,
)
from autotrader.errors import AutotraderError, DataError
from autotrader.venue.base import MarketData
from autotrader.venue.paper_book import (
    LiquidityTracker,
    MarketDataProxy,
    PaperOrder,
    PaperStore,
    holdings,
)
from autotrader.venue.paper_rules import (
    Plan,
    paper_order_id,
    plan_order,
    refused,
    status_after_submit,
)

log = logging.getLogger("autotrader.venue.paper")
_OrderPred = Callable[[PaperOrder], bool]


class PaperVenue(MarketDataProxy):
    """A full ``Venue``: market data from ``market_data``, execution simulated in memory."""

    def __init__(
        self,
        market_data: MarketData,
        clock: Clock,
        *,
        initial_balance_usd: Decimal = Decimal(1000),
        name: str = "paper",
        store: PaperStore | None = None,
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
        self._store = store
        self._dirty: dict[str, PaperOrder] = {}  # changed since the last save
        self._saved_fills = self._saved_settlements = 0
        if store is not None:
            self._restore(store)

    def _restore(self, store: PaperStore) -> None:
        state = store.load()
        self._orders = {po.venue_order_id: po for po in state.orders}
        self._fills, self._settlements = list(state.fills), list(state.settlements)
        self._saved_fills, self._saved_settlements = len(self._fills), len(self._settlements)
        cash, self._positions = holdings(state)
        self._cash += cash
        resting = sum(1 for po in state.orders if po.is_open)
        log.info("paper venue restored: %d orders (%d resting)", len(state.orders), resting)

    def _save(self) -> None:
        """Write what changed through to the store (called under the lock, before answering)."""
        if self._store is None:
            return
        fills = self._fills[self._saved_fills :]
        settlements = self._settlements[self._saved_settlements :]
        if not (self._dirty or fills or settlements):
            return
        self._store.save(list(self._dirty.values()), fills, settlements)
        self._dirty.clear()
        self._saved_fills, self._saved_settlements = len(self._fills), len(self._settlements)

    def _set_status(self, po: PaperOrder, status: OrderStatus) -> None:
        po.status = status
        self._dirty[po.venue_order_id] = po

    # --- Execution ---------------------------------------------------------------------------

    async def prepare(self, req: OrderRequest) -> PreparedOrder:
        """The order with its deterministic id; nothing is sent or reserved."""
        return PreparedOrder(req, paper_order_id(req.client_order_id), payload=None)

    async def post(self, order: PreparedOrder) -> SubmitResult:
        """Match ``order`` against the current book; refusals come back as reason codes."""
        async with self._lock:
            books: dict[str, tuple[OrderBook, FeeSchedule]] = {}
            await self._refresh(books)  # the book it read for our token serves this order too
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
            raw, fees = books.get(req.token_id) or await self._book_and_fees(req.token_id)
            book = self._liquidity.effective(raw)
            plan = plan_order(req, book, fees, oid, self._clock.now())
            if isinstance(plan, SubmitResult):
                return plan
            refusal = self._check_balance(req, plan, oid)
            if refusal is not None:
                return refusal
            result = self._execute(order, plan, raw)
            self._save()  # the venue remembers an order before it answers
            return result

    async def cancel(self, venue_order_id: str) -> bool:
        """Cancel a resting order; False if unknown or no longer open."""
        async with self._lock:
            await self._refresh()
            po = self._orders.get(venue_order_id)
            if po is None or not po.is_open:
                return False
            self._set_status(po, OrderStatus.CANCELED)
            self._save()
            return True

    async def cancel_all(self) -> list[str]:
        """Cancel every resting order; the ids cancelled."""
        async with self._lock:
            await self._refresh()
            ids = self._cancel_where(lambda po: True)
            self._save()
            return ids

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
            self._save()
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
                self._set_status(po, OrderStatus.CANCELED)
                ids.append(po.venue_order_id)
        return ids

    def _check_balance(self, req: OrderRequest, plan: Plan, oid: str) -> SubmitResult | None:
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

    def _execute(self, order: PreparedOrder, plan: Plan, raw: OrderBook) -> SubmitResult:
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
        self._set_status(po, status_after_submit(req, po, walk))
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

    async def _book_and_fees(self, token_id: str) -> tuple[OrderBook, FeeSchedule]:
        return await self._md.book(token_id), await self._md.fee_schedule(token_id)

    async def _refresh(
        self, books: dict[str, tuple[OrderBook, FeeSchedule]] | None = None
    ) -> list[Fill]:
        """Expire due GTD orders, then fill resting orders the current books cross; the
        books read are left in ``books``."""
        now = self._clock.now()
        for po in self._open():
            if po.expired_at(now):
                self._set_status(po, OrderStatus.EXPIRED)
        by_token: dict[str, list[PaperOrder]] = defaultdict(list)
        for po in self._open():
            by_token[po.token_id].append(po)
        new: list[Fill] = []
        for token_id, orders in by_token.items():
            try:
                raw, fees = await self._book_and_fees(token_id)
            except AutotraderError as exc:
                # One token's missing book must not block the venue; try again next time.
                log.warning("paper: cannot match resting orders on %s: %s", token_id, exc)
                continue
            if books is not None:
                books[token_id] = (raw, fees)
            new.extend(self._match_resting(raw, fees, orders))
        self._save()
        return new

    def _match_resting(
        self, raw: OrderBook, fees: FeeSchedule, orders: list[PaperOrder]
    ) -> list[Fill]:
        new = []
        # Price priority (best first), then time: the order the venue's engine would fill.
        orders = sorted(
            orders, key=lambda po: (-po.price if po.side is Side.BUY else po.price, po.created_at)
        )
        book = self._liquidity.effective(raw)  # again only after a fill consumed some of it
        for po in orders:
            if not book.crosses(po.side, po.price):
                continue
            walk = book.walk(po.side, shares=po.remaining, limit_price=po.price)
            if walk.shares == 0:
                continue
            self._liquidity.consume(raw, po.side, walk.levels)
            book = self._liquidity.effective(raw)
            # A resting order is the maker: it trades at its own price and pays no taker fee.
            fee = fees.maker_fee(walk.shares, po.price)
            new.append(self._record_fill(po, po.price, walk.shares, fee, "maker"))
            done = po.remaining == 0
            self._set_status(po, OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED)
        return new
