"""Scheduler tables: strategy schedule state and the runs log (issue 5).

Imported at the end of ``models.py`` so every table is on ``Base.metadata``.

* ``strategy_state``: one row per strategy the scheduler has seen. ``desired`` is the CLI's
  start/stop override (NULL = follow the YAML ``enabled``); ``run_now_at`` a pending
  ``strategy run-now`` request; counters and the next run. Pause lives in
  ``strategy_runtime`` (shared with the executor), not here.
* ``strategy_runs``: the last runs of each strategy (50 kept). ``scheduled_for`` (when the run
  was due; NULL for a manual run) and ``trigger`` (schedule | manual) are additions to the
  shared data model, so start lateness can be measured and shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from autotrader.store.models import Base

_NAME = 64
_CODE = 16


class StrategyStateRow(Base):
    """What the scheduler knows about one strategy across restarts."""

    __tablename__ = "strategy_state"

    strategy: Mapped[str] = mapped_column(sa.String(_NAME), primary_key=True)
    desired: Mapped[str | None] = mapped_column(sa.String(_CODE))
    started_at: Mapped[datetime | None]
    last_run_at: Mapped[datetime | None]
    next_run_at: Mapped[datetime | None]
    last_outcome: Mapped[str | None] = mapped_column(sa.String(_CODE))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    consecutive_failures: Mapped[int]
    executions: Mapped[int]
    successes: Mapped[int]
    failures: Mapped[int]
    run_now_at: Mapped[datetime | None]
    definition_hash: Mapped[str | None] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime]


class StrategyRunRow(Base):
    """One execution of a strategy: when, how it ended, items per node, intents written."""

    __tablename__ = "strategy_runs"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    strategy: Mapped[str] = mapped_column(sa.String(_NAME), index=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(sa.String(_CODE))
    nodes: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    intents_created: Mapped[int]
    error: Mapped[str | None] = mapped_column(sa.Text)
    note: Mapped[str | None] = mapped_column(sa.Text)
    scheduled_for: Mapped[datetime | None]
    trigger: Mapped[str] = mapped_column(sa.String(_CODE))
