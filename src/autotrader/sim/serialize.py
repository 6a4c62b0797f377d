"""JSON encoding for the simulator: Decimal numbers written exactly, keys in the venue's order.

``json.dumps`` would turn a Decimal into a float (or refuse it). Polymarket sends some money as
strings (``"0.585"``) and some as numbers (``0.585``); both are written here from the Decimal's
own digits, so ``Decimal("0.07")`` goes out as ``0.07``, never ``0.07000000000000001``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

_ZERO = Decimal(0)


def dec_str(value: Decimal) -> str:
    """``value`` as plain decimal text without exponent or trailing zeros: 0.50 -> "0.5"."""
    if not value.is_finite():
        raise ValueError(f"cannot send a non-finite number: {value}")
    if value == 0:
        return "0"
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def opt_dec_str(value: Decimal | None) -> str:
    """``dec_str`` or ``""`` (the CLOB's "no value", e.g. a book's last_trade_price)."""
    return "" if value is None else dec_str(value)


def json_str_list(values: Iterable[str]) -> str:
    """A JSON-encoded list inside a string, spaced like Gamma: ``'["Up", "Down"]'``."""
    return json.dumps(list(values))


def iso_z(when: datetime | None) -> str | None:
    """ISO 8601 UTC with ``Z`` (microseconds only when present), as Gamma writes dates."""
    if when is None:
        return None
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def iso_date(when: datetime | None) -> str | None:
    """The ``YYYY-MM-DD`` date of ``when`` in UTC (Gamma's ``endDateIso``)."""
    return None if when is None else when.astimezone(UTC).date().isoformat()


def encode_json(obj: Any) -> bytes:
    """Compact UTF-8 JSON of ``obj`` (dict order kept; Decimal written from its digits)."""
    out: list[str] = []
    _write(obj, out)
    return "".join(out).encode("utf-8")


def _write(obj: Any, out: list[str]) -> None:
    if obj is None or isinstance(obj, bool | str):
        out.append(json.dumps(obj, ensure_ascii=False))
    elif isinstance(obj, int):
        out.append(str(obj))
    elif isinstance(obj, Decimal):
        out.append(dec_str(obj))
    elif isinstance(obj, float):
        if not math.isfinite(obj):
            raise ValueError(f"cannot send a non-finite number: {obj}")
        out.append(repr(obj))
    elif isinstance(obj, Mapping):
        out.append("{")
        for i, (key, value) in enumerate(obj.items()):
            out.append("," if i else "")
            out.append(json.dumps(str(key), ensure_ascii=False) + ":")
            _write(value, out)
        out.append("}")
    elif isinstance(obj, list | tuple):
        out.append("[")
        for i, value in enumerate(obj):
            out.append("," if i else "")
            _write(value, out)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(obj).__name__} as JSON")


def base_units(amount: Decimal) -> str:
    """USDC or shares in 6-decimal base units as the CLOB writes them: 1000 -> "1000000000"."""
    return str(int((amount * 1_000_000).to_integral_value()))


def or_zero(value: Decimal | None) -> Decimal:
    """``value``, or 0 when absent."""
    return _ZERO if value is None else value
