"""One strategy's part of the status page: its card on the overview and its own page."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from autotrader.domain.ledger import Ledger, OpenOrder
from autotrader.domain.orders import Side
from autotrader.domain.positions import PnlEvent, Position, StrategyFill
from autotrader.scheduler.lifecycle import strategy_status
from autotrader.status.queries import ACTIVITY_WINDOW, DbData, RunRow, RunStats, StateRow, WatchRow
from autotrader.status.trades import RoundTrip, roi, win_rate

ZERO = Decimal(0)
TIMELINE_ITEMS = 25
CLOSED_SHOWN = 25  # closed trades listed on a strategy page (totals count them all)
STRATEGY_PNL_POINTS = 120


def page_name(strategy: str) -> str:
    """The file name of ``strategy``'s page."""
    return f"strategy-{strategy}.html"


@dataclass(frozen=True, slots=True)
class MarketRef:
    """A market as the page names it: its question when known, else its slug."""

    slug: str
    title: str
    outcome: str


@dataclass(frozen=True, slots=True)
class PositionView:
    """An open position."""

    market: MarketRef
    shares: Decimal
    avg_price: Decimal | None
    cost_usd: Decimal
    opened_at: datetime | None


@dataclass(frozen=True, slots=True)
class TradeView:
    """A round trip (see ``trades.RoundTrip``) with its market named."""

    market: MarketRef
    trip: RoundTrip


@dataclass(frozen=True, slots=True)
class ActivityView:
    """One line of the timeline."""

    ts: datetime
    kind: str  # run | fill | event
    text: str


@dataclass(frozen=True, slots=True)
class StrategyView:
    """Everything shown about one strategy."""

    name: str
    kind: str
    enabled: bool
    status: str  # running | paused | stopped | error
    pause_reason: str | None
    schedule: str
    state: StateRow | None
    uptime_secs: float | None
    ledger: Ledger
    watchlist: tuple[WatchRow, ...]
    positions: tuple[PositionView, ...]
    closed: tuple[TradeView, ...]  # newest first, at most CLOSED_SHOWN
    closed_count: int
    win_rate: float | None
    roi: Decimal | None
    run_stats: RunStats | None
    # Newest first; empty until ``with_runs`` (a page's batch reads them, the index needs not).
    runs: tuple[RunRow, ...]
    timeline: tuple[ActivityView, ...]  # fills and events; runs too once ``with_runs``
    last_activity_at: datetime | None
    activity_24h: int  # runs + fills + events in the last 24 h: "most active" sorts on it
    pnl_points: tuple[tuple[datetime, Decimal], ...]

    @property
    def page(self) -> str:
        """The file name of the strategy's page (names are [a-z0-9_-], so it is safe)."""
        return page_name(self.name)

    @property
    def totals(self) -> tuple[int, int, int]:
        """(executions, successful, failed): the scheduler's counters, else the runs kept."""
        if self.state is not None:
            return self.state.executions, self.state.successes, self.state.failures
        stats = self.run_stats
        return (stats.done, stats.ok, stats.failed) if stats else (0, 0, 0)

    @property
    def first_seen_at(self) -> datetime | None:
        """When it started (for newest/oldest): the scheduler's start, else its first run."""
        if self.state is not None and self.state.started_at is not None:
            return self.state.started_at
        return self.run_stats.first if self.run_stats else None


@dataclass(frozen=True, slots=True)
class StrategyInputs:
    """The per-strategy slices ``snapshot`` has already computed."""

    name: str
    kind: str
    enabled: bool
    schedule: str
    ledger: Ledger
    pnl_events: tuple[PnlEvent, ...]
    trips: tuple[RoundTrip, ...]
    fills: tuple[StrategyFill, ...]
    open_positions: tuple[Position, ...]


def status_of(enabled: bool, state: StateRow | None, paused: bool) -> str:
    """running | paused | stopped | error, by the scheduler's own rule (``strategy_status``)."""
    return strategy_status(
        enabled=enabled,
        desired=state.desired if state else None,
        paused=paused,
        consecutive_failures=state.consecutive_failures if state else 0,
    ).value


def build(inp: StrategyInputs, data: DbData, now: datetime) -> StrategyView:
    """The view of one strategy from what was read and replayed."""
    from autotrader.status.snapshot import cumulative_pnl

    state = data.states.get(inp.name)
    runtime = data.runtime.get(inp.name)
    status = status_of(inp.enabled, state, bool(runtime and runtime.paused))
    started = state.started_at if state else None
    uptime = (now - started).total_seconds() if started and status != "stopped" else None
    market = _Namer(data.tokens, data.titles)
    closed = [t for t in inp.trips if t.closed_at is not None]
    stats = data.run_stats.get(inp.name)
    timeline = _timeline(inp, data, market)
    return StrategyView(
        name=inp.name,
        kind=inp.kind,
        enabled=inp.enabled,
        status=status,
        pause_reason=runtime.pause_reason if runtime and runtime.paused else None,
        schedule=inp.schedule,
        state=state,
        uptime_secs=max(uptime, 0.0) if uptime is not None else None,
        ledger=inp.ledger,
        watchlist=tuple(data.watchlist.get(inp.name, ())),
        positions=_positions(inp, market),
        closed=tuple(
            TradeView(market(t.key.token_id), t) for t in reversed(closed[-CLOSED_SHOWN:])
        ),
        closed_count=len(closed),
        win_rate=win_rate(closed),
        roi=roi(closed),
        run_stats=stats,
        runs=(),
        timeline=timeline,
        last_activity_at=_last_activity(state, stats, timeline),
        activity_24h=_activity(stats, inp.fills, data, inp.name, now),
        pnl_points=cumulative_pnl(inp.pnl_events, STRATEGY_PNL_POINTS),
    )


