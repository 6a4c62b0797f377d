"""Fair value of the "Up" token and the house order book quoted around it.

The BTC price comes from replayed candles (the ``BtcTape``). Inside a window the Up token is
worth the probability that BTC ends at or above the price to beat:
``Phi(ln(S / K) / (sigma * sqrt(secs_left)))``, with ``sigma`` the realised volatility of the
last hour of candles (per square-root second). Before the window starts the price to beat is
unknown and Up is a coin flip (0.5).

The constants below are derived from a real recording of five 15-minute markets
(polymarket_btc_15m_book_snapshots_2026-01-09.csv, ~5 s snapshots; the file is not shipped):
* the Up price implied a volatility of 2.8e-5 per sqrt(second) (median; deciles 1.9e-5 to
  3.8e-5), equal to the realised volatility of the Chainlink stream over the same hour, so the
  market prices with realised volatility: ``IMPLIED_VOL_RATIO = 1``;
* the spread was one tick in 88 % of the snapshots, two ticks in 10 %, three in 2 %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import numpy as np
import numpy.typing as npt

from autotrader.signal.candles import read_candles
from autotrader.sim import ids

IMPLIED_VOL_RATIO = 1.0
DEFAULT_SIGMA = 2.8e-5  # per sqrt(second); used when there are too few candles to measure it
SIGMA_FLOOR = 5e-6
SIGMA_CAP = 5e-4
SIGMA_LOOKBACK_BARS = 60
SIGMA_MIN_BARS = 10
SPREAD_TICKS = ((0.88, 1), (0.98, 2), (1.0, 3))  # cumulative probability -> spread in ticks

TICK_COARSE = Decimal("0.01")
TICK_FINE = Decimal("0.001")
# Polymarket switches a book to the 0.001 tick when its price leaves [0.04, 0.96].
FINE_TICK_BELOW = 0.04
FINE_TICK_ABOVE = 0.96
BOOK_LEVELS = 8
SIZE_STEP = Decimal("0.01")

Level = tuple[Decimal, Decimal]


def norm_cdf(x: float) -> float:
    """Standard normal CDF."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def up_fair_value(price: float, price_to_beat: float, secs_left: float, sigma: float) -> float:
    """Probability that BTC ends at or above ``price_to_beat`` (ties go Up).

    At or after the end the outcome is known: 1.0 when ``price >= price_to_beat``, else 0.0.
    """
    if secs_left <= 0:
        return 1.0 if price >= price_to_beat else 0.0
    if price == price_to_beat:
        return 0.5
    z = math.log(price / price_to_beat) / (max(sigma, SIGMA_FLOOR) * math.sqrt(secs_left))
    return norm_cdf(z)


class BtcTape:
    """The replayed BTC price at any simulated time, looping over the candle file.

    At time ``t`` the price is the close of the last bar whose close time (open + bar length)
    is ``<= t``, as the replay feed publishes it. The data repeats shifted by its span (last
    open - first open + bar) in both directions, so any time, even before the first candle, has
    a price.
    """

    def __init__(self, opens: npt.NDArray[np.float64], closes: npt.NDArray[np.float64], bar: float):
        if opens.size < 2:
            raise ValueError("the BTC tape needs at least 2 candles")
        self.opens = opens
        self.closes = closes
        self.bar = bar
        self.span = float(opens[-1] - opens[0]) + bar
        r2 = np.zeros(closes.size)
        r2[1:] = np.diff(np.log(closes)) ** 2
        self._cum_r2 = np.cumsum(r2)

    @classmethod
    def from_file(cls, path: Path) -> BtcTape:
        """Read a candle CSV (``DataError`` naming file:line when it is malformed)."""
        candles = read_candles(path)
        opens = candles.ts_ms.astype(np.float64) / 1000.0
        return cls(opens, candles.close.astype(np.float64), candles.sample_secs)

    def _index(self, t: float) -> int:
        first_close = float(self.opens[0]) + self.bar
        shift = math.floor((t - first_close) / self.span) * self.span
        idx = int(np.searchsorted(self.opens, t - shift - self.bar, side="right")) - 1
        return min(max(idx, 0), self.opens.size - 1)  # float rounding at a seam

    def price_at(self, t: float) -> float:
        """BTC price published at simulated time ``t``."""
        return float(self.closes[self._index(t)])

    def sigma_at(self, t: float) -> float:
        """Realised volatility per sqrt(second) over the last hour of bars before ``t``."""
        idx = self._index(t)
        lo = max(1, idx - SIGMA_LOOKBACK_BARS + 1)
        count = idx - lo + 1
        if count < SIGMA_MIN_BARS:
            return DEFAULT_SIGMA
        total = float(self._cum_r2[idx] - self._cum_r2[lo - 1])
        sigma = math.sqrt(total / count / self.bar) * IMPLIED_VOL_RATIO
        return min(max(sigma, SIGMA_FLOOR), SIGMA_CAP)


def btc_up_fair(tape: BtcTape, start: int, end: int, t: float) -> float:
    """Fair value of Up for the window ``[start, end)`` at time ``t``."""
    if t < start:
        return 0.5
    price_to_beat = tape.price_at(start)
    if t >= end:
        return 1.0 if tape.price_at(end) >= price_to_beat else 0.0
    return up_fair_value(tape.price_at(t), price_to_beat, end - t, tape.sigma_at(t))


def tick_for(mid: float) -> Decimal:
    """The book's tick size at midpoint ``mid``."""
    return TICK_FINE if mid < FINE_TICK_BELOW or mid > FINE_TICK_ABOVE else TICK_COARSE


@dataclass(frozen=True)
class Ladder:
    """House quotes of one binary market, on the first outcome's book (best level first)."""

    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    tick: Decimal


def house_ladder(fair: float, seed: int, key: str) -> Ladder:
    """Quotes around ``fair``: a 1-3 tick spread, ``BOOK_LEVELS`` levels a side, random sizes.

    ``key`` names the market and the quote epoch, so the same key always gives the same book.
    Prices stay within ``[tick, 1 - tick]``.
    """
    tick = tick_for(fair)
    n = int(Decimal(1) / tick)
    u = ids.unit(seed, "spread", key)
    spread = next(k for cum, k in SPREAD_TICKS if u < cum)
    bid = math.floor(fair * n - spread / 2 + 0.5)
    bid = min(max(bid, 1), n - 1 - spread)
    bids = _side(seed, key + ":b", bid, -1, 1, n - 1)
    asks = _side(seed, key + ":a", bid + spread, +1, 1, n - 1)
    return Ladder(
        tuple((tick * p, s) for p, s in bids), tuple((tick * p, s) for p, s in asks), tick
    )


def _side(seed: int, key: str, best: int, step: int, lo: int, hi: int) -> list[tuple[int, Decimal]]:
    """Levels in ticks from ``best`` outwards; a level is skipped now and then (gaps are real)."""
    levels: list[tuple[int, Decimal]] = []
    price = best
    for i in range(BOOK_LEVELS):
        if not lo <= price <= hi:
            break
        depth = 1.0 + i / 2.0
        base = 30.0 + 270.0 * ids.unit(seed, "size", f"{key}:{i}")
        size = Decimal(repr(base * depth)).quantize(SIZE_STEP, ROUND_DOWN)
        levels.append((price, size))
        gap = 2 if ids.unit(seed, "gap", f"{key}:{i}") < 0.15 else 1
        price += step * gap
    return levels


def complement(levels: tuple[Level, ...]) -> tuple[Level, ...]:
    """The other outcome's side: a bid at p on one token is an ask at 1 - p on the other."""
    return tuple((Decimal(1) - p, s) for p, s in levels)
