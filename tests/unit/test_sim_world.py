"""The simulated world: BTC windows a day ahead, ids, books, extra markets, history, determinism."""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest

from autotrader.clock import FakeClock, ScaledClock
from autotrader.domain.markets import window_start
from autotrader.domain.orders import OrderType, Side
from autotrader.sim.ledger import SimOrder
from autotrader.sim.markets import CRYPTO_FEES, btc_window_title
from autotrader.sim.world import SimWorld

D = Decimal
T0 = 1_767_225_600  # 2026-01-01 00:00 UTC
START = T0 + 2 * 86_400 + 420  # 7 minutes into a window
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "polymarket"


def write_candles(path: Path, start: int, closes: list[float]) -> Path:
    lines = ["open_time_ms,open,high,low,close,volume"]
    for i, c in enumerate(closes):
        lines.append(f"{(start + i * 60) * 1000},{c},{c},{c},{c},1")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def candles(tmp_path: Path) -> Path:
    # Three days of a gentle deterministic wiggle around 90k.
    closes = [
        90_000 * math.exp(0.004 * math.sin(i / 7) + 0.002 * math.sin(i / 1.3))
        for i in range(3 * 1440)
    ]
    return write_candles(tmp_path / "btc.csv", T0, [round(c, 2) for c in closes])


def world(
    candles: Path, t: float = START, seed: int = 0, **kw: object
) -> tuple[SimWorld, FakeClock]:
    clock = FakeClock(t)
    w = SimWorld(clock, candles, seed=seed, **kw)  # type: ignore[arg-type]
    w.advance()
    return w, clock


def btc(w: SimWorld) -> list[int]:
    return sorted(m.window_start for m in w.markets() if m.window_start is not None)


def test_windows_from_a_day_back_to_a_day_ahead(candles: Path) -> None:
    w, _ = world(candles)
    starts = btc(w)
    now_window = window_start(START)
    assert starts[0] == now_window - 86_400
    assert all(b - a == 900 for a, b in pairwise(starts))
    # Listed ~24 h ahead: the last listed window starts a day (less its listing jitter) away.
    assert now_window + 86_400 - 1_800 <= starts[-1] <= now_window + 86_400
    for m in w.markets():
        if m.window_start is not None:
            assert m.start_date <= START  # only windows already listed exist


def test_window_market_fields(candles: Path) -> None:
    w, _ = world(candles)
    t = window_start(START)
    m = w.market_by_slug(f"btc-updown-15m-{t}")
    assert m is not None
    assert m.question == btc_window_title(t) and m.outcomes == ("Up", "Down")
    assert m.end_date == t + 900 and m.window_start == t
    assert t - 86_400 <= m.start_date <= t - 86_400 + 900
    assert m.fees == CRYPTO_FEES and not m.neg_risk and m.min_order_size == 5
    assert set(m.tags) >= {"crypto", "bitcoin", "up-or-down"}
    assert re.fullmatch(r"0x[0-9a-f]{64}", m.condition_id)
    for token in m.token_ids:
        assert re.fullmatch(r"[1-9][0-9]{76,77}", token)
    assert w.tick_size(m.token_ids[0]) == D("0.01")
    event = w.event_by_slug(m.slug)
    assert event is not None and event.markets == [m] and w.event_by_id(event.id) is event
    for lookup in (
        w.market_by_id(m.id),
        w.market_by_condition_id(m.condition_id.upper()[2:].join(["0x", ""])),
        w.market_by_token_id(m.token_ids[1]),
    ):
        assert lookup is m


def test_title_matches_the_real_fixture() -> None:
    real = json.loads((FIXTURES / "gamma_market_btc_updown_15m.json").read_text())
    assert btc_window_title(1_767_200_400) == real["question"]
    assert btc_window_title(1_773_307_200).startswith("Bitcoin Up or Down - March 12, 5:20AM-")


def test_same_seed_same_world_other_seed_other_ids(candles: Path) -> None:
    a, _ = world(candles)
    b, _ = world(candles, t=START + 3_000)  # a later start lists more, but the same ids
    c, _ = world(candles, seed=1)
    for m in a.markets():
        if m.window_start is None:
            continue
        other = b.market_by_slug(m.slug)
        if other is not None:
            assert (other.condition_id, other.token_ids, other.id) == (
                m.condition_id,
                m.token_ids,
                m.id,
            )
        assert c.market_by_slug(m.slug).condition_id != m.condition_id  # type: ignore[union-attr]
    assert [x.slug for x in a.markets()] == [x.slug for x in world(candles)[0].markets()]


def test_advance_is_incremental_and_prunes(candles: Path) -> None:
    w, clock = world(candles)
    n = len(btc(w))
    w.advance()
    assert len(btc(w)) == n  # idempotent
    clock.advance(900)
    w.advance()
    assert len(btc(w)) == n + 1
    oldest = btc(w)[0]
    clock.advance(3 * 86_400)
    w.advance()
    starts = btc(w)
    assert w.market_by_slug(f"btc-updown-15m-{oldest}") is None
    assert starts[0] >= clock.time() - 2 * 86_400 - 1_800  # older than ~2 days: forgotten
    assert len(starts) < 300


def test_books_are_complementary_and_sane(candles: Path) -> None:
    w, clock = world(candles)
    m = w.market_by_slug(f"btc-updown-15m-{window_start(START)}")
    assert m is not None
    for _ in range(20):
        up, down = w.book(m.token_ids[0]), w.book(m.token_ids[1])
        assert up is not None and down is not None
        tick = up.tick_size
        assert [(1 - p, s) for p, s in up.asks] == down.bids
        assert [(1 - p, s) for p, s in up.bids] == down.asks
        assert up.best_ask - up.best_bid >= tick  # type: ignore[operator]
        for p, s in up.bids + up.asks:
            assert tick <= p <= 1 - tick and p % tick == 0 and s > 0
        assert len(up.bids) >= 4 and up.hash and len(up.hash) == 40
        assert up.fee == CRYPTO_FEES and up.min_order_size == 5 and up.market == m.condition_id
        clock.advance(7)
        w.advance()


