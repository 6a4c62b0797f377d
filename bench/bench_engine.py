"""Cost of the seed engine: incremental ``update()`` per tick against the numpy oracle.

Replays every Binance spot 1-minute file of ../shared/data (a fresh engine per file, as the
files are separate segments) and prints:

* the median cost of one ``update()`` call, timed in batches of 1,000 ticks (the Python loop
  that feeds it included; the bare loop's cost is printed alongside);
* replay throughput of the incremental engine in ticks/s (best and median of 5 full passes) and
  the time a year of 1-minute bars would take; the target is >= 260,000 ticks/s;
* throughput of the vectorised oracle over the same files, and the ratio of the two.

Run it as ``python bench/bench_engine.py`` or through ``make bench``.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import numpy as np

from autotrader.signal.candles import read_candles
from autotrader.signal.oracle import seed_oracle
from autotrader.signal.params import SeedParams
from autotrader.signal.seed import SeedEngine

REPO = Path(__file__).resolve().parent.parent

TARGET_TICKS_PER_SEC = 260_000
YEAR_OF_MINUTES = 525_600
BATCH = 1_000
PASSES = 5

Series = tuple[list[int], list[float], float]


def spot_dir() -> Path:
    """../shared/data/binance_spot_btcusdt_1m (or under $AUTOTRADER_SHARED)."""
    shared = Path(os.environ.get("AUTOTRADER_SHARED") or REPO.parent / "shared")
    return shared / "data" / "binance_spot_btcusdt_1m"


def load(folder: Path) -> list[Series]:
    """(open times, closes, bar length) of every file, as plain lists for the engine."""
    out = []
    for path in sorted(folder.glob("*.csv")):
        c = read_candles(path)
        out.append((c.ts_ms.tolist(), c.close.tolist(), c.sample_secs))
    return out


def batch_costs_us(series: list[Series], params: SeedParams) -> tuple[float, float]:
    """Median µs per tick of update() over batches, and of the same loop doing nothing."""
    per_tick: list[float] = []
    bare: list[float] = []
    clock = time.perf_counter_ns

    def nothing(t: int, p: float) -> None:
        return None

    for ts, px, sample in series:
        update = SeedEngine(params, sample).update
        for start in range(0, len(ts) - BATCH + 1, BATCH):
            pairs = list(zip(ts[start : start + BATCH], px[start : start + BATCH], strict=True))
            t0 = clock()
            for t, p in pairs:
                update(t, p)
            t1 = clock()
            for t, p in pairs:
                nothing(t, p)
            t2 = clock()
            per_tick.append((t1 - t0) / BATCH / 1000)
            bare.append((t2 - t1) / BATCH / 1000)
    return statistics.median(per_tick), statistics.median(bare)


def replay_secs(series: list[Series], params: SeedParams) -> float:
    """Seconds for one full pass of the incremental engine over every file."""
    t0 = time.perf_counter()
    for ts, px, sample in series:
        update = SeedEngine(params, sample).update
        for t, p in zip(ts, px, strict=True):
            update(t, p)
    return time.perf_counter() - t0


def oracle_secs(series: list[Series], params: SeedParams) -> float:
    """Seconds for the oracle over every file (inputs already numpy arrays)."""
    arrays = [(np.array(ts, dtype=np.int64), np.array(px), s) for ts, px, s in series]
    t0 = time.perf_counter()
    for ts_a, px_a, sample in arrays:
        seed_oracle(ts_a, px_a, params, sample)
    return time.perf_counter() - t0


def main() -> None:
    """Measure and print the figures."""
    folder = spot_dir()
    if not folder.is_dir() or not any(folder.glob("*.csv")):
        print(f"bench_engine: skipped, no spot candle files in {folder}")
        return
    t0 = time.perf_counter()
    series = load(folder)
    ticks = sum(len(ts) for ts, _, _ in series)
    print(f"data: {len(series)} spot files, {ticks:,} one-minute bars ", end="")
    print(f"(read in {time.perf_counter() - t0:.2f} s)")
    params = SeedParams()

    median_us, bare_us = batch_costs_us(series, params)
    print(f"update() median cost:  {median_us:.2f} µs/tick  (batches of {BATCH:,}; ", end="")
    print(f"the bare feeding loop alone: {bare_us:.2f} µs/tick)")

    # Best of several passes is the least disturbed by other load (as timeit does); the median
    # shows how steady the machine was.
    inc_times = [replay_secs(series, params) for _ in range(PASSES)]
    inc, inc_med = ticks / min(inc_times), ticks / statistics.median(inc_times)
    verdict = "met" if inc >= TARGET_TICKS_PER_SEC else "NOT MET"
    print(
        f"incremental replay:    {inc:,.0f} ticks/s best of {PASSES} (median {inc_med:,.0f}); ",
        end="",
    )
    print(f"target {TARGET_TICKS_PER_SEC:,}: {verdict}")
    print(f"a year of 1-minute bars ({YEAR_OF_MINUTES:,}): {YEAR_OF_MINUTES / inc:.2f} s")

    orc_times = [oracle_secs(series, params) for _ in range(PASSES)]
    orc, orc_med = ticks / min(orc_times), ticks / statistics.median(orc_times)
    print(f"numpy oracle:          {orc:,.0f} ticks/s best of {PASSES} (median {orc_med:,.0f})")
    print(f"ratio oracle/incremental: {orc / inc:.1f}x")


if __name__ == "__main__":
    main()
