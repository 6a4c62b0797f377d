"""PaperVenue against a hand-made book: every figure below is worked out in the comments.

The standard book (token UP, tick 0.01, minimum 5 shares, fee 0.07 × p × (1 − p) per share):

    asks: 0.40 × 50, 0.41 × 100, 0.43 × 200      bids: 0.38 × 40, 0.37 × 60, 0.35 × 100
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autotrader.clock import FakeClock
from autotrader.domain.book import Level, OrderBook
from autotrader.domain.fees import FeeSchedule
from autotrader.domain.markets import Event, Market, MarketQuery, OutcomeToken
from autotrader.domain.orders import (
    OrderRequest,
    OrderStatus,
    OrderType,
    ReasonCode,
    Side,
    SubmitResult,
)
from autotrader.errors import DataError
from autotrader.venue.base import Execution, MarketData, Venue
from autotrader.venue.errors import VenueUnavailable
from autotrader.venue.paper import PaperVenue
from autotrader.venue.paper_rules import paper_order_id

T = TypeVar("T")
UP, DOWN = "tok-up", "tok-down"
FEE = FeeSchedule(rate=D("0.07"))
STD_ASKS = [("0.40", "50"), ("0.41", "100"), ("0.43", "200")]
STD_BIDS = [("0.38", "40"), ("0.37", "60"), ("0.35", "100")]


class FakeMarketData:
    """A MarketData whose books the test sets by hand; each set_book is a new snapshot."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.books: dict[str, OrderBook] = {}
        self.fees = FEE
        self.winner: str | None = None
        self.broken: set[str] = set()
        self._seq = 0
        self.market = Market(
            id="m1",
            condition_id="0xc1",
            slug="btc-updown-15m-1767225600",
            question="Bitcoin Up or Down?",
            tokens=(OutcomeToken("Up", UP, None), OutcomeToken("Down", DOWN, None)),
            tick_size=D("0.01"),
            min_order_size=D(5),
            neg_risk=False,
            fees=FEE,
            start_date=None,
            end_date=None,
            active=True,
            closed=False,
            accepting_orders=True,
        )

    def set_book(
        self,
        token: str,
        asks: list[tuple[str, str]],
        bids: list[tuple[str, str]],
        tick: str = "0.01",
    ) -> None:
        self._seq += 1
        self.books[token] = OrderBook(
            token_id=token,
            bids=tuple(Level(D(p), D(s)) for p, s in bids),
            asks=tuple(Level(D(p), D(s)) for p, s in asks),
            tick_size=D(tick),
            min_order_size=D(5),
            ts=self.clock.now(),
            hash=f"h{self._seq}",
        )

    async def market_by_slug(self, slug: str) -> Market | None:
        return self.market if slug == self.market.slug else None

    async def market_by_id(self, market_id: str) -> Market | None:
        return self.market if market_id == self.market.id else None

    async def markets(self, q: MarketQuery) -> list[Market]:
        return [self.market] if q.matches(self.market) else []

    async def event_by_slug(self, slug: str) -> Event | None:
        return None

    async def book(self, token_id: str) -> OrderBook:
        if token_id in self.broken:
            raise VenueUnavailable("down", kind="server", status=500)
        return self.books[token_id]

    async def midpoint(self, token_id: str) -> D | None:
        return self.books[token_id].midpoint

    async def price_history(
        self, token_id: str, *, start: datetime, end: datetime, fidelity_mins: int = 1
    ) -> list[tuple[datetime, D]]:
        return []

    async def tick_size(self, token_id: str) -> D:
        return self.books[token_id].tick_size

    async def fee_schedule(self, token_id: str) -> FeeSchedule:
        return self.fees

    async def resolution(self, market: Market) -> str | None:
        return self.winner


def run(coro: Awaitable[T]) -> T:
    async def _wrap() -> T:
        return await coro

    return asyncio.run(_wrap())


def make(balance: str = "1000") -> tuple[PaperVenue, FakeMarketData, FakeClock]:
    clock = FakeClock()
    md = FakeMarketData(clock)
    md.set_book(UP, STD_ASKS, STD_BIDS)
    md.set_book(DOWN, [("0.62", "100")], [("0.58", "100")])
    return PaperVenue(md, clock, initial_balance_usd=D(balance)), md, clock


