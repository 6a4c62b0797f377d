"""The executor's small pure parts: how an order ends an intent, the journal, the fault hook."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from autotrader.domain.fills import Fill
from autotrader.domain.intents import IntentStatus
from autotrader.domain.orders import OrderStatus, OrderType, Side
from autotrader.executor.faults import kill_point
from autotrader.executor.journal import TradesJournal
from autotrader.executor.outcome import NOT_FOUND, NOT_FOUND_TEXT, intent_finish
from autotrader.store.repos_trading import StoredOrder

NOW = datetime(2026, 2, 21, 14, 30, tzinfo=UTC)


def order(status: OrderStatus, matched: str = "0", **kw: object) -> StoredOrder:
    values: dict[str, object] = {
        "id": "o1", "intent_id": "i1", "strategy": "s", "market_slug": "m", "outcome": "Up",
        "token_id": "t", "side": Side.BUY, "order_type": OrderType.GTC, "price": Decimal("0.4"),
        "size": Decimal(10), "amount_usd": None, "venue_order_id": "0xabc", "status": status,
        "reason_code": None, "reason_text": None, "size_matched": Decimal(matched),
        "created_at": NOW, "updated_at": NOW,
    }  # fmt: skip
    values.update(kw)
    return StoredOrder(**values)  # type: ignore[arg-type]


def fill(size: str) -> Fill:
    return Fill("tr1", "0xabc", "t", Side.BUY, Decimal("0.4"), Decimal(size), Decimal(0), NOW,
                "taker")  # fmt: skip


def test_filled_partially_filled_resting() -> None:
    assert (
        intent_finish(order(OrderStatus.FILLED, "10"), [fill("10")]).status is IntentStatus.FILLED
    )
    part = intent_finish(order(OrderStatus.PARTIALLY_FILLED, "4"), [fill("4")])
    assert part.status is IntentStatus.PARTIALLY_FILLED and "4 shares" in part.text
    killed = intent_finish(order(OrderStatus.CANCELED, "4"), [fill("4")])
    assert killed.status is IntentStatus.PARTIALLY_FILLED
    resting = intent_finish(order(OrderStatus.LIVE), [])
    assert (resting.status, resting.code) == (IntentStatus.RESTING, "LIVE")


def test_refusal_keeps_the_venue_reason_and_unknown_fate_fails() -> None:
    refused = order(OrderStatus.REJECTED, reason_code="NOT_ENOUGH_BALANCE", reason_text="no money")
    finish = intent_finish(refused, [])
    assert (finish.status, finish.code, finish.text) == (
        IntentStatus.REJECTED, "NOT_ENOUGH_BALANCE", "no money",
    )  # fmt: skip
    lost = intent_finish(order(OrderStatus.SUBMITTED), [])
    assert (lost.status, lost.code, lost.text) == (IntentStatus.FAILED, NOT_FOUND, NOT_FOUND_TEXT)


def test_journal_appends_one_exact_line_per_result(tmp_path: Path) -> None:
    journal = TradesJournal(tmp_path)
    journal.append({"price": Decimal("0.51"), "ts": NOW})
    journal.append({"price": Decimal("0.1"), "ts": NOW})
    lines = (tmp_path / "trades.jsonl").read_text().splitlines()
    assert [json.loads(x)["price"] for x in lines] == ["0.51", "0.1"]
    assert json.loads(lines[0])["ts"] == NOW.isoformat()


def test_fault_hook_refuses_unknown_steps_and_is_inert_when_unset() -> None:
    kill_point("claimed")  # AUTOTRADER_FAULT_KILL_AT is unset in tests: nothing happens
    with pytest.raises(ValueError, match="unknown fault step"):
        kill_point("nowhere")
