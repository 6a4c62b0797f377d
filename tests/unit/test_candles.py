"""Candle files: the ../shared format, its checks, and the bar length inferred from spacing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autotrader.errors import DataError
from autotrader.signal.candles import Candle, infer_sample_secs, iter_candles, read_candles

HEADER = "open_time_ms,open,high,low,close,volume\n"
ROWS = [
    "1700000000000,100.5,101.0,100.0,100.75,1.5\n",
    "1700000060000,100.75,102.0,100.5,101.25,0.0\n",
    "1700000120000,101.25,101.5,99.5,100.0,3.25\n",
]
DEMO = Path(__file__).resolve().parent.parent / "data" / "btcusdt_1m_demo.csv"


def write(tmp_path: Path, text: str, name: str = "c.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def test_reads_arrays_and_iterates_the_same(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "".join(ROWS))
    c = read_candles(path)
    assert len(c) == 3
    assert c.ts_ms.dtype == np.int64 and c.close.dtype == np.float64
    assert c.ts_ms.tolist() == [1700000000000, 1700000060000, 1700000120000]
    assert c.close.tolist() == [100.75, 101.25, 100.0]
    assert c.volume.tolist() == [1.5, 0.0, 3.25]
    assert list(iter_candles(path)) == [
        Candle(1700000000000, 100.5, 101.0, 100.0, 100.75, 1.5),
        Candle(1700000060000, 100.75, 102.0, 100.5, 101.25, 0.0),
        Candle(1700000120000, 101.25, 101.5, 99.5, 100.0, 3.25),
    ]
    assert c.sample_secs == 60.0


def test_crlf_and_blank_lines_are_fine(tmp_path: Path) -> None:
    text = (HEADER + "".join(ROWS)).replace("\n", "\r\n") + "\r\n"
    path = write(tmp_path, text)
    assert read_candles(path).close.tolist() == [100.75, 101.25, 100.0]
    assert [c.close for c in iter_candles(path)] == [100.75, 101.25, 100.0]


def test_demo_slice_is_the_first_3000_minutes_and_both_readers_agree() -> None:
    c = read_candles(DEMO)
    assert len(c) == 3000
    assert c.ts_ms[0] == 1771683960000  # 2026-02-21 14:26 UTC, the spot file's first minute
    assert np.all(np.diff(c.ts_ms) == 60_000)
    rows = list(iter_candles(DEMO))
    assert [r.ts_ms for r in rows] == c.ts_ms.tolist()
    assert [r.close for r in rows] == c.close.tolist()
    assert [r.high for r in rows] == c.high.tolist()


@pytest.mark.parametrize(
    ("rows", "where", "what"),
    [
        (["1700000000000,1,1,1,1\n"], ":2:", "expected 6 fields, got 5"),
        (["1700000000000,1,1,1,1,1,\n"], ":2:", "expected 6 fields, got 7"),
        (["1.7e12,1,1,1,1,1\n"], ":2:", "open_time_ms: expected an integer, got '1.7e12'"),
        (["-5,1,1,1,1,1\n"], ":2:", "open_time_ms: must not be negative"),
        ([ROWS[0], "1700000060000,1,1,1,abc,1\n"], ":3:", "close: expected a number, got 'abc'"),
        ([ROWS[0], "1700000060000,1,nan,1,1,1\n"], ":3:", "high: must be a positive finite"),
        ([ROWS[0], "1700000060000,0,1,1,1,1\n"], ":3:", "open: must be a positive finite"),
        ([ROWS[0], "1700000060000,1,1,1,1,-2\n"], ":3:", "volume: must be a finite number >= 0"),
        ([ROWS[0], ROWS[0]], ":3:", "is not after the previous row's 1700000000000"),
        ([ROWS[1], ROWS[0]], ":3:", "open_time_ms 1700000000000 is not after"),
        ([], ":2:", "no candles after the header"),
    ],
)
def test_malformed_rows_name_file_and_line(
    tmp_path: Path, rows: list[str], where: str, what: str
) -> None:
    path = write(tmp_path, HEADER + "".join(rows))
    for reader in (read_candles, lambda p: list(iter_candles(p))):
        with pytest.raises(DataError) as err:
            reader(path)
        message = str(err.value)
        assert message.startswith(f"{path}{where} "), message
        assert what in message
        assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("", ":1: empty file"),
        ("time,open,high,low,close,volume\n" + ROWS[0], ":1: header must be open_time_ms,open"),
        ("open_time_ms,close\n", ":1: header must be"),
    ],
)
def test_header_is_checked(tmp_path: Path, text: str, what: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DataError) as err:
        read_candles(path)
    assert f"{path}{what}" in str(err.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        read_candles(tmp_path / "missing.csv")
    binary = tmp_path / "bin.csv"
    binary.write_bytes(HEADER.encode() + b"\xff\xfe\x00garbage\n")
    with pytest.raises(DataError, match="not a UTF-8 text file"):
        read_candles(binary)


def test_sample_secs_is_the_median_spacing() -> None:
    # Three minute bars, one 2-hour gap, two more minute bars: still 60 s.
    ts = [0, 60_000, 120_000, 7_320_000, 7_380_000, 7_440_000]
    assert infer_sample_secs(ts) == 60.0
    assert infer_sample_secs([0, 3_000, 6_000, 9_000]) == 3.0
    with pytest.raises(DataError, match="need at least 2 candles"):
        infer_sample_secs([5])
