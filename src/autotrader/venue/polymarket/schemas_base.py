"""Field types shared by the Polymarket wire models.

Polymarket is loose about types: the same number arrives as ``"0.585"`` in one endpoint and
``0.585`` in the next, Gamma ships lists as JSON-encoded *strings* (``"[\\"Up\\", \\"Down\\"]"``),
times come as ISO strings, epoch seconds, epoch milliseconds or digit strings of either, and
"no value" is sometimes ``null`` and sometimes ``""``. These annotated types absorb exactly
those quirks and nothing more: a float is read through its shortest repr (never binary noise
into a ``Decimal``), booleans are never numbers, NaN/inf and implausible times are refused.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
)

from autotrader.errors import DataError
from autotrader.jsonbound import loads_bounded

# JSON-style decimals only: Decimal() alone would also take "NaN", "1_000" and " 1 ".
_DECIMAL = re.compile(r"-?(?:\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?|-?\.\d+")
_ISO = re.compile(
    r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,12}))?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?"
)
# Plausible epoch seconds: 2000-01-01 .. 2100-01-01. Anything larger than this, read as
# seconds, is milliseconds (the CLOB sends both).
_MIN_SECS = 946_684_800.0
_MAX_SECS = 4_102_444_800.0
_MAX_EXP = 30
_MAX_INT = 10**30


class WireModel(BaseModel):
    """Base of every wire model: unknown fields are kept (the venue adds fields often)."""

    # defer_build: a model's validator is built when a payload of its kind is first read, not
    # at import: a daemon holds only those it uses (the scheduler never reads an order, a trade
    # or a WebSocket message: most of the ~70 models).
    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)


def _read_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, int):
        if abs(value) > _MAX_INT:
            raise ValueError("number out of range")
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("expected a finite number")
        # repr is the shortest string that round-trips: 0.07 -> "0.07", not 0.0700000000000000067.
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("expected a finite number")
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 80 or not _DECIMAL.fullmatch(text):
            raise ValueError(f"expected a decimal number, got {value[:40]!r}")
        try:
            return Decimal(text)
        except InvalidOperation:
            raise ValueError(f"expected a decimal number, got {value[:40]!r}") from None
    raise ValueError(f"expected a number, got {type(value).__name__}")


def _decimal(value: Any) -> Decimal:
    result = _read_decimal(value)
    # Money, prices and sizes live far inside 1e-30..1e30; "1e999999" would overflow the first
    # arithmetic done with it (decimal.Overflow is not a ValueError), so refuse it here.
    if result and not -_MAX_EXP <= result.adjusted() <= _MAX_EXP:
        raise ValueError(f"number out of range ({str(value)[:40]})")
    return result


def _opt_decimal(value: Any) -> Decimal | None:
    # The CLOB writes "no value" as "" (e.g. a book's last_trade_price before any trade).
    if value is None or value == "":
        return None
    return _decimal(value)


def _epoch(secs: float) -> datetime:
    if secs > _MAX_SECS:
        secs /= 1000.0
    if not _MIN_SECS <= secs <= _MAX_SECS:
        raise ValueError(f"time out of range 2000..2100 ({secs!r})")
    return datetime.fromtimestamp(secs, UTC)


def _iso(text: str) -> datetime:
    match = _ISO.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"expected an ISO-8601 time, got {text[:40]!r}")
    date, clock, fraction, zone = match.groups()
    if len(clock) == 5:
        clock += ":00"
    # Gamma writes "+00" (Postgres style) as well as "Z"; a missing zone is UTC on this venue.
    if zone in (None, "Z"):
        zone = "+00:00"
    elif len(zone) == 3:
        zone += ":00"
    elif ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    try:
        parsed = datetime.fromisoformat(
            f"{date}T{clock}.{(fraction or '0')[:6].ljust(6, '0')}{zone}"
        )
    except ValueError:
        raise ValueError(f"not a valid date/time: {text[:40]!r}") from None
    return _epoch(parsed.timestamp())


def _time(value: Any) -> datetime:
    if isinstance(value, bool):
        raise ValueError("expected a time, got a boolean")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("expected an aware datetime")
        return value
    if isinstance(value, int | float):
        if abs(value) > _MAX_INT or not math.isfinite(value):
            raise ValueError("expected a finite epoch time")
        return _epoch(float(value))
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit() and len(text) <= 16:
            return _epoch(float(text))
        return _iso(text)
    raise ValueError(f"expected a time, got {type(value).__name__}")


def _opt_time(value: Any) -> datetime | None:
    # Empty strings and 0 both mean "not set" on this venue (e.g. created_at "", expiration "0").
    if value is None or value == "" or value == 0 or value == "0":
        return None
    return _time(value)


def _json_array(value: Any) -> list[Any]:
    # Gamma's quirk: the list is a JSON document inside a string.
    if not isinstance(value, str):
        raise ValueError(f"expected a JSON-encoded string, got {type(value).__name__}")
    if value.strip() == "":
        return []
    try:
        decoded = loads_bounded(value, "JSON-encoded list")
    except DataError:
        raise ValueError(f"not a JSON-encoded list: {value[:40]!r}") from None
    if not isinstance(decoded, list):
        raise ValueError(f"expected a JSON-encoded list, got {type(decoded).__name__}")
    return decoded


def _json_str_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = _json_array(value)
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"list items must be strings, got {type(item).__name__}")
    return tuple(items)


def _json_decimal_list(value: Any) -> tuple[Decimal, ...]:
    if value is None:
        return ()
    return tuple(_decimal(item) for item in _json_array(value))


def _str_id(value: Any) -> str:
    # Ids are strings on the wire, but some endpoints send small ids as numbers.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"expected an id string, got {type(value).__name__}")
    return str(value)


WireDecimal = Annotated[Decimal, BeforeValidator(_decimal)]
"""A finite decimal sent as a JSON number or a decimal string."""
OptDecimal = Annotated[Decimal | None, BeforeValidator(_opt_decimal)]
"""Like ``WireDecimal``; ``null`` and ``""`` are ``None``."""
WireTime = Annotated[datetime, BeforeValidator(_time)]
"""An aware UTC time from ISO text, epoch seconds or epoch milliseconds (numbers or digits)."""
OptTime = Annotated[datetime | None, BeforeValidator(_opt_time)]
"""Like ``WireTime``; ``null``, ``""``, ``0`` and ``"0"`` are ``None``."""
JsonStrList = Annotated[
    tuple[str, ...],
    BeforeValidator(_json_str_list),
    # Dumped back in the wire form, so a model serialises to what Gamma sends.
    PlainSerializer(lambda v: json.dumps(list(v)), return_type=str),
]
"""Gamma's JSON-encoded string list, e.g. ``"[\\"Up\\", \\"Down\\"]"`` → ``("Up", "Down")``."""
JsonDecimalList = Annotated[
    tuple[Decimal, ...],
    BeforeValidator(_json_decimal_list),
    PlainSerializer(lambda v: json.dumps([str(d) for d in v]), return_type=str),
]
"""Gamma's JSON-encoded list of decimal strings (``outcomePrices``)."""
WireId = Annotated[str, BeforeValidator(_str_id)]
"""An identifier: a string, or an integer turned into one."""


