"""Orders: the submit command, the venue's answer, and the order lifecycle.

``OrderStatus`` transitions are an explicit table: the executor and the reconciler both move
orders through it, and an illegal move (FILLED → LIVE after a stale read) is a bug to refuse,
not a state to store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from autotrader.domain.money import TICK_SIZES

if TYPE_CHECKING:
    from autotrader.domain.fills import Fill


class Side(StrEnum):
    """Buy or sell outcome tokens."""

    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> Side:
        """The other side."""
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    """Polymarket's time-in-force: good-till-cancelled/-date rest; fill-or-kill/-and-kill take."""

    GTC = "GTC"
    GTD = "GTD"
    FOK = "FOK"
    FAK = "FAK"

    @property
    def rests(self) -> bool:
        """Whether an unfilled remainder rests on the book."""
        return self in (OrderType.GTC, OrderType.GTD)


class OrderStatus(StrEnum):
    """Where an order is in its life."""

    PENDING = "PENDING"  # our id committed, nothing sent yet
    SUBMITTED = "SUBMITTED"  # sent, fate unknown (e.g. the POST timed out)
    LIVE = "LIVE"  # resting on the book
    DELAYED = "DELAYED"  # marketable order held by the venue's taker delay; cannot be cancelled
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"

    @property
    def terminal(self) -> bool:
        """Whether nothing can happen to the order any more."""
        return self in TERMINAL


TERMINAL: frozenset[OrderStatus] = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)

_S = OrderStatus
_OUTCOMES = frozenset(_S) - {_S.PENDING}
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    # The answer to the POST may be anything; a timeout leaves it SUBMITTED.
    _S.PENDING: _OUTCOMES,
    _S.SUBMITTED: _OUTCOMES - {_S.SUBMITTED},
    _S.LIVE: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELED, _S.EXPIRED}),
    # After the taker delay a held order matches, rests (limit) or is killed (FOK/FAK).
    _S.DELAYED: frozenset({_S.LIVE, _S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELED, _S.EXPIRED}),
    _S.PARTIALLY_FILLED: frozenset({_S.FILLED, _S.CANCELED, _S.EXPIRED}),
    _S.FILLED: frozenset(),
    _S.CANCELED: frozenset(),
    _S.REJECTED: frozenset(),
    _S.EXPIRED: frozenset(),
}


def can_transition(current: OrderStatus, new: OrderStatus) -> bool:
    """Whether ``current`` → ``new`` is legal. Staying put is always legal (a repeated report)."""
    return current == new or new in TRANSITIONS[current]


def transition(current: OrderStatus, new: OrderStatus) -> OrderStatus:
    """``new`` if the move is legal, else ``ValueError`` naming both states."""
    if not can_transition(current, new):
        raise ValueError(f"illegal order status transition {current} -> {new}")
    return new


class ReasonCode(StrEnum):
    """Stable codes for venue refusals (the venue's own messages vary and change)."""

    INVALID_ORDER_MIN_TICK_SIZE = "INVALID_ORDER_MIN_TICK_SIZE"
    INVALID_ORDER_MIN_SIZE = "INVALID_ORDER_MIN_SIZE"
    NOT_ENOUGH_BALANCE = "NOT_ENOUGH_BALANCE"
    FOK_NOT_FILLED = "FOK_NOT_FILLED"
    MARKET_NOT_READY = "MARKET_NOT_READY"
    MARKET_CLOSED = "MARKET_CLOSED"
    INVALID_SIGNATURE = "INVALID_SIGNATURE"
    INVALID_API_KEY = "INVALID_API_KEY"
    INVALID_ORDER = "INVALID_ORDER"
    INVALID_TOKEN = "INVALID_TOKEN"
    POST_ONLY_WOULD_CROSS = "POST_ONLY_WOULD_CROSS"
    POST_ONLY_PERIOD = "POST_ONLY_PERIOD"  # after an engine restart only post-only is accepted
    DUPLICATE_ORDER = "DUPLICATE_ORDER"
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    ORDER_NOT_CANCELABLE = "ORDER_NOT_CANCELABLE"  # e.g. delayed
    ORDER_EXPIRED = "ORDER_EXPIRED"
    UNKNOWN_VENUE_ERROR = "UNKNOWN_VENUE_ERROR"


def _positive(name: str, value: Decimal | None) -> None:
    if value is None:
        return
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{name} must be a finite Decimal (got {value!r})")
    if value <= 0:
        raise ValueError(f"{name} must be > 0 (got {value})")


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (got {value})")


