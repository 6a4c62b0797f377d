"""Engines for the one database the daemons share: SQLite (WAL) by default, PostgreSQL when shared.

``create_db_engine(url)`` is the only way autotrader opens a database, so every connection gets
the same settings:

* SQLite: ``journal_mode=WAL`` (readers never block the writer), ``busy_timeout`` (a writer
  waits for the lock instead of failing at once), ``foreign_keys=ON``, ``synchronous=NORMAL``
  (durable at each checkpoint, safe with WAL), a page cache of ``SQLITE_CACHE_KIB`` per
  connection (SQLite's default is 2 MB each; a daemon keeps up to five connections, and the
  file's pages are in the kernel's page cache anyway). Transactions begin when SQLAlchemy
  begins them (pysqlite's own lazy BEGIN is switched off), so a read-then-write transaction
  sees one snapshot; ``immediate(engine)`` gives write transactions that take the write lock
  at BEGIN and therefore wait on ``busy_timeout`` rather than fail with "database is locked".
* PostgreSQL through psycopg 3: a plain ``postgresql://`` URL is mapped to it; libpq options in
  the URL (e.g. ``options=-csearch_path%3Dmyschema``) are honoured.

Bad URLs raise ``ConfigError``; a database that cannot be reached or opened raises
``OperationalError``; a locked one ``TemporaryError`` — all one line, naming the database
with its password hidden.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Connection, Engine

from autotrader.errors import AutotraderError, ConfigError, OperationalError, TemporaryError

log = logging.getLogger(__name__)

BUSY_TIMEOUT_SECS = 10.0
SQLITE_CACHE_KIB = 512
PG_CONNECT_TIMEOUT_SECS = 10
_BEGIN_OPTION = "autotrader_sqlite_begin"
_SECRET_QUERY_KEYS = frozenset({"password", "sslpassword"})


def parse_db_url(url: str) -> URL:
    """Parse and normalise a database URL; ``ConfigError`` if it is not one we support."""
    try:
        parsed = sa.make_url(url)
    except (exc.ArgumentError, ValueError) as err:
        raise ConfigError(f"database_url: not a valid database URL ({err})") from None
    backend = parsed.get_backend_name()
    if backend == "postgres":
        parsed = parsed.set(drivername="postgresql")
        backend = "postgresql"
    if backend == "postgresql":
        driver = parsed.get_driver_name() if "+" in parsed.drivername else None
        if driver not in (None, "psycopg"):
            raise ConfigError(
                f"database_url: PostgreSQL driver {driver!r} is not supported; "
                "use postgresql:// or postgresql+psycopg://"
            )
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if "+" in parsed.drivername and parsed.get_driver_name() != "pysqlite":
            raise ConfigError(f"database_url: SQLite driver {parsed.drivername!r} not supported")
        return parsed
    raise ConfigError(
        f"database_url: unsupported database {backend!r} in {sanitize_url(url)}; "
        "use sqlite:///PATH or postgresql://USER@HOST/DB"
    )


def sanitize_url(url: str | URL) -> str:
    """The URL with its password (and password-like query values) replaced by ``***``."""
    try:
        parsed = sa.make_url(url)
    except (exc.ArgumentError, ValueError):
        return "<unparsable database URL>"
    hidden = {k: "***" for k in parsed.query if k.lower() in _SECRET_QUERY_KEYS}
    if hidden:
        parsed = parsed.update_query_dict(hidden)
    return parsed.render_as_string(hide_password=True)


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a SQLite URL; ``None`` for PostgreSQL or an in-memory SQLite database."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def create_db_engine(url: str, *, busy_timeout_secs: float = BUSY_TIMEOUT_SECS) -> Engine:
    """A SQLAlchemy engine for ``url`` with autotrader's settings (see the module docstring).

    Nothing is connected yet; use ``check_connection`` to fail early with a clear message.
    SQLite: the folder of the database file is created if missing.
    """
    parsed = parse_db_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, busy_timeout_secs)
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_SECS
    return sa.create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_engine(parsed: URL, busy_timeout_secs: float) -> Engine:
    path = sqlite_path(parsed)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OperationalError(
                f"cannot create the folder of database {sanitize_url(parsed)}: {err}",
                reason_code="DATABASE_UNAVAILABLE",
            ) from None
    busy_ms = max(0, round(busy_timeout_secs * 1000))
    # No pre-ping: a SQLite connection is a file handle that does not go stale, and the ping
    # would add a statement to every checkout on the executor's hot path.
    engine = sa.create_engine(parsed, connect_args={"timeout": busy_ms / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite: it would otherwise BEGIN lazily just
        # before the first write, after the reads of the same transaction.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        try:
            # busy_timeout first: switching to WAL needs a lock another process may hold.
            cur.execute(f"PRAGMA busy_timeout = {busy_ms}")
            mode = cur.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if path is not None and str(mode).lower() != "wal":
                log.warning("database %s: journal_mode is %s, not wal", path, mode)
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")  # negative: KiB, not pages
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def immediate(engine: Engine) -> Engine:
    """The same engine, but each SQLite transaction takes the write lock at BEGIN.

    Use it for read-then-write transactions (claims, balance checks): two deferred SQLite
    transactions that both read and then write would make one fail at once with "database is
    locked" whatever the busy timeout; IMMEDIATE ones queue instead. No effect on PostgreSQL.
    """
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})


def insert_for(engine: Engine | Connection, table: sa.Table) -> Any:
    """``INSERT`` with ``on_conflict_do_update/nothing`` for the engine's dialect (upserts).

    Returns the dialect's Insert construct, so upserts are written once and run on both SQLite
    and PostgreSQL.
    """
    # Imported per dialect: the PostgreSQL dialect is ~1 MB resident a SQLite daemon never uses.
    name = engine.dialect.name
    if name == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)
    if name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    raise OperationalError(f"upsert is not supported on {name}")  # parse_db_url prevents this


def translate_error(
    err: exc.SQLAlchemyError, url: str | URL, *, connecting: bool = False
) -> AutotraderError:
    """A one-line autotrader error for a database failure.

    Locked/busy → ``TemporaryError`` (retry later); anything else → ``OperationalError``.
    """
    orig = getattr(err, "orig", None) or err
    first = (str(orig).strip().splitlines() or [type(orig).__name__])[0].strip()
    where = sanitize_url(url)
    lowered = first.lower()
    if "locked" in lowered or "busy" in lowered:
        return TemporaryError(f"database {where} is busy: {first}")
    if connecting:
        return OperationalError(
            f"cannot connect to database {where}: {first}", reason_code="DATABASE_UNAVAILABLE"
        )
    return OperationalError(f"database {where}: {first}", reason_code="DATABASE_ERROR")


@contextmanager
def db_errors(url: str | URL, *, connecting: bool = False) -> Iterator[None]:
    """Turn SQLAlchemy errors raised inside the block into one-line autotrader errors."""
    try:
        yield
    except exc.SQLAlchemyError as err:
        raise translate_error(err, url, connecting=connecting) from err


def check_connection(engine: Engine) -> None:
    """Connect once; ``OperationalError`` (one line, which database and why) if that fails."""
    with db_errors(engine.url, connecting=True), engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
