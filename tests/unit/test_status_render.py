"""The status page's pure parts: round trips, charts, formats and escaping in the rendered HTML."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from autotrader.domain.fills import Fill, Settlement
from autotrader.domain.ledger import Ledger
from autotrader.domain.orders import Side
from autotrader.domain.positions import PnlEvent, PositionKey, StrategyFill, StrategySettlement
from autotrader.domain.positions import replay as domain_replay
from autotrader.status import svg
from autotrader.status.fmt import Formatter
from autotrader.status.queries import RunRow, StateRow, WatchRow
from autotrader.status.render import render_pages, render_site
from autotrader.status.snapshot import DaemonView, SignalView, SiteSnapshot, cumulative_pnl
from autotrader.status.strategy_views import MarketRef, PositionView, StrategyView, status_of
from autotrader.status.trades import Walker, ordered, roi, walk, win_rate

T0 = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script>"


def _fill(
    tid: str,
    side: Side,
    px: str,
    size: str,
    fee: str,
    minutes: int,
    token: str = "tok",
    strategy: str = "s",
) -> StrategyFill:
    ts = T0 + timedelta(minutes=minutes)
    return StrategyFill(
        strategy,
        Fill(tid, f"0x{tid}", token, side, Decimal(px), Decimal(size), Decimal(fee), ts, "taker"),
    )


# ----------------------------------------------------------------------------- round trips


def test_round_trips_split_the_history_and_agree_with_the_domain_replay() -> None:
    fills = [
        _fill("a", Side.BUY, "0.40", "100", "0.50", 0),
        _fill("b", Side.SELL, "0.55", "40", "0.10", 10),
        _fill("c", Side.SELL, "0.30", "60", "0.20", 20),  # closes: first trip
        _fill("d", Side.BUY, "0.50", "10", "0.05", 30),  # re-entry: second trip, settled
        _fill("e", Side.BUY, "0.20", "5", "0", 40, token="other"),  # still open
    ]
    stl = StrategySettlement(
        "s", Settlement("m", "tok", "Yes", Decimal(10), Decimal(1), T0 + timedelta(minutes=50))
    )
    history = walk(fills, [stl])
    reference = domain_replay(fills, [stl])
    assert history.replay.positions == reference.positions
    assert history.replay.events == reference.events
    first, second, still_open = history.trips
    # 40 × 0.15 − 60 × 0.10 = 0 gross; fees 0.80 → a loss.
    assert (first.cost_usd, first.proceeds_usd, first.realized_usd) == (
        Decimal("40.00"),
        Decimal("40.00"),
        Decimal("0.00"),
    )
    assert first.pnl_usd == Decimal("-0.80") and not first.won and first.exit == "sold"
    assert second.exit == "settled" and second.pnl_usd == Decimal("4.95") and second.won
    assert still_open.exit == "open" and still_open.closed_at is None
    assert win_rate(history.trips) == 0.5  # open trips do not count
    assert roi(history.trips) == (Decimal("-0.80") + Decimal("4.95")) / Decimal("45.00")


def test_a_walker_fed_in_two_parts_equals_one_walk() -> None:
    fills = [
        _fill(str(i), Side.BUY if i % 2 == 0 else Side.SELL, "0.5", "2", "0.01", i)
        for i in range(10)
    ]
    walker = Walker()
    walker.feed(ordered(fills[:5]))
    walker.feed(ordered(fills[5:]))
    assert walker.history() == walk(fills)


def test_nothing_closed_means_no_win_rate_and_no_roi() -> None:
    history = walk([_fill("a", Side.BUY, "0.4", "1", "0", 0)])
    assert win_rate(history.trips) is None and roi(history.trips) is None


def test_cumulative_pnl_is_net_of_fees_and_thinning_keeps_the_exact_end() -> None:
    key = PositionKey("s", "t")
    events = [
        PnlEvent(key, T0 + timedelta(seconds=i), Decimal(1), Decimal("0.25"), Decimal(0))
        for i in range(1000)
    ]
    points = cumulative_pnl(events, 100)
    assert len(points) <= 100
    assert points[0][1] == Decimal("0.75")
    assert points[-1] == (events[-1].ts, Decimal("750.00"))
    assert cumulative_pnl(events[:3], 100) == tuple(
        (e.ts, Decimal("0.75") * (i + 1)) for i, e in enumerate(events[:3])
    )


@pytest.mark.parametrize(
    ("enabled", "desired", "paused", "failures", "expected"),
    [
        (True, None, False, 0, "running"),
        (False, None, False, 0, "stopped"),
        (False, "running", False, 0, "running"),
        (True, "stopped", True, 3, "stopped"),
        (True, None, True, 3, "paused"),
        (True, None, False, 2, "error"),
    ],
)
def test_status_follows_the_scheduler_rule(
    enabled: bool, desired: str | None, paused: bool, failures: int, expected: str
) -> None:
    state = StateRow("s", desired, None, None, None, None, None, failures, 0, 0, 0)
    assert status_of(enabled, state, paused) == expected


# ----------------------------------------------------------------------------- charts


def _angles(svg_text: str) -> list[float]:
    """Angles of the outer ring's slices, from their start and end points (centre 110,110)."""
    spans = []
    for d in re.findall(r'<path d="([^"]+)"[^>]*data-ring="allocated"', svg_text):
        nums = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", d)]
        (x0, y0), (x1, y1) = nums[0:2], nums[7:9]
        a0 = math.degrees(math.atan2(x0 - 110, 110 - y0)) % 360
        a1 = math.degrees(math.atan2(x1 - 110, 110 - y1)) % 360
        spans.append((a1 - a0) % 360 or 360.0)
    return spans


