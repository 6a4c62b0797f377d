"""Authenticated CLOB reads (L2): open orders, one order, trades, balance and allowance.

``/data/orders`` and ``/data/trades`` page with ``next_cursor``: base64 of an offset, starting at
"MA==" (0) and ending with "LTE=" (-1), as py-clob-client-v2 loops until it sees "LTE=".
Balances are in 6-decimal base units, as strings ("1000000000" = 1000 USDC).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from autotrader.sim.clob_json import order_json, trade_json
from autotrader.sim.ledger import SimOrderState, SimTrade
from autotrader.sim.routing import HttpError, Request, Route, SimContext
from autotrader.sim.serialize import base_units

END_CURSOR = "LTE="
# The simulator has no chain and no approvals to make; every wallet shows this allowance (the
# value of the fixture, clob_balance_allowance.json).
ALLOWANCE = "999999999000000"
_ORDER_ID = re.compile(r"0x[0-9a-fA-F]{64}")
_SIGNATURE_TYPES = ("0", "1", "2", "3", "EOA", "POLY_PROXY", "GNOSIS_SAFE", "POLY_1271")


def _offset(cursor: str | None, error: str) -> int:
    if not cursor:
        return 0
    try:
        value = int(base64.b64decode(cursor, validate=True).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise HttpError(400, error) from None
    if value < 0:
        raise HttpError(400, error)
    return value


def _page(ctx: SimContext, req: Request, items: list[Any], error: str) -> dict[str, Any]:
    start = _offset(req.param("next_cursor"), error)
    chunk = items[start : start + ctx.page_size]
    end = start + len(chunk)
    more = end < len(items)
    cursor = base64.b64encode(str(end).encode()).decode() if more else END_CURSOR
    return {"data": chunk, "next_cursor": cursor}


def _matches(req: Request, checks: dict[str, Callable[[str], bool]]) -> bool:
    return all(check(value) for name, check in checks.items() if (value := req.param(name)))


def data_orders(ctx: SimContext, req: Request) -> dict[str, Any]:
    """GET /data/orders: the caller's open orders, paged with next_cursor ("LTE=" = end)."""
    address, _ = ctx.l2(req)

    def keep(o: SimOrderState) -> bool:
        return _matches(
            req,
            {
                "id": lambda v: o.id == v,
                "market": lambda v: o.market == v.lower(),
                "asset_id": lambda v: o.asset_id == v,
            },
        )

    orders = [order_json(o) for o in ctx.world.open_orders(address) if keep(o)]
    return _page(ctx, req, orders, "invalid order params payload")


def data_order(ctx: SimContext, req: Request, order_id: str) -> dict[str, Any]:
    """GET /data/order/{id}: one of the caller's orders, open or not."""
    address, _ = ctx.l2(req)
    if not _ORDER_ID.fullmatch(order_id):
        raise HttpError(400, "Invalid orderID")
    o = ctx.world.order(order_id)
    if o is None or o.wallet != address.lower():
        raise HttpError(404, "order not found")
    return order_json(o)


def data_trades(ctx: SimContext, req: Request) -> dict[str, Any]:
    """GET /data/trades: the caller's trades (taker and maker), paged like /data/orders."""
    address, _ = ctx.l2(req)
    error = "Invalid trade params payload"
    after, before = req.param("after"), req.param("before")
    for bound in (after, before):
        if bound is not None and not bound.isdigit():
            raise HttpError(400, error)

    def keep(t: SimTrade) -> bool:
        return _matches(
            req,
            {
                "id": lambda v: t.id == v,
                "market": lambda v: t.market == v.lower(),
                "asset_id": lambda v: t.asset_id == v,
                "maker_address": lambda v: t.maker_address.lower() == v.lower(),
                "after": lambda v: t.match_time > int(v),
                "before": lambda v: t.match_time < int(v),
            },
        )

    trades = [trade_json(t) for t in ctx.world.trades(address) if keep(t)]
    return _page(ctx, req, trades, error)


def balance_allowance(ctx: SimContext, req: Request) -> dict[str, str]:
    """GET /balance-allowance?asset_type=COLLATERAL|CONDITIONAL[&token_id=]: 6-decimal units."""
    address, _ = ctx.l2(req)
    asset_type = (req.param("asset_type") or "").upper()
    if asset_type not in ("COLLATERAL", "CONDITIONAL"):
        raise HttpError(400, "Invalid asset type")
    sig = req.param("signature_type")
    if sig is not None and sig.upper() not in _SIGNATURE_TYPES:
        raise HttpError(400, "Invalid signature_type")
    if asset_type == "COLLATERAL":
        balance = ctx.world.balance(address)
    else:
        token = req.param("token_id") or ""
        if not token.isdigit():
            raise HttpError(400, "Invalid token id")
        held = [p.size for p in ctx.world.positions(address) if p.token_id == token]
        balance = held[0] if held else Decimal(0)
    return {"balance": base_units(balance), "allowance": ALLOWANCE}


def routes() -> list[Route]:
    """The authenticated read endpoints."""
    return [
        Route("GET", "/data/orders", data_orders),
        Route("GET", "/data/order/{order_id}", data_order),
        Route("GET", "/data/trades", data_trades),
        Route("GET", "/balance-allowance", balance_allowance),
    ]
