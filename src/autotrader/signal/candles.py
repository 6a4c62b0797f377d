"""1-minute (or any) candle files in the ../shared/data format.

``open_time_ms,open,high,low,close,volume``: one header line, then one candle per line, open times
in UTC epoch milliseconds, strictly increasing. Anything else is a ``DataError`` naming the file
and line, e.g. ``data.csv:17: close: expected a number, got 'abc'``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from autotrader.errors import DataError

HEADER = ("open_time_ms", "open", "high", "low", "close", "volume")
_INF = float("inf")
_DTYPE = np.dtype([("ts_ms", np.int64)] + [(name, np.float64) for name in HEADER[1:]])


class Candle(NamedTuple):
    """One candle; ``ts_ms`` is its open time."""

    ts_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True)
class Candles:
    """A whole candle file as numpy arrays (one element per row)."""

    path: Path
    ts_ms: npt.NDArray[np.int64]
    open: npt.NDArray[np.float64]
    high: npt.NDArray[np.float64]
    low: npt.NDArray[np.float64]
    close: npt.NDArray[np.float64]
    volume: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.ts_ms.size)

    @property
    def sample_secs(self) -> float:
        """The bar length, inferred from the median spacing of open times."""
        return infer_sample_secs(self.ts_ms, self.path)


def infer_sample_secs(ts_ms: npt.ArrayLike, where: Path | str = "<candles>") -> float:
    """Median spacing of ``ts_ms`` in seconds (gaps do not move a median); DataError if < 2."""
    ts = np.asarray(ts_ms, dtype=np.int64)
    if ts.size < 2:
        raise DataError(f"{where}: need at least 2 candles to infer the bar length")
    return float(np.median(np.diff(ts))) / 1000.0


def iter_candles(path: Path | str) -> Iterator[Candle]:
    """Yield the candles of ``path`` one by one, checking each line as it is read."""
    path = Path(path)
    try:
        fh = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with fh:
        try:
            yield from _parse(path, fh)
        except UnicodeDecodeError:
            raise DataError(f"{path}: not a UTF-8 text file") from None


def _parse(path: Path, lines: Iterator[str]) -> Iterator[Candle]:
    header = next(lines, None)
    if header is None:
        raise DataError(f"{path}:1: empty file (expected the header {','.join(HEADER)})")
    if tuple(f.strip() for f in header.strip().split(",")) != HEADER:
        raise DataError(f"{path}:1: header must be {','.join(HEADER)} (got {header.strip()!r})")
    prev = -1
    lineno = 1
    for lineno, line in enumerate(lines, start=2):
        if not line.strip():
            continue  # a blank line (say, a trailing one) carries no candle
        candle = _row(path, lineno, line)
        if candle.ts_ms <= prev:
            raise DataError(
                f"{path}:{lineno}: open_time_ms {candle.ts_ms} is not after the previous "
                f"row's {prev}"
            )
        prev = candle.ts_ms
        yield candle
    if prev < 0:
        raise DataError(f"{path}:{lineno + 1}: no candles after the header")


def _row(path: Path, lineno: int, line: str) -> Candle:
    fields = line.split(",")
    if len(fields) == len(HEADER):
        try:
            # int() and float() ignore the surrounding whitespace and the line end.
            ts = int(fields[0])
            o, h, lo, c, v = (float(x) for x in fields[1:])
        except ValueError:
            pass
        else:
            prices_ok = 0 < o < _INF and 0 < h < _INF and 0 < lo < _INF and 0 < c < _INF
            if ts >= 0 and prices_ok and 0 <= v < _INF:
                return Candle(ts, o, h, lo, c, v)
    raise _diagnose(path, lineno, fields)


def _diagnose(path: Path, lineno: int, fields: list[str]) -> DataError:
    """The error for a row that failed the fast checks of ``_row``."""
    where = f"{path}:{lineno}"
    if len(fields) != len(HEADER):
        return DataError(f"{where}: expected {len(HEADER)} fields, got {len(fields)}")
    text = fields[0].strip()
    try:
        if int(text) < 0:
            return DataError(f"{where}: open_time_ms: must not be negative (got {text})")
    except ValueError:
        return DataError(f"{where}: open_time_ms: expected an integer, got {text!r}")
    for name, raw in zip(HEADER[1:], fields[1:], strict=True):
        text = raw.strip()
        try:
            value = float(text)
        except ValueError:
            return DataError(f"{where}: {name}: expected a number, got {text!r}")
        if name == "volume" and not 0 <= value < _INF:
            return DataError(f"{where}: volume: must be a finite number >= 0 (got {text!r})")
        if name != "volume" and not 0 < value < _INF:
            return DataError(f"{where}: {name}: must be a positive finite number (got {text!r})")
    return DataError(f"{where}: malformed row")


def read_candles(path: Path | str) -> Candles:
    """Read a whole candle file into arrays (DataError with file:line on the first bad row).

    numpy's C parser reads well-formed files; a file it refuses, or whose values fail the
    checks, is read again line by line, which finds and names the first bad row.
    """
    path = Path(path)
    rows = _fast_rows(path)
    if rows is None:
        slow = list(iter_candles(path))  # raises the located DataError
        rows = np.array(slow, dtype=_DTYPE)
    return Candles(
        path=path,
        ts_ms=rows["ts_ms"].copy(),
        open=rows["open"].copy(),
        high=rows["high"].copy(),
        low=rows["low"].copy(),
        close=rows["close"].copy(),
        volume=rows["volume"].copy(),
    )


def _fast_rows(path: Path) -> np.ndarray | None:
    """All rows via numpy, or None when anything is off (the slow path then says what)."""
    try:
        with path.open(encoding="utf-8") as fh:
            header = fh.readline()
        if tuple(f.strip() for f in header.split(",")) != HEADER:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data": checked below
            rows = np.loadtxt(
                path,
                delimiter=",",
                skiprows=1,
                dtype=_DTYPE,
                comments=None,
                ndmin=1,
                encoding="utf-8",
            )
    except (OSError, ValueError):  # UnicodeDecodeError is a ValueError
        return None
    ts = rows["ts_ms"]
    prices = [rows[name] for name in HEADER[1:5]]
    ok = (
        ts.size > 0
        and bool(np.all(ts >= 0))
        and bool(np.all(np.diff(ts) > 0))
        and all(bool(np.all((p > 0) & (p < _INF))) for p in prices)
        and bool(np.all((rows["volume"] >= 0) & (rows["volume"] < _INF)))
    )
    return rows if ok else None
