"""OrderRequest → a signed CLOB order (through py-clob-client-v2) and its hash, before posting.

The client takes floats; the domain never does. So the request is checked on its grids first
(price on the tick and within [tick, 1 − tick], shares on 0.01, a market BUY's USD on 0.01 —
the client would otherwise round silently, and a BUY rounded up overpays), converted at the
last moment, and the signed integer amounts are compared with the Decimal intent afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from py_clob_client_v2.clob_types import (  # type: ignore[import-untyped, unused-ignore]
    MarketOrderArgsV2,
    OrderArgsV2,
    PartialCreateOrderOptions,
)
from py_clob_client_v2.exceptions import PolyException  # type: ignore[import-untyped, unused-ignore]
from py_clob_client_v2.order_utils.model.order_data_v1 import (  # type: ignore[import-untyped, unused-ignore]
    order_to_json_v1,
)
from py_clob_client_v2.order_utils.model.order_data_v2 import (  # type: ignore[import-untyped, unused-ignore]
    order_to_json_v2,
)

from autotrader.domain.money import SHARE_STEP, on_tick, price_in_range
from autotrader.domain.orders import OrderRequest, Side
from autotrader.venue.polymarket.clob_eip712 import order_hash

_UNIT = Decimal(10) ** 6  # USDC and outcome tokens both have 6 decimals on chain
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class ClobPayload:
    """What ``PreparedOrder.payload`` holds for the live venue."""

    signed: Any  # the client's SignedOrderV2 (or V1): posted as is by ``post_order``
    wire: dict[str, Any]  # the ``order`` object exactly as it is posted (and hashed)
    order_type: str
    post_only: bool
    neg_risk: bool
    tick_size: Decimal
    version: int


def tick_text(tick: Decimal) -> str:
    """A tick as the client's rounding table keys it ("0.01", never "0.010" or "1E-2")."""
    return format(tick.normalize(), "f")


def check_request(req: OrderRequest, tick: Decimal, price: Decimal) -> None:
    """ValueError (one line) if the request is off the venue's grids; see module doc."""
    if not on_tick(price, tick) or not price_in_range(price, tick):
        raise ValueError(
            f"order {req.client_order_id}: price {price} is not on the {tick} tick within "
            f"[{tick}, {1 - tick}]"
        )
    if req.size is not None and req.size % SHARE_STEP != 0:
        raise ValueError(f"order {req.client_order_id}: size {req.size} is not in 0.01 shares")
    if req.amount_usd is not None and req.amount_usd % _CENT != 0:
        raise ValueError(f"order {req.client_order_id}: amount {req.amount_usd} is not in cents")


def market_amount(req: OrderRequest, price: Decimal) -> Decimal:
    """What a market order spends: USD for a BUY (given, or shares × worst price rounded down
    to the cent), shares for a SELL."""
    if req.amount_usd is not None:
        return req.amount_usd
    assert req.size is not None  # OrderRequest guarantees exactly one of the two
    if req.side is Side.SELL:
        return req.size
    return (req.size * price).quantize(_CENT, rounding=ROUND_DOWN)


def build_signed(
    client: Any, req: OrderRequest, *, price: Decimal, tick: Decimal, neg_risk: bool, version: int
) -> Any:
    """Sign the order with the client (blocking; no network when tick/neg-risk/version given)."""
    options = PartialCreateOrderOptions(
        tick_size=tick_text(tick), neg_risk=neg_risk, version=version
    )
    side = str(req.side)
    if req.order_type.rests:
        assert req.size is not None and req.price is not None
        expiration = int(req.expires_at.timestamp()) if req.expires_at is not None else 0
        args = OrderArgsV2(
            token_id=req.token_id,
            price=float(price),
            size=float(req.size),
            side=side,
            expiration=expiration,
        )
        signed = _create(client.create_order, args, options, req)
    else:
        amount = market_amount(req, price)
        if amount <= 0:
            raise ValueError(f"order {req.client_order_id}: spends nothing at price {price}")
        args = MarketOrderArgsV2(
            token_id=req.token_id,
            amount=float(amount),
            side=side,
            price=_market_price_arg(price, tick),
            order_type=str(req.order_type),
        )
        signed = _create(client.create_market_order, args, options, req)
    _check_amounts(req, signed, price, tick)
    return signed


def _market_price_arg(price: Decimal, tick: Decimal) -> float:
    # py-clob-client-v2 1.2.1 rounds a market order's price *down* in floats:
    # floor(0.57 * 100) / 100 == 0.56, so a worst price of 0.57 would be signed as 0.56 (a BUY
    # that may not fill, a SELL that accepts a tick less). A thousandth of a tick more makes the
    # floor land on the intended tick; at the top of the range the exact value floors right.
    nudged = price + tick / 1000
    return float(price) if nudged > 1 - tick else float(nudged)


def _create(create: Any, args: Any, options: Any, req: OrderRequest) -> Any:
    try:
        return create(args, options)
    except PolyException as exc:
        # The client's own checks ("invalid tick size …", "invalid price …"): a bad request.
        raise ValueError(f"order {req.client_order_id}: {exc.msg}") from None


def _check_amounts(req: OrderRequest, signed: Any, price: Decimal, tick: Decimal) -> None:
    maker, taker = int(signed.makerAmount), int(signed.takerAmount)
    if req.order_type.rests:
        assert req.size is not None
        shares, usd = req.size * _UNIT, req.size * price * _UNIT
        expected = (usd, shares) if req.side is Side.BUY else (shares, usd)
        ok = (Decimal(maker), Decimal(taker)) == expected
    else:
        # Market orders: the maker side is what we give (USD for a BUY, shares for a SELL);
        # the taker side is the client's rounded product/quotient, so the price it implies is
        # checked to be within half a tick of the intended worst price.
        usd_units, share_units = (maker, taker) if req.side is Side.BUY else (taker, maker)
        ok = (
            Decimal(maker) == market_amount(req, price) * _UNIT
            and share_units > 0
            and abs(Decimal(usd_units) / Decimal(share_units) - price) < tick / 2
        )
    if not ok:
        raise ValueError(
            f"order {req.client_order_id}: signed amounts {maker}/{taker} differ from the "
            "intended order; refusing it"
        )


def wire_order(signed: Any, *, version: int, order_type: str, post_only: bool) -> dict[str, Any]:
    """The ``order`` object the client will post for ``signed`` (owner does not enter it)."""
    to_json = order_to_json_v1 if version == 1 else order_to_json_v2
    body = to_json(signed, "", order_type, post_only)
    order = body["order"]
    assert isinstance(order, dict)
    return order


def payload_for(
    signed: Any,
    req: OrderRequest,
    *,
    chain_id: int,
    tick: Decimal,
    neg_risk: bool,
    version: int,
) -> tuple[str, ClobPayload]:
    """(order hash, payload) of a signed order; the hash is the id the CLOB will report."""
    wire = wire_order(
        signed, version=version, order_type=str(req.order_type), post_only=req.post_only
    )
    payload = ClobPayload(
        signed=signed,
        wire=wire,
        order_type=str(req.order_type),
        post_only=req.post_only,
        neg_risk=neg_risk,
        tick_size=tick,
        version=version,
    )
    return order_hash(wire, chain_id=chain_id, neg_risk=neg_risk), payload
