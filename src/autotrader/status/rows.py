"""The long tables of a strategy page, formatted in Python before the template sees them.

A strategy page has a few hundred cells (50 runs, trades, watchlist, timeline) and the site a
hundred pages; calling formatters from Jinja for each cell costs several times more than
formatting here once. The template then only places (and autoescapes) ready strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from autotrader.status.fmt import Formatter
from autotrader.status.queries import RunRow, WatchRow
from autotrader.status.strategy_views import PositionView, StrategyView, TradeView


class RunCells(NamedTuple):
    """A run: started, duration, outcome, intents, nodes (in→out), error or note."""

    started: str
    took: str
    outcome: str
    intents: str
    nodes: str
    note: str


class WatchCells(NamedTuple):
    """A watched market."""

    title: str
    slug: str
    reason: str
    added: str
    expires: str
    price: str
    volume: str


class PositionCells(NamedTuple):
    """An open position."""

    title: str
    slug: str
    outcome: str
    shares: str
    avg_price: str
    cost: str
    opened: str


class TradeCells(NamedTuple):
    """A closed trade; ``css`` is won/lost, ``pnl_css`` pos/neg."""

    css: str
    title: str
    outcome: str
    opened: str
    closed: str
    exit: str
    cost: str
    proceeds: str
    fees: str
    pnl: str
    pnl_css: str


class ActivityCells(NamedTuple):
    """A line of the timeline."""

    kind: str
    when: str
    text: str


@dataclass(frozen=True, slots=True)
class PageRows:
    """Every long table of one strategy page, ready to place."""

    runs: tuple[RunCells, ...]
    watchlist: tuple[WatchCells, ...]
    positions: tuple[PositionCells, ...]
    closed: tuple[TradeCells, ...]
    timeline: tuple[ActivityCells, ...]


def page_rows(s: StrategyView, f: Formatter) -> PageRows:
    """The formatted rows of ``s``'s page."""
    return PageRows(
        runs=tuple(_run(r, f) for r in s.runs),
        watchlist=tuple(_watch(w, f) for w in s.watchlist),
        positions=tuple(_position(p, f) for p in s.positions),
        closed=tuple(_closed(t, f) for t in s.closed),
        timeline=tuple(ActivityCells(a.kind, f.when(a.ts), a.text) for a in s.timeline),
    )


def _watch(w: WatchRow, f: Formatter) -> WatchCells:
    return WatchCells(
        w.question or w.market_slug,
        w.market_slug,
        w.reason,
        f.when(w.added_at),
        f.when(w.expires_at),
        f.price(w.price_at_add),
        f.money(w.volume_at_add),
    )


def _position(p: PositionView, f: Formatter) -> PositionCells:
    return PositionCells(
        p.market.title,
        p.market.slug if p.market.slug != p.market.title else "",
        p.market.outcome or "—",
        f.num(p.shares),
        f.price(p.avg_price),
        f.money(p.cost_usd),
        f.when(p.opened_at),
    )


def _closed(t: TradeView, f: Formatter) -> TradeCells:
    trip = t.trip
    return TradeCells(
        "won" if trip.won else "lost",
        t.market.title,
        t.market.outcome or "—",
        f.when(trip.opened_at),
        f.when(trip.closed_at),
        trip.exit,
        f.money(trip.cost_usd),
        f.money(trip.proceeds_usd),
        f.money(trip.fees_usd),
        f.pnl(trip.pnl_usd),
        f.sign_class(trip.pnl_usd),
    )


def _run(r: RunRow, f: Formatter) -> RunCells:
    took = f"{(r.ended_at - r.started_at).total_seconds():.1f} s" if r.ended_at else "—"
    nodes = " · ".join(
        f"{n.get('node', '?')} {n.get('in', '?')}→{n.get('out', '?')}"
        for n in r.nodes
        if isinstance(n, dict)
    )
    return RunCells(
        f.when(r.started_at),
        took,
        r.outcome,
        str(r.intents_created),
        nodes,
        r.error or r.note or "",
    )
