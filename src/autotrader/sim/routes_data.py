"""Data API routes (data-api.polymarket.com): /v2/positions and /v2/trades of a wallet.

Public (no auth), snake_case, newest first, wrapped in ``{"data": [...], "pagination":
{"limit", "offset", "has_more", "next_cursor"}}`` (data_v2_trades_page_envelope.json);
``next_cursor`` is null on the last page.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from autotrader.sim.clob_json import data_trade_json, position_json
from autotrader.sim.ledger import HOUSE, SimTrade
from autotrader.sim.routes_gamma import q_decimal, q_int
from autotrader.sim.routing import HttpError, Request, Route, SimContext

MAX_LIMIT = 500
MAX_TS = 10**11
DEFAULT_LIMIT = 100
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def _user(req: Request) -> str:
    user = req.param("user")
    if not user or not _ADDRESS.fullmatch(user):
        raise HttpError(400, "user must be a 0x wallet address")
    return user.lower()


def _start(req: Request) -> int:
    cursor = req.param("cursor") or req.param("next_cursor")
    if not cursor:
        return q_int(req, "offset", 0)
    try:
        value = int(base64.b64decode(cursor, validate=True).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise HttpError(400, "invalid cursor") from None
    if value < 0:
        raise HttpError(400, "invalid cursor")
    return value


def _envelope(req: Request, rows: list[dict[str, Any]]) -> dict[str, Any]:
    limit = q_int(req, "limit", DEFAULT_LIMIT, lo=1, hi=MAX_LIMIT)
    start = _start(req)
    chunk = rows[start : start + limit]
    more = start + len(chunk) < len(rows)
    return {
        "data": chunk,
        "pagination": {
            "limit": limit,
            "offset": start,
            "has_more": more,
            "next_cursor": base64.b64encode(str(start + limit).encode()).decode() if more else None,
        },
    }


def _markets_param(req: Request) -> set[str]:
    # The v2 API names the filter ``market``; some clients say ``condition``.
    return {m.lower() for m in req.params("market") + req.params("condition")}


def positions(ctx: SimContext, req: Request) -> dict[str, Any]:
    """GET /v2/positions?user=0x…[&market=condition_id]."""
    user, markets = _user(req), _markets_param(req)
    held = [p for p in ctx.world.positions(user) if not markets or p.condition_id in markets]
    held.sort(key=lambda p: p.last_event_at, reverse=True)
    return _envelope(req, [position_json(p) for p in held])


def _trade_filter(req: Request) -> Callable[[SimTrade, dict[str, Any]], bool]:
    """Keeps a trade row by time window and minimum amount (CASH: USD, TOKENS: shares)."""
    start, end = q_int(req, "start", 0, hi=MAX_TS), q_int(req, "end", MAX_TS, hi=MAX_TS)
    kind = (req.param("filter_type") or "").upper()
    if kind not in ("", "CASH", "TOKENS"):
        raise HttpError(400, "filter_type must be CASH or TOKENS")
    amount = q_decimal(req, "filter_amount") or Decimal(0)

    def keep(t: SimTrade, row: dict[str, Any]) -> bool:
        value = row["size"] * row["price"] if kind == "CASH" else row["size"]
        return start <= t.match_time <= end and value >= amount

    return keep


def _row(ctx: SimContext, wallet: str, t: SimTrade, as_maker: bool) -> dict[str, Any]:
    fills = [f for f in t.maker_orders if f.wallet == wallet] if as_maker else []
    return data_trade_json(wallet, t, ctx.world.market_by_condition_id(t.market), fills)


def _market_rows(ctx: SimContext, t: SimTrade) -> list[tuple[SimTrade, dict[str, Any]]]:
    """Every user's side of ``t`` (the house, the simulated market maker, is nobody's wallet)."""
    rows = [] if t.taker_wallet == HOUSE else [(t, _row(ctx, t.taker_wallet, t, False))]
    makers = dict.fromkeys(f.wallet for f in t.maker_orders if f.wallet != HOUSE)
    return rows + [(t, _row(ctx, wallet, t, True)) for wallet in makers]


def trades(ctx: SimContext, req: Request) -> dict[str, Any]:
    """GET /v2/trades?user=0x…|market=condition_id[&start=&end=&filter_type=&filter_amount=]:
    fills, newest first (without ``user``: every user's fills in the market)."""
    markets, keep = _markets_param(req), _trade_filter(req)
    if req.param("user") is not None:
        user = _user(req)
        picked = [t for t in ctx.world.trades(user) if not markets or t.market in markets]
        rows = [(t, _row(ctx, user, t, t.trader_side == "MAKER")) for t in picked]
    elif markets:
        rows = [
            r
            for t in ctx.world.exchange.trades
            if t.market in markets
            for r in _market_rows(ctx, t)
        ]
    else:
        raise HttpError(400, "give user or market")
    return _envelope(req, [row for t, row in reversed(rows) if keep(t, row)])


def routes() -> list[Route]:
    """The Data API endpoints."""
    return [
        Route("GET", "/v2/positions", positions),
        Route("GET", "/v2/trades", trades),
    ]
