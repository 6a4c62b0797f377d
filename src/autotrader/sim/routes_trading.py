"""Authenticated CLOB routes: API keys (L1), orders, cancels, open orders, trades, balance (L2).

Every route checks its auth first (401 "Invalid L1 Request headers" / "Unauthorized/Invalid
api key"). An order must be signed by the L2 caller (``signer`` = POLY_ADDRESS, ``owner`` = its
API key) and carry a valid EIP-712 signature (400 "invalid signature"); the wallet that trades is
the caller's address. Refusals keep the real wording, e.g. 400 "order 0x… is invalid. Price
(0.555) breaks minimum tick size rule: 0.01". During a restart's post-only period a non-post-only
order is 503 ``{"error": "post-only mode: only post-only orders and cancels are allowed",
"code": "post_only_mode", "retry_after_seconds": N}`` with Retry-After (per order in a batch).
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from autotrader.domain.orders import OrderType, Side
from autotrader.sim.auth import ORDER_INVALID_PAYLOAD, AuthError
from autotrader.sim.ledger import SimOrder, SimSubmit
from autotrader.sim.routing import HttpError, Request, Route, SimContext
from autotrader.sim.serialize import dec_str

POST_ONLY_MODE = "post-only mode: only post-only orders and cancels are allowed"
POST_ONLY_TYPE = "invalid post-only order: only GTC and GTD order types are allowed"
MAX_BATCH_ORDERS = 15
MAX_CANCEL_IDS = 3000
_ORDER_ID = re.compile(r"0x[0-9a-fA-F]{64}")
_UNITS = Decimal(1_000_000)


# --- API keys (L1) ------------------------------------------------------------------------------


def _creds(ctx: SimContext, req: Request) -> dict[str, str]:
    address = ctx.l1(req)
    creds = ctx.auth.derive_api_creds(address, ctx.auth.l1_nonce(req.headers))
    return {"apiKey": creds.api_key, "passphrase": creds.passphrase, "secret": creds.secret}


def api_keys(ctx: SimContext, req: Request) -> dict[str, list[str]]:
    """GET /auth/api-keys (L2)."""
    _, api_key = ctx.l2(req)
    return {"apiKeys": [api_key]}


# --- placing orders -----------------------------------------------------------------------------


def _implied_price(raw: Decimal, tick: Decimal) -> Decimal:
    """The order's price from its amounts. Market orders' amounts are rounded (e.g. $10 at 0.59
    buys 16.9491 shares), so a ratio within a hundredth of a tick of the grid is that grid
    price; anything further off stays as it is and the tick check refuses it."""
    snapped = raw.quantize(tick, ROUND_HALF_EVEN)
    if abs(raw - snapped) <= tick / 100:
        return snapped
    return raw.quantize(Decimal("0.000001")).normalize()


def _amount(order: dict[str, Any], name: str) -> Decimal:
    raw = order.get(name)
    if not isinstance(raw, str | int) or isinstance(raw, bool) or not str(raw).isdigit():
        raise HttpError(400, ORDER_INVALID_PAYLOAD)
    value = Decimal(int(raw)) / _UNITS
    if value <= 0:
        raise HttpError(400, ORDER_INVALID_PAYLOAD)
    return value


def _side(order: dict[str, Any]) -> Side:
    raw = order.get("side")
    if raw in ("BUY", 0, "0"):
        return Side.BUY
    if raw in ("SELL", 1, "1"):
        return Side.SELL
    raise HttpError(400, ORDER_INVALID_PAYLOAD)


def _expiration(order: dict[str, Any]) -> int:
    raw = str(order.get("expiration", "0") or "0")
    if not raw.isdigit():
        raise HttpError(400, ORDER_INVALID_PAYLOAD)
    return int(raw)


def _sim_order(
    ctx: SimContext, body: dict[str, Any], order_hash: str, signer: str, api_key: str
) -> SimOrder:
    order, order_type = body["order"], OrderType(body["orderType"])
    token = str(order.get("tokenId", ""))
    side = _side(order)
    maker_amt, taker_amt = _amount(order, "makerAmount"), _amount(order, "takerAmount")
    # BUY pays makerAmount USDC for takerAmount shares; SELL gives makerAmount shares.
    raw, size = (
        (maker_amt / taker_amt, taker_amt)
        if side is Side.BUY
        else (
            taker_amt / maker_amt,
            maker_amt,
        )
    )
    tick = ctx.world.tick_size(token) or Decimal("0.01")
    marketable = order_type in (OrderType.FOK, OrderType.FAK)
    return SimOrder(
        order_id=order_hash,
        token_id=token,
        side=side,
        price=_implied_price(raw, tick),
        size=size,
        order_type=order_type,
        post_only=body.get("postOnly") is True,
        expiration=_expiration(order),
        maker=str(order.get("maker", "")),
        signer=signer,
        owner=api_key,
        amount_usd=maker_amt if side is Side.BUY and marketable else None,
    )


def _check_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("order"), dict):
        raise HttpError(400, ORDER_INVALID_PAYLOAD)
    if body.get("orderType") not in ("GTC", "GTD", "FOK", "FAK"):
        raise HttpError(400, ORDER_INVALID_PAYLOAD)
    if not isinstance(body.get("postOnly", False), bool):
        raise HttpError(400, ORDER_INVALID_PAYLOAD)
    return body


def _post_only_refusal(ctx: SimContext, body: dict[str, Any]) -> HttpError | None:
    phase = ctx.faults.plan.engine_phase(ctx.now())
    if phase is None or phase[0] != "post_only" or body.get("postOnly") is True:
        return None
    left = max(1, math.ceil(phase[1]))
    return HttpError(
        503,
        POST_ONLY_MODE,
        extra={"code": "post_only_mode", "retry_after_seconds": left},
        headers={"Retry-After": str(left)},
    )


def _tx_hashes(ctx: SimContext, wallet: str, res: SimSubmit) -> list[str]:
    if not res.trade_ids:
        return []
    wanted = set(res.trade_ids)
    return [t.transaction_hash for t in ctx.world.trades(wallet) if t.id in wanted]


def _place(ctx: SimContext, raw: Any, address: str, api_key: str) -> dict[str, Any]:
    """One order: checks, then the world; HttpError/AuthError carry the refusal."""
    body = _check_body(raw)
    ctx.auth.check_order_owner(body, address, api_key)
    refusal = _post_only_refusal(ctx, body)
    if refusal is not None:
        raise refusal
    if body.get("postOnly") is True and body["orderType"] in ("FOK", "FAK"):
        raise HttpError(400, POST_ONLY_TYPE)
    market = ctx.world.market_by_token_id(str(body["order"].get("tokenId", "")))
    neg_risk = market.neg_risk if market is not None else False
    signer, order_hash = ctx.auth.verify_order(body["order"], ctx.chain_id, neg_risk)
    res = ctx.world.submit(address, _sim_order(ctx, body, order_hash, signer, api_key))
    if res.error is not None:
        raise HttpError(400, res.error)
    return {
        "errorMsg": "",
        "orderID": res.order_id,
        "takingAmount": dec_str(res.taking_amount),
        "makingAmount": dec_str(res.making_amount),
        "status": res.status,
        "transactionsHashes": _tx_hashes(ctx, address, res),
        "tradeIDs": list(res.trade_ids),
        "success": True,
    }


def post_order(ctx: SimContext, req: Request) -> dict[str, Any]:
    """POST /order."""
    address, api_key = ctx.l2(req)
    return _place(ctx, req.json(ORDER_INVALID_PAYLOAD), address, api_key)


def _refused(message: str, order_id: str = "", *, success: bool = False) -> dict[str, Any]:
    return {
        "errorMsg": message,
        "orderID": order_id,
        "takingAmount": "",
        "makingAmount": "",
        "status": "",
        "success": success,
    }


def post_orders(ctx: SimContext, req: Request) -> list[dict[str, Any]]:
    """POST /orders: up to 15 orders, each answered in place (refusals included)."""
    address, api_key = ctx.l2(req)
    body = req.json(ORDER_INVALID_PAYLOAD)
    if not isinstance(body, list) or not body:
        raise HttpError(400, ORDER_INVALID_PAYLOAD)
    if len(body) > MAX_BATCH_ORDERS:
        raise HttpError(
            400, f"Too many orders in payload: {len(body)}, max allowed: {MAX_BATCH_ORDERS}"
        )
    out = []
    for item in body:
        try:
            out.append(_place(ctx, item, address, api_key))
        except HttpError as err:
            # The docs' own example of a post-only-period refusal says success: true.
            out.append(_refused(err.message, success=err.status == 503))
        except AuthError as err:
            out.append(_refused(err.message))
    return out


# --- cancels ------------------------------------------------------------------------------------


def _order_id(value: Any) -> str:
    if not isinstance(value, str) or not _ORDER_ID.fullmatch(value):
        raise HttpError(400, "Invalid orderID")
    return value


def _why_not(ctx: SimContext, wallet: str, order_id: str) -> str:
    o = ctx.world.order(order_id)
    if o is None or o.wallet != wallet.lower():
        return "order not found"
    if o.status == "DELAYED":
        return "order is delayed and can't be canceled"
    return "already canceled or matched"


def _cancel(ctx: SimContext, wallet: str, order_ids: list[str]) -> dict[str, Any]:
    canceled: list[str] = []
    not_canceled: dict[str, str] = {}
    for order_id in dict.fromkeys(order_ids):
        if ctx.world.cancel(wallet, order_id):
            canceled.append(order_id)
        else:
            not_canceled[order_id] = _why_not(ctx, wallet, order_id)
    return {"canceled": canceled, "not_canceled": not_canceled}


def cancel_order(ctx: SimContext, req: Request) -> dict[str, Any]:
    """DELETE /order {"orderID": …}."""
    address, _ = ctx.l2(req)
    body = req.json(ORDER_INVALID_PAYLOAD)
    if not isinstance(body, dict) or "orderID" not in body:
        raise HttpError(400, ORDER_INVALID_PAYLOAD)
    return _cancel(ctx, address, [_order_id(body["orderID"])])


def cancel_orders(ctx: SimContext, req: Request) -> dict[str, Any]:
    """DELETE /orders [id, …]."""
    address, _ = ctx.l2(req)
    body = req.json(ORDER_INVALID_PAYLOAD)
    if not isinstance(body, list):
        raise HttpError(400, ORDER_INVALID_PAYLOAD)
    if len(body) > MAX_CANCEL_IDS:
        raise HttpError(400, f"Too many orders in payload, max allowed: {MAX_CANCEL_IDS}")
    return _cancel(ctx, address, [_order_id(x) for x in body])


def cancel_all(ctx: SimContext, req: Request) -> dict[str, Any]:
    """DELETE /cancel-all."""
    address, _ = ctx.l2(req)
    open_ids = [o.id for o in ctx.world.open_orders(address)]
    canceled = ctx.world.cancel_all(address)
    left = [i for i in open_ids if i not in set(canceled)]
    return {"canceled": canceled, "not_canceled": {i: _why_not(ctx, address, i) for i in left}}


def cancel_market_orders(ctx: SimContext, req: Request) -> dict[str, Any]:
    """DELETE /cancel-market-orders {"market": condition_id, "asset_id": token}."""
    address, _ = ctx.l2(req)
    body = req.json(ORDER_INVALID_PAYLOAD)
    if not isinstance(body, dict):
        raise HttpError(400, ORDER_INVALID_PAYLOAD)
    market, asset = body.get("market"), body.get("asset_id")
    ids = [
        o.id
        for o in ctx.world.open_orders(address)
        if (not market or o.market == str(market).lower()) and (not asset or o.asset_id == asset)
    ]
    return _cancel(ctx, address, ids)


def routes() -> list[Route]:
    """The authenticated CLOB endpoints."""
    return [
        Route("POST", "/auth/api-key", _creds),
        Route("GET", "/auth/derive-api-key", _creds),
        Route("GET", "/auth/api-keys", api_keys),
        Route("POST", "/order", post_order, "order"),
        Route("POST", "/orders", post_orders, "order"),
        Route("DELETE", "/order", cancel_order, "order"),
        Route("DELETE", "/orders", cancel_orders, "order"),
        Route("DELETE", "/cancel-all", cancel_all, "order"),
        Route("DELETE", "/cancel-market-orders", cancel_market_orders, "order"),
    ]
