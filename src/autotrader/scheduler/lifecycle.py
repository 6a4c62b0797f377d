"""A strategy's status, and the facts it is derived from.

Four statuses (seed 002): ``running``, ``paused``, ``stopped`` and ``error``:

* **stopped**: ``strategy stop`` (``strategy_state.desired = "stopped"``), or no override and
  the YAML says ``enabled: false``. ``strategy start`` overrides ``enabled: false`` the other way.
* **paused**: ``strategy_runtime.paused`` (shared with the executor, so one pause stops new runs
  and new entries alike): by ``strategy pause``, the executor's loss limit or venue failures,
  or the scheduler after ``scheduler.max_consecutive_failures`` failed runs.
* **error**: running, but the last run(s) failed (``consecutive_failures > 0``); it keeps
  running until the count reaches the limit and it is paused.
* **running** otherwise.

Only ``running`` and ``error`` strategies are scheduled.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum

from autotrader.config_strategies import StrategyConfig


class Status(StrEnum):
    """What a strategy is doing."""

    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    ERROR = "error"

    @property
    def scheduled(self) -> bool:
        """Whether runs are scheduled in this status."""
        return self in (Status.RUNNING, Status.ERROR)


def strategy_status(
    *, enabled: bool, desired: str | None, paused: bool, consecutive_failures: int
) -> Status:
    """The status of a strategy (see the module docstring for the rules)."""
    if desired == "stopped" or (desired is None and not enabled):
        return Status.STOPPED
    if paused:
        return Status.PAUSED
    if consecutive_failures > 0:
        return Status.ERROR
    return Status.RUNNING


def definition_hash(strategy: StrategyConfig) -> str:
    """A digest of the strategy's definition: a reload changed it iff the digest changed."""
    doc = strategy.model_dump(mode="json")
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class Facts:
    """Everything the status depends on, as the scheduler holds it in memory."""

    enabled: bool
    desired: str | None
    paused: bool
    consecutive_failures: int

    @property
    def status(self) -> Status:
        """The status these facts give."""
        return strategy_status(
            enabled=self.enabled,
            desired=self.desired,
            paused=self.paused,
            consecutive_failures=self.consecutive_failures,
        )


def transition(before: Status | None, after: Status) -> str | None:
    """What the scheduler must do when a strategy's status changes: ``start``, ``halt``, or
    None (nothing: still scheduled, or still not)."""
    was = before is not None and before.scheduled
    if after.scheduled and not was:
        return "start"
    if was and not after.scheduled:
        return "halt"
    return None
