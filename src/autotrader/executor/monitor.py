"""The periodic position check: exits for markets that trade, settlement for those that ended,
and the daily loss limit for every strategy.

Run by the service every ``executor.position_check_secs`` after the watched orders are synced.
Open positions are replayed from the fills; a position's market is the one our orders for its
token named (adopted orders name none: such positions are reported, never traded or settled
by guesswork). One market's trouble (venue unavailable, malformed data) is logged and skipped:
the others are still checked, and the next check tries again.

A check yields to intents before each market (``between``, as the order sync does): when
intents ran meanwhile, the positions are replayed again before the next market is looked at,
so an exit is never proposed for shares an intent just sold.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.config import AppConfig
from autotrader.domain.positions import Position
from autotrader.errors import DataError, TemporaryError
from autotrader.executor.books import Snapshot
from autotrader.executor.events import pause_strategy, usd
from autotrader.executor.exits import ExitWatcher
from autotrader.executor.settlement import Settler
from autotrader.executor.snapshot import SnapshotCache
from autotrader.executor.watch import Between, no_intents
from autotrader.store.repos_executor import position_markets
from autotrader.store.repos_runtime import EventRepo, StrategyRuntimeRepo
from autotrader.venue.base import Venue

log = logging.getLogger("autotrader.executor")


@dataclass
class CheckReport:
    """What one check did (for the log and the status line)."""

    open_positions: int = 0
    exits: int = 0
    settled: int = 0
    paused: int = 0


class PositionMonitor:
    """Exits, settlement and the daily loss limit (see the module docstring)."""

    def __init__(
        self,
        config: AppConfig,
        venue: Venue,
        engine: sa.Engine,
        clock: Clock,
        snapshots: SnapshotCache | None = None,
    ) -> None:
        self._config = config
        self._snapshots = snapshots or SnapshotCache(engine)
        self._venue = venue
        self._engine = engine
        self._clock = clock
        self.exits = ExitWatcher(config, venue, engine, clock)
        self._settler = Settler(venue, engine, clock)
        self._runtime = StrategyRuntimeRepo(engine, now=clock.now)
        self._events = EventRepo(engine, now=clock.now)

    @property
    def config(self) -> AppConfig:
        """The configuration in force."""
        return self._config

    @config.setter
    def config(self, config: AppConfig) -> None:
        self._config = config
        self.exits.config = config

    async def check(self, between: Between = no_intents) -> CheckReport:
        """One pass over every open position (yielding to intents through ``between``
        before each market), then the daily loss limits."""
        report = CheckReport()
        by_market, report.open_positions = self._held()
        for slug in list(by_market):
            if await between():  # intents ran: positions may have changed
                by_market, _ = self._held()
            held = by_market.get(slug)
            if not held:
                continue
            try:
                await self._market(slug, held, report)
            except (TemporaryError, DataError) as exc:
                log.warning("position check of %s failed, next time again: %s", slug, exc)
        if report.settled:
            report.open_positions -= report.settled
        report.paused = self._daily_loss(self._snapshots.load())
        return report

    def _held(self) -> tuple[dict[str, list[tuple[Position, str]]], int]:
        """Open positions by market slug (those with a known market), and how many are open."""
        held = [p for p in self._snapshots.load().history.positions.values() if p.is_open]
        markets = position_markets(self._engine, {p.token_id for p in held}) if held else {}
        by_market: dict[str, list[tuple[Position, str]]] = defaultdict(list)
        for pos in held:
            slug_outcome = markets.get(pos.token_id)
            if slug_outcome is not None:
                by_market[slug_outcome[0]].append((pos, slug_outcome[1]))
        return by_market, len(held)

    async def _market(
        self, slug: str, held: list[tuple[Position, str]], report: CheckReport
    ) -> None:
        market = await self._venue.market_by_slug(slug)
        if market is None:
            return
        if not market.tradable:
            report.settled += await self._settler.check(market, [p for p, _ in held])
            return
        for pos, outcome in held:
            if await self.exits.check(pos, slug, outcome) is not None:
                report.exits += 1

    def _daily_loss(self, snap: Snapshot) -> int:
        """Pause every running strategy whose net loss today reached its limit; how many."""
        now, paused = self._clock.now(), 0
        for cfg in self._config.strategies:
            today = self._snapshots.ledger(self._config, cfg, snap).today(now)
            loss, limit = -today.net_usd, cfg.limits.daily_loss_usd
            if loss <= 0 or loss < limit or self._runtime.get(cfg.name).paused:
                continue
            reason = (
                f"daily loss {usd(loss)} ≥ limit {usd(limit)} "
                f"({self._config.tz} day {today.day.isoformat()})"
            )
            paused += pause_strategy(
                self._runtime, self._events, cfg.name, reason, "daily_loss_limit"
            )
        return paused
