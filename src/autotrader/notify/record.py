"""Recording events from daemon code paths that must not fail because of it.

``EventRepo.record`` raises on a database error; a daemon reporting that its configuration was
refused or its feed went stale must carry on either way, so ``record_event`` logs one line and
returns None instead.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from autotrader.store.repos_runtime import EventRepo

log = logging.getLogger("autotrader.notify")


def record_event(
    engine: sa.Engine, type: str, strategy: str | None, payload: dict[str, Any]
) -> int | None:
    """Record a notification event; its id, or None (logged) when the database refused it."""
    try:
        return EventRepo(engine).record(type, strategy, payload)
    except (sa.exc.SQLAlchemyError, TypeError, ValueError) as exc:
        log.error("could not record the %s notification: %s", type, " ".join(str(exc).split()))
        return None


def record_reload_failed(engine: sa.Engine, daemon: str, problems: Sequence[str]) -> int | None:
    """``config_reload_failed``: the daemon kept its old configuration (first problem named)."""
    first = " ".join(problems[0].split()) if problems else "invalid configuration"
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    payload = {
        "daemon": daemon,
        "summary": f"{daemon} daemon refused the new configuration: {first}{more}",
        "problems": [" ".join(p.split()) for p in problems[:20]],
    }
    return record_event(engine, "config_reload_failed", None, payload)


def record_feed_stale(engine: sa.Engine, stale_after_secs: float, feeds: str) -> int | None:
    """``feed_stale``: the signal daemon has no fresh BTC price and publishes NO_TRADE."""
    payload = {
        "daemon": "signal",
        "summary": (
            f"BTC price feed stale: no fresh price within {stale_after_secs:g}s, "
            f"publishing NO_TRADE ({feeds})"
        ),
        "stale_after_secs": stale_after_secs,
        "feeds": feeds,
    }
    return record_event(engine, "feed_stale", None, payload)
