"""`autotrader watchlist list|add|remove [--strategy S] [--json]`: pipeline watchlists by hand.

``list`` shows every strategy's watched markets (or one strategy's), oldest first, with an
``expired`` flag. ``add`` looks the market up on Gamma (its id, question, price and volume at
the time are stored, as a pipeline's ``add_to_watchlist`` does) and refuses a market already
watched; ``remove`` refuses one that is not. The strategy must be a configured pipeline
strategy; with exactly one configured, ``--strategy`` may be left out of add/remove.

Exit codes: 0 done, 1 bad input, configuration or database (one line on stderr, nothing
changed). The schema is not migrated here: the daemons and ``autotrader db upgrade`` do that.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa

from autotrader.cli import config_path, load_or_report, lookup_market
from autotrader.config import AppConfig
from autotrader.config_base import parse_duration
from autotrader.errors import AutotraderError
from autotrader.tables import cell

PROG = "autotrader watchlist"


class UsageError(Exception):
    """Bad input: one line, nothing changed."""


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], parent: argparse.ArgumentParser
) -> None:
    """Add ``watchlist list|add|remove``."""
    parser = sub.add_parser("watchlist", parents=[parent], help="pipeline strategies' watchlists")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    actions.required = True
    listing = actions.add_parser("list", parents=[parent], help="show watched markets")
    add = actions.add_parser("add", parents=[parent], help="watch a market")
    remove = actions.add_parser("remove", parents=[parent], help="stop watching a market")
    for p in (listing, add, remove):
        p.add_argument("--strategy", help="pipeline strategy (all for list)")
        p.add_argument("--json", action="store_true", help="print JSON")
    for p in (add, remove):
        p.add_argument("--market", required=True, metavar="SLUG", help="market slug")
    add.add_argument("--reason", required=True, metavar="TEXT", help="why it is watched")
    add.add_argument("--expire-after", metavar="DURATION", help="e.g. 7d (default: never)")
    listing.set_defaults(func=_runner(_list))
    add.set_defaults(func=_runner(_add))
    remove.set_defaults(func=_runner(_remove))


def _strategy(config: AppConfig, name: str | None, *, required: bool) -> str | None:
    """The pipeline strategy named ``name`` (or the only one); UsageError otherwise."""
    pipelines = [s.name for s in config.strategies if s.kind == "pipeline"]
    if name is None:
        if not required:
            return None
        if len(pipelines) == 1:
            return pipelines[0]
        raise UsageError(f"--strategy is required (pipeline strategies: {_names(pipelines)})")
    if name not in pipelines:
        what = (
            "not a pipeline strategy"
            if any(s.name == name for s in config.strategies)
            else ("not configured")
        )
        raise UsageError(f"--strategy {name}: {what} (pipeline strategies: {_names(pipelines)})")
    return name


def _names(names: list[str]) -> str:
    return ", ".join(names) or "none"


def _list(args: argparse.Namespace, config: AppConfig, engine: sa.Engine) -> int:
    from autotrader.daemons.setup import build_clock
    from autotrader.store.repos_watchlist import WatchlistRepo

    name = _strategy(config, args.strategy, required=False)
    now = build_clock(config).now()
    rows = [
        {
            "strategy": e.strategy,
            "market_slug": e.market_slug,
            "question": e.question,
            "reason": e.reason,
            "added_at": e.added_at,
            "expires_at": e.expires_at,
            "expired": e.expired(now),
            "price_at_add": e.price_at_add,
            "volume_at_add": e.volume_at_add,
        }
        for e in WatchlistRepo(engine).list(name)
    ]
    if args.json:
        print(json.dumps(rows, default=cell, indent=2))
    elif not rows:
        print("(none)")
    else:
        for r in rows:
            flag = " (expired)" if r["expired"] else ""
            print(
                f"{r['strategy']}  {r['market_slug']}  added {cell(r['added_at'])}"
                f"  price {cell(r['price_at_add'])}  volume {cell(r['volume_at_add'])}"
                f"  expires {cell(r['expires_at'])}{flag}  {r['reason']}"
            )
    return 0


def _add(args: argparse.Namespace, config: AppConfig, engine: sa.Engine) -> int:
    from autotrader.daemons.setup import build_clock
    from autotrader.store.repos_watchlist import WatchEntry, WatchlistRepo

    name = _strategy(config, args.strategy, required=True)
    assert name is not None
    if not args.reason.strip():
        raise UsageError("--reason must not be empty")
    try:
        expire = None if args.expire_after is None else parse_duration(args.expire_after)
    except ValueError as exc:
        raise UsageError(f"--expire-after {args.expire_after}: {exc}") from None
    if expire is not None and expire <= 0:
        raise UsageError(f"--expire-after must be positive (got {args.expire_after})")
    repo = WatchlistRepo(engine)
    now = build_clock(config).now()
    existing = repo.get(name, args.market)
    if existing is not None and not existing.expired(now):
        raise UsageError(f"{args.market} is already on the watchlist of {name}")
    market = asyncio.run(lookup_market(config, args.market))
    if market is None:
        raise UsageError(f"--market {args.market}: no such market")
    price = market.tokens[0].price if market.tokens else None
    entry = WatchEntry(
        strategy=name,
        market_slug=market.slug,
        market_id=market.id,
        question=market.question,
        reason=args.reason,
        added_at=now,
        expires_at=None if expire is None else now + timedelta(seconds=expire),
        price_at_add=price,
        volume_at_add=market.volume_usd,
        meta={"source": "cli"},
    )
    if not repo.add(entry):
        raise UsageError(f"{args.market} is already on the watchlist of {name}")
    _done(args, "added", name, market.slug)
    return 0


def _remove(args: argparse.Namespace, config: AppConfig, engine: sa.Engine) -> int:
    from autotrader.store.repos_watchlist import WatchlistRepo

    name = _strategy(config, args.strategy, required=True)
    assert name is not None
    if not WatchlistRepo(engine).remove(name, args.market):
        raise UsageError(f"{args.market} is not on the watchlist of {name}")
    _done(args, "removed", name, args.market)
    return 0


def _done(args: argparse.Namespace, what: str, strategy: str, slug: str) -> None:
    if args.json:
        print(json.dumps({"action": what, "strategy": strategy, "market_slug": slug}))
    else:
        print(f"{what} {slug} {'to' if what == 'added' else 'from'} the watchlist of {strategy}")


Action = Callable[[argparse.Namespace, AppConfig, sa.Engine], int]


def _runner(action: Action) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        config = load_or_report(config_path(args))
        if config is None:
            return 1
        from autotrader.store.db import create_db_engine, db_errors

        # No migrations here (the daemons and `autotrader db upgrade` apply them): a database
        # without the table is a one-line error, as any other database problem.
        try:
            with db_errors(config.database_url, connecting=True):
                engine = create_db_engine(config.database_url)
            try:
                with db_errors(config.database_url):
                    return action(args, config, engine)
            finally:
                engine.dispose()
        except (UsageError, AutotraderError) as exc:
            print(f"{PROG} {args.action}: error: {' '.join(str(exc).split())}", file=sys.stderr)
            return 1

    return run
