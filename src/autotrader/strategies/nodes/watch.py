"""``add_to_watchlist`` and ``remove_from_watchlist``: the strategy's watchlist in the database.

Every market is on a strategy's watchlist at most once; adding one already there changes
nothing (its original reason, time and metadata stay). The run collects what it added and
removed for its one ``watchlist_updated`` event.
"""

from __future__ import annotations

from datetime import timedelta

from autotrader.config_nodes import AddToWatchlist, RemoveFromWatchlist
from autotrader.store.repos_watchlist import WatchEntry, WatchlistRepo
from autotrader.strategies.items import MarketItem
from autotrader.strategies.nodes.base import PipelineRun


def watch_entry(
    item: MarketItem, run: PipelineRun, reason: str, expire_after: float | None
) -> WatchEntry:
    """The watchlist entry for ``item`` now: price and volume at the time, liquidity in meta."""
    expires = None if expire_after is None else run.now + timedelta(seconds=expire_after)
    meta: dict[str, object] = {"liquidity": item.liquidity, "source": "pipeline"}
    if item.market.end_date is not None:
        meta["end_date"] = item.market.end_date
    return WatchEntry(
        strategy=run.name,
        market_slug=item.slug,
        market_id=item.market.id,
        question=item.market.question,
        reason=reason,
        added_at=run.now,
        expires_at=expires,
        price_at_add=item.price,
        volume_at_add=item.volume,
        meta=meta,
    )


async def add_to_watchlist(
    spec: AddToWatchlist, items: list[MarketItem], run: PipelineRun
) -> list[MarketItem]:
    """Put each item on the watchlist (if not there yet); every item goes on."""
    repo = WatchlistRepo(run.ctx.engine)
    for item in items:
        if repo.add(watch_entry(item, run, spec.reason, spec.expire_after)):
            run.added.append(item.slug)
            item.watch_added_at = run.now
        elif item.watch_added_at is None:
            existing = repo.get(run.name, item.slug)
            item.watch_added_at = existing.added_at if existing else None
    return items


async def remove_from_watchlist(
    spec: RemoveFromWatchlist, items: list[MarketItem], run: PipelineRun
) -> list[MarketItem]:
    """Take each item off the watchlist; every item goes on."""
    repo = WatchlistRepo(run.ctx.engine)
    for item in items:
        if repo.remove(run.name, item.slug):
            run.removed.append(item.slug)
    return items
