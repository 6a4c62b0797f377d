"""`autotrader watchlist list|add|remove` against the simulator (Gamma lookups) and a migrated
database, and the watchlist repository's dedupe and expiry, on SQLite and PostgreSQL.

The commands run in-process through ``autotrader.cli.main`` (each real process costs seconds
on a loaded machine); one runs as a real process to cover the entry point.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from autotrader.cli import main
from autotrader.store.repos_watchlist import WatchEntry, WatchlistRepo
from harness.sim import REPO, SimProcess, autotrader_env, serve_sim
from harness.store import migrated_engine

SLUG = "will-maria-alvarez-win-the-2026-presidential-election-473"

CONFIG = """\
state_dir: {state}
database_url: "{db}"
polymarket: {{gamma_url: "{url}", clob_url: "{url}"}}
strategies:
  - name: btc
    kind: btc_updown_15m
    schedule: {{every: 15m}}
    allocation_usd: 100
    limits: {{daily_loss_usd: 10, max_position_pct: 20}}
  - name: politics
    kind: pipeline
    schedule: {{every: 5m}}
    allocation_usd: 100
    limits: {{daily_loss_usd: 10, max_position_pct: 20}}
    pipeline: [monitor_watchlist]
"""


@pytest.fixture(scope="module")
def sim() -> Iterator[SimProcess]:
    yield from serve_sim()


def write_config(tmp_path: Path, url: str, database_url: str) -> Path:
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / "autotrader.yaml"
    path.write_text(CONFIG.format(state=tmp_path / "state", db=database_url, url=url))
    return path


@dataclass(frozen=True)
class Result:
    """What a command did."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def watchlist(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """`autotrader watchlist ARGS --config CONFIG`, in-process."""

    def run(config: Path, *args: str) -> Result:
        code = main(["watchlist", *args, "--config", str(config)])
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return run


def migrated(database_url: str) -> None:
    for engine in migrated_engine(database_url):
        engine.dispose()


def test_add_list_remove(
    sim: SimProcess, tmp_path: Path, database_url: str, watchlist: Callable[..., Result]
) -> None:
    config = write_config(tmp_path, sim.url, database_url)
    migrated(database_url)
    add = watchlist(config, "add", "--strategy", "politics", "--market", SLUG,
                    "--reason", "looks  interesting", "--expire-after", "7d")  # fmt: skip
    assert (add.returncode, add.stderr) == (0, ""), add.stderr
    assert add.stdout == f"added {SLUG} to the watchlist of politics\n"
    again = watchlist(config, "add", "--market", SLUG, "--reason", "twice")
    assert again.returncode == 1 and again.stdout == ""
    assert again.stderr == (
        f"autotrader watchlist add: error: {SLUG} is already on the watchlist of politics\n"
    )
    listed = watchlist(config, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    gamma = httpx.get(f"{sim.url}/markets/slug/{SLUG}", timeout=10).json()
    assert row["strategy"] == "politics" and row["reason"] == "looks interesting"
    assert row["question"] == gamma["question"] and row["expired"] is False
    added, expires = (datetime.fromisoformat(row[k]) for k in ("added_at", "expires_at"))
    assert expires - added == timedelta(days=7)
    assert Decimal(row["volume_at_add"]) > 1_000_000
    assert Decimal(row["price_at_add"]) == Decimal(json.loads(gamma["outcomePrices"])[0])
    removed = watchlist(config, "remove", "--market", SLUG, "--json")
    assert removed.returncode == 0, removed.stderr
    assert json.loads(removed.stdout) == {
        "action": "removed",
        "strategy": "politics",
        "market_slug": SLUG,
    }
    # The real entry point, as an operator types it.
    proc = subprocess.run(
        [sys.executable, "-m", "autotrader", "watchlist", "list", "--config", str(config)],
        cwd=REPO, env=autotrader_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "(none)\n", "")


def test_bad_input_is_one_line_and_changes_nothing(
    sim: SimProcess, tmp_path: Path, watchlist: Callable[..., Result]
) -> None:
    config = write_config(tmp_path, sim.url, f"sqlite:///{tmp_path / 'w.db'}")
    migrated(f"sqlite:///{tmp_path / 'w.db'}")
    cases = [
        (("add", "--strategy", "nope", "--market", SLUG, "--reason", "r"),
         "--strategy nope: not configured (pipeline strategies: politics)"),
        (("add", "--strategy", "btc", "--market", SLUG, "--reason", "r"),
         "--strategy btc: not a pipeline strategy (pipeline strategies: politics)"),
        (("add", "--market", "no-such-market", "--reason", "r"),
         "--market no-such-market: no such market"),
        (("add", "--market", SLUG, "--reason", "r", "--expire-after", "soon"),
         "--expire-after soon: expected a duration like 30s, 5m, 1h or 1d"),
        (("remove", "--market", SLUG), f"{SLUG} is not on the watchlist of politics"),
    ]  # fmt: skip
    for args, message in cases:
        proc = watchlist(config, *args)
        assert proc.returncode == 1, (args, proc.stdout)
        assert proc.stderr == f"autotrader watchlist {args[0]}: error: {message}\n"
    assert watchlist(config, "list", "--json").stdout == "[]\n"
    # A database nobody migrated: one line, no traceback.
    unmigrated = write_config(tmp_path / "x", sim.url, f"sqlite:///{tmp_path / 'none.db'}")
    proc = watchlist(unmigrated, "list")
    assert proc.returncode == 1 and len(proc.stderr.splitlines()) == 1
    assert proc.stderr.startswith("autotrader watchlist list: error: ")
    assert "watchlist" in proc.stderr[len("autotrader watchlist list: error: ") :]


@pytest.fixture
def repo(database_url: str) -> Iterator[WatchlistRepo]:
    for engine in migrated_engine(database_url):
        yield WatchlistRepo(engine)


def test_repo_dedupes_and_expires(repo: WatchlistRepo) -> None:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)

    def entry(at: datetime, reason: str, strategy: str = "s") -> WatchEntry:
        return WatchEntry(strategy, "m", "1", "Q?", reason, at, at + timedelta(hours=1),
                          Decimal("0.123456789"), Decimal("1000.5"))  # fmt: skip

    assert repo.add(entry(t0, "first"))
    assert not repo.add(entry(t0 + timedelta(minutes=30), "second"))  # still watched
    assert repo.add(entry(t0, "other strategy", strategy="t"))
    (kept,) = repo.list("s")
    assert (kept.reason, kept.added_at) == ("first", t0)
    assert kept.price_at_add == Decimal("0.12345679")  # rounded to the store's 8 places
    assert repo.list("s", now=t0 + timedelta(hours=1)) == []  # expired at its expiry
    # An expired entry is replaced by a new add.
    assert repo.add(entry(t0 + timedelta(hours=2), "again"))
    assert [e.reason for e in repo.list("s")] == ["again"]
    assert repo.purge_expired("s", t0 + timedelta(hours=2, minutes=59)) == []
    assert repo.purge_expired("s", t0 + timedelta(hours=3)) == ["m"]
    assert repo.list("s") == [] and len(repo.list()) == 1
    assert repo.remove("t", "m") and not repo.remove("t", "m")
