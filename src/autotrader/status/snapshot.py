"""What the status page shows, gathered once per render into plain frozen dataclasses.

``gather(config, engine, now=..., real_now=...)`` reads the database once (``queries``), replays
fills and settlements once (``trades.walk``) and judges heartbeats and the signal. ``now`` is the
daemons' clock (simulated in the demo: runs, fills and schedules are on it); ``real_now`` is wall
time, which heartbeats and the signal file's age are measured against (as ``autotrader status``
does). Nothing here writes.
"""

from __future__ import annotations

import gc
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache, partial

import sqlalchemy as sa

from autotrader.cli.status_cmd import INACTIVE_STATES, STALE_FACTOR, read_signal
from autotrader.config import AppConfig
from autotrader.config_base import format_duration
from autotrader.domain.ledger import Ledger, OpenOrder
from autotrader.domain.positions import PnlEvent, Position, PositionKey, Replay
from autotrader.signal.published import published_path
from autotrader.status import strategy_views as sv
from autotrader.status.history import HistoryCache, LedgerMemo
from autotrader.status.queries import DbData, RunRow, read_all, read_runs
from autotrader.store.models_scheduler import STRATEGY_RUNS

ZERO = Decimal(0)
RunsReader = Callable[[Sequence[str]], dict[str, tuple[RunRow, ...]]]


def no_runs(_names: Sequence[str]) -> dict[str, tuple[RunRow, ...]]:
    """The runs of a site without a ``strategy_runs`` table: none."""
    return {}


SAFE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
PNL_POINTS = 240  # points of the overview's cumulative P&L chart


@dataclass(frozen=True)
class DaemonView:
    """A daemon's heartbeat, judged against wall time."""

    daemon: str
    pid: int
    host: str
    state: str
    status: str
    last_beat_at: datetime
    age_secs: float
    stale: bool

    @property
    def active(self) -> bool:
        """Fresh and not in a state that means the process ended."""
        return not self.stale and self.state not in INACTIVE_STATES


@dataclass(frozen=True)
class SignalView:
    """The published BTC signal now: ``state`` is ok, absent or unreadable."""

    state: str
    direction: str | None = None
    confidence: float | None = None
    age_secs: float | None = None
    window_slug: str | None = None
    stale: bool = False
    error: str | None = None


@dataclass(frozen=True)
class SiteSnapshot:
    """Everything one render of the site shows."""

    generated_at: datetime  # on the daemons' clock
    real_generated_at: datetime  # wall time, for the countdown script
    clock_speed: float
    mode: str
    timezone: str
    refresh_secs: float
    strategies: tuple[sv.StrategyView, ...]
    daemons: tuple[DaemonView, ...]
    daemon_stale_after_secs: float
    signal: SignalView
    pnl_points: tuple[tuple[datetime, Decimal], ...]
    problems: tuple[str, ...]  # what could not be read, shown as a banner
    # strategy names → their runs, newest first: read per batch of pages (``render``), so a
    # render holds the runs of one batch, not the 50 kept for each of thousands of strategies.
    runs_for: RunsReader = no_runs

    def counts(self) -> dict[str, int]:
        """How many strategies have each status (for the filter buttons)."""
        out = {"all": len(self.strategies), "running": 0, "paused": 0, "stopped": 0, "error": 0}
        for s in self.strategies:
            out[s.status] += 1
        return out


def gather(
    config: AppConfig,
    engine: sa.Engine,
    *,
    now: datetime,
    real_now: datetime,
    history: HistoryCache | None = None,
) -> SiteSnapshot:
    """Read and derive everything the site shows (read-only); ``history`` keeps the replay of
    fills between calls (see ``status.history``)."""
    with gc_paused():
        return _gather(config, engine, now, real_now, history)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic GC inside: a render allocates ~10⁵ objects that all live until it ends, and
    the collector's passes over them cost more than the render itself."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _gather(
    config: AppConfig,
    engine: sa.Engine,
    now: datetime,
    real_now: datetime,
    history: HistoryCache | None,
) -> SiteSnapshot:
    data = read_all(engine, now, history)
    problems: list[str] = []
    if data.history_error:
        problems.append(f"fills and settlements do not replay: {data.history_error}")
    if data.missing_tables:
        problems.append("tables not created yet: " + ", ".join(data.missing_tables))
    return SiteSnapshot(
        generated_at=now,
        real_generated_at=real_now,
        clock_speed=config.clock.speed,
        mode=config.mode,
        timezone=config.timezone,
        refresh_secs=config.status_page.refresh_secs,
        strategies=_strategies(config, data, now, history.ledgers if history else {}),
        daemons=_daemons(config, data, real_now),
        daemon_stale_after_secs=STALE_FACTOR * config.daemons.heartbeat_secs,
        signal=_signal(config, real_now),
        pnl_points=cumulative_pnl(data.history.replay.events, PNL_POINTS),
        problems=tuple(problems),
        runs_for=no_runs
        if STRATEGY_RUNS.name in data.missing_tables
        else partial(read_runs, engine),
    )


