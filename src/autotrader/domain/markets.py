"""Markets and the 15-minute BTC window arithmetic.

Polymarket's "Bitcoin Up or Down" 15-minute markets are named ``btc-updown-15m-<T>`` where T is
the window start in unix seconds, a multiple of 900; trading ends at T + 900.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from autotrader.domain.fees import FeeSchedule

WINDOW_SECS = 900
BTC_15M_SLUG_PREFIX = "btc-updown-15m-"


def window_start(ts: float, window_secs: int = WINDOW_SECS) -> int:
    """Start (epoch seconds) of the window containing ``ts``."""
    return int(ts // window_secs) * window_secs


def nearest_window_start(ts: float, window_secs: int = WINDOW_SECS) -> int:
    """The window a signal computed at ``ts`` is for.

    In the first half of a window that window has just opened and is still the one to enter;
    in the second half the next window is the one ahead.
    """
    return int((ts + window_secs / 2) // window_secs) * window_secs


def btc_15m_slug(start: int) -> str:
    """Slug of the 15-minute BTC market starting at ``start``."""
    if start % WINDOW_SECS:
        raise ValueError(f"window start {start} is not a multiple of {WINDOW_SECS}")
    return f"{BTC_15M_SLUG_PREFIX}{start}"


def parse_btc_15m_slug(slug: str) -> int:
    """Window start of a ``btc-updown-15m-<T>`` slug; ``ValueError`` if it is not one."""
    if not slug.startswith(BTC_15M_SLUG_PREFIX):
        raise ValueError(f"not a 15-minute BTC slug: {slug!r}")
    start = int(slug[len(BTC_15M_SLUG_PREFIX) :])
    if start % WINDOW_SECS:
        raise ValueError(f"window start {start} in {slug!r} is not a multiple of {WINDOW_SECS}")
    return start


@dataclass(frozen=True)
class Window:
    """One 15-minute window."""

    start: int

    @property
    def end(self) -> int:
        """End (exclusive) of the window in epoch seconds."""
        return self.start + WINDOW_SECS

    @property
    def slug(self) -> str:
        """The market slug of this window."""
        return btc_15m_slug(self.start)

    @property
    def start_dt(self) -> datetime:
        """Window start as an aware UTC datetime."""
        return datetime.fromtimestamp(self.start, UTC)

    @classmethod
    def containing(cls, ts: float) -> Window:
        """The window containing ``ts``."""
        return cls(window_start(ts))

    @classmethod
    def for_signal_at(cls, ts: float) -> Window:
        """The window a signal computed at ``ts`` is for (see ``nearest_window_start``)."""
        return cls(nearest_window_start(ts))


# --- Markets and events as the venue describes them -------------------------------------------


def _dec_opt(name: str, value: object, *, lo: Decimal | None = None) -> None:
    if value is None:
        return
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{name} must be a finite Decimal (got {value!r})")
    if lo is not None and value < lo:
        raise ValueError(f"{name} must be >= {lo} (got {value})")


def _aware_opt(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (got {value})")


@dataclass(frozen=True)
class OutcomeToken:
    """One outcome of a market (e.g. "Up") and its CLOB token id; ``price`` as last listed."""

    outcome: str
    token_id: str
    price: Decimal | None = None

    def __post_init__(self) -> None:
        if not self.outcome:
            raise ValueError("an outcome token needs an outcome name")
        _dec_opt("outcome price", self.price, lo=Decimal(0))
        if self.price is not None and self.price > 1:
            raise ValueError(f"outcome price must be <= 1 (got {self.price})")


@dataclass(frozen=True)
class Market:
    """A binary market. ``tokens`` may be empty while the venue is still creating it."""

    id: str
    condition_id: str
    slug: str
    question: str
    tokens: tuple[OutcomeToken, ...]
    tick_size: Decimal
    min_order_size: Decimal
    neg_risk: bool
    fees: FeeSchedule
    start_date: datetime | None
    end_date: datetime | None
    active: bool
    closed: bool
    accepting_orders: bool
    volume_usd: Decimal = Decimal(0)
    liquidity_usd: Decimal = Decimal(0)
    tags: tuple[str, ...] = ()
    event_slug: str | None = None
    price_to_beat: Decimal | None = None
    final_price: Decimal | None = None
    winning_outcome: str | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a market needs an id")
        object.__setattr__(self, "tokens", tuple(self.tokens))
        object.__setattr__(self, "tags", tuple(self.tags))
        if not isinstance(self.tick_size, Decimal) or not self.tick_size > 0:
            raise ValueError(f"tick_size must be a Decimal > 0 (got {self.tick_size!r})")
        if not isinstance(self.min_order_size, Decimal):
            raise ValueError(f"min_order_size must be a Decimal (got {self.min_order_size!r})")
        _dec_opt("min_order_size", self.min_order_size, lo=Decimal(0))
        _dec_opt("volume_usd", self.volume_usd)
        _dec_opt("liquidity_usd", self.liquidity_usd)
        _dec_opt("price_to_beat", self.price_to_beat)
        _dec_opt("final_price", self.final_price)
        _aware_opt("start_date", self.start_date)
        _aware_opt("end_date", self.end_date)
        names = [t.outcome.lower() for t in self.tokens]
        if len(set(names)) != len(names):
            raise ValueError(f"market {self.id} lists an outcome twice: {names}")
        if self.winning_outcome is not None and self.tokens:
            self.token(self.winning_outcome)

    @property
    def outcomes(self) -> tuple[str, ...]:
        """Outcome names in venue order."""
        return tuple(t.outcome for t in self.tokens)

    @property
    def token_ids(self) -> tuple[str, ...]:
        """CLOB token ids in venue order."""
        return tuple(t.token_id for t in self.tokens)

    @property
    def tradable(self) -> bool:
        """Whether orders can be placed now (active, open, accepting, tokens known)."""
        return self.active and not self.closed and self.accepting_orders and bool(self.tokens)

    @property
    def btc_window(self) -> Window | None:
        """The 15-minute BTC window of a ``btc-updown-15m-<T>`` market, else None."""
        try:
            return Window(parse_btc_15m_slug(self.slug))
        except ValueError:
            return None

    def token(self, outcome: str) -> OutcomeToken:
        """The token of ``outcome`` (case-insensitive); ``ValueError`` naming the outcomes."""
        for tok in self.tokens:
            if tok.outcome.lower() == outcome.lower():
                return tok
        raise ValueError(
            f"market {self.slug or self.id} has no outcome {outcome!r}: {self.outcomes}"
        )

    def token_by_id(self, token_id: str) -> OutcomeToken:
        """The token with ``token_id``; ``ValueError`` if it is not one of this market's."""
        for tok in self.tokens:
            if tok.token_id == token_id:
                return tok
        raise ValueError(f"token {token_id} is not in market {self.slug or self.id}")


