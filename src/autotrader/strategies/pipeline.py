"""Run a declarative pipeline strategy once: nodes in order, items (markets) between them.

``run_pipeline`` is what the scheduler calls on each tick of a ``kind: pipeline`` strategy:

1. expired watchlist entries are purged;
2. items a ``wait`` node deferred and whose time has come are read back (``deferred_items``)
   and re-enter the pipeline at the node after their ``wait``;
3. each node takes the items that reached it and passes on those it keeps; a ``wait`` node
   stores its items with ``resume_at`` = now + duration and passes none on;
4. the resumed deferrals are deleted only once the run has finished, so a failed run leaves
   them for the next one (entries stay single through the intents' entry_key);
5. one ``watchlist_updated`` event records what the run added, removed or let expire.

A deferral remembers a fingerprint of the rest of the pipeline: if the strategy's definition
changed meanwhile (hot reload), the stale deferral is dropped rather than resumed into nodes
it was never meant for.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from autotrader.config_nodes import Node, Wait
from autotrader.config_strategies import PipelineStrategy
from autotrader.store.models_pipeline import DEFERRED_ITEMS, WATCHLIST
from autotrader.store.repos_watchlist import DeferredItem, DeferredRepo, WatchlistRepo
from autotrader.strategies.base import NodeStat, RunResult, StrategyContext
from autotrader.strategies.items import MarketItem
from autotrader.strategies.nodes import NODE_FUNCTIONS
from autotrader.strategies.nodes.base import ITEM_ERRORS, PipelineRun, log


def suffix_fingerprint(strategy: PipelineStrategy, start: int) -> str:
    """A hash of the nodes from ``start`` on (what a deferred item will go through)."""
    nodes = [n.model_dump(mode="json") for n in strategy.pipeline[start:]]
    text = json.dumps([start, nodes], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


async def _resume(run: PipelineRun, due: list[DeferredItem]) -> dict[int, list[MarketItem]]:
    """The due deferred items, back on their markets as Gamma lists them now, by node index."""
    out: dict[int, list[MarketItem]] = {}
    for d in due:
        slug = d.item.get("slug")
        if not isinstance(slug, str) or d.node_index > len(run.strategy.pipeline):
            log.warning("%s: dropping malformed deferred item %d", run.name, d.id)
            continue
        if d.item.get("pipeline") != suffix_fingerprint(run.strategy, d.node_index):
            log.info("%s: pipeline changed since %s was deferred; dropped", run.name, slug)
            continue
        try:
            market = await run.ctx.market_data.market_by_slug(slug)
        except ITEM_ERRORS as exc:
            run.drop_slug(slug, "wait", exc)
            continue
        if market is None or market.closed or not market.tokens:
            run.drop_slug(slug, "wait", "the market is closed or gone")
            continue
        out.setdefault(d.node_index, []).append(MarketItem.from_json(d.item, market))
    return out


def _defer(spec: Wait, index: int, items: list[MarketItem], run: PipelineRun) -> None:
    """Store ``items`` to resume after node ``index`` once ``spec.duration`` has passed."""
    if not items:
        return
    fingerprint = suffix_fingerprint(run.strategy, index + 1)
    payloads = [{**item.to_json(), "pipeline": fingerprint} for item in items]
    resume_at = run.now + timedelta(seconds=spec.duration)
    repo = DeferredRepo(run.ctx.engine, now=run.ctx.clock.now)
    run.deferred += repo.add(run.name, index + 1, payloads, resume_at)


async def _run_nodes(run: PipelineRun, resumed: dict[int, list[MarketItem]]) -> list[NodeStat]:
    stats: list[NodeStat] = []
    items: list[MarketItem] = []
    for index, node in enumerate(run.strategy.pipeline):
        items = items + resumed.get(index, [])
        count_in = len(items)
        if isinstance(node, Wait):
            _defer(node, index, items, run)
            items = []
        else:
            items = await _call(node, items, run)
        stats.append(NodeStat(node.node_type, count_in, len(items)))
    return stats


async def _call(node: Node, items: list[MarketItem], run: PipelineRun) -> list[MarketItem]:
    fn = NODE_FUNCTIONS[node.node_type]
    return await fn(node, items, run)


def _record_event(run: PipelineRun) -> None:
    """One ``watchlist_updated`` event if the run changed the watchlist."""
    if not (run.added or run.removed or run.expired):
        return
    parts = []
    if run.added:
        parts.append(f"added {len(run.added)} ({', '.join(run.added[:3])}{_more(run.added)})")
    if run.removed:
        parts.append(
            f"removed {len(run.removed)} ({', '.join(run.removed[:3])}{_more(run.removed)})"
        )
    if run.expired:
        parts.append(f"{len(run.expired)} expired")
    payload: dict[str, Any] = {
        "summary": f"Strategy '{run.name}' watchlist: {'; '.join(parts)}",
        "added": run.added,
        "removed": run.removed,
        "expired": run.expired,
    }
    run.ctx.events.record("watchlist_updated", run.name, payload)


def _more(slugs: list[str]) -> str:
    return f", +{len(slugs) - 3} more" if len(slugs) > 3 else ""


def _note(run: PipelineRun) -> str | None:
    parts = []
    if run.deferred:
        parts.append(f"{run.deferred} deferred")
    if run.dropped:
        parts.append(f"{run.dropped} dropped")
    return ", ".join(parts) or None


def _pending(engine: sa.Engine, name: str, now: datetime) -> tuple[bool, bool]:
    """Whether ``name`` has watchlist entries expired at ``now`` / deferred items due then.

    One round trip for both, on a plain connection: almost every run has neither, and with
    thousands of strategies a transaction per question was the costliest part of a run.
    """
    w, d = WATCHLIST.c, DEFERRED_ITEMS.c
    expired = sa.exists().where(w.strategy == name, w.expires_at.is_not(None), w.expires_at <= now)
    due = sa.exists().where(d.strategy == name, d.resume_at <= now)
    with engine.connect() as conn:
        row = conn.execute(sa.select(expired, due)).one()
    return bool(row[0]), bool(row[1])


def _housekeeping(run: PipelineRun) -> list[DeferredItem]:
    """Purge the run's expired watchlist entries (into ``run.expired``); the deferrals due."""
    ctx, name = run.ctx, run.name
    any_expired, any_due = _pending(ctx.engine, name, run.now)
    if any_expired:
        run.expired = WatchlistRepo(ctx.engine).purge_expired(name, run.now)
    if not any_due:
        return []
    return DeferredRepo(ctx.engine, now=ctx.clock.now).due(name, run.now)


async def run_pipeline(strategy: PipelineStrategy, ctx: StrategyContext) -> RunResult:
    """Run ``strategy``'s pipeline once (see the module doc); what it did."""
    run = PipelineRun(strategy, ctx, ctx.clock.now())
    # In a worker thread: a database round trip must not hold up the other strategies' runs.
    due = await asyncio.to_thread(_housekeeping, run)
    deferred = DeferredRepo(ctx.engine, now=ctx.clock.now)
    try:
        resumed = await _resume(run, due)
        stats = await _run_nodes(run, resumed)
        deferred.delete([d.id for d in due])
    finally:
        # What changed is recorded even when a later node fails: the watchlist did change.
        _record_event(run)
    return RunResult(
        outcome="ok", stats=stats, intents_created=run.intents_created, note=_note(run)
    )