def test_tick_becomes_a_tenth_of_a_cent_near_the_extremes(tmp_path: Path) -> None:
    # BTC jumps 1 % right after the window opens: Up is nearly certain.
    t = window_start(START)
    closes = [90_000.0] * ((t - T0) // 60) + [90_900.0] * 40
    path = write_candles(tmp_path / "jump.csv", T0, closes)
    w, _ = world(path, t=t + 600)
    m = w.market_by_slug(f"btc-updown-15m-{t}")
    assert m is not None
    book = w.book(m.token_ids[0])
    assert book is not None and book.tick_size == D("0.001") == w.tick_size(m.token_ids[1])
    assert book.best_bid is not None and book.best_bid > D("0.96")
    assert all(p % D("0.001") == 0 for p, _ in book.bids + book.asks)
    # An order on the 0.01 grid is still on the 0.001 grid, an order off both is refused.
    order = SimOrder("0x" + "1" * 64, m.token_ids[0], Side.BUY, D("0.9705"), D(10), OrderType.GTC)
    r = w.submit("0xAbC", order)
    assert r.error is not None and r.error.endswith("breaks minimum tick size rule: 0.001")


def test_unknown_token_and_lookups(candles: Path) -> None:
    w, _ = world(candles)
    order = SimOrder("0x" + "2" * 64, "123", Side.BUY, D("0.5"), D(10), OrderType.GTC)
    assert w.submit("0xabc", order).error == "Invalid token id"
    assert w.book("123") is None and w.tick_size("123") is None
    assert w.market_by_slug("nope") is None and w.event_by_slug("nope") is None
    assert w.price_history("123", 0, 1e12, 60) == []


def test_extra_markets(candles: Path) -> None:
    w, clock = world(candles, extra_markets=12)
    extras = [m for m in w.markets() if m.window_start is None]
    live = [m for m in extras if not m.closed]
    assert len(live) == 12 and any(m.closed for m in extras)
    tags = {t for m in extras for t in m.tags}
    assert {"politics", "sports", "crypto"} <= tags
    ends = sorted(m.end_date - START for m in live)
    assert ends[0] < 2 * 86_400 and ends[-1] > 60 * 86_400  # some soon, some far
    assert any(m.question.startswith("Will ETH be above $") for m in extras)
    m = live[0]
    s1 = w.market_stats(m)
    assert s1.accepting_orders and sum(s1.outcome_prices) == 1
    clock.advance(6 * 3_600)
    w.advance()
    s2 = w.market_stats(m) if not m.closed else s1
    assert s2.volume >= s1.volume
    assert all(
        m.outcome_prices in ((D(1), D(0)), (D(0), D(1)))
        for m in (w.market_stats(x) for x in w.markets() if x.closed)
    )
    # Momentum needs history over 1 h, 4 h and 24 h: the far markets have it and it moves.
    far = max(live, key=lambda x: x.end_date)
    now = clock.time()
    hist = w.price_history(far.token_ids[0], now - 86_400, now, 3_600)
    assert len(hist) == 24 or len(hist) == 25
    assert len({p for _, p in hist}) > 5
    assert all(0 < p < 1 for _, p in hist)


def test_price_history_shape(candles: Path) -> None:
    w, _ = world(candles)
    t = window_start(START)
    m = w.market_by_slug(f"btc-updown-15m-{t}")
    assert m is not None
    up = w.price_history(m.token_ids[0], t - 120, t + 10_000, 60)
    down = w.price_history(m.token_ids[1], t - 120, t + 10_000, 60)
    assert [x for x, _ in up] == list(range(t - 120, int(START) + 1, 60))  # up to now
    assert all(isinstance(x, int) and isinstance(p, Decimal) and 0 <= p <= 1 for x, p in up)
    assert [p for _, p in up[:3]] == [D("0.5")] * 3  # before the window: a coin flip
    assert all(u + d == 1 for (_, u), (_, d) in zip(up, down, strict=True))
    wide = w.price_history(m.token_ids[0], 0, START, 1)
    assert 1_000 < len(wide) <= 5_001  # a huge range is thinned, not refused


def test_two_worlds_run_identically(candles: Path) -> None:
    results = []
    for _ in range(2):
        w, clock = world(candles)
        m = w.market_by_slug(f"btc-updown-15m-{window_start(START)}")
        assert m is not None
        out = []
        for i in range(6):
            order = SimOrder(
                f"0x{i:064x}", m.token_ids[i % 2], Side.BUY, D("0.999"), D(10), OrderType.FOK
            )
            out.append(w.submit("0xabc", order))
            clock.advance(40)
            w.advance()
        clock.advance(900)
        w.advance()
        results.append((out, w.trades("0xabc"), w.balance("0xabc"), w.book(m.token_ids[0])))
    assert results[0] == results[1]
    assert all(r.status == "matched" for r in results[0][0]), results[0][0]


def test_runs_on_a_scaled_clock(candles: Path) -> None:
    clock = ScaledClock(START, speed=60.0)
    w = SimWorld(clock, candles)
    w.advance()
    now = w.now
    assert now >= START
    m = w.market_by_slug(f"btc-updown-15m-{window_start(now)}")
    assert m is not None and m.accepting_orders(now)
    book = w.book(m.token_ids[0])
    assert book is not None and book.bids and book.asks
