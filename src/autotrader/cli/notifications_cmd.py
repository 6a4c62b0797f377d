"""`autotrader notifications [--unread] [--json]` and `autotrader notifications read ID|--all`.

The in-app notification centre is the database: every daemon records events there, the
scheduler delivers them. The listing shows each event (newest first), whether it was read, and
how it fared on each channel: sent, queued (with the digest it waits for) or retrying (with the
attempts and the last error).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from autotrader.cli import config_path, load_or_report
from autotrader.config import AppConfig
from autotrader.errors import AutotraderError
from autotrader.store.db import create_db_engine, db_errors
from autotrader.store.repos_notify import DeliveryRepo, DeliveryState
from autotrader.store.repos_runtime import EventRepo, NotificationEvent
from autotrader.tables import aligned

PROG = "autotrader notifications"


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], parent: argparse.ArgumentParser
) -> None:
    """Add ``notifications`` (list) with its ``read`` subcommand."""
    parser = sub.add_parser(
        "notifications", parents=[parent], help="list notifications and their delivery; mark read"
    )
    parser.add_argument("--unread", action="store_true", help="only unread ones")
    parser.add_argument("--type", help="only this event type (e.g. trade_executed)")
    parser.add_argument("--strategy", help="only this strategy")
    parser.add_argument("--limit", type=int, default=50, help="at most this many (50)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(func=_list)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    read = actions.add_parser("read", parents=[parent], help="mark one (ID) or --all read")
    target = read.add_mutually_exclusive_group(required=True)
    target.add_argument("id", nargs="?", type=int, help="the notification's id")
    target.add_argument("--all", action="store_true", help="every unread notification")
    read.set_defaults(func=_read)


def _with_engine(
    name: str, args: argparse.Namespace, body: Callable[[AppConfig, sa.Engine], int]
) -> int:
    config = load_or_report(config_path(args))
    if config is None:
        return 1
    try:
        with db_errors(config.database_url, connecting=True):
            engine = create_db_engine(config.database_url)
        try:
            with db_errors(config.database_url):
                return body(config, engine)
        finally:
            engine.dispose()
    except (AutotraderError, ValueError) as exc:
        print(f"{name}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1


def _list(args: argparse.Namespace) -> int:
    if args.limit < 1:
        print(f"{PROG}: error: --limit must be at least 1 (got {args.limit})", file=sys.stderr)
        return 2

    def body(config: AppConfig, engine: sa.Engine) -> int:
        events = EventRepo(engine).list(
            unread=True if args.unread else None,
            type=args.type,
            strategy=args.strategy,
            limit=args.limit,
        )
        repo = DeliveryRepo(engine)
        ids = [e.id for e in events]
        states, planned = repo.states_for(ids), repo.planned(ids)
        rows = [_row(e, states.get(e.id, []), e.id in planned) for e in events]
        if args.json:
            print(json.dumps(rows, indent=2, default=str))
        else:
            _print_table(rows, config.tz)
        return 0

    return _with_engine(PROG, args, body)


def _row(event: NotificationEvent, states: list[DeliveryState], planned: bool) -> dict[str, Any]:
    summary = event.payload.get("summary")
    return {
        "id": event.id,
        "type": event.type,
        "strategy": event.strategy,
        "created_at": event.created_at.isoformat(),
        "read_at": event.read_at.isoformat() if event.read_at else None,
        "summary": summary if isinstance(summary, str) else event.type,
        "planned": planned,
        "deliveries": [_state(s) for s in states],
        "payload": event.payload,
    }


def _state(s: DeliveryState) -> dict[str, Any]:
    return {
        "delivery_id": s.delivery_id,
        "channel": s.channel,
        "kind": s.kind,
        "status": s.status,
        "attempts": s.attempts,
        "due_at": s.due_at.isoformat(),
        "next_attempt_at": s.next_attempt_at.isoformat() if s.status != "sent" else None,
        "sent_at": s.sent_at.isoformat() if s.sent_at else None,
        "last_error": s.last_error,
    }


def _delivery_text(row: dict[str, Any], tz: ZoneInfo) -> str:
    if not row["planned"]:
        return "not planned yet"
    if not row["deliveries"]:
        return "-"
    parts = []
    for d in row["deliveries"]:
        if d["status"] == "sent":
            parts.append(f"{d['channel']} sent {_local(d['sent_at'], tz)}")
        elif d["status"] == "retrying":
            parts.append(
                f"{d['channel']} retrying ({d['attempts']} failed, next "
                f"{_local(d['next_attempt_at'], tz)}: {d['last_error']})"
            )
        else:
            what = "" if d["kind"] == "event" else f" for the {d['kind'].replace('_', ' ')} digest"
            parts.append(f"{d['channel']} pending{what} at {_local(d['due_at'], tz)}")
    return "; ".join(parts)


def _local(iso: str | None, tz: ZoneInfo) -> str:
    if iso is None:
        return "-"
    return datetime.fromisoformat(iso).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _print_table(rows: list[dict[str, Any]], tz: ZoneInfo) -> None:
    if not rows:
        print("(no notifications)")
        return
    cols = ("id", "time", "type", "strategy", "read", "delivery", "summary")
    cells = [
        [
            str(r["id"]),
            _local(r["created_at"], tz),
            r["type"],
            r["strategy"] or "-",
            "yes" if r["read_at"] else "NEW",
            _delivery_text(r, tz),
            " ".join(str(r["summary"]).split()),
        ]
        for r in rows
    ]
    print(aligned(cols, cells))


def _read(args: argparse.Namespace) -> int:
    name = f"{PROG} read"

    def body(config: AppConfig, engine: sa.Engine) -> int:
        repo = EventRepo(engine)
        if args.all:
            print(f"marked {repo.mark_read('all')} notification(s) read")
            return 0
        if repo.mark_read(args.id):
            print(f"notification {args.id} marked read")
            return 0
        if _exists(engine, args.id):
            print(f"notification {args.id} was already read")
            return 0
        print(f"{name}: error: no notification with id {args.id}", file=sys.stderr)
        return 1

    return _with_engine(name, args, body)


def _exists(engine: sa.Engine, event_id: int) -> bool:
    from autotrader.store.models import NOTIFICATION_EVENTS

    ev = NOTIFICATION_EVENTS.c
    query = sa.select(ev.id).where(ev.id == event_id)
    with engine.connect() as conn:
        return conn.execute(query).first() is not None
