"""pydantic's error messages rewritten as plain ones for people editing a YAML file."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

_SECRET_VALUE = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


def _expected(ctx: Mapping[str, Any]) -> str:
    # pydantic lists literals as "'paper' or 'live'" / "0, 1 or 2".
    text = str(ctx.get("expected", ""))
    quoted = re.findall(r"'([^']*)'", text)
    items = quoted or [p.strip() for p in re.split(r",| or ", text) if p.strip()]
    return "expected one of " + ", ".join(items)


def _length(ctx: Mapping[str, Any], what: str) -> str:
    low = ctx.get("min_length")
    if low is not None:
        return "must not be empty" if str(low) == "1" else f"must have at least {low} {what}"
    return f"must have at most {ctx.get('max_length')} {what}"


_PLAIN: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "missing": lambda c: "required key missing",
    "greater_than": lambda c: f"must be greater than {c['gt']}",
    "greater_than_equal": lambda c: f"must be at least {c['ge']}",
    "less_than": lambda c: f"must be less than {c['lt']}",
    "less_than_equal": lambda c: f"must be at most {c['le']}",
    "literal_error": _expected,
    "too_short": lambda c: _length(c, "items"),
    "too_long": lambda c: _length(c, "items"),
    "string_too_short": lambda c: _length(c, "characters"),
    "string_too_long": lambda c: _length(c, "characters"),
    "string_type": lambda c: "expected a string",
    "int_type": lambda c: "expected a whole number",
    "int_parsing": lambda c: "expected a whole number",
    "int_from_float": lambda c: "expected a whole number",
    "float_type": lambda c: "expected a number",
    "float_parsing": lambda c: "expected a number",
    "decimal_type": lambda c: "expected a number",
    "decimal_parsing": lambda c: "expected a number",
    "finite_number": lambda c: "expected a finite number",
    "bool_type": lambda c: "expected true or false",
    "bool_parsing": lambda c: "expected true or false",
    "list_type": lambda c: "expected a list",
    "tuple_type": lambda c: "expected a list",
    "dict_type": lambda c: "expected a mapping",
    "model_type": lambda c: "expected a mapping",
    "model_attributes_type": lambda c: "expected a mapping",
    "datetime_type": lambda c: "expected a date and time like 2026-02-21T14:30:00Z",
    "datetime_parsing": lambda c: "expected a date and time like 2026-02-21T14:30:00Z",
    "datetime_from_date_parsing": lambda c: "expected a date and time like 2026-02-21T14:30:00Z",
    "path_type": lambda c: "expected a path",
    "none_required": lambda c: "must be null",
}

# Errors where the value itself is not the point (showing it would add nothing).
_NO_INPUT = {"missing", "unknown_key"}


def _number(value: Any) -> str:
    # 100.0 reads better as 100 in "must be at most 100".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def describe_input(value: Any, kind: str = "") -> str | None:
    """A short rendering of a rejected value, or None when it should not be shown."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return _number(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, str):
        if _SECRET_VALUE.match(value.strip()):
            return None  # never echo something that may be a private key
        return repr(value if len(value) <= 60 else value[:57] + "...")
    # A list or mapping is only worth naming when its type is the problem.
    if not kind.endswith(("_type", "_parsing")):
        return None
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return None


def plain_message(error: Mapping[str, Any]) -> str:
    """pydantic's message for ``error`` in plain words, without the rejected value."""
    rewrite = _PLAIN.get(error["type"])
    if rewrite is not None:
        ctx = {k: _number(v) for k, v in (error.get("ctx") or {}).items()}
        return rewrite(ctx)
    message = str(error.get("msg", ""))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def describe_error(
    error: Mapping[str, Any], *, show_input: bool = True, source_text: str | None = None
) -> str:
    """One plain message for one pydantic error, with ``(got …)`` where it helps.

    ``source_text`` is the value as written in the file, preferred over the parsed input.
    """
    kind = error["type"]
    message = plain_message(error)
    if kind in _NO_INPUT or not show_input or "input" not in error:
        return message
    if kind == "config" and error.get("input") is None:
        return message  # custom checks pass None when the value is beside the point
    shown = source_text if source_text is not None else describe_input(error["input"], kind)
    return f"{message} (got {shown})" if shown is not None else message


def scalar_text(value: str, quoted: bool) -> str | None:
    """How a YAML scalar is shown in ``(got …)``: strings quoted, secrets never."""
    if _SECRET_VALUE.match(value.strip()):
        return None
    if not quoted:
        return value if len(value) <= 60 else value[:57] + "..."
    return repr(value if len(value) <= 60 else value[:57] + "...")
