"""Engine settings on real databases: SQLite WAL and busy timeout, PostgreSQL through psycopg."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from autotrader.errors import OperationalError, TemporaryError
from autotrader.store.db import (
    check_connection,
    create_db_engine,
    db_errors,
    immediate,
)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'nested' / 'dir' / 'autotrader.db'}"


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[sa.Engine]:
    eng = create_db_engine(sqlite_url)
    yield eng
    eng.dispose()


def _pragma(conn: sa.Connection, name: str) -> object:
    return conn.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_sqlite_creates_folder_and_sets_pragmas(engine: sa.Engine, tmp_path: Path) -> None:
    with engine.connect() as conn:
        assert _pragma(conn, "journal_mode") == "wal"
        assert _pragma(conn, "busy_timeout") == 10_000
        assert _pragma(conn, "foreign_keys") == 1
        assert _pragma(conn, "synchronous") == 1  # NORMAL
        assert _pragma(conn, "cache_size") == -512  # KiB per connection, not the 2 MB default
    assert (tmp_path / "nested" / "dir" / "autotrader.db").exists()


def test_sqlite_wal_is_really_used(engine: sa.Engine, sqlite_url: str) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    # A fresh connection of another engine sees the file in WAL mode (it is persistent) ...
    other = create_db_engine(sqlite_url)
    try:
        with other.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        other.dispose()
    # ... and committed writes go to the -wal file next to it.
    assert Path(str(engine.url.database) + "-wal").exists()


def test_sqlite_foreign_keys_are_enforced(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE p (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql("CREATE TABLE c (p_id INTEGER REFERENCES p(id))")
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO c VALUES (42)")


def test_sqlite_transaction_starts_at_begin(engine: sa.Engine) -> None:
    """pysqlite's lazy BEGIN is off: a transaction's reads and writes share one snapshot."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    with engine.connect() as conn, conn.begin():
        conn.exec_driver_sql("SELECT count(*) FROM t").scalar()
        assert conn.connection.dbapi_connection is not None
        assert conn.connection.dbapi_connection.in_transaction


def _hold_write_lock(url: str) -> tuple[sa.Engine, sa.Connection]:
    """A second engine holding SQLite's write lock in an open transaction."""
    holder = create_db_engine(url)
    conn = immediate(holder).connect()
    conn.begin()
    conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    return holder, conn


def _setup_table(url: str) -> None:
    eng = create_db_engine(url)
    with eng.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    eng.dispose()


def test_locked_sqlite_waits_for_the_lock(sqlite_url: str) -> None:
    _setup_table(sqlite_url)
    holder, locked = _hold_write_lock(sqlite_url)
    writer = create_db_engine(sqlite_url)
    started = threading.Event()
    finished = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with writer.begin() as conn:
                started.set()
                conn.exec_driver_sql("INSERT INTO t VALUES (2)")
        except BaseException as err:
            errors.append(err)
        finally:
            finished.set()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        assert started.wait(10)
        # Without a busy timeout the insert fails at once ("database is locked"); with it, the
        # writer is still waiting while the lock is held. (An observation window, not a sync.)
        assert not finished.wait(0.5), f"writer did not wait: {errors}"
        locked.commit()
        assert finished.wait(10)
    finally:
        locked.close()
        holder.dispose()
        thread.join(10)
    assert errors == []
    with writer.connect() as conn:
        assert sorted(conn.exec_driver_sql("SELECT x FROM t").scalars()) == [1, 2]
    writer.dispose()


def test_without_busy_timeout_the_same_write_fails_at_once(sqlite_url: str) -> None:
    """The control for the test above: the lock really is contended."""
    _setup_table(sqlite_url)
    holder, locked = _hold_write_lock(sqlite_url)
    impatient = create_db_engine(sqlite_url, busy_timeout_secs=0)
    try:
        busy = pytest.raises(TemporaryError, match="is busy: database is locked")
        with busy, db_errors(impatient.url), impatient.begin() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (2)")
    finally:
        locked.rollback()
        locked.close()
        holder.dispose()
        impatient.dispose()


def test_immediate_takes_the_write_lock_at_begin(sqlite_url: str) -> None:
    _setup_table(sqlite_url)
    eng = create_db_engine(sqlite_url, busy_timeout_secs=0)
    other = create_db_engine(sqlite_url, busy_timeout_secs=0)
    try:
        # No statement runs in the IMMEDIATE transaction, yet another writer is refused.
        refused = pytest.raises(sa.exc.OperationalError, match="locked")
        with immediate(eng).begin(), refused, other.begin() as c2:
            c2.exec_driver_sql("INSERT INTO t VALUES (3)")
    finally:
        eng.dispose()
        other.dispose()


def test_engine_connects_to_both_backends(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        check_connection(engine)
        if engine.dialect.name == "postgresql":
            assert engine.dialect.driver == "psycopg"
            assert engine.pool._pre_ping
    finally:
        engine.dispose()


def test_plain_postgresql_url_uses_psycopg() -> None:
    engine = create_db_engine("postgresql://postgres@127.0.0.1:1/test")
    try:
        assert engine.dialect.driver == "psycopg"
        with pytest.raises(OperationalError, match="cannot connect to database") as info:
            check_connection(engine)
        assert "\n" not in str(info.value)
    finally:
        engine.dispose()
