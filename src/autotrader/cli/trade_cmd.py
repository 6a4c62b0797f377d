"""`autotrader trade buy|sell …`: write an order intent for the executor and wait for its end.

The intent goes through the executor like any strategy's: risk checks, the venue, fills. By
default the command waits (polling the database, with a deadline) for the intent's terminal
status and prints it; ``--no-wait`` prints the intent id and returns at once.

Exit codes: 0 filled, partially filled or resting; 3 rejected, expired or failed; 4 still not
finished at the deadline (the executor may not be running); 1 bad input or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from autotrader.cli import config_path, load_or_report, lookup_market
from autotrader.config import AppConfig
from autotrader.config_base import parse_duration
from autotrader.domain.intents import IntentKind, IntentStatus, OrderIntent
from autotrader.domain.markets import Market
from autotrader.domain.orders import Side
from autotrader.errors import AutotraderError
from autotrader.nudge import nudge_path
from autotrader.store.repos_intents import DuplicateEntry, IntentRepo, StoredIntent

PROG = "autotrader trade"
EXIT_OK, EXIT_ERROR, EXIT_NOT_DONE, EXIT_TIMEOUT = 0, 1, 3, 4
_DONE_OK = (IntentStatus.FILLED, IntentStatus.PARTIALLY_FILLED, IntentStatus.RESTING)
POLL_SECS = 0.05


class UsageError(Exception):
    """Bad input: one line, nothing written."""


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], parent: argparse.ArgumentParser
) -> None:
    """Add ``trade buy|sell``."""
    parser = sub.add_parser("trade", parents=[parent], help="place a trade through the executor")
    parser.add_argument("side", choices=["buy", "sell"])
    parser.add_argument("--strategy", required=True, help="configured strategy to trade for")
    parser.add_argument("--market", required=True, metavar="SLUG", help="market slug")
    parser.add_argument("--outcome", required=True, help="outcome to trade (e.g. Up)")
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--usd", help="USD to spend (buy only)")
    size.add_argument("--shares", help="number of shares")
    parser.add_argument("--limit", metavar="PRICE", help="limit (or worst acceptable) price")
    parser.add_argument("--type", choices=["market", "limit"], default="market")
    parser.add_argument("--valid-for", default="30s", help="how long the executor may try (30s)")
    parser.add_argument("--no-wait", action="store_true", help="return once the intent is written")
    parser.add_argument("--timeout", type=float, default=None, help="real seconds to wait")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    parser.set_defaults(func=run)


def _decimal(name: str, text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise UsageError(f"{name}: not a number: {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise UsageError(f"{name} must be a number > 0 (got {text!r})")
    return value


def build_intent(args: argparse.Namespace, config: AppConfig, market: Market) -> OrderIntent:
    """The intent the arguments describe (UsageError for anything inconsistent)."""
    if not any(s.name == args.strategy for s in config.strategies):
        names = ", ".join(s.name for s in config.strategies) or "none"
        raise UsageError(f"--strategy {args.strategy}: not configured (strategies: {names})")
    try:
        token = market.token(args.outcome)
        valid_secs = parse_duration(args.valid_for)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    from autotrader.daemons.setup import build_clock

    now = build_clock(config).now()
    try:
        return OrderIntent(
            id=uuid.uuid4().hex,
            strategy=args.strategy,
            market_slug=market.slug,
            token_id=token.token_id,
            outcome=token.outcome,
            side=Side(args.side.upper()),
            kind=IntentKind(args.type),
            amount_usd=_decimal("--usd", args.usd),
            shares=_decimal("--shares", args.shares),
            limit_price=_decimal("--limit", args.limit),
            valid_until=now + timedelta(seconds=valid_secs),
            entry_key=None,
            reason="cli",
            created_at=now,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _wait(repo: IntentRepo, intent_id: str, timeout: float) -> StoredIntent | None:
    deadline = time.monotonic() + timeout
    while True:
        stored = repo.get(intent_id)
        if stored is not None and stored.terminal:
            return stored
        if time.monotonic() >= deadline:
            return None
        time.sleep(POLL_SECS)  # polling interval, not a synchronisation


def _report(stored: StoredIntent, as_json: bool) -> int:
    if as_json:
        doc = {
            "id": stored.id,
            "status": stored.status.value,
            "reason_code": stored.reason_code,
            "reason": stored.reason_text,
        }
        print(json.dumps(doc))
    else:
        print(f"{stored.status.value} [{stored.reason_code}] {stored.reason_text}")
    return EXIT_OK if stored.status in _DONE_OK else EXIT_NOT_DONE


def run(args: argparse.Namespace) -> int:
    """Write the intent; wait for and print its outcome unless --no-wait."""
    config = load_or_report(config_path(args))
    if config is None:
        return EXIT_ERROR
    from autotrader.daemons.setup import open_database

    try:
        market = asyncio.run(lookup_market(config, args.market))
        if market is None:
            raise UsageError(f"--market {args.market}: no such market")
        intent = build_intent(args, config, market)
    except (UsageError, AutotraderError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    engine = open_database(config)
    if engine is None:
        return EXIT_ERROR
    try:
        repo = IntentRepo(engine, nudge=nudge_path(config.state_dir))
        added = repo.add(intent)
        if isinstance(added, DuplicateEntry):
            print(f"{PROG}: error: {added.message}", file=sys.stderr)
            return EXIT_ERROR
        if args.no_wait:
            print(intent.id)
            return EXIT_OK
        valid_real = (intent.valid_until - intent.created_at).total_seconds() / config.clock.speed
        stored = _wait(repo, intent.id, args.timeout or valid_real + 60)
        if stored is None:
            print(f"{PROG}: intent {intent.id} not finished yet (is the executor running?)")
            return EXIT_TIMEOUT
        return _report(stored, args.json)
    finally:
        engine.dispose()
