"""What every node sees during one pipeline run, and the node function type.

A node is ``async def node(spec, items, run) -> items``: it gets the items that reached it and
returns those that go on. A problem with one item (a market without the outcome asked for,
a formula needing a metric nobody computed, a malformed venue answer) drops that item with a
log line; the venue being unreachable (``TemporaryError``) fails the run, which the scheduler
records and retries at the next tick.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from autotrader.config_nodes import Node
from autotrader.config_strategies import PipelineStrategy
from autotrader.errors import DataError
from autotrader.strategies.base import StrategyContext
from autotrader.strategies.items import MarketItem
from autotrader.venue.errors import VenueRefused

log = logging.getLogger("autotrader.strategies.pipeline")

T = TypeVar("T")

# Venue reads of one node run at most this many at a time (polite to Gamma and the CLOB).
CONCURRENCY = 8

# One item's trouble, which drops that item only.
ITEM_ERRORS: tuple[type[Exception], ...] = (DataError, VenueRefused, ValueError)


@dataclass
class PipelineRun:
    """One run of one pipeline strategy: its context, its clock reading and what it changed."""

    strategy: PipelineStrategy
    ctx: StrategyContext
    now: datetime
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    intents_created: int = 0
    deferred: int = 0
    dropped: int = 0

    @property
    def name(self) -> str:
        """The strategy's name."""
        return self.strategy.name

    def drop(self, item: MarketItem, node: str, reason: object) -> None:
        """Log why ``item`` leaves the run at ``node``."""
        self.drop_slug(item.slug, node, reason)

    def drop_slug(self, slug: str, node: str, reason: object) -> None:
        """Log why the market ``slug`` leaves the run at ``node``."""
        self.dropped += 1
        text = " ".join(str(reason).split())
        log.info("%s: %s dropped %s: %s", self.name, node, slug, text)


NodeFn = Callable[[Any, list[MarketItem], PipelineRun], Awaitable[list[MarketItem]]]


async def gather_limited(
    calls: Sequence[Callable[[], Awaitable[T]]], limit: int = CONCURRENCY
) -> list[T]:
    """Await every call, at most ``limit`` at once, results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await call()

    return list(await asyncio.gather(*(one(c) for c in calls)))


async def per_item(
    run: PipelineRun,
    node: Node,
    items: list[MarketItem],
    work: Callable[[MarketItem], Awaitable[bool]],
) -> list[MarketItem]:
    """Run ``work`` on each item (concurrently, bounded); keep those for which it is True.

    An item whose work raises one of ``ITEM_ERRORS`` is dropped with its reason.
    """

    async def guarded(item: MarketItem) -> bool:
        try:
            return await work(item)
        except ITEM_ERRORS as exc:
            run.drop(item, node.node_type, exc)
            return False

    keep = await gather_limited([partial(guarded, item) for item in items])
    return [item for item, ok in zip(items, keep, strict=True) if ok]