_ids = iter(range(10**9))
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def req(
    side: Side,
    otype: OrderType,
    *,
    price: str | None = None,
    size: str | None = None,
    usd: str | None = None,
    token: str = UP,
    post_only: bool = False,
    expires_at: datetime | None = None,
    coid: str | None = None,
) -> OrderRequest:
    return OrderRequest(
        client_order_id=coid or f"c{next(_ids)}",
        token_id=token,
        side=side,
        order_type=otype,
        price=None if price is None else D(price),
        size=None if size is None else D(size),
        amount_usd=None if usd is None else D(usd),
        post_only=post_only,
        expires_at=expires_at,
    )


async def submit(venue: PaperVenue, r: OrderRequest) -> SubmitResult:
    return await venue.post(await venue.prepare(r))


def test_paper_venue_is_a_full_venue() -> None:
    venue, md, _ = make()
    assert isinstance(venue, Venue)
    assert isinstance(venue, Execution) and isinstance(venue, MarketData)
    assert venue.name == "paper"
    assert run(venue.book(UP)) is md.books[UP]
    assert run(venue.midpoint(UP)) == D("0.39")  # (0.38 + 0.40) / 2
    assert run(venue.market_by_slug(md.market.slug)) is md.market
    assert run(venue.fee_schedule(UP)) is FEE


def test_fok_buy_by_shares_walks_two_levels() -> None:
    venue, _, _ = make()
    res = run(submit(venue, req(Side.BUY, OrderType.FOK, price="0.43", size="120")))
    # 50 @ 0.40 = 20.00 + 70 @ 0.41 = 28.70 -> 48.70 notional
    # fees: 50 × 0.07 × 0.40 × 0.60 = 0.84; 70 × 0.07 × 0.41 × 0.59 = 1.18531 -> 2.02531
    assert res.accepted and res.status is OrderStatus.FILLED and res.reason is None
    assert [(f.price, f.size, f.fee_usd) for f in res.fills] == [
        (D("0.40"), D(50), D("0.84")),
        (D("0.41"), D(70), D("1.18531")),
    ]
    assert all(f.liquidity == "taker" for f in res.fills)
    assert run(venue.balance_usd()) == D("949.27469")  # 1000 − 48.70 − 2.02531
    assert venue.positions() == {UP: D(120)}
    order = run(venue.order(res.venue_order_id or ""))
    assert order is not None and order.size_matched == D(120) and order.status is OrderStatus.FILLED


def test_fok_buy_by_usd_spends_the_budget_in_whole_cents_of_shares() -> None:
    venue, _, _ = make()
    res = run(submit(venue, req(Side.BUY, OrderType.FOK, usd="30")))
    # level 0.40: 50 shares for 20.00, 10.00 left; level 0.41: 10 / 0.41 = 24.39… -> 24.39 shares
    # for 9.9999; 0.0001 left is less than one 0.01-share step, so the budget is spent.
    # fees: 0.84 + 24.39 × 0.07 × 0.41 × 0.59 = 0.41299587 -> 0.412996 => 1.252996
    assert res.accepted and res.status is OrderStatus.FILLED
    assert [(f.price, f.size) for f in res.fills] == [(D("0.40"), D(50)), (D("0.41"), D("24.39"))]
    assert sum(f.fee_usd for f in res.fills) == D("1.252996")
    assert run(venue.balance_usd()) == D("968.747104")  # 1000 − 29.9999 − 1.252996
    assert venue.positions() == {UP: D("74.39")}


def test_fak_sell_walks_bids_and_cancels_the_remainder() -> None:
    venue, _, _ = make()
    run(submit(venue, req(Side.BUY, OrderType.FOK, price="0.43", size="120")))  # cash 949.27469
    res = run(submit(venue, req(Side.SELL, OrderType.FAK, price="0.37", size="120")))
    # bids down to 0.37: 40 @ 0.38 = 15.20 + 60 @ 0.37 = 22.20 -> 100 shares, 37.40
    # fees: 40 × 0.07 × 0.38 × 0.62 = 0.65968; 60 × 0.07 × 0.37 × 0.63 = 0.97902 -> 1.6387
    # the other 20 shares are cancelled (FAK)
    assert res.accepted and res.status is OrderStatus.CANCELED
    assert [(f.price, f.size, f.fee_usd) for f in res.fills] == [
        (D("0.38"), D(40), D("0.65968")),
        (D("0.37"), D(60), D("0.97902")),
    ]
    assert run(venue.balance_usd()) == D("985.03599")  # 949.27469 + 37.40 − 1.6387
    assert venue.positions() == {UP: D(20)}
    assert run(venue.open_orders()) == []


