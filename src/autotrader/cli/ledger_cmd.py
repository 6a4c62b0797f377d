"""`autotrader orders|trades|positions|ledger [--strategy S] [--json]`: what the executor did.

Read-only views of the database: orders (newest first), trades (the fills, oldest first),
positions (replayed from the fills; with ``status`` open, or redeemable for a settled live
winner whose tokens are still to be redeemed on-chain) and the ledger per configured strategy.
``--json`` prints one JSON document (a list, or an object per strategy for ``ledger``); money
as exact strings.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from autotrader.cli import config_path, load_or_report
from autotrader.config import AppConfig
from autotrader.domain.positions import PositionError, PositionKey
from autotrader.errors import AutotraderError
from autotrader.executor.books import all_ledgers, load_snapshot
from autotrader.store.db import create_db_engine, db_errors
from autotrader.store.repos_trading import FillRepo, OrderRepo
from autotrader.tables import aligned, cell

Rows = list[dict[str, Any]]


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], parent: argparse.ArgumentParser
) -> None:
    """Add ``orders``, ``trades``, ``positions`` and ``ledger``."""
    views: dict[str, tuple[str, Callable[[AppConfig, sa.Engine, str | None], Rows]]] = {
        "orders": ("orders placed by the executor (newest first)", _orders),
        "trades": ("fills, the source of truth (oldest first)", _trades),
        "positions": ("open positions per strategy, from the fills", _positions),
        "ledger": ("allocated, deployed, available, P&L and fees per strategy", _ledger),
    }
    for name, (help_text, view) in views.items():
        parser = sub.add_parser(name, parents=[parent], help=help_text)
        parser.add_argument("--strategy", help="only this strategy")
        parser.add_argument("--json", action="store_true", help="print one JSON document")
        parser.add_argument("--limit", type=int, default=100, help="at most this many (100)")
        parser.set_defaults(func=_runner(name, view))


def _orders(config: AppConfig, engine: sa.Engine, strategy: str | None) -> Rows:
    return [
        {
            "id": o.id,
            "intent_id": o.intent_id,
            "strategy": o.strategy,
            "market_slug": o.market_slug,
            "outcome": o.outcome,
            "side": o.side.value,
            "type": o.order_type.value,
            "price": o.price,
            "size": o.size,
            "amount_usd": o.amount_usd,
            "size_matched": o.size_matched,
            "status": o.status.value,
            "venue_order_id": o.venue_order_id,
            "reason_code": o.reason_code,
            "created_at": o.created_at,
        }
        for o in OrderRepo(engine).list(strategy=strategy)
    ]


def _trades(config: AppConfig, engine: sa.Engine, strategy: str | None) -> Rows:
    from autotrader.store.repos_executor import position_markets

    repo = FillRepo(engine)
    fills = repo.for_strategy(strategy) if strategy else repo.all()
    markets = position_markets(engine)
    rows: Rows = []
    for r in fills:
        slug, outcome = markets.get(r.fill.token_id, (None, None))
        rows.append(
            {
                "ts": r.fill.ts,
                "strategy": r.strategy,
                "market_slug": slug,
                "outcome": outcome,
                "side": r.fill.side.value,
                "price": r.fill.price,
                "size": r.fill.size,
                "usd": r.fill.price * r.fill.size,
                "fee_usd": r.fill.fee_usd,
                "liquidity": r.fill.liquidity,
                "trade_id": r.fill.trade_id,
                "order_id": r.order_id,
                "venue_order_id": r.fill.venue_order_id,
                "token_id": r.fill.token_id,
            }
        )
    return rows


def _positions(config: AppConfig, engine: sa.Engine, strategy: str | None) -> Rows:
    # Open positions, then settled winners still to be redeemed on-chain (live mode).
    from autotrader.store.repos_executor import position_markets, redemptions

    snap, markets = load_snapshot(engine), position_markets(engine)
    rows: Rows = [
        {
            "strategy": p.strategy,
            "market_slug": markets.get(p.token_id, (None, None))[0],
            "outcome": markets.get(p.token_id, (None, None))[1],
            "token_id": p.token_id,
            "status": "open",
            "shares": p.shares,
            "avg_price": p.avg_price,
            "cost_basis_usd": p.cost_basis_usd,
            "realized_pnl_usd": p.realized_pnl_usd,
            "fees_usd": p.fees_usd,
            "redeemable_usd": None,
            "opened_at": p.opened_at,
        }
        for p in snap.history.positions.values()
        if p.is_open and strategy in (None, p.strategy)
    ]
    for r in redemptions(engine):
        if strategy not in (None, r.strategy):
            continue
        pos = snap.history.positions.get(PositionKey(r.strategy, r.token_id))
        rows.append(
            {
                "strategy": r.strategy, "market_slug": r.market_slug, "outcome": r.outcome,
                "token_id": r.token_id, "status": "redeemable", "shares": r.shares,
                "avg_price": None, "cost_basis_usd": None,
                "realized_pnl_usd": pos.realized_pnl_usd if pos else None,
                "fees_usd": pos.fees_usd if pos else None, "redeemable_usd": r.payout_usd,
                "opened_at": None,
            }
        )  # fmt: skip
    return rows


def _ledger(config: AppConfig, engine: sa.Engine, strategy: str | None) -> Rows:
    ledgers = all_ledgers(config, load_snapshot(engine))
    return [
        {
            "strategy": name,
            "allocated_usd": lg.allocated_usd,
            "deployed_usd": lg.deployed_usd,
            "available_usd": lg.available_usd,
            "realized_pnl_usd": lg.realized_pnl_usd,
            "fees_usd": lg.fees_usd,
            "net_pnl_usd": lg.net_pnl_usd,
            "balanced": lg.balanced(),
        }
        for name, lg in ledgers.items()
        if strategy in (None, name)
    ]


# Venue ids are 60-80 characters: in the table they would push everything else off the
# screen. ``--json`` carries them all.
_WIDE = frozenset({"trade_id", "order_id", "venue_order_id", "token_id"})


def _print(rows: Rows, as_json: bool, *, hide: frozenset[str] = frozenset()) -> None:
    if as_json:
        print(json.dumps(rows, default=cell, indent=2))
        return
    if not rows:
        print("(none)")
        return
    cols = [c for c in rows[0] if c not in hide]
    print(aligned(cols, [[cell(r[c]) for c in cols] for r in rows]))


def _runner(
    name: str, view: Callable[[AppConfig, sa.Engine, str | None], Rows]
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        config = load_or_report(config_path(args))
        if config is None:
            return 1
        try:
            with db_errors(config.database_url, connecting=True):
                engine = create_db_engine(config.database_url)
            try:
                rows = view(config, engine, args.strategy)
            finally:
                engine.dispose()
        except (AutotraderError, PositionError, sa.exc.SQLAlchemyError) as exc:
            print(f"autotrader {name}: error: {' '.join(str(exc).split())}", file=sys.stderr)
            return 1
        if name == "trades":  # the newest ones (fills are listed oldest first)
            rows = rows[-args.limit :] if args.limit > 0 else []
        elif name != "ledger":
            rows = rows[: max(args.limit, 0)]
        _print(rows, args.json, hide=_WIDE if name == "trades" else frozenset())
        return 0

    return run
