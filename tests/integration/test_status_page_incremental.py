"""The status writer renders and writes only the strategy pages whose content changed.

Strategy pages hold no "now" (their relative times are written by the page's script), so while
the daemons' clock moves on an unchanged strategy keeps the same file; the overview, which says
when it was generated, is written every time. Checked on real SQLite and PostgreSQL databases.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from autotrader.clock import LiveClock
from autotrader.config import AppConfig, load_config
from autotrader.domain.fills import Fill
from autotrader.domain.orders import Side
from autotrader.status.writer import StatusPageWriter, write_site
from autotrader.store.db import create_db_engine
from autotrader.store.repos_scheduler import RunEnd, RunStart, SchedulerRepo
from autotrader.store.repos_trading import FillRepo
from harness.status_world import NOW, seed_world

World = tuple[AppConfig, sa.Engine]
NAMES = ("alpha", "beta", "gamma", "delta")


@pytest.fixture
def world(tmp_path: Path, database_url: str) -> Iterator[World]:
    w = seed_world(tmp_path, database_url)
    engine = create_db_engine(database_url)
    yield load_config(w.config_path), engine
    engine.dispose()


def _files(out: Path) -> dict[str, tuple[int, bytes]]:
    """name → (inode, bytes): every write is a rename of a new file, so a new inode."""
    return {p.name: (p.stat().st_ino, p.read_bytes()) for p in sorted(out.iterdir())}


def _add_fill(engine: sa.Engine) -> None:
    fill = Fill(
        "incremental-1",
        "0xincremental-1",
        "tok-open",
        Side.SELL,
        Decimal("0.7"),
        Decimal(10),
        Decimal("0.01"),
        NOW - timedelta(minutes=1),
        "taker",
    )
    assert FillRepo(engine).add(fill, order_id=None, strategy="alpha")


def test_unchanged_pages_are_neither_rendered_nor_written_again(world: World) -> None:
    config, engine = world
    out = config.status_page.output_dir
    digests: dict[str, bytes] = {}

    def render(at: datetime) -> dict[str, tuple[int, bytes]]:
        # A daemon clock at speed 1: its time and wall time move on together.
        write_site(config, engine, now=at, real_now=at, digests=digests)
        return _files(out)

    first = render(NOW)
    assert set(first) == {"index.html", *(f"strategy-{n}.html" for n in NAMES)}
    later = NOW + timedelta(seconds=95)  # time passes, nothing happens
    second = render(later)
    for name in NAMES:
        assert second[f"strategy-{name}.html"] == first[f"strategy-{name}.html"], name
    assert second["index.html"][0] != first["index.html"][0]  # the overview is written again
    assert b"12:01:35" in second["index.html"][1]  # … and says when

    _add_fill(engine)  # alpha changes, the others do not
    (out / "strategy-beta.html").unlink()  # and a page deleted behind the writer's back
    third = render(later)
    alpha = "strategy-alpha.html"
    assert third[alpha][0] != second[alpha][0] and third[alpha][1] != second[alpha][1]
    assert third["strategy-beta.html"][1] == second["strategy-beta.html"][1]  # written again
    for name in ("gamma", "delta"):
        assert third[f"strategy-{name}.html"] == second[f"strategy-{name}.html"], name


def test_the_daemon_writer_keeps_the_digests_between_renders(world: World) -> None:
    config, engine = world
    out = config.status_page.output_dir
    writer = StatusPageWriter(config, LiveClock(), engine)
    asyncio.run(writer.on_tick())
    first = _files(out)
    asyncio.run(writer.on_tick(force=True))
    second = _files(out)
    assert writer.renders == 2
    assert second["index.html"][0] != first["index.html"][0]
    for name in NAMES:
        assert second[f"strategy-{name}.html"][0] == first[f"strategy-{name}.html"][0], name


def test_a_run_started_or_finished_renders_its_strategy_page_again(world: World) -> None:
    # The page's digest is taken before its runs are read: the run sums must stand for them.
    config, engine = world
    out = config.status_page.output_dir
    digests: dict[str, bytes] = {}
    repo = SchedulerRepo(engine, now=lambda: NOW)

    def render() -> dict[str, tuple[int, bytes]]:
        write_site(config, engine, now=NOW, real_now=NOW, digests=digests)
        return _files(out)

    before = render()
    start = RunStart("gamma", NOW - timedelta(seconds=30), None, "manual", None)
    (run_id,) = repo.start_runs([start])
    started = render()
    gamma = "strategy-gamma.html"
    assert started[gamma][0] != before[gamma][0] and b"run running" in started[gamma][1]
    end = RunEnd(run_id, "gamma", NOW - timedelta(seconds=20), "ok", 0, note="kept 3 of 20")
    repo.finish_runs([end])
    finished = render()
    assert b"run ok: kept 3 of 20" in finished[gamma][1]
    for name in ("alpha", "beta", "delta"):
        page = f"strategy-{name}.html"
        assert before[page] == started[page] == finished[page], name
