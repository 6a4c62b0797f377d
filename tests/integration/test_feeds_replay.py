"""The replay feed: which bar is published when, the loop seam, bad files, scaled time."""

from __future__ import annotations

import asyncio
import csv
import logging
from pathlib import Path

import pytest

from autotrader.clock import FakeClock, ScaledClock
from autotrader.feeds.base import FeedChain
from autotrader.feeds.replay import ReplayFeed, first_bar_open_time, load_replay_csv

T0 = 1_571_176_200.0  # 2019-10-15 21:50 UTC, the first bar of the 2019 spot file
HEADER = "open_time_ms,open,high,low,close,volume\n"
# Four bars with a gap: 21:50, 21:51, 21:52, then 21:55.
ROWS: list[tuple[float, float]] = [(0, 100.0), (60, 101.0), (120, 102.0), (300, 105.0)]


def write_csv(path: Path, rows: list[tuple[float, float]] = ROWS) -> Path:
    lines = [f"{int((T0 + off) * 1000)},1,1,1,{close},1\n" for off, close in rows]
    path.write_text(HEADER + "".join(lines))
    return path


def started(path: Path, clock: FakeClock, loop: bool) -> ReplayFeed:
    feed = ReplayFeed(clock, path, loop=loop)
    asyncio.run(feed.start())
    return feed


@pytest.mark.parametrize(
    ("offset", "price", "ts_offset"),
    [
        (0.0, None, None),  # the clock starts at the first bar's open: nothing closed yet
        (59.9, None, None),
        (60.0, 100.0, 60.0),
        (119.0, 100.0, 60.0),
        (120.0, 101.0, 120.0),
        (180.0, 102.0, 180.0),
        (300.0, 102.0, 180.0),  # inside the gap the last bar stays, ageing
        (360.0, 105.0, 360.0),
        (419.0, 105.0, 360.0),
    ],
)
def test_bar_published_at_each_time(
    tmp_path: Path, offset: float, price: float | None, ts_offset: float | None
) -> None:
    clock = FakeClock(T0 + offset)
    quote = started(write_csv(tmp_path / "bars.csv"), clock, loop=True).latest()
    if price is None:
        assert quote is None
        return
    assert quote is not None
    assert (quote.price, quote.ts, quote.source, quote.received_at) == (
        price,
        T0 + (ts_offset or 0.0),
        "replay",
        T0 + offset,
    )


def test_loop_seam_shifts_by_the_span(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    feed = started(write_csv(tmp_path / "bars.csv"), clock, loop=True)
    span = 300 + 60  # last open - first open + one bar
    expected = [
        (419.0, 105.0, 360.0),
        (420.0, 100.0, 60.0 + span),  # the first bar again, one span later
        (420.0 + 60, 101.0, 120.0 + span),
        (60.0 + 5 * span + 125, 102.0, 180.0 + 5 * span),
    ]
    last_ts = 0.0
    for offset, price, ts_offset in expected:
        clock.advance(T0 + offset - clock.time())
        quote = feed.latest()
        assert quote is not None
        assert (quote.price, quote.ts) == (price, T0 + ts_offset)
        assert quote.ts > last_ts and quote.ts <= clock.time()
        last_ts = quote.ts


def test_without_loop_the_last_bar_ages_and_the_chain_sees_it_stale(tmp_path: Path) -> None:
    clock = FakeClock(T0 + 370)
    feed = started(write_csv(tmp_path / "bars.csv"), clock, loop=False)
    chain = FeedChain([feed], clock, stale_after_secs=15)
    assert chain.freshest() == feed.latest()
    assert feed.state == "ok"
    clock.advance(10_000)
    quote = feed.latest()
    assert quote is not None and (quote.price, quote.ts) == (105.0, T0 + 360)
    assert chain.freshest() is None
    assert feed.state == "ended"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("time,close\n1,2\n", "header must have open_time_ms and close"),
        (HEADER + "1571176200000,1,1,1,abc,1\n", "bars.csv:2: expected open_time_ms and close"),
        (HEADER + "1571176200000,1,1,1,0,1\n", "close must be a positive number"),
        (HEADER + "1571176200000,1,1,1,nan,1\n", "close must be a positive number"),
        (HEADER + "1571176200000,1,1,1,5,1\n1571176200000,1,1,1,5,1\n", "bars.csv:3: open_time"),
        (HEADER + "1571176200000,1\n", "expected open_time_ms and close"),
        (HEADER, "no candles"),
    ],
    ids=["empty", "header", "word", "zero", "nan", "duplicate", "short-row", "no-rows"],
)
def test_bad_file_logs_one_error_and_publishes_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: str, message: str
) -> None:
    path = tmp_path / "bars.csv"
    path.write_text(content)
    feed = started(path, FakeClock(T0 + 1000), loop=True)
    assert feed.latest() is None
    assert feed.state.startswith("error:")
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(lines) == 1 and message in lines[0] and "\n" not in lines[0]


def test_missing_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    feed = started(tmp_path / "absent.csv", FakeClock(T0 + 1000), loop=True)
    assert feed.latest() is None
    assert "absent.csv" in caplog.text and feed.state.startswith("error:")


def test_stopped_feed_publishes_nothing(tmp_path: Path) -> None:
    feed = started(write_csv(tmp_path / "bars.csv"), FakeClock(T0 + 100), loop=True)
    assert feed.latest() is not None
    asyncio.run(feed.stop())
    assert feed.latest() is None and feed.state == "stopped"


def test_scaled_clock_replays_at_speed(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bars.csv")
    assert first_bar_open_time(path) == T0
    # 600 simulated seconds per real second: a bar every 0.1 s.
    clock = ScaledClock(start=first_bar_open_time(path), speed=600)
    feed = ReplayFeed(clock, path, loop=True)

    by_close = {T0 + off + 60: close for off, close in ROWS}

    async def scenario() -> list[tuple[float, float]]:
        await feed.start()
        seen: list[tuple[float, float]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while len(seen) < 4:
            assert loop.time() < deadline, f"only saw {seen}"
            quote = feed.latest()
            if quote is not None and (not seen or quote.ts != seen[-1][0]):
                seen.append((quote.ts, quote.price))
            await asyncio.sleep(0.005)
        return seen

    # Samples may skip a bar if this process stalls; each one seen must be right, in order.
    seen = asyncio.run(scenario())
    assert [ts for ts, _ in seen] == sorted(ts for ts, _ in seen)
    span = 360.0
    for ts, price in seen:
        assert price == by_close[T0 + 60 + (ts - T0 - 60) % span]


@pytest.mark.shared
def test_real_spot_file(spot_files: list[Path]) -> None:
    path = spot_files[0]
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))[:3]
    first_open = int(rows[0]["open_time_ms"]) / 1000
    assert first_bar_open_time(path) == first_open
    data = load_replay_csv(path)
    assert len(data.opens) > 10_000
    clock = FakeClock(first_open + 60)
    feed = started(path, clock, loop=True)
    for row in rows:
        quote = feed.latest()
        assert quote is not None
        assert quote.price == float(row["close"])
        assert quote.ts == int(row["open_time_ms"]) / 1000 + 60
        clock.advance(60)
