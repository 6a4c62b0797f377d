"""Source nodes (``stream_markets``, ``monitor_watchlist``) and the book read they share.

Source nodes start a new list of items: whatever reached them is replaced by the markets they
emit (so one pipeline can first fill the watchlist and then monitor it, as in DESIGN.md §6).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial

from autotrader.config_nodes import MonitorWatchlist, StreamMarkets
from autotrader.domain.markets import Market, MarketQuery
from autotrader.store.repos_watchlist import WatchEntry, WatchlistRepo
from autotrader.strategies.items import MarketItem
from autotrader.strategies.nodes.base import ITEM_ERRORS, PipelineRun, gather_limited, log

# Gamma's largest page; longer listings are read page by page.
PAGE = 500
MAX_PAGES = 20


def market_query(spec: StreamMarkets, run: PipelineRun) -> MarketQuery:
    """The Gamma query of a ``stream_markets`` node at the run's time.

    ``active: false`` lifts the activity filter (it does not ask for inactive markets only);
    ``end_before_days`` also keeps out markets already past their end date. Both end bounds
    are whole minutes (rounded inwards), so the query is the same for every run of the same
    minute and the scheduler's read cache answers them all with one Gamma request.
    """
    end_before = end_after = None
    if spec.end_before_days is not None:
        end_before = _minute(run.now + timedelta(days=spec.end_before_days))
        end_after = _minute(run.now)
        if end_after < run.now:
            end_after += timedelta(minutes=1)
    return MarketQuery(
        tag=spec.tag,
        min_volume_usd=spec.min_volume_usd,
        min_liquidity_usd=spec.min_liquidity_usd,
        end_before=end_before,
        end_after=end_after,
        closed=False,
        active=True if spec.active else None,
        # With a text filter (applied here, not by Gamma) full pages waste fewer requests.
        limit=PAGE if spec.text else min(spec.limit, PAGE),
    )


def _minute(t: datetime) -> datetime:
    return t.replace(second=0, microsecond=0)


def _text_match(market: Market, text: str | None) -> bool:
    return text is None or text.lower() in f"{market.question} {market.slug}".lower()


async def stream_markets(
    spec: StreamMarkets, items: list[MarketItem], run: PipelineRun
) -> list[MarketItem]:
    """Markets from Gamma matching the node's filters, at most ``limit``, as new items.

    The text filter is applied here (Gamma's /markets has none), page by page, so ``limit``
    counts matching markets.
    """
    query = market_query(spec, run)
    found: list[Market] = []
    for page in range(MAX_PAGES):
        batch = await run.ctx.market_data.markets(replace(query, offset=page * query.limit))
        found.extend(m for m in batch if m.tokens and _text_match(m, spec.text))
        if len(batch) < query.limit or len(found) >= spec.limit:
            break
    unique = list({m.slug: m for m in found}.values())[: spec.limit]
    return [MarketItem.of(m) for m in unique]


async def read_book(item: MarketItem, run: PipelineRun) -> None:
    """Price (midpoint) and spread of the item's first outcome from the CLOB book."""
    if not item.market.tokens:
        raise ValueError("the market has no outcome tokens yet")
    book = await run.ctx.market_data.book(item.market.tokens[0].token_id)
    item.apply_book(book)


async def fresh_item(entry: WatchEntry, run: PipelineRun) -> MarketItem | None:
    """The watched market as it is now (Gamma and its book); None if gone or closed."""
    market = await run.ctx.market_data.market_by_slug(entry.market_slug)
    if market is None or market.closed or not market.tokens:
        log.info("%s: watched market %s is closed or gone", run.name, entry.market_slug)
        return None
    item = MarketItem.of(market)
    item.watch_added_at = entry.added_at
    await read_book(item, run)
    return item


async def monitor_watchlist(
    spec: MonitorWatchlist, items: list[MarketItem], run: PipelineRun
) -> list[MarketItem]:
    """The strategy's watched, unexpired markets with current price, spread, volume,
    liquidity and time on the watchlist (closed or vanished markets are left out)."""
    entries = WatchlistRepo(run.ctx.engine).list(run.name, now=run.now)

    async def load(entry: WatchEntry) -> MarketItem | None:
        try:
            return await fresh_item(entry, run)
        except ITEM_ERRORS as exc:
            run.drop_slug(entry.market_slug, spec.node_type, exc)
            return None

    loaded = await gather_limited([partial(load, e) for e in entries])
    return [item for item in loaded if item is not None]


__all__ = ["fresh_item", "monitor_watchlist", "read_book", "stream_markets"]
