"""Migrations on SQLite and PostgreSQL: idempotent, race-safe, and equal to the models."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from autotrader.errors import ConfigError, OperationalError
from autotrader.store import migrate
from autotrader.store.db import create_db_engine
from autotrader.store.models import metadata
from harness.store import run_gated


def _versions(url: str) -> list[str]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(sa.text("SELECT version_num FROM alembic_version")))
    finally:
        engine.dispose()


def test_upgrade_creates_tables_and_is_idempotent(database_url: str) -> None:
    assert migrate.current_revision(database_url) is None
    migrate.upgrade(database_url)
    migrate.upgrade(database_url)
    assert migrate.current_revision(database_url) == migrate.head_revision()
    assert _versions(database_url) == [migrate.head_revision()]
    engine = create_db_engine(database_url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"alembic_version", "daemon_heartbeats", "signals"} <= tables


def test_models_equal_migrations(database_url: str) -> None:
    """Edit a model without a migration (or the reverse) and this fails."""
    migrate.upgrade(database_url)
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert diff == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_version_table_lands_in_search_path_schema(database_url: str) -> None:
    schema = database_url.rsplit("%3D", 1)[1]
    migrate.upgrade(database_url)
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as conn:
            found = {
                tuple(row)
                for row in conn.execute(
                    sa.text(
                        "SELECT table_schema, table_name FROM information_schema.tables "
                        "WHERE table_name IN ('alembic_version', 'daemon_heartbeats')"
                    )
                )
            }
    finally:
        engine.dispose()
    assert (schema, "alembic_version") in found
    assert (schema, "daemon_heartbeats") in found


_RACER = textwrap.dedent(
    """
    import sys
    from autotrader.store.migrate import upgrade
    print("ready", flush=True)
    sys.stdin.readline()  # the start gate: all three are released together
    upgrade(sys.argv[1])
    print("done", flush=True)
    """
)


def test_three_processes_upgrade_concurrently(database_url: str) -> None:
    for code, out, err in run_gated(_RACER, [[database_url]] * 3):
        assert code == 0, err
        assert out.strip() == "done"
    assert _versions(database_url) == [migrate.head_revision()]


def test_database_from_a_newer_release_is_refused(database_url: str) -> None:
    migrate.upgrade(database_url)
    engine = create_db_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        engine.dispose()
    with pytest.raises(OperationalError, match="Can't locate revision identified by '9999'"):
        migrate.upgrade(database_url)
    assert migrate.current_revision(database_url) == "9999"  # left as it was


def test_unreachable_postgresql_is_one_line_operational_error() -> None:
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    with pytest.raises(OperationalError) as info:
        migrate.upgrade("postgresql://postgres:s3cret@127.0.0.1:1/test")
    message = str(info.value)
    assert message.startswith("cannot connect to database postgresql+psycopg://postgres:***@")
    assert "s3cret" not in message and "\n" not in message


def test_bad_url_is_config_error() -> None:
    with pytest.raises(ConfigError, match="database_url: unsupported database 'mysql'"):
        migrate.upgrade("mysql://x@127.0.0.1/db")


def test_unwritable_sqlite_folder_is_operational_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OperationalError, match="cannot create the folder of database"):
        migrate.upgrade(f"sqlite:///{blocker / 'sub' / 'a.db'}")


def test_sqlite_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not a database file, just some text" * 100)
    with pytest.raises(OperationalError, match="file is not a database") as info:
        migrate.upgrade(f"sqlite:///{path}")
    assert "\n" not in str(info.value)


def test_current_revision_does_not_create_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "none" / "a.db"
    assert migrate.current_revision(f"sqlite:///{path}") is None
    assert not path.exists()
