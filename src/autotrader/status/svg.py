"""Inline SVG charts: the capital allocation donut and the cumulative P&L line.

Both return ``markupsafe.Markup`` built here, so every piece of text in them (strategy names,
labels) goes through ``escape``; numbers are formatted by us. Geometry uses floats, the values
written into ``data-*`` attributes and titles are the exact Decimals.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from markupsafe import Markup, escape

ZERO = Decimal(0)
FULL_TURN = 360.0
_PAD_L, _PAD_R, _PAD_T, _PAD_B = 64, 12, 12, 24  # line chart: room for the labels


@dataclass(frozen=True, slots=True)
class Allocation:
    """One strategy's capital, as the donut shows it."""

    name: str
    allocated: Decimal
    deployed: Decimal
    available: Decimal


def color(index: int, light: bool = False) -> str:
    """A distinct hue per strategy (golden-angle steps); ``light`` for its available part."""
    hue = (210 + index * 137.508) % 360  # starts at blue: red and amber mean status here
    return f"hsl({hue:.0f},{55 if light else 62}%,{78 if light else 45}%)"


def _point(cx: float, cy: float, r: float, deg: float) -> tuple[float, float]:
    rad = math.radians(deg - 90)  # 0° at 12 o'clock, clockwise
    return cx + r * math.cos(rad), cy + r * math.sin(rad)


def ring_segment(cx: float, cy: float, r_out: float, r_in: float, a0: float, a1: float) -> str:
    """The path of a ring segment from angle ``a0`` to ``a1`` (degrees, clockwise from 12)."""
    if a1 - a0 >= FULL_TURN - 1e-6:
        # An arc cannot start and end at the same point: draw a full ring as two halves.
        half = a0 + FULL_TURN / 2
        return ring_segment(cx, cy, r_out, r_in, a0, half) + ring_segment(
            cx, cy, r_out, r_in, half, a0 + FULL_TURN
        )
    large = 1 if a1 - a0 > 180 else 0
    x0, y0 = _point(cx, cy, r_out, a0)
    x1, y1 = _point(cx, cy, r_out, a1)
    x2, y2 = _point(cx, cy, r_in, a1)
    x3, y3 = _point(cx, cy, r_in, a0)
    return (
        f"M{x0:.2f},{y0:.2f}A{r_out},{r_out} 0 {large} 1 {x1:.2f},{y1:.2f}"
        f"L{x2:.2f},{y2:.2f}A{r_in},{r_in} 0 {large} 0 {x3:.2f},{y3:.2f}Z"
    )


def _slice(path: str, fill: str, title: str, attrs: dict[str, str]) -> str:
    data = "".join(f' data-{k}="{escape(v)}"' for k, v in attrs.items())
    return f'<path d="{path}" fill="{fill}"{data}><title>{escape(title)}</title></path>'


def allocation_pie(
    items: Iterable[Allocation], money: Callable[[Decimal], str], total: Decimal | None = None
) -> Iterator[Markup]:
    """A donut, in pieces (one per slice): the outer ring splits the total allocation between
    strategies; the inner ring splits each strategy's span into deployed (dark) and available
    (light) capital. In pieces because the index writes it as it goes: for thousands of
    strategies the donut is megabytes of small strings, not worth holding at once.

    Each outer slice carries ``data-strategy`` and ``data-allocated``; its angle is
    allocated / total × 360°. ``total`` is the sum of the allocations when the caller has it
    (``items`` are then read once, as they come); without it they are summed first.
    """
    if total is None:
        items = tuple(items)
        total = sum((i.allocated for i in items), ZERO)
    size, c = 220, 110.0
    yield Markup(
        f'<svg class="pie" viewBox="0 0 {size} {size}" width="{size}" height="{size}" '
        f'role="img" aria-label="capital allocation">'
    )
    if total <= 0:
        yield Markup(
            f'<circle cx="{c}" cy="{c}" r="100" fill="#e5e7eb"/>'
            f'<text x="{c}" y="{c}" text-anchor="middle">no capital allocated</text></svg>'
        )
        return
    angle = 0.0
    for index, item in enumerate(items):
        if item.allocated <= 0:
            continue
        span = float(item.allocated / total) * FULL_TURN
        title = (
            f"{item.name}: allocated {money(item.allocated)}, deployed {money(item.deployed)}, "
            f"available {money(item.available)}"
        )
        attrs = {"strategy": item.name, "allocated": str(item.allocated)}
        outer = ring_segment(c, c, 104, 72, angle, angle + span)
        slices = [_slice(outer, color(index), title, {**attrs, "ring": "allocated"})]
        yield Markup("".join(slices + _inner(item, index, angle, span, title)))
        angle += span
    yield Markup(
        f'<text x="{c}" y="{c - 4}" text-anchor="middle" class="pie-total">'
        f"{escape(money(total))}</text>"
        f'<text x="{c}" y="{c + 14}" text-anchor="middle" class="muted">allocated</text></svg>'
    )


