"""Intents, orders and fills against real SQLite and PostgreSQL databases (migration 0002)."""

from __future__ import annotations

import json
import textwrap
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from autotrader.domain.fills import Fill
from autotrader.domain.intents import IntentKind, IntentStatus, OrderIntent
from autotrader.domain.orders import OrderRequest, OrderStatus, OrderType, Side
from autotrader.store import migrate
from autotrader.store.repos_intents import DuplicateEntry, IntentAdded, IntentRepo
from autotrader.store.repos_trading import FillRepo, OrderRepo
from harness.store import Ticker, migrated_engine, run_gated

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
HASH = "0x" + "ab" * 32


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    yield from migrated_engine(database_url)


def _intent(
    n: int = 0,
    *,
    strategy: str = "btc-15m",
    entry_key: str | None = None,
    amount: Decimal | None = Decimal("10.5"),
    valid_secs: int = 30,
) -> OrderIntent:
    created = T0 + timedelta(milliseconds=n)
    return OrderIntent(
        id=uuid.uuid4().hex,
        strategy=strategy,
        market_slug="btc-updown-15m-1795780800",
        token_id="7" * 77,
        outcome="Up",
        side=Side.BUY,
        kind=IntentKind.MARKET,
        amount_usd=amount,
        shares=None if amount is not None else Decimal("5"),
        limit_price=Decimal("0.57"),
        valid_until=created + timedelta(seconds=valid_secs),
        entry_key=entry_key,
        reason="signal UP 74%",
        created_at=created,
    )


def test_upgrade_creates_executor_tables(engine: sa.Engine, database_url: str) -> None:
    assert migrate.current_revision(database_url) == migrate.head_revision()
    tables = set(sa.inspect(engine).get_table_names())
    assert {
        "order_intents",
        "orders",
        "fills",
        "settlements",
        "strategy_runtime",
        "notification_events",
        "executor_state",
    } <= tables


# --- intents ---------------------------------------------------------------------------------


def test_intent_round_trips_exactly(engine: sa.Engine) -> None:
    repo = IntentRepo(engine)
    intent = _intent(amount=Decimal("1234567.12345678"), entry_key="btc-updown-15m-1795780800")
    assert repo.add(intent) == IntentAdded(intent.id)
    stored = repo.get(intent.id)
    assert stored is not None
    assert stored.intent == intent
    assert stored.intent.amount_usd == Decimal("1234567.12345678")
    assert (stored.status, stored.claimed_by, stored.reason_code) == (
        IntentStatus.PENDING,
        None,
        None,
    )
    assert repo.get("nope") is None


def test_second_entry_for_the_same_window_is_refused(engine: sa.Engine) -> None:
    repo = IntentRepo(engine)
    first = _intent(1, entry_key="w1")
    second = _intent(2, entry_key="w1")
    assert isinstance(repo.add(first), IntentAdded)
    result = repo.add(second)
    assert result == DuplicateEntry(second.id, "btc-15m", "w1", first.id)
    assert "already has an entry for w1" in result.message
    assert repo.get(second.id) is None
    # Another strategy may enter the same window; another window is another entry.
    assert isinstance(repo.add(_intent(3, strategy="other", entry_key="w1")), IntentAdded)
    assert isinstance(repo.add(_intent(4, entry_key="w2")), IntentAdded)
    # The refusal did not poison anything: the repository keeps working.
    assert len(repo.list()) == 3


def test_null_entry_keys_never_collide(engine: sa.Engine) -> None:
    repo = IntentRepo(engine)
    intents = [_intent(i, entry_key=None) for i in range(3)]
    assert all(isinstance(repo.add(i), IntentAdded) for i in intents)
    assert len(repo.list(strategy="btc-15m")) == 3


def test_same_intent_id_twice_is_an_error(engine: sa.Engine) -> None:
    repo = IntentRepo(engine)
    intent = _intent(entry_key="w1")
    repo.add(intent)
    with pytest.raises(ValueError, match=f"intent {intent.id} already exists"):
        repo.add(intent)


