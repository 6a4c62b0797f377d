"""Money and UTC timestamp column types, and database URL handling, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from autotrader.errors import ConfigError
from autotrader.store.db import parse_db_url, sanitize_url, sqlite_path
from autotrader.store.types import Money, UTCDateTime, to_money

# Dialects only; creating an engine does not connect.
SQLITE = sa.create_engine("sqlite://").dialect
PG = sa.create_engine("postgresql+psycopg://u@127.0.0.1/db").dialect


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("0.12345678"), Decimal("0.12345678")),
        (5, Decimal(5)),
        ("1.50", Decimal("1.50")),
        (Decimal("0.123456780"), Decimal("0.123456780")),  # trailing zero beyond scale is fine
        (Decimal("-999999999999.99999999"), Decimal("-999999999999.99999999")),
    ],
)
def test_to_money_accepts(value: Decimal | int | str, expected: Decimal) -> None:
    assert to_money(value) == expected


@pytest.mark.parametrize("value", [0.1, True, None, [1]])
def test_to_money_refuses_non_decimal_types(value: object) -> None:
    with pytest.raises(TypeError, match="money must be Decimal"):
        to_money(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Decimal("0.123456789"), "more than 8 decimal places"),
        (Decimal("1000000000000"), "out of range"),
        (Decimal("NaN"), "not finite"),
        (Decimal("Infinity"), "not finite"),
        ("abc", "not a number"),
    ],
)
def test_to_money_refuses_bad_values(value: Decimal | str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        to_money(value)


def test_money_binds_float_for_sqlite_and_decimal_for_postgresql() -> None:
    money = Money()
    assert money.process_bind_param(Decimal("0.12345678"), SQLITE) == 0.12345678
    assert money.process_bind_param(Decimal("0.12345678"), PG) == Decimal("0.12345678")
    assert money.process_bind_param(None, PG) is None


def test_money_result_rebuilds_exact_decimal_from_sqlite_float() -> None:
    money = Money()
    for text in ("0.12345678", "9999999.99999999", "-0.00000001", "67012.5"):
        stored = money.process_bind_param(Decimal(text), SQLITE)
        assert money.process_result_value(stored, SQLITE) == Decimal(text)
    assert str(money.process_result_value(1, SQLITE)) == "1.00000000"


def test_utc_datetime_refuses_naive() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1, 12, 0), PG)
    with pytest.raises(TypeError, match="aware datetime"):
        UTCDateTime().process_bind_param("2026-01-01T00:00:00Z", PG)


def test_utc_datetime_normalises_to_utc() -> None:
    paris = datetime(2026, 1, 1, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    utc = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    bound = UTCDateTime().process_bind_param(paris, PG)
    assert bound == utc
    assert bound is not None and bound.utcoffset() == timedelta(0)
    # SQLite stores naive UTC text; the result comes back aware.
    assert UTCDateTime().process_bind_param(paris, SQLITE) == datetime(2026, 1, 1, 12, 0)
    assert UTCDateTime().process_result_value(datetime(2026, 1, 1, 12, 0), SQLITE) == utc
    back = UTCDateTime().process_result_value(paris, PG)
    assert back == utc and back is not None and back.tzinfo is UTC


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:////var/lib/autotrader/autotrader.db", "sqlite"),
    ],
)
def test_parse_db_url_maps_drivers(url: str, driver: str) -> None:
    assert parse_db_url(url).drivername == driver


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a valid database URL"),
        ("mysql://u:secret@h/db", "unsupported database 'mysql'"),
        ("postgresql+psycopg2://u@h/db", "driver 'psycopg2' is not supported"),
    ],
)
def test_parse_db_url_refuses(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_db_url(url)
    assert "\n" not in str(info.value)
    assert "secret" not in str(info.value)


def test_sanitize_url_hides_passwords() -> None:
    shown = sanitize_url("postgresql://bob:hunter2@db:5432/trading?password=x&sslmode=require")
    assert "hunter2" not in shown and "password=x" not in shown
    assert shown.startswith("postgresql://bob:***@db:5432/trading")
    assert "sslmode=require" in shown


def test_sqlite_path() -> None:
    assert sqlite_path("sqlite:////var/lib/a.db") == Path("/var/lib/a.db")
    assert sqlite_path("sqlite://") is None
    assert sqlite_path("sqlite:///:memory:") is None
    assert sqlite_path("postgresql://u@h/db") is None