class _Namer:
    """token id → MarketRef, memoised (a strategy's fills repeat a few tokens)."""

    def __init__(self, tokens: dict[str, tuple[str, str]], titles: dict[str, str]) -> None:
        self._tokens = tokens
        self._titles = titles
        self._seen: dict[str, MarketRef] = {}

    def __call__(self, token_id: str) -> MarketRef:
        ref = self._seen.get(token_id)
        if ref is None:
            slug, outcome = self._tokens.get(token_id, ("", ""))
            title = self._titles.get(slug) or slug or f"token {token_id[:16]}…"
            ref = self._seen[token_id] = MarketRef(slug, title, outcome)
        return ref


def _positions(inp: StrategyInputs, market: _Namer) -> tuple[PositionView, ...]:
    return tuple(
        PositionView(market(p.token_id), p.shares, p.avg_price, p.cost_basis_usd, p.opened_at)
        for p in inp.open_positions
    )


def with_runs(view: StrategyView, runs: tuple[RunRow, ...]) -> StrategyView:
    """``view`` with its runs, and its timeline with them (what its page shows)."""
    items = [ActivityView(r.started_at, "run", _run_text(r)) for r in runs[:TIMELINE_ITEMS]]
    items.extend(view.timeline)
    items.sort(key=lambda a: a.ts, reverse=True)
    return dataclasses.replace(view, runs=runs, timeline=tuple(items[:TIMELINE_ITEMS]))


def _timeline(inp: StrategyInputs, data: DbData, market: _Namer) -> tuple[ActivityView, ...]:
    items: list[ActivityView] = []
    for sf in inp.fills[-TIMELINE_ITEMS:]:
        f = sf.fill
        ref = market(f.token_id)
        verb = "bought" if f.side is Side.BUY else "sold"
        text = f"{verb} {_num(f.size)} {ref.outcome or 'shares'} @ {_num(f.price)} — {ref.title}"
        items.append(ActivityView(f.ts, "fill", text))
    for ev in data.events.get(inp.name, ()):
        items.append(ActivityView(ev.created_at, "event", f"{ev.type}: {ev.summary}"))
    items.sort(key=lambda a: a.ts, reverse=True)
    return tuple(items[:TIMELINE_ITEMS])


def _run_text(run: RunRow) -> str:
    text = f"run {run.outcome}"
    if run.intents_created:
        text += f", {run.intents_created} intent{'s' if run.intents_created != 1 else ''}"
    if run.error:
        text += f": {run.error}"
    elif run.note:
        text += f": {run.note}"
    return text


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _last_activity(
    state: StateRow | None, stats: RunStats | None, timeline: tuple[ActivityView, ...]
) -> datetime | None:
    times = [a.ts for a in timeline[:1]]
    if state is not None and state.last_run_at is not None:
        times.append(state.last_run_at)
    if stats is not None and stats.last is not None:
        times.append(stats.last)
    return max(times) if times else None


def _activity(
    stats: RunStats | None, fills: tuple[StrategyFill, ...], data: DbData, name: str, now: datetime
) -> int:
    since = now - ACTIVITY_WINDOW
    count = stats.recent if stats else 0
    count += sum(1 for sf in reversed(fills) if sf.fill.ts >= since)
    return count + sum(1 for e in data.events.get(name, ()) if e.created_at >= since)


def group_trips(trips: Iterable[RoundTrip]) -> dict[str, tuple[RoundTrip, ...]]:
    """Round trips by strategy, order kept."""
    out: dict[str, list[RoundTrip]] = defaultdict(list)
    for t in trips:
        out[t.key.strategy].append(t)
    return {k: tuple(v) for k, v in out.items()}


def group_fills(fills: Iterable[StrategyFill]) -> dict[str, tuple[StrategyFill, ...]]:
    """Fills by strategy, order kept."""
    out: dict[str, list[StrategyFill]] = defaultdict(list)
    for f in fills:
        out[f.strategy].append(f)
    return {k: tuple(v) for k, v in out.items()}


def group_orders(orders: Iterable[OpenOrder]) -> dict[str, tuple[OpenOrder, ...]]:
    """Open orders by strategy."""
    out: dict[str, list[OpenOrder]] = defaultdict(list)
    for o in orders:
        out[o.strategy].append(o)
    return {k: tuple(v) for k, v in out.items()}
