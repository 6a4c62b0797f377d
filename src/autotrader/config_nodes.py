"""Pipeline nodes: each written ``- node_type: {params}`` and validated by its own model.

Nodes are dispatched by hand on their single key rather than through a pydantic tagged union,
so a problem is located at ``pipeline[2].execute_trade.amount_usd`` exactly as in the YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    SerializationInfo,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from autotrader.config_base import (
    Frozen,
    NonEmptyStr,
    NonNegativeUsd,
    PositiveDuration,
    Probability,
    Usd,
    dump_model,
    located_error,
    rebuild_error,
)
from autotrader.strategies.expr import check as check_formula


class Node(Frozen):
    """Base of the pipeline nodes; ``node_type`` is the key the node is written under."""

    node_type: ClassVar[str]

    @model_validator(mode="before")
    @classmethod
    def _null_is_empty(cls, data: Any) -> Any:
        # `- monitor_watchlist:` (no value) means "no parameters".
        return {} if data is None else data


def _check_formula(value: str) -> str:
    # Unknown names, syntax errors and hostile input are config errors, found by
    # `autotrader config check` with the formula's YAML location.
    problems = check_formula(value)
    if problems:
        raise ValueError("; ".join(problems))
    return value


Expression = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_check_formula)]
"""A formula over the item's fields in the safe language of ``autotrader.strategies.expr``."""

OrderType = Literal["market", "limit"]


class StreamMarkets(Node):
    """Markets from Gamma, filtered by tag, text, volume, liquidity, end date and activity."""

    node_type: ClassVar[str] = "stream_markets"
    tag: NonEmptyStr | None = None
    text: NonEmptyStr | None = None
    min_volume_usd: NonNegativeUsd | None = None
    min_liquidity_usd: NonNegativeUsd | None = None
    end_before_days: float | None = Field(None, gt=0)
    active: bool = True
    limit: int = Field(100, ge=1, le=10_000)


class Filter(Node):
    """Keep the items for which ``when`` is true."""

    node_type: ClassVar[str] = "filter"
    when: Expression


class Condition(Node):
    """Continue with the items for which ``when`` is true (a gate before an action)."""

    node_type: ClassVar[str] = "condition"
    when: Expression


class AddToWatchlist(Node):
    """Put the items on the strategy's watchlist, optionally expiring."""

    node_type: ClassVar[str] = "add_to_watchlist"
    reason: NonEmptyStr
    expire_after: PositiveDuration | None = None


class RemoveFromWatchlist(Node):
    """Take the items off the strategy's watchlist."""

    node_type: ClassVar[str] = "remove_from_watchlist"


class MonitorWatchlist(Node):
    """Emit the strategy's watched markets with current metrics."""

    node_type: ClassVar[str] = "monitor_watchlist"


class CheckMomentum(Node):
    """Add a momentum score in [-1, 1] over ``timeframe`` to each item."""

    node_type: ClassVar[str] = "check_momentum"
    timeframe: Literal["1h", "4h", "24h"] = "1h"


class WhaleActivity(Node):
    """Add the net flow of trades of at least ``min_trade_usd`` over ``window``."""

    node_type: ClassVar[str] = "whale_activity"
    min_trade_usd: Usd = Decimal(10_000)
    window: PositiveDuration = 3600.0


def _check_limit_price(node: ExecuteTrade | ExitPosition) -> None:
    if node.order_type == "limit" and node.limit_price is None:
        raise located_error(
            type(node).__name__, [(("limit_price",), "required when order_type is limit", None)]
        )
    if node.order_type == "market" and node.limit_price is not None:
        raise located_error(
            type(node).__name__,
            [(("limit_price",), "only allowed with order_type limit", node.limit_price)],
        )


class ExecuteTrade(Node):
    """Turn each item into an order intent: ``amount_usd`` or ``shares`` of ``outcome``."""

    node_type: ClassVar[str] = "execute_trade"
    outcome: NonEmptyStr
    amount_usd: Usd | None = None
    shares: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = None
    order_type: OrderType = "market"
    limit_price: Probability | None = None
    valid_for: PositiveDuration = 30.0

    @model_validator(mode="after")
    def _consistent(self) -> ExecuteTrade:
        if (self.amount_usd is None) == (self.shares is None):
            raise located_error(
                "ExecuteTrade", [((), "give exactly one of amount_usd and shares", None)]
            )
        _check_limit_price(self)
        return self


class ExitPosition(Node):
    """Exit ``fraction`` of the strategy's position in the item's market."""

    node_type: ClassVar[str] = "exit_position"
    fraction: Annotated[Decimal, Field(gt=0, le=1, allow_inf_nan=False)] = Decimal(1)
    order_type: OrderType = "market"
    limit_price: Probability | None = None
    valid_for: PositiveDuration = 30.0

    @model_validator(mode="after")
    def _consistent(self) -> ExitPosition:
        _check_limit_price(self)
        return self


class Wait(Node):
    """Defer the rest of the pipeline for these items by ``duration``."""

    node_type: ClassVar[str] = "wait"
    duration: PositiveDuration


NODE_TYPES: dict[str, type[Node]] = {
    cls.node_type: cls
    for cls in (
        StreamMarkets,
        Filter,
        Condition,
        AddToWatchlist,
        RemoveFromWatchlist,
        MonitorWatchlist,
        CheckMomentum,
        WhaleActivity,
        ExecuteTrade,
        ExitPosition,
        Wait,
    )
}

AnyNode = (
    StreamMarkets
    | Filter
    | Condition
    | AddToWatchlist
    | RemoveFromWatchlist
    | MonitorWatchlist
    | CheckMomentum
    | WhaleActivity
    | ExecuteTrade
    | ExitPosition
    | Wait
)


def _validate_node(value: Any, info: ValidationInfo) -> Node:
    """``{node_type: params}`` (or a bare ``node_type``) → the node's model."""
    if isinstance(value, Node):
        return value
    if isinstance(value, str):
        value = {value: None}
    if not isinstance(value, Mapping) or len(value) != 1:
        raise PydanticCustomError(
            "config",
            "expected a mapping with exactly one key, the node type (one of {allowed})",
            {"allowed": ", ".join(NODE_TYPES)},
        )
    ((kind, params),) = value.items()
    cls = NODE_TYPES.get(kind)
    if cls is None:
        message = f"unknown node type (one of {', '.join(NODE_TYPES)})"
        raise located_error("Node", [((str(kind),), message, None)], error_type="unknown_key")
    try:
        return cls.model_validate(params, context=info.context)
    except ValidationError as exc:
        raise _under(str(kind), exc) from None


def _under(key: str, exc: ValidationError) -> ValidationError:
    """``exc`` with every location moved under ``key`` (the node type the params are under)."""
    errors = [rebuild_error({**e, "loc": (key, *e["loc"])}) for e in exc.errors(include_url=False)]
    return ValidationError.from_exception_data("Node", errors)


def _dump_node(node: Node, info: SerializationInfo) -> dict[str, Any]:
    # Written back the way it is read: {node_type: {params}}.
    return {node.node_type: dump_model(node, info)}


PipelineNode = Annotated[
    AnyNode, PlainValidator(_validate_node), PlainSerializer(_dump_node, when_used="always")
]
