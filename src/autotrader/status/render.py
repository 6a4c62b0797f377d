"""The site from a ``SiteSnapshot``: Jinja2 templates (autoescaped) → {file name: HTML}.

``index.html`` is the overview; ``strategy-<name>.html`` one page per strategy. Every value
reaches the HTML through autoescaping or through ``svg`` (which escapes its own text), so a
market titled ``<script>alert(1)</script>`` stays text. The pages use nothing external: CSS,
SVG and the small scripts (filter/sort, countdown) are inline, so they work from ``file://``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shlex
from collections.abc import Callable, Iterator, Mapping
from datetime import tzinfo
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2

from autotrader.status import svg
from autotrader.status.fmt import Formatter
from autotrader.status.rows import page_rows
from autotrader.status.snapshot import SiteSnapshot, gc_paused
from autotrader.status.strategy_views import StrategyView, with_runs

INDEX = "index.html"
CENT = Decimal("0.01")
BATCH = 10  # strategy pages whose runs are read (and held in memory) at a time
PIECES = 64  # template output pieces joined per write (each piece is a few dozen bytes)


@cache
def environment() -> jinja2.Environment:
    """The templates, compiled once per process (a render then only runs them)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("autotrader.status", "templates"),
        autoescape=True,  # every template is HTML, whatever its file name ends with
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["commands"] = commands
    return env


def render_site(snap: SiteSnapshot, config_path: Path | None = None) -> dict[str, bytes]:
    """Every file of the site: ``index.html`` and one ``strategy-<name>.html`` per strategy."""
    with gc_paused():
        return {name: b"".join(pieces) for name, pieces in render_pages(snap, config_path)}


def render_pages(
    snap: SiteSnapshot,
    config_path: Path | None = None,
    previous: Mapping[str, bytes] | None = None,
    digests: dict[str, bytes] | None = None,
) -> Iterator[tuple[str, Iterator[bytes]]]:
    """(file name, HTML in pieces) of the strategy pages whose inputs differ from ``previous``
    (every page without it), then ``index.html`` (always: it says when it was generated).
    Each page's pieces are to be consumed (written) before the next page is asked for.

    A strategy page holds nothing that depends on "now" (its relative times are written by
    its script), so the digest of its inputs decides whether it changed; ``digests`` receives
    the digest of every page (both keyed by strategy name). Pages are produced piece by piece
    as they are written, and their runs read a batch of pages at a time, so however many
    strategies there are, a render holds neither a whole page nor the runs of every strategy
    (the index of 2,000 strategies is 3.7 MB of HTML made of ~10⁵ pieces: held whole, those
    pieces alone left the scheduler several MB bigger after every render).
    """
    env = environment()
    fmt = Formatter(_zone(snap.timezone), snap.generated_at, _cli_suffix(config_path))
    anchor = clock_anchor(snap)
    common = {"snap": snap, "f": fmt, "anchor": anchor}
    page = env.get_template("strategy.html.j2")
    views = snap.strategies

    def digest_of(view: StrategyView) -> bytes:
        return page_digest(view, snap, anchor, fmt.cli_suffix)

    # Decided before the runs are read: the digest covers the runs' sums (a run started,
    # finished or pruned changes them), so an unchanged page costs no run rows at all.
    changed = [view for view in views if _changed(view, previous, digests, digest_of)]
    for start in range(0, len(changed), BATCH):
        chunk = changed[start : start + BATCH]
        runs = snap.runs_for([view.name for view in chunk])
        for view in chunk:
            yield (
                view.page,
                _strategy_page(page, common, with_runs(view, runs.get(view.name, ())), fmt),
            )
        del runs
    index = env.get_template("index.html.j2")
    yield INDEX, _encoded(index.stream(**common, **_overview(snap, fmt)))


def _changed(
    view: StrategyView,
    previous: Mapping[str, bytes] | None,
    digests: dict[str, bytes] | None,
    digest_of: Callable[[StrategyView], bytes],
) -> bool:
    """Whether ``view``'s page must be rendered (its digest goes into ``digests``)."""
    if previous is None and digests is None:
        return True  # a whole render: no digest needed
    digest = digest_of(view)
    known = previous.get(view.name) if previous is not None else None
    if digests is not None:
        # Kept between renders for every strategy: keyed by its name (the configuration's
        # string, not a new one per render), raw bytes rather than hex, and the old object
        # when unchanged: a new one, made among the render's garbage, would pin its memory.
        digests[view.name] = known if known == digest else digest
    return previous is None or known != digest