def test_fok_killed_when_the_book_is_too_thin() -> None:
    venue, _, _ = make()
    # only 350 shares are offered at or under 0.43
    r = req(Side.BUY, OrderType.FOK, price="0.43", size="400")
    res = run(submit(venue, r))
    assert not res.accepted and res.reason is ReasonCode.FOK_NOT_FILLED and res.fills == ()
    assert run(venue.balance_usd()) == D(1000) and venue.positions() == {}
    assert run(venue.order(paper_order_id(r.client_order_id))) is None


def test_fak_with_nothing_to_take_is_refused() -> None:
    venue, _, _ = make()
    res = run(submit(venue, req(Side.BUY, OrderType.FAK, price="0.39", size="10")))
    assert not res.accepted and res.reason is ReasonCode.FOK_NOT_FILLED


def test_fee_of_100_shares_at_040() -> None:
    venue, md, _ = make()
    md.set_book(UP, [("0.40", "100")], [])
    res = run(submit(venue, req(Side.BUY, OrderType.FOK, price="0.40", size="100")))
    assert [f.fee_usd for f in res.fills] == [D("1.68")]  # 100 × 0.07 × 0.4 × 0.6
    assert run(venue.balance_usd()) == D("958.32")  # 1000 − 40 − 1.68


def test_gtc_takes_what_crosses_and_rests_the_rest_then_fills_as_maker() -> None:
    venue, md, _ = make()
    res = run(submit(venue, req(Side.BUY, OrderType.GTC, price="0.40", size="80")))
    # 50 @ 0.40 taken now (fee 0.84); 30 rest at 0.40, reserving 12.00
    assert res.accepted and res.status is OrderStatus.PARTIALLY_FILLED
    assert [(f.size, f.fee_usd) for f in res.fills] == [(D(50), D("0.84"))]
    assert run(venue.balance_usd()) == D("979.16")  # 1000 − 20 − 0.84
    assert venue.available_usd() == D("967.16")  # 979.16 − 30 × 0.40
    [resting] = run(venue.open_orders())
    assert resting.remaining == D(30) and resting.status is OrderStatus.PARTIALLY_FILLED
    # the 0.40 level of this snapshot is used up: a second buyer finds nothing there
    again = run(submit(venue, req(Side.BUY, OrderType.FOK, price="0.40", size="10")))
    assert again.reason is ReasonCode.FOK_NOT_FILLED
    assert run(venue.poll()) == []  # same snapshot, nothing new crosses
    # a new book crosses the resting bid: 10 @ 0.39 + 20 @ 0.40 cover the 30 left
    md.set_book(UP, [("0.39", "10"), ("0.40", "100")], STD_BIDS)
    [fill] = run(venue.poll())
    # the maker trades at its own price 0.40 and pays no fee: 30 × 0.40 = 12.00
    assert (fill.price, fill.size, fill.liquidity) == (D("0.40"), D(30), "maker")
    assert fill.fee_usd == 0
    assert run(venue.balance_usd()) == D("967.16")
    order = run(venue.order(res.venue_order_id or ""))
    assert order is not None and order.status is OrderStatus.FILLED
    assert venue.positions() == {UP: D(80)}
    assert run(venue.poll()) == []


def test_resting_order_fills_when_asked_for_open_orders_partially_then_fully() -> None:
    venue, md, clock = make()
    res = run(submit(venue, req(Side.BUY, OrderType.GTC, price="0.35", size="10")))
    assert res.status is OrderStatus.LIVE and res.fills == ()
    start = clock.now()
    clock.advance(5)
    md.set_book(UP, [("0.35", "6"), ("0.36", "50")], STD_BIDS)
    [o] = run(venue.open_orders())  # asking is enough to match
    assert o.status is OrderStatus.PARTIALLY_FILLED and o.size_matched == D(6)
    assert run(venue.open_orders())[0].size_matched == D(6)  # same snapshot: no phantom fill
    md.set_book(UP, [("0.34", "4"), ("0.35", "6")], STD_BIDS)
    assert run(venue.open_orders()) == []
    fills = run(venue.fills_since(start))
    assert [(f.price, f.size, f.liquidity) for f in fills] == [
        (D("0.35"), D(6), "maker"),
        (D("0.35"), D(4), "maker"),
    ]
    assert run(venue.balance_usd()) == D("996.50")  # 1000 − 10 × 0.35
    assert run(venue.fills_since(clock.now() + timedelta(seconds=1))) == []


