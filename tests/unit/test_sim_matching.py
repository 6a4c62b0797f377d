"""Simulator matching: walks, partial fills, FOK/FAK, resting orders, fees, balances, errors.

The house book is set by hand here (a fixed ``Ladder``), so every figure is hand-computed.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from autotrader.domain.fees import FREE
from autotrader.domain.orders import OrderType, Side
from autotrader.sim.exchange import Exchange
from autotrader.sim.ledger import HOUSE, Ledger, SimOrder, SimSubmit
from autotrader.sim.markets import SimMarket, btc_window_market, extra_market, extra_slots
from autotrader.sim.matching import HouseQuote
from autotrader.sim.pricing import Ladder

D = Decimal
T = 1_767_225_600
NOW = float(T + 100)
A, B = "0xaaaa", "0xbbbb"
TICK = D("0.01")


def ladder(bids: list[tuple[str, int]], asks: list[tuple[str, int]]) -> Ladder:
    return Ladder(tuple((D(p), D(s)) for p, s in bids), tuple((D(p), D(s)) for p, s in asks), TICK)


BOOK = ladder([("0.40", 100), ("0.39", 200)], [("0.41", 50), ("0.42", 100), ("0.45", 200)])


class Env:
    """An exchange, one market and a quote the test can move."""

    def __init__(self, market: SimMarket | None = None, **kw: float) -> None:
        self.market = market or btc_window_market(0, T)
        self.ex = Exchange(0, Ledger(D(1000)), **kw)
        self.epoch = 1
        self.lad = BOOK

    @property
    def up(self) -> str:
        return self.market.token_ids[0]

    @property
    def down(self) -> str:
        return self.market.token_ids[1]

    def quote(self, token: str | None = None) -> HouseQuote:
        idx = self.market.token_ids.index(token or self.up)
        return HouseQuote(self.market, idx, self.epoch, self.lad)

    def quote_for(self, token: str, t: float) -> HouseQuote | None:
        return self.quote(token) if self.market.accepting_orders(t) else None

    def requote(self, lad: Ladder) -> None:
        self.lad, self.epoch = lad, self.epoch + 1

    def order(
        self,
        oid: int,
        side: Side,
        price: str,
        size: str,
        kind: OrderType = OrderType.GTC,
        *,
        token: str | None = None,
        post_only: bool = False,
        expiration: int = 0,
        amount_usd: Decimal | None = None,
    ) -> SimOrder:
        return SimOrder(
            f"0x{oid:064x}",
            token or self.up,
            side,
            D(price),
            D(size),
            kind,
            post_only=post_only,
            expiration=expiration,
            maker=f"maker{oid}",
            owner="api-key",
            amount_usd=amount_usd,
        )

    def submit(self, wallet: str, order: SimOrder, now: float = NOW) -> SimSubmit:
        return self.ex.submit(wallet, order, self.market, self.quote(order.token_id), now)

    def usdc(self, wallet: str) -> Decimal:
        return self.ex.ledger.account(wallet).usdc

    def shares(self, wallet: str, token: str | None = None) -> Decimal:
        pos = self.ex.ledger.account(wallet).positions.get(token or self.up)
        return pos.size if pos else D(0)


@pytest.fixture
def env() -> Env:
    return Env()


def test_fee_is_hand_computed_100_shares_at_40_cents(env: Env) -> None:
    env.lad = ladder([("0.39", 100)], [("0.40", 500)])
    r = env.submit(A, env.order(1, Side.BUY, "0.40", "100", OrderType.FOK))
    assert r.error is None and r.status == "matched"
    (trade,) = env.ex.trades_for(A)
    assert trade.fee == D("1.68")  # 100 × 0.07 × 0.40 × 0.60
    assert env.usdc(A) == D(1000) - D(40) - D("1.68")
    assert (r.making_amount, r.taking_amount) == (D(40), D(100))


def test_a_marketable_buy_walks_the_asks_one_trade_per_level(env: Env) -> None:
    r = env.submit(A, env.order(1, Side.BUY, "0.43", "120", OrderType.FOK))
    assert r.status == "matched" and len(r.trade_ids) == 2
    t1, t2 = env.ex.trades_for(A)
    assert (t1.price, t1.size, t1.fee) == (D("0.41"), D(50), D("0.846650"))  # 3.5 × 0.2419
    assert (t2.price, t2.size, t2.fee) == (D("0.42"), D(70), D("1.193640"))  # 4.9 × 0.2436
    assert env.usdc(A) == D(1000) - D("20.5") - D("29.4") - D("0.846650") - D("1.193640")
    assert env.shares(A) == 120
    assert (r.making_amount, r.taking_amount) == (D("49.9"), D(120))
    # The house's levels shrink until it re-quotes.
    asks = env.ex.book(env.quote())[1]
    assert asks[0] == (D("0.42"), D(30))
    env.requote(BOOK)
    assert env.ex.book(env.quote())[1][0] == (D("0.41"), D(50))


def test_trade_record_has_the_data_trades_fields(env: Env) -> None:
    env.submit(A, env.order(1, Side.BUY, "0.41", "10", OrderType.FOK))
    (t,) = env.ex.trades_for(A)
    assert t.market == env.market.condition_id and t.asset_id == env.up
    assert t.side is Side.BUY and t.outcome == "Up" and t.trader_side == "TAKER"
    assert t.taker_order_id == f"0x{1:064x}" and t.owner == "api-key"
    assert t.maker_address == "maker1" and t.status == "MATCHED" and t.fee_rate_bps == "700"
    assert t.transaction_hash.startswith("0x") and len(t.transaction_hash) == 66
    assert len(t.id) == 36 and t.id.count("-") == 4
    (mo,) = t.maker_orders
    assert (mo.side, mo.price, mo.matched_amount, mo.wallet) == (Side.SELL, D("0.41"), D(10), HOUSE)
    env.ex.confirm(NOW + 10)
    (t2,) = env.ex.trades_for(A)
    assert t2.status == "CONFIRMED" and t2.last_update == int(NOW) + 6


def test_fok_is_killed_whole_when_the_book_is_too_thin(env: Env) -> None:
    r = env.submit(A, env.order(1, Side.BUY, "0.42", "200", OrderType.FOK))
    assert r.error == "order couldn't be fully filled. FOK orders are fully filled or killed."
    assert env.usdc(A) == 1000 and env.ex.trades_for(A) == []
    assert env.ex.book(env.quote())[1][0] == (D("0.41"), D(50))  # nothing taken
    state = env.ex.orders[f"0x{1:064x}"]
    assert state.status == "CANCELED" and state.size_matched == 0


def test_fak_fills_what_it_can_and_kills_the_rest(env: Env) -> None:
    r = env.submit(A, env.order(1, Side.BUY, "0.42", "200", OrderType.FAK))
    assert r.status == "matched" and r.taking_amount == 150
    state = env.ex.orders[f"0x{1:064x}"]
    assert state.status == "CANCELED" and state.size_matched == 150
    assert env.ex.open_orders(A) == []
    r = env.submit(A, env.order(2, Side.BUY, "0.40", "10", OrderType.FAK))
    assert r.error == (
        "no orders found to match with FAK order. FAK orders are partially filled or killed if "
        "no match is found."
    )


def test_market_buy_by_usd_spends_the_amount(env: Env) -> None:
    # $30 at a worst price of 0.42: 50 × 0.41 = 20.5, then 9.5 / 0.42 = 22.619047 shares.
    order = env.order(1, Side.BUY, "0.42", "71.428571", OrderType.FOK, amount_usd=D(30))
    r = env.submit(A, order)
    assert r.status == "matched"
    assert r.taking_amount == D("72.619047") and r.making_amount == D(30)  # 29.99999974
    assert env.ex.orders[order.order_id].original_size == D("72.619047")


def test_gtc_partially_fills_then_rests_and_shows_in_the_book(env: Env) -> None:
    r = env.submit(A, env.order(1, Side.BUY, "0.41", "80", OrderType.GTC))
    assert r.status == "matched" and r.taking_amount == 50
    (state,) = env.ex.open_orders(A)
    assert state.status == "LIVE" and state.size_matched == 50 and state.remaining == 30
    bids, asks = env.ex.book(env.quote())
    assert bids[0] == (D("0.41"), D(30)) and asks[0] == (D("0.42"), D(100))
    # Its notional is held: 1000 - 20.5 - fee 0.84665 - 30 × 0.41.
    assert env.ex.available_usd(A) == D(1000) - D("20.5") - D("0.846650") - D("12.3")


def test_resting_order_fills_when_the_house_moves_through_it(env: Env) -> None:
    r = env.submit(A, env.order(1, Side.BUY, "0.40", "100", OrderType.GTC))
    assert r.status == "live" and r.trade_ids == ()
    env.ex.sweep(env.quote_for, NOW + 5)  # same quote: nothing crosses
    assert env.ex.trades_for(A) == []
    env.requote(ladder([("0.37", 100)], [("0.38", 60), ("0.39", 100)]))
    env.ex.sweep(env.quote_for, NOW + 10)
    trades = env.ex.trades_for(A)
    assert [(t.price, t.size, t.trader_side) for t in trades] == [
        (D("0.40"), D(60), "MAKER"),
        (D("0.40"), D(40), "MAKER"),
    ]
    assert all(t.side is Side.SELL for t in trades)  # the house took the bid
    assert env.usdc(A) == D(960)  # makers pay no fee; filled at their own price
    assert env.ex.orders[f"0x{1:064x}"].status == "MATCHED" and env.ex.open_orders(A) == []
    assert env.shares(A) == 100


def test_post_only_refuses_to_cross_and_rests_otherwise(env: Env) -> None:
    r = env.submit(A, env.order(1, Side.BUY, "0.41", "10", post_only=True))
    assert r.error == "invalid post-only order: order crosses book"
    assert env.ex.orders == {}
    r = env.submit(A, env.order(2, Side.BUY, "0.40", "10", post_only=True))
    assert r.status == "live"


def test_users_match_each_other_ahead_of_the_house(env: Env) -> None:
    env.submit(B, env.order(1, Side.BUY, "0.41", "30", OrderType.FOK))
    env.requote(BOOK)
    r = env.submit(B, env.order(2, Side.SELL, "0.41", "30", OrderType.GTC))
    assert r.status == "live"  # the house bid is 0.40: nothing to hit at 0.41
    r = env.submit(A, env.order(3, Side.BUY, "0.41", "40", OrderType.FOK))
    assert r.status == "matched" and len(r.trade_ids) == 1
    (t,) = env.ex.trades_for(A)
    assert [(m.wallet, m.matched_amount) for m in t.maker_orders] == [(B, D(30)), (HOUSE, D(10))]
    assert env.ex.trades_for(B)[-1].trader_side == "MAKER"
    assert env.ex.orders[f"0x{2:064x}"].status == "MATCHED"
    assert env.shares(B) == 0 and env.shares(A) == 40


def test_balance_and_allowance_are_checked_with_open_orders_held(env: Env) -> None:
    msg = "not enough balance / allowance"
    assert env.submit(A, env.order(1, Side.BUY, "0.40", "2600")).error == msg
    assert env.submit(A, env.order(2, Side.SELL, "0.40", "10")).error == msg  # holds no shares
    assert env.submit(A, env.order(3, Side.BUY, "0.40", "2000")).status == "live"  # holds $800
    assert env.submit(A, env.order(4, Side.BUY, "0.40", "600")).error == msg  # $240 > $200 left
    assert env.ex.cancel(A, f"0x{3:064x}")
    assert env.submit(A, env.order(5, Side.BUY, "0.40", "600")).status == "live"


def test_minimum_size_and_amount_messages(env: Env) -> None:
    oid = f"0x{1:064x}"
    r = env.submit(A, env.order(1, Side.BUY, "0.40", "1.08"))
    assert r.error == f"order {oid} is invalid. Size (1.08) lower than the minimum: 5"
    r = env.submit(A, env.order(2, Side.BUY, "0.42", "2", OrderType.FOK))
    assert r.error == "invalid amount for a marketable BUY order ($0.84), min size: $1"
    # A marketable order may be smaller than 5 shares if it is worth $1.
    assert env.submit(A, env.order(3, Side.BUY, "0.45", "3", OrderType.FOK)).status == "matched"


def test_tick_rule_message(env: Env) -> None:
    r = env.submit(A, env.order(1, Side.BUY, "0.415", "10"))
    assert r.error == (
        f"order 0x{1:064x} is invalid. Price (0.415) breaks minimum tick size rule: 0.01"
    )
    r = env.submit(A, env.order(2, Side.BUY, "0.995", "10"))
    assert r.error is not None and "breaks minimum tick size rule: 0.01" in r.error


def test_duplicate_order_id(env: Env) -> None:
    assert env.submit(A, env.order(1, Side.BUY, "0.40", "10")).status == "live"
    r = env.submit(A, env.order(1, Side.BUY, "0.40", "10"))
    assert r.error == f"order 0x{1:064x} is invalid. Duplicated."


def test_gtd_expires_and_needs_a_minute_of_life(env: Env) -> None:
    r = env.submit(A, env.order(1, Side.BUY, "0.40", "10", OrderType.GTD, expiration=int(NOW) + 30))
    assert r.error == "invalid expiration"
    r = env.submit(
        A, env.order(2, Side.BUY, "0.40", "10", OrderType.GTC, expiration=int(NOW) + 300)
    )
    assert r.error == "invalid expiration"
    exp = int(NOW) + 120
    assert env.submit(
        A, env.order(3, Side.BUY, "0.40", "10", OrderType.GTD, expiration=exp)
    ).success
    env.ex.advance(exp - 1, env.quote_for)
    assert env.ex.orders[f"0x{3:064x}"].status == "LIVE"
    env.ex.advance(exp, env.quote_for)
    state = env.ex.orders[f"0x{3:064x}"]
    assert state.status == "CANCELED" and state.reason == "expired"
    assert env.ex.available_usd(A) == 1000


def test_cancel_and_cancel_all(env: Env) -> None:
    for i in (1, 2, 3):
        env.submit(A, env.order(i, Side.BUY, "0.3" + str(i), "10"))
    assert not env.ex.cancel(B, f"0x{1:064x}")  # not B's order
    assert env.ex.cancel(A, f"0x{1:064x}")
    assert not env.ex.cancel(A, f"0x{1:064x}")  # already canceled
    assert not env.ex.cancel(A, "0xdoesnotexist")
    assert env.ex.cancel_all(A) == [f"0x{2:064x}", f"0x{3:064x}"]
    assert env.ex.open_orders(A) == [] and env.ex.book(env.quote())[0][0][0] == D("0.40")


def test_delayed_orders_match_later_and_cannot_be_cancelled() -> None:
    env = Env(delay_probability=1.0, delay_secs=3.0)
    r = env.submit(A, env.order(1, Side.BUY, "0.41", "10", OrderType.FOK))
    assert r.status == "delayed" and r.trade_ids == ()
    oid = f"0x{1:064x}"
    assert env.ex.orders[oid].status == "DELAYED" and not env.ex.cancel(A, oid)
    assert env.ex.available_usd(A) < D(1000) - D("4.1")  # notional + worst fee held
    env.ex.advance(NOW + 2.9, env.quote_for)
    assert env.ex.trades_for(A) == []
    env.ex.advance(NOW + 3, env.quote_for)
    assert env.ex.orders[oid].status == "MATCHED" and len(env.ex.trades_for(A)) == 1
    # Resting orders are never delayed, nor are orders on non-crypto markets.
    assert env.submit(A, env.order(2, Side.BUY, "0.40", "10")).status == "live"
    slot = next(s for s in extra_slots(0, 7) if "politics" in s.template.tags)
    other = Env(extra_market(0, slot, 0), delay_probability=1.0)
    other.market.start_date, other.market.end_date = NOW - 10, NOW + 1000
    assert other.market.fees == FREE
    r = other.submit(A, other.order(3, Side.BUY, "0.41", "10", OrderType.FOK))
    assert r.status == "matched" and other.ex.trades_for(A)[0].fee == 0


def test_down_book_is_the_complement_and_trades_consume_it(env: Env) -> None:
    bids, asks = env.ex.book(env.quote(env.down))
    assert bids[0] == (D("0.59"), D(50)) and asks[0] == (D("0.60"), D(100))
    # Buying Down at 0.60 takes the Up bid at 0.40: both books show it.
    env.submit(A, env.order(1, Side.BUY, "0.60", "30", OrderType.FOK, token=env.down))
    assert env.ex.book(env.quote(env.down))[1][0] == (D("0.60"), D(70))
    assert env.ex.book(env.quote(env.up))[0][0] == (D("0.40"), D(70))
    assert env.shares(A, env.down) == 30


def test_selling_realises_pnl_and_position_cost(env: Env) -> None:
    env.lad = ladder([("0.39", 100)], [("0.40", 500)])
    env.submit(A, env.order(1, Side.BUY, "0.40", "100", OrderType.FOK))
    env.requote(ladder([("0.50", 500)], [("0.51", 500)]))
    r = env.submit(A, env.order(2, Side.SELL, "0.50", "40", OrderType.FAK))
    assert r.status == "matched" and (r.making_amount, r.taking_amount) == (D(40), D(20))
    pos = env.ex.ledger.account(A).positions[env.up]
    fee = D("0.7")  # 40 × 0.07 × 0.25
    assert pos.size == 60 and pos.cost == D(24) and pos.avg_price == D("0.4")
    assert pos.realized == D(20) - D(16) - fee
    assert env.usdc(A) == D(1000) - D(40) - D("1.68") + D(20) - fee
