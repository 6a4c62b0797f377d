"""Every read the status page makes, in one read-only pass over the database (and, per batch
of strategy pages, their runs: ``read_runs``).

Plain Core selects on one connection (no writes): the page is rendered every
``refresh_secs`` by the scheduler, so this is the part that must stay cheap with thousands of
fills. Tables that do not exist yet (a database migrated by an older version) read as empty.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from autotrader.domain.ledger import OpenOrder
from autotrader.domain.orders import Side
from autotrader.domain.positions import PositionError, Replay, StrategyFill
from autotrader.status.history import HistoryCache
from autotrader.status.trades import History
from autotrader.store.models import (
    DAEMON_HEARTBEATS,
    FILLS,
    NOTIFICATION_EVENTS,
    ORDERS,
    SETTLEMENTS,
    STRATEGY_RUNTIME,
)
from autotrader.store.models_pipeline import WATCHLIST
from autotrader.store.models_scheduler import STRATEGY_RUNS, STRATEGY_STATE
from autotrader.store.repos import Heartbeat
from autotrader.store.repos_trading import OPEN_STATUSES

ZERO = Decimal(0)
RUNS_PER_STRATEGY = 50
# What "active in the last 24 h" counts (the index's "most active" order).
ACTIVITY_WINDOW = timedelta(hours=24)
EVENTS_PER_STRATEGY = 30
# Events are read newest first up to this many in all; enough for every strategy's timeline.
EVENTS_READ = 3000


@dataclass(frozen=True, slots=True)
class StateRow:
    """A ``strategy_state`` row (scheduler)."""

    strategy: str
    desired: str | None
    started_at: datetime | None
    last_run_at: datetime | None
    next_run_at: datetime | None
    last_outcome: str | None
    last_error: str | None
    consecutive_failures: int
    executions: int
    successes: int
    failures: int


@dataclass(frozen=True, slots=True)
class RunRow:
    """A ``strategy_runs`` row (scheduler)."""

    strategy: str
    started_at: datetime
    ended_at: datetime | None
    outcome: str
    nodes: list[dict[str, Any]]
    intents_created: int
    error: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class WatchRow:
    """A ``watchlist`` row (pipeline)."""

    strategy: str
    market_slug: str
    question: str
    reason: str
    added_at: datetime
    expires_at: datetime | None
    price_at_add: Decimal | None
    volume_at_add: Decimal | None


@dataclass(frozen=True, slots=True)
class EventRow:
    """A notification event, reduced to what the timeline shows."""

    strategy: str | None
    type: str
    created_at: datetime
    summary: str


@dataclass(frozen=True, slots=True)
class RuntimeRow:
    """Pause state from ``strategy_runtime`` (executor)."""

    paused: bool
    pause_reason: str | None


@dataclass(frozen=True, slots=True)
class RunStats:
    """What the index needs of one strategy's runs, summed by the database: with thousands of
    strategies the runs themselves (50 each) are read only for a batch of pages at a time."""

    recent: int  # runs started within ACTIVITY_WINDOW of the render
    first: datetime | None
    last: datetime | None
    done: int  # not running any more
    ok: int
    failed: int  # failed or timed out


@dataclass
class DbData:
    """Everything read, grouped by strategy where the page needs it so."""

    states: dict[str, StateRow] = field(default_factory=dict)
    runtime: dict[str, RuntimeRow] = field(default_factory=dict)
    run_stats: dict[str, RunStats] = field(default_factory=dict)
    watchlist: dict[str, list[WatchRow]] = field(default_factory=lambda: defaultdict(list))
    events: dict[str | None, list[EventRow]] = field(default_factory=lambda: defaultdict(list))
    fills: list[StrategyFill] = field(default_factory=list)
    history: History = field(default_factory=lambda: History(Replay({}, ()), ()))
    history_error: str | None = None
    open_orders: list[OpenOrder] = field(default_factory=list)
    # token id → (market slug, outcome), from our orders and settlements.
    tokens: dict[str, tuple[str, str]] = field(default_factory=dict)
    # market slug → its question, from the watchlists (the page names markets by it).
    titles: dict[str, str] = field(default_factory=dict)
    heartbeats: list[Heartbeat] = field(default_factory=list)
    missing_tables: tuple[str, ...] = ()
    now: datetime | None = None


def read_all(engine: sa.Engine, now: datetime, history: HistoryCache | None = None) -> DbData:
    """One read-only pass over every table the page shows (watchlist entries expired at
    ``now`` are left out, as ``WatchlistRepo.list`` does). Fills and settlements come through
    ``history`` (a fresh cache, i.e. a full read, when None)."""
    data = DbData(now=now)
    with engine.connect() as conn, conn.begin():
        present = set(sa.inspect(conn).get_table_names())
        readers = (
            (STRATEGY_STATE.name, _states),
            (STRATEGY_RUNTIME.name, _runtime),
            (STRATEGY_RUNS.name, _runs),
            (WATCHLIST.name, _watchlist),
            (NOTIFICATION_EVENTS.name, _events),
            (ORDERS.name, _orders),
            (DAEMON_HEARTBEATS.name, _heartbeats),
        )
        for table, reader in readers:
            if table in present:
                reader(conn, data)
        missing = [t for t, _ in readers if t not in present]
        if {FILLS.name, SETTLEMENTS.name} <= present:
            _history(conn, data, history or HistoryCache())
        else:
            missing += [FILLS.name, SETTLEMENTS.name]
        data.missing_tables = tuple(missing)
    return data


def _history(conn: sa.Connection, data: DbData, cache: HistoryCache) -> None:
    try:
        loaded = cache.load(conn)
    except PositionError as err:
        # The executor refuses to trade on such a history too; the page says so.
        data.history_error = str(err)
        return
    data.history = loaded.history
    data.fills = loaded.fills
    for token, name in loaded.settled_tokens.items():
        data.tokens.setdefault(token, name)


def _states(conn: sa.Connection, data: DbData) -> None:
    s = STRATEGY_STATE.c
    query = sa.select(
        s.strategy,
        s.desired,
        s.started_at,
        s.last_run_at,
        s.next_run_at,
        s.last_outcome,
        s.last_error,
        s.consecutive_failures,
        s.executions,
        s.successes,
        s.failures,
    )
    for row in conn.execute(query).all():
        data.states[row[0]] = StateRow(*row)


def _runtime(conn: sa.Connection, data: DbData) -> None:
    r = STRATEGY_RUNTIME.c
    for name, paused, reason in conn.execute(sa.select(r.strategy, r.paused, r.pause_reason)).all():
        data.runtime[name] = RuntimeRow(bool(paused), reason)


def _runs(conn: sa.Connection, data: DbData) -> None:
    r = STRATEGY_RUNS.c
    since = data.now - ACTIVITY_WINDOW if data.now is not None else datetime.min.replace(tzinfo=UTC)

    def count(cond: Any) -> Any:
        return sa.func.sum(sa.case((cond, 1), else_=0))

    query = sa.select(
        r.strategy,
        count(r.started_at >= since),
        sa.func.min(r.started_at),
        sa.func.max(r.started_at),
        count(r.outcome != "running"),
        count(r.outcome == "ok"),
        count(r.outcome.in_(("failed", "timeout"))),
    ).group_by(r.strategy)
    for name, recent, first, last, done, ok, failed in conn.execute(query):
        data.run_stats[name] = RunStats(recent or 0, first, last, done or 0, ok or 0, failed or 0)


# Built once: a render reads runs a batch of pages at a time, and a statement built per batch
# is cyclic garbage that outlives the render's paused collector (hundreds per render).
_RUNS_QUERY = (
    sa.select(
        STRATEGY_RUNS.c.strategy, STRATEGY_RUNS.c.started_at, STRATEGY_RUNS.c.ended_at,
        STRATEGY_RUNS.c.outcome, STRATEGY_RUNS.c.nodes, STRATEGY_RUNS.c.intents_created,
        STRATEGY_RUNS.c.error, STRATEGY_RUNS.c.note,
    )
    .where(STRATEGY_RUNS.c.strategy.in_(sa.bindparam("names", expanding=True)))
    .order_by(STRATEGY_RUNS.c.strategy, STRATEGY_RUNS.c.started_at.desc(),
              STRATEGY_RUNS.c.id.desc())
)  # fmt: skip


def read_runs(engine: sa.Engine, names: Sequence[str]) -> dict[str, tuple[RunRow, ...]]:
    """The newest runs (at most ``RUNS_PER_STRATEGY``) of each of ``names``, newest first."""
    runs: dict[str, list[RunRow]] = defaultdict(list)
    with engine.connect() as conn:
        for row in conn.execute(_RUNS_QUERY, {"names": list(names)}):
            kept = runs[row[0]]
            # The scheduler keeps 50 per strategy; cap anyway so a backlog never bloats a page.
            if len(kept) < RUNS_PER_STRATEGY:
                nodes = row[4] if isinstance(row[4], list) else []
                kept.append(RunRow(row[0], row[1], row[2], row[3], nodes, *row[5:]))
    return {name: tuple(rows) for name, rows in runs.items()}


def _watchlist(conn: sa.Connection, data: DbData) -> None:
    w = WATCHLIST.c
    query = sa.select(
        w.strategy,
        w.market_slug,
        w.question,
        w.reason,
        w.added_at,
        w.expires_at,
        w.price_at_add,
        w.volume_at_add,
    ).order_by(w.strategy, w.added_at.desc(), w.id.desc())
    if data.now is not None:
        query = query.where(sa.or_(w.expires_at.is_(None), w.expires_at > data.now))
    for row in conn.execute(query).all():
        entry = WatchRow(*row)
        data.watchlist[row[0]].append(entry)
        if entry.question:
            data.titles.setdefault(entry.market_slug, entry.question)


def _events(conn: sa.Connection, data: DbData) -> None:
    e = NOTIFICATION_EVENTS.c
    query = (
        sa.select(e.strategy, e.type, e.created_at, e.payload)
        .order_by(e.id.desc())
        .limit(EVENTS_READ)
    )
    for strategy, type_, created_at, payload in conn.execute(query).all():
        events = data.events[strategy]
        if len(events) < EVENTS_PER_STRATEGY:
            summary = payload.get("summary") if isinstance(payload, dict) else None
            events.append(EventRow(strategy, type_, created_at, str(summary or type_)))


def _orders(conn: sa.Connection, data: DbData) -> None:
    o = ORDERS.c
    query = sa.select(
        o.strategy,
        o.token_id,
        o.market_slug,
        o.outcome,
        o.side,
        o.price,
        o.size,
        o.size_matched,
        o.status,
    ).order_by(o.created_at, o.id)
    open_statuses = {s.value for s in OPEN_STATUSES}
    for strategy, token, slug, outcome, side, price, size, matched, status in conn.execute(
        query
    ).all():
        if slug:
            data.tokens[token] = (slug, outcome or "")
        if status in open_statuses:
            remaining = max((size or ZERO) - matched, ZERO)
            data.open_orders.append(
                OpenOrder(strategy, token, Side(side), price or ZERO, remaining)
            )


def _heartbeats(conn: sa.Connection, data: DbData) -> None:
    h = DAEMON_HEARTBEATS.c
    query = sa.select(
        h.daemon, h.pid, h.host, h.started_at, h.last_beat_at, h.state, h.status
    ).order_by(h.daemon)
    data.heartbeats = [Heartbeat(*row) for row in conn.execute(query).all()]