def test_claim_finish_cycle(engine: sa.Engine) -> None:
    clock = Ticker(T0 + timedelta(seconds=1))
    repo = IntentRepo(engine, now=clock)
    older, newer = _intent(1), _intent(2)
    repo.add(newer)
    repo.add(older)
    claimed = repo.claim_next("host-a:1")
    assert claimed is not None and claimed.id == older.id  # oldest first
    assert (claimed.status, claimed.claimed_by, claimed.claimed_at) == (
        IntentStatus.CLAIMED,
        "host-a:1",
        clock.now,
    )
    assert [s.id for s in repo.claimed()] == [older.id]
    assert repo.claimed("host-b:2") == []
    done = repo.finish(older.id, IntentStatus.FILLED, "FILLED", "filled 18.42\nshares")
    assert (done.status, done.reason_code, done.reason_text) == (
        IntentStatus.FILLED,
        "FILLED",
        "filled 18.42 shares",
    )
    # Repeating the same finish is a no-op; contradicting it is refused.
    assert repo.finish(older.id, IntentStatus.FILLED, "FILLED", "again").reason_text == (
        "filled 18.42 shares"
    )
    with pytest.raises(ValueError, match="already FILLED"):
        repo.finish(older.id, IntentStatus.FAILED, "X", "y")
    assert repo.claimed() == []
    assert repo.claim_next("host-a:1").id == newer.id  # type: ignore[union-attr]
    assert repo.claim_next("host-a:1") is None


def test_finish_needs_terminal_status_and_reason(engine: sa.Engine) -> None:
    repo = IntentRepo(engine)
    intent = _intent()
    repo.add(intent)
    with pytest.raises(ValueError, match="not a terminal status"):
        repo.finish(intent.id, IntentStatus.CLAIMED, "X", "y")
    with pytest.raises(ValueError, match="needs a reason"):
        repo.finish(intent.id, IntentStatus.REJECTED, "MAX_TRADE_SIZE", " ")
    with pytest.raises(ValueError, match="no intent nope"):
        repo.finish("nope", IntentStatus.REJECTED, "X", "y")
    assert repo.get(intent.id).status is IntentStatus.PENDING  # type: ignore[union-attr]


def test_expire_stale_only_touches_pending_past_validity(engine: sa.Engine) -> None:
    repo = IntentRepo(engine)
    stale, fresh, claimed = (
        _intent(1, valid_secs=5),
        _intent(2, valid_secs=60),
        _intent(0, valid_secs=5),
    )
    for intent in (stale, fresh, claimed):
        repo.add(intent)
    assert repo.claim_next("me").id == claimed.id  # type: ignore[union-attr]
    assert repo.expire_stale(T0 + timedelta(seconds=4)) == []
    assert repo.expire_stale(T0 + timedelta(seconds=10)) == [stale.id]
    got = repo.get(stale.id)
    assert got is not None and got.status is IntentStatus.EXPIRED
    assert got.reason_code == "INTENT_EXPIRED" and got.finished_at is not None
    assert repo.get(fresh.id).status is IntentStatus.PENDING  # type: ignore[union-attr]
    assert repo.get(claimed.id).status is IntentStatus.CLAIMED  # type: ignore[union-attr]
    assert [s.id for s in repo.list(status=IntentStatus.EXPIRED)] == [stale.id]


def test_list_filters_and_limits(engine: sa.Engine) -> None:
    repo = IntentRepo(engine)
    ids = [_intent(i, strategy="a" if i % 2 else "b") for i in range(5)]
    for intent in ids:
        repo.add(intent)
    assert [s.id for s in repo.list(limit=2)] == [ids[4].id, ids[3].id]  # newest first
    assert {s.intent.strategy for s in repo.list(strategy="a")} == {"a"}
    assert len(repo.list(strategy="b")) == 3
    with pytest.raises(ValueError, match="limit must be >= 1"):
        repo.list(limit=0)


_CLAIMER = textwrap.dedent(
    """
    import json, sys
    from autotrader.store.db import create_db_engine
    from autotrader.store.repos_intents import IntentRepo
    engine = create_db_engine(sys.argv[1])
    repo = IntentRepo(engine)
    print("ready", flush=True)
    sys.stdin.readline()  # the start gate
    got = []
    while (claimed := repo.claim_next(sys.argv[2])) is not None:
        got.append(claimed.id)
    print(json.dumps(got), flush=True)
    """
)


def test_concurrent_claimers_never_share_an_intent(engine: sa.Engine, database_url: str) -> None:
    repo = IntentRepo(engine)
    ids = set()
    for n in range(200):
        intent = _intent(n)
        repo.add(intent)
        ids.add(intent.id)
    names = [f"claimer-{i}" for i in range(4)]
    results = run_gated(_CLAIMER, [[database_url, name] for name in names])
    claims: dict[str, list[str]] = {}
    for name, (code, out, err) in zip(names, results, strict=True):
        assert code == 0, err
        claims[name] = json.loads(out)
    every = [i for got in claims.values() for i in got]
    assert len(every) == len(set(every)) == 200  # each claimed once, none twice
    assert set(every) == ids
    # The database agrees with what each process was told.
    for name, got in claims.items():
        assert {s.id for s in repo.claimed(name)} == set(got)