def test_resting_sell_fills_when_bids_rise() -> None:
    venue, md, _ = make()
    run(submit(venue, req(Side.BUY, OrderType.FOK, price="0.40", size="20")))
    # 20 @ 0.40 = 8.00 + fee 20 × 0.07 × 0.24 = 0.336 -> cash 991.664
    res = run(submit(venue, req(Side.SELL, OrderType.GTC, price="0.50", size="20")))
    assert res.status is OrderStatus.LIVE
    assert venue.available_shares(UP) == 0
    md.set_book(UP, STD_ASKS, [("0.52", "100")])
    [fill] = run(venue.poll())
    assert (fill.side, fill.price, fill.size) == (Side.SELL, D("0.50"), D(20))
    assert run(venue.balance_usd()) == D("1001.664")  # 991.664 + 20 × 0.50
    assert venue.positions() == {}


def test_tick_refusals() -> None:
    venue, md, _ = make()
    for price in ("0.405", "0.001", "0.995"):
        res = run(submit(venue, req(Side.BUY, OrderType.GTC, price=price, size="10")))
        assert not res.accepted and res.reason is ReasonCode.INVALID_ORDER_MIN_TICK_SIZE, price
    md.set_book(UP, STD_ASKS, STD_BIDS, tick="0.001")
    res = run(submit(venue, req(Side.BUY, OrderType.GTC, price="0.395", size="10")))
    assert res.accepted and res.status is OrderStatus.LIVE


def test_min_size_refusals() -> None:
    venue, md, _ = make()
    # resting under 5 shares
    res = run(submit(venue, req(Side.BUY, OrderType.GTC, price="0.30", size="4.99")))
    assert res.reason is ReasonCode.INVALID_ORDER_MIN_SIZE
    # marketable under $1: $0.50 market buy; 2 shares × 0.40 = $0.80 FOK
    res = run(submit(venue, req(Side.BUY, OrderType.FOK, usd="0.50")))
    assert res.reason is ReasonCode.INVALID_ORDER_MIN_SIZE
    res = run(submit(venue, req(Side.BUY, OrderType.FOK, price="0.40", size="2")))
    assert res.reason is ReasonCode.INVALID_ORDER_MIN_SIZE
    # a crossing GTC of 5 shares at 0.15 is marketable and worth only $0.75
    md.set_book(UP, [("0.15", "100")], [])
    res = run(submit(venue, req(Side.BUY, OrderType.GTC, price="0.15", size="5")))
    assert res.reason is ReasonCode.INVALID_ORDER_MIN_SIZE
    # the same 5 shares resting below the ask are fine
    res = run(submit(venue, req(Side.BUY, OrderType.GTC, price="0.14", size="5")))
    assert res.accepted and res.status is OrderStatus.LIVE
    assert run(venue.balance_usd()) == D(1000)


def test_balance_refusals_count_fees_and_reservations() -> None:
    venue, _, _ = make(balance="20.50")
    # 50 @ 0.40 = 20.00 + fee 0.84 = 20.84 > 20.50
    res = run(submit(venue, req(Side.BUY, OrderType.FOK, price="0.40", size="50")))
    assert res.reason is ReasonCode.NOT_ENOUGH_BALANCE and run(venue.balance_usd()) == D("20.50")
    # nothing to sell
    res = run(submit(venue, req(Side.SELL, OrderType.FOK, size="10")))
    assert res.reason is ReasonCode.NOT_ENOUGH_BALANCE
    # a resting bid reserves 30 × 0.30 = 9.00; a second one needs 12.00 of the 11.50 left
    assert run(submit(venue, req(Side.BUY, OrderType.GTC, price="0.30", size="30"))).accepted
    assert venue.available_usd() == D("11.50")
    res = run(submit(venue, req(Side.BUY, OrderType.GTC, price="0.30", size="40")))
    assert res.reason is ReasonCode.NOT_ENOUGH_BALANCE


def test_resting_sell_reserves_shares() -> None:
    venue, _, _ = make()
    run(submit(venue, req(Side.BUY, OrderType.FOK, price="0.40", size="20")))
    assert run(submit(venue, req(Side.SELL, OrderType.GTC, price="0.60", size="15"))).accepted
    res = run(submit(venue, req(Side.SELL, OrderType.FOK, size="10")))  # only 5 unreserved
    assert res.reason is ReasonCode.NOT_ENOUGH_BALANCE
    assert run(submit(venue, req(Side.SELL, OrderType.FOK, size="5"))).accepted


