"""The order path against a scripted venue: every kind of answer, and what it leaves behind.

Each test claims an intent, runs it through ``OrderPath`` with a ``ScriptedVenue`` whose POST
answers follow a script, and checks the intent's end, how often the order went out, the order
row, the fills (once each, equal to the venue's trades) and the balanced ledgers. The clock is
a ``FakeClock``: the path's waits (425, 429, post-only) advance it instantly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from autotrader.clock import FakeClock
from autotrader.config import AppConfig
from autotrader.domain.intents import IntentStatus
from autotrader.domain.orders import OrderStatus
from autotrader.executor.order_path import VENUE_UNAVAILABLE, OrderPath
from autotrader.executor.outcome import NOT_FOUND, Finish
from autotrader.store.repos_intents import IntentRepo
from autotrader.store.repos_runtime import EventRepo, StrategyRuntimeRepo
from autotrader.store.repos_trading import FillRepo, OrderRepo, StoredOrder
from harness.executor_unit import (
    add_and_claim,
    assert_books_consistent,
    engine_copy,
    make_intent,
    unit_config,
)
from harness.scripted_venue import ScriptedVenue

pytestmark = pytest.mark.usefixtures("short_grace")  # fixtures: harness/executor_unit.py


class Rig:
    """One test's config, database, clock, venue and order path."""

    def __init__(self, config: AppConfig, engine: sa.Engine) -> None:
        self.config = config
        self.engine = engine
        self.clock = FakeClock()
        self.venue = ScriptedVenue(self.clock)
        self.path = OrderPath(config, self.venue, engine, self.clock)

    def run(self, script: list[str], **intent_args: str | None) -> tuple[Finish, list[StoredOrder]]:
        """Run one intent with the venue answering ``script``; its finish and its orders."""
        self.venue.extend(script)
        intent = make_intent(self.clock, **intent_args)  # type: ignore[arg-type]
        finish = asyncio.run(self.path.run(add_and_claim(self.engine, intent)))
        stored = IntentRepo(self.engine).get(intent.id)
        assert stored is not None and stored.status is finish.status
        assert stored.reason_code == finish.code and (stored.reason_text or "").strip()
        return finish, OrderRepo(self.engine).for_intent(intent.id)

    def check_books(self) -> None:
        """Fills once each, as at the venue; ledgers balanced."""
        assert_books_consistent(self.config, self.engine, self.venue)


@pytest.fixture
def rig(template: Path, tmp_path: Path) -> Iterator[Rig]:
    engine = engine_copy(template, tmp_path)
    yield Rig(unit_config(tmp_path), engine)
    engine.dispose()


def test_acknowledged_fill_is_recorded_once_and_journaled(rig: Rig) -> None:
    finish, (order,) = rig.run(["fill"])
    assert (finish.status, finish.code) == (IntentStatus.FILLED, "FILLED")
    assert rig.venue.posts == [order.venue_order_id] and order.status is OrderStatus.FILLED
    assert len(FillRepo(rig.engine).for_order(order.id)) == 1
    journal = (rig.config.state_dir / "trades.jsonl").read_text().splitlines()
    assert len(journal) == 1 and str(order.venue_order_id) in journal[0]
    rig.check_books()


def test_lost_answer_is_found_by_hash_and_never_resent(rig: Rig) -> None:
    finish, (order,) = rig.run(["lost"])
    assert finish.status is IntentStatus.FILLED
    assert rig.venue.posts == [order.venue_order_id]  # posted once, found by its hash
    assert rig.venue.accepted == [order.venue_order_id]
    rig.check_books()


def test_ambiguous_submit_the_venue_never_saw_fails_without_a_resend(rig: Rig) -> None:
    finish, (order,) = rig.run(["timeout"])
    assert (finish.status, finish.code) == (IntentStatus.FAILED, NOT_FOUND)
    assert rig.venue.posts == [order.venue_order_id] and rig.venue.accepted == []
    # Left SUBMITTED: a later sync still finds it if it surfaces.
    assert order.status is OrderStatus.SUBMITTED and order.venue_order_id is not None
    rig.check_books()


def test_ambiguous_submit_is_looked_up_through_read_failures(rig: Rig) -> None:
    rig.venue.read_failures = 2
    finish, (order,) = rig.run(["lost"])
    assert finish.status is IntentStatus.FILLED
    assert rig.venue.posts == [order.venue_order_id]
    rig.check_books()


@pytest.mark.parametrize("refusal", ["425", "500", "post_only"])
def test_refusal_before_acceptance_reposts_the_same_signed_order(rig: Rig, refusal: str) -> None:
    start = rig.clock.time()
    finish, (order,) = rig.run([refusal, refusal, "fill"])
    assert finish.status is IntentStatus.FILLED
    # One order, one hash, posted three times: the same signed order, not a new one.
    assert rig.venue.posts == [order.venue_order_id] * 3
    assert rig.clock.time() > start  # it waited between the posts
    rig.check_books()