def test_allocation_pie_slices_are_proportional_and_sum_to_a_full_turn() -> None:
    items = [
        svg.Allocation("a", Decimal(500), Decimal(100), Decimal(400)),
        svg.Allocation("b", Decimal(300), Decimal(0), Decimal(300)),
        svg.Allocation("c", Decimal(200), Decimal(200), Decimal(0)),
    ]
    out = "".join(svg.allocation_pie(items, Formatter(UTC, T0, "").money))
    assert _angles(out) == pytest.approx([180.0, 108.0, 72.0], abs=0.05)
    assert sum(_angles(out)) == pytest.approx(360.0, abs=0.05)
    assert re.findall(r'data-allocated="([^"]+)"', out) == ["500", "300", "200"]
    # Inner ring: a is split 100/400 (deployed first), b all available, c all deployed.
    assert re.findall(r'data-ring="(deployed|available)" data-strategy="(\w)"', out) == [
        ("deployed", "a"),
        ("available", "a"),
        ("available", "b"),
        ("deployed", "c"),
    ]
    assert "$1,000.00" in out


def test_a_single_strategy_is_a_full_ring_and_no_allocation_is_said() -> None:
    one = "".join(
        svg.allocation_pie([svg.Allocation("a", Decimal(5), Decimal(0), Decimal(5))], str)
    )
    assert one.count('data-ring="allocated"') == 1 and one.count("A104,104") == 2
    assert "no capital allocated" in "".join(svg.allocation_pie([], str))


def test_pie_titles_escape_strategy_text() -> None:
    out = "".join(
        svg.allocation_pie([svg.Allocation(HOSTILE, Decimal(1), Decimal(0), Decimal(1))], str)
    )
    assert HOSTILE not in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out


def test_pnl_line_spans_the_range_and_carries_the_exact_last_value() -> None:
    fmt = Formatter(UTC, T0, "")
    points = [(T0, Decimal("-5")), (T0 + timedelta(hours=1), Decimal("10.5"))]
    out = str(svg.pnl_line(points, fmt.money, fmt.short, width=200, height=100))
    assert 'data-last="10.5"' in out and 'data-points="2"' in out
    coords = re.search(r'<polyline[^>]*points="([^"]+)"', out)
    assert coords is not None
    (x0, y0), (x1, y1) = (map(float, p.split(",")) for p in coords.group(1).split())
    assert (x0, x1) == (64.0, 188.0)  # left and right padding
    assert y1 < y0  # up is more money
    assert "−$5.00" in out and "$10.50" in out
    assert "no realized P&amp;L yet" in str(svg.pnl_line([], fmt.money, fmt.short))


# ----------------------------------------------------------------------------- formats


