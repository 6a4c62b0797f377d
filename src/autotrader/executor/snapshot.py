"""The executor's replay of fills and settlements, kept between intents and only extended.

Every intent's risk check needs every position and each strategy's ledger. Replaying every
fill ever recorded for each intent makes the order path slower with every trade, so a
``SnapshotCache`` keeps the replay. Fills and settlements are only ever inserted (they are the
truth; nothing updates or deletes them), so on each ``load``:

* both tables are counted (one cheap query each); unchanged counts → the cached replay;
* otherwise only the rows at or after the newest replayed time are read and applied on top of
  the replay of everything older (kept as ``_base``), which is what a full replay gives since
  it sorts by time first. The newest second is read again each time because the venue stamps
  trades to the second: several land in one, and their order within it is the trade id's;
* if the counts then do not add up (a row arrived with an older time, e.g. a trade listed
  late), everything is read and replayed again.

Every ``FOLD_EVERY`` events the replay's old part (before ``KEEP_UNFOLDED``) is folded into
per-strategy sums (``archive.py``), so memory and the cost of a ledger stay bounded however long
the executor runs; a full read folds the same way.

Ledgers are memoised per strategy on the counts (``daily_pnl`` walks every event); the open
orders' reservations, which change with every order, are added on top each time. The open
orders themselves are read as sums per (strategy, token, side, price): one small aggregate
query however many orders rest.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from autotrader.config import AppConfig
from autotrader.config_strategies import StrategyConfig
from autotrader.domain.ledger import Ledger, OpenOrder
from autotrader.domain.orders import Side
from autotrader.domain.positions import (
    Replay,
    StrategyFill,
    StrategySettlement,
    extend_replay,
)
from autotrader.executor.archive import fold
from autotrader.executor.books import Snapshot
from autotrader.store.models import FILLS, ORDERS, SETTLEMENTS
from autotrader.store.repos_trading import OPEN_STATUSES, FillRepo, SettlementRepo

Counts = tuple[int, int]
# History older than this before the newest row is folded into per-strategy sums (archive.py):
# three days keeps "today" whole in any time zone (UTC−12 … UTC+14).
KEEP_UNFOLDED = timedelta(days=3)
FOLD_EVERY = 2000  # events added to the replay between two folds (each fold reads them all)
_EMPTY = Replay({}, ())
_OPEN = sorted(s.value for s in OPEN_STATUSES)
_UNIT = 100_000_000  # 10**MONEY_SCALE


class SnapshotCache:
    """The replay of fills and settlements, kept between intents (see the module doc)."""

    def __init__(self, engine: sa.Engine, *, fold_every: int = FOLD_EVERY) -> None:
        self._engine = engine
        self._fold_every = fold_every
        self._fold_at = fold_every  # events in the base at which old history is folded next
        self._history: Replay | None = None
        self._counts: Counts = (-1, -1)
        # The replay of the rows older than _last_ts (the newest time replayed), and their counts.
        self._base = _EMPTY
        self._base_counts: Counts = (0, 0)
        self._last_ts: datetime | None = None
        self._ledgers: dict[str, tuple[Counts, Ledger]] = {}
        self.full_reads = 0  # how many times everything was replayed (tests look at it)

    def load(self, extra_orders: tuple[OpenOrder, ...] = ()) -> Snapshot:
        """Positions and open orders as the database has them now (``extra_orders``: more
        reservations, e.g. matched orders whose trades are not recorded yet)."""
        with self._engine.connect() as conn:
            if self._history is None or _counts(conn) != self._counts:
                try:
                    self._refresh()
                except Exception:
                    self._history, self._counts, self._ledgers = None, (-1, -1), {}
                    raise
            orders = open_reservations(conn)
        assert self._history is not None
        return Snapshot(self._history, orders + extra_orders)

    def ledger(self, config: AppConfig, cfg: StrategyConfig, snap: Snapshot) -> Ledger:
        """The ledger of ``cfg`` for ``snap`` (a snapshot this cache just loaded)."""
        memo = self._ledgers.get(cfg.name)
        key = (self._counts, cfg.allocation_usd, config.tz)
        if memo is None or (memo[0], memo[1].allocated_usd, memo[1].tz) != key:
            bare = Ledger.from_replay(cfg.name, cfg.allocation_usd, snap.history, (), config.tz)
            memo = (self._counts, bare)
            self._ledgers[cfg.name] = memo
        reserved = sum(
            (o.reserved_usd for o in snap.open_orders if o.strategy == cfg.name), Decimal(0)
        )
        return dataclasses.replace(memo[1], reserved_usd=reserved + memo[1].reserved_usd)

    def _refresh(self) -> None:
        if self._history is not None and self._last_ts is not None:
            fills, settlements = _since(self._engine, self._last_ts)
            # Counted after the read: rows are only ever inserted, so if the count is what
            # the base holds plus what was just read, no row escaped the read.
            with self._engine.connect() as conn:
                counts = _counts(conn)
            if (self._base_counts[0] + len(fills), self._base_counts[1] + len(settlements)) == (
                counts
            ):
                self._apply(self._base, self._base_counts, fills, settlements)
                return
        self.full_reads += 1
        fills = [StrategyFill(r.strategy, r.fill) for r in FillRepo(self._engine).all()]
        settled = [
            StrategySettlement(r.strategy, r.settlement) for r in SettlementRepo(self._engine).all()
        ]
        # The counts are what was read: a row that came in meanwhile is replayed next time.
        self._apply(_EMPTY, (0, 0), fills, settled)

    def _apply(
        self,
        base: Replay,
        base_counts: Counts,
        fills: list[StrategyFill],
        settlements: list[StrategySettlement],
    ) -> None:
        """Replay ``fills`` and ``settlements`` (each oldest first) on ``base``; the rows at
        the newest time stay out of the new base, to be read again next time."""
        newest = max(
            [sf.fill.ts for sf in fills] + [ss.settlement.ts for ss in settlements],
            default=self._last_ts,
        )
        old_f = [sf for sf in fills if newest is None or sf.fill.ts < newest]
        old_s = [ss for ss in settlements if newest is None or ss.settlement.ts < newest]
        self._base = extend_replay(base, old_f, old_s)
        if newest is not None and len(self._base.events) >= self._fold_at:
            self._base = fold(self._base, newest - KEEP_UNFOLDED)
            self._fold_at = len(self._base.events) + self._fold_every
        self._base_counts = (base_counts[0] + len(old_f), base_counts[1] + len(old_s))
        self._history = extend_replay(self._base, fills[len(old_f) :], settlements[len(old_s) :])
        self._counts = (base_counts[0] + len(fills), base_counts[1] + len(settlements))
        self._last_ts, self._ledgers = newest, {}


_COUNTS = sa.select(
    sa.select(sa.func.count()).select_from(FILLS).scalar_subquery(),
    sa.select(sa.func.count()).select_from(SETTLEMENTS).scalar_subquery(),
)


def _counts(conn: sa.Connection) -> Counts:
    """Rows in fills and settlements (on ``conn``: a fresh connection is a snapshot of now)."""
    n_fills, n_settled = conn.execute(_COUNTS).one()
    return int(n_fills), int(n_settled)


def _since(engine: sa.Engine, ts: datetime) -> tuple[list[StrategyFill], list[StrategySettlement]]:
    """Fills and settlements at or after ``ts``, oldest first."""
    fills = [StrategyFill(r.strategy, r.fill) for r in FillRepo(engine).since(ts)]
    settled = [
        StrategySettlement(r.strategy, r.settlement) for r in SettlementRepo(engine).since(ts)
    ]
    return fills, settled


def open_reservations(conn: sa.Connection) -> tuple[OpenOrder, ...]:
    """What the open orders may still spend (or sell), summed per (strategy, token, side,
    price): the same reservations as one ``OpenOrder`` per order, in one aggregate query.

    Summed in whole units of 10⁻⁸ (``Money``'s scale): integers, exact on both backends
    (SQLite keeps NUMERIC as REAL; a sum of floats would not be)."""
    return tuple(
        OpenOrder(strategy, token, Side(side), price, Decimal(int(left)).scaleb(-8))
        for strategy, token, side, price, left in conn.execute(_RESERVATIONS)
        if price is not None and left
    )


def _reservations_query() -> sa.Select[str, str, str, Decimal | None, int]:
    o = ORDERS.c
    units = sa.func.round((o.size - o.size_matched) * _UNIT)
    return (
        sa.select(
            o.strategy, o.token_id, o.side, o.price, sa.func.sum(sa.cast(units, sa.BigInteger))
        )
        .where(o.status.in_(_OPEN), o.price.is_not(None), o.size > o.size_matched)
        .group_by(o.strategy, o.token_id, o.side, o.price)
    )


# Built once: a statement object keeps its compiled form's cache key (each intent reads it).
_RESERVATIONS = _reservations_query()
