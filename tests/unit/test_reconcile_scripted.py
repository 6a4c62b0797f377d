"""Start-up reconciliation against a scripted venue, from the states a crash leaves behind.

Each test builds what a killed executor leaves at one step of the order path (a claimed
intent; an order row with or without its hash; an order the venue holds whose answer was never
stored; fills stored but not the order's status), reconciles, and checks that the intent ends
with a reason, that nothing went out twice, that fills are recorded once and the ledgers
balance. Orders of ours the database does not know are adopted by hash; vanished ones closed.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from autotrader.clock import FakeClock
from autotrader.config import AppConfig
from autotrader.domain.intents import IntentStatus, OrderIntent, to_order_request
from autotrader.domain.orders import OrderStatus
from autotrader.executor.order_path import OrderPath
from autotrader.executor.reconcile import NOT_SENT, UNATTRIBUTED, VANISHED, Reconciler
from autotrader.executor.sync import record_fills
from autotrader.store.repos_intents import IntentRepo
from autotrader.store.repos_trading import FillRepo, OrderRepo, StoredOrder
from autotrader.venue.errors import VenueUnavailable
from harness.executor_unit import (
    add_and_claim,
    assert_books_consistent,
    engine_copy,
    make_intent,
    unit_config,
)
from harness.scripted_venue import TICK, ScriptedVenue

pytestmark = pytest.mark.usefixtures("short_grace")  # fixtures: harness/executor_unit.py


class Crashed:
    """A database and venue as a killed executor left them; reconcile with ``restart``."""

    def __init__(self, config: AppConfig, engine: sa.Engine) -> None:
        self.config = config
        self.engine = engine
        self.clock = FakeClock()
        self.venue = ScriptedVenue(self.clock)
        self.orders = OrderRepo(engine, now=self.clock.now)

    def claimed(self) -> OrderIntent:
        """A claimed intent (a limit buy of 10 @ 0.52)."""
        return add_and_claim(self.engine, make_intent(self.clock)).intent

    def order(self, intent: OrderIntent, *, hashed: bool = True) -> StoredOrder:
        """The intent's order row (PENDING), with its hash stored when ``hashed``."""
        req = to_order_request(intent, uuid.uuid4().hex, tick_size=TICK)
        order = self.orders.create(
            req,
            intent_id=intent.id,
            strategy=intent.strategy,
            market_slug=intent.market_slug,
            outcome=intent.outcome,
        )
        if not hashed:
            return order
        prepared = asyncio.run(self.venue.prepare(req))
        return self.orders.set_prepared(order.id, prepared.venue_order_id)

    def restart(self) -> OrderPath:
        """Reconcile as a fresh executor would; the path it would trade with."""
        path = OrderPath(self.config, self.venue, self.engine, self.clock)
        asyncio.run(Reconciler(path, self.venue, self.engine, self.clock).run())
        return path

    def intent_status(self, intent: OrderIntent) -> tuple[IntentStatus, str | None]:
        stored = IntentRepo(self.engine).get(intent.id)
        assert stored is not None and stored.terminal, stored
        assert (stored.reason_text or "").strip()
        return stored.status, stored.reason_code


@pytest.fixture
def crashed(template: Path, tmp_path: Path) -> Iterator[Crashed]:
    engine = engine_copy(template, tmp_path)
    yield Crashed(unit_config(tmp_path), engine)
    engine.dispose()


def test_claimed_intent_without_an_order_is_run_again(crashed: Crashed) -> None:
    intent = crashed.claimed()
    crashed.restart()
    assert crashed.intent_status(intent)[0] is IntentStatus.FILLED
    (order,) = crashed.orders.for_intent(intent.id)
    assert crashed.venue.posts == [order.venue_order_id]
    assert_books_consistent(crashed.config, crashed.engine, crashed.venue)


def test_order_without_hash_is_closed_as_not_sent_and_the_intent_rerun(crashed: Crashed) -> None:
    intent = crashed.claimed()
    unsent = crashed.order(intent, hashed=False)
    crashed.restart()
    closed = crashed.orders.get(unsent.id)
    assert closed is not None and (closed.status, closed.reason_code) == (
        OrderStatus.REJECTED, NOT_SENT
    )  # fmt: skip
    assert crashed.intent_status(intent)[0] is IntentStatus.FILLED
    (sent,) = [o for o in crashed.orders.for_intent(intent.id) if o.reason_code != NOT_SENT]
    assert crashed.venue.posts == [sent.venue_order_id]


