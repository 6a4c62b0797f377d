"""The published signal: ``<state_dir>/signal.json`` as the signal daemon writes it, read back.

``autotrader status`` and ``autotrader signal`` both read it with ``read_published``, so they
agree on when a signal is absent, unreadable or fine.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from autotrader.domain.signals import Direction

SIGNAL_FILE = "signal.json"


def published_path(state_dir: Path | str) -> Path:
    """Where the signal daemon publishes its signal."""
    return Path(state_dir) / SIGNAL_FILE


@dataclass(frozen=True)
class PublishedSignal:
    """A checked ``signal.json``: its document and when it was written."""

    path: Path
    doc: dict[str, Any]
    #: The file's modification time (epoch seconds, real time): when the daemon last wrote it.
    written_at: float

    @property
    def timestamp(self) -> float:
        """The signal's own time (epoch seconds, on the daemons' clock)."""
        return datetime.fromisoformat(self.doc["timestamp"]).timestamp()


def read_published(path: Path) -> PublishedSignal:
    """Read and check the signal at ``path``.

    Raises ``FileNotFoundError`` when there is none yet, ``OSError`` when it cannot be read and
    ``ValueError`` (saying what is wrong) when it is not a signal document.
    """
    raw = path.read_bytes()
    written_at = path.stat().st_mtime
    return PublishedSignal(path, _checked(raw), written_at)


def _checked(raw: bytes) -> dict[str, Any]:
    """The signal document in ``raw``, checked enough to show; ValueError saying what is wrong."""
    try:
        doc = json.loads(raw)
    except ValueError as err:
        raise ValueError(f"not JSON ({err})") from None
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    for key in ("timestamp", "direction", "confidence"):
        if key not in doc:
            raise ValueError(f"no {key!r} field")
    if doc["direction"] not in {d.value for d in Direction}:
        raise ValueError(f"direction: unknown value {doc['direction']!r}")
    confidence = doc["confidence"]
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        raise ValueError(f"confidence: expected a number, got {confidence!r}")
    if not _finite(confidence):
        raise ValueError(f"confidence: not a finite number ({confidence!r})")
    for key in ("basis", "window"):
        if not isinstance(doc.get(key) or {}, dict):
            raise ValueError(f"{key}: expected an object, got {doc[key]!r}")
    _check_timestamp(doc["timestamp"])
    return doc


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond any float
        return False


def _check_timestamp(value: object) -> None:
    try:
        if not isinstance(value, str):
            raise ValueError
        datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"timestamp: not an ISO time: {value!r}") from None
