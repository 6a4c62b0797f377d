"""Strict readers for values inside feed payloads; every failure is a one-line ``DataError``.

The parsers of each wire format are built from these, so a malformed, truncated or wrong-typed
payload always fails the same way and never yields a price that is not a positive finite
number at a plausible time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar

from autotrader.errors import DataError
from autotrader.jsonbound import loads_bounded

T = TypeVar("T")

# Plausible epoch seconds: 2000-01-01 .. 2100-01-01. A value outside this range is almost
# always seconds read as milliseconds (or the reverse), which must not pass as a fresh price.
MIN_EPOCH_SECS = 946_684_800.0
MAX_EPOCH_SECS = 4_102_444_800.0

# JSON-style decimals only: float() alone would also take "nan", "inf", "1_000" and " 1 ".
_DECIMAL = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_ISO = re.compile(
    r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,12}))?(Z|[+-]\d{2}:?\d{2})"
)


def short(value: object, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters, for error messages that stay one line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace (newlines included) so a message is a single log line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def decode_json(raw: str | bytes, what: str) -> Any:
    """Parse a JSON document; truncated, garbled or absurdly nested input raises ``DataError``."""
    return loads_bounded(raw, what)


def expect_object(value: object, what: str) -> dict[str, Any]:
    """``value`` as a JSON object (a dict with string keys)."""
    if not isinstance(value, dict):
        raise DataError(f"{what}: expected a JSON object, got {type(value).__name__}")
    return value


def expect_list(value: object, what: str) -> list[Any]:
    """``value`` as a JSON array."""
    if not isinstance(value, list):
        raise DataError(f"{what}: expected a JSON array, got {type(value).__name__}")
    return value


def field(obj: dict[str, Any], key: str, what: str) -> Any:
    """``obj[key]``; a missing key raises ``DataError``."""
    if key not in obj:
        raise DataError(f"{what}: missing '{key}'")
    return obj[key]


def field_as(obj: dict[str, Any], key: str, what: str, read: Callable[[object, str], T]) -> T:
    """``obj[key]`` checked by ``read`` (``price``, ``epoch_ms``, …) as ``what 'key'``."""
    return read(field(obj, key, what), f"{what} '{key}'")


def object_rows(rows: list[Any], what: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each member of a JSON array as an object, with its label ``what[i]`` for messages."""
    for i, row in enumerate(rows):
        label = f"{what}[{i}]"
        yield label, expect_object(row, label)


def text_field(obj: dict[str, Any], key: str, what: str) -> str:
    """A string member of ``obj``."""
    value = field(obj, key, what)
    if not isinstance(value, str):
        raise DataError(f"{what}: '{key}' must be a string (got {short(value)})")
    return value


def number(value: object, what: str) -> float:
    """A finite number given as a JSON number or a decimal string (exchanges use both)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise DataError(f"{what}: expected a number (got {short(value)})")
    if isinstance(value, str) and not _DECIMAL.fullmatch(value):
        raise DataError(f"{what}: expected a decimal number (got {short(value)})")
    try:
        result = float(value)
    except (ValueError, OverflowError):
        raise DataError(f"{what}: not a usable number (got {short(value)})") from None
    if not math.isfinite(result):
        raise DataError(f"{what}: not a finite number (got {short(value)})")
    return result


def price(value: object, what: str) -> float:
    """A price: a finite number > 0."""
    result = number(value, what)
    if result <= 0:
        raise DataError(f"{what}: price must be > 0 (got {short(value)})")
    return result


def _plausible(secs: float, value: object, what: str) -> float:
    if not MIN_EPOCH_SECS <= secs <= MAX_EPOCH_SECS:
        raise DataError(f"{what}: time out of range 2000..2100 (got {short(value)})")
    return secs


def epoch_ms(value: object, what: str) -> float:
    """Epoch milliseconds → epoch seconds, checked for plausibility."""
    return _plausible(number(value, what) / 1000.0, value, what)


def epoch_secs(value: object, what: str) -> float:
    """Epoch seconds, checked for plausibility."""
    return _plausible(number(value, what), value, what)


def iso_time(value: object, what: str) -> float:
    """An ISO-8601 time with a zone (``2026-06-19T16:43:33.016274911Z``) → epoch seconds.

    Coinbase sends nanoseconds; the fraction is cut to microseconds, which datetime holds.
    """
    if not isinstance(value, str):
        raise DataError(f"{what}: expected an ISO-8601 time string (got {short(value)})")
    match = _ISO.fullmatch(value)
    if match is None:
        raise DataError(f"{what}: not an ISO-8601 time with a zone (got {short(value)})")
    date, clock, fraction, zone = match.groups()
    zone = "+00:00" if zone == "Z" else zone
    text = f"{date}T{clock}.{(fraction or '0')[:6].ljust(6, '0')}{zone}"
    try:
        secs = datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise DataError(f"{what}: not a valid date/time (got {short(value)})") from None
    return _plausible(secs, value, what)