def _strategies(
    config: AppConfig, data: DbData, now: datetime, ledgers: LedgerMemo
) -> tuple[sv.StrategyView, ...]:
    """One view per configured strategy, then any other one the database knows of."""
    history = data.history
    events: dict[str, list[PnlEvent]] = defaultdict(list)
    for ev in history.replay.events:
        events[ev.key.strategy].append(ev)
    positions: dict[str, dict[PositionKey, Position]] = defaultdict(dict)
    for key, pos in history.replay.positions.items():
        positions[key.strategy][key] = pos
    trips = sv.group_trips(history.trips)
    fills = sv.group_fills(data.fills)
    orders = sv.group_orders(data.open_orders)
    configured = {s.name: s for s in config.strategies}
    extra = sorted(n for n in {*data.states, *fills} - configured.keys() if SAFE_NAME.fullmatch(n))
    views = []
    for name in (*configured, *extra):
        cfg = configured.get(name)
        alloc = cfg.allocation_usd if cfg else ZERO
        own_events = tuple(events[name])
        own_orders = orders.get(name, ())
        ledger = _ledger(
            config, name, alloc, Replay(positions[name], own_events), own_orders, ledgers
        )
        inputs = sv.StrategyInputs(
            name=name,
            kind=cfg.kind if cfg else "(not in the configuration)",
            enabled=cfg.enabled if cfg else False,
            schedule=_schedule_text(cfg.schedule.every, cfg.schedule.align) if cfg else "-",
            ledger=ledger,
            pnl_events=own_events,
            trips=trips.get(name, ()),
            fills=fills.get(name, ()),
            open_positions=tuple(p for p in positions[name].values() if p.is_open),
        )
        views.append(sv.build(inputs, data, now))
    return tuple(views)


def _ledger(
    config: AppConfig,
    name: str,
    alloc: Decimal,
    replayed: Replay,
    own_orders: tuple[OpenOrder, ...],
    memo: LedgerMemo,
) -> Ledger:
    """The strategy's ledger, from ``memo`` when nothing it depends on changed.

    The events of a strategy only grow while the cache's replay lives (the memo is emptied
    with it), so an unchanged count means unchanged positions and P&L.
    """
    if not (replayed.events or replayed.positions or own_orders):
        # Nothing to replay: as cheap to build as to look up, and not memoised, so the
        # daemon keeps no ledger for each strategy that never traded.
        memo.pop(name, None)
        return Ledger.from_replay(name, alloc, replayed, own_orders, config.tz)
    basis = (len(replayed.events), own_orders, alloc, config.timezone)
    known = memo.get(name)
    if known is not None and known[0] == basis:
        return known[1]
    ledger = Ledger.from_replay(name, alloc, replayed, own_orders, config.tz)
    memo[name] = (basis, ledger)
    return ledger


@lru_cache(maxsize=64)
def _schedule_text(every: float, align: bool) -> str:
    # Cached: a few distinct texts shared by thousands of strategies, not one new string
    # per strategy per render.
    return f"every {format_duration(every)}" + (" (aligned)" if align else "")


def _daemons(config: AppConfig, data: DbData, real_now: datetime) -> tuple[DaemonView, ...]:
    limit = STALE_FACTOR * config.daemons.heartbeat_secs
    out = []
    for b in data.heartbeats:
        age = b.age_secs(real_now)
        out.append(
            DaemonView(b.daemon, b.pid, b.host, b.state, b.status, b.last_beat_at, age, age > limit)
        )
    return tuple(out)


def _signal(config: AppConfig, real_now: datetime) -> SignalView:
    doc = read_signal(published_path(config.state_dir), real_now)
    if doc["state"] != "ok":
        return SignalView(state=doc["state"], error=doc.get("error"))
    # The daemon rewrites the file every interval; a few missed ones mean it is not publishing.
    stale_after = STALE_FACTOR * max(config.signal.interval_secs, config.daemons.heartbeat_secs)
    age = float(doc["age_secs"])
    return SignalView(
        state="ok",
        direction=str(doc["direction"]),
        confidence=float(doc["confidence"]),
        age_secs=age,
        window_slug=doc.get("window_slug"),
        stale=age > stale_after,
    )


def cumulative_pnl(
    events: tuple[PnlEvent, ...] | list[PnlEvent], max_points: int
) -> tuple[tuple[datetime, Decimal], ...]:
    """Cumulative net P&L (realized − fees) after each event, thinned to ``max_points``.

    Thinning keeps every k-th point and always the last, so the end value is exact.
    """
    total = ZERO
    points: list[tuple[datetime, Decimal]] = []
    for ev in events:
        total += ev.realized_usd - ev.fee_usd
        points.append((ev.ts, total))
    if len(points) <= max_points:
        return tuple(points)
    step = -(-len(points) // (max_points - 1))
    thinned = points[::step]
    if thinned[-1] is not points[-1]:
        thinned.append(points[-1])
    return tuple(thinned)


def seconds_between(a: datetime, b: datetime) -> float:
    """``b − a`` in seconds."""
    return (b - a) / timedelta(seconds=1)
