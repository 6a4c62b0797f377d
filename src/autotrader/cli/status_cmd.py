"""`autotrader status [--json]`: is the suite alive, and what is the signal?

Shows every daemon that ever wrote a heartbeat (pid, state, age of its last beat, its status
line), the current signal from ``<state_dir>/signal.json``, and the trading counts: trades
(fills) today and in total, and open positions, per strategy and overall. "Today" is the
calendar day in the configured time zone on the installation's clock (the simulated one when
``clock`` says so, as the executor counts it).

A daemon is *active* when its last beat is at most ``3 × daemons.heartbeat_secs`` old and its
state is not ``stopped`` or ``failed``. Exit codes follow ``systemctl is-active``: 0 when every
known daemon is active, 3 when any is stale or down or none has ever run, 1 when the config or
the database cannot be read. The signal never changes the exit code; ``autotrader signal`` is
the command about the signal itself.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from autotrader.cli import config_path, load_or_report
from autotrader.cli.db_cmd import database_url
from autotrader.config import AppConfig
from autotrader.domain.positions import PositionError
from autotrader.errors import AutotraderError
from autotrader.signal.published import published_path, read_published
from autotrader.store.db import create_db_engine, db_errors, sanitize_url, sqlite_path
from autotrader.store.repos import Heartbeat, HeartbeatRepo

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INACTIVE = 3
STALE_FACTOR = 3
INACTIVE_STATES = frozenset({"stopped", "failed"})


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], parent: argparse.ArgumentParser
) -> None:
    """Add ``status``."""
    parser = sub.add_parser(
        "status",
        parents=[parent],
        help="daemon heartbeats and the current signal (exit 3 if any daemon is not active)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.set_defaults(func=run)


@dataclass(frozen=True)
class DaemonStatus:
    """A heartbeat judged against the clock."""

    beat: Heartbeat
    age_secs: float
    stale: bool

    @property
    def active(self) -> bool:
        """Fresh, and not in a state that means the process has ended."""
        return not self.stale and self.beat.state not in INACTIVE_STATES

    def to_json(self) -> dict[str, Any]:
        """The ``daemons[]`` entry of ``status --json``."""
        b = self.beat
        return {
            "daemon": b.daemon,
            "pid": b.pid,
            "host": b.host,
            "state": b.state,
            "status": b.status,
            "started_at": _iso(b.started_at),
            "last_beat_at": _iso(b.last_beat_at),
            "age_secs": round(self.age_secs, 3),
            "stale": self.stale,
            "active": self.active,
        }


def daemon_statuses(cfg: AppConfig, now: datetime) -> list[DaemonStatus]:
    """Every heartbeat row, judged; empty when the database or its tables do not exist yet.

    Raises ``OperationalError`` when the database cannot be reached.
    """
    url = database_url(cfg)
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return []  # never create a database just to look at it
    engine = create_db_engine(url)
    try:
        with db_errors(engine.url, connecting=True), engine.connect() as conn:
            if not sa.inspect(conn).has_table("daemon_heartbeats"):
                return []
        with db_errors(engine.url):
            beats = HeartbeatRepo(engine).all()
    finally:
        engine.dispose()
    limit = STALE_FACTOR * cfg.daemons.heartbeat_secs
    result = []
    for beat in beats:
        age = beat.age_secs(now)
        result.append(DaemonStatus(beat=beat, age_secs=age, stale=age > limit))
    return result


def read_signal(path: Path, now: datetime) -> dict[str, Any]:
    """What ``signal.json`` says: ``state`` is ``ok``, ``absent`` or ``unreadable``.

    The age is counted from the file's modification time, i.e. when the daemon last wrote it,
    which stays meaningful when the daemon runs on a simulated (demo) clock.
    """
    try:
        signal = read_published(path)
    except FileNotFoundError:
        return {"state": "absent", "path": str(path)}
    except OSError as err:
        return {"state": "unreadable", "path": str(path), "error": err.strerror or str(err)}
    except ValueError as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        return {
            "state": "unreadable",
            "path": str(path),
            "error": f"{type(err).__name__}: {reason}",
        }
    doc = signal.doc
    return {
        "state": "ok",
        "path": str(path),
        "direction": doc["direction"],
        "confidence": float(doc["confidence"]),
        "timestamp": doc["timestamp"],
        "window_slug": (doc.get("window") or {}).get("slug"),
        "age_secs": round(now.timestamp() - signal.written_at, 3),
    }


def _today_start(cfg: AppConfig) -> datetime:
    """Midnight (in ``cfg.tz``) of the installation's current day, as aware UTC."""
    now = datetime.now(UTC)
    if cfg.clock.simulated and (cfg.state_dir / "clock.json").exists():
        from autotrader.daemons.setup import build_clock

        now = build_clock(cfg).now()  # joins the recorded timeline; creates nothing
    local = now.astimezone(cfg.tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def trading_counts(cfg: AppConfig) -> dict[str, Any] | None:
    """Trades today / in total and open positions, per strategy and overall; None when there
    is no database or no executor table yet (status creates nothing)."""
    url = database_url(cfg)
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return None
    from autotrader.executor.books import load_snapshot
    from autotrader.store.repos_executor import trade_counts

    since = _today_start(cfg)
    engine = create_db_engine(url)
    try:
        with db_errors(engine.url, connecting=True), engine.connect() as conn:
            if not sa.inspect(conn).has_table("fills"):
                return None
        with db_errors(engine.url):
            counts = trade_counts(engine, since)
            positions = load_snapshot(engine).history.positions.values()
    finally:
        engine.dispose()
    names = [s.name for s in cfg.strategies]
    per: dict[str, dict[str, int]] = {
        n: {"trades_today": 0, "trades_total": 0, "open_positions": 0} for n in names
    }
    for name, (today, total) in counts.items():
        row = per.setdefault(name, {"trades_today": 0, "trades_total": 0, "open_positions": 0})
        row["trades_today"], row["trades_total"] = today, total
    for pos in positions:
        if pos.is_open:
            row = per.setdefault(
                pos.strategy, {"trades_today": 0, "trades_total": 0, "open_positions": 0}
            )
            row["open_positions"] += 1
    totals = {k: sum(r[k] for r in per.values()) for k in ("trades_today", "trades_total")}
    opened = sum(r["open_positions"] for r in per.values())
    day = since.astimezone(cfg.tz).date().isoformat()
    return {"day": day, **totals, "open_positions": opened, "strategies": per}


def run(args: argparse.Namespace) -> int:
    """``autotrader status``."""
    cfg = load_or_report(config_path(args))
    if cfg is None:
        return EXIT_ERROR
    now = datetime.now(UTC)
    try:
        daemons = daemon_statuses(cfg, now)
    except AutotraderError as err:
        print(f"autotrader status: {err}", file=sys.stderr)
        return EXIT_ERROR
    signal = read_signal(published_path(cfg.state_dir), now)
    try:
        trading = trading_counts(cfg)
    except (AutotraderError, PositionError) as err:
        print(f"autotrader status: {' '.join(str(err).split())}", file=sys.stderr)
        return EXIT_ERROR
    code = EXIT_OK if daemons and all(d.active for d in daemons) else EXIT_INACTIVE
    if args.json:
        doc = {
            "ok": code == EXIT_OK,
            "database": sanitize_url(database_url(cfg)),
            "stale_after_secs": STALE_FACTOR * cfg.daemons.heartbeat_secs,
            "daemons": [d.to_json() for d in daemons],
            "signal": signal,
            "trading": trading,
        }
        print(json.dumps(doc, indent=2))
    else:
        print(render_text(daemons, signal))
        print(render_trading(trading))
    return code


def render_text(daemons: list[DaemonStatus], signal: dict[str, Any]) -> str:
    """The human-readable report."""
    lines = []
    if daemons:
        lines.append(f"{'DAEMON':<12} {'PID':>7}  {'STATE':<10} {'LAST BEAT':>9}  {'':<7} STATUS")
        for d in daemons:
            flag = "STALE" if d.stale else ("DOWN" if not d.active else "ok")
            lines.append(
                f"{d.beat.daemon:<12} {d.beat.pid:>7}  {d.beat.state:<10} "
                f"{format_age(d.age_secs) + ' ago':>9}  {flag:<7} {d.beat.status}"
            )
    else:
        lines.append("no daemon has ever run here (no heartbeats in the database)")
    lines.append(render_signal(signal))
    return "\n".join(lines)


def render_signal(signal: dict[str, Any]) -> str:
    """One line about the signal."""
    if signal["state"] == "absent":
        return f"signal: no signal yet ({signal['path']} does not exist)"
    if signal["state"] == "unreadable":
        return f"signal: unreadable {signal['path']}: {signal['error']}"
    return (
        f"signal: {signal['direction']} confidence {signal['confidence']:.1f} "
        f"written {format_age(signal['age_secs'])} ago, window {signal['window_slug'] or '-'}"
    )


def render_trading(trading: dict[str, Any] | None) -> str:
    """Trades and open positions, overall then per strategy."""
    if trading is None:
        return "trading: no trades yet (no executor tables in the database)"
    lines = [
        f"trading ({trading['day']}): {trading['trades_today']} trades today, "
        f"{trading['trades_total']} in total, {trading['open_positions']} open positions"
    ]
    for name, row in trading["strategies"].items():
        lines.append(
            f"  {name:<20} {row['trades_today']:>4} today {row['trades_total']:>6} total "
            f"{row['open_positions']:>4} open"
        )
    return "\n".join(lines)


def format_age(secs: float) -> str:
    """``42s``, ``3m05s``, ``2h07m``, ``3d04h``."""
    s = max(0, int(secs))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")
