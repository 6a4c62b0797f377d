"""Blocking CLOB calls of the live venue: one client call, then the wire→domain translation.

Each function runs in a worker thread (``PolymarketVenue`` wraps it in ``asyncio.to_thread``)
and raises ``ClobHttpError``/``ClobTransportError`` (mapped by the venue) or ``DataError`` for a
malformed answer. The client's pagers index ``response["next_cursor"]`` directly, so a broken
page surfaces as KeyError/TypeError; those become ``DataError`` here too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

from py_clob_client_v2.clob_types import (  # type: ignore[import-untyped, unused-ignore]
    AssetType,
    BalanceAllowanceParams,
    OrderPayload,
    PricesHistoryParams,
    TradeParams,
)

from autotrader.domain.book import OrderBook
from autotrader.domain.fees import FeeSchedule
from autotrader.domain.fills import Fill
from autotrader.domain.orders import VenueOrder
from autotrader.errors import DataError
from autotrader.venue.polymarket.clob_client import TokenCache
from autotrader.venue.polymarket.clob_http import ClobHttpError
from autotrader.venue.polymarket.parsing import (
    parse_book,
    parse_clob_market_info,
    parse_market_by_token,
    parse_midpoint,
    parse_prices_history,
)
from autotrader.venue.polymarket.parsing_orders import (
    CancelOutcome,
    parse_balance_usd,
    parse_cancel_response,
    parse_order,
    parse_trade,
)


@contextmanager
def _wire(kind: str) -> Iterator[None]:
    try:
        yield
    except (KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"{kind}: malformed answer ({type(exc).__name__}: {exc})") from None


def book(client: Any, token_id: str) -> OrderBook:
    """GET /book → ``OrderBook`` (best level first)."""
    return parse_book(client.get_order_book(token_id))


def midpoint(client: Any, token_id: str) -> Decimal | None:
    """GET /midpoint → the midpoint or None."""
    return parse_midpoint(client.get_midpoint(token_id))


def price_history(
    client: Any, token_id: str, start: datetime, end: datetime, fidelity_mins: int
) -> list[tuple[datetime, Decimal]]:
    """GET /prices-history?market=&startTs=&endTs=&fidelity= → [(time, price)]."""
    params = PricesHistoryParams(
        market=token_id,
        start_ts=int(start.timestamp()),
        end_ts=int(end.timestamp()),
        fidelity=fidelity_mins,
    )
    return parse_prices_history(client.get_prices_history(params))


def fee_schedule(client: Any, tokens: TokenCache, token_id: str) -> FeeSchedule:
    """/markets-by-token/{token} → /clob-markets/{condition} (fee ``fd``, neg-risk ``nr``);
    caches both for every token of the market."""
    condition_id = parse_market_by_token(client._get(f"{client.host}/markets-by-token/{token_id}"))
    info = parse_clob_market_info(client._get(f"{client.host}/clob-markets/{condition_id}"))
    for token in info.tokens:
        tokens.set_fees(token.token_id, info.fees)
        tokens.set_neg_risk(token.token_id, info.neg_risk)
    tokens.set_fees(token_id, info.fees)
    return info.fees


def cancel(client: Any, venue_order_id: str) -> CancelOutcome:
    """DELETE /order {"orderID": …}."""
    return parse_cancel_response(client.cancel_order(OrderPayload(orderID=venue_order_id)))


def cancel_all(client: Any) -> CancelOutcome:
    """DELETE /cancel-all."""
    return parse_cancel_response(client.cancel_all())


def order(client: Any, venue_order_id: str) -> VenueOrder | None:
    """GET /data/order/{id}; None for a 404 or an empty answer (the venue does not know it)."""
    try:
        raw = client.get_order(venue_order_id)
    except ClobHttpError as exc:
        if exc.status == 404:
            return None
        raise
    if not raw or raw == "null":
        return None
    return parse_order(raw)


def open_orders(client: Any) -> list[VenueOrder]:
    """GET /data/orders, following ``next_cursor`` to the end."""
    with _wire("clob orders page"):
        rows = client.get_open_orders()
    if not isinstance(rows, list):
        raise DataError("clob orders page: data: expected a list")
    return [parse_order(row) for row in rows]


def trades_since(client: Any, since: datetime) -> list[Any]:
    """GET /data/trades?after=… (every page), raw; ``after`` a second early, filtered later."""
    with _wire("clob trades page"):
        rows = client.get_trades(TradeParams(after=int(since.timestamp()) - 1))
    if not isinstance(rows, list):
        raise DataError("clob trades page: data: expected a list")
    return rows


def trade_tokens(trades: list[Any]) -> set[str]:
    """Every token id a list of raw trades touches (taker side and maker orders)."""
    found: set[str] = set()
    for t in trades:
        if not isinstance(t, dict):
            continue
        if isinstance(t.get("asset_id"), str):
            found.add(t["asset_id"])
        for mo in t.get("maker_orders") or []:
            if isinstance(mo, dict) and isinstance(mo.get("asset_id"), str):
                found.add(mo["asset_id"])
    return found


def fills_from_trades(
    trades: list[Any],
    *,
    since: datetime,
    fees: Callable[[str], FeeSchedule],
    owner: str | None,
    maker_address: str | None,
) -> list[Fill]:
    """Our fills in raw trades, at or after ``since``, oldest first."""
    fills: list[Fill] = []
    for raw in trades:
        fills.extend(parse_trade(raw, fees=fees, owner=owner, maker_address=maker_address))
    return sorted((f for f in fills if f.ts >= since), key=lambda f: (f.ts, f.trade_id))


def balance_usd(client: Any) -> Decimal:
    """GET /balance-allowance?asset_type=COLLATERAL → USD."""
    params = BalanceAllowanceParams(asset_type=AssetType.COLLATERAL)
    return parse_balance_usd(client.get_balance_allowance(params))
