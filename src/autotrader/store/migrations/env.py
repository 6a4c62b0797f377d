"""Alembic environment: run by alembic, never imported directly.

``autotrader.store.migrate`` passes an open connection (already in a transaction and holding the
migration lock) in ``config.attributes["connection"]``. Without one (a developer running the
``alembic`` command with ``-x url=…`` or ``sqlalchemy.url`` set), an engine is made from the URL
with ``create_db_engine``, so the same settings apply.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

from autotrader.store.db import create_db_engine
from autotrader.store.models import metadata

config = context.config
target_metadata = metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=_render_item,
    )


def _render_item(type_: str, obj: Any, _autogen: Any) -> str | Literal[False]:
    """Autogenerate writes our TypeDecorators as their plain SQL types.

    A migration is history: it must not change meaning when ``Money`` or ``UTCDateTime`` do.
    """
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl_instance!r}"
    return False


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("alembic: give the database with -x url=… or sqlalchemy.url")
    return url


def run_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade --sql``)."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Apply migrations over the given connection, or a new one."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_db_engine(_url())
    try:
        with engine.begin() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
