"""Public CLOB routes (clob.polymarket.com): health, time, books, prices, market parameters.

Messages and statuses are the CLOB's own (docs.polymarket.com "Error Codes"): a missing or
malformed token id is 400 "Invalid token id", a token without a book 404 "No orderbook exists
for the requested token id", a bad side 400 "Invalid side", a bad batch 400 "Invalid payload".
Quirk kept: ``/price?side=BUY`` answers the best *bid* (what a seller gets), SELL the best ask.
"""

from __future__ import annotations

import contextlib
import re
from decimal import Decimal
from typing import Any

from autotrader.sim.clob_json import book_json, clob_market_info
from autotrader.sim.clob_json import clob_market as clob_market_json
from autotrader.sim.markets import SimMarket
from autotrader.sim.routes_gamma import q_int
from autotrader.sim.routing import HttpError, Request, Route, SimContext
from autotrader.sim.serialize import dec_str
from autotrader.sim.views import SimBook

INVALID_TOKEN = "Invalid token id"
NO_BOOK = "No orderbook exists for the requested token id"
MARKET_NOT_FOUND = "market not found"
MAX_BATCH = 500
MAX_TS = 10**11
_TOKEN = re.compile(r"\d{1,80}")
_CONDITION = re.compile(r"0x[0-9a-fA-F]{64}")
# /prices-history `interval` -> seconds back from now ("max": the whole life of the market).
INTERVALS = {"1m": 60, "1h": 3_600, "6h": 21_600, "1d": 86_400, "1w": 604_800, "max": 10**10}


def _token_param(req: Request, name: str = "token_id") -> str:
    token = req.param(name)
    if not token or not _TOKEN.fullmatch(token):
        raise HttpError(400, INVALID_TOKEN)
    return token


def _market_of(ctx: SimContext, token: str, missing: str = MARKET_NOT_FOUND) -> SimMarket:
    m = ctx.world.market_by_token_id(token)
    if m is None:
        raise HttpError(404, missing)
    return m


def _book(ctx: SimContext, token: str) -> SimBook:
    m = ctx.world.market_by_token_id(token)
    book = ctx.world.book(token)
    # A resolved market's book is gone on the real CLOB.
    if m is None or m.closed or book is None:
        raise HttpError(404, NO_BOOK)
    return book


def _side(text: Any) -> str:
    side = str(text or "").upper()
    if side not in ("BUY", "SELL"):
        raise HttpError(400, "Invalid side")
    return side


def _best(book: SimBook, side: str) -> Decimal:
    price = book.best_bid if side == "BUY" else book.best_ask
    if price is None:
        raise HttpError(404, NO_BOOK)
    return price


def _batch(req: Request) -> list[dict[str, Any]]:
    body = req.json("Invalid payload")
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise HttpError(400, "Invalid payload")
    if len(body) > MAX_BATCH:
        raise HttpError(400, "Payload exceeds the limit")
    for item in body:
        token = item.get("token_id")
        if not isinstance(token, str | int) or not _TOKEN.fullmatch(str(token)):
            raise HttpError(400, "Invalid payload")
        item["token_id"] = str(token)
    return body


def ok(ctx: SimContext, req: Request) -> str:
    """GET / and /ok: the bare JSON string "OK"."""
    return "OK"


def server_time(ctx: SimContext, req: Request) -> int:
    """GET /time: simulated epoch seconds, a bare integer."""
    return int(ctx.now())


def version(ctx: SimContext, req: Request) -> dict[str, int]:
    """GET /version: the order version the exchange expects (V2)."""
    return {"version": 2}


def get_book(ctx: SimContext, req: Request) -> dict[str, Any]:
    """GET /book?token_id=."""
    return book_json(_book(ctx, _token_param(req)))


def post_books(ctx: SimContext, req: Request) -> list[dict[str, Any]]:
    """POST /books [{"token_id": …}, …] (unknown tokens are left out, as the CLOB does)."""
    out = []
    for item in _batch(req):
        try:
            out.append(book_json(_book(ctx, item["token_id"])))
        except HttpError:
            continue
    return out


def get_price(ctx: SimContext, req: Request) -> dict[str, str]:
    """GET /price?token_id=&side=."""
    token = _token_param(req)
    side = _side(req.param("side"))
    return {"price": dec_str(_best(_book(ctx, token), side))}


def post_prices(ctx: SimContext, req: Request) -> dict[str, dict[str, Decimal]]:
    """POST /prices [{"token_id", "side"}] -> {token: {side: price}} (numbers, as the CLOB)."""
    out: dict[str, dict[str, Decimal]] = {}
    for item in _batch(req):
        side = _side(item.get("side"))
        try:
            price = _best(_book(ctx, item["token_id"]), side)
        except HttpError:
            continue
        out.setdefault(item["token_id"], {})[side] = price
    return out


def get_midpoint(ctx: SimContext, req: Request) -> dict[str, str]:
    """GET /midpoint?token_id=."""
    mid = _book(ctx, _token_param(req)).midpoint
    if mid is None:
        raise HttpError(404, NO_BOOK)
    return {"mid": dec_str(mid)}


def post_midpoints(ctx: SimContext, req: Request) -> dict[str, str]:
    """POST /midpoints -> {token: "mid"}."""
    out = {}
    for item in _batch(req):
        mid = None
        with contextlib.suppress(HttpError):
            mid = _book(ctx, item["token_id"]).midpoint
        if mid is not None:
            out[item["token_id"]] = dec_str(mid)
    return out