def test_hash_stored_but_never_posted_is_closed_not_resent(crashed: Crashed) -> None:
    intent = crashed.claimed()
    order = crashed.order(intent)
    crashed.restart()
    closed = crashed.orders.get(order.id)
    assert closed is not None and closed.status is OrderStatus.REJECTED
    assert closed.reason_code == VANISHED
    status, code = crashed.intent_status(intent)
    assert (status, code) == (IntentStatus.REJECTED, VANISHED)
    assert crashed.venue.posts == []  # a fate it cannot know is never re-sent


@pytest.mark.parametrize("step", ["fill", "partial", "rest"])
def test_answer_never_stored_is_found_by_hash(crashed: Crashed, step: str) -> None:
    intent = crashed.claimed()
    order = crashed.order(intent)
    assert order.venue_order_id is not None
    req = to_order_request(intent, order.id, tick_size=TICK)
    crashed.venue.place(req, order.venue_order_id, step)  # accepted; then the process died
    crashed.restart()
    synced = crashed.orders.get(order.id)
    assert (
        synced is not None
        and synced.status
        is {
            "fill": OrderStatus.FILLED,
            "partial": OrderStatus.PARTIALLY_FILLED,
            "rest": OrderStatus.LIVE,
        }[step]
    )
    expected = {
        "fill": IntentStatus.FILLED,
        "partial": IntentStatus.PARTIALLY_FILLED,
        "rest": IntentStatus.RESTING,
    }[step]
    assert crashed.intent_status(intent)[0] is expected
    assert crashed.venue.posts == []
    assert_books_consistent(crashed.config, crashed.engine, crashed.venue)


def test_fills_stored_before_the_crash_are_not_doubled(crashed: Crashed) -> None:
    intent = crashed.claimed()
    order = crashed.order(intent)
    assert order.venue_order_id is not None
    result = crashed.venue.place(to_order_request(intent, order.id, tick_size=TICK),
                                 order.venue_order_id)  # fmt: skip
    record_fills(crashed.engine, order, list(result.fills))  # the fill_stored step
    crashed.restart()
    assert crashed.intent_status(intent)[0] is IntentStatus.FILLED
    assert len(FillRepo(crashed.engine).all()) == 1
    assert_books_consistent(crashed.config, crashed.engine, crashed.venue)


def test_unknown_open_order_of_ours_is_adopted_by_hash(crashed: Crashed) -> None:
    seen = crashed.venue.adopt_foreign("0xforeign01", size=Decimal(8))
    crashed.restart()
    adopted = crashed.orders.by_venue_id(seen.venue_order_id)
    assert adopted is not None and adopted.strategy == UNATTRIBUTED
    assert (adopted.status, adopted.size, adopted.price) == (
        OrderStatus.LIVE,
        Decimal(8),
        seen.price,
    )
    # Adopted once: a second start-up finds it known.
    crashed.restart()
    assert [o.venue_order_id for o in crashed.orders.list()] == [seen.venue_order_id]


def test_resting_order_that_vanished_is_closed_with_a_reason(crashed: Crashed) -> None:
    intent = crashed.claimed()
    order = crashed.order(intent)
    live = crashed.orders.update_status(order.id, OrderStatus.LIVE, size_matched=Decimal(0))
    IntentRepo(crashed.engine).finish(intent.id, IntentStatus.RESTING, "LIVE", "resting")
    crashed.restart()
    closed = crashed.orders.get(live.id)
    assert closed is not None and (closed.status, closed.reason_code) == (
        OrderStatus.CANCELED, VANISHED
    )  # fmt: skip
    assert "reconciliation" in (closed.reason_text or "")


def test_no_trading_until_the_venue_answers(crashed: Crashed) -> None:
    intent = crashed.claimed()
    crashed.order(intent)
    crashed.venue.read_failures = 1
    with pytest.raises(VenueUnavailable):
        crashed.restart()
    stored = IntentRepo(crashed.engine).get(intent.id)
    assert stored is not None and stored.status is IntentStatus.CLAIMED
    crashed.restart()  # the venue answers now
    assert crashed.intent_status(intent)[1] == VANISHED
    assert crashed.venue.posts == []


def test_many_crashed_intents_end_once_each(crashed: Crashed) -> None:
    intents = [crashed.claimed() for _ in range(3)]
    for i, intent in enumerate(intents[1:]):
        order = crashed.order(intent)
        assert order.venue_order_id is not None
        req = to_order_request(intent, order.id, tick_size=TICK)
        crashed.venue.place(req, order.venue_order_id, ("fill", "rest")[i])
    crashed.restart()
    crashed.restart()  # a second start-up changes nothing
    assert [crashed.intent_status(i)[0] for i in intents] == [
        IntentStatus.FILLED, IntentStatus.FILLED, IntentStatus.RESTING,
    ]  # fmt: skip
    assert len(crashed.venue.posts) == 1  # only the order-less intent was sent
    assert_books_consistent(crashed.config, crashed.engine, crashed.venue)
