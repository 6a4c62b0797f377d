"""A "matched" answer without its trades: the intent ends at once, the trades come later, once.

A live venue answers a marketable order with "matched" and the amounts before /data/trades
lists the trades. The order path records what the answer says and moves on; the shares count
as reservations in every risk check until ``PendingFills.collect`` records the trades (by
trade id: never twice), and the set is rebuilt from the database after a restart.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from autotrader.clock import FakeClock
from autotrader.config import AppConfig
from autotrader.domain.intents import IntentStatus
from autotrader.domain.orders import OrderStatus, Side
from autotrader.domain.risk import RiskReason
from autotrader.executor import pending
from autotrader.executor.books import strategy_config
from autotrader.executor.order_path import OrderPath
from autotrader.executor.outcome import Finish
from autotrader.store.repos_intents import IntentRepo
from autotrader.store.repos_trading import FillRepo, OrderRepo, StoredOrder
from harness.executor_unit import (
    add_and_claim,
    assert_books_consistent,
    engine_copy,
    make_intent,
    template_db,
    unit_config,
)
from harness.scripted_venue import ScriptedVenue


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return template_db(tmp_path_factory.mktemp("template"))


class Rig:
    """A config, database, fake clock, scripted venue and order path."""

    def __init__(self, config: AppConfig, engine: sa.Engine) -> None:
        self.config, self.engine, self.clock = config, engine, FakeClock()
        self.venue = ScriptedVenue(self.clock)
        self.path = OrderPath(config, self.venue, engine, self.clock)

    def run(self, script: list[str], **intent_args: object) -> tuple[Finish, StoredOrder | None]:
        self.venue.extend(script)
        intent = make_intent(self.clock, **intent_args)  # type: ignore[arg-type]
        finish = asyncio.run(self.path.run(add_and_claim(self.engine, intent)))
        assert (stored := IntentRepo(self.engine).get(intent.id)) and stored.terminal
        orders = OrderRepo(self.engine).for_intent(intent.id)
        return finish, (orders[0] if orders else None)

    def collect(self) -> int:
        return asyncio.run(self.path.books.pending.collect(force=True))

    def fills(self, order: StoredOrder) -> list[str]:
        return [r.fill.trade_id for r in FillRepo(self.engine).for_order(order.id)]


@pytest.fixture
def rig(template: Path, tmp_path: Path) -> Iterator[Rig]:
    engine = engine_copy(template, tmp_path)
    yield Rig(unit_config(tmp_path), engine)
    engine.dispose()


def test_matched_answer_ends_the_intent_and_its_trade_is_recorded_once_later(rig: Rig) -> None:
    finish, order = rig.run(["matched"])
    assert order is not None and finish.status is IntentStatus.FILLED, finish
    assert "per the venue's answer" in finish.text
    assert (order.status, order.size_matched) == (OrderStatus.FILLED, Decimal(10))
    assert rig.fills(order) == []  # not listed yet: nothing invented
    line = json.loads((rig.config.state_dir / "trades.jsonl").read_text().splitlines()[-1])
    assert line["trades_pending"] is True and Decimal(line["filled_shares"]) == 10
    # Until recorded, the 10 shares are spent capital in the risk check: a reservation.
    (held,) = rig.path.books.pending.reservations()
    assert (held.side, held.remaining, held.price) == (Side.BUY, Decimal(10), Decimal("0.52"))
    cfg = strategy_config(rig.config, "s1")
    assert cfg is not None
    snap = rig.path.books.snapshots.load(rig.path.books.pending.reservations())
    ledger = rig.path.books.snapshots.ledger(rig.config, cfg, snap)
    assert ledger.deployed_usd == Decimal("5.2") and ledger.balanced()

    assert rig.collect() == 0 and len(rig.path.books.pending) == 1  # still not listed
    rig.venue.list_held()
    assert rig.collect() == 1 and len(rig.path.books.pending) == 0
    assert rig.fills(order) == [f"trade-{order.venue_order_id}"]
    assert rig.collect() == 0  # nothing left to ask about; nothing recorded twice
    assert_books_consistent(rig.config, rig.engine, rig.venue)


def test_awaited_trades_survive_a_restart(rig: Rig) -> None:
    _, order = rig.run(["matched"])
    assert order is not None
    restarted = OrderPath(rig.config, rig.venue, rig.engine, rig.clock)
    restarted.books.pending.load()  # what the service does after reconciliation
    assert len(restarted.books.pending) == 1
    rig.venue.list_held()
    assert asyncio.run(restarted.books.pending.collect(force=True)) == 1
    assert asyncio.run(rig.path.books.pending.collect(force=True)) == 0  # the old one: known
    assert rig.fills(order) == [f"trade-{order.venue_order_id}"]
    assert_books_consistent(rig.config, rig.engine, rig.venue)


def test_a_matched_sale_is_not_sold_twice_before_its_trade_is_listed(rig: Rig) -> None:
    finish, _ = rig.run(["fill"])
    assert finish.status is IntentStatus.FILLED
    sell = {"side": Side.SELL, "shares": "10", "limit": "0.40"}
    finish, order = rig.run(["matched"], **sell)
    assert finish.status is IntentStatus.FILLED and order is not None
    # The position still shows 10 shares (no sale recorded yet), but they are spoken for.
    again, second = rig.run(["fill"], **sell)
    assert (again.status, again.code) == (
        IntentStatus.REJECTED,
        RiskReason.INSUFFICIENT_CAPITAL.value,
    ), again
    assert second is None  # nothing was sent
    rig.venue.list_held()
    assert rig.collect() == 1
    assert_books_consistent(rig.config, rig.engine, rig.venue)


def test_trades_never_listed_stop_being_asked_about_but_stay_reserved(rig: Rig) -> None:
    _, order = rig.run(["matched"])
    assert order is not None
    for _ in range(pending.MAX_LOOKS):
        assert rig.collect() == 0
    rig.venue.read_failures = 1  # a read now would raise: none must happen
    assert rig.collect() == 0 and rig.venue.read_failures == 1
    assert [r.remaining for r in rig.path.books.pending.reservations()] == [Decimal(10)]
    rig.venue.read_failures = 0
    rig.venue.list_held()
    restarted = OrderPath(rig.config, rig.venue, rig.engine, rig.clock)
    restarted.books.pending.load()  # the next start asks again
    assert asyncio.run(restarted.books.pending.collect(force=True)) == 1
    assert_books_consistent(rig.config, rig.engine, rig.venue)
