"""`autotrader page render [--output DIR]`: write the static status page once.

The scheduler daemon rewrites the page every ``status_page.refresh_secs``; this command renders
it on demand (with the daemons stopped, say, or into another folder) and prints the path of
``index.html``. It only reads the database and never creates one: a SQLite file that does not
exist yet is an error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import sqlalchemy as sa

from autotrader.cli import config_path, load_or_report
from autotrader.errors import AutotraderError
from autotrader.store.db import create_db_engine, db_errors, sqlite_path


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], parent: argparse.ArgumentParser
) -> None:
    """Add ``page`` and its action ``render``."""
    page = sub.add_parser("page", parents=[parent], help="the static HTML status page")
    actions = page.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    render = actions.add_parser(
        "render", parents=[parent], help="render the status page once and print its path"
    )
    render.add_argument(
        "--output",
        metavar="DIR",
        type=Path,
        help="write into DIR instead of status_page.output_dir",
    )
    render.set_defaults(func=run_render)


def run_render(args: argparse.Namespace) -> int:
    """``autotrader page render``."""
    config = load_or_report(config_path(args))
    if config is None:
        return 1
    path = sqlite_path(config.database_url)
    if path is not None and not path.exists():
        print(
            f"autotrader page render: error: database {path} does not exist "
            "(start the daemons or run 'autotrader db upgrade')",
            file=sys.stderr,
        )
        return 1
    # Jinja2 and the renderer load only here, never when the parser is built.
    from autotrader.daemons.setup import build_clock
    from autotrader.status.writer import write_site

    try:
        with db_errors(config.database_url, connecting=True):
            engine = create_db_engine(config.database_url)
        try:
            with db_errors(config.database_url):
                index = write_site(
                    config, engine, now=build_clock(config).now(), output_dir=args.output
                )
        finally:
            engine.dispose()
    except (AutotraderError, sa.exc.SQLAlchemyError, OSError) as exc:
        print(f"autotrader page render: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    print(index)
    return 0
