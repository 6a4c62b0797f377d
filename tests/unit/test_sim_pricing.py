"""Simulator pricing: the Up fair value, the replayed BTC tape and the house quotes."""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autotrader.clock import FakeClock
from autotrader.feeds.replay import ReplayFeed
from autotrader.sim import pricing
from autotrader.sim.pricing import (
    BtcTape,
    btc_up_fair,
    complement,
    house_ladder,
    tick_for,
    up_fair_value,
)

T0 = 1_767_225_600  # 2026-01-01 00:00 UTC, a multiple of 900


def write_candles(path: Path, start: int, closes: list[float], bar: int = 60) -> Path:
    lines = ["open_time_ms,open,high,low,close,volume"]
    prev = closes[0]
    for i, c in enumerate(closes):
        lines.append(f"{(start + i * bar) * 1000},{prev},{max(prev, c)},{min(prev, c)},{c},1")
        prev = c
    path.write_text("\n".join(lines) + "\n")
    return path


def test_fair_value_rises_with_the_btc_move() -> None:
    k = 100_000.0
    values = [up_fair_value(k * (1 + m / 10_000), k, 300, 3e-5) for m in range(-30, 31)]
    assert all(a < b for a, b in pairwise(values))
    assert values[30] == 0.5  # no move: a coin flip
    assert values[0] < 0.05 and values[-1] > 0.95


def test_fair_value_sharpens_as_time_runs_out() -> None:
    k, up, down = 100_000.0, 100_020.0, 99_980.0
    left = [900, 600, 300, 120, 30, 5, 1]
    ups = [up_fair_value(up, k, s, 3e-5) for s in left]
    downs = [up_fair_value(down, k, s, 3e-5) for s in left]
    assert all(a < b for a, b in pairwise(ups))
    assert all(a > b for a, b in pairwise(downs))
    assert ups[-1] > 0.99 and downs[-1] < 0.01


def test_at_the_end_the_outcome_is_known_and_ties_go_up() -> None:
    assert up_fair_value(100.0, 100.0, 0, 3e-5) == 1.0
    assert up_fair_value(100.01, 100.0, 0, 3e-5) == 1.0
    assert up_fair_value(99.99, 100.0, -5, 3e-5) == 0.0


def test_fair_value_matches_the_normal_cdf_formula() -> None:
    s, k, left, sigma = 100_050.0, 100_000.0, 400.0, 2.8e-5
    z = math.log(s / k) / (sigma * math.sqrt(left))
    expected = 0.5 * (1 + math.erf(z / math.sqrt(2)))
    assert up_fair_value(s, k, left, sigma) == pytest.approx(expected, rel=1e-12)


def test_tape_publishes_the_last_closed_bar_like_the_replay_feed(tmp_path: Path) -> None:
    closes = [100.0 + i for i in range(30)]
    path = write_candles(tmp_path / "c.csv", T0, closes)
    tape = BtcTape.from_file(path)
    feed = ReplayFeed(FakeClock(T0), path, loop=True)
    asyncio.run(feed.start())
    span = 30 * 60
    for t in [T0 + 60, T0 + 61, T0 + 119.5, T0 + 1799, T0 + 1800, T0 + 1860, T0 + 5 * span + 7]:
        quote = feed.quote_at(t)
        assert quote is not None
        assert tape.price_at(t) == quote.price, t
    # Looping works backwards too: any instant has a price (T0 - 10 is T0 + 1790 of a pass).
    assert tape.price_at(T0 - 10) == tape.price_at(T0 - 10 + span) == closes[-2]


def test_sigma_is_the_realised_volatility_per_sqrt_second(tmp_path: Path) -> None:
    # Alternating +-r log returns: realised variance per bar is exactly r**2.
    r = 0.001
    closes = [100.0 * math.exp(r * (i % 2)) for i in range(200)]
    tape = BtcTape.from_file(write_candles(tmp_path / "c.csv", T0, closes))
    assert tape.sigma_at(T0 + 150 * 60) == pytest.approx(r / math.sqrt(60), rel=1e-9)
    flat = BtcTape.from_file(write_candles(tmp_path / "f.csv", T0, [100.0] * 200))
    assert flat.sigma_at(T0 + 150 * 60) == pricing.SIGMA_FLOOR
    # Too few bars in this pass of the data to measure: the calibrated default.
    assert tape.sigma_at(T0 + 3 * 60) == pricing.DEFAULT_SIGMA


def test_btc_fair_is_a_coin_flip_before_the_window_and_settles_at_the_end(tmp_path: Path) -> None:
    # The bar closing at T0+900 is the last at 100; 101 after: Up wins [T0+900, T0+1800).
    closes = [100.0] * 16 + [101.0] * 30
    tape = BtcTape.from_file(write_candles(tmp_path / "c.csv", T0 - 60, closes))
    start, end = T0 + 900, T0 + 1800
    assert btc_up_fair(tape, start, end, start - 1) == 0.5
    assert tape.price_at(start) == 100.0
    assert 0.5 < btc_up_fair(tape, start, end, start + 100) < 1.0
    assert btc_up_fair(tape, start, end, end) == 1.0


def test_tick_switches_to_a_tenth_of_a_cent_beyond_4_and_96_cents() -> None:
    assert tick_for(0.5) == Decimal("0.01")
    assert tick_for(0.04) == tick_for(0.96) == Decimal("0.01")
    assert tick_for(0.039) == tick_for(0.961) == Decimal("0.001")


@given(st.floats(min_value=0.0, max_value=1.0), st.integers(0, 10_000))
def test_house_ladder_is_a_sane_book(fair: float, epoch: int) -> None:
    lad = house_ladder(fair, 3, f"m:{epoch}")
    tick = lad.tick
    assert tick == tick_for(fair)
    bids, asks = [p for p, _ in lad.bids], [p for p, _ in lad.asks]
    assert bids and asks
    assert asks[0] - bids[0] >= tick  # never crossed or locked
    assert all(a > b for a, b in pairwise(bids))
    assert all(a < b for a, b in pairwise(asks))
    for p in bids + asks:
        assert tick <= p <= 1 - tick and p % tick == 0
    assert all(s > 0 for _, s in lad.bids + lad.asks)
    if 0.05 < fair < 0.95:
        mid = (bids[0] + asks[0]) / 2
        assert abs(float(mid) - fair) <= 2 * float(tick)
    assert house_ladder(fair, 3, f"m:{epoch}") == lad  # deterministic


def test_spreads_follow_the_recorded_distribution() -> None:
    counts: Counter[int] = Counter()
    for i in range(2_000):
        lad = house_ladder(0.5, 1, f"k:{i}")
        counts[int((lad.asks[0][0] - lad.bids[0][0]) / lad.tick)] += 1
    assert set(counts) <= {1, 2, 3}
    assert 0.84 < counts[1] / 2_000 < 0.92  # 88 % one tick in the 2026-01-09 recording


def test_complement_turns_one_side_into_the_other_token() -> None:
    levels = ((Decimal("0.41"), Decimal(10)), (Decimal("0.42"), Decimal(20)))
    assert complement(levels) == ((Decimal("0.59"), Decimal(10)), (Decimal("0.58"), Decimal(20)))
