"""Gamma API routes (gamma-api.polymarket.com): markets and events, in the real JSON shapes.

Quirks copied on purpose (see tests/fixtures/polymarket/gamma_*.json):
* ``outcomes``, ``outcomePrices`` and ``clobTokenIds`` are JSON-encoded *strings*;
* ``volume`` and ``liquidity`` are strings on a market but numbers on an event, while
  ``volumeNum``/``liquidityNum``/``orderPriceMinTickSize`` are numbers;
* ``/markets`` and ``/events`` hide closed markets unless ``closed=true`` (then only closed ones
  are listed), also when asked for by slug — the by-slug/by-id paths always answer;
* a market carries its event in ``events[]``, whose ``eventMetadata`` holds ``priceToBeat`` (and
  ``finalPrice`` once resolved) for the BTC up/down windows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from autotrader.sim import ids
from autotrader.sim.gamma_json import gamma_event, gamma_market, tag_json
from autotrader.sim.markets import SimEvent, SimMarket
from autotrader.sim.routing import HttpError, Request, Route, SimContext
from autotrader.sim.views import SimMarketStats

_SPACED_OFFSET = re.compile(r" (\d{2}:?\d{2})$")
MAX_LIMIT = 500
DEFAULT_LIMIT = 100


# --- query parameters ---------------------------------------------------------------------------


def q_bool(req: Request, name: str) -> bool | None:
    """A true/false parameter; HttpError 400 for anything else."""
    raw = req.param(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise HttpError(400, f"invalid {name}: expected true or false, got {raw[:40]!r}")


def q_int(req: Request, name: str, default: int, *, lo: int = 0, hi: int = 10**9) -> int:
    """An integer parameter within [lo, hi]; HttpError 400 otherwise."""
    raw = req.param(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HttpError(400, f"invalid {name}: expected an integer, got {raw[:40]!r}") from None
    if not lo <= value <= hi:
        raise HttpError(400, f"invalid {name}: must be within {lo}..{hi}")
    return value


def q_decimal(req: Request, name: str) -> Decimal | None:
    """A decimal parameter; HttpError 400 when it is not a finite number."""
    raw = req.param(name)
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(raw)
    except ArithmeticError:
        value = Decimal("NaN")
    if not value.is_finite():
        raise HttpError(400, f"invalid {name}: expected a number, got {raw[:40]!r}")
    return value


def q_time(req: Request, name: str) -> float | None:
    """An ISO 8601 date/time (``Z`` or offset; UTC when none) or epoch seconds."""
    raw = req.param(name)
    if raw is None or raw == "":
        return None
    if raw.isdigit():
        return float(raw)
    # A "+01:00" offset arrives as " 01:00" when the client did not escape the plus sign.
    text = _SPACED_OFFSET.sub(r"+\1", raw.strip()).replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise HttpError(
            400, f"invalid {name}: expected an ISO 8601 date, got {raw[:40]!r}"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


# --- filters ------------------------------------------------------------------------------------


class _Stats:
    """Market stats computed at most once per market per request (they walk the book)."""

    def __init__(self, ctx: SimContext) -> None:
        self._world = ctx.world
        self._cache: dict[str, SimMarketStats] = {}

    def __call__(self, m: SimMarket) -> SimMarketStats:
        cached = self._cache.get(m.condition_id)
        if cached is None:
            cached = self._cache[m.condition_id] = self._world.market_stats(m)
        return cached


def _tag_match(req: Request, tags: tuple[str, ...]) -> bool:
    tag_slug, tag_id = req.param("tag_slug"), req.param("tag_id")
    lowered = {t.lower() for t in tags}
    if tag_slug and tag_slug.lower() not in lowered:
        return False
    return not tag_id or tag_id in {ids.tag_id(t) for t in tags}


def _dates_match(req: Request, start: float, end: float) -> bool:
    bounds = [
        (q_time(req, f"{what}_date_{mm}"), what, mm)
        for what in ("start", "end")
        for mm in ("min", "max")
    ]
    for bound, what, mm in bounds:
        value = start if what == "start" else end
        if bound is not None and (value < bound if mm == "min" else value > bound):
            return False
    return True


def _amounts_match(req: Request, volume: Decimal, liquidity: Decimal, suffix: str) -> bool:
    for name, value in (("volume", volume), ("liquidity", liquidity)):
        lo, hi = q_decimal(req, f"{name}{suffix}_min"), q_decimal(req, f"{name}{suffix}_max")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return False
    return True


def _closed_wanted(req: Request) -> bool:
    # The real quirk: without closed=true, closed markets are simply not there.
    return q_bool(req, "closed") or False


def _page(req: Request, items: list[Any]) -> list[Any]:
    limit = q_int(req, "limit", DEFAULT_LIMIT, lo=0, hi=MAX_LIMIT)
    offset = q_int(req, "offset", 0)
    return items[offset : offset + limit]


_MARKET_ORDER: dict[str, Callable[[SimMarket, SimMarketStats], Any]] = {
    "id": lambda m, s: int(m.id),
    "volume": lambda m, s: s.volume,
    "volumeNum": lambda m, s: s.volume,
    "volume24hr": lambda m, s: s.volume_24h,
    "liquidity": lambda m, s: s.liquidity,
    "liquidityNum": lambda m, s: s.liquidity,
    "startDate": lambda m, s: m.start_date,
    "endDate": lambda m, s: m.end_date,
    "createdAt": lambda m, s: m.created_at,
}


def _ordered(req: Request, items: list[Any], key: Callable[[str, Any], Any]) -> list[Any]:
    """``items`` sorted by the ``order`` parameter (descending unless ``ascending=true``)."""
    order = req.param("order")
    if not order:
        return items
    if order not in _MARKET_ORDER:
        raise HttpError(
            400, f"invalid order: {order[:40]!r}; use one of {', '.join(_MARKET_ORDER)}"
        )
    ascending = q_bool(req, "ascending") or False
    return sorted(items, key=lambda item: key(order, item), reverse=not ascending)


def _select_markets(ctx: SimContext, req: Request, stats: _Stats) -> list[SimMarket]:
    wanted = {
        "slug": set(req.params("slug")),
        "id": set(req.params("id")),
        "condition_ids": {c.lower() for c in req.params("condition_ids")},
        "clob_token_ids": set(req.params("clob_token_ids")),
    }
    closed, active = _closed_wanted(req), q_bool(req, "active")
    out = []
    for m in ctx.world.markets():
        if (
            (wanted["slug"] and m.slug not in wanted["slug"])
            or (wanted["id"] and m.id not in wanted["id"])
            or (wanted["condition_ids"] and m.condition_id not in wanted["condition_ids"])
            or (wanted["clob_token_ids"] and not wanted["clob_token_ids"] & set(m.token_ids))
            or m.closed != closed
            or active is False  # every simulated market stays active, as Gamma's do
            or not _tag_match(req, m.tags)
            or not _dates_match(req, m.start_date, m.end_date)
        ):
            continue
        s = stats(m)
        if _amounts_match(req, s.volume, s.liquidity, "_num"):
            out.append(m)
    return out


# --- handlers -----------------------------------------------------------------------------------


def _market_json(ctx: SimContext, m: SimMarket, stats: _Stats, req: Request) -> dict[str, Any]:
    event = ctx.world.event_by_id(m.event_id)
    return gamma_market(
        m,
        stats(m),
        ctx.world.now,
        event=event,
        event_stats=stats,
        include_tags=q_bool(req, "include_tag") or False,
    )


def list_markets(ctx: SimContext, req: Request) -> list[dict[str, Any]]:
    """GET /markets."""
    stats = _Stats(ctx)
    markets = _ordered(
        req, _select_markets(ctx, req, stats), lambda order, m: _MARKET_ORDER[order](m, stats(m))
    )
    return [_market_json(ctx, m, stats, req) for m in _page(req, markets)]


def market_by_id(ctx: SimContext, req: Request, market_id: str) -> Any:
    """GET /markets/{id}; a 0x… id is the CLOB's /markets/{condition_id} on the same port."""
    if market_id.startswith("0x"):
        from autotrader.sim.routes_clob import clob_market

        return clob_market(ctx, req, market_id)
    m = ctx.world.market_by_id(market_id)
    if m is None:
        raise HttpError(404, "market not found")
    return _market_json(ctx, m, _Stats(ctx), req)


