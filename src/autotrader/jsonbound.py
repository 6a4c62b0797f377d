"""JSON from outside, decoded with bounds: size and nesting depth are checked first.

CPython's json decoder recurses once per nesting level and relies on the interpreter's
recursion limit to stop; a dependency (py_ecc, pulled in by eth-account) raises that limit to
100,000 at import, which turns a hostile ``[[[[…`` payload into a C stack overflow instead of
an exception. So depth is measured before decoding.
"""

from __future__ import annotations

import json
import re
from typing import Any

from autotrader.errors import DataError

MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]")


def nesting_depth(text: str) -> int:
    """Deepest bracket nesting of a JSON text, ignoring brackets inside strings."""
    depth = deepest = 0
    for ch in _NOT_BRACKET.sub("", _STRING.sub('""', text)):
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def loads_bounded(
    raw: str | bytes, what: str, *, max_depth: int = MAX_DEPTH, **json_kwargs: Any
) -> Any:
    """Decode ``raw``; malformed, oversized or absurdly nested input raises a one-line DataError."""
    if len(raw) > MAX_BYTES:
        raise DataError(f"{what}: not valid JSON (larger than {MAX_BYTES} bytes)")
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else raw
    except UnicodeDecodeError as exc:
        raise DataError(f"{what}: not valid JSON (not UTF-8: {exc.reason})") from None
    # Counting brackets is C-speed; only payloads that could be deep are scanned.
    if text.count("[") + text.count("{") > max_depth and nesting_depth(text) > max_depth:
        raise DataError(f"{what}: not valid JSON (nested deeper than {max_depth} levels)")
    try:
        return json.loads(text, **json_kwargs)
    except json.JSONDecodeError as exc:
        raise DataError(f"{what}: not valid JSON ({exc.msg} at char {exc.pos})") from None
    except (ValueError, RecursionError) as exc:
        # Integers beyond the str-conversion limit, and the like.
        raise DataError(f"{what}: not valid JSON ({str(exc).splitlines()[0][:80]})") from None
