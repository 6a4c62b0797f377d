"""What the scheduler hands a strategy run and what a run hands back.

A run never places orders: its only way to trade is to write order intents through
``ctx.intents`` (the executor's outbox). Everything a run reads from the outside world comes
through the context, so tests point it at the simulator and the benchmark at many strategies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.config import AppConfig
from autotrader.store.repos_intents import IntentRepo
from autotrader.store.repos_runtime import EventRepo
from autotrader.strategies.cached_reads import TradesReader
from autotrader.venue.base import MarketData

RunOutcome = Literal["ok", "skipped"]
"""How a run that did not raise ended; a raising run is recorded as ``failed`` (or
``timeout``) by the scheduler."""


@dataclass(frozen=True)
class NodeStat:
    """Items into and out of one pipeline node (or one step of a built-in strategy)."""

    node: str
    items_in: int
    items_out: int


@dataclass
class RunResult:
    """What a run did: per-node counts, intents written, and why it skipped (if it did)."""

    outcome: RunOutcome = "ok"
    stats: list[NodeStat] = field(default_factory=list)
    intents_created: int = 0
    note: str | None = None


@dataclass
class StrategyContext:
    """The outside world of one scheduler: shared by every strategy's runs.

    ``market_data`` reads Gamma and the CLOB (markets, books, price history) without a wallet;
    ``data_api`` reads public trades (whale flow). In the scheduler both are the wallet-free
    ``PublicReads`` / ``DataApiClient`` behind one shared read cache (``cached_reads``), so
    identical reads of many strategies cost one request. ``run_id`` is set per run.
    """

    config: AppConfig
    clock: Clock
    engine: sa.Engine
    market_data: MarketData
    data_api: TradesReader
    intents: IntentRepo
    events: EventRepo
    run_id: int | None = None
