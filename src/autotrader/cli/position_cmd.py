"""`autotrader position set|clear|show`: per-position exit overrides for the executor's watcher.

``set --strategy S --market SLUG --outcome O`` with any of ``--stop-loss-pct``,
``--take-profit-pct`` (percent of the average entry price, replacing the strategy's
``limits``) and ``--stop-loss-fraction`` / ``--take-profit-fraction`` (the share of the
position a first exit sells, in (0, 1]; default 1 = all). Options not given keep their stored
value. ``clear`` removes a position's overrides; ``show`` lists them. The position must be
one the strategy has traded (an order of ours names the market and outcome): a typo is refused,
not stored. The executor picks changes up at its next position check.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from autotrader.cli import config_path, load_or_report
from autotrader.config import AppConfig
from autotrader.errors import AutotraderError

PROG = "autotrader position"
EXIT_OK, EXIT_ERROR = 0, 1
_PCTS = ("stop_loss_pct", "take_profit_pct")
_FRACTIONS = ("stop_loss_fraction", "take_profit_fraction")


class UsageError(Exception):
    """Bad input: one line, nothing written."""


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], parent: argparse.ArgumentParser
) -> None:
    """Add ``position set|clear|show``."""
    parser = sub.add_parser("position", parents=[parent], help="per-position exit overrides")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, help_text in (
        ("set", "override stop-loss / take-profit / exit fractions of one position"),
        ("clear", "remove one position's overrides"),
    ):
        p = actions.add_parser(name, parents=[parent], help=help_text)
        p.add_argument("--strategy", required=True)
        p.add_argument("--market", required=True, metavar="SLUG")
        p.add_argument("--outcome", required=True)
        p.add_argument("--json", action="store_true", help="print the result as JSON")
        if name == "set":
            for option in (*_PCTS, *_FRACTIONS):
                p.add_argument("--" + option.replace("_", "-"), dest=option, metavar="X")
        p.set_defaults(func=run)
    show = actions.add_parser("show", parents=[parent], help="list the overrides")
    show.add_argument("--strategy", help="only this strategy")
    show.add_argument("--json", action="store_true", help="print one JSON document")
    show.set_defaults(func=run)


def parse_value(option: str, text: str | None) -> Decimal | None:
    """A checked override value: pct in (0, 100] (take-profit: > 0), fraction in (0, 1]."""
    if text is None:
        return None
    flag = "--" + option.replace("_", "-")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise UsageError(f"{flag}: not a number: {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise UsageError(f"{flag} must be a number > 0 (got {text!r})")
    if option in _FRACTIONS and value > 1:
        raise UsageError(f"{flag} must be at most 1 (got {text!r})")
    if option == "stop_loss_pct" and value > 100:
        raise UsageError(f"{flag} must be at most 100 (got {text!r})")
    return value


def _position_outcome(engine: sa.Engine, strategy: str, slug: str, outcome: str) -> str:
    """The outcome as our orders spell it; UsageError if the strategy never traded it."""
    from autotrader.store.repos_trading import OrderRepo

    for order in OrderRepo(engine).list(strategy=strategy, limit=10_000):
        if order.market_slug == slug and (order.outcome or "").lower() == outcome.lower():
            return order.outcome or outcome
    raise UsageError(f"strategy {strategy} has no position in {slug} / {outcome}")


def _row(o: Any) -> dict[str, Any]:
    return {
        "strategy": o.strategy,
        "market_slug": o.market_slug,
        "outcome": o.outcome,
        **{k: None if getattr(o, k) is None else str(getattr(o, k)) for k in (*_PCTS, *_FRACTIONS)},
    }


def _act(args: argparse.Namespace, config: AppConfig, engine: sa.Engine) -> Any:
    from autotrader.store.repos_executor import OverrideRepo, PositionOverride

    repo = OverrideRepo(engine)
    if args.action == "show":
        rows = [_row(o) for o in repo.all().values() if args.strategy in (None, o.strategy)]
        return sorted(rows, key=lambda r: (r["strategy"], r["market_slug"], r["outcome"]))
    if not any(s.name == args.strategy for s in config.strategies):
        raise UsageError(f"--strategy {args.strategy}: not configured")
    outcome = _position_outcome(engine, args.strategy, args.market, args.outcome)
    if args.action == "clear":
        return {"cleared": repo.clear(args.strategy, args.market, outcome)}
    values = {k: parse_value(k, getattr(args, k)) for k in (*_PCTS, *_FRACTIONS)}
    if all(v is None for v in values.values()):
        raise UsageError("give at least one of --stop-loss-pct, --take-profit-pct, --*-fraction")
    return _row(repo.set(PositionOverride(args.strategy, args.market, outcome, **values)))


def _print(result: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=2))
    elif isinstance(result, list):
        for r in result or [{"(no overrides)": ""}]:
            print("  ".join(f"{k}={v}" for k, v in r.items() if v is not None))
    else:
        print("  ".join(f"{k}={v}" for k, v in result.items() if v is not None))


def run(args: argparse.Namespace) -> int:
    """Run one ``position`` action."""
    config = load_or_report(config_path(args))
    if config is None:
        return EXIT_ERROR
    try:  # checked before the database is touched: bad input changes nothing
        for k in (*_PCTS, *_FRACTIONS):
            parse_value(k, getattr(args, k, None))
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    from autotrader.daemons.setup import open_database

    engine = open_database(config)
    if engine is None:
        return EXIT_ERROR
    try:
        result = _act(args, config, engine)
    except (UsageError, AutotraderError, sa.exc.SQLAlchemyError) as exc:
        print(f"{PROG}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        engine.dispose()
    _print(result, args.json)
    return EXIT_OK
