"""Plain-text tables for the CLI: one way to show a value and to align columns."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any


def cell(value: Any) -> str:
    """A value as the CLI shows it: ``-`` for none, Decimals without exponent or trailing
    zeros, times to the second (ISO 8601); also the ``default`` of ``json.dumps``."""
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if hasattr(value, "isoformat"):
        return str(value.isoformat(timespec="seconds"))
    return str(value)


def aligned(heads: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """``heads`` and ``rows`` as left-aligned columns two spaces apart (no trailing blanks)."""
    widths = [max(len(x) for x in col) for col in zip(heads, *rows, strict=True)]
    return "\n".join(
        "  ".join(x.ljust(w) for x, w in zip(line, widths, strict=True)).rstrip()
        for line in [heads, *rows]
    )
