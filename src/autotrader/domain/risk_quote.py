"""Pricing an intent against the book for the risk check: price, size, notional, fee bound.

A quote is what the order will be (tick-snapped price, 0.01-share size or cent amount) and an
upper bound of what it can cost; or the venue-rule reason it cannot be placed (OFF_TICK,
NO_LIQUIDITY, BELOW_VENUE_MINIMUM).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from autotrader.domain.book import OrderBook
from autotrader.domain.fees import FeeSchedule
from autotrader.domain.intents import CENT, IntentKind, OrderIntent, worst_price
from autotrader.domain.money import round_shares, snap
from autotrader.domain.orders import Side
from autotrader.domain.risk_limits import (
    VENUE_MIN_MARKETABLE_USD,
    VENUE_MIN_RESTING_SHARES,
    RiskReason,
)

HALF = Decimal("0.5")


@dataclass(frozen=True)
class Quote:
    """The order to send: ``price`` is the limit (or worst) price; exactly one of ``shares``
    and ``amount_usd`` (a market BUY by USD) is set. ``notional_usd`` bounds the USD spent
    (BUY) or is size × worst price (SELL); ``max_fee_usd`` bounds the taker fee."""

    price: Decimal
    shares: Decimal | None
    amount_usd: Decimal | None
    notional_usd: Decimal
    max_fee_usd: Decimal


Refusal = tuple[RiskReason, str]


def fee_bound(fees: FeeSchedule, shares: Decimal, lo: Decimal, hi: Decimal) -> Decimal:
    """The largest taker fee for ``shares`` filled anywhere in [lo, hi] (p(1−p) peaks at 0.5).

    A cent is added when a fee is charged at all: the venue rounds each fill's fee to 1e-6, so
    an order filled in many pieces can pay a few millionths more than one fee on the total.
    """
    lo, hi = min(lo, hi), max(lo, hi)
    fee = fees.taker_fee(shares, min(max(HALF, lo), hi))
    return fee + CENT if fee > 0 else fee


def quote(
    intent: OrderIntent,
    book: OrderBook | None,
    fees: FeeSchedule,
    max_slippage: Decimal,
    *,
    shares: Decimal | None = None,
) -> Quote | Refusal:
    """Price ``intent`` (``shares`` overrides its size: an exit capped to the held shares)."""
    if book is None:
        return RiskReason.NO_LIQUIDITY, f"no order book for token {intent.token_id}"
    if book.token_id != intent.token_id:
        raise ValueError(f"book is for {book.token_id}, intent {intent.id} for {intent.token_id}")
    levels = book.side_levels(intent.side)
    ref = levels[0].price if levels else None
    if intent.is_market and intent.limit_price is None and ref is None:
        side = "asks" if intent.side is Side.BUY else "bids"
        return RiskReason.NO_LIQUIDITY, f"no {side} for token {intent.token_id}"
    try:
        price = worst_price(intent, book.tick_size, reference_price=ref, max_slippage=max_slippage)
    except ValueError as exc:
        return RiskReason.OFF_TICK, str(exc)
    size = round_shares(shares) if shares is not None else None
    if intent.kind is IntentKind.LIMIT:
        return _limit(intent, book, fees, price, size)
    if intent.amount_usd is not None and size is None:
        return _market_usd(intent.amount_usd, book, fees, price)
    if size is None:
        assert intent.shares is not None  # exactly one of amount_usd and shares (OrderIntent)
        size = round_shares(intent.shares)
    return _market_shares(intent.side, size, book, fees, price)


def _limit(
    intent: OrderIntent, book: OrderBook, fees: FeeSchedule, price: Decimal, size: Decimal | None
) -> Quote | Refusal:
    if size is None:
        raw = intent.shares if intent.shares is not None else (intent.amount_usd or 0) / price
        size = round_shares(raw)
    minimum = max(book.min_order_size, VENUE_MIN_RESTING_SHARES)
    if size < minimum:
        return RiskReason.BELOW_VENUE_MINIMUM, (
            f"limit order of {size} shares < venue minimum {minimum} shares"
        )
    # A BUY fills at or below its limit, a SELL at or above (it may take liquidity when placed).
    if intent.side is Side.BUY:
        fee = fee_bound(fees, size, book.tick_size, price)
    else:
        fee = fee_bound(fees, size, price, 1 - book.tick_size)
    return Quote(price, size, None, size * price, fee)


def _below_marketable(usd: Decimal) -> Refusal | None:
    if usd >= VENUE_MIN_MARKETABLE_USD:
        return None
    return RiskReason.BELOW_VENUE_MINIMUM, (
        f"marketable order of {usd:.2f} USD < venue minimum {VENUE_MIN_MARKETABLE_USD:.2f} USD"
    )


def _market_usd(
    amount: Decimal, book: OrderBook, fees: FeeSchedule, price: Decimal
) -> Quote | Refusal:
    amount = snap(amount, CENT, "down")
    refusal = _below_marketable(amount)
    if refusal is not None:
        return refusal
    walk = book.walk(Side.BUY, usd=amount, limit_price=price)
    if not walk.complete or walk.shares <= 0:
        return RiskReason.NO_LIQUIDITY, (
            f"asks up to {price} hold only {walk.usd:.2f} of {amount:.2f} USD (fill-or-kill)"
        )
    best = book.asks[0].price
    return Quote(price, None, amount, amount, fee_bound(fees, walk.shares, best, price))


def _sell_floor(size: Decimal, book: OrderBook, price: Decimal) -> Decimal:
    """A market SELL's worst price, raised (never above the best bid) until the order's
    notional meets the venue's marketable minimum. The slippage floor of a cheap position
    (bid 0.035 − slippage → 0.001) would otherwise price 166 shares at 0.17 USD and the venue
    minimum would refuse every stop-loss of it, although the bids are worth 5.8 USD."""
    if size <= 0 or not book.bids or size * price >= VENUE_MIN_MARKETABLE_USD:
        return price
    best = book.bids[0].price
    if size * best < VENUE_MIN_MARKETABLE_USD:
        return price  # even the best bid is below the minimum: refused as before
    return min(best, max(price, snap(VENUE_MIN_MARKETABLE_USD / size, book.tick_size, "up")))


def _market_shares(
    side: Side, size: Decimal, book: OrderBook, fees: FeeSchedule, price: Decimal
) -> Quote | Refusal:
    if side is Side.SELL:
        price = _sell_floor(size, book, price)
    refusal = _below_marketable(size * price)
    if refusal is not None:
        return refusal
    walk = book.walk(side, shares=size, limit_price=price)
    if side is Side.BUY and walk.shares < size:
        # FOK: the whole size must be there within the worst price.
        return RiskReason.NO_LIQUIDITY, (
            f"asks up to {price} hold only {walk.shares} of {size} shares (fill-or-kill)"
        )
    if walk.shares <= 0:
        return RiskReason.NO_LIQUIDITY, f"no bids at or above {price}"
    best = book.side_levels(side)[0].price
    return Quote(price, size, None, size * price, fee_bound(fees, size, best, price))
