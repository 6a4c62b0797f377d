"""Building blocks shared by the configuration models: the frozen base, durations, clock times,
money, paths relative to the config file, and errors located below the model that raises them.

Kept apart from :mod:`autotrader.config` so the section modules (strategies, notifications) can
use them without importing the top-level model.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import weakref
from collections.abc import Mapping, Sequence
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializationInfo,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError


def located_error(
    title: str,
    problems: Sequence[tuple[tuple[str | int, ...], str, Any]],
    error_type: str = "config",
) -> ValidationError:
    """A ValidationError with one error per ``(loc, message, input)``, loc relative to the model.

    Raised inside a validator, pydantic nests these under the model's own location, so a check
    made on a whole section can point at the exact key it is about (``replay.path``).
    ``error_type`` "unknown_key" makes the problem point at the key rather than its value.
    """
    details = [
        InitErrorDetails(
            type=PydanticCustomError(error_type, "{message}", {"message": message}),
            loc=loc,
            input=value,
        )
        for loc, message, value in problems
    ]
    return ValidationError.from_exception_data(title, details)


def rebuild_error(error: Mapping[str, Any]) -> InitErrorDetails:
    """One error of a caught ValidationError, ready to be raised again unchanged."""
    ctx = dict(error.get("ctx") or {})
    loc = tuple(error["loc"])
    if error["type"] in _KNOWN_TYPES:
        details = InitErrorDetails(type=error["type"], loc=loc, input=error.get("input"))
        if ctx:
            details["ctx"] = ctx
        return details
    # Custom and other errors keep their type name and final message.
    kind = PydanticCustomError(error["type"], "{message}", {**ctx, "message": error["msg"]})
    return InitErrorDetails(type=kind, loc=loc, input=error.get("input"))


# pydantic-core error types re-raised under their own name (their ctx keeps them readable).
_KNOWN_TYPES = frozenset(
    {
        "missing",
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "literal_error",
        "too_short",
        "too_long",
        "string_too_short",
        "string_too_long",
        "string_type",
        "int_type",
        "int_parsing",
        "int_from_float",
        "float_type",
        "float_parsing",
        "bool_type",
        "bool_parsing",
        "decimal_type",
        "decimal_parsing",
        "finite_number",
        "list_type",
        "tuple_type",
        "dict_type",
        "model_type",
        "model_attributes_type",
        "datetime_type",
        "datetime_parsing",
        "datetime_from_date_parsing",
        "path_type",
        "none_required",
    }
)


class Frozen(BaseModel):
    """Base of every config model: immutable, unknown keys refused with the allowed ones listed."""

    # defer_build: validating the AppConfig builds one validator with every part inlined; each
    # part's own validator (~50 models) is then built only if that part is validated alone,
    # instead of at import and for the daemon's life (~0.9 MB a process).
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)

    # Keys that belong elsewhere, with the message to give instead of "unknown key".
    misplaced_keys: ClassVar[Mapping[str, str]] = {}

    # Whether equal instances may be one shared instance (see ``share_parts``). Off for models
    # that are unique anyway (a strategy, by its name): a table entry would cost, not save.
    shareable: ClassVar[bool] = True

    @model_validator(mode="wrap")
    @classmethod
    def _unknown_keys(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """Report unknown keys as ``unknown key (allowed: …)`` together with every other error."""
        if not isinstance(data, Mapping):
            return handler(data)
        allowed = {f.alias or name: name for name, f in cls.model_fields.items()}
        allowed_names = set(cls.model_fields)
        unknown = [k for k in data if k not in allowed and k not in allowed_names]
        if not unknown:
            return share_parts(handler(data))
        listed = ", ".join(sorted(allowed))
        found = [
            InitErrorDetails(
                type=PydanticCustomError(
                    "unknown_key",
                    cls.misplaced_keys.get(str(key), "unknown key (allowed: {allowed})"),
                    {"allowed": listed},
                ),
                loc=(str(key),),
                input=data[key],
            )
            for key in unknown
        ]
        try:
            handler({k: v for k, v in data.items() if k not in unknown})
        except ValidationError as exc:
            found += [rebuild_error(e) for e in exc.errors(include_url=False)]
        raise ValidationError.from_exception_data(cls.__name__, found)


# ---------------------------------------------------------------- shared instances
#
# A scheduler holds thousands of strategies whose parts are mostly equal (the same limits, the
# same schedule, the same nodes). Each pydantic instance costs an object, a __dict__ and a
# fields-set, so equal parts are made one shared instance as each model is validated: safe
# because config models are frozen and nothing mutates them. Equality here is stricter than
# ``==``: field values must have the same type and repr (``Decimal("10")`` is not shared with
# ``Decimal("10.0")``, which dumps differently) and the same fields must have been set.

_SHARED: weakref.WeakValueDictionary[tuple[object, ...], Frozen] = weakref.WeakValueDictionary()
_FIELD_SETS: dict[frozenset[str], set[str]] = {}  # bounded by the models' field names
# Amounts by their exact spelling ("10" and "10.0" apart). Decimals cannot be held weakly, so
# the table is bounded: once full, new amounts are simply not shared.
_DECIMALS: dict[str, Decimal] = {}
MAX_SHARED_DECIMALS = 1024
_EXACT = (bool, int, str, type(None))  # equal values of these types dump the same
_BY_REPR = (float, Decimal, time, Path)


def _value_key(value: object) -> tuple[object, ...] | None:
    """(type, value) parts equal for interchangeable values; None: not shareable (a dict)."""
    if isinstance(value, Frozen):
        # Its own parts were shared when it was validated, so identity is the exact test; the
        # table entry's owner keeps ``value`` alive, so its id cannot be reused meanwhile.
        return (Frozen, id(value))
    if type(value) is tuple:
        keys = tuple(_value_key(v) for v in value)
        return None if any(k is None for k in keys) else (tuple, keys)
    if type(value) in _EXACT:
        return (type(value), value)
    if isinstance(value, _BY_REPR):
        return (type(value), repr(value))
    return None


def _shared(model: Frozen) -> Frozen:
    """The shared instance equal to ``model`` (``model`` itself the first time)."""
    if not model.shareable or model.__pydantic_private__ or model.__pydantic_extra__:
        return model
    # One flat tuple: the table's keys live as long as the shared instances do. Fields-sets
    # are shared too (``_FIELD_SETS`` keeps them for good), so the id of one stands for its
    # names.
    key: list[object] = [type(model), id(model.__pydantic_fields_set__)]
    for value in model.__dict__.values():
        part = _value_key(value)
        if part is None:
            return model
        key += part
    return _SHARED.setdefault(tuple(key), model)


def _share_fields_set(model: Frozen) -> None:
    """Make ``model``'s fields-set the one shared set with those names."""
    fields = model.__pydantic_fields_set__
    shared = _FIELD_SETS.setdefault(frozenset(fields), fields)
    object.__setattr__(model, "__pydantic_fields_set__", shared)