def market_by_slug(ctx: SimContext, req: Request, slug: str) -> dict[str, Any]:
    """GET /markets/slug/{slug} (closed markets too)."""
    m = ctx.world.market_by_slug(slug)
    if m is None:
        raise HttpError(404, "market not found")
    return _market_json(ctx, m, _Stats(ctx), req)


def _event_json(ctx: SimContext, e: SimEvent, stats: _Stats) -> dict[str, Any]:
    return gamma_event(e, ctx.world.now, stats, with_markets=True)


def _event_totals(e: SimEvent, stats: _Stats) -> tuple[Decimal, Decimal]:
    return (
        sum((stats(m).volume for m in e.markets), Decimal(0)),
        sum((stats(m).liquidity for m in e.markets), Decimal(0)),
    )


def list_events(ctx: SimContext, req: Request) -> list[dict[str, Any]]:
    """GET /events."""
    stats = _Stats(ctx)
    slugs, wanted_ids = set(req.params("slug")), set(req.params("id"))
    closed, active = _closed_wanted(req), q_bool(req, "active")
    events = []
    for e in ctx.world.events():
        if (
            (slugs and e.slug not in slugs)
            or (wanted_ids and e.id not in wanted_ids)
            or e.closed != closed
            or active is False
            or not _tag_match(req, e.tags)
            or not _dates_match(req, e.start_date, e.end_date)
        ):
            continue
        volume, liquidity = _event_totals(e, stats)
        if _amounts_match(req, volume, liquidity, ""):
            events.append(e)
    events = _ordered(req, events, lambda order, e: _event_sort_key(order, e, stats))
    return [_event_json(ctx, e, stats) for e in _page(req, events)]


