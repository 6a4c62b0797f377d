"""Data API client (data-api.polymarket.com/v2): positions and the public trade tape.

v2 wraps every answer in ``{"data": ..., "pagination": {..., "next_cursor"}}`` and pages by
cursor only (sending ``offset`` is a 400). ``start`` is honoured on the ``user`` shape only,
and the CASH size filter is the venue's own, so ``since``/``min_size_usd`` are also applied
here. Errors as in ``gamma.fetch_json``; nothing retries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from autotrader.domain.orders import Side
from autotrader.venue.polymarket.gamma import fetch_json
from autotrader.venue.polymarket.parsing import read_side
from autotrader.venue.polymarket.schemas_base import data_error, validate, validate_list
from autotrader.venue.polymarket.schemas_data import (
    DataV1Trade,
    DataV2Position,
    DataV2PositionsPage,
    DataV2Trade,
    DataV2TradesPage,
)


@dataclass(frozen=True)
class DataTrade:
    """One fill on the public tape (one order's side of a match)."""

    ts: datetime
    side: Side
    size: Decimal
    price: Decimal
    usd: Decimal
    wallet: str
    condition_id: str
    token_id: str
    outcome: str | None
    slug: str | None = None
    tx_hash: str | None = None


@dataclass(frozen=True)
class DataPosition:
    """A wallet's holding of one outcome token."""

    wallet: str
    token_id: str
    condition_id: str
    outcome: str | None
    size: Decimal
    avg_price: Decimal | None
    current_price: Decimal | None
    current_value: Decimal | None
    redeemable: bool
    slug: str | None = None


def _trade(t: DataV2Trade | DataV1Trade, token_id: str, what: str) -> DataTrade:
    return DataTrade(
        ts=t.timestamp,
        side=read_side(t.side, what),
        size=t.size,
        price=t.price,
        usd=t.size * t.price,
        wallet=t.proxy_wallet,
        condition_id=t.condition_id,
        token_id=token_id,
        outcome=t.outcome,
        slug=t.slug,
        tx_hash=t.transaction_hash,
    )


def trade_from_v2(t: DataV2Trade) -> DataTrade:
    """A validated v2 trade row as a ``DataTrade``."""
    return _trade(t, t.token_id, "data trade")


def trade_from_v1(t: DataV1Trade) -> DataTrade:
    """A validated v1 (camelCase) trade row as a ``DataTrade``."""
    return _trade(t, t.asset, "data v1 trade")


def position_from_v2(p: DataV2Position) -> DataPosition:
    """A validated v2 position row as a ``DataPosition``."""
    return DataPosition(
        wallet=p.proxy_wallet,
        token_id=p.token_id,
        condition_id=p.condition_id,
        outcome=p.outcome,
        size=p.current_size,
        avg_price=p.avg_price,
        current_price=p.current_price,
        current_value=p.current_value,
        redeemable=p.redeemable,
        slug=p.slug,
    )


def parse_data_trades_page(payload: Any) -> tuple[list[DataTrade], str | None]:
    """GET /v2/trades → (trades in venue order, next cursor or None).

    A bare array (the ``data`` member alone) is accepted too.
    """
    if isinstance(payload, list):
        rows = validate_list(DataV2Trade, payload, "data trades")
        return [trade_from_v2(t) for t in rows], None
    page = validate(DataV2TradesPage, payload, "data trades page")
    cursor = page.pagination.next_cursor if page.pagination else None
    return [trade_from_v2(t) for t in page.data or []], cursor or None


def parse_data_v1_trades(payload: Any) -> list[DataTrade]:
    """GET /trades (v1, a bare camelCase array) → trades in venue order."""
    return [trade_from_v1(t) for t in validate_list(DataV1Trade, payload, "data v1 trades")]


def parse_data_positions_page(payload: Any) -> tuple[list[DataPosition], str | None]:
    """GET /v2/positions → (positions, next cursor or None); a bare array is accepted too."""
    if isinstance(payload, list):
        rows = validate_list(DataV2Position, payload, "data positions")
        return [position_from_v2(p) for p in rows], None
    page = validate(DataV2PositionsPage, payload, "data positions page")
    cursor = page.pagination.next_cursor if page.pagination else None
    return [position_from_v2(p) for p in page.data or []], cursor or None


class DataApiClient:
    """Positions and trades from the Data API v2."""

    def __init__(
        self, base_url: str, http: httpx.AsyncClient, *, page_limit: int = 500, max_pages: int = 20
    ) -> None:
        self._base = base_url.rstrip("/")
        self._http = http
        self._page_limit = page_limit
        self._max_pages = max_pages

    async def _pages(self, path: str, params: dict[str, str | int]) -> list[Any]:
        """Every page of ``path`` (following ``next_cursor``, at most ``max_pages``)."""
        pages: list[Any] = []
        query: dict[str, str | int] = {**params, "limit": self._page_limit}
        seen: set[str] = set()
        for _ in range(self._max_pages):
            payload = await fetch_json(self._http, f"{self._base}{path}", query)
            if payload is None:
                break
            pages.append(payload)
            cursor = _cursor(payload)
            # A cursor seen before would loop forever: the venue's paging is broken.
            if cursor is None or cursor in seen:
                break
            seen.add(cursor)
            query = {**params, "cursor": cursor}
        return pages

    async def positions(self, user: str) -> list[DataPosition]:
        """Every open position of wallet ``user``."""
        out: list[DataPosition] = []
        for page in await self._pages("/v2/positions", {"user": user}):
            out.extend(parse_data_positions_page(page)[0])
        return out

    async def trades(
        self,
        user: str | None = None,
        market: str | None = None,
        since: datetime | None = None,
        min_size_usd: Decimal | None = None,
    ) -> list[DataTrade]:
        """Trades of wallet ``user`` and/or market ``market`` (condition id), newest first.

        ``since`` keeps trades at or after it; ``min_size_usd`` keeps trades of at least that
        notional (price × size).
        """
        params: dict[str, str | int] = {}
        if user is not None:
            params["user"] = user
            if since is not None:
                params["start"] = int(since.timestamp())
        if market is not None:
            params["condition"] = market
        if min_size_usd is not None:
            params["filter_type"] = "CASH"
            params["filter_amount"] = str(min_size_usd)
        out: list[DataTrade] = []
        for page in await self._pages("/v2/trades", params):
            out.extend(parse_data_trades_page(page)[0])
        if since is not None:
            out = [t for t in out if t.ts >= since]
        if min_size_usd is not None:
            out = [t for t in out if t.usd >= min_size_usd]
        return out


def _cursor(payload: Any) -> str | None:
    if isinstance(payload, list):
        return None
    if not isinstance(payload, dict):
        raise data_error(f"data api page: expected a JSON object, got {type(payload).__name__}")
    pagination = payload.get("pagination")
    if not isinstance(pagination, dict):
        return None
    cursor = pagination.get("next_cursor")
    return cursor if isinstance(cursor, str) and cursor else None
