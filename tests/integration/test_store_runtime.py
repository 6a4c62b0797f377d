"""Settlements, strategy runtime, notification events and executor state, on both databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

import pytest
import sqlalchemy as sa

from autotrader.domain.fills import Settlement
from autotrader.store.repos_runtime import EventRepo, ExecutorStateRepo, StrategyRuntimeRepo
from autotrader.store.repos_trading import SettlementRepo
from harness.store import Ticker, migrated_engine

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    yield from migrated_engine(database_url)


def _settlement(token: str = "up", payout: str = "1") -> Settlement:
    return Settlement(
        market_id="0xcond",
        token_id=token,
        outcome="Up" if token == "up" else "Down",
        shares=Decimal("17.54"),
        payout_per_share=Decimal(payout),
        ts=T0,
    )


def test_settlement_recorded_once(engine: sa.Engine) -> None:
    repo = SettlementRepo(engine)
    slug = "btc-updown-15m-1795780800"
    assert repo.add(_settlement(), strategy="a", market_slug=slug, winning_outcome="Up")
    assert not repo.add(_settlement(payout="0"), strategy="a", market_slug=slug)
    assert repo.add(_settlement("down", "0"), strategy="a", market_slug=slug)
    assert repo.add(_settlement(), strategy="b", market_slug=slug)
    (first, second) = repo.for_strategy("a")
    assert first.settlement == _settlement() and first.winning_outcome == "Up"
    assert first.settlement.payout_usd == Decimal("17.54")
    assert (second.settlement.token_id, second.market_slug) == ("down", slug)
    assert len(repo.all()) == 3


def test_pause_resume_and_failures(engine: sa.Engine) -> None:
    clock = Ticker(T0)
    repo = StrategyRuntimeRepo(engine, now=clock)
    fresh = repo.get("a")
    assert (fresh.paused, fresh.consecutive_venue_failures, fresh.last_entry_at) == (False, 0, None)
    assert repo.all() == []  # reading does not create rows
    assert [repo.record_venue_failure("a") for _ in range(3)] == [1, 2, 3]
    assert repo.pause("a", "3 venue\nfailures") is True
    clock.now = T0 + timedelta(minutes=1)
    assert repo.pause("a", "again") is False  # already paused: first reason kept
    state = repo.get("a")
    assert (state.paused, state.pause_reason, state.paused_at) == (True, "3 venue failures", T0)
    assert state.consecutive_venue_failures == 3
    assert repo.resume("a") is True
    assert repo.resume("a") is False
    state = repo.get("a")
    assert (state.paused, state.pause_reason, state.paused_at) == (False, None, None)
    assert state.consecutive_venue_failures == 0
    repo.record_venue_failure("a")
    repo.record_venue_success("a")
    repo.record_entry("b", T0 + timedelta(seconds=5))
    assert repo.get("a").consecutive_venue_failures == 0
    assert repo.get("b").last_entry_at == T0 + timedelta(seconds=5)
    assert [s.strategy for s in repo.all()] == ["a", "b"]
    with pytest.raises(ValueError, match="needs a reason"):
        repo.pause("a", "")


def test_concurrent_failure_counts_are_not_lost(engine: sa.Engine) -> None:
    repo = StrategyRuntimeRepo(engine)
    barrier = threading.Barrier(4)
    seen: list[int] = []

    def worker() -> None:
        barrier.wait()
        seen.extend(repo.record_venue_failure("a") for _ in range(10))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(seen) == list(range(1, 41))  # every increment seen once, none lost
    assert repo.get("a").consecutive_venue_failures == 40


class Kind(StrEnum):
    UP = "UP"


def test_events_record_list_and_mark_read(engine: sa.Engine) -> None:
    clock = Ticker(T0)
    repo = EventRepo(engine, now=clock)
    first = repo.record(
        "trade_executed", "a", {"price": Decimal("0.57"), "at": T0, "side": Kind.UP, "n": 1}
    )
    clock.now = T0 + timedelta(seconds=1)
    second = repo.record("strategy_paused", "b", {"reason": "daily loss"})
    third = repo.record("venue_degraded")
    events = repo.list()
    assert [e.id for e in events] == [third, second, first]
    assert events[2].payload == {
        "price": "0.57",
        "at": "2026-11-27T12:00:00+00:00",
        "side": "UP",
        "n": 1,
    }
    assert (events[2].type, events[2].strategy, events[2].created_at) == ("trade_executed", "a", T0)
    assert events[0].payload == {} and events[0].strategy is None
    assert [e.id for e in repo.list(oldest_first=True, limit=2)] == [first, second]
    assert [e.id for e in repo.list(type="strategy_paused")] == [second]
    assert [e.id for e in repo.list(strategy="a")] == [first]
    assert repo.mark_read(first) == 1
    assert repo.mark_read(first) == 0
    assert [e.id for e in repo.list(unread=True)] == [third, second]
    assert [e.id for e in repo.list(unread=False)] == [first]
    assert repo.mark_read("all") == 2
    assert repo.list(unread=True) == []
    with pytest.raises(TypeError, match="cannot store object"):
        repo.record("x", None, {"bad": object()})
    assert len(repo.list()) == 3


def test_executor_state(engine: sa.Engine) -> None:
    repo = ExecutorStateRepo(engine)
    assert repo.get("reconciled_at") is None and repo.get_time("reconciled_at") is None
    repo.set_time("reconciled_at", T0)
    repo.set_time("reconciled_at", T0 + timedelta(seconds=3))
    assert repo.get_time("reconciled_at") == T0 + timedelta(seconds=3)
    repo.set("mode", "paper")
    assert repo.all() == {"reconciled_at": "2026-11-27T12:00:03+00:00", "mode": "paper"}
    with pytest.raises(ValueError, match="naive datetime"):
        repo.set_time("reconciled_at", datetime(2026, 1, 1))