def test_post_only() -> None:
    venue, _, _ = make()
    res = run(submit(venue, req(Side.BUY, OrderType.GTC, price="0.40", size="10", post_only=True)))
    assert res.reason is ReasonCode.POST_ONLY_WOULD_CROSS and res.fills == ()
    res = run(submit(venue, req(Side.BUY, OrderType.GTC, price="0.39", size="10", post_only=True)))
    assert res.accepted and res.status is OrderStatus.LIVE


def test_duplicate_post_never_doubles() -> None:
    venue, _, _ = make()
    r = req(Side.BUY, OrderType.FOK, price="0.40", size="10", coid="client-1")
    prepared = run(venue.prepare(r))
    assert (
        prepared.venue_order_id
        == run(venue.prepare(r)).venue_order_id
        == paper_order_id("client-1")
    )
    assert prepared.venue_order_id.startswith("paper-") and len(prepared.venue_order_id) == 38
    assert prepared.venue_order_id != paper_order_id("client-2")
    first = run(venue.post(prepared))
    cash = run(venue.balance_usd())
    second = run(venue.post(prepared))
    assert first.accepted and not second.accepted
    assert second.reason is ReasonCode.DUPLICATE_ORDER and second.status is OrderStatus.FILLED
    assert second.venue_order_id == first.venue_order_id
    assert run(venue.balance_usd()) == cash and venue.positions() == {UP: D(10)}
    assert len(run(venue.fills_since(EPOCH))) == 1


def test_forged_prepared_order_is_refused() -> None:
    venue, _, _ = make()
    prepared = run(venue.prepare(req(Side.BUY, OrderType.FOK, price="0.40", size="10")))
    forged = type(prepared)(prepared.request, "paper-" + "0" * 32, None)
    assert run(venue.post(forged)).reason is ReasonCode.INVALID_ORDER


def test_settlement_pays_one_for_winners_and_zero_for_losers() -> None:
    venue, md, _ = make()
    run(submit(venue, req(Side.BUY, OrderType.FOK, price="0.43", size="120")))  # cash 949.27469
    run(submit(venue, req(Side.BUY, OrderType.FOK, price="0.62", token=DOWN, size="10")))
    # Down: 10 @ 0.62 = 6.20 + fee 10 × 0.07 × 0.62 × 0.38 = 0.16492 -> cash 942.90977
    resting = run(submit(venue, req(Side.BUY, OrderType.GTC, price="0.30", size="10")))
    assert run(venue.balance_usd()) == D("942.90977")
    assert run(venue.settle(md.market)) == []  # not resolved yet
    md.winner = "up"
    settled = run(venue.settle(md.market))
    assert [(s.outcome, s.shares, s.payout_per_share, s.payout_usd) for s in settled] == [
        ("Up", D(120), D(1), D(120)),
        ("Down", D(10), D(0), D(0)),
    ]
    assert run(venue.balance_usd()) == D("1062.90977")  # 942.90977 + 120
    assert venue.positions() == {}
    order = run(venue.order(resting.venue_order_id or ""))
    assert order is not None and order.status is OrderStatus.CANCELED
    assert run(venue.settle(md.market)) == []  # nothing is paid twice
    assert venue.settlements() == settled


def test_settlement_to_an_unknown_outcome_is_a_data_error() -> None:
    venue, md, _ = make()
    md.winner = "Sideways"
    with pytest.raises(DataError, match="Sideways"):
        run(venue.settle(md.market))


def test_gtd_expires_at_its_time() -> None:
    venue, md, clock = make()
    exp = clock.now() + timedelta(seconds=60)
    res = run(submit(venue, req(Side.BUY, OrderType.GTD, price="0.30", size="10", expires_at=exp)))
    assert res.status is OrderStatus.LIVE and venue.available_usd() == D(997)
    clock.advance(59)
    assert len(run(venue.open_orders())) == 1
    clock.advance(1)
    # the book crosses only after expiry: the order must not fill
    md.set_book(UP, [("0.29", "100")], STD_BIDS)
    assert run(venue.open_orders()) == []
    order = run(venue.order(res.venue_order_id or ""))
    assert order is not None and order.status is OrderStatus.EXPIRED and order.size_matched == 0
    assert run(venue.balance_usd()) == D(1000) and venue.available_usd() == D(1000)
    past = clock.now() - timedelta(seconds=1)
    late = run(submit(venue, req(Side.BUY, OrderType.GTD, price="0.2", size="10", expires_at=past)))
    assert late.reason is ReasonCode.INVALID_ORDER


