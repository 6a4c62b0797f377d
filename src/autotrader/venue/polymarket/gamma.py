"""Gamma API client: market and event discovery (gamma-api.polymarket.com).

Read-only and unauthenticated. Quirks kept in view: ``/markets`` and ``/events`` hide closed
markets unless ``closed=true`` is sent (a direct ``/markets/slug/{slug}`` lookup does not);
``/markets`` filters by numeric ``tag_id`` only (``/events`` also takes ``tag_slug``), so a tag
slug is resolved through ``/tags/slug/{slug}`` first; paging is ``limit``/``offset``.

Errors: 404 → None; 425/429/5xx/timeouts/connection failures → ``VenueUnavailable`` (with
Retry-After when sent); other 4xx → ``VenueRefused``; a malformed body → ``DataError``.
Nothing here retries: the caller decides when to try again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from autotrader.domain.markets import Event, Market, MarketQuery
from autotrader.errors import DataError
from autotrader.jsonbound import loads_bounded
from autotrader.venue.errors import VenueRefused, VenueUnavailable
from autotrader.venue.polymarket.parsing import (
    event_from_gamma,
    market_from_gamma,
    parse_gamma_event,
    parse_gamma_market,
)
from autotrader.venue.polymarket.reasons import error_message, reason_from_error
from autotrader.venue.polymarket.schemas_base import validate
from autotrader.venue.polymarket.schemas_gamma import GammaEvent, GammaMarket, GammaTag

log = logging.getLogger("autotrader.venue.gamma")

T = TypeVar("T")
Params = Mapping[str, str | int]

# Retry-After beyond this is not a hint we would honour (and not seconds, most likely).
_MAX_RETRY_AFTER = 3600.0


def _retry_after(response: httpx.Response) -> float | None:
    try:
        secs = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return secs if 0 <= secs <= _MAX_RETRY_AFTER else None


def _unavailable(where: str, response: httpx.Response) -> VenueUnavailable | None:
    status = response.status_code
    detail = f"{where}: HTTP {status} {error_message(response.content)}".rstrip()
    if status == 425:
        return VenueUnavailable(
            detail, kind="engine_restart", status=status, retry_after_secs=_retry_after(response)
        )
    if status == 429:
        return VenueUnavailable(
            detail, kind="throttled", status=status, retry_after_secs=_retry_after(response)
        )
    if status >= 500:
        return VenueUnavailable(
            detail, kind="server", status=status, retry_after_secs=_retry_after(response)
        )
    return None


async def fetch_json(http: httpx.AsyncClient, url: str, params: Params | None = None) -> Any | None:
    """GET ``url`` and decode its JSON body; None on 404.

    Transport trouble, 425, 429 and 5xx raise ``VenueUnavailable``; other non-2xx statuses
    raise ``VenueRefused`` with the reason read from the body; bad JSON raises ``DataError``.
    """
    where = f"GET {url}"
    try:
        response = await http.get(url, params=params)
    except httpx.TimeoutException as exc:
        raise VenueUnavailable(
            f"{where}: timed out ({type(exc).__name__})", kind="timeout"
        ) from None
    except httpx.HTTPError as exc:
        # One line, short (not feeds.wire.one_line: importing the feeds package costs the
        # executor every price feed and a websocket library).
        detail = " ".join((str(exc) or type(exc).__name__).split())[:160]
        raise VenueUnavailable(f"{where}: {detail}", kind="connection") from None
    if response.status_code == 404:
        return None
    unavailable = _unavailable(where, response)
    if unavailable is not None:
        raise unavailable
    if response.status_code // 100 != 2:
        body = error_message(response.content)
        raise VenueRefused(
            f"{where}: HTTP {response.status_code} {body}".rstrip(),
            reason=reason_from_error(response.status_code, response.content),
            status=response.status_code,
        )
    return loads_bounded(response.content, where)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _each(payload: Any, kind: str, convert: Callable[[Any], T]) -> list[T]:
    """Convert each item of a JSON array; a malformed item is logged and skipped.

    One odd market must not hide a whole page of good ones; a body that is not an array at
    all is a ``DataError``.
    """
    if not isinstance(payload, list):
        raise DataError(f"{kind}: expected a JSON array, got {type(payload).__name__}")
    out: list[T] = []
    for i, item in enumerate(payload):
        try:
            out.append(convert(item))
        except DataError as exc:
            log.warning("skipping %s[%d]: %s", kind, i, exc)
    return out


class GammaClient:
    """Markets and events from Gamma, as domain objects."""

    def __init__(self, base_url: str, http: httpx.AsyncClient) -> None:
        self._base = base_url.rstrip("/")
        self._http = http

    async def _get(self, path: str, params: Params | None = None) -> Any | None:
        return await fetch_json(self._http, f"{self._base}{path}", params)

    async def market_by_slug(self, slug: str) -> Market | None:
        """The market with ``slug`` (open or closed), None if Gamma does not know it (yet)."""
        payload = await self._get(f"/markets/slug/{slug}")
        return None if payload is None else parse_gamma_market(payload)

    async def market_by_id(self, market_id: str) -> Market | None:
        """The market with Gamma id ``market_id``, or None."""
        payload = await self._get(f"/markets/{market_id}")
        return None if payload is None else parse_gamma_market(payload)

    async def event_by_slug(self, slug: str) -> Event | None:
        """The event with ``slug`` and its markets, or None."""
        payload = await self._get(f"/events/slug/{slug}")
        return None if payload is None else parse_gamma_event(payload)

    async def event_by_id(self, event_id: str) -> Event | None:
        """The event with Gamma id ``event_id`` and its markets, or None."""
        payload = await self._get(f"/events/{event_id}")
        return None if payload is None else parse_gamma_event(payload)

    async def tag_id(self, tag: str) -> str | None:
        """The numeric id of ``tag`` (a slug, or already an id); None if Gamma has no such tag."""
        if tag.isdigit():
            return tag
        payload = await self._get(f"/tags/slug/{tag}")
        if payload is None:
            return None
        return validate(GammaTag, payload, "gamma tag").id

    async def market_params(self, q: MarketQuery) -> dict[str, str | int] | None:
        """The /markets query string for ``q``; None when its tag does not exist."""
        params: dict[str, str | int] = {"limit": q.limit, "offset": q.offset, "include_tag": "true"}
        # Gamma hides closed markets unless told otherwise; closed=None leaves its default.
        if q.closed is not None:
            params["closed"] = _flag(q.closed)
        if q.active is not None:
            params["active"] = _flag(q.active)
        if q.tag is not None:
            tag_id = await self.tag_id(q.tag)
            if tag_id is None:
                return None
            params["tag_id"] = tag_id
        if q.min_volume_usd is not None:
            params["volume_num_min"] = str(q.min_volume_usd)
        if q.min_liquidity_usd is not None:
            params["liquidity_num_min"] = str(q.min_liquidity_usd)
        if q.end_before is not None:
            params["end_date_max"] = _iso(q.end_before)
        if q.end_after is not None:
            params["end_date_min"] = _iso(q.end_after)
        return params

    async def markets(self, q: MarketQuery) -> list[Market]:
        """One page of markets matching ``q`` (``q.limit`` from ``q.offset``).

        Gamma has no text filter on /markets: ``q.text`` is applied to the page here, so a
        page may hold fewer than ``q.limit`` markets even when more exist.
        """
        params = await self.market_params(q)
        if params is None:
            return []
        payload = await self._get("/markets", params)
        if payload is None:
            return []
        found = _each(payload, "gamma markets", _market_item)
        if q.text is not None:
            needle = q.text.lower()
            found = [m for m in found if needle in f"{m.question} {m.slug}".lower()]
        return found

    async def all_markets(
        self, q: MarketQuery, *, page_size: int = 100, max_items: int = 1000
    ) -> list[Market]:
        """Every market matching ``q`` from ``q.offset`` on, page by page, up to ``max_items``.

        Stops at the first short page (Gamma's end of results).
        """
        params = await self.market_params(q)
        out: list[Market] = []
        offset = q.offset
        while params is not None and len(out) < max_items:
            limit = min(page_size, max_items - len(out))
            payload = await self._get("/markets", {**params, "limit": limit, "offset": offset})
            if payload is None:
                break
            if not isinstance(payload, list):
                kind = type(payload).__name__
                raise DataError(f"gamma markets: expected a JSON array, got {kind}")
            out.extend(_each(payload, "gamma markets", _market_item))
            if len(payload) < limit:
                break
            offset += len(payload)
        if q.text is not None:
            needle = q.text.lower()
            out = [m for m in out if needle in f"{m.question} {m.slug}".lower()]
        return out

    async def events(
        self,
        *,
        tag: str | None = None,
        closed: bool | None = False,
        active: bool | None = True,
        limit: int = 100,
        offset: int = 0,
        slug: str | None = None,
    ) -> list[Event]:
        """One page of events (``tag`` is a slug or a numeric id; closed hidden by default)."""
        params: dict[str, str | int] = {"limit": limit, "offset": offset}
        if closed is not None:
            params["closed"] = _flag(closed)
        if active is not None:
            params["active"] = _flag(active)
        if tag is not None:
            params["tag_id" if tag.isdigit() else "tag_slug"] = tag
        if slug is not None:
            params["slug"] = slug
        payload = await self._get("/events", params)
        if payload is None:
            return []
        return _each(payload, "gamma events", _event_item)


def _market_item(item: Any) -> Market:
    return market_from_gamma(validate(GammaMarket, item, "gamma market"))


def _event_item(item: Any) -> Event:
    return event_from_gamma(validate(GammaEvent, item, "gamma event"))


__all__ = ["GammaClient", "fetch_json"]
