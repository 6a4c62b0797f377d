"""Logging for daemons under systemd: stderr lines with sd-daemon priority prefixes.

journald reads ``<N>`` at the start of a line as the syslog priority and adds its own
timestamps, so we print none. ``journalctl -u autotrader-executor -p err`` then shows only
errors.
"""

from __future__ import annotations

import logging
import sys

_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


class SdDaemonFormatter(logging.Formatter):
    """``<prio>logger: message``; every line of a multi-line message gets the prefix."""

    def format(self, record: logging.LogRecord) -> str:
        """Format one record with its sd-daemon prefix."""
        prio = _PRIORITY.get(record.levelno, 5 if record.levelno > logging.INFO else 7)
        text = super().format(record)
        return "\n".join(f"<{prio}>{line}" for line in text.splitlines() or [""])


def setup_logging(level: str = "INFO") -> None:
    """Send all autotrader logging to stderr in the sd-daemon format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SdDaemonFormatter("%(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Third-party chatter stays out of the journal unless it is a warning.
    for noisy in ("httpx", "httpcore", "websockets", "alembic", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
