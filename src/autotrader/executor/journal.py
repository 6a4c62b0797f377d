"""``trades.jsonl`` in ``state_dir``: one JSON line per order result, durable once written.

Each line is appended, flushed and fsynced before the executor moves on, so a line that was
written survives a crash or power loss. The database stays the source of truth; this file is
the operator's plain log (``tail trades.jsonl | jq``), as the seed's was.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

JOURNAL_FILE = "trades.jsonl"


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class TradesJournal:
    """Appends order results to ``<state_dir>/trades.jsonl``."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / JOURNAL_FILE

    def append(self, record: dict[str, Any]) -> None:
        """Write ``record`` as one line, flushed before returning.

        Not fsynced: the database (fills, orders) is the record that must survive a power
        cut, and it does not fsync every commit either (SQLite ``synchronous=NORMAL``); an
        fsync here cost more than the rest of an order's bookkeeping."""
        line = json.dumps(record, default=_default, separators=(",", ":")) + "\n"
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line)