def test_429_waits_as_told_within_validity(rig: Rig) -> None:
    rig.venue.retry_after = 7
    start = rig.clock.time()
    finish, (order,) = rig.run(["429", "fill"])
    assert finish.status is IntentStatus.FILLED
    assert rig.venue.posts == [order.venue_order_id] * 2
    assert rig.clock.time() - start >= 7


def test_a_long_retry_after_marks_the_path_busy_for_the_watchdog(rig: Rig) -> None:
    # A minute-long 429 inside one tick is a deliberate wait: the stall check must not kill it.
    rig.venue.retry_after = 90
    finish, _ = rig.run(["429", "fill"], valid_secs=600)  # type: ignore[arg-type]
    assert finish.status is IntentStatus.FILLED
    assert rig.path.busy_until - time.monotonic() > 90  # the FakeClock's wait took no real time


def test_429_beyond_validity_expires_the_intent_unsent(rig: Rig) -> None:
    rig.venue.retry_after = 120
    finish, (order,) = rig.run(["429"], limit="0.52")
    assert (finish.status, finish.code) == (IntentStatus.EXPIRED, VENUE_UNAVAILABLE)
    assert order.status is OrderStatus.REJECTED and rig.venue.accepted == []
    assert len(rig.venue.posts) == 1


def test_repeated_venue_failures_pause_the_strategy_and_record_events(rig: Rig) -> None:
    finish, (order,) = rig.run(["500", "500", "500", "fill"])
    assert (finish.status, finish.code) == (IntentStatus.FAILED, VENUE_UNAVAILABLE)
    assert "paused" in finish.text and rig.venue.accepted == []
    assert order.status is OrderStatus.REJECTED  # never accepted: closed as not placed
    runtime = StrategyRuntimeRepo(rig.engine).get("s1")
    assert runtime.paused and "3 consecutive venue failures" in (runtime.pause_reason or "")
    types = {e.type for e in EventRepo(rig.engine).list(strategy="s1")}
    assert {"strategy_paused", "venue_degraded"} <= types
    # The paused strategy's next entry is refused before anything is sent; s2 still trades.
    posts = len(rig.venue.posts)
    finish, orders = rig.run([])
    assert (finish.code, orders, len(rig.venue.posts)) == ("STRATEGY_PAUSED", [], posts)
    finish, _ = rig.run(["fill"], strategy="s2")
    assert finish.status is IntentStatus.FILLED
    rig.check_books()


def test_a_success_resets_the_failure_count(rig: Rig) -> None:
    for _ in range(3):
        finish, _ = rig.run(["500", "500", "fill"])
        assert finish.status is IntentStatus.FILLED
    assert not StrategyRuntimeRepo(rig.engine).get("s1").paused


def test_refused_order_is_rejected_with_the_venue_reason(rig: Rig) -> None:
    finish, (order,) = rig.run(["refused"])
    assert (finish.status, finish.code) == (IntentStatus.REJECTED, "NOT_ENOUGH_BALANCE")
    assert order.status is OrderStatus.REJECTED and order.reason_code == "NOT_ENOUGH_BALANCE"
    assert FillRepo(rig.engine).for_order(order.id) == []


def test_partial_fill_of_a_limit_order_rests_the_remainder(rig: Rig) -> None:
    finish, (order,) = rig.run(["partial"], shares="10", limit="0.52")
    assert finish.status is IntentStatus.PARTIALLY_FILLED
    assert order.status is OrderStatus.PARTIALLY_FILLED and order.size_matched == 5
    rig.check_books()


def test_partial_fill_of_a_market_order_kills_the_remainder(rig: Rig) -> None:
    finish, (order,) = rig.run(["partial"], usd="5", shares=None, limit=None)
    assert finish.status is IntentStatus.PARTIALLY_FILLED and "rest canceled" in finish.text
    assert order.status is OrderStatus.CANCELED
    rig.check_books()


def test_resting_order_finishes_the_intent_as_resting(rig: Rig) -> None:
    finish, (order,) = rig.run(["rest"])
    assert (finish.status, finish.code) == (IntentStatus.RESTING, "LIVE")
    assert order.status is OrderStatus.LIVE
    rig.check_books()


def test_risk_rejection_sends_nothing(rig: Rig) -> None:
    finish, orders = rig.run(["fill"], shares="100", limit="0.52")  # $52 > max trade $20
    assert (finish.status, finish.code) == (IntentStatus.REJECTED, "MAX_TRADE_SIZE")
    assert orders == [] and rig.venue.posts == []


def test_expired_intent_is_rejected_before_anything_is_sent(rig: Rig) -> None:
    rig.venue.extend(["fill"])
    intent = make_intent(rig.clock, valid_secs=5)
    stored = add_and_claim(rig.engine, intent)
    rig.clock.advance(10)
    finish = asyncio.run(rig.path.run(stored))
    assert (finish.status, finish.code) == (IntentStatus.EXPIRED, "INTENT_EXPIRED")
    assert rig.venue.posts == [] and OrderRepo(rig.engine).for_intent(intent.id) == []
