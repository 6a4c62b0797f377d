"""Order intents: what a strategy (or a person) wants traded, before risk and the venue see it.

An intent is sized either in USD (``amount_usd``) or in shares (``shares``), never both. Its
``valid_until`` bounds how long the executor may keep trying (engine restarts, throttling); past
it the intent expires instead of trading on a stale decision.

Mapping to a venue order (``to_order_request``), chosen to keep the behaviour predictable:

* ``market`` BUY → **FOK**: all or nothing, so an entry is never a surprise fraction of what
  the strategy sized. By USD it is sent as ``amount_usd`` (cents, rounded down); by shares as a
  size.
* ``market`` SELL → **FAK**: an exit takes whatever the book holds within the worst price and
  kills the rest — half a stop-loss beats none.
* Market orders always carry a worst acceptable price: the intent's ``limit_price``, or
  ``reference_price ± max_slippage`` (BUY up, SELL down, clamped into [tick, 1 − tick]). There
  is no "any price" order: the function refuses to build one.
* ``limit`` → **GTC**, or **GTD** when the caller passes ``expires_at`` (e.g. the market's end).
  ``valid_until`` is *not* the order's lifetime: it bounds the executor's attempts to place it.
* Prices snap to the tick on the side that never overpays: BUY down, SELL up. A limit BUY by USD
  becomes ``floor(amount / price)`` shares on the 0.01 grid.
* SELL intents are sized in shares (a USD-sized sell has no well-defined size); the CLI converts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from autotrader.domain.money import (
    TICK_SIZES,
    RoundMode,
    price_in_range,
    round_shares,
    snap,
    snap_price,
)
from autotrader.domain.orders import OrderRequest, OrderType, Side

CENT = Decimal("0.01")


class IntentKind(StrEnum):
    """How the intent wants to trade: take liquidity now, or post a limit order."""

    MARKET = "market"
    LIMIT = "limit"


class IntentStatus(StrEnum):
    """Where an intent is in its (short) life."""

    PENDING = "PENDING"
    CLAIMED = "CLAIMED"
    FILLED = "FILLED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    RESTING = "RESTING"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"

    @property
    def terminal(self) -> bool:
        """Whether the executor is done with the intent."""
        return self in TERMINAL


TERMINAL: frozenset[IntentStatus] = frozenset(
    {
        IntentStatus.FILLED,
        IntentStatus.PARTIALLY_FILLED,
        IntentStatus.RESTING,
        IntentStatus.REJECTED,
        IntentStatus.EXPIRED,
        IntentStatus.FAILED,
    }
)


def _positive(name: str, value: object) -> None:
    if value is None:
        return
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise ValueError(f"{name} must be a Decimal > 0 (got {value!r})")


def _utc(name: str, value: object) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware datetime (got {value!r})")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class OrderIntent:
    """A request to trade, as written by the scheduler or the CLI (see module docstring)."""

    id: str
    strategy: str
    market_slug: str
    token_id: str
    outcome: str
    side: Side
    kind: IntentKind
    amount_usd: Decimal | None
    shares: Decimal | None
    limit_price: Decimal | None
    valid_until: datetime
    entry_key: str | None
    reason: str
    created_at: datetime

    def __post_init__(self) -> None:
        for name in ("id", "strategy", "market_slug", "token_id", "outcome"):
            if not getattr(self, name):
                raise ValueError(f"intent {self.id or '?'}: {name} must not be empty")
        object.__setattr__(self, "side", Side(self.side))
        object.__setattr__(self, "kind", IntentKind(self.kind))
        object.__setattr__(self, "valid_until", _utc("valid_until", self.valid_until))
        object.__setattr__(self, "created_at", _utc("created_at", self.created_at))
        if (self.amount_usd is None) == (self.shares is None):
            raise ValueError(f"intent {self.id}: give exactly one of amount_usd and shares")
        _positive("amount_usd", self.amount_usd)
        _positive("shares", self.shares)
        _positive("limit_price", self.limit_price)
        if self.limit_price is not None and self.limit_price >= 1:
            raise ValueError(f"intent {self.id}: limit_price must be < 1 (got {self.limit_price})")
        if self.kind is IntentKind.LIMIT and self.limit_price is None:
            raise ValueError(f"intent {self.id}: a limit intent needs a limit_price")
        if self.side is Side.SELL and self.amount_usd is not None:
            raise ValueError(f"intent {self.id}: a SELL intent is sized in shares, not USD")
        if self.valid_until <= self.created_at:
            raise ValueError(f"intent {self.id}: valid_until must be after created_at")
        if self.entry_key is not None and not self.entry_key:
            raise ValueError(f"intent {self.id}: entry_key must be None or non-empty")

    @property
    def is_market(self) -> bool:
        """Whether the intent takes liquidity now (FOK/FAK)."""
        return self.kind is IntentKind.MARKET

    def expired(self, now: datetime) -> bool:
        """Whether ``now`` is at or past ``valid_until``."""
        return _utc("now", now) >= self.valid_until


def order_type_for(intent: OrderIntent, *, expires: bool = False) -> OrderType:
    """The venue order type for ``intent`` (see the module docstring for the mapping)."""
    if intent.kind is IntentKind.LIMIT:
        return OrderType.GTD if expires else OrderType.GTC
    return OrderType.FOK if intent.side is Side.BUY else OrderType.FAK


def _protective(side: Side) -> RoundMode:
    # A BUY never pays more than asked, a SELL never accepts less.
    return "down" if side is Side.BUY else "up"


def worst_price(
    intent: OrderIntent,
    tick: Decimal,
    *,
    reference_price: Decimal | None = None,
    max_slippage: Decimal | None = None,
) -> Decimal:
    """The limit (or worst acceptable) price of ``intent`` on the ``tick`` grid.

    ``ValueError`` if it falls outside [tick, 1 − tick] after snapping, or if a market intent
    has neither a ``limit_price`` nor a ``reference_price`` with ``max_slippage``.
    """
    if tick not in TICK_SIZES:
        raise ValueError(f"tick {tick} is not one of {TICK_SIZES}")
    mode = _protective(intent.side)
    if intent.limit_price is not None:
        price = snap_price(intent.limit_price, tick, mode)
    elif reference_price is None or max_slippage is None:
        raise ValueError(
            f"intent {intent.id}: a market intent without limit_price needs "
            "reference_price and max_slippage (no any-price orders)"
        )
    else:
        raw = (
            reference_price + max_slippage
            if intent.side is Side.BUY
            else reference_price - max_slippage
        )
        price = min(max(snap_price(raw, tick, mode), tick), 1 - tick)
    if not price_in_range(price, tick):
        raise ValueError(
            f"intent {intent.id}: price {price} is outside [{tick}, {1 - tick}] for tick {tick}"
        )
    return price


def to_order_request(
    intent: OrderIntent,
    client_order_id: str,
    *,
    tick_size: Decimal,
    price: Decimal | None = None,
    shares: Decimal | None = None,
    reference_price: Decimal | None = None,
    max_slippage: Decimal | None = None,
    expires_at: datetime | None = None,
    neg_risk: bool | None = None,
) -> OrderRequest:
    """The venue order for ``intent``.

    ``price`` and ``shares`` override the intent's (the risk check's approved, capped values);
    ``price`` is snapped protectively all the same. Without ``price`` it is ``worst_price``.
    """
    order_type = order_type_for(intent, expires=expires_at is not None)
    if price is None:
        price = worst_price(
            intent, tick_size, reference_price=reference_price, max_slippage=max_slippage
        )
    else:
        price = snap_price(price, tick_size, _protective(intent.side))
    size, amount = _sizing(intent, price, shares)
    return OrderRequest(
        client_order_id=client_order_id,
        token_id=intent.token_id,
        side=intent.side,
        order_type=order_type,
        price=price,
        size=size,
        amount_usd=amount,
        expires_at=expires_at,
        tick_size=tick_size,
        neg_risk=neg_risk,
    )


def _sizing(
    intent: OrderIntent, price: Decimal, shares: Decimal | None
) -> tuple[Decimal | None, Decimal | None]:
    """(size, amount_usd) of the order: exactly one is set, both on the venue's grids."""
    if shares is not None:
        return round_shares(shares), None
    if intent.shares is not None:
        return round_shares(intent.shares), None
    assert intent.amount_usd is not None  # one of the two is set (__post_init__)
    if intent.kind is IntentKind.MARKET:
        return None, snap(intent.amount_usd, CENT, "down")
    return round_shares(intent.amount_usd / price), None