@dataclass(frozen=True)
class OrderRequest:
    """The SubmitOrder command: what to trade, in venue terms.

    ``price`` is the limit price; for FOK/FAK it is the worst acceptable price (None: any).
    Exactly one of ``size`` (shares) and ``amount_usd`` (a market BUY spending USD) is given.
    """

    client_order_id: str
    token_id: str
    side: Side
    order_type: OrderType
    price: Decimal | None
    size: Decimal | None
    amount_usd: Decimal | None = None
    post_only: bool = False
    expires_at: datetime | None = None
    tick_size: Decimal | None = None
    neg_risk: bool | None = None

    def __post_init__(self) -> None:
        if not self.client_order_id or not self.token_id:
            raise ValueError("an order needs a client_order_id and a token_id")
        object.__setattr__(self, "side", Side(self.side))
        object.__setattr__(self, "order_type", OrderType(self.order_type))
        if (self.size is None) == (self.amount_usd is None):
            raise ValueError("give exactly one of size (shares) and amount_usd")
        _positive("size", self.size)
        _positive("amount_usd", self.amount_usd)
        _positive("price", self.price)
        if self.price is not None and self.price >= 1:
            raise ValueError(f"price must be < 1 (got {self.price})")
        self._check_type_rules()
        if self.tick_size is not None and self.tick_size not in TICK_SIZES:
            raise ValueError(f"tick_size {self.tick_size} is not one of {TICK_SIZES}")

    def _check_type_rules(self) -> None:
        rests = self.order_type.rests
        if rests and self.price is None:
            raise ValueError(f"a {self.order_type} order needs a limit price")
        if self.amount_usd is not None and (rests or self.side is Side.SELL):
            raise ValueError("amount_usd is only for market (FOK/FAK) BUY orders")
        if self.post_only and not rests:
            raise ValueError("post_only is only for GTC/GTD orders")
        if (self.order_type is OrderType.GTD) != (self.expires_at is not None):
            raise ValueError("expires_at is required for GTD orders and only for them")
        _aware("expires_at", self.expires_at)

    @property
    def marketable_type(self) -> bool:
        """Whether the order type never rests (FOK/FAK)."""
        return not self.order_type.rests


@dataclass(frozen=True)
class PreparedOrder:
    """An order ready to post; ``venue_order_id`` is known before the POST (the order hash)."""

    request: OrderRequest
    venue_order_id: str
    payload: Any

    def __post_init__(self) -> None:
        if not self.venue_order_id:
            raise ValueError("a prepared order needs its venue_order_id")


@dataclass(frozen=True)
class SubmitResult:
    """The venue's answer to a post; refusals carry a ``reason`` instead of raising."""

    accepted: bool
    status: OrderStatus
    venue_order_id: str | None
    reason: ReasonCode | None
    message: str
    fills: tuple[Fill, ...] = ()
    # What a "matched" answer says it matched (shares, USD), before its trades are listed;
    # None when the answer does not say (the fills, if any, are then the whole story).
    matched_shares: Decimal | None = None
    matched_usd: Decimal | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", OrderStatus(self.status))
        object.__setattr__(self, "fills", tuple(self.fills))
        if not self.accepted and self.reason is None:
            raise ValueError("a refused submit needs a reason code")

    @property
    def filled_size(self) -> Decimal:
        """Shares filled by this submit: its fills, or what the answer says it matched."""
        recorded = sum((f.size for f in self.fills), Decimal(0))
        return max(recorded, self.matched_shares or Decimal(0))


@dataclass(frozen=True)
class VenueOrder:
    """An order as the venue reports it."""

    venue_order_id: str
    token_id: str
    side: Side
    price: Decimal
    original_size: Decimal
    size_matched: Decimal
    status: OrderStatus
    order_type: OrderType | None = None
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.venue_order_id:
            raise ValueError("a venue order needs its venue_order_id")
        object.__setattr__(self, "side", Side(self.side))
        object.__setattr__(self, "status", OrderStatus(self.status))
        for name in ("price", "original_size", "size_matched"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise ValueError(f"{name} must be a finite Decimal >= 0 (got {value!r})")
        if self.size_matched > self.original_size:
            raise ValueError(
                f"size_matched {self.size_matched} exceeds original_size {self.original_size}"
            )
        _aware("created_at", self.created_at)

    @property
    def remaining(self) -> Decimal:
        """Shares still unfilled."""
        return self.original_size - self.size_matched
