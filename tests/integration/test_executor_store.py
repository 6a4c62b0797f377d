"""Migration 0006's repositories on SQLite and PostgreSQL: paper state, settlements once with
their events, exits in flight, partial exits done, overrides, trade counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
import sqlalchemy as sa

from autotrader.cli import main
from autotrader.domain.fills import Fill, Settlement
from autotrader.domain.intents import IntentKind, IntentStatus, OrderIntent
from autotrader.domain.orders import OrderRequest, OrderStatus, OrderType, Side
from autotrader.store import migrate
from autotrader.store.db import create_db_engine
from autotrader.store.repos_executor import (
    ExitRepo,
    OverrideRepo,
    PositionOverride,
    SettlementRecord,
    SettlementStore,
    redemptions,
    trade_counts,
)
from autotrader.store.repos_intents import IntentRepo
from autotrader.store.repos_paper import PaperStateRepo
from autotrader.store.repos_runtime import EventRepo
from autotrader.store.repos_trading import FillRepo, OrderRepo, SettlementRepo
from autotrader.venue.paper_book import PaperOrder, holdings

T = datetime(2026, 2, 21, 14, 30, tzinfo=UTC)


def _engine(url: str) -> sa.Engine:
    migrate.upgrade(url)
    return create_db_engine(url)


def _fill(trade: str, side: Side, price: str, size: str, ts: datetime = T) -> Fill:
    return Fill(trade, "v1", "tok", side, D(price), D(size), D("0.01"), ts, "taker")


def test_paper_state_round_trips_and_upserts(database_url: str) -> None:
    engine = _engine(database_url)
    repo = PaperStateRepo(engine)
    req = OrderRequest("c1", "tok", Side.BUY, OrderType.GTC, D("0.40"), D(10))
    po = PaperOrder(req, "v1", D("0.40"), D(10), OrderStatus.LIVE, T)
    repo.save([po], [], [])
    po.status, po.matched, po.n_fills = OrderStatus.PARTIALLY_FILLED, D(4), 1
    fill = _fill("v1-1", Side.BUY, "0.40", "4")
    stl = Settlement("m1", "tok2", "Down", D(3), D(1), T)
    repo.save([po], [fill], [stl])
    repo.save([], [fill], [stl])  # known ones are skipped
    state = repo.load()
    assert state.orders == (po,) and state.fills == (fill,) and state.settlements == (stl,)
    cash, shares = holdings(state)
    assert shares == {"tok": D(4)} and cash == -(D("1.60") + D("0.01")) + D(3)
    engine.dispose()


def _record(strategy: str = "s", redeemable: bool = True) -> SettlementRecord:
    stl = Settlement("m1", "tok", "Up", D(10), D(1), T)
    events = (("market_settled", {"summary": "won", "pnl_usd": D("4.5")}),)
    return SettlementRecord(strategy, "btc-updown-15m-1", "Up", stl, events, redeemable)


def test_a_settlement_and_its_events_are_written_once(database_url: str) -> None:
    engine = _engine(database_url)
    store = SettlementStore(engine, now=lambda: T)
    assert store.settle(_record())
    assert not store.settle(_record())
    assert store.settle(_record(strategy="other", redeemable=False))
    stored = SettlementRepo(engine).all()
    assert sorted((r.strategy, r.settlement.payout_usd) for r in stored) == [
        ("other", D(10)),
        ("s", D(10)),
    ]
    found = EventRepo(engine).list(type="market_settled")
    assert sorted(e.strategy or "" for e in found) == ["other", "s"]
    assert found[0].payload["pnl_usd"] == "4.5"
    (r,) = redemptions(engine)
    assert (r.strategy, r.payout_usd, r.status) == ("s", D(10), "redeemable")
    engine.dispose()


def _sell(intent_id: str) -> OrderIntent:
    return OrderIntent(
        id=intent_id, strategy="s", market_slug="m", token_id="tok", outcome="Up",
        side=Side.SELL, kind=IntentKind.MARKET, amount_usd=None, shares=D(5), limit_price=None,
        valid_until=T + timedelta(minutes=1), entry_key=None, reason="take_profit", created_at=T,
    )  # fmt: skip


def test_exit_in_flight_and_partial_exits_done(database_url: str) -> None:
    engine = _engine(database_url)
    exits, intents = ExitRepo(engine, now=lambda: T), IntentRepo(engine, now=lambda: T)
    assert not exits.in_flight("s", "tok")
    exits.record("x1", strategy="s", token_id="tok", kind="take_profit", partial=True,
                 position_opened_at=T)  # fmt: skip
    intents.add(_sell("x1"))
    assert exits.in_flight("s", "tok") and not exits.in_flight("s", "other")
    assert exits.partial_done("s", "tok", T) == frozenset()  # not filled yet
    intents.finish("x1", IntentStatus.FILLED, "FILLED", "sold 5")
    assert not exits.in_flight("s", "tok")
    assert exits.partial_done("s", "tok", T) == {"take_profit"}
    assert exits.partial_done("s", "tok", T + timedelta(hours=1)) == frozenset()  # new holding
    assert exits.kind_of("x1") == "take_profit" and exits.kind_of("nope") is None
    engine.dispose()


def test_overrides_set_keeps_unset_fields_and_clear_removes(database_url: str) -> None:
    engine = _engine(database_url)
    repo = OverrideRepo(engine, now=lambda: T)
    repo.set(PositionOverride("s", "m", "Up", stop_loss_pct=D(10)))
    got = repo.set(PositionOverride("s", "m", "Up", take_profit_fraction=D("0.5")))
    assert (got.stop_loss_pct, got.take_profit_fraction, got.take_profit_pct) == (
        D(10), D("0.5"), None,
    )  # fmt: skip
    assert list(repo.all()) == [("s", "m", "Up")]
    assert repo.clear("s", "m", "Up") and not repo.clear("s", "m", "Up")
    assert repo.get("s", "m", "Up") is None
    engine.dispose()


def test_trade_counts_per_strategy_today_and_total(database_url: str) -> None:
    engine = _engine(database_url)
    fills = FillRepo(engine)
    fills.add(_fill("t1", Side.BUY, "0.5", "2", T - timedelta(days=1)), order_id=None, strategy="a")
    fills.add(_fill("t2", Side.BUY, "0.5", "2"), order_id=None, strategy="a")
    fills.add(_fill("t3", Side.BUY, "0.5", "2"), order_id=None, strategy="b")
    assert trade_counts(engine, T) == {"a": (1, 2), "b": (1, 1)}
    engine.dispose()


def test_position_set_cli_stores_overrides_and_refuses_bad_input(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = _engine(database_url)
    request = OrderRequest("o1", "tok", Side.BUY, OrderType.FAK, D("0.5"), D(10))
    OrderRepo(engine).create(request, intent_id=None, strategy="s", market_slug="m", outcome="Up")
    config = tmp_path / "autotrader.yaml"
    config.write_text(
        f"state_dir: {tmp_path / 'state'}\ndatabase_url: '{database_url}'\nstrategies:\n"
        "  - {name: s, kind: btc_updown_15m, schedule: {every: 15m}, allocation_usd: 100,\n"
        "     limits: {daily_loss_usd: 10, max_position_pct: 50}}\n"
    )
    base = ["position", "set", "--strategy", "s", "--market", "m", "--config", str(config)]
    assert main([*base, "--outcome", "up", "--take-profit-pct", "25", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["take_profit_pct"] == "25.00000000"
    assert main([*base, "--outcome", "Up", "--stop-loss-fraction", "2"]) == 1
    assert "--stop-loss-fraction must be at most 1" in capsys.readouterr().err
    assert main([*base, "--outcome", "Down", "--stop-loss-pct", "5"]) == 1
    assert "has no position in m / Down" in capsys.readouterr().err
    override = OverrideRepo(engine).get("s", "m", "Up")
    assert override is not None and override.take_profit_pct == D(25)
    assert override.stop_loss_fraction is None  # the refused value changed nothing
    engine.dispose()