def share_parts(model: Any) -> Any:
    """``model`` (just validated) with its sub-models replaced by shared equal instances.

    Also shares its fields-set (pydantic copies it before any change: ``model_copy``).
    """
    if not isinstance(model, Frozen):
        return model
    parts = model.__dict__
    for name, value in parts.items():
        if isinstance(value, Frozen):
            parts[name] = _shared(value)
        elif type(value) is tuple and any(isinstance(v, Frozen) for v in value):
            items = tuple(_shared(v) if isinstance(v, Frozen) else v for v in value)
            if any(a is not b for a, b in zip(items, value, strict=True)):
                parts[name] = items
        elif type(value) is str and name in _literal_fields(type(model)):
            parts[name] = sys.intern(value)  # ``kind: pipeline`` once, not once per strategy
        elif type(value) is Decimal:
            parts[name] = _shared_decimal(value)  # ``allocation_usd: 100`` of each strategy
    _share_fields_set(model)
    return model


def _shared_decimal(value: Decimal) -> Decimal:
    """The shared Decimal spelled as ``value`` (``value`` itself once the table is full)."""
    text = str(value)
    shared = _DECIMALS.get(text)
    if shared is not None:
        return shared
    if len(_DECIMALS) < MAX_SHARED_DECIMALS:
        _DECIMALS[text] = value
    return value


@functools.cache
def _literal_fields(cls: type[Frozen]) -> frozenset[str]:
    """The fields of ``cls`` typed as a Literal (a few fixed strings)."""
    return frozenset(
        name for name, f in cls.model_fields.items() if get_origin(f.annotation) is Literal
    )


