"""`autotrader db upgrade|current`: the database schema.

Daemons upgrade the schema themselves at start; ``db upgrade`` does it by hand (packaging's
postinst, or before a first start). ``db current`` exits 0 when the database is at the head
revision and 3 when it is behind or empty, so scripts can write
``autotrader db current >/dev/null || autotrader db upgrade``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TypeVar

from autotrader.cli import config_path, load_or_report
from autotrader.config import AppConfig
from autotrader.errors import AutotraderError
from autotrader.store.db import sanitize_url

EXIT_NOT_AT_HEAD = 3

T = TypeVar("T")


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], parent: argparse.ArgumentParser
) -> None:
    """Add ``db`` and its actions."""
    parser = sub.add_parser("db", parents=[parent], help="database schema (upgrade, current)")
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION", parser_class=type(parser))
    actions.required = True
    up = actions.add_parser(
        "upgrade", parents=[parent], help="apply the migrations up to the newest revision"
    )
    up.set_defaults(func=run_upgrade)
    cur = actions.add_parser(
        "current", parents=[parent], help="show the revision (exit 3 if not at the newest)"
    )
    cur.set_defaults(func=run_current)


def database_url(cfg: AppConfig) -> str:
    """The configured database URL (config.py defaults it to the SQLite file in state_dir)."""
    return cfg.database_url


def _on_database(
    args: argparse.Namespace, action: str, work: Callable[[str], T]
) -> tuple[str, T] | None:
    """``work(url)`` on the configured database, with its URL; None after printing a problem."""
    cfg = load_or_report(config_path(args))
    if cfg is None:
        return None
    url = database_url(cfg)
    try:
        return url, work(url)
    except AutotraderError as err:
        print(f"autotrader db {action}: {err}", file=sys.stderr)
        return None


# Alembic is imported only when a db command runs: every `autotrader` process builds the full
# parser, and the daemons must not carry Alembic's memory for their lifetime.


def _current(url: str) -> str | None:
    from autotrader.store.migrate import current_revision

    return current_revision(url)


def _upgrade(url: str) -> str | None:
    from autotrader.store.migrate import current_revision, upgrade

    upgrade(url)
    return current_revision(url)


def run_upgrade(args: argparse.Namespace) -> int:
    """``autotrader db upgrade``."""
    done = _on_database(args, "upgrade", _upgrade)
    if done is None:
        return 1
    url, revision = done
    print(f"database {sanitize_url(url)} at revision {revision}")
    return 0


def run_current(args: argparse.Namespace) -> int:
    """``autotrader db current``."""
    done = _on_database(args, "current", _current)
    if done is None:
        return 1
    url, revision = done
    from autotrader.store.migrate import head_revision

    head = head_revision()
    where = sanitize_url(url)
    if revision == head:
        print(f"database {where} at revision {revision} (head)")
        return 0
    shown = revision or "none (empty)"
    print(f"database {where} at revision {shown}; head is {head}: run `autotrader db upgrade`")
    return EXIT_NOT_AT_HEAD
