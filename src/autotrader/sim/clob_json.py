"""CLOB and Data API objects, key for key as the real endpoints write them.

Shapes follow tests/fixtures/polymarket: clob_book.json (bids ascending and asks descending, so
the best level is LAST), clob_market_by_condition_id.json, clob_clob_markets_*.json (the
compact per-market shape, ``nr``/``fd``/``mbf``/``tbf`` only when set), clob_data_orders_page.json,
clob_data_trade_object.json and data_v2_positions.json / data_v2_trades_page_envelope.json.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from autotrader.sim.ledger import SimMakerFill, SimOrderState, SimTrade
from autotrader.sim.markets import SimMarket
from autotrader.sim.serialize import dec_str, iso_date, opt_dec_str
from autotrader.sim.views import SimBook, SimMarketStats, SimPosition

CRYPTO_BASE_FEE_BPS = 1000


def _iso_secs(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _levels(levels: list[tuple[Decimal, Decimal]]) -> list[dict[str, str]]:
    # The world keeps levels best first; the wire lists them worst first (best LAST).
    return [{"price": dec_str(p), "size": dec_str(s)} for p, s in reversed(levels)]


def book_json(book: SimBook) -> dict[str, Any]:
    """GET /book (and each item of POST /books)."""
    return {
        "market": book.market,
        "asset_id": book.token_id,
        "timestamp": str(book.ts_ms),
        "hash": book.hash,
        "bids": _levels(book.bids),
        "asks": _levels(book.asks),
        "min_order_size": dec_str(book.min_order_size),
        "tick_size": dec_str(book.tick_size),
        "neg_risk": book.neg_risk,
        "last_trade_price": opt_dec_str(book.last_trade_price),
    }


def clob_market_info(m: SimMarket, stats: SimMarketStats) -> dict[str, Any]:
    """GET /clob-markets/{condition_id}: the compact trading parameters."""
    out: dict[str, Any] = {
        "r": {"mi": 0, "ma": 0, "e": False, "moas": 30},
        "t": [{"t": t, "o": o} for t, o in zip(m.token_ids, m.outcomes, strict=True)],
        "c": m.condition_id,
        "mos": m.min_order_size,
        "mts": stats.tick_size,
    }
    if not m.fees.is_free:
        out["mbf"] = CRYPTO_BASE_FEE_BPS
        out["tbf"] = CRYPTO_BASE_FEE_BPS
    out["ao"] = stats.accepting_orders
    if m.neg_risk:
        out["nr"] = True
    out.update({"cbos": True, "aot": _iso_secs(m.start_date), "ibce": True})
    if not m.fees.is_free:
        out["fd"] = {"r": m.fees.rate, "e": m.fees.exponent, "to": m.fees.taker_only}
    return out


def clob_market(m: SimMarket, stats: SimMarketStats) -> dict[str, Any]:
    """The CLOB's own market object (GET /markets/{condition_id})."""
    base_fee = 0 if m.fees.is_free else CRYPTO_BASE_FEE_BPS
    tokens = [
        {
            "token_id": token,
            "outcome": outcome,
            "price": price,
            "winner": m.closed and m.winner == outcome,
        }
        for token, outcome, price in zip(m.token_ids, m.outcomes, stats.outcome_prices, strict=True)
    ]
    return {
        "enable_order_book": True,
        "active": True,
        "closed": m.closed,
        "archived": False,
        "accepting_orders": stats.accepting_orders,
        "accepting_order_timestamp": _iso_secs(m.start_date),
        "minimum_order_size": m.min_order_size,
        "minimum_tick_size": stats.tick_size,
        "condition_id": m.condition_id,
        "question_id": m.question_id,
        "question": m.question,
        "description": m.description,
        "market_slug": m.slug,
        "end_date_iso": _iso_secs(m.end_date),
        "game_start_time": None,
        "seconds_delay": 0,
        "fpmm": "",
        "maker_base_fee": base_fee,
        "taker_base_fee": base_fee,
        "notifications_enabled": False,
        "neg_risk": m.neg_risk,
        "neg_risk_market_id": "",
        "neg_risk_request_id": "",
        "icon": m.image,
        "image": m.image,
        "rewards": {"rates": None, "min_size": 0, "max_spread": 0},
        "is_50_50_outcome": False,
        "tokens": tokens,
        "tags": [t.replace("-", " ").title() for t in m.tags],
    }