def dump_model(model: BaseModel, info: SerializationInfo) -> dict[str, Any]:
    """Serialize ``model`` with the caller's options (for fields behind a PlainValidator)."""
    return model.model_dump(
        mode=info.mode,
        by_alias=bool(info.by_alias),
        exclude_none=info.exclude_none,
        exclude_defaults=info.exclude_defaults,
        exclude_unset=info.exclude_unset,
    )


# ---------------------------------------------------------------- durations and clock times

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_DURATION = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*(?:ms|s|m|h|d|w)\s*)+$")


def parse_duration(value: object) -> float:
    """Seconds from ``30s``, ``5m``, ``1h30m``, ``1d``, ``250ms`` or a plain number of seconds.

    Raises ``ValueError`` with a one-line message for anything else.
    """
    if isinstance(value, bool):
        raise ValueError("expected a duration like 30s, 5m, 1h or 1d")
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            return float(text)
        if _DURATION.match(text):
            return sum(float(n) * _UNITS[u] for n, u in _DURATION_PART.findall(text))
    raise ValueError("expected a duration like 30s, 5m, 1h or 1d")


def format_duration(secs: float) -> str:
    """The shortest exact duration string for ``secs`` (``900`` → ``15m``)."""
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNITS[unit]
        if secs >= size and secs % size == 0:
            return f"{int(secs // size)}{unit}"
    return f"{secs:g}s"


def _parse_clock_time(value: object) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        match = re.fullmatch(r"\s*([01]?\d|2[0-3]):([0-5]\d)\s*", value)
        if match:
            return time(int(match.group(1)), int(match.group(2)))
    raise ValueError('expected a time of day "HH:MM" (00:00 to 23:59)')


Duration = Annotated[float, BeforeValidator(parse_duration)]
"""Seconds; written as ``30s``, ``5m``, ``1h``, ``1d`` or a number of seconds."""

PositiveDuration = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]

ClockTime = Annotated[
    time,
    BeforeValidator(_parse_clock_time),
    PlainSerializer(lambda t: t.strftime("%H:%M"), when_used="always"),
]
"""A time of day, written ``"HH:MM"``."""


def in_window(now: time, start: time, end: time) -> bool:
    """Whether ``now`` is in ``[start, end)``; a window with ``end <= start`` crosses midnight."""
    if start < end:
        return start <= now < end
    return now >= start or now < end


# ---------------------------------------------------------------- money, names, paths, URLs

Usd = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
"""An amount of US dollars, greater than 0."""

NonNegativeUsd = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]

Pct = Annotated[Decimal, Field(gt=0, le=100, allow_inf_nan=False)]
"""A percentage in (0, 100]."""

Probability = Annotated[Decimal, Field(gt=0, lt=1, allow_inf_nan=False)]
"""A share price in (0, 1)."""

NonEmptyStr = Annotated[str, Field(min_length=1, max_length=500)]


def _credential_name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", value):
        raise ValueError("expected a credential name (letters, digits, '_', '.', '-')")
    return value


CredentialName = Annotated[str, AfterValidator(_credential_name)]
"""The name of a systemd credential (``LoadCredential=NAME:/path``)."""


def resolve_path(value: Path, info: ValidationInfo) -> Path:
    """``value`` made absolute against the config file's folder (``context["base_dir"]``)."""
    value = value.expanduser()
    if not value.is_absolute():
        base = (info.context or {}).get("base_dir") or Path.cwd()
        value = Path(base) / value
    return Path(os.path.normpath(value))


ConfigPath = Annotated[Path, AfterValidator(resolve_path)]
"""A path; relative ones are relative to the folder of the config file."""


def _url_checker(*schemes: str) -> AfterValidator:
    def check(value: str) -> str:
        scheme, sep, rest = value.partition("://")
        if not sep or scheme.lower() not in schemes or not rest.strip("/"):
            raise ValueError(
                f"expected a URL starting with {' or '.join(s + '://' for s in schemes)}"
            )
        return value.rstrip("/")

    return AfterValidator(check)


HttpUrl = Annotated[str, _url_checker("http", "https")]
WsUrl = Annotated[str, _url_checker("ws", "wss")]
