"""How an order's state ends an intent, and the trades.jsonl line that records it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from autotrader.domain.fills import Fill
from autotrader.domain.intents import IntentStatus, OrderIntent
from autotrader.domain.orders import OrderStatus
from autotrader.store.repos_trading import StoredOrder

ZERO = Decimal(0)
NOT_FOUND = "ORDER_NOT_FOUND"
NOT_FOUND_TEXT = "not found at the venue after an ambiguous submit"


@dataclass(frozen=True)
class Finish:
    """An intent's terminal status and reason."""

    status: IntentStatus
    code: str
    text: str


class Finished(Exception):
    """Raised inside the order path to end the intent now with ``finish``."""

    def __init__(self, status: IntentStatus, code: str, text: str) -> None:
        super().__init__(text)
        self.finish = Finish(status, code, text)


def fill_summary(fills: list[Fill]) -> tuple[Decimal, Decimal | None, Decimal]:
    """(shares, average price, fees) of ``fills``."""
    shares = sum((f.size for f in fills), ZERO)
    usd = sum((f.notional_usd for f in fills), ZERO)
    fees = sum((f.fee_usd for f in fills), ZERO)
    return shares, (usd / shares if shares else None), fees


def _filled_text(order: StoredOrder, fills: list[Fill]) -> str:
    shares, avg, fees = fill_summary(fills)
    verb = "bought" if order.side.value == "BUY" else "sold"
    if shares < order.size_matched:
        # The venue's answer said how much matched; its trades are recorded when listed.
        return (
            f"{verb} {order.size_matched} shares per the venue's answer ({shares} recorded, "
            f"the rest when its trades are listed), order {order.venue_order_id}"
        )
    at = f" @ avg {avg:.4f}" if avg is not None else ""
    return f"{verb} {shares} shares{at} (fees {fees:.6f}), order {order.venue_order_id}"


def intent_finish(order: StoredOrder, fills: list[Fill]) -> Finish:
    """The intent's end, given its order as last seen and the order's recorded fills."""
    s, matched = order.status, order.size_matched
    if s is OrderStatus.FILLED:
        return Finish(IntentStatus.FILLED, s.value, _filled_text(order, fills))
    if s is OrderStatus.PARTIALLY_FILLED or (s.terminal and matched > 0):
        rest = "rest resting" if s is OrderStatus.PARTIALLY_FILLED else f"rest {s.value.lower()}"
        text = f"{_filled_text(order, fills)}; {rest}"
        return Finish(IntentStatus.PARTIALLY_FILLED, s.value, text)
    if s is OrderStatus.LIVE:
        what = f"{order.side.value} {order.size} @ {order.price}"
        text = f"resting: {what}, order {order.venue_order_id}"
        return Finish(IntentStatus.RESTING, s.value, text)
    if s is OrderStatus.DELAYED:
        text = f"held by the venue's taker delay, order {order.venue_order_id}; watched"
        return Finish(IntentStatus.RESTING, s.value, text)
    if s in (OrderStatus.REJECTED, OrderStatus.CANCELED, OrderStatus.EXPIRED):
        code = order.reason_code or s.value
        return Finish(IntentStatus.REJECTED, code, order.reason_text or f"order {s.value.lower()}")
    return Finish(IntentStatus.FAILED, NOT_FOUND, NOT_FOUND_TEXT)


def journal_record(
    intent: OrderIntent, order: StoredOrder, fills: list[Fill], finish: Finish, at: datetime
) -> dict[str, Any]:
    """One trades.jsonl line for an order result."""
    shares, avg, fees = fill_summary(fills)
    return {
        "ts": at,
        "intent_id": intent.id,
        "order_id": order.id,
        "venue_order_id": order.venue_order_id,
        "strategy": intent.strategy,
        "market": intent.market_slug,
        "outcome": intent.outcome,
        "side": order.side.value,
        "order_type": order.order_type.value,
        "price": order.price,
        "size": order.size,
        "amount_usd": order.amount_usd,
        "order_status": order.status.value,
        "intent_status": finish.status.value,
        "reason_code": finish.code,
        "reason": finish.text,
        "filled_shares": max(shares, order.size_matched),
        "avg_price": avg,
        "fees_usd": fees,
        "trade_ids": [f.trade_id for f in fills],
        # Matched per the venue's answer, trades not listed yet (recorded as fills later).
        "trades_pending": shares < order.size_matched,
    }
