"""The only wire→domain translator for Polymarket: Gamma markets/events and CLOB market data.

Every function takes a decoded JSON value (what ``json.loads`` gives) and returns domain
objects; anything malformed — a missing field, a wrong type, a truncated structure, a value the
domain refuses — raises one ``DataError`` line naming the payload kind and the field. Orders,
trades and the post-order answer are translated in ``parsing_orders``, which only the executor
and the CLOB adapter load (the scheduler reads market data and never needs them).

Venue quirks handled here: the book lists bids ascending and asks descending (best level
*last*), Gamma's JSON-encoded string lists, outcome prices ["1","0"] meaning "resolved", and
fee schedules that come from three different places (Gamma ``feeSchedule``, the legacy
``takerBaseFee`` bps, the CLOB's compact ``fd``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from autotrader.domain.book import Level, OrderBook
from autotrader.domain.fees import FREE, FeeSchedule
from autotrader.domain.markets import Event, Market, OutcomeToken
from autotrader.domain.orders import Side
from autotrader.venue.polymarket.schemas_base import data_error, validate, validate_list
from autotrader.venue.polymarket.schemas_clob import (
    ClobBook,
    ClobFeeRate,
    ClobLastTradePrice,
    ClobLevel,
    ClobMarket,
    ClobMarketByToken,
    ClobMarketInfo,
    ClobMidpoint,
    ClobNegRisk,
    ClobOk,
    ClobPrice,
    ClobPricesBatch,
    ClobPricesHistory,
    ClobSpread,
    ClobTickSize,
    ClobTime,
)
from autotrader.venue.polymarket.schemas_gamma import (
    GammaEvent,
    GammaEventMetadata,
    GammaMarket,
    GammaTag,
)

# Polymarket's defaults when a payload omits them (older book shape, some nested markets).
DEFAULT_TICK_SIZE = Decimal("0.01")
DEFAULT_MIN_ORDER_SIZE = Decimal("5")
_BPS = Decimal(10_000)


def read_side(value: str, kind: str, name: str = "side") -> Side:
    """``BUY``/``SELL`` (any case) as ``Side``; anything else is a ``DataError``."""
    try:
        return Side(value.strip().upper())
    except ValueError:
        raise data_error(f"{kind}: {name}: expected BUY or SELL, got {value[:20]!r}") from None


# --- Gamma -----------------------------------------------------------------------------------


def _gamma_fees(m: GammaMarket) -> FeeSchedule:
    if m.fee_schedule is not None:
        fs = m.fee_schedule
        return FeeSchedule(fs.rate, fs.exponent, fs.taker_only, fs.rebate_rate or Decimal(0))
    # Pre-feeSchedule markets only say "takerBaseFee": 1000 (bps). Read it as a linear rate;
    # the CLOB's /clob-markets ``fd`` is authoritative and the live venue refreshes from it.
    if m.fees_enabled is not False and m.taker_base_fee:
        return FeeSchedule(rate=m.taker_base_fee / _BPS)
    return FREE


def _winning_outcome(m: GammaMarket) -> str | None:
    # Settled markets list outcomePrices ["1","0"] / ["0","1"]; anything else is unresolved.
    prices = m.outcome_prices
    if not m.closed or len(prices) != len(m.outcomes) or not prices:
        return None
    if sorted(prices) != [Decimal(0)] * (len(prices) - 1) + [Decimal(1)]:
        return None
    return m.outcomes[prices.index(Decimal(1))]


def _tokens(m: GammaMarket, kind: str) -> tuple[OutcomeToken, ...]:
    if not m.clob_token_ids:
        return ()  # not deployed on the CLOB yet
    if len(m.clob_token_ids) != len(m.outcomes):
        raise data_error(
            f"{kind}: clobTokenIds has {len(m.clob_token_ids)} ids for {len(m.outcomes)} outcomes"
        )
    prices: Sequence[Decimal | None] = m.outcome_prices
    if len(prices) != len(m.outcomes):
        prices = [None] * len(m.outcomes)
    return tuple(
        OutcomeToken(outcome, token_id, price)
        for outcome, token_id, price in zip(m.outcomes, m.clob_token_ids, prices, strict=True)
    )


def _tag_slugs(tags: Sequence[GammaTag]) -> tuple[str, ...]:
    return tuple(t.slug or t.label or str(t.id) for t in tags)


def market_from_gamma(m: GammaMarket, *, event: GammaEvent | None = None) -> Market:
    """A validated Gamma market as a domain ``Market``.

    ``event`` is the event the market was listed in (for ``/events`` payloads); otherwise the
    market's own nested ``events[0]`` supplies the event slug, tags and ``eventMetadata``.
    """
    kind = f"gamma market {m.id[:40]}"
    parent = event if event is not None else (m.events[0] if m.events else None)
    meta: GammaEventMetadata | None = m.event_metadata or (
        parent.event_metadata if parent else None
    )
    tags = m.tags or (parent.tags if parent else [])
    volume = m.volume_num if m.volume_num is not None else m.volume
    liquidity = m.liquidity_num if m.liquidity_num is not None else m.liquidity
    try:
        return Market(
            id=m.id,
            condition_id=m.condition_id,
            slug=m.slug,
            question=m.question,
            tokens=_tokens(m, kind),
            tick_size=m.order_price_min_tick_size or DEFAULT_TICK_SIZE,
            min_order_size=(
                m.order_min_size if m.order_min_size is not None else DEFAULT_MIN_ORDER_SIZE
            ),
            neg_risk=m.neg_risk,
            fees=_gamma_fees(m),
            # eventStartTime is the window start of a crypto up/down market; startDate is when
            # the market was created (a day earlier).
            start_date=m.event_start_time or m.start_date,
            end_date=m.end_date,
            active=m.active,
            closed=m.closed,
            accepting_orders=m.accepting_orders,
            volume_usd=volume if volume is not None else Decimal(0),
            liquidity_usd=liquidity if liquidity is not None else Decimal(0),
            tags=_tag_slugs(tags),
            event_slug=parent.slug if parent else None,
            price_to_beat=meta.price_to_beat if meta else None,
            final_price=meta.final_price if meta else None,
            winning_outcome=_winning_outcome(m),
        )
    except (ValueError, TypeError) as exc:
        raise data_error(f"{kind}: {exc}") from None


def parse_gamma_market(payload: Any) -> Market:
    """GET /markets/{id} or /markets/slug/{slug} → ``Market``."""
    return market_from_gamma(validate(GammaMarket, payload, "gamma market"))


def parse_gamma_markets(payload: Any) -> list[Market]:
    """GET /markets (a JSON array) → markets in venue order."""
    return [market_from_gamma(m) for m in validate_list(GammaMarket, payload, "gamma markets")]


def event_from_gamma(e: GammaEvent) -> Event:
    """A validated Gamma event as a domain ``Event`` (its markets carry the event's context)."""
    markets = tuple(market_from_gamma(m, event=e) for m in e.markets)
    try:
        return Event(e.id, e.slug, e.title, markets, _tag_slugs(e.tags), e.closed)
    except (ValueError, TypeError) as exc:
        raise data_error(f"gamma event {e.id[:40]}: {exc}") from None


def parse_gamma_event(payload: Any) -> Event:
    """GET /events/{id} or /events/slug/{slug} → ``Event``."""
    return event_from_gamma(validate(GammaEvent, payload, "gamma event"))


def parse_gamma_events(payload: Any) -> list[Event]:
    """GET /events (a JSON array) → events in venue order."""
    return [event_from_gamma(e) for e in validate_list(GammaEvent, payload, "gamma events")]


# --- CLOB market data ---------------------------------------------------------------------


def _levels(rows: list[ClobLevel], *, descending: bool, kind: str) -> tuple[Level, ...]:
    # The wire has the best level last (bids ascending, asks descending); sorting rather than
    # reversing also copes with the docs' ascending-asks example.
    ordered = sorted(rows, key=lambda r: r.price, reverse=descending)
    try:
        return tuple(Level(r.price, r.size) for r in ordered)
    except ValueError as exc:
        raise data_error(f"{kind}: {exc}") from None


def book_from_clob(
    b: ClobBook,
    *,
    tick_size: Decimal | None = None,
    min_order_size: Decimal | None = None,
) -> OrderBook:
    """A validated CLOB book as a domain ``OrderBook`` (best level first on both sides).

    ``tick_size``/``min_order_size`` fill in for the 2024 shape, which lacks them.
    """
    kind = f"clob book {b.asset_id[:24]}"
    try:
        return OrderBook(
            token_id=b.asset_id,
            bids=_levels(b.bids, descending=True, kind=f"{kind} bids"),
            asks=_levels(b.asks, descending=False, kind=f"{kind} asks"),
            tick_size=b.tick_size or tick_size or DEFAULT_TICK_SIZE,
            min_order_size=(
                b.min_order_size
                if b.min_order_size is not None
                else (min_order_size if min_order_size is not None else DEFAULT_MIN_ORDER_SIZE)
            ),
            ts=b.timestamp,
            hash=b.hash,
        )
    except ValueError as exc:
        raise data_error(f"{kind}: {exc}") from None


def parse_book(
    payload: Any, *, tick_size: Decimal | None = None, min_order_size: Decimal | None = None
) -> OrderBook:
    """GET /book (or a ws ``book`` message) → ``OrderBook``."""
    book = validate(ClobBook, payload, "clob book")
    return book_from_clob(book, tick_size=tick_size, min_order_size=min_order_size)


def parse_books(payload: Any) -> list[OrderBook]:
    """POST /books (a JSON array of books) → books in request order."""
    return [book_from_clob(b) for b in validate_list(ClobBook, payload, "clob books")]


def parse_price(payload: Any) -> Decimal:
    """GET /price → the price (side=BUY answers the best bid)."""
    return validate(ClobPrice, payload, "clob price").price


def parse_prices(payload: Any) -> dict[str, dict[Side, Decimal]]:
    """POST /prices → ``{token_id: {Side.BUY: p, Side.SELL: p}}``."""
    batch = validate(ClobPricesBatch, payload, "clob prices").root
    return {
        token: {read_side(side, "clob prices", token[:24]): price for side, price in sides.items()}
        for token, sides in batch.items()
    }


def parse_midpoint(payload: Any) -> Decimal | None:
    """GET /midpoint → the midpoint, None when the venue has none."""
    return validate(ClobMidpoint, payload, "clob midpoint").mid


def parse_spread(payload: Any) -> Decimal:
    """GET /spread → the spread."""
    return validate(ClobSpread, payload, "clob spread").spread


def parse_tick_size(payload: Any) -> Decimal:
    """GET /tick-size → the tick size (> 0)."""
    tick = validate(ClobTickSize, payload, "clob tick size").minimum_tick_size
    if not 0 < tick < 1:
        raise data_error(f"clob tick size: minimum_tick_size: out of range ({tick})")
    return tick


def parse_neg_risk(payload: Any) -> bool:
    """GET /neg-risk → whether the token's market is neg-risk."""
    return validate(ClobNegRisk, payload, "clob neg risk").neg_risk


def parse_fee_rate_bps(payload: Any) -> Decimal:
    """GET /fee-rate → the legacy base fee in basis points."""
    return validate(ClobFeeRate, payload, "clob fee rate").base_fee


def parse_last_trade_price(payload: Any) -> tuple[Decimal | None, Side | None]:
    """GET /last-trade-price → (price, taker side), either None before any trade."""
    ltp = validate(ClobLastTradePrice, payload, "clob last trade price")
    side = read_side(ltp.side, "clob last trade price") if ltp.side else None
    return ltp.price, side


def parse_server_time(payload: Any) -> int:
    """GET /time → epoch seconds."""
    return validate(ClobTime, payload, "clob time").root


def parse_ok(payload: Any) -> bool:
    """GET /ok → whether the server answered "OK"."""
    return validate(ClobOk, payload, "clob ok").root == "OK"


def parse_prices_history(payload: Any) -> list[tuple[datetime, Decimal]]:
    """GET /prices-history → [(time, price)] in time order."""
    history = validate(ClobPricesHistory, payload, "clob prices history").history
    return sorted(((p.t, p.p) for p in history), key=lambda tp: tp[0])


@dataclass(frozen=True)
class ClobMarketParams:
    """A market's trading parameters as the CLOB states them (/clob-markets, /markets/{cid})."""

    condition_id: str
    tokens: tuple[OutcomeToken, ...]
    tick_size: Decimal
    min_order_size: Decimal
    neg_risk: bool
    fees: FeeSchedule
    accepting_orders: bool | None
    winning_outcome: str | None = None


def _outcome_token(outcome: str, token_id: str, price: Decimal | None, kind: str) -> OutcomeToken:
    try:
        return OutcomeToken(outcome, token_id, price)
    except ValueError as exc:
        raise data_error(f"{kind}: {exc}") from None


def parse_clob_market_info(payload: Any) -> ClobMarketParams:
    """GET /clob-markets/{condition_id} (compact ``t``/``mts``/``mos``/``fd``) → parameters.

    No ``fd`` means a fee-free market; ``nr`` absent means not neg-risk.
    """
    kind = "clob market info"
    info = validate(ClobMarketInfo, payload, kind)
    fd = info.fee_details
    try:
        fees = FeeSchedule(fd.rate, fd.exponent, fd.taker_only) if fd else FREE
    except ValueError as exc:
        raise data_error(f"{kind}: fd: {exc}") from None
    return ClobMarketParams(
        condition_id=info.condition_id,
        tokens=tuple(_outcome_token(t.outcome, t.token_id, None, kind) for t in info.tokens),
        tick_size=info.min_tick_size,
        min_order_size=(
            info.min_order_size if info.min_order_size is not None else DEFAULT_MIN_ORDER_SIZE
        ),
        neg_risk=info.neg_risk,
        fees=fees,
        accepting_orders=info.accepting_orders,
    )


def parse_clob_market(payload: Any) -> ClobMarketParams:
    """GET /markets/{condition_id} (the CLOB's snake_case market object) → parameters."""
    kind = "clob market"
    m = validate(ClobMarket, payload, kind)
    winners = [t.outcome for t in m.tokens if t.winner]
    tbf = m.taker_base_fee
    return ClobMarketParams(
        condition_id=m.condition_id,
        tokens=tuple(_outcome_token(t.outcome, t.token_id, t.price, kind) for t in m.tokens),
        tick_size=m.minimum_tick_size or DEFAULT_TICK_SIZE,
        min_order_size=(
            m.minimum_order_size if m.minimum_order_size is not None else DEFAULT_MIN_ORDER_SIZE
        ),
        neg_risk=m.neg_risk,
        fees=FeeSchedule(rate=tbf / _BPS) if tbf and tbf > 0 else FREE,
        accepting_orders=m.accepting_orders,
        winning_outcome=winners[0] if len(winners) == 1 else None,
    )


def parse_market_by_token(payload: Any) -> str:
    """GET /markets-by-token/{token_id} → the condition id of the token's market."""
    return validate(ClobMarketByToken, payload, "clob market by token").condition_id