def _strategy_page(
    page: jinja2.Template, common: dict[str, object], view: StrategyView, fmt: Formatter
) -> Iterator[bytes]:
    chart = svg.pnl_line(view.pnl_points, fmt.money, fmt.short, height=180)
    return _encoded(page.stream(**common, s=view, rows=page_rows(view, fmt), pnl_chart=chart))


def _encoded(stream: jinja2.environment.TemplateStream) -> Iterator[bytes]:
    """A template's output as UTF-8 (what the files hold), a few dozen pieces at a time."""
    stream.enable_buffering(PIECES)
    return (piece.encode() for piece in stream)


def clock_anchor(snap: SiteSnapshot) -> tuple[int, int]:
    """(daemon clock ms, wall ms) at one instant, for the pages' scripts: daemon-clock now =
    clock + (Date.now() − wall) × speed.

    At speed 1 only the offset between the two clocks matters; it is given in whole seconds
    against a wall time of 0, so a real clock (offset 0) gives the same anchor on every
    render and an unchanged strategy page stays byte-identical.
    """
    clock_ms = int(snap.generated_at.timestamp() * 1000)
    real_ms = int(snap.real_generated_at.timestamp() * 1000)
    if snap.clock_speed == 1:
        return round((clock_ms - real_ms) / 1000) * 1000, 0
    return clock_ms, real_ms


def page_digest(
    view: StrategyView, snap: SiteSnapshot, anchor: tuple[int, int], cli_suffix: str
) -> bytes:
    """What a strategy page is rendered from, hashed: the view without its "now"-dependent
    fields, and the site settings the page shows. Its runs are not read yet (``with_runs``
    comes after): their sums in ``run_stats`` and the counters in the view stand for them."""
    stats = dataclasses.replace(view.run_stats, recent=0) if view.run_stats else None
    stable = dataclasses.replace(view, uptime_secs=None, activity_24h=0, run_stats=stats)
    basis = (stable, anchor, cli_suffix, snap.mode, snap.timezone, snap.refresh_secs)
    return hashlib.blake2b(repr((basis, snap.problems)).encode(), digest_size=16).digest()


def _overview(snap: SiteSnapshot, fmt: Formatter) -> dict[str, object]:
    views = snap.strategies
    totals = {
        "allocated": sum((s.ledger.allocated_usd for s in views), Decimal(0)),
        "deployed": sum((s.ledger.deployed_usd for s in views), Decimal(0)),
        "available": sum((s.ledger.available_usd for s in views), Decimal(0)),
        "net_pnl": sum((s.ledger.net_pnl_usd for s in views), Decimal(0)),
    }
    # The donut's slices and the table's swatches are made as the index is written, not
    # before it for every strategy: held at once, they were a third of the render's peak.
    allocations = (
        svg.Allocation(s.name, s.ledger.allocated_usd, s.ledger.deployed_usd,
                       s.ledger.available_usd)
        for s in views
    )  # fmt: skip
    return {
        "pie": svg.allocation_pie(allocations, fmt.money, totals["allocated"]),
        "color": svg.color,
        "pnl_chart": svg.pnl_line(snap.pnl_points, fmt.money, fmt.short),
        "totals": totals,
        "counts": snap.counts(),
    }


def commands(view: StrategyView) -> tuple[tuple[str, ...], ...]:
    """The CLI commands that make sense for the strategy's status, as argument lists."""
    name = view.name
    if view.status == "stopped":
        return (("strategy", "start", name), ("strategy", "show", name))
    if view.status == "paused":
        return (
            ("strategy", "resume", name),
            ("strategy", "stop", name),
            ("strategy", "show", name),
        )
    return (("strategy", "pause", name), ("strategy", "stop", name), ("strategy", "show", name))


def _zone(name: str) -> tzinfo:
    return ZoneInfo(name)


def _cli_suffix(config_path: Path | None) -> str:
    from autotrader.cli import DEFAULT_CONFIG

    if config_path is None or config_path == DEFAULT_CONFIG:
        return ""
    return " --config " + shlex.quote(str(config_path))