# --- validation: pydantic errors as one DataError line --------------------------------------

M = TypeVar("M", bound=BaseModel)


def data_error(message: str) -> DataError:
    """A ``DataError`` whose message is one line of at most 300 characters.

    Ids and values quoted from a payload may hold newlines; a log line must not.
    """
    return DataError(" ".join(message.split())[:300])


def _loc(parts: Sequence[int | str]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _error_line(kind: str, exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    first = errors[0]
    msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    text = f"{kind}: {_loc(first.get('loc', ()))}: {msg}{more}"
    return " ".join(text.split())[:300]


def validate(model: type[M], payload: Any, kind: str) -> M:
    """``payload`` validated as ``model``; any failure is one ``DataError`` naming ``kind``."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise data_error(_error_line(kind, exc)) from None
    except (RecursionError, ValueError, TypeError, ArithmeticError) as exc:
        raise data_error(f"{kind}: unreadable payload ({type(exc).__name__})") from None


def validate_list(model: type[M], payload: Any, kind: str) -> list[M]:
    """``payload`` validated as a JSON array of ``model``."""
    try:
        return TypeAdapter(list[model]).validate_python(payload)  # type: ignore[valid-type]
    except ValidationError as exc:
        raise data_error(_error_line(kind, exc)) from None
    except (RecursionError, ValueError, TypeError, ArithmeticError) as exc:
        raise data_error(f"{kind}: unreadable payload ({type(exc).__name__})") from None
