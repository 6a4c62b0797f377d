"""Column types every table uses: ``Money`` (exact Decimal) and ``UTCDateTime`` (aware UTC).

Conventions for all tables, now and later:

* Money, prices and sizes are ``Decimal`` in Python and ``Money`` (``NUMERIC(20, 8)``) in the
  database. A float is refused on the way in, and so is a value with more than 8 decimal places:
  rounding money is the caller's decision (tick, venue precision), never a silent side effect of
  storage. PostgreSQL stores NUMERIC exactly. SQLite keeps NUMERIC values as 64-bit floats, which
  still give back every value of up to 15 significant digits exactly (|x| < 10^7 at 8 decimals)
  because results are rebuilt from the shortest repr and quantized to 8 places.
* Timestamps are aware UTC ``datetime`` objects in Python and ``UTCDateTime`` in the database
  (``TIMESTAMP WITH TIME ZONE`` on PostgreSQL; ISO text in UTC on SQLite, so text order is time
  order). A naive datetime is refused: it is ambiguous, and guessing is how daily loss limits
  end up counted in the wrong day.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

MONEY_PRECISION = 20
MONEY_SCALE = 8
_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)
_LIMIT = Decimal(10) ** (MONEY_PRECISION - MONEY_SCALE)


def to_money(value: Decimal | int | str) -> Decimal:
    """Check ``value`` fits a ``Money`` column and return it as a Decimal.

    Raises ``TypeError`` for floats (and other types) and ``ValueError`` for NaN, infinities,
    more than 8 decimal places or 12 or more integer digits.
    """
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(
            f"money must be Decimal, int or str, not {type(value).__name__} ({value!r}); "
            "convert floats with Decimal(str(x)) and round explicitly"
        )
    try:
        dec = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"money value {value!r} is not a number") from None
    if not dec.is_finite():
        raise ValueError(f"money value {value!r} is not finite")
    if abs(dec) >= _LIMIT:
        raise ValueError(f"money value {value} is out of range (|x| < {_LIMIT})")
    exponent = dec.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MONEY_SCALE and dec != dec.quantize(_QUANTUM):
        raise ValueError(
            f"money value {value} has more than {MONEY_SCALE} decimal places; round it first"
        )
    return dec


class Money(TypeDecorator[Decimal]):
    """``NUMERIC(20, 8)`` holding ``Decimal``; floats and over-precise values are refused."""

    impl = sa.Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """On SQLite, fetch floats and rebuild the Decimal here (see ``process_result_value``)."""
        if dialect.name == "sqlite":
            # SQLAlchemy's own float->Decimal path warns on every SQLite engine; ours is exact
            # for the documented range, so take the floats and convert them ourselves.
            return dialect.type_descriptor(
                sa.Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=False)
            )
        return dialect.type_descriptor(self.impl)

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """Validate on the way in; SQLite gets a float (its NUMERIC storage is REAL anyway)."""
        if value is None:
            return None
        dec = to_money(value)
        return float(dec) if dialect.name == "sqlite" else dec

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Always a Decimal with 8 decimal places."""
        if value is None:
            return None
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(f"non-finite money value {value!r} in the database")
            # repr() is the shortest string that reads back as the same float, so a value
            # stored from a Decimal of <= 15 significant digits comes back unchanged.
            value = Decimal(repr(value))
        return Decimal(value).quantize(_QUANTUM)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned as an aware UTC ``datetime``."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes; normalise to UTC (naive UTC text on SQLite)."""
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected an aware datetime, got {type(value).__name__} ({value!r})")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: give it a time zone")
        utc = value.astimezone(UTC)
        # SQLite has no time zone type: store naive UTC so the text sorts in time order.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Aware UTC whatever the backend gave back."""
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"unexpected timestamp value {value!r} from the database")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
