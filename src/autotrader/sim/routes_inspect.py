"""Test-only inspection: every order and trade of a wallet, whatever its status.

The CLOB's own routes show a wallet its *open* orders and needs L2 auth; a crash or fault test
must see everything the venue accepted, including orders that filled or were killed, to say
"exactly one order per intent" and "every fill recorded once". Control routes (never faulted,
no auth): they read under the world lock themselves, so an injected fault never hides the
evidence.

``GET /_sim/orders?wallet=0x…`` → ``{"orders": [{id, status, side, asset_id, price,
original_size, size_matched, order_type, created_at, trades}]}`` (acceptance order)
``GET /_sim/trades?wallet=0x…`` → ``{"trades": [{id, taker_order_id, side, asset_id, price,
size, fee, match_time, maker_orders: [{order_id, matched_amount}]}]}``
"""

from __future__ import annotations

from typing import Any

from autotrader.sim.ledger import SimOrderState, SimTrade
from autotrader.sim.routing import HttpError, Request, Route, SimContext
from autotrader.sim.serialize import dec_str


def _wallet(req: Request) -> str:
    wallet = req.param("wallet")
    if not wallet:
        raise HttpError(400, "wallet is required, e.g. ?wallet=0xabc…")
    return wallet.lower()


def _order_row(o: SimOrderState) -> dict[str, Any]:
    return {
        "id": o.id,
        "status": o.status,
        "side": o.side.value,
        "asset_id": o.asset_id,
        "price": dec_str(o.price),
        "original_size": dec_str(o.original_size),
        "size_matched": dec_str(o.size_matched),
        "order_type": o.order_type.value,
        "created_at": o.created_at,
        "trades": list(o.associate_trades),
    }


def _trade_row(t: SimTrade) -> dict[str, Any]:
    return {
        "id": t.id,
        "taker_order_id": t.taker_order_id,
        "side": t.side.value,
        "asset_id": t.asset_id,
        "price": dec_str(t.price),
        "size": dec_str(t.size),
        "fee": dec_str(t.fee),
        "match_time": t.match_time,
        "maker_orders": [
            {"order_id": f.order_id, "matched_amount": dec_str(f.matched_amount)}
            for f in t.maker_orders
        ],
    }


def all_orders(ctx: SimContext, req: Request) -> dict[str, Any]:
    """GET /_sim/orders: every order ``wallet`` placed that the venue accepted."""
    wallet = _wallet(req)
    world = ctx.world
    with world.lock:
        world.advance()
        mine = [o for o in world.exchange.orders.values() if o.wallet == wallet]
        return {"orders": [_order_row(o) for o in sorted(mine, key=lambda o: o.seq)]}


def all_trades(ctx: SimContext, req: Request) -> dict[str, Any]:
    """GET /_sim/trades: every trade ``wallet`` took part in, as taker or maker."""
    wallet = _wallet(req)
    world = ctx.world
    with world.lock:
        world.advance()
        return {"trades": [_trade_row(t) for t in world.trades(wallet)]}


def routes() -> list[Route]:
    """The inspection routes (kind ``control``: never faulted, no auth)."""
    return [
        Route("GET", "/_sim/orders", all_orders, "control"),
        Route("GET", "/_sim/trades", all_trades, "control"),
    ]
