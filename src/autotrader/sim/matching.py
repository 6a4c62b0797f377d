"""Order matching for the simulator: house liquidity plus resting user orders, per token.

A token's book is the house ladder (pricing.house_ladder, re-quoted every few simulated
seconds) minus what takers already took from this quote, plus the users' resting orders.
A marketable order walks it best price first (users ahead of the house at equal price) and
pays the market's taker fee; one trade is recorded per price level. A resting order fills, at
its own price, when the house quote moves through it. Order checks, kills and timers are in
exchange.py.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from itertools import groupby

from autotrader.domain.money import round_usd
from autotrader.domain.orders import Side
from autotrader.sim import ids
from autotrader.sim.ledger import (
    HOUSE,
    ZERO,
    Ledger,
    SimMakerFill,
    SimOrderState,
    SimTrade,
    q_shares,
)
from autotrader.sim.markets import SimMarket
from autotrader.sim.pricing import Ladder, Level, complement

CONFIRM_SECS = 6.0  # MATCHED -> CONFIRMED once the (simulated) settlement transaction is mined


def fmt(x: Decimal) -> str:
    """A number as Polymarket prints it in messages: no exponent, no trailing zeros."""
    text = f"{x.normalize():f}"
    return text


@dataclass(frozen=True)
class HouseQuote:
    """The house's quote for one token at one epoch (``ladder`` is on the market's token 0)."""

    market: SimMarket
    token_index: int
    epoch: int
    ladder: Ladder

    @property
    def token_id(self) -> str:
        """The token this quote is for."""
        return self.market.token_ids[self.token_index]

    def levels(self, book_side: str) -> tuple[Level, ...]:
        """House ``bids`` or ``asks`` of this token, best first."""
        lad = self.ladder
        if self.token_index == 0:
            return lad.bids if book_side == "bids" else lad.asks
        return complement(lad.asks) if book_side == "bids" else complement(lad.bids)

    def key(self, book_side: str, price: Decimal) -> tuple[str, Decimal]:
        """The level's identity on token 0's book (a Down ask at q is the Up bid at 1 - q)."""
        if self.token_index == 0:
            return book_side, price
        return ("asks" if book_side == "bids" else "bids"), Decimal(1) - price


QuoteFn = Callable[[str, float], HouseQuote | None]


@dataclass
class Maker:
    """A resting liquidity source a taker can hit: a house level or a user order."""

    price: Decimal
    size: Decimal
    order: SimOrderState | None  # None: the house


Plan = list[tuple[Maker, Decimal]]  # (maker, shares taken), in matching order


@dataclass(frozen=True)
class HouseTaker:
    """The house's side of a trade in which it takes a user's resting order."""

    id: str
    side: Side
    asset_id: str
    owner: str
    maker_address: str
    wallet: str = HOUSE


class Matcher:
    """Books, resting orders, matching and trade records; money moves go through the Ledger."""

    def __init__(self, seed: int, ledger: Ledger) -> None:
        self.seed = seed
        self.ledger = ledger
        self.orders: dict[str, SimOrderState] = {}
        self.open_by_wallet: dict[str, dict[str, SimOrderState]] = {}
        self.resting: dict[str, list[SimOrderState]] = {}
        self.trades: list[SimTrade] = []
        self.trades_by_wallet: dict[str, list[tuple[int, bool]]] = {}  # (index, as maker)
        self.last_trade: dict[str, tuple[Decimal, Side]] = {}
        self.volume: dict[str, Decimal] = {}
        self._taken: dict[str, tuple[int, dict[tuple[str, Decimal], Decimal]]] = {}
        self._confirm: deque[tuple[float, int]] = deque()
        self.house_owner = ids.uuid_like(seed, "owner", HOUSE)
        self.house_address = ids.address(seed, HOUSE)

    # --- the book ------------------------------------------------------------------------------

    def _taken_at(self, quote: HouseQuote) -> dict[tuple[str, Decimal], Decimal]:
        cid = quote.market.condition_id
        epoch, taken = self._taken.get(cid, (-1, {}))
        if epoch != quote.epoch:  # a new quote: the house's liquidity is whole again
            taken = {}
            self._taken[cid] = (quote.epoch, taken)
        return taken

    def house_levels(self, quote: HouseQuote, book_side: str) -> list[Level]:
        """The house's levels still available at this quote, best first."""
        taken = self._taken_at(quote)
        out = []
        for price, size in quote.levels(book_side):
            left = size - taken.get(quote.key(book_side, price), ZERO)
            if left > 0:
                out.append((price, left))
        return out

    def book(self, quote: HouseQuote) -> tuple[list[Level], list[Level]]:
        """``(bids, asks)`` of the token, best first: house plus resting user orders."""
        sides: dict[str, dict[Decimal, Decimal]] = {"bids": {}, "asks": {}}
        for book_side in ("bids", "asks"):
            for price, size in self.house_levels(quote, book_side):
                sides[book_side][price] = size
        for o in self.resting.get(quote.token_id, []):
            agg = sides["bids" if o.side is Side.BUY else "asks"]
            agg[o.price] = agg.get(o.price, ZERO) + o.remaining
        bids = sorted(sides["bids"].items(), key=lambda lv: -lv[0])
        asks = sorted(sides["asks"].items(), key=lambda lv: lv[0])
        return bids, asks

    def _makers(self, quote: HouseQuote, side: Side, limit: Decimal) -> list[Maker]:
        """What a ``side`` taker can hit at ``limit`` or better, in matching order."""
        buy = side is Side.BUY
        book_side = "asks" if buy else "bids"
        makers = [Maker(p, s, None) for p, s in self.house_levels(quote, book_side)]
        makers += [
            Maker(o.price, o.remaining, o)
            for o in self.resting.get(quote.token_id, [])
            if o.side is not side  # no self-trade prevention, as on Polymarket
        ]
        makers = [m for m in makers if (m.price <= limit if buy else m.price >= limit)]
        # Best price first; at a price, users (in time order) ahead of the house.
        makers.sort(
            key=lambda m: (
                (m.price if buy else -m.price),
                m.order is None,
                m.order.seq if m.order else 0,
            )
        )
        return makers

    @staticmethod
    def _plan(makers: list[Maker], size: Decimal, usd: Decimal | None) -> tuple[Plan, bool]:
        """Walk ``makers`` for ``size`` shares (or ``usd`` dollars): the takes and completeness."""
        plan: Plan = []
        for m in makers:
            want = size if usd is None else q_shares(usd / m.price)
            take = min(m.size, want)
            if take <= 0:
                break
            plan.append((m, take))
            if usd is None:
                size -= take
            else:
                usd -= round_usd(m.price * take)
            if take == want:
                return plan, True
        return plan, False

    # --- order records ---------------------------------------------------------------------------

    def _open(self, state: SimOrderState) -> None:
        self.open_by_wallet.setdefault(state.wallet, {})[state.id] = state
        if state.status == "LIVE":
            self.resting.setdefault(state.asset_id, []).append(state)

    def _close(self, state: SimOrderState, status: str, reason: str = "") -> None:
        was_live = state.status == "LIVE"
        state.status = "MATCHED" if status == "MATCHED" else "CANCELED"
        state.reason = reason
        self.open_by_wallet.get(state.wallet, {}).pop(state.id, None)
        if was_live:
            resting = [o for o in self.resting.get(state.asset_id, []) if o is not state]
            if resting:
                self.resting[state.asset_id] = resting
            else:
                self.resting.pop(state.asset_id, None)

    # --- matching --------------------------------------------------------------------------------

    def _execute(
        self, state: SimOrderState, quote: HouseQuote, now: float, plan: Plan
    ) -> list[SimTrade]:
        """Fill ``state`` against ``plan``: one trade per price level, fees to the taker."""
        trades = []
        for price, level in groupby(plan, key=lambda take: take[0].price):
            fills = [
                self._fill(state.side, quote, maker, price, size, now) for maker, size in level
            ]
            total = sum((f.matched_amount for f in fills), ZERO)
            fee = quote.market.fees.taker_fee(total, price)
            self.ledger.charge_fee(state.wallet, state.asset_id, fee, entry=state.side is Side.BUY)
            trade = self._new_trade(state, quote.market, price, total, fee, fills, now)
            state.size_matched += total
            trades.append(trade)
        return trades

    def _fill(
        self,
        taker_side: Side,
        quote: HouseQuote,
        maker: Maker,
        price: Decimal,
        size: Decimal,
        now: float,
    ) -> SimMakerFill:
        """Move money and shares between the taker and one maker (house or user)."""
        book_side = "asks" if taker_side is Side.BUY else "bids"
        order = maker.order
        if order is None:  # the house's level shrinks until the next quote
            taken = self._taken_at(quote)
            key = quote.key(book_side, price)
            taken[key] = taken.get(key, ZERO) + size
            order_id = ids.hex32(self.seed, "house", f"{quote.token_id}:{quote.epoch}:{price}")
            fill = SimMakerFill(
                order_id=order_id,
                owner=self.house_owner,
                maker_address=self.house_address,
                matched_amount=size,
                price=price,
                fee_rate_bps=fee_bps(quote.market),
                asset_id=quote.token_id,
                outcome=quote.market.outcome_of(quote.token_id),
                side=taker_side.opposite,
                wallet=HOUSE,
            )
        else:
            fill = self._maker_order_fill(order, quote.market, price, size)
        return fill

    def _maker_order_fill(
        self, order: SimOrderState, market: SimMarket, price: Decimal, size: Decimal
    ) -> SimMakerFill:
        """A user's resting order matched for ``size`` (closed once nothing is left)."""
        order.size_matched += size
        if order.remaining <= 0:
            self._close(order, "MATCHED")
        return SimMakerFill(
            order_id=order.id,
            owner=order.owner,
            maker_address=order.maker_address,
            matched_amount=size,
            price=price,
            fee_rate_bps=fee_bps(market),
            asset_id=order.asset_id,
            outcome=order.outcome,
            side=order.side,
            wallet=order.wallet,
        )

    def _new_trade(
        self,
        taker: SimOrderState | HouseTaker,
        market: SimMarket,
        price: Decimal,
        size: Decimal,
        fee: Decimal,
        fills: list[SimMakerFill],
        now: float,
    ) -> SimTrade:
        """Record a trade, move its money and shares, and index it for the wallets involved."""
        for f in fills:
            buyer, seller = (
                (taker.wallet, f.wallet) if taker.side is Side.BUY else (f.wallet, taker.wallet)
            )
            self.ledger.fill(buyer, seller, taker.asset_id, price, f.matched_amount, int(now))
        tid = ids.uuid_like(self.seed, "trade", str(len(self.trades)))
        trade = SimTrade(
            id=tid,
            taker_order_id=taker.id,
            market=market.condition_id,
            asset_id=taker.asset_id,
            side=taker.side,
            size=size,
            fee_rate_bps=fee_bps(market),
            price=price,
            status="MATCHED",
            match_time=int(now),
            last_update=int(now),
            outcome=market.outcome_of(taker.asset_id),
            owner=taker.owner,
            maker_address=taker.maker_address,
            transaction_hash=ids.hex32(self.seed, "tx", tid),
            trader_side="TAKER",
            maker_orders=tuple(fills),
            fee=fee,
            taker_wallet=taker.wallet,
        )
        self._index(trade, taker, now)
        return trade

    def _index(self, trade: SimTrade, taker: SimOrderState | HouseTaker, now: float) -> None:
        """Make ``trade`` findable by wallet and order, due for confirmation, counted in stats."""
        n = len(self.trades)
        self.trades.append(trade)
        fills = trade.maker_orders
        for wallet, as_maker in [(taker.wallet, False), *((f.wallet, True) for f in fills)]:
            if wallet != HOUSE and (not as_maker or wallet != taker.wallet):
                self.trades_by_wallet.setdefault(wallet, []).append((n, as_maker))
        for order_id in [taker.id, *(f.order_id for f in fills)]:
            if order_id in self.orders:
                self.orders[order_id].associate_trades.append(trade.id)
        self._confirm.append((now + CONFIRM_SECS, n))
        self.last_trade[trade.asset_id] = (trade.price, trade.side)
        cid = trade.market
        self.volume[cid] = self.volume.get(cid, ZERO) + round_usd(trade.price * trade.size)

    def sweep(self, quote_for: QuoteFn, now: float) -> None:
        """Fill resting orders the house quote has moved through (at the orders' prices)."""
        for token in list(self.resting):
            quote = quote_for(token, now)
            if quote is None:
                continue
            # Only orders at or through the house's best level can fill: the others (most of
            # a book of resting limits) are passed over without building a taker for each.
            asks, bids = self.house_levels(quote, "asks"), self.house_levels(quote, "bids")
            buys = sorted(
                (
                    o
                    for o in self.resting[token]
                    if o.side is Side.BUY and asks and o.price >= asks[0][0]
                ),
                key=lambda o: (-o.price, o.seq),
            )
            sells = sorted(
                (
                    o
                    for o in self.resting[token]
                    if o.side is Side.SELL and bids and o.price <= bids[0][0]
                ),
                key=lambda o: (o.price, o.seq),
            )
            for o in buys + sells:
                self._fill_from_house(o, quote, now)

    def _fill_from_house(self, o: SimOrderState, quote: HouseQuote, now: float) -> None:
        """The house, as taker, hits ``o`` with the levels of its quote that cross it."""
        buy = o.side is Side.BUY
        taker = HouseTaker(
            ids.hex32(self.seed, "house-taker", f"{o.id}:{quote.epoch}"),
            o.side.opposite,
            o.asset_id,
            self.house_owner,
            self.house_address,
        )
        for price, size in self.house_levels(quote, "asks" if buy else "bids"):
            if (price > o.price) if buy else (price < o.price):
                return
            take = min(size, o.remaining)
            key = quote.key("asks" if buy else "bids", price)
            taken = self._taken_at(quote)
            taken[key] = taken.get(key, ZERO) + take
            fill = self._maker_order_fill(o, quote.market, o.price, take)
            fee = quote.market.fees.taker_fee(take, o.price)
            self.ledger.charge_fee(HOUSE, o.asset_id, fee, entry=not buy)
            self._new_trade(taker, quote.market, o.price, take, fee, [fill], now)
            if o.status != "LIVE":
                return

    def forget_market(self, market: SimMarket) -> None:
        """Drop the matching state of a market the world no longer lists (trades stay)."""
        self._taken.pop(market.condition_id, None)
        self.volume.pop(market.condition_id, None)
        for token in market.token_ids:
            self.last_trade.pop(token, None)

    def confirm(self, until: float) -> None:
        """Trades matched CONFIRM_SECS before ``until`` become CONFIRMED."""
        while self._confirm and self._confirm[0][0] <= until:
            when, idx = self._confirm.popleft()
            self.trades[idx] = replace(self.trades[idx], status="CONFIRMED", last_update=int(when))

    def trades_for(self, wallet: str, after_ts: int | None = None) -> list[SimTrade]:
        """``wallet``'s trades (as taker or maker) matched at or after ``after_ts``."""
        out = []
        for idx, as_maker in self.trades_by_wallet.get(wallet, []):
            t = self.trades[idx]
            if after_ts is None or t.match_time >= after_ts:
                out.append(replace(t, trader_side="MAKER") if as_maker else t)
        return out


def fee_bps(market: SimMarket) -> str:
    """The trade's ``fee_rate_bps``: the market's fee rate in basis points."""
    return str(int(market.fees.rate * 10_000))
