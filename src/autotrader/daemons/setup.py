"""What a daemon prepares before its service exists: the database (migrated) and the clock."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from autotrader.clock import Clock, LiveClock, ScaledClock
from autotrader.config import AppConfig
from autotrader.errors import AutotraderError, OperationalError
from autotrader.store.db import create_db_engine

log = logging.getLogger("autotrader.runtime")

CLOCK_FILE = "clock.json"


def safe_url(url: str) -> str:
    """The URL with any password masked, fit for a log line."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: say nothing that might be a secret
        return "<unparsable database_url>"


def open_database(config: AppConfig) -> sa.Engine | None:
    """Create ``state_dir``, apply the migrations, create the engine; None (logged) on failure.

    Several daemons may start at once: ``upgrade`` is safe when they race.
    """
    url = config.database_url
    try:
        config.state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.error("not starting: cannot create the state folder %s: %s", config.state_dir, exc)
        return None
    try:
        engine = create_db_engine(url)
        if not at_head(engine):
            migrate_in_child(url)
        return engine
    except AutotraderError as exc:  # the store's own one-line errors, password hidden
        log.error("not starting: %s", exc)
        return None
    except Exception as exc:
        # Unreachable server, locked or read-only file, failed migration: one line, exit 1,
        # and systemd tries again after RestartSec.
        log.error(
            "not starting: cannot prepare the database %s: %s: %s",
            safe_url(url),
            type(exc).__name__,
            " ".join(str(exc).split()),
        )
        return None


_REVISION = re.compile(r"^(down_)?revision\b[^=]*=\s*(?:None|[\"'](\w+)[\"'])", re.MULTILINE)


def known_head() -> str | None:
    """The newest migration this release ships, read from the version files' ``revision`` /
    ``down_revision`` lines (without importing Alembic, which costs a daemon seconds and
    megabytes); None if the chain cannot be read that simply (then the child decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (Path(__file__).parent.parent / "store" / "migrations" / "versions").glob("*.py"):
        for down, rev in _REVISION.findall(path.read_text(encoding="utf-8")):
            if rev:
                (parents if down else revisions).add(rev)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def at_head(engine: sa.Engine) -> bool:
    """Whether the database's recorded revision is this release's head: nothing to migrate,
    so the start-up needs no migration child (the common case of a restart)."""
    head = known_head()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    except sa.exc.DBAPIError:  # no version table yet: a new database
        return False
    return [r[0] for r in rows] == [head]


def migrate_in_child(url: str) -> None:
    """Apply the migrations in a short-lived child process (``autotrader.store.migrate``).

    The child exits and takes Alembic's memory with it; a daemon only keeps what it uses.
    Its one-line error (stderr) becomes ours.
    """
    env = dict(os.environ, AUTOTRADER_DATABASE_URL=url)
    for key in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
        env.pop(key, None)  # only the main process speaks to systemd
    proc = subprocess.run(
        [sys.executable, "-m", "autotrader.store.migrate"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        raise OperationalError(lines[-1] if lines else f"migration exited {proc.returncode}")


def build_clock(config: AppConfig) -> Clock:
    """Wall time, or the simulated time every process of this installation shares.

    Without ``clock.start`` a simulated clock starts at "now"; a process starting later joins
    the timeline already recorded in ``<state_dir>/clock.json`` (same speed) rather than
    starting a new one.
    """
    speed = float(config.clock.speed)
    start_at = config.clock.start
    if speed == 1.0 and start_at is None:
        return LiveClock()
    anchor_file = config.state_dir / CLOCK_FILE
    start = start_at.timestamp() if start_at is not None else _recorded_start(anchor_file, speed)
    return ScaledClock.shared(anchor_file, start, speed)


def _recorded_start(anchor_file: Path, speed: float) -> float:
    try:
        data = json.loads(anchor_file.read_text())
        if data.get("speed") == speed:
            return float(data["start"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return time.time()