def _inner(item: Allocation, index: int, start: float, span: float, title: str) -> list[str]:
    deployed = max(item.deployed, ZERO)
    available = max(item.available, ZERO)
    whole = deployed + available
    if whole <= 0:
        return []
    cut = start + span * float(deployed / whole)
    out = []
    if deployed > 0:
        path = ring_segment(110.0, 110.0, 70, 46, start, cut)
        out.append(_slice(path, color(index), title, {"ring": "deployed", "strategy": item.name}))
    if available > 0:
        path = ring_segment(110.0, 110.0, 70, 46, cut, start + span)
        attrs = {"ring": "available", "strategy": item.name}
        out.append(_slice(path, color(index, light=True), title, attrs))
    return out


def pnl_line(
    points: Sequence[tuple[datetime, Decimal]],
    money: Callable[[Decimal], str],
    when: Callable[[datetime], str],
    *,
    width: int = 1000,
    height: int = 220,
) -> Markup:
    """Cumulative P&L over time: a polyline, the zero line, and labels of the range.

    The last value is written into ``data-last`` (exact), the point count into ``data-points``.
    """
    pad_l, pad_r, pad_t, pad_b = _PAD_L, _PAD_R, _PAD_T, _PAD_B
    head = (
        f'<svg class="line" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="cumulative P&amp;L" data-points="{len(points)}"'
    )
    if not points:
        return Markup(
            f'{head}><text x="{width / 2}" y="{height / 2}" text-anchor="middle" class="muted">'
            "no realized P&amp;L yet</text></svg>"
        )
    values = [float(v) for _, v in points]
    lo, hi = min(0.0, *values), max(0.0, *values)
    span_v = (hi - lo) or 1.0
    t0, t1 = points[0][0].timestamp(), points[-1][0].timestamp()
    span_t = (t1 - t0) or 1.0
    inner_w, inner_h = width - pad_l - pad_r, height - pad_t - pad_b

    def xy(ts: datetime, v: float) -> str:
        x = pad_l + (ts.timestamp() - t0) / span_t * inner_w
        y = pad_t + (hi - v) / span_v * inner_h
        return f"{x:.1f},{y:.1f}"

    coords = " ".join(xy(ts, v) for (ts, _), v in zip(points, values, strict=True))
    zero_y = pad_t + hi / span_v * inner_h
    last = points[-1][1]
    stroke = "#15803d" if last >= 0 else "#b91c1c"
    parts = [
        f'{head} data-last="{last}">',
        f'<line x1="{pad_l}" x2="{width - pad_r}" y1="{zero_y:.1f}" y2="{zero_y:.1f}" '
        'stroke="#9ca3af" stroke-dasharray="4 3"/>',
        f'<polyline fill="none" stroke="{stroke}" stroke-width="2" points="{coords}"/>',
        *_axes((lo, hi), (points[0][0], points[-1][0]), money, when, (width, height)),
    ]
    return Markup("".join(parts) + "</svg>")


def _axes(
    values: tuple[float, float],
    times: tuple[datetime, datetime],
    money: Callable[[Decimal], str],
    when: Callable[[datetime], str],
    size: tuple[int, int],
) -> list[str]:
    """Labels of the value range (left) and the time range (bottom)."""
    (lo, hi), (width, height) = values, size
    cents = Decimal("0.01")
    return [
        _label(4, _PAD_T + 10, money(Decimal(str(hi)).quantize(cents))),
        _label(4, height - _PAD_B, money(Decimal(str(lo)).quantize(cents))),
        _label(_PAD_L, height - 6, when(times[0])),
        _label(width - _PAD_R, height - 6, when(times[1]), anchor="end"),
    ]


def _label(x: float, y: float, text: str, anchor: str = "start") -> str:
    return f'<text x="{x}" y="{y}" text-anchor="{anchor}" class="axis">{escape(text)}</text>'