@dataclass(frozen=True)
class Event:
    """A Gamma event: a group of markets (one for a BTC window, many for neg-risk events)."""

    id: str
    slug: str
    title: str
    markets: tuple[Market, ...]
    tags: tuple[str, ...] = ()
    closed: bool = False

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("an event needs an id")
        object.__setattr__(self, "markets", tuple(self.markets))
        object.__setattr__(self, "tags", tuple(self.tags))


@dataclass(frozen=True)
class MarketQuery:
    """A market search. ``closed=False`` mirrors Gamma, which hides closed markets by default."""

    tag: str | None = None
    text: str | None = None
    min_volume_usd: Decimal | None = None
    min_liquidity_usd: Decimal | None = None
    end_before: datetime | None = None
    end_after: datetime | None = None
    closed: bool | None = False
    active: bool | None = True
    limit: int = 100
    offset: int = 0

    def __post_init__(self) -> None:
        _dec_opt("min_volume_usd", self.min_volume_usd, lo=Decimal(0))
        _dec_opt("min_liquidity_usd", self.min_liquidity_usd, lo=Decimal(0))
        _aware_opt("end_before", self.end_before)
        _aware_opt("end_after", self.end_after)
        if self.limit <= 0:
            raise ValueError(f"limit must be > 0 (got {self.limit})")
        if self.offset < 0:
            raise ValueError(f"offset must be >= 0 (got {self.offset})")

    def matches(self, market: Market) -> bool:
        """Whether ``market`` passes the filters (paging aside) — for in-memory sources."""
        checks = (
            self.tag is None or self.tag.lower() in (t.lower() for t in market.tags),
            self.text is None or self.text.lower() in f"{market.question} {market.slug}".lower(),
            self.min_volume_usd is None or market.volume_usd >= self.min_volume_usd,
            self.min_liquidity_usd is None or market.liquidity_usd >= self.min_liquidity_usd,
            self.end_before is None
            or (market.end_date is not None and market.end_date < self.end_before),
            self.end_after is None
            or (market.end_date is not None and market.end_date > self.end_after),
            self.closed is None or market.closed == self.closed,
            self.active is None or market.active == self.active,
        )
        return all(checks)
