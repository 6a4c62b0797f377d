"""The risk context of an intent, assembled from state the executor keeps between intents.

``books.risk_context`` would read everything again for every intent; the order path uses an
``ExecutorBooks`` instead, which gives ``risk.check`` the same context from:

* the replay of fills and settlements, extended only by new rows (``snapshot.SnapshotCache``),
  and the open orders' reservations (one aggregate query);
* the matched orders whose trades are awaited (``pending.PendingFills``), as reservations;
* the creation times of the last minute's orders, read once and then kept in memory: this
  executor is the only writer of orders, and tells ``order_created`` of each.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

import sqlalchemy as sa

from autotrader.config import AppConfig
from autotrader.config_strategies import StrategyConfig
from autotrader.domain.risk import RiskContext
from autotrader.domain.risk_limits import ORDER_RATE_WINDOW_SECS
from autotrader.executor.books import ContextInputs, Snapshot, global_limits, strategy_limits
from autotrader.executor.pending import PendingFills
from autotrader.executor.snapshot import SnapshotCache
from autotrader.store.repos_trading import OrderRepo

_WINDOW = timedelta(seconds=ORDER_RATE_WINDOW_SECS)


class ExecutorBooks:
    """Risk contexts for the order path (see the module docstring)."""

    def __init__(self, engine: sa.Engine, pending: PendingFills) -> None:
        self._engine = engine
        self.pending = pending
        self.snapshots = SnapshotCache(engine)
        self._recent: deque[datetime] | None = None

    def order_created(self, at: datetime) -> None:
        """Count an order this executor just wrote, for the order rate."""
        if self._recent is not None:
            self._recent.append(at)

    def _recent_orders(self, now: datetime, limit: int) -> tuple[datetime, ...]:
        if self._recent is None:
            newest = OrderRepo(self._engine).list(limit=limit + 1)
            self._recent = deque(sorted(o.created_at for o in newest))
        while self._recent and self._recent[0] <= now - _WINDOW:
            self._recent.popleft()
        return tuple(self._recent)[-(limit + 1) :]

    def load(self) -> Snapshot:
        """Positions and reservations (open orders, matched orders' awaited trades) now."""
        return self.snapshots.load(self.pending.reservations())

    def context(
        self, config: AppConfig, cfg: StrategyConfig, inputs: ContextInputs, snap: Snapshot
    ) -> RiskContext:
        """Everything ``risk.check`` needs for an intent of strategy ``cfg``, given ``snap``
        (from ``load``)."""
        glob = global_limits(config)
        return RiskContext(
            now=inputs.now,
            strategy=strategy_limits(cfg),
            global_limits=glob,
            ledger=self.snapshots.ledger(config, cfg, snap),
            positions=snap.history.positions,
            book=inputs.book,
            open_orders=snap.open_orders,
            recent_orders=self._recent_orders(inputs.now, glob.max_orders_per_minute),
            paused=inputs.runtime.paused,
            paused_reason=inputs.runtime.pause_reason or "",
            last_entry_at=inputs.runtime.last_entry_at,
            # One entry per (strategy, entry_key) is the intents table's unique constraint.
            entry_exists=False,
            fees=inputs.fees,
        )
