"""`autotrader notifications`: the in-app centre, with each event's delivery state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from autotrader.cli import main
from autotrader.store.repos_notify import DeliveryRepo, Plan
from autotrader.store.repos_runtime import EventRepo, NotificationEvent
from harness.store import Ticker, migrated_engine

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """The test database, migrated."""
    yield from migrated_engine(database_url)


@pytest.fixture
def config(engine: sa.Engine, tmp_path: Path) -> str:
    """A config file pointing at the test database."""
    path = tmp_path / "autotrader.yaml"
    url = engine.url.render_as_string(hide_password=False)
    path.write_text(f"state_dir: {tmp_path}\ndatabase_url: '{url}'\ntimezone: Europe/Berlin\n")
    return str(path)


def _seed(engine: sa.Engine) -> list[int]:
    """Four events: sent, retrying, waiting for a digest, not planned yet."""
    events = EventRepo(engine, now=Ticker(T0))
    ids = [
        events.record("trade_executed", "btc", {"summary": "bought Up <b>"}),
        events.record("strategy_error", "pol", {"summary": "pol paused"}),
        events.record("watchlist_updated", "pol", {"summary": "pol +2"}),
    ]
    hour = T0 + timedelta(hours=1)

    def plan(e: NotificationEvent) -> list[Plan]:
        if e.type == "watchlist_updated":
            return [Plan("email", f"digest:{hour.isoformat()}", "hourly", hour)]
        return [Plan("email", f"event:{e.id}", "event", T0)]

    repo = DeliveryRepo(engine, now=Ticker(T0))
    assert repo.schedule(plan) == 3
    first, second = repo.due("email", T0)
    repo.mark_sent(first.id, T0)
    repo.mark_failed(
        second.id, "SMTP 127.0.0.1:25: SMTPDataError 451 later", T0 + timedelta(seconds=60)
    )
    ids.append(events.record("feed_stale", None, {"summary": "stale"}))
    return ids


def test_list_shows_delivery_state_per_event(
    engine: sa.Engine, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _seed(engine)
    assert main(["notifications", "--config", config]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "time", "type", "strategy", "read", "delivery", "summary"]
    by_id = {int(line.split()[0]): line for line in lines[1:]}
    assert list(by_id) == list(reversed(ids))  # newest first
    assert "email sent 2026-06-01 14:00" in by_id[ids[0]] and "bought Up <b>" in by_id[ids[0]]
    assert "email retrying (1 failed" in by_id[ids[1]] and "451 later" in by_id[ids[1]]
    assert "email pending for the hourly digest at 2026-06-01 15:00" in by_id[ids[2]]
    assert "not planned yet" in by_id[ids[3]]
    assert all(" NEW " in line for line in by_id.values())

    assert main(["notifications", "--json", "--type", "strategy_error", "--config", config]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["id"] == ids[1] and row["summary"] == "pol paused" and row["planned"]
    [state] = row["deliveries"]
    assert (state["channel"], state["status"], state["attempts"]) == ("email", "retrying", 1)


def test_read_one_then_all(
    engine: sa.Engine, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _seed(engine)
    assert main(["notifications", "read", str(ids[0]), "--config", config]) == 0
    assert main(["notifications", "read", str(ids[0]), "--config", config]) == 0
    out = capsys.readouterr().out
    assert f"notification {ids[0]} marked read" in out and "was already read" in out
    assert main(["notifications", "--unread", "--json", "--config", config]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == list(reversed(ids[1:]))
    assert main(["notifications", "read", "--all", "--config", config]) == 0
    assert capsys.readouterr().out.strip() == "marked 3 notification(s) read"
    assert main(["notifications", "--unread", "--config", config]) == 0
    assert capsys.readouterr().out.strip() == "(no notifications)"


def test_unknown_id_is_one_line_and_changes_nothing(
    engine: sa.Engine, config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(engine)
    assert main(["notifications", "read", "999", "--config", config]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["autotrader notifications read: error: no notification with id 999"]
    assert len(EventRepo(engine).list(unread=True)) == 4
    with pytest.raises(SystemExit) as exc:
        main(["notifications", "read", "abc", "--config", config])
    assert exc.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