def test_cancel_and_cancel_all() -> None:
    venue, _, _ = make()
    a = run(submit(venue, req(Side.BUY, OrderType.GTC, price="0.30", size="10")))
    b = run(submit(venue, req(Side.BUY, OrderType.GTC, price="0.31", size="10")))
    assert run(venue.cancel(a.venue_order_id or ""))
    assert not run(venue.cancel(a.venue_order_id or ""))
    assert not run(venue.cancel("paper-unknown"))
    assert run(venue.cancel_all()) == [b.venue_order_id]
    assert run(venue.open_orders()) == [] and venue.available_usd() == D(1000)


def test_an_unavailable_book_does_not_block_other_calls() -> None:
    venue, md, _ = make()
    run(submit(venue, req(Side.BUY, OrderType.GTC, price="0.30", size="10")))
    md.broken.add(UP)
    assert len(run(venue.open_orders())) == 1  # matching is skipped, the answer still comes
    with pytest.raises(VenueUnavailable):
        run(submit(venue, req(Side.BUY, OrderType.FOK, price="0.40", size="10")))


# --- property: no sequence of orders overdraws or creates value ----------------------------

_order = st.tuples(
    st.sampled_from([Side.BUY, Side.SELL]),
    st.sampled_from(list(OrderType)),
    st.integers(min_value=-6, max_value=6),  # limit price in cents from the book's mid
    st.integers(min_value=1, max_value=20000),  # size in hundredths of a share (or of a USD)
    st.booleans(),  # a market BUY by USD instead of shares
    st.none() | st.integers(min_value=10, max_value=85),  # move the book's bid here first
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_order, min_size=1, max_size=30))
def test_random_orders_never_overdraw_and_conserve_value(
    ops: list[tuple[Side, OrderType, int, int, bool, int | None]],
) -> None:
    venue, md, clock = make(balance="100")
    bid = 38

    async def scenario() -> None:
        nonlocal bid
        for i, (side, otype, offset, hundredths, by_usd, move) in enumerate(ops):
            if move is not None:  # a new snapshot: resting orders may now cross
                bid = move
                asks = [(f"0.{bid + 2:02d}", "60"), (f"0.{bid + 4:02d}", "200")]
                md.set_book(UP, asks, [(f"0.{bid:02d}", "80"), (f"0.{bid - 3:02d}", "150")])
            clock.advance(10)
            r = _random_request(i, side, otype, bid + 1 + offset, hundredths, by_usd)
            if r is not None:
                await venue.post(await venue.prepare(r))
            await venue.poll()
            assert venue.available_usd() >= 0 and positions_ok(venue)

    asyncio.run(scenario())
    fills = run(venue.fills_since(EPOCH))
    fees = sum((f.fee_usd for f in fills), D(0))
    # cash + positions valued at their trade prices = initial − fees
    cost_basis = sum((f.share_delta * f.price for f in fills), D(0))
    cash = run(venue.balance_usd())
    assert cash >= 0
    assert cash + cost_basis == D(100) - fees
    # positions are exactly the sum of fills; settlement turns them into 1 or 0
    held = venue.positions().get(UP, D(0))
    assert held == sum((f.share_delta for f in fills), D(0))
    md.winner = "Up"
    run(venue.settle(md.market))
    assert run(venue.balance_usd()) == cash + held
    assert run(venue.open_orders()) == []


def positions_ok(venue: PaperVenue) -> bool:
    return all(s >= 0 for s in venue.positions().values()) and all(
        venue.available_shares(t) >= 0 for t in (UP, DOWN)
    )


def _random_request(
    i: int, side: Side, otype: OrderType, cents: int, hundredths: int, by_usd: bool
) -> OrderRequest | None:
    price = D(cents) / 100
    size = D(hundredths) / 100
    usd = by_usd and side is Side.BUY and not otype.rests
    expires = datetime.fromtimestamp(1_767_225_600 + 10 * i + 35, UTC)
    try:
        return OrderRequest(
            client_order_id=f"p{i}",
            token_id=UP,
            side=side,
            order_type=otype,
            price=None if usd and i % 2 else price,
            size=None if usd else size,
            amount_usd=size if usd else None,
            expires_at=expires if otype is OrderType.GTD else None,
        )
    except ValueError:  # e.g. a price of 0 or 1
        return None
