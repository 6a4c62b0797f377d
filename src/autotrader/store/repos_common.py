"""Small helpers shared by the executor's repositories (``repos_intents``, ``repos_trading``,
``repos_runtime``).

Conventions, as in ``repos``: every method is one short transaction and returns frozen
dataclasses or domain objects, never ORM rows. Read-modify-write transactions go through
``db.immediate`` (SQLite takes the write lock at BEGIN, so two writers queue instead of one
failing) and lock the row with ``FOR UPDATE`` (PostgreSQL; SQLite ignores it and needs it not).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from autotrader.store.db import immediate

Now = Callable[[], datetime]


def table_of(model: Any) -> sa.Table:
    """The ``Table`` of a mapped class, typed as one (``__table__`` is a FromClause to mypy),
    for the Core statements of hot paths."""
    return sa.Table(model.__tablename__, model.metadata)


def utc_now() -> datetime:
    """Wall-clock now, aware UTC."""
    return datetime.now(UTC)


def default_claimer() -> str:
    """``host:pid`` of this process: who claimed an intent, for crash recovery."""
    return f"{socket.gethostname()}:{os.getpid()}"


def read_session(engine: Engine) -> Session:
    """A session for reads (one snapshot per transaction on both backends)."""
    return Session(engine, expire_on_commit=False)


def write_session(engine: Engine) -> Session:
    """A session whose SQLite transactions take the write lock at BEGIN (see module doc)."""
    return Session(immediate(engine), expire_on_commit=False)


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
