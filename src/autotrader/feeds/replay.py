"""Replay feed: 1-minute candles from a CSV, published as the clock reaches each bar's close.

The CSV is in the ../shared/data format (header ``open_time_ms,open,high,low,close,volume``,
rows sorted, gaps left as gaps). At clock time ``t`` the published bar is the last one whose
close time (``open_time + 60 s``) is ``<= t``: its close is the price and its close time the
quote's ``ts``. Before the first bar closes there is no quote. With ``loop`` the data repeats
after its last bar, shifted by its span (last open - first open + 60 s) so time keeps rising.
Without ``loop`` the last bar stays, ageing, and the chain sees the feed go stale.

The quote is computed from the clock on each ``latest()`` call, so there is no task to run
and a ScaledClock replays at its speed for free.
"""

from __future__ import annotations

import asyncio
import csv
import math
from array import array
from bisect import bisect_right
from pathlib import Path

from autotrader.clock import Clock
from autotrader.errors import DataError
from autotrader.feeds.base import BaseFeed, PriceQuote, log
from autotrader.feeds.wire import one_line, short

BAR_SECS = 60.0


class ReplayData:
    """Bar open times (epoch seconds) and closes, in two compact arrays."""

    def __init__(self, opens: array[float], closes: array[float]) -> None:
        if not opens:
            raise DataError("replay data has no candles")
        self.opens = opens
        self.closes = closes

    @property
    def span_secs(self) -> float:
        """How long one pass over the data lasts."""
        return self.opens[-1] - self.opens[0] + BAR_SECS


def _columns(header: list[str] | None, where: str) -> tuple[int, int]:
    if header is None:
        raise DataError(f"{where}: empty file")
    names = [h.strip() for h in header]
    try:
        return names.index("open_time_ms"), names.index("close")
    except ValueError:
        raise DataError(f"{where}: header must have open_time_ms and close columns") from None


def _row(row: list[str], cols: tuple[int, int], where: str) -> tuple[float, float]:
    try:
        open_ms = int(row[cols[0]])
        close = float(row[cols[1]])
    except (IndexError, ValueError):
        raise DataError(
            f"{where}: expected open_time_ms and close (got {short(row, 60)})"
        ) from None
    if not (math.isfinite(close) and close > 0):
        raise DataError(f"{where}: close must be a positive number (got {short(row[cols[1]])})")
    return open_ms / 1000.0, close


def load_replay_csv(path: Path) -> ReplayData:
    """Read a candle CSV; a bad header, row, price or ordering raises ``DataError`` (file:line)."""
    opens: array[float] = array("d")
    closes: array[float] = array("d")
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        cols = _columns(next(reader, None), f"{path}:1")
        for row in reader:
            if not row:
                continue
            where = f"{path}:{reader.line_num}"
            open_time, close = _row(row, cols, where)
            if opens and open_time <= opens[-1]:
                raise DataError(f"{where}: open_time_ms not after the previous row")
            opens.append(open_time)
            closes.append(close)
    return ReplayData(opens, closes)


def first_bar_open_time(path: Path) -> float:
    """The first bar's open time (epoch seconds): where a demo clock should start."""
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        cols = _columns(next(reader, None), f"{path}:1")
        for row in reader:
            if row:
                return _row(row, cols, f"{path}:{reader.line_num}")[0]
    raise DataError(f"{path}: no candles")


class ReplayFeed(BaseFeed):
    """Publishes the candles of a CSV file in clock time."""

    def __init__(
        self, clock: Clock, path: Path, *, loop: bool = True, name: str = "replay"
    ) -> None:
        super().__init__(name, clock)
        self.path = path
        self.loop = loop
        self._data: ReplayData | None = None

    async def start(self) -> None:
        """Load the file (once); a bad file is logged as one error line and publishes nothing."""
        if self._data is not None:
            self._state = "ok"
            return
        try:
            self._data = await asyncio.to_thread(load_replay_csv, self.path)
        except (DataError, OSError, UnicodeDecodeError) as exc:
            msg = one_line(str(exc))
            log.error("%s: cannot replay %s: %s", self.name, self.path, msg)
            self._state = f"error: {msg}"
            return
        self._state = "ok"

    async def stop(self) -> None:
        """Nothing runs in the background; the data stays loaded for a restart."""
        self._state = "stopped"

    @property
    def state(self) -> str:
        """``ended`` once a non-looping replay is past its last bar."""
        data = self._data
        past_end = data is not None and self.clock.time() >= data.opens[-1] + 2 * BAR_SECS
        if self._state == "ok" and past_end and not self.loop:
            return "ended"
        return self._state

    def latest(self) -> PriceQuote | None:
        """The bar published at the clock's current time, or None before the first one."""
        if self._data is None or self._state == "stopped":
            return None
        return self.quote_at(self.clock.time())

    def quote_at(self, t: float) -> PriceQuote | None:
        """The quote the feed publishes at clock time ``t``."""
        data = self._data
        if data is None or t < data.opens[0] + BAR_SECS:
            return None
        shift = 0.0
        if self.loop:
            # Which pass over the data t falls in; each pass starts at the first bar's close.
            passes = math.floor((t - data.opens[0] - BAR_SECS) / data.span_secs)
            shift = passes * data.span_secs
        # max(): float rounding at a seam must not wrap the index to the last bar.
        idx = max(0, bisect_right(data.opens, t - shift - BAR_SECS) - 1)
        return PriceQuote(data.closes[idx], data.opens[idx] + BAR_SECS + shift, self.name, t)