def _event_sort_key(order: str, e: SimEvent, stats: _Stats) -> Any:
    if order == "id":
        return int(e.id)
    return max(_MARKET_ORDER[order](m, stats(m)) for m in e.markets)


def event_by_id(ctx: SimContext, req: Request, event_id: str) -> dict[str, Any]:
    """GET /events/{id}."""
    e = ctx.world.event_by_id(event_id)
    if e is None:
        raise HttpError(404, "event not found")
    return _event_json(ctx, e, _Stats(ctx))


def event_by_slug(ctx: SimContext, req: Request, slug: str) -> dict[str, Any]:
    """GET /events/slug/{slug}."""
    e = ctx.world.event_by_slug(slug)
    if e is None:
        raise HttpError(404, "event not found")
    return _event_json(ctx, e, _Stats(ctx))


def _all_tags(ctx: SimContext) -> list[str]:
    return list(dict.fromkeys(t for m in ctx.world.markets() for t in m.tags))


def list_tags(ctx: SimContext, req: Request) -> list[dict[str, Any]]:
    """GET /tags: every tag some listed market carries."""
    return [tag_json(t, ctx.world.now) for t in _page(req, _all_tags(ctx))]


def tag_by_slug(ctx: SimContext, req: Request, slug: str) -> dict[str, Any]:
    """GET /tags/slug/{slug}."""
    found = next((t for t in _all_tags(ctx) if t.lower() == slug.lower()), None)
    if found is None:
        raise HttpError(404, "tag not found")
    return tag_json(found, ctx.world.now)


def tag_by_id(ctx: SimContext, req: Request, tag_id: str) -> dict[str, Any]:
    """GET /tags/{id}."""
    found = next((t for t in _all_tags(ctx) if ids.tag_id(t) == tag_id), None)
    if found is None:
        raise HttpError(404, "tag not found")
    return tag_json(found, ctx.world.now)


def routes() -> list[Route]:
    """The Gamma endpoints."""
    return [
        Route("GET", "/markets", list_markets),
        Route("GET", "/markets/slug/{slug}", market_by_slug),
        Route("GET", "/markets/{market_id}", market_by_id),
        Route("GET", "/events", list_events),
        Route("GET", "/events/slug/{slug}", event_by_slug),
        Route("GET", "/events/{event_id}", event_by_id),
        Route("GET", "/tags", list_tags),
        Route("GET", "/tags/slug/{slug}", tag_by_slug),
        Route("GET", "/tags/{tag_id}", tag_by_id),
    ]
