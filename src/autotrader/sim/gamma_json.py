"""Gamma market and event objects, key for key as gamma-api.polymarket.com writes them.

Field order and types follow tests/fixtures/polymarket/gamma_market_btc_updown_15m.json (the
15-minute BTC market), the 5-minute fixtures (fee fields, nested ``events[]``,
``cryptoMarketConfig``) and gamma_events_negrisk_multimarket.json (events, tags).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from autotrader.sim import ids
from autotrader.sim.markets import SimEvent, SimMarket
from autotrader.sim.serialize import dec_str, iso_date, iso_z, json_str_list
from autotrader.sim.views import SimMarketStats

StatsFn = Callable[[SimMarket], SimMarketStats]

# The base fees Gamma lists for fee-bearing crypto markets (makerBaseFee/takerBaseFee, bps).
CRYPTO_BASE_FEE_BPS = 1000
# Gamma's 0..1 "how close to 50/50" score; the simulator does not model it.
COMPETITIVE = Decimal("0.95")
TAG_LABELS = {"15M": "15M", "up-or-down": "Up or Down", "nba": "NBA", "fed": "Fed"}


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _iso(ts: float) -> str | None:
    return iso_z(_dt(ts))


def tag_json(slug: str, now: float) -> dict[str, Any]:
    """A Gamma tag object for ``slug``."""
    label = TAG_LABELS.get(slug) or slug.replace("-", " ").title()
    return {
        "id": ids.tag_id(slug),
        "label": label,
        "slug": slug,
        "forceShow": False,
        "createdAt": "2024-01-01T00:00:00Z",
        "updatedAt": _iso(now),
        "requiresTranslation": False,
    }


def _fee_fields(m: SimMarket) -> dict[str, Any]:
    if m.fees.is_free:
        return {"feesEnabled": False, "requiresTranslation": False, "feeType": None}
    fee = m.fees
    return {
        "feesEnabled": True,
        "requiresTranslation": False,
        "makerRebatesFeeShareBps": 10000,
        "feeType": "crypto_fees",
        "feeSchedule": {
            "exponent": fee.exponent,
            "rate": fee.rate,
            "takerOnly": fee.taker_only,
            "rebateRate": fee.rebate_rate,
        },
    }


def _quote_fields(s: SimMarketStats) -> dict[str, Any]:
    # Gamma omits the book-derived numbers when it has none (closed, empty book).
    out: dict[str, Any] = {}
    for key, value in (
        ("spread", s.spread),
        ("lastTradePrice", s.last_trade_price),
        ("bestBid", s.best_bid),
        ("bestAsk", s.best_ask),
    ):
        if value is not None:
            out[key] = value
    return out


def _volume_fields(s: SimMarketStats, suffix: str) -> dict[str, Any]:
    return {
        f"volume24hr{suffix}": s.volume_24h,
        f"volume1wk{suffix}": s.volume_24h,
        f"volume1mo{suffix}": s.volume,
        f"volume1yr{suffix}": s.volume,
    }


def _head(m: SimMarket, s: SimMarketStats, now: float) -> dict[str, Any]:
    return {
        "id": m.id,
        "question": m.question,
        "conditionId": m.condition_id,
        "slug": m.slug,
        "resolutionSource": m.resolution_source,
        "endDate": _iso(m.end_date),
        "liquidity": dec_str(s.liquidity),
        "startDate": _iso(m.start_date),
        "image": m.image,
        "icon": m.image,
        "description": m.description,
        "outcomes": json_str_list(m.outcomes),
        "outcomePrices": json_str_list(dec_str(p) for p in s.outcome_prices),
        "volume": dec_str(s.volume),
        "active": True,
        "closed": m.closed,
        "marketMakerAddress": "",
        "createdAt": _iso(m.created_at),
        "updatedAt": _iso(now),
        "new": False,
        "featured": False,
        "archived": False,
        "restricted": True,
        "groupItemThreshold": "0",
        "questionID": m.question_id,
        "enableOrderBook": True,
        "orderPriceMinTickSize": s.tick_size,
        "orderMinSize": m.min_order_size,
        "volumeNum": s.volume,
        "liquidityNum": s.liquidity,
        "endDateIso": iso_date(_dt(m.end_date)),
        "startDateIso": iso_date(_dt(m.start_date)),
        "hasReviewedDates": True,
        **_volume_fields(s, ""),
        "clobTokenIds": json_str_list(m.token_ids),
        **_volume_fields(s, "Clob"),
        "volumeClob": s.volume,
        "liquidityClob": s.liquidity,
    }


def _tail(m: SimMarket, s: SimMarketStats) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ready": False,
        "funded": False,
        "acceptingOrdersTimestamp": _iso(m.start_date),
        "cyom": False,
        "competitive": COMPETITIVE,
        "pagerDutyNotificationEnabled": False,
        "approved": True,
        "rewardsMinSize": 0,
        "rewardsMaxSpread": 0,
        **_quote_fields(s),
        "automaticallyActive": True,
        "clearBookOnStart": False,
        "showGmpSeries": False,
        "showGmpOutcome": False,
        "manualActivation": False,
        "negRiskOther": False,
        "umaResolutionStatuses": '["resolved"]' if m.closed else "[]",
        "pendingDeployment": False,
        "deploying": False,
        "rfqEnabled": False,
    }
    if m.window_start is not None:
        out["eventStartTime"] = _iso(m.window_start)
    out["holdingRewardsEnabled"] = False
    out.update(_fee_fields(m))
    if m.window_start is not None:
        out["cryptoMarketConfig"] = {
            "id": "btc-15m-twap-60",
            "asset": "btc",
            "duration": "15m",
            "twapEnabled": True,
            "twapLookbackSeconds": 60,
        }
    if m.closed and m.closed_at is not None:
        out["closedTime"] = _iso(m.closed_at)
    return out


def gamma_market(
    m: SimMarket,
    s: SimMarketStats,
    now: float,
    *,
    event: SimEvent | None = None,
    event_stats: StatsFn | None = None,
    include_tags: bool = False,
) -> dict[str, Any]:
    """One Gamma market; with ``event`` its ``events[]`` (carrying ``eventMetadata``)."""
    out = _head(m, s, now)
    if not m.fees.is_free:
        out["makerBaseFee"] = CRYPTO_BASE_FEE_BPS
        out["takerBaseFee"] = CRYPTO_BASE_FEE_BPS
    out["acceptingOrders"] = s.accepting_orders
    out["negRisk"] = m.neg_risk
    if event is not None and event_stats is not None:
        out["events"] = [gamma_event(event, now, event_stats, with_markets=False)]
    out.update(_tail(m, s))
    if include_tags:
        out["tags"] = [tag_json(t, now) for t in m.tags]
    return out


def _event_metadata(e: SimEvent) -> dict[str, Any] | None:
    m = e.markets[0]
    meta: dict[str, Any] = {}
    if m.price_to_beat is not None:
        meta["priceToBeat"] = m.price_to_beat
    if m.final_price is not None:
        meta["finalPrice"] = m.final_price
    return meta or None


def _series(e: SimEvent, now: float) -> list[dict[str, Any]]:
    return [
        {
            "id": "10192",
            "ticker": "btc-up-or-down-15m",
            "slug": "btc-up-or-down-15m",
            "title": "BTC Up or Down 15m",
            "seriesType": "single",
            "recurrence": "15m",
            "image": e.markets[0].image,
            "icon": e.markets[0].image,
            "active": True,
            "closed": False,
            "archived": False,
            "featured": False,
            "restricted": True,
            "createdAt": "2025-10-01T00:00:00Z",
            "updatedAt": _iso(now),
            "requiresTranslation": False,
        }
    ]


def gamma_event(e: SimEvent, now: float, stats: StatsFn, *, with_markets: bool) -> dict[str, Any]:
    """One Gamma event; ``with_markets`` embeds its full market objects (GET /events)."""
    all_stats = [stats(m) for m in e.markets]
    volume = sum((s.volume for s in all_stats), Decimal(0))
    liquidity = sum((s.liquidity for s in all_stats), Decimal(0))
    volume_24h = sum((s.volume_24h for s in all_stats), Decimal(0))
    first = e.markets[0]
    btc = first.window_start is not None
    out: dict[str, Any] = {
        "id": e.id,
        "ticker": e.slug,
        "slug": e.slug,
        "title": e.title,
        "description": e.description,
        "resolutionSource": first.resolution_source,
        "startDate": _iso(e.start_date),
        "creationDate": _iso(min(m.created_at for m in e.markets)),
        "endDate": _iso(e.end_date),
        "image": first.image,
        "icon": first.image,
        "active": True,
        "closed": e.closed,
        "archived": False,
        "new": False,
        "featured": False,
        "restricted": True,
        "liquidity": liquidity,
        "volume": volume,
        "openInterest": 0,
        "createdAt": _iso(min(m.created_at for m in e.markets)),
        "updatedAt": _iso(now),
        "competitive": COMPETITIVE,
        "volume24hr": volume_24h,
        "volume1wk": volume_24h,
        "volume1mo": volume,
        "volume1yr": volume,
        "enableOrderBook": True,
        "liquidityClob": liquidity,
        "negRisk": any(m.neg_risk for m in e.markets),
        "commentCount": 0,
    }
    if with_markets:
        out["markets"] = [
            gamma_market(m, s, now) for m, s in zip(e.markets, all_stats, strict=True)
        ]
    out["tags"] = [tag_json(t, now) for t in e.tags]
    if btc:
        out["series"] = _series(e, now)
    out.update({"cyom": False, "showAllOutcomes": True, "showMarketImages": True})
    out.update({"enableNegRisk": out["negRisk"], "automaticallyActive": True})
    if btc:
        out["startTime"] = _iso(first.window_start or 0)
        out["seriesSlug"] = "btc-up-or-down-15m"
    meta = _event_metadata(e)
    if meta is not None:
        out["eventMetadata"] = meta
    out.update({"negRiskAugmented": False, "pendingDeployment": False, "deploying": False})
    out["requiresTranslation"] = False
    return out
