"""Wire→domain for orders, trades, the post-order answer, cancels and the balance.

Re-exported by ``parsing`` (the one place callers import translators from). Quirks handled:
order statuses come as ``LIVE``/``MATCHED``/``CANCELED``/…, sometimes prefixed
(``ORDER_STATUS_LIVE``) or suffixed with the reason (a killed FOK is
``"CANCELED_order couldn't be fully filled. FOK orders are fully filled or killed."``); a trade
is reported from the taker's point of view, so when we were the maker our side, price and size
are in ``maker_orders[]``; the post-order answer may say ``success: true`` and still carry a
refusal in ``errorMsg``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from autotrader.domain.fees import FeeSchedule
from autotrader.domain.fills import Fill
from autotrader.domain.orders import (
    OrderRequest,
    OrderStatus,
    OrderType,
    ReasonCode,
    Side,
    SubmitResult,
    VenueOrder,
)
from autotrader.venue.polymarket.parsing import read_side
from autotrader.venue.polymarket.reasons import reason_from_message
from autotrader.venue.polymarket.schemas_base import data_error, validate, validate_list
from autotrader.venue.polymarket.schemas_orders import (
    ClobBalanceAllowance,
    ClobCancelResponse,
    ClobMakerOrder,
    ClobOrder,
    ClobOrdersPage,
    ClobPostOrderResponse,
    ClobTrade,
    ClobTradesPage,
)

# The CLOB's "no more pages" cursor (base64 of "-1").
END_CURSOR = "LTE="
# USDC (and pUSD) amounts on /balance-allowance are in base units of 6 decimals.
_USDC_UNIT = Decimal(10) ** 6

FeeSource = FeeSchedule | Callable[[str], FeeSchedule]
"""A fee schedule, or a lookup of the schedule for a token id."""


def _order_type(value: str | None, kind: str) -> OrderType | None:
    if not value:
        return None
    try:
        return OrderType(value.strip().upper())
    except ValueError:
        raise data_error(f"{kind}: order_type: unknown {value[:20]!r}") from None


def _next_cursor(cursor: str | None) -> str | None:
    return None if not cursor or cursor == END_CURSOR else cursor


# --- orders --------------------------------------------------------------------------------

_WIRE_STATUS = {
    "LIVE": OrderStatus.LIVE,
    "MATCHED": OrderStatus.FILLED,
    "DELAYED": OrderStatus.DELAYED,
    "CANCELED": OrderStatus.CANCELED,
    "CANCELLED": OrderStatus.CANCELED,
    "EXPIRED": OrderStatus.EXPIRED,
    "INVALID": OrderStatus.REJECTED,
    "UNMATCHED": OrderStatus.LIVE,
}


def order_status(
    wire: str,
    *,
    size_matched: Decimal | None,
    original_size: Decimal,
    order_type: OrderType | None,
    kind: str = "clob order",
) -> OrderStatus:
    """The domain status of an order the venue reports as ``wire``.

    ``LIVE`` with something matched is ``PARTIALLY_FILLED``; ``MATCHED`` short of the full size
    is a FAK whose remainder was killed (``CANCELED``, the fills stand) or a resting order
    (``PARTIALLY_FILLED``); ``CANCELED_<reason>`` (a killed FOK) is ``CANCELED``.
    """
    text = wire.strip().upper().removeprefix("ORDER_STATUS_")
    if text.startswith("CANCEL"):
        text = "CANCELED"
    status = _WIRE_STATUS.get(text)
    if status is None:
        raise data_error(f"{kind}: status: unknown {wire[:40]!r}")
    if text == "UNMATCHED" and order_type in (OrderType.FOK, OrderType.FAK):
        # "marketable, but failure delaying": a taker-only order that did not match is dead.
        return OrderStatus.CANCELED
    matched = size_matched or Decimal(0)
    if status is OrderStatus.LIVE and matched > 0:
        return OrderStatus.PARTIALLY_FILLED
    if status is OrderStatus.FILLED and size_matched is not None and matched < original_size:
        if order_type is OrderType.FAK or order_type is OrderType.FOK:
            return OrderStatus.CANCELED
        return OrderStatus.PARTIALLY_FILLED
    return status


def order_from_clob(o: ClobOrder) -> VenueOrder:
    """A validated CLOB order as a domain ``VenueOrder``."""
    kind = f"clob order {o.id[:20]}"
    order_type = _order_type(o.order_type, kind)
    status = order_status(
        o.status,
        size_matched=o.size_matched,
        original_size=o.original_size,
        order_type=order_type,
        kind=kind,
    )
    matched = o.size_matched
    if matched is None:
        # The venue said "matched" without an amount: it matched in full.
        matched = o.original_size if status is OrderStatus.FILLED else Decimal(0)
    try:
        return VenueOrder(
            venue_order_id=o.id,
            token_id=o.asset_id,
            side=read_side(o.side, kind),
            price=o.price,
            original_size=o.original_size,
            size_matched=matched,
            status=status,
            order_type=order_type,
            created_at=o.created_at,
        )
    except ValueError as exc:
        raise data_error(f"{kind}: {exc}") from None


def parse_order(payload: Any) -> VenueOrder:
    """GET /data/order/{id} (or a user-channel ``order`` message) → ``VenueOrder``."""
    return order_from_clob(validate(ClobOrder, payload, "clob order"))


def parse_orders_page(payload: Any) -> tuple[list[VenueOrder], str | None]:
    """GET /data/orders → (orders, next cursor or None at the end)."""
    page = validate(ClobOrdersPage, payload, "clob orders page")
    return [order_from_clob(o) for o in page.data], _next_cursor(page.next_cursor)


# --- trades --------------------------------------------------------------------------------


def _schedule(fees: FeeSource, token_id: str) -> FeeSchedule:
    return fees if isinstance(fees, FeeSchedule) else fees(token_id)


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.lower() == b.lower()


def _is_ours(mo: ClobMakerOrder, owner: str | None, maker_address: str | None) -> bool:
    return _same(mo.owner, owner) or _same(mo.maker_address, maker_address)


def _maker_fill(t: ClobTrade, mo: ClobMakerOrder, fees: FeeSource, kind: str) -> Fill:
    if mo.side:
        side = read_side(mo.side, kind, "maker_orders.side")
    else:
        # The trade's side is the taker's. A maker on the same token took the other side; a
        # maker on the complementary token (a mint/merge match) traded the same way.
        taker = read_side(t.side, kind)
        side = taker.opposite if mo.asset_id == t.asset_id else taker
    return Fill(
        trade_id=f"{t.id}:{mo.order_id}",
        venue_order_id=mo.order_id,
        token_id=mo.asset_id,
        side=side,
        price=mo.price,
        size=mo.matched_amount,
        fee_usd=_schedule(fees, mo.asset_id).maker_fee(mo.matched_amount, mo.price),
        ts=t.match_time,
        liquidity="maker",
    )


def fill_from_trade(
    t: ClobTrade,
    *,
    fees: FeeSource,
    owner: str | None = None,
    maker_address: str | None = None,
) -> list[Fill]:
    """Our fill(s) in a validated CLOB trade.

    As taker: one fill of the whole trade, fee from the token's schedule. As maker: one fill
    per ``maker_orders[]`` entry that is ours (by API-key ``owner`` or ``maker_address``),
    with trade id ``<trade id>:<order id>``. A ``FAILED`` trade never settled: no fill.
    """
    kind = f"clob trade {t.id[:40]}"
    if t.status.strip().upper().removeprefix("TRADE_STATUS_") == "FAILED":
        return []
    role = (t.trader_side or "").strip().upper()
    if not role:
        role = (
            "TAKER" if _same(t.owner, owner) or _same(t.maker_address, maker_address) else "MAKER"
        )
    try:
        if role == "TAKER":
            return [
                Fill(
                    trade_id=t.id,
                    venue_order_id=t.taker_order_id,
                    token_id=t.asset_id,
                    side=read_side(t.side, kind),
                    price=t.price,
                    size=t.size,
                    fee_usd=_schedule(fees, t.asset_id).taker_fee(t.size, t.price),
                    ts=t.match_time,
                    liquidity="taker",
                )
            ]
        if role != "MAKER":
            raise data_error(f"{kind}: trader_side: expected TAKER or MAKER, got {role[:20]!r}")
        if owner is None and maker_address is None:
            raise data_error(f"{kind}: a maker trade needs owner or maker_address to find ours")
        return [
            _maker_fill(t, mo, fees, kind)
            for mo in t.maker_orders
            if _is_ours(mo, owner, maker_address)
        ]
    except ValueError as exc:
        raise data_error(f"{kind}: {exc}") from None


def parse_trade(
    payload: Any,
    *,
    fees: FeeSource,
    owner: str | None = None,
    maker_address: str | None = None,
) -> list[Fill]:
    """One trade object (/data/trades item, user-channel ``trade``) → our fills."""
    trade = validate(ClobTrade, payload, "clob trade")
    return fill_from_trade(trade, fees=fees, owner=owner, maker_address=maker_address)


def parse_trades_page(
    payload: Any,
    *,
    fees: FeeSource,
    owner: str | None = None,
    maker_address: str | None = None,
) -> tuple[list[Fill], str | None]:
    """GET /data/trades → (our fills in page order, next cursor or None at the end)."""
    page = validate(ClobTradesPage, payload, "clob trades page")
    fills: list[Fill] = []
    for trade in page.data:
        fills.extend(fill_from_trade(trade, fees=fees, owner=owner, maker_address=maker_address))
    return fills, _next_cursor(page.next_cursor)


# --- the post-order answer -----------------------------------------------------------------


def _matched_status(r: ClobPostOrderResponse, request: OrderRequest | None) -> OrderStatus:
    # "matched" does not say whether the whole order matched. FOK is all-or-nothing and a FAK's
    # remainder is killed: both are done. A resting order is done only if the shares matched
    # (taking for a BUY, making for a SELL) cover its size; without the request we cannot
    # tell, and a non-terminal status makes the caller look the order up.
    if request is None:
        return OrderStatus.PARTIALLY_FILLED
    if not request.order_type.rests:
        return OrderStatus.FILLED
    shares = r.taking_amount if request.side is Side.BUY else r.making_amount
    if request.size is not None and shares is not None and shares >= request.size:
        return OrderStatus.FILLED
    return OrderStatus.PARTIALLY_FILLED


def _matched_amounts(
    r: ClobPostOrderResponse, request: OrderRequest | None
) -> tuple[Decimal | None, Decimal | None]:
    # (shares, USD) matched: a BUY makes USD and takes shares, a SELL the other way round.
    # Unknown (None) without the request or without positive amounts.
    if request is None or not r.taking_amount or not r.making_amount:
        return None, None
    if r.taking_amount <= 0 or r.making_amount <= 0:
        return None, None
    if request.side is Side.BUY:
        return r.taking_amount, r.making_amount
    return r.making_amount, r.taking_amount


_ACCEPTED_STATUS = {
    "live": OrderStatus.LIVE,
    "delayed": OrderStatus.DELAYED,
    # "marketable, but failure delaying, placement successful": placed, fate to be looked up.
    "unmatched": OrderStatus.SUBMITTED,
}


def submit_result_from_response(
    r: ClobPostOrderResponse, request: OrderRequest | None = None
) -> SubmitResult:
    """A validated post-order answer as a ``SubmitResult``.

    ``success: false`` — or ``success: true`` with an ``errorMsg`` and no placement status —
    is a refusal with a reason code; ``delayed`` is accepted (held by the taker delay).
    """
    status = r.status.strip().lower()
    message = " ".join(r.error_msg.split())[:300]
    order_id = r.order_id or None
    placed = status == "matched" or status in _ACCEPTED_STATUS
    # A held order is accepted whatever ``success`` says: it may still match.
    if placed and (r.success or status == "delayed"):
        if status != "matched":
            return SubmitResult(True, _ACCEPTED_STATUS[status], order_id, None, message or status)
        shares, usd = _matched_amounts(r, request)
        domain = _matched_status(r, request)
        return SubmitResult(True, domain, order_id, None, message or status, (), shares, usd)
    if r.success and not message:
        # Accepted without saying how: the caller finds out by looking the order up.
        return SubmitResult(True, OrderStatus.SUBMITTED, order_id, None, status or "accepted")
    reason = reason_from_message(message) or ReasonCode.UNKNOWN_VENUE_ERROR
    return SubmitResult(False, OrderStatus.REJECTED, order_id, reason, message or "refused")


def parse_post_order_response(payload: Any, request: OrderRequest | None = None) -> SubmitResult:
    """POST /order answer → ``SubmitResult`` (``request`` refines "matched", see above)."""
    response = validate(ClobPostOrderResponse, payload, "clob post order response")
    return submit_result_from_response(response, request)


def parse_post_orders_response(payload: Any) -> list[SubmitResult]:
    """POST /orders answer (one entry per order, in request order) → ``SubmitResult``s."""
    responses = validate_list(ClobPostOrderResponse, payload, "clob post orders response")
    return [submit_result_from_response(r) for r in responses]


# --- cancels and balance -------------------------------------------------------------------


@dataclass(frozen=True)
class CancelOutcome:
    """What a cancel call did: the ids cancelled and, for the others, the venue's reason."""

    canceled: tuple[str, ...]
    not_canceled: Mapping[str, str] = field(default_factory=dict)

    def reason(self, venue_order_id: str) -> ReasonCode | None:
        """Why ``venue_order_id`` was not cancelled, as a code (None if it was, or unknown)."""
        message = self.not_canceled.get(venue_order_id)
        if message is None:
            return None
        return reason_from_message(message) or ReasonCode.UNKNOWN_VENUE_ERROR


def parse_cancel_response(payload: Any) -> CancelOutcome:
    """DELETE /order, /orders, /cancel-all answer → ``CancelOutcome``."""
    r = validate(ClobCancelResponse, payload, "clob cancel response")
    return CancelOutcome(tuple(r.canceled), dict(r.not_canceled))


def parse_balance_usd(payload: Any) -> Decimal:
    """GET /balance-allowance (collateral) → the balance in USD."""
    r = validate(ClobBalanceAllowance, payload, "clob balance allowance")
    if r.balance < 0:
        raise data_error(f"clob balance allowance: balance: negative ({r.balance})")
    return r.balance / _USDC_UNIT
