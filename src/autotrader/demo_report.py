"""What the demo shows beside the signals: events as they happen, and the summary at the end.

The summary runs the same commands an operator would (``autotrader strategy list``,
``autotrader trades``, ``autotrader page render``) so the demo also shows how to look.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa

from autotrader.config import AppConfig
from autotrader.notify.sink import SmtpSink
from autotrader.store.db import create_db_engine
from autotrader.store.repos_runtime import EventRepo

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def fresh_state(config: AppConfig) -> None:
    """Start from nothing: a fresh simulated timeline (the replay starts again at its first
    bar), an empty database and no old status page, so what the demo prints is this run's."""
    state = config.state_dir
    for name in ("clock.json", "signal.json", "trades.jsonl", "api-creds.json"):
        (state / name).unlink(missing_ok=True)
    for db in state.glob("autotrader.db*"):
        db.unlink()
    shutil.rmtree(config.status_page.output_dir, ignore_errors=True)


def start_sink(config: AppConfig) -> SmtpSink | None:
    """A local SMTP server where the demo's e-mails land (only for a loopback smtp_host)."""
    email = config.notifications.email
    if email is None or email.smtp_host not in _LOOPBACK:
        return None
    from autotrader.notify.sink import start_smtp_sink

    sink = start_smtp_sink(email.smtp_host, email.smtp_port)
    print(f"SMTP sink listening on {email.smtp_host}:{email.smtp_port}")
    return sink


class EventTail:
    """Prints the notification events the daemons record, once each, as they appear."""

    def __init__(self, config: AppConfig) -> None:
        self._engine: sa.Engine = create_db_engine(config.database_url)
        self._events = EventRepo(self._engine)
        self._last_id = 0

    def print_new(self, out: TextIO) -> None:
        """Print the events recorded since the last call (none while the DB is not ready)."""
        try:
            events = self._events.list(limit=200)
        except sa.exc.SQLAlchemyError:
            return  # the daemons have not created the tables yet
        for event in sorted(events, key=lambda e: e.id):
            if event.id <= self._last_id:
                continue
            self._last_id = event.id
            summary = event.payload.get("summary") or ""
            who = f"[{event.strategy}] " if event.strategy else ""
            print(f"  event {event.type:<18} {who}{summary}", file=out, flush=True)

    def close(self) -> None:
        """Release the database connection."""
        self._engine.dispose()


def _cli(config_path: Path, *args: str) -> str:
    argv = [sys.executable, "-m", "autotrader", *args, "--config", str(config_path)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    return (done.stdout + done.stderr).rstrip()


def report(config_path: Path, config: AppConfig, sink: SmtpSink | None) -> None:
    """Print what the strategies did, render the status page and count the e-mails."""
    for title, args in (
        ("strategies", ("strategy", "list")),
        ("trades (autotrader trades)", ("trades",)),
        ("ledger (autotrader ledger)", ("ledger",)),
    ):
        print(f"\n== {title}\n{_cli(config_path, *args)}")
    page = _cli(config_path, "page", "render")
    print(f"\nstatus page: {page.splitlines()[-1] if page else '(not rendered)'}")
    if sink is not None:
        print(f"e-mails delivered to the local SMTP sink: {sink.count()}")
        sink.stop()
