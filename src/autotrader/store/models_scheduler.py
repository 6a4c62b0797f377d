"""Scheduler tables: strategy schedule state and the runs log (issue 5).

Imported at the end of ``models.py`` so every table is on ``metadata``.

* ``strategy_state``: one row per strategy the scheduler has seen. ``desired`` is the CLI's
  start/stop override (NULL = follow the YAML ``enabled``); ``run_now_at`` a pending
  ``strategy run-now`` request; counters and the next run. Pause lives in
  ``strategy_runtime`` (shared with the executor), not here.
* ``strategy_runs``: the last runs of each strategy (50 kept). ``scheduled_for`` (when the run
  was due; NULL for a manual run) and ``trigger`` (schedule | manual) are additions to the
  shared data model, so start lateness can be measured and shown.
"""

from __future__ import annotations

import sqlalchemy as sa

from autotrader.store.models import ID_WIDTH, metadata
from autotrader.store.types import UTCDateTime

# What the scheduler knows about one strategy across restarts.
STRATEGY_STATE = sa.Table(
    "strategy_state",
    metadata,
    sa.Column("strategy", sa.String(ID_WIDTH), primary_key=True),
    sa.Column("desired", sa.String(16)),
    sa.Column("started_at", UTCDateTime()),
    sa.Column("last_run_at", UTCDateTime()),
    sa.Column("next_run_at", UTCDateTime()),
    sa.Column("last_outcome", sa.String(16)),
    sa.Column("last_error", sa.Text()),
    sa.Column("consecutive_failures", sa.Integer(), nullable=False),
    sa.Column("executions", sa.Integer(), nullable=False),
    sa.Column("successes", sa.Integer(), nullable=False),
    sa.Column("failures", sa.Integer(), nullable=False),
    sa.Column("run_now_at", UTCDateTime()),
    sa.Column("definition_hash", sa.String(ID_WIDTH)),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)


# One execution of a strategy: when, how it ended, items per node, intents written.
STRATEGY_RUNS = sa.Table(
    "strategy_runs",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("strategy", sa.String(ID_WIDTH), nullable=False, index=True),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("ended_at", UTCDateTime()),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("nodes", sa.JSON(), nullable=False),
    sa.Column("intents_created", sa.Integer(), nullable=False),
    sa.Column("error", sa.Text()),
    sa.Column("note", sa.Text()),
    sa.Column("scheduled_for", UTCDateTime()),
    sa.Column("trigger", sa.String(16), nullable=False),
)
