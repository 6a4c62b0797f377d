"""The paper venue's order rules as Polymarket applies them, and order plans (no state, no I/O)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from autotrader.domain.book import BookWalk, OrderBook
from autotrader.domain.fees import FeeSchedule
from autotrader.domain.money import on_tick, price_in_range, round_shares, snap
from autotrader.domain.orders import (
    OrderRequest,
    OrderStatus,
    OrderType,
    ReasonCode,
    Side,
    SubmitResult,
)
from autotrader.venue.paper_book import PaperOrder

CENT = Decimal("0.01")
MIN_MARKETABLE_USD = Decimal(1)  # Polymarket refuses marketable orders under $1 notional


def paper_order_id(client_order_id: str) -> str:
    """The deterministic venue order id of a client order id (so a re-post is a duplicate)."""
    return "paper-" + hashlib.sha256(client_order_id.encode()).hexdigest()[:32]


def refused(
    reason: ReasonCode, message: str, *, order_id: str | None, status: OrderStatus | None = None
) -> SubmitResult:
    """A refusal: ``accepted=False`` with a reason code (status REJECTED unless given)."""
    return SubmitResult(
        accepted=False,
        status=status or OrderStatus.REJECTED,
        venue_order_id=order_id,
        reason=reason,
        message=message,
    )


def check_rules(req: OrderRequest, book: OrderBook, now: datetime) -> tuple[ReasonCode, str] | None:
    """The venue's static order rules: tick, expiry, minimum sizes, post-only."""
    tick = book.tick_size
    if req.price is not None and not (on_tick(req.price, tick) and price_in_range(req.price, tick)):
        return (
            ReasonCode.INVALID_ORDER_MIN_TICK_SIZE,
            f"invalid price ({req.price}), min: {tick} - max: {1 - tick}, min tick size: {tick}",
        )
    if req.expires_at is not None and req.expires_at <= now:
        return ReasonCode.INVALID_ORDER, f"invalid expiration {req.expires_at.isoformat()}: past"
    size = round_shares(req.size) if req.size is not None else None
    usd = snap(req.amount_usd, CENT, "down") if req.amount_usd is not None else None
    if size == 0 or usd == 0:
        return ReasonCode.INVALID_ORDER_MIN_SIZE, "order size rounds to zero"
    if req.order_type.rests and size is not None and req.price is not None:
        return _check_resting(req.side, req.price, size, req.post_only, book)
    if usd is not None:
        notional = usd
    else:
        levels = book.side_levels(req.side)
        ref = req.price if req.price is not None else (levels[0].price if levels else None)
        # Without a price or a book there is nothing to value: the walk kills it instead.
        notional = size * ref if size is not None and ref is not None else MIN_MARKETABLE_USD
    if notional < MIN_MARKETABLE_USD:
        return ReasonCode.INVALID_ORDER_MIN_SIZE, _min_usd_message(req.side, notional)
    return None


def _check_resting(
    side: Side, price: Decimal, size: Decimal, post_only: bool, book: OrderBook
) -> tuple[ReasonCode, str] | None:
    if size < book.min_order_size:
        msg = f"Size ({size}) lower than the minimum: {book.min_order_size}"
        return ReasonCode.INVALID_ORDER_MIN_SIZE, msg
    crosses = book.crosses(side, price)
    if post_only and crosses:
        return ReasonCode.POST_ONLY_WOULD_CROSS, "invalid post-only order: order crosses book"
    if crosses and price * size < MIN_MARKETABLE_USD:
        return ReasonCode.INVALID_ORDER_MIN_SIZE, _min_usd_message(side, price * size)
    return None


def _min_usd_message(side: Side, notional: Decimal) -> str:
    return f"invalid amount for a marketable {side} order (${notional}), min size: $1"


def status_after_submit(req: OrderRequest, po: PaperOrder, walk: BookWalk) -> OrderStatus:
    """Status of an accepted order once its marketable part has executed."""
    if po.remaining == 0 and (req.amount_usd is None or walk.complete):
        return OrderStatus.FILLED
    if req.order_type.rests:
        return OrderStatus.PARTIALLY_FILLED if po.matched > 0 else OrderStatus.LIVE
    return OrderStatus.CANCELED  # FAK: the unfilled remainder is cancelled


@dataclass(frozen=True)
class Plan:
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


def plan_order(
    req: OrderRequest, book: OrderBook, fees: FeeSchedule, oid: str, now: datetime
) -> Plan | SubmitResult:
    """Check ``req`` against the venue's rules and the book; what it would do, or why not."""
    refusal = check_rules(req, book, now)
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
        msg = "no orders found to match with FAK order. FAK orders are partially filled or killed"
        return refused(ReasonCode.FOK_NOT_FILLED, msg, order_id=oid)
    rest = size - walk.shares if req.order_type.rests and size is not None else Decimal(0)
    level_fees = tuple(fees.taker_fee(lv.size, lv.price) for lv in walk.levels)
    rest_fee = fees.maker_fee(rest, req.price) if rest > 0 and req.price else Decimal(0)
    return Plan(size, walk, level_fees, rest, rest_fee)