def get_spread(ctx: SimContext, req: Request) -> dict[str, str]:
    """GET /spread?token_id=."""
    spread = _book(ctx, _token_param(req)).spread
    if spread is None:
        raise HttpError(404, NO_BOOK)
    return {"spread": dec_str(spread)}


def last_trade_price(ctx: SimContext, req: Request) -> dict[str, Any]:
    """GET /last-trade-price?token_id=: ``{"price": 0.12, "side": "BUY"}`` ("" before any)."""
    token = _token_param(req)
    _market_of(ctx, token, NO_BOOK)
    last = ctx.world.last_trade(token)
    if last is None:
        return {"price": "", "side": ""}
    return {"price": last[0], "side": str(last[1])}


def tick_size(ctx: SimContext, req: Request) -> dict[str, str]:
    """GET /tick-size?token_id=: ``{"minimum_tick_size": "0.01"}``."""
    token = _token_param(req)
    _market_of(ctx, token)
    tick = ctx.world.tick_size(token)
    if tick is None:
        raise HttpError(404, MARKET_NOT_FOUND)
    return {"minimum_tick_size": dec_str(tick)}


def neg_risk(ctx: SimContext, req: Request) -> dict[str, bool]:
    """GET /neg-risk?token_id=."""
    return {"neg_risk": _market_of(ctx, _token_param(req)).neg_risk}


def fee_rate(ctx: SimContext, req: Request) -> dict[str, int]:
    """GET /fee-rate?token_id=: the base fee in basis points (1000 on fee-bearing markets)."""
    m = _market_of(ctx, _token_param(req), "fee rate not found for market")
    return {"base_fee": 0 if m.fees.is_free else 1000}


def _market_by_condition(ctx: SimContext, condition_id: str) -> SimMarket:
    if not _CONDITION.fullmatch(condition_id):
        raise HttpError(400, "Invalid market")
    m = ctx.world.market_by_condition_id(condition_id)
    if m is None:
        raise HttpError(404, MARKET_NOT_FOUND)
    return m


def clob_markets(ctx: SimContext, req: Request, condition_id: str) -> dict[str, Any]:
    """GET /clob-markets/{condition_id}: tokens, tick, min size, fees (compact keys)."""
    m = _market_by_condition(ctx, condition_id)
    return clob_market_info(m, ctx.world.market_stats(m))


def clob_market(ctx: SimContext, req: Request, condition_id: str) -> dict[str, Any]:
    """GET /markets/{condition_id} (reached through the Gamma route for 0x… ids)."""
    m = _market_by_condition(ctx, condition_id)
    return clob_market_json(m, ctx.world.market_stats(m))


def markets_by_token(ctx: SimContext, req: Request, token_id: str) -> dict[str, str]:
    """GET /markets-by-token/{token_id}: the condition id (and both tokens) of its market."""
    if not _TOKEN.fullmatch(token_id):
        raise HttpError(400, INVALID_TOKEN)
    m = _market_of(ctx, token_id)
    return {
        "condition_id": m.condition_id,
        "primary_token_id": m.token_ids[0],
        "secondary_token_id": m.token_ids[1],
    }


def prices_history(ctx: SimContext, req: Request) -> dict[str, list[dict[str, Any]]]:
    """GET /prices-history?market=TOKEN&startTs=&endTs= (or interval=)&fidelity=MINUTES."""
    token = req.param("market")
    if not token or not _TOKEN.fullmatch(token):
        raise HttpError(400, "invalid filters: market must be a token id")
    now = int(ctx.now())
    interval = req.param("interval")
    if interval is not None and interval not in INTERVALS:
        raise HttpError(400, f"invalid filters: interval must be one of {', '.join(INTERVALS)}")
    start = q_int(req, "startTs", -1, lo=0, hi=MAX_TS)
    end = q_int(req, "endTs", now, lo=0, hi=MAX_TS)
    if start < 0:
        if interval is None:
            raise HttpError(400, "invalid filters: give startTs and endTs, or interval")
        start, end = max(0, now - INTERVALS[interval]), now
    if end < start:
        raise HttpError(400, "invalid filters: endTs is before startTs")
    fidelity = q_int(req, "fidelity", 1, lo=1, hi=100_000)
    points = ctx.world.price_history(token, start, end, fidelity * 60)
    return {"history": [{"t": int(t), "p": p} for t, p in points]}


def routes() -> list[Route]:
    """The public CLOB endpoints."""
    return [
        Route("GET", "/", ok, "plain"),
        Route("GET", "/ok", ok, "plain"),
        Route("GET", "/time", server_time, "plain"),
        Route("GET", "/version", version, "plain"),
        Route("GET", "/book", get_book),
        Route("POST", "/books", post_books),
        Route("GET", "/price", get_price),
        Route("POST", "/prices", post_prices),
        Route("GET", "/midpoint", get_midpoint),
        Route("POST", "/midpoints", post_midpoints),
        Route("GET", "/spread", get_spread),
        Route("GET", "/last-trade-price", last_trade_price),
        Route("GET", "/tick-size", tick_size),
        Route("GET", "/neg-risk", neg_risk),
        Route("GET", "/fee-rate", fee_rate),
        Route("GET", "/clob-markets/{condition_id}", clob_markets),
        Route("GET", "/markets-by-token/{token_id}", markets_by_token),
        Route("GET", "/prices-history", prices_history),
    ]
