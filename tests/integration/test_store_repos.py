"""Repositories and column types against real SQLite and PostgreSQL databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from autotrader.domain.markets import Window
from autotrader.domain.signals import Direction, NoTradeReason, Signal, SignalBasis
from autotrader.store.db import create_db_engine
from autotrader.store.repos import HeartbeatRepo, SignalRepo
from autotrader.store.types import Money, UTCDateTime
from harness.store import Ticker, migrated_engine

T0 = datetime(2026, 11, 20, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    yield from migrated_engine(database_url)


def test_heartbeat_upsert(engine: sa.Engine) -> None:
    clock = Ticker(T0)
    repo = HeartbeatRepo(engine, host="host-a", now=clock)
    assert repo.all() == []
    repo.beat("signal", 100, "starting", state="starting")
    clock.now = T0 + timedelta(seconds=5)
    repo.beat("signal", 100, "UP 72%\nsecond line", state="running")
    repo.beat("executor", 200, "idle")
    beats = repo.all()
    assert [b.daemon for b in beats] == ["executor", "signal"]
    signal = beats[1]
    assert (signal.pid, signal.host, signal.state) == (100, "host-a", "running")
    assert signal.status == "UP 72% second line"
    assert signal.started_at == T0
    assert signal.last_beat_at == T0 + timedelta(seconds=5)
    assert signal.age_secs(T0 + timedelta(seconds=8)) == 3.0
    assert beats[0].started_at == beats[0].last_beat_at == T0 + timedelta(seconds=5)


def test_heartbeat_new_process_restarts_started_at(engine: sa.Engine) -> None:
    clock = Ticker(T0)
    HeartbeatRepo(engine, host="h", now=clock).beat("signal", 100, "old process")
    clock.now = T0 + timedelta(minutes=10)
    # A restarted daemon is a new process with a new repository.
    HeartbeatRepo(engine, host="h", now=clock).beat("signal", 101, "new process")
    (beat,) = HeartbeatRepo(engine).all()
    assert (beat.pid, beat.started_at, beat.status) == (101, clock.now, "new process")


def _signal(ts: datetime, direction: Direction, price: float | None) -> Signal:
    basis = SignalBasis(
        momentum_30s=0.21,
        momentum_60s=0.3,
        momentum_120s=0.35,
        acceleration=0.05,
        volatility_state="expanding",
        trend_bias="bullish",
        mean_reversion_pressure="neutral",
        score=0.41,
        components={"momentum": 1.0, "trend": 0.5},
    )
    return Signal(
        timestamp=ts,
        direction=direction,
        confidence=91.0,
        price=price,
        basis=basis if direction is not Direction.NO_TRADE else None,
        window=Window.for_signal_at(ts.timestamp()),
        source="coinbase",
        data_age_secs=1.25,
        reason=NoTradeReason.STALE if direction is Direction.NO_TRADE else None,
    )


def test_signal_snapshots_round_trip(engine: sa.Engine) -> None:
    repo = SignalRepo(engine)
    assert repo.latest() == []
    repo.add_snapshot(_signal(T0, Direction.UP, 97123.45))
    repo.add_snapshot(_signal(T0 + timedelta(minutes=1), Direction.NO_TRADE, None))
    newest, older = repo.latest(limit=5)
    assert newest.direction == "NO_TRADE" and newest.reason == "stale"
    assert newest.price is None and newest.basis is None and newest.score is None
    assert older.ts == T0 and older.ts.tzinfo is UTC
    assert older.price == Decimal("97123.45000000")
    assert older.score == 0.41 and older.confidence == 91.0 and older.data_age_secs == 1.25
    assert older.basis is not None and older.basis["components"] == {"momentum": 1.0, "trend": 0.5}
    window = Window.for_signal_at(T0.timestamp())
    assert older.window_slug == window.slug and older.window_start == window.start_dt
    assert [s.id for s in repo.latest()] == [newest.id]
    with pytest.raises(ValueError, match="limit"):
        repo.latest(0)


# A scratch table using the two column types directly.
_meta = sa.MetaData()
_scratch = sa.Table(
    "scratch_types",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("amount", Money()),
    sa.Column("at", UTCDateTime()),
)


@pytest.fixture
def scratch(database_url: str) -> Iterator[sa.Engine]:
    eng = create_db_engine(database_url)
    _meta.create_all(eng)
    yield eng
    eng.dispose()


EXACT = ["0.12345678", "-0.00000001", "9999999.99999999", "1", "0.5", "96123.87654321"]


def test_money_round_trip_is_exact(scratch: sa.Engine) -> None:
    values = [Decimal(v) for v in EXACT]
    if scratch.dialect.name == "postgresql":
        values.append(Decimal("999999999999.99999999"))  # all 20 digits: exact on PostgreSQL
    with scratch.begin() as conn:
        conn.execute(sa.insert(_scratch), [{"id": i, "amount": v} for i, v in enumerate(values)])
    with scratch.connect() as conn:
        back = list(conn.scalars(sa.select(_scratch.c.amount).order_by(_scratch.c.id)))
    assert back == values
    assert all(type(v) is Decimal and v.as_tuple().exponent == -8 for v in back)
    # Sums and comparisons happen in the database and still come back as Decimal.
    with scratch.connect() as conn:
        total = conn.scalar(sa.select(sa.func.sum(_scratch.c.amount)).where(_scratch.c.id < 2))
        bigger = conn.scalar(
            sa.select(sa.func.count()).where(_scratch.c.amount > Decimal("0.12345677"))
        )
    assert total == Decimal("0.12345677")
    assert bigger == len(values) - 1  # all but -0.00000001


def test_money_refuses_float(scratch: sa.Engine) -> None:
    refused = pytest.raises(sa.exc.StatementError, match="money must be Decimal")
    with refused, scratch.begin() as conn:
        conn.execute(sa.insert(_scratch).values(id=1, amount=0.1))


def test_utc_round_trip(scratch: sa.Engine) -> None:
    tokyo = timezone(timedelta(hours=9))
    local = datetime(2026, 3, 29, 10, 30, 15, 250000, tzinfo=tokyo)
    with scratch.begin() as conn:
        conn.execute(sa.insert(_scratch), [{"id": 1, "at": local}, {"id": 2, "at": T0}])
    with scratch.connect() as conn:
        back = list(conn.scalars(sa.select(_scratch.c.at).order_by(_scratch.c.id)))
        # Comparison binds go through the type too, whatever zone the bound value is in.
        later = conn.scalar(sa.select(sa.func.count()).where(_scratch.c.at > local))
    assert back == [local, T0]
    assert all(v.tzinfo is UTC for v in back)
    assert back[0].hour == 1  # 10:30 in Tokyo is 01:30 UTC
    assert later == 1


def test_naive_datetime_refused(scratch: sa.Engine) -> None:
    refused = pytest.raises(sa.exc.StatementError, match="naive datetime")
    with refused, scratch.begin() as conn:
        conn.execute(sa.insert(_scratch).values(id=1, at=datetime(2026, 1, 1)))
    with scratch.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(_scratch)) == 0
