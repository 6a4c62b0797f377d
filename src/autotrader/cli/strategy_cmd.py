"""`autotrader strategy list|show|start|pause|resume|stop|run-now [NAME] [--json]`.

Works while the scheduler runs: each command writes the database and the daemon, which polls
it every half second, reacts within a second.

* ``start`` / ``stop``: a runtime override of the YAML's ``enabled`` (strategy_state.desired);
* ``pause`` / ``resume``: the pause shared with the executor (strategy_runtime), recorded as
  ``strategy_paused`` / ``strategy_resumed`` events; resuming clears the failure count;
* ``run-now``: one extra run as soon as possible (the regular schedule is unchanged).

Exit codes: 0 done (or nothing to do), 1 bad input, unknown strategy or configuration problem.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from autotrader.cli import config_path, load_or_report
from autotrader.config import AppConfig
from autotrader.errors import AutotraderError

if TYPE_CHECKING:
    from autotrader.scheduler.views import Views

PROG = "autotrader strategy"
ACTIONS = ("list", "show", "start", "pause", "resume", "stop", "run-now")
EXIT_OK, EXIT_ERROR = 0, 1


class UsageError(Exception):
    """Bad input: one line, nothing written."""


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], parent: argparse.ArgumentParser
) -> None:
    """Add ``strategy``."""
    parser = sub.add_parser(
        "strategy",
        parents=[parent],
        help="list, inspect and control strategies (while the scheduler runs)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=ACTIONS)
    parser.add_argument("name", nargs="?", help="strategy name (all commands but list)")
    parser.add_argument("--reason", default="paused from the command line", help="for pause")
    parser.add_argument("--runs", type=int, default=10, help="runs shown by show (10)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Carry out one strategy command."""
    config = load_or_report(config_path(args))
    if config is None:
        return EXIT_ERROR
    try:
        _check_args(args, config)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    import sqlalchemy as sa

    from autotrader.daemons.setup import build_clock
    from autotrader.store.db import create_db_engine, db_errors, sanitize_url

    try:
        engine = create_db_engine(config.database_url)
    except AutotraderError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    try:
        from autotrader.scheduler.views import Views

        with db_errors(engine.url):
            views = Views(config, engine, build_clock(config))
            return _dispatch(args, views)
    except (UsageError, ValueError, AutotraderError) as exc:
        cause = str(exc.__cause__ or "").lower()
        if isinstance(exc.__cause__, sa.exc.DBAPIError) and (
            "no such table" in cause or "does not exist" in cause
        ):
            exc = UsageError(
                f"database {sanitize_url(engine.url)} has no scheduler tables yet "
                "(run `autotrader db upgrade` or start the scheduler)"
            )
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        engine.dispose()


def _check_args(args: argparse.Namespace, config: AppConfig) -> None:
    if args.action == "list":
        if args.name is not None and config.strategy(args.name) is None:
            raise UsageError(_unknown(args.name, config))
        return
    if args.name is None:
        raise UsageError(f"{args.action} needs a strategy NAME")
    if config.strategy(args.name) is None:
        raise UsageError(_unknown(args.name, config))
    if args.runs < 1:
        raise UsageError(f"--runs must be >= 1 (got {args.runs})")
    if args.action == "pause" and not args.reason.strip():
        raise UsageError("--reason must not be empty")


def _unknown(name: str, config: AppConfig) -> str:
    names = ", ".join(s.name for s in config.strategies) or "none configured"
    return f"no strategy named {name!r} (strategies: {names})"


def _dispatch(args: argparse.Namespace, views: Views) -> int:
    if args.action == "list":
        rows = views.rows(args.name)
        _print(rows, args.json, views.table)
        return EXIT_OK
    if args.action == "show":
        doc = views.show(args.name, args.runs)
        _print(doc, args.json, views.details)
        return EXIT_OK
    done = views.act(args.action, args.name, args.reason)
    _print(done, args.json, lambda d: d["message"])
    return EXIT_OK


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {value!r}")


def _print(doc: Any, as_json: bool, render: Callable[[Any], str]) -> None:
    if as_json:
        print(json.dumps(doc, default=_jsonable))
    else:
        print(render(doc))
