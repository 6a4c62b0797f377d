"""Apply the Alembic migrations, safely even when every daemon starts at the same moment.

Each daemon calls ``upgrade(url)`` at start-up, and so does ``autotrader db upgrade``. The
upgrade runs in one transaction under a lock, so three daemons racing do the work once and the
other two find the schema at head:

* PostgreSQL: ``pg_advisory_xact_lock`` on a key derived from the current schema (so per-test
  schemas do not queue behind each other), released by the commit. DDL is transactional there,
  so a failed upgrade leaves nothing half-done.
* SQLite: an exclusive ``fcntl.flock`` on ``<db file>.migrate.lock`` beside the database (the
  file stays; deleting lock files races). SQLite DDL is transactional too.

The Alembic configuration is built here in code; no alembic.ini is needed. The version table
lands in the connection's default schema, so a ``search_path`` in the URL options is honoured.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from autotrader.errors import AutotraderError, OperationalError
from autotrader.store.db import create_db_engine, db_errors, sanitize_url, sqlite_path

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
_LOCK_NAMESPACE = "autotrader.migrate"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic ``Config`` for our migrations; ``connection`` is handed to env.py."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision the code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships 0001
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def upgrade(url: str) -> None:
    """Bring the database at ``url`` to the head revision; a no-op when it is already there.

    Raises ``ConfigError`` for a bad URL and ``OperationalError`` when the database cannot be
    reached or the upgrade fails (one line, the database named, password hidden).
    """
    engine = create_db_engine(url)
    try:
        with _file_lock(sqlite_path(engine.url)):
            with db_errors(engine.url, connecting=True):
                conn = engine.connect()
            with conn, db_errors(engine.url), conn.begin():
                if conn.dialect.name == "postgresql":
                    key = _pg_lock_key(conn)
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
                # Alembic finds our transaction already open and runs inside it.
                command.upgrade(alembic_config(conn), "head")
    except CommandError as err:
        # Typically a database migrated by a newer release than this one.
        raise OperationalError(
            f"cannot upgrade database {sanitize_url(engine.url)}: {err} "
            f"(this release knows revisions up to {head_revision()})",
            reason_code="DATABASE_ERROR",
        ) from None
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    """The revision the database is at; ``None`` if it was never migrated.

    A SQLite file that does not exist is reported as ``None`` without being created.
    """
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return None
    engine = create_db_engine(url)
    try:
        with db_errors(engine.url, connecting=True), engine.connect() as conn:
            if not inspect(conn).has_table(VERSION_TABLE):
                return None
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def _pg_lock_key(conn: Connection) -> int:
    schema = conn.execute(text("SELECT current_schema()")).scalar_one_or_none() or ""
    digest = hashlib.blake2b(f"{_LOCK_NAMESPACE}:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def _file_lock(db_path: Path | None) -> Iterator[None]:
    """Hold an exclusive lock on ``<db_path>.migrate.lock`` (nothing for in-memory/PostgreSQL)."""
    if db_path is None:
        yield
        return
    lock_path = db_path.with_name(db_path.name + ".migrate.lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as err:
        raise OperationalError(
            f"cannot open the migration lock {lock_path}: {err.strerror or err}",
            reason_code="DATABASE_UNAVAILABLE",
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def main() -> int:
    """``python -m autotrader.store.migrate``: upgrade $AUTOTRADER_DATABASE_URL, one-line errors.

    Daemons migrate through this child process so Alembic (and Mako) never stay loaded in a
    long-running daemon: ~8 MB of resident memory each. The URL comes through the environment,
    not argv, so a password never shows in `ps`.
    """
    import sys

    url = os.environ.get("AUTOTRADER_DATABASE_URL", "")
    try:
        upgrade(url)
    except AutotraderError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
