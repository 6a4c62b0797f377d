"""The scheduler's tables on SQLite and PostgreSQL: batched runs, counters, pruning, control."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from autotrader.store.repos_runtime import StrategyRuntimeRepo
from autotrader.store.repos_scheduler import RunEnd, RunStart, SchedulerRepo
from harness.store import Ticker, migrated_engine

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    yield from migrated_engine(database_url)


def test_runs_counters_and_pruning_to_the_last_runs(engine: sa.Engine) -> None:
    ticker = Ticker(T0)
    repo = SchedulerRepo(engine, now=ticker, keep_runs=5)
    repo.ensure({"a": "h1", "b": "h2"})
    outcomes = ["ok", "failed", "timeout", "skipped", "ok", "failed", "ok"]
    kept: list[int] = []
    for i, outcome in enumerate(outcomes):
        at = T0 + timedelta(minutes=i)
        starts = [RunStart(n, at, at, "schedule", at + timedelta(minutes=1)) for n in ("a", "b")]
        ids = repo.start_runs(starts)
        assert [r.outcome for r in repo.runs("a", 1)] == ["running"]
        failed = int(outcome in ("failed", "timeout"))
        ends = [RunEnd(ids[0], "a", at, outcome, failed, [{"node": "x", "in": 2, "out": 1}],
                       i, "boom" if failed else None, f"run {i}")]  # fmt: skip
        repo.finish_runs(ends)
        kept.append(ids[0])
    runs = repo.runs("a")
    assert [r.id for r in runs] == kept[::-1][:5]  # only the newest 5 are kept
    assert runs[0].nodes == [{"node": "x", "in": 2, "out": 1}] and runs[0].note == "run 6"
    assert len(repo.runs("b")) == 7  # pruned when its runs end, and b's never did
    a = repo.get("a")
    assert a is not None
    assert (a.executions, a.successes, a.failures) == (7, 4, 3)
    assert (a.last_outcome, a.consecutive_failures, a.definition_hash) == ("ok", 0, "h1")
    assert a.next_run_at == T0 + timedelta(minutes=7)
    assert repo.mark_interrupted() == 7  # b's runs, left running by a "crash"
    assert {r.outcome for r in repo.runs("b")} == {"failed"}


def test_control_rows_and_the_shared_pause(engine: sa.Engine) -> None:
    repo = SchedulerRepo(engine, now=Ticker(T0))
    assert repo.control() == {}
    repo.set_desired("a", "stopped")
    repo.request_run_now("b", T0)
    control = repo.control()
    assert (control["a"].desired, control["a"].run_now_at) == ("stopped", None)
    assert (control["b"].desired, control["b"].run_now_at) == (None, T0)
    repo.start_runs([RunStart("b", T0, None, "manual", None)])
    assert "b" not in repo.control()  # a manual start clears the request
    runtime = StrategyRuntimeRepo(engine)
    runtime.pause("c", "too many losses")
    assert repo.paused() == {"c"}
    runtime.resume("c")
    assert repo.paused() == set()
    repo.ensure({"a": "new"})
    state = repo.get("a")
    assert state is not None and (state.desired, state.definition_hash) == ("stopped", "new")
