"""The crash hook for kill -9 tests: ``AUTOTRADER_FAULT_KILL_AT=<step>`` kills the executor there.

Steps of the order path, in order: ``claimed``, ``order_created``, ``hash_stored`` (the order
row and its hash are one commit, so these two are the same moment), ``post_sent`` (the POST
returned, its answer not yet looked at), ``post_answered`` (the answer read, nothing of it
stored yet), ``fill_inserted`` (its new fills written, their events not yet: the same
transaction, so a kill here stores neither), ``fill_stored`` (its fills and their events stored;
the order's status and the intent not yet).
``settling``: a settlement decided, nothing of it stored yet. Unset in production; the variable
is read once per process.
"""

from __future__ import annotations

import os
import signal

FAULT_ENV = "AUTOTRADER_FAULT_KILL_AT"
STEPS = (
    "claimed",
    "order_created",
    "hash_stored",
    "post_sent",
    "post_answered",
    "fill_inserted",
    "fill_stored",
    "settling",
)
_KILL_AT = os.environ.get(FAULT_ENV) or None


def kill_point(step: str) -> None:
    """SIGKILL this process if the fault hook names ``step`` (no cleanup, like a power cut)."""
    if step not in STEPS:
        raise ValueError(f"unknown fault step {step!r}; one of {STEPS}")
    if step == _KILL_AT:
        os.kill(os.getpid(), signal.SIGKILL)
