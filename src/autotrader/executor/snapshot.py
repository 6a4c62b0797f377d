"""The executor's replay of fills and settlements, kept between intents and only extended.

Every intent's risk check needs every position and each strategy's ledger. Replaying every
fill ever recorded for each intent makes the order path slower with every trade, so a
``SnapshotCache`` keeps the replay. Fills and settlements are only ever inserted (they are the
truth; nothing updates or deletes them), so on each ``load``:

* both tables are counted (one cheap query each); unchanged counts → the cached replay;
* otherwise only the rows newer than everything replayed so far are read and applied on top,
  which is what a full replay gives because they sort after all the others;
* if the counts then do not add up (a row arrived with an older or equal time, e.g. a trade
  listed late), everything is read and replayed again.

Ledgers are memoised per strategy on the counts (``daily_pnl`` walks every event); the open
orders' reservations, which change with every order, are added on top each time. The open
orders themselves are read as sums per (strategy, token, side, price): one small aggregate
query however many orders rest.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from autotrader.config import AppConfig
from autotrader.config_strategies import StrategyConfig
from autotrader.domain.ledger import Ledger, OpenOrder
from autotrader.domain.orders import Side
from autotrader.domain.positions import (
    PnlEvent,
    Position,
    PositionKey,
    Replay,
    StrategyFill,
    StrategySettlement,
    apply_fill,
    apply_settlement,
    replay,
)
from autotrader.executor.books import Snapshot
from autotrader.store.models import FillRow, OrderRow, SettlementRow
from autotrader.store.repos_trading import OPEN_STATUSES, FillRepo, SettlementRepo

Counts = tuple[int, int]
_OPEN = sorted(s.value for s in OPEN_STATUSES)
_UNIT = 100_000_000  # 10**MONEY_SCALE


class SnapshotCache:
    """The replay of fills and settlements, kept between intents (see the module doc)."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._history: Replay | None = None
        self._counts: Counts = (-1, -1)
        self._last_ts: datetime | None = None
        self._ledgers: dict[str, tuple[Counts, Ledger]] = {}
        self.full_reads = 0  # how many times everything was replayed (tests look at it)

    def load(self, extra_orders: tuple[OpenOrder, ...] = ()) -> Snapshot:
        """Positions and open orders as the database has them now (``extra_orders``: more
        reservations, e.g. matched orders whose trades are not recorded yet)."""
        if self._history is None or _counts(self._engine) != self._counts:
            try:
                self._refresh()
            except Exception:
                self._history, self._counts, self._ledgers = None, (-1, -1), {}
                raise
        with self._engine.connect() as conn:
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
            fills, settlements = _newer(self._engine, self._last_ts)
            # Counted after the read: rows are only ever inserted, so if the count is what
            # was replayed plus what was just read, no row escaped the read.
            counts = _counts(self._engine)
            if (self._counts[0] + len(fills), self._counts[1] + len(settlements)) == counts:
                self._history = _extend(self._history, fills, settlements)
                self._counts, self._ledgers = counts, {}
                self._last_ts = _newest(self._history, self._last_ts)
                return
        self.full_reads += 1
        fills = [StrategyFill(r.strategy, r.fill) for r in FillRepo(self._engine).all()]
        settled = [
            StrategySettlement(r.strategy, r.settlement) for r in SettlementRepo(self._engine).all()
        ]
        self._history = replay(fills, settled)
        # The counts are what was read: a row that came in meanwhile is replayed next time.
        self._counts, self._ledgers = (len(fills), len(settled)), {}
        self._last_ts = _newest(self._history, None)


def _counts(engine: sa.Engine) -> Counts:
    """Rows in fills and settlements (a fresh connection: a snapshot of now)."""
    fills = sa.select(sa.func.count()).select_from(FillRow).scalar_subquery()
    settled = sa.select(sa.func.count()).select_from(SettlementRow).scalar_subquery()
    with engine.connect() as conn:
        n_fills, n_settled = conn.execute(sa.select(fills, settled)).one()
    return int(n_fills), int(n_settled)


def _newer(
    engine: sa.Engine, after: datetime
) -> tuple[list[StrategyFill], list[StrategySettlement]]:
    """Fills and settlements strictly newer than ``after``, oldest first."""
    fills = [
        StrategyFill(r.strategy, r.fill) for r in FillRepo(engine).since(after) if r.fill.ts > after
    ]
    settled = [
        StrategySettlement(r.strategy, r.settlement)
        for r in SettlementRepo(engine).since(after)
        if r.settlement.ts > after
    ]
    return fills, settled


def _extend(
    history: Replay, fills: list[StrategyFill], settlements: list[StrategySettlement]
) -> Replay:
    """``history`` with newer fills and settlements applied, as ``replay`` orders them."""
    items: list[tuple[datetime, int, int, StrategyFill | StrategySettlement]] = [
        (sf.fill.ts, 0, i, sf) for i, sf in enumerate(fills)
    ]
    items += [(ss.settlement.ts, 1, i, ss) for i, ss in enumerate(settlements)]
    items.sort(key=lambda it: (it[0], it[1], it[2]))
    positions: dict[PositionKey, Position] = dict(history.positions)
    events: list[PnlEvent] = list(history.events)
    for _, _, _, item in items:
        pos = positions.get(item.key) or Position(*item.key)
        if isinstance(item, StrategyFill):
            pos, event = apply_fill(pos, item.fill)
        else:
            pos, event = apply_settlement(pos, item.settlement)
        positions[item.key] = pos
        events.append(event)
    return Replay(positions, tuple(events))


def _newest(history: Replay, default: datetime | None) -> datetime | None:
    return max((e.ts for e in history.events), default=default)


def open_reservations(conn: sa.Connection) -> tuple[OpenOrder, ...]:
    """What the open orders may still spend (or sell), summed per (strategy, token, side,
    price): the same reservations as one ``OpenOrder`` per order, in one aggregate query.

    Summed in whole units of 10⁻⁸ (``Money``'s scale): integers, exact on both backends
    (SQLite keeps NUMERIC as REAL; a sum of floats would not be)."""
    o = OrderRow
    units = sa.func.round((o.size - o.size_matched) * _UNIT)
    query = (
        sa.select(
            o.strategy, o.token_id, o.side, o.price, sa.func.sum(sa.cast(units, sa.BigInteger))
        )
        .where(o.status.in_(_OPEN), o.price.is_not(None), o.size > o.size_matched)
        .group_by(o.strategy, o.token_id, o.side, o.price)
    )
    return tuple(
        OpenOrder(strategy, token, Side(side), price, Decimal(int(left)).scaleb(-8))
        for strategy, token, side, price, left in conn.execute(query)
        if price is not None and left
    )
