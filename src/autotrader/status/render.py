"""The site from a ``SiteSnapshot``: Jinja2 templates (autoescaped) → {file name: HTML}.

``index.html`` is the overview; ``strategy-<name>.html`` one page per strategy. Every value
reaches the HTML through autoescaping or through ``svg`` (which escapes its own text), so a
market titled ``<script>alert(1)</script>`` stays text. The pages use nothing external: CSS,
SVG and the small scripts (filter/sort, countdown) are inline, so they work from ``file://``.
"""

from __future__ import annotations

import shlex
from datetime import tzinfo
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup

from autotrader.status import svg
from autotrader.status.fmt import Formatter
from autotrader.status.rows import page_rows
from autotrader.status.snapshot import SiteSnapshot, gc_paused
from autotrader.status.strategy_views import StrategyView

INDEX = "index.html"
CENT = Decimal("0.01")


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
        return _render(snap, config_path)


def _render(snap: SiteSnapshot, config_path: Path | None) -> dict[str, bytes]:
    env = environment()
    fmt = Formatter(_zone(snap.timezone), snap.generated_at, _cli_suffix(config_path))
    common = {"snap": snap, "f": fmt}
    files = {INDEX: env.get_template("index.html.j2").render(**common, **_overview(snap, fmt))}
    page = env.get_template("strategy.html.j2")
    for view in snap.strategies:
        chart = svg.pnl_line(view.pnl_points, fmt.money, fmt.short, height=180)
        files[view.page] = page.render(**common, s=view, rows=page_rows(view, fmt), pnl_chart=chart)
    return {name: html.encode() for name, html in files.items()}


def _overview(snap: SiteSnapshot, fmt: Formatter) -> dict[str, object]:
    allocations = [
        svg.Allocation(
            s.name, s.ledger.allocated_usd, s.ledger.deployed_usd, s.ledger.available_usd
        )
        for s in snap.strategies
    ]
    totals = {
        "allocated": sum((a.allocated for a in allocations), Decimal(0)),
        "deployed": sum((a.deployed for a in allocations), Decimal(0)),
        "available": sum((a.available for a in allocations), Decimal(0)),
        "net_pnl": sum((s.ledger.net_pnl_usd for s in snap.strategies), Decimal(0)),
    }
    return {
        "pie": svg.allocation_pie(allocations, fmt.money),
        "colors": [Markup(svg.color(i)) for i in range(len(allocations))],
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
