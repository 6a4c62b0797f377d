"""OrderBook: best-first sides, the usual properties, and the walk used for fills and quotes.

Book used below:  asks 0.40 × 50, 0.41 × 100, 0.43 × 200   bids 0.38 × 40, 0.37 × 60
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from autotrader.domain.book import Level, OrderBook
from autotrader.domain.orders import Side

TS = datetime(2026, 1, 1, tzinfo=UTC)


def book(asks: list[tuple[str, str]], bids: list[tuple[str, str]]) -> OrderBook:
    return OrderBook(
        token_id="t",
        bids=tuple(Level(D(p), D(s)) for p, s in bids),
        asks=tuple(Level(D(p), D(s)) for p, s in asks),
        tick_size=D("0.01"),
        min_order_size=D(5),
        ts=TS,
        hash="abc",
    )


STD = book([("0.40", "50"), ("0.41", "100"), ("0.43", "200")], [("0.38", "40"), ("0.37", "60")])


def test_properties() -> None:
    assert STD.best_bid == D("0.38") and STD.best_ask == D("0.40")
    assert STD.midpoint == D("0.39") and STD.spread == D("0.02")
    one_sided = book([], [("0.001", "667.12"), ("0.002", "6.99")][::-1])
    assert one_sided.best_ask is None and one_sided.midpoint is None and one_sided.spread is None
    assert one_sided.best_bid == D("0.002")
    assert STD.crosses(Side.BUY, D("0.40")) and not STD.crosses(Side.BUY, D("0.39"))
    assert STD.crosses(Side.SELL, D("0.38")) and not STD.crosses(Side.SELL, D("0.39"))
    assert not one_sided.crosses(Side.BUY, D("0.99"))


def test_sides_must_be_best_first() -> None:
    with pytest.raises(ValueError, match="bids must be strictly sorted highest first"):
        book([], [("0.37", "1"), ("0.38", "1")])  # the wire order: best last
    with pytest.raises(ValueError, match="asks must be strictly sorted lowest first"):
        book([("0.41", "1"), ("0.40", "1")], [])
    with pytest.raises(ValueError, match="asks"):
        book([("0.40", "1"), ("0.40", "1")], [])


@pytest.mark.parametrize(("price", "size"), [("0", "1"), ("1", "1"), ("0.5", "-1"), ("0.5", "NaN")])
def test_bad_levels(price: str, size: str) -> None:
    with pytest.raises(ValueError):
        Level(D(price), D(size))


def test_naive_ts_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        OrderBook("t", (), (), D("0.01"), D(5), datetime(2026, 1, 1))


def test_buy_walk_by_shares_over_three_levels() -> None:
    w = STD.walk(Side.BUY, shares=D(200))
    # 50 @ 0.40 = 20 + 100 @ 0.41 = 41 + 50 @ 0.43 = 21.5 -> 82.5 for 200, avg 0.4125
    assert [(lv.price, lv.size) for lv in w.levels] == [
        (D("0.40"), D(50)),
        (D("0.41"), D(100)),
        (D("0.43"), D(50)),
    ]
    assert (w.shares, w.usd, w.complete, w.avg_price) == (D(200), D("82.5"), True, D("0.4125"))


def test_buy_walk_by_usd() -> None:
    w = STD.walk(Side.BUY, usd=D(50))
    # 20.00 buys the 50 @ 0.40; 30.00 left buys 73.17 @ 0.41 (30 / 0.41 = 73.17…) for 29.9997
    assert [(lv.price, lv.size) for lv in w.levels] == [(D("0.40"), D(50)), (D("0.41"), D("73.17"))]
    assert (w.shares, w.usd, w.complete) == (D("123.17"), D("49.9997"), True)


def test_walk_stops_at_the_limit_and_reports_incomplete() -> None:
    w = STD.walk(Side.BUY, shares=D(200), limit_price=D("0.41"))
    assert (w.shares, w.usd, w.complete) == (D(150), D(61), False)  # 20 + 41
    w = STD.walk(Side.BUY, usd=D(1000))
    assert (w.shares, w.usd, w.complete) == (D(350), D(147), False)  # 20 + 41 + 86


def test_sell_walk_takes_bids() -> None:
    w = STD.walk(Side.SELL, shares=D(70))
    # 40 @ 0.38 = 15.20 + 30 @ 0.37 = 11.10 -> 26.30, avg 26.30 / 70
    assert [(lv.price, lv.size) for lv in w.levels] == [(D("0.38"), D(40)), (D("0.37"), D(30))]
    assert (w.shares, w.usd, w.complete) == (D(70), D("26.30"), True)
    assert w.avg_price == D("26.30") / D(70)
    assert STD.walk(Side.SELL, shares=D(10), limit_price=D("0.39")).shares == 0


def test_walk_everything_and_empty() -> None:
    w = STD.walk(Side.SELL)
    assert (w.shares, w.usd) == (D(100), D("37.40"))  # 15.20 + 22.20
    empty = book([], []).walk(Side.BUY, shares=D(1))
    assert (empty.shares, empty.usd, empty.complete, empty.avg_price) == (D(0), D(0), False, None)


def test_walk_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="not both"):
        STD.walk(Side.BUY, shares=D(1), usd=D(1))
    with pytest.raises(ValueError, match="shares"):
        STD.walk(Side.BUY, shares=D(0))
    with pytest.raises(ValueError, match="usd"):
        STD.walk(Side.BUY, usd=D(-1))