# --- orders ----------------------------------------------------------------------------------


def _request(order_id: str | None = None, **kw: object) -> OrderRequest:
    fields: dict[str, object] = {
        "client_order_id": order_id or uuid.uuid4().hex,
        "token_id": "7" * 77,
        "side": Side.BUY,
        "order_type": OrderType.GTC,
        "price": Decimal("0.57"),
        "size": Decimal("17.54"),
    }
    fields.update(kw)
    return OrderRequest(**fields)  # type: ignore[arg-type]


@pytest.fixture
def intent_id(engine: sa.Engine) -> str:
    intent = _intent(entry_key="w1")
    IntentRepo(engine).add(intent)
    return intent.id


def test_order_path_and_transitions(engine: sa.Engine, intent_id: str) -> None:
    clock = Ticker(T0)
    repo = OrderRepo(engine, now=clock)
    order = repo.create(
        _request("c1"), intent_id=intent_id, strategy="btc-15m", market_slug="m", outcome="Up"
    )
    assert (order.status, order.venue_order_id, order.size_matched) == (
        OrderStatus.PENDING,
        None,
        Decimal(0),
    )
    assert repo.set_prepared("c1", HASH).venue_order_id == HASH
    assert repo.set_prepared("c1", HASH).venue_order_id == HASH  # idempotent
    with pytest.raises(ValueError, match="already has venue id"):
        repo.set_prepared("c1", "0x" + "cd" * 32)
    clock.now = T0 + timedelta(seconds=1)
    repo.update_status("c1", OrderStatus.SUBMITTED)
    repo.update_status("c1", OrderStatus.LIVE)
    part = repo.update_status("c1", OrderStatus.PARTIALLY_FILLED, size_matched=Decimal("5.5"))
    assert (part.size_matched, part.updated_at, part.created_at) == (Decimal("5.5"), clock.now, T0)
    with pytest.raises(ValueError, match="stale report"):
        repo.update_status("c1", OrderStatus.PARTIALLY_FILLED, size_matched=Decimal("5"))
    done = repo.update_status(
        "c1", OrderStatus.FILLED, size_matched=Decimal("17.54"), reason_code="OK", reason_text="x"
    )
    assert done.terminal and done.reason_code == "OK"
    with pytest.raises(ValueError, match="illegal order status transition FILLED -> LIVE"):
        repo.update_status("c1", OrderStatus.LIVE)
    assert repo.get("c1") == done  # nothing changed
    assert repo.by_venue_id(HASH) == done
    # An order that never got a hash and was refused cannot get one afterwards.
    repo.create(_request("c2"), intent_id=None, strategy="s")
    repo.update_status("c2", OrderStatus.REJECTED, reason_code="INVALID_ORDER")
    with pytest.raises(ValueError, match="order c2 is REJECTED, not PENDING"):
        repo.set_prepared("c2", "0x" + "ef" * 32)


def test_pending_to_live_is_refused_from_terminal_states(engine: sa.Engine) -> None:
    repo = OrderRepo(engine)
    repo.create(_request("r"), intent_id=None, strategy="s")
    repo.update_status("r", OrderStatus.REJECTED, reason_code="NOT_ENOUGH_BALANCE")
    for status in (OrderStatus.LIVE, OrderStatus.FILLED, OrderStatus.PENDING):
        with pytest.raises(ValueError, match="illegal"):
            repo.update_status("r", status)
    with pytest.raises(ValueError, match="no order ghost"):
        repo.update_status("ghost", OrderStatus.LIVE)


def test_venue_order_id_is_unique(engine: sa.Engine) -> None:
    repo = OrderRepo(engine)
    repo.create(_request("a"), intent_id=None, strategy="s", venue_order_id=HASH)
    repo.create(_request("b"), intent_id=None, strategy="s")
    with pytest.raises(ValueError, match=f"venue order {HASH} already belongs to a"):
        repo.set_prepared("b", HASH)
    with pytest.raises(ValueError, match=f"venue order {HASH} already belongs to order a"):
        repo.create(_request("c"), intent_id=None, strategy="s", venue_order_id=HASH)
    with pytest.raises(ValueError, match="order a already exists"):
        repo.create(_request("a"), intent_id=None, strategy="s")
    with pytest.raises(ValueError, match="unknown intent"):
        repo.create(_request("d"), intent_id="no-such-intent", strategy="s")
    assert repo.get("b").venue_order_id is None  # type: ignore[union-attr]
    assert {o.id for o in repo.list()} == {"a", "b"}