def test_formats() -> None:
    fmt = Formatter(UTC, T0, " --config /x/a.yaml")
    assert fmt.money(Decimal("1234.565")) == "$1,234.56"
    assert fmt.money(Decimal("-3.2")) == "−$3.20"
    assert fmt.pnl(Decimal("2")) == "+$2.00" and fmt.pnl(Decimal(0)) == "$0.00"
    assert fmt.price(Decimal("0.41000000")) == "0.41"
    assert fmt.pct(0.3525) == "35.2%" and fmt.pct(None) == "—"
    assert fmt.when(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02 03:04:05"
    assert fmt.ago(T0 - timedelta(seconds=185)) == "3m05s ago"
    assert fmt.ago(T0 + timedelta(minutes=4)) == "in 4m00s"
    assert fmt.cli("strategy", "pause", "a-b") == "autotrader strategy pause a-b --config /x/a.yaml"


# ----------------------------------------------------------------------------- rendering


def _view(name: str, status: str, *, title: str = "Will it rain?") -> StrategyView:
    ledger = Ledger(
        name,
        Decimal(100),
        realized_pnl_usd=Decimal(5),
        fees_usd=Decimal(1),
        cost_basis_usd=Decimal(10),
        cash_flow_usd=Decimal(-6),
    )
    watch = WatchRow(name, "rain", title, f"reason {HOSTILE}", T0, None, Decimal("0.4"), None)
    position = PositionView(
        MarketRef("rain", title, "Yes"), Decimal(25), Decimal("0.4"), Decimal(10), T0
    )
    return StrategyView(
        name=name,
        kind="pipeline",
        enabled=True,
        status=status,
        pause_reason=f"why {HOSTILE}" if status == "paused" else None,
        schedule="every 5m",
        state=None,
        uptime_secs=3600.0,
        ledger=ledger,
        watchlist=(watch,),
        positions=(position,),
        closed=(),
        closed_count=0,
        win_rate=None,
        roi=None,
        run_stats=None,
        runs=(),  # read per batch of pages: ``_snapshot``'s runs_for
        timeline=(),
        last_activity_at=T0,
        activity_24h=1,
        pnl_points=(),
    )


def _run(name: str) -> RunRow:
    return RunRow(
        name,
        T0,
        T0 + timedelta(seconds=2),
        "failed",
        [{"node": HOSTILE, "in": 1, "out": 0}],
        0,
        f"error {HOSTILE}",
        None,
    )


def _snapshot(*views: StrategyView) -> SiteSnapshot:
    return SiteSnapshot(
        generated_at=T0,
        real_generated_at=T0,
        clock_speed=1.0,
        mode="paper",
        timezone="UTC",
        refresh_secs=30,
        strategies=views,
        daemons=(DaemonView("executor", 1, "h", "running", f"busy {HOSTILE}", T0, 100.0, True),),
        daemon_stale_after_secs=15,
        signal=SignalView("ok", "UP", 72.5, 2.0, "btc-x", False),
        pnl_points=(),
        problems=(f"problem {HOSTILE}",),
        runs_for=lambda names: {name: (_run(name),) for name in names},
    )


def test_every_string_is_escaped_on_every_page() -> None:
    files = render_site(_snapshot(_view("a", "paused", title=HOSTILE), _view("b", "running")))
    assert set(files) == {"index.html", "strategy-a.html", "strategy-b.html"}
    for name, data in files.items():
        html = data.decode()
        assert HOSTILE not in html, name
        # The only script elements are our own inline ones (one per page at most).
        assert html.count("<script>") <= 1, name
    page = files["strategy-a.html"].decode()
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 5  # title, reason, node, …


def test_the_overview_shows_cards_numbers_and_commands() -> None:
    html = render_site(_snapshot(_view("a", "paused"), _view("b", "running")))[
        "index.html"
    ].decode()
    assert html.count('<article class="card') == 2
    assert 'data-status="paused"' in html and 'data-status="running"' in html
    assert '<meta http-equiv="refresh" content="30">' in html
    assert "autotrader strategy resume a" in html and "autotrader strategy pause b" in html
    assert 'class="active-trades">1<' in html and 'class="watchlist-size">1<' in html
    assert "+$4.00" in html  # net P&L = 5 − 1
    assert "STALE" in html  # the executor's heartbeat
    assert "generated at" in html and "2026-11-03 12:00:00" in html


def test_pages_come_in_pieces_so_a_big_index_is_never_held_whole() -> None:
    views = [_view(f"s{i:03d}", "running") for i in range(240)]
    pages = render_pages(_snapshot(*views))
    sizes: dict[str, list[int]] = {}
    for name, pieces in pages:  # each page's pieces are consumed before the next page
        sizes[name] = [len(piece) for piece in pieces]
    index = sizes.pop("index.html")
    assert len(sizes) == 240
    # The index (one card and one pie slice per strategy) is written as it is produced: its
    # biggest piece is the fixed style and script, however many strategies there are.
    assert max(index) < 64_000 and sum(index) > 400_000
    assert all(len(page) > 1 for page in sizes.values())


def test_the_pie_is_made_one_slice_at_a_time() -> None:
    items = [svg.Allocation(f"s{i}", Decimal(10), Decimal(4), Decimal(6)) for i in range(50)]
    pieces = list(svg.allocation_pie(items, str))
    assert len(pieces) == 52  # the opening tag, one piece per strategy, the total and closing
    assert all(piece.count('data-ring="allocated"') == 1 for piece in pieces[1:-1])


def test_given_the_total_the_pie_reads_each_allocation_as_it_draws_it() -> None:
    # The index passes its strategies' allocations as they come: made all at once before the
    # donut, 2,000 of them (with their Decimals) were a third of a render's peak memory.
    made: list[int] = []

    def allocations() -> Iterator[svg.Allocation]:
        for i in range(50):
            made.append(i)
            yield svg.Allocation(f"s{i}", Decimal(10), Decimal(4), Decimal(6))

    pieces = svg.allocation_pie(allocations(), str, Decimal(500))
    next(pieces)  # the opening tag
    assert made == []
    assert 'data-strategy="s0"' in next(pieces) and made == [0]
    assert sum(_angles("".join(pieces))) == pytest.approx(360.0 - 360.0 / 50, abs=0.05)
    assert len(made) == 50
