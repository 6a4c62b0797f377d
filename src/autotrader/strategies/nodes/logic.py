"""``filter`` and ``condition``: keep the items for which a formula holds.

The two behave the same (a ``condition`` reads as the gate before an action). Formulas are
checked when the config loads (``autotrader.strategies.expr``); here they are only evaluated.
Two fields are fetched on demand when a formula needs them and no node has set them yet: the
book's ``spread`` (and midpoint ``price``) and ``minutes_on_watchlist``. Everything else that
is missing drops the item, naming the field (add ``check_momentum`` before ``momentum > 0``).
"""

from __future__ import annotations

from functools import lru_cache

from autotrader.config_nodes import Condition, Filter
from autotrader.store.repos_watchlist import WatchlistRepo
from autotrader.strategies.expr import Formula, compile_formula
from autotrader.strategies.items import MarketItem
from autotrader.strategies.nodes.base import ITEM_ERRORS, PipelineRun, per_item
from autotrader.strategies.nodes.markets import read_book

# Compiled formulas kept (syntax trees, ~1.5 KB each). Bounded rather than one per distinct
# formula: with thousands of strategies that would be a per-strategy cost kept for the
# daemon's life (and across reloads that drop the formula); a miss costs one compile
# (~0.1 ms), once per filter node run.
FORMULA_CACHE_SIZE = 256


@lru_cache(maxsize=FORMULA_CACHE_SIZE)
def formula(source: str) -> Formula:
    """The compiled formula (the most recently used ones stay compiled)."""
    return compile_formula(source)


async def _fill_on_demand(f: Formula, items: list[MarketItem], run: PipelineRun) -> None:
    if "minutes_on_watchlist" in f.names and any(i.watch_added_at is None for i in items):
        watched = {e.market_slug: e for e in WatchlistRepo(run.ctx.engine).list(run.name)}
        for item in items:
            entry = watched.get(item.slug)
            if item.watch_added_at is None and entry is not None:
                item.watch_added_at = entry.added_at


async def keep_where(
    spec: Filter | Condition, items: list[MarketItem], run: PipelineRun
) -> list[MarketItem]:
    """The items for which ``spec.when`` holds; those it cannot be evaluated for are dropped."""
    f = formula(spec.when)
    await _fill_on_demand(f, items, run)
    if "spread" not in f.names or all(item.book_read for item in items):
        # Nothing left to fetch: evaluated in place. One task per item here would be held by
        # every run in flight (thousands of strategies filtering their markets each minute).
        return [item for item in items if _holds(f, item, spec, run)]

    async def work(item: MarketItem) -> bool:
        if not item.book_read:
            await read_book(item, run)
        return _holds(f, item, spec, run)

    return await per_item(run, spec, items, work)


def _holds(f: Formula, item: MarketItem, spec: Filter | Condition, run: PipelineRun) -> bool:
    """Whether ``f`` holds for ``item``; an item it cannot be evaluated for is dropped."""
    try:
        return f.evaluate(item.values(run.now))
    except ITEM_ERRORS as exc:  # ItemError among them (a missing or unusable field)
        run.drop(item, spec.node_type, exc)
        return False
