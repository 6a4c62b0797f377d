"""Small helpers shared by the executor's repositories (``repos_intents``, ``repos_trading``,
``repos_runtime``).

Conventions, as in ``repos``: every method is one short transaction (``read_conn`` /
``write_conn``, SQLAlchemy Core on the tables of ``models``) and returns frozen dataclasses or
domain objects, never database rows. Read-modify-write transactions go through
``db.immediate`` (SQLite takes the write lock at BEGIN, so two writers queue instead of one
failing) and lock the row with ``FOR UPDATE`` (PostgreSQL; SQLite ignores it and needs it not).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from autotrader.store.db import immediate

Now = Callable[[], datetime]


def utc_now() -> datetime:
    """Wall-clock now, aware UTC."""
    return datetime.now(UTC)


def default_claimer() -> str:
    """``host:pid`` of this process: who claimed an intent, for crash recovery."""
    return f"{socket.gethostname()}:{os.getpid()}"


@contextmanager
def read_conn(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction for reads (one snapshot on both backends)."""
    with engine.begin() as conn:
        yield conn


@contextmanager
def write_conn(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction that, on SQLite, takes the write lock at BEGIN (see
    the module doc); committed when the block ends, rolled back if it raises."""
    with immediate(engine).begin() as conn:
        yield conn


def first_row(conn: Connection, table: sa.Table, **key: Any) -> sa.Row[Any] | None:
    """The row of ``table`` whose columns equal ``key`` (a primary key), or None."""
    query = sa.select(table).where(*(table.c[name] == value for name, value in key.items()))
    return conn.execute(query).first()


def check_limit(limit: int) -> int:
    """``limit`` if it is >= 1, else ``ValueError``."""
    if limit < 1:
        raise ValueError(f"limit must be >= 1 (got {limit})")
    return limit


def one_line(text: str | None) -> str | None:
    """``text`` with its whitespace runs collapsed (reasons are shown on one line)."""
    return None if text is None else " ".join(text.split())


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact: a float would not be
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} {value!r} in a JSON payload")


def to_json_payload(payload: dict[str, Any] | None) -> dict[str, Any]:
    """A JSON-safe copy of ``payload``: Decimals as exact strings, datetimes ISO, enums by value.

    Raises ``TypeError`` (one line, the offending value) for anything else that is not JSON.
    """
    if payload is None:
        return {}
    result: dict[str, Any] = json.loads(json.dumps(payload, default=_json_default))
    return result