def test_order_queries(engine: sa.Engine, intent_id: str) -> None:
    clock = Ticker(T0)
    repo = OrderRepo(engine, now=clock)
    statuses = [OrderStatus.PENDING, OrderStatus.LIVE, OrderStatus.DELAYED, OrderStatus.FILLED]
    for n, status in enumerate(statuses):
        clock.now = T0 + timedelta(seconds=n)
        repo.create(_request(f"o{n}"), intent_id=intent_id, strategy="a" if n else "b")
        if status is not OrderStatus.PENDING:
            repo.update_status(f"o{n}", status)
    clock.now = T0 + timedelta(seconds=9)
    market = repo.create(
        _request("m", order_type=OrderType.FOK, size=None, amount_usd=Decimal("10")),
        intent_id=None,
        strategy="a",
    )
    assert (market.amount_usd, market.size, market.order_type) == (
        Decimal("10"),
        None,
        OrderType.FOK,
    )
    assert [o.id for o in repo.open_orders()] == ["o1", "o2"]
    assert [o.id for o in repo.non_terminal()] == ["o0", "o1", "o2", "m"]
    assert [o.id for o in repo.for_intent(intent_id)] == ["o0", "o1", "o2", "o3"]
    assert [o.id for o in repo.list("a", limit=2)] == ["m", "o3"]
    assert [o.id for o in repo.list("b")] == ["o0"]


# --- fills -----------------------------------------------------------------------------------


def _fill(trade_id: str, *, size: str = "5.5", ts: datetime = T0) -> Fill:
    return Fill(
        trade_id=trade_id,
        venue_order_id=HASH,
        token_id="7" * 77,
        side=Side.BUY,
        price=Decimal("0.57"),
        size=Decimal(size),
        fee_usd=Decimal("0.09434850"),
        ts=ts,
        liquidity="taker",
    )


def test_duplicate_trade_id_is_recorded_once(engine: sa.Engine) -> None:
    orders = OrderRepo(engine)
    orders.create(_request("c1"), intent_id=None, strategy="s", venue_order_id=HASH)
    fills = FillRepo(engine)
    first = _fill("t1")
    assert fills.add(first, order_id="c1", strategy="s") is True
    assert fills.add(first, order_id="c1", strategy="s") is False
    # Same trade id with other content (a replayed or corrupted report) is refused too.
    assert fills.add(_fill("t1", size="99"), order_id=None, strategy="other") is False
    (stored,) = fills.all()
    assert (stored.fill, stored.order_id, stored.strategy) == (first, "c1", "s")
    assert stored.fill.fee_usd == Decimal("0.09434850")
    assert fills.get("t1") == stored and fills.get("t2") is None
    assert fills.for_order("c1") == [stored]


def test_concurrent_duplicate_fills_count_once(engine: sa.Engine) -> None:
    fills = FillRepo(engine)
    batch = [_fill(f"t{i}", ts=T0 + timedelta(seconds=i)) for i in range(50)]
    new_counts: list[int] = []
    barrier = threading.Barrier(3)

    def worker() -> None:
        barrier.wait()
        new_counts.append(sum(fills.add(f, order_id=None, strategy="s") for f in batch))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(new_counts) == 50 and len(new_counts) == 3
    assert [r.fill.trade_id for r in fills.all()] == [f.trade_id for f in batch]


def test_fill_queries(engine: sa.Engine) -> None:
    fills = FillRepo(engine)
    fills.add(_fill("late", ts=T0 + timedelta(hours=1)), order_id=None, strategy="a")
    fills.add(_fill("early", ts=T0), order_id=None, strategy="a")
    fills.add(_fill("other", ts=T0 + timedelta(minutes=1)), order_id=None, strategy="b")
    assert [r.fill.trade_id for r in fills.for_strategy("a")] == ["early", "late"]
    assert [r.fill.trade_id for r in fills.since(T0 + timedelta(minutes=1))] == ["other", "late"]
    assert [r.fill.trade_id for r in fills.all()] == ["early", "other", "late"]


def test_fill_for_unknown_order_is_refused(engine: sa.Engine) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        FillRepo(engine).add(_fill("t"), order_id="no-such-order", strategy="s")
    assert FillRepo(engine).all() == []