def order_json(o: SimOrderState) -> dict[str, Any]:
    """One order of /data/orders or /data/order/{id}."""
    return {
        "associate_trades": list(o.associate_trades),
        "id": o.id,
        "status": o.status,
        "market": o.market,
        "original_size": dec_str(o.original_size),
        "outcome": o.outcome,
        "maker_address": o.maker_address,
        "owner": o.owner,
        "price": dec_str(o.price),
        "side": str(o.side),
        "size_matched": dec_str(o.size_matched),
        "asset_id": o.asset_id,
        # No expiration is null on the wire (clob_data_orders_page.json), not "0".
        "expiration": str(o.expiration) if o.expiration else None,
        "order_type": str(o.order_type),
        "created_at": o.created_at,
    }


def _maker_json(f: SimMakerFill) -> dict[str, Any]:
    return {
        "order_id": f.order_id,
        "owner": f.owner,
        "maker_address": f.maker_address,
        "matched_amount": dec_str(f.matched_amount),
        "price": dec_str(f.price),
        "fee_rate_bps": f.fee_rate_bps,
        "asset_id": f.asset_id,
        "outcome": f.outcome,
        "side": str(f.side),
    }


def trade_json(t: SimTrade) -> dict[str, Any]:
    """One trade of /data/trades (times as epoch-second strings, like the real object)."""
    return {
        "id": t.id,
        "taker_order_id": t.taker_order_id,
        "market": t.market,
        "asset_id": t.asset_id,
        "side": str(t.side),
        "size": dec_str(t.size),
        "fee_rate_bps": t.fee_rate_bps,
        "price": dec_str(t.price),
        "status": t.status,
        "match_time": str(t.match_time),
        "last_update": str(t.last_update),
        "outcome": t.outcome,
        "bucket_index": t.bucket_index,
        "owner": t.owner,
        "maker_address": t.maker_address,
        "transaction_hash": t.transaction_hash,
        "maker_orders": [_maker_json(f) for f in t.maker_orders],
        "trader_side": t.trader_side,
    }


def position_json(p: SimPosition) -> dict[str, Any]:
    """One Data API /v2/positions row."""
    cost = p.entry_cost + p.entry_fees
    percent = (p.total_pnl / cost * 100).quantize(Decimal("0.0001")) if cost else Decimal(0)
    return {
        "proxy_wallet": p.wallet,
        "token_id": p.token_id,
        "condition_id": p.condition_id,
        "current_size": p.size,
        "avg_price": p.avg_price,
        "entry_cost_usdc": p.entry_cost,
        "entry_fees_usdc": p.entry_fees,
        "total_cost_usdc": cost,
        "current_price": p.current_price,
        "current_value": p.current_value,
        "total_size": p.total_bought,
        "realized_pnl": p.realized_pnl,
        "unrealized_pnl": p.unrealized_pnl,
        "total_pnl": p.total_pnl,
        "percent_pnl": percent,
        "percent_realized_pnl": Decimal(0),
        "status": "CLOSED" if p.redeemable else "OPEN",
        "redeemable": p.redeemable,
        "mergeable": False,
        "negative_risk": p.negative_risk,
        "archived": False,
        "title": p.title,
        "slug": p.slug,
        "icon": p.icon,
        "event_id": p.event_id,
        "event_slug": p.event_slug,
        "outcome": p.outcome,
        "outcome_index": p.outcome_index,
        "opposite_outcome": p.opposite_outcome,
        "opposite_token_id": p.opposite_token_id,
        "end_date": iso_date(datetime.fromtimestamp(p.end_date, UTC)),
        "last_event_at": p.last_event_at,
        "name": "",
        "profile_image": "",
        "verified": False,
    }


def data_trade_json(
    wallet: str, t: SimTrade, market: SimMarket | None, fills: list[SimMakerFill]
) -> dict[str, Any]:
    """One Data API /v2/trades row: ``wallet``'s side of ``t`` (its maker fills if MAKER)."""
    if fills:
        side, asset, price = fills[0].side, fills[0].asset_id, fills[0].price
        size = sum((f.matched_amount for f in fills), Decimal(0))
    else:
        side, asset, price, size = t.side, t.asset_id, t.price, t.size
    idx = market.token_ids.index(asset) if market and asset in market.token_ids else 0
    return {
        "proxy_wallet": wallet,
        "side": str(side),
        "token_id": asset,
        "condition_id": t.market,
        "size": size,
        "price": price,
        "timestamp": t.match_time,
        "title": market.question if market else "",
        "slug": market.slug if market else "",
        "icon": market.image if market else "",
        "event_slug": market.event_slug if market else "",
        "outcome": market.outcomes[idx] if market else t.outcome,
        "outcome_index": idx,
        "name": "",
        "pseudonym": "",
        "bio": "",
        "profile_image": "",
        "profile_image_optimized": "",
        "transaction_hash": t.transaction_hash,
    }
