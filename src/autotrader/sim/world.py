"""The simulated Polymarket: markets, books, orders, balances, all in the injected clock's time.

``SimWorld`` is what the HTTP server (sim/server.py) serves. The server holds ``lock`` around
every call and calls ``advance()`` first on each request; ``advance`` brings the world to the
clock's time incrementally (a heap of due events: window starts, ends, resolutions, roll-overs
of the extra markets), so its cost does not grow with the number of markets.

Given the seed, the candle file and the clock's readings, everything is deterministic: market
ids, books (re-quoted every ``QUOTE_SECS`` simulated seconds around the fair value), trade ids,
resolution times.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections import deque
from decimal import Decimal
from pathlib import Path

from autotrader.clock import Clock
from autotrader.domain.markets import WINDOW_SECS, window_start
from autotrader.domain.orders import Side
from autotrader.sim import ids
from autotrader.sim.exchange import Exchange
from autotrader.sim.ledger import (
    Ledger,
    SimOrder,
    SimOrderState,
    SimRedemption,
    SimSubmit,
    SimTrade,
)
from autotrader.sim.markets import (
    DAY,
    SimEvent,
    SimMarket,
    btc_window_market,
    event_of,
    extra_market,
    extra_slots,
)
from autotrader.sim.matching import HouseQuote
from autotrader.sim.pricing import BtcTape, Ladder, btc_up_fair, house_ladder
from autotrader.sim.views import (
    SimBook,
    SimMarketStats,
    SimPosition,
    book_hash,
    market_stats,
    position_view,
)

QUOTE_SECS = 5  # the house re-quotes every 5 simulated seconds (the recording's cadence)
BTC_BEHIND = DAY  # windows listed from about a day before the first advance
PRUNE_AFTER = 2 * DAY  # BTC windows older than this are forgotten (their trades are kept)
MAX_HISTORY_POINTS = 5_000
UNKNOWN_TOKEN = "Invalid token id"


def _dec(x: float, places: int = 8) -> Decimal:
    """A float from the candle file as a Decimal with at most ``places`` decimals."""
    return Decimal(repr(round(x, places)))


class SimWorld:
    """Markets, books, matching and accounts of the simulated venue."""

    def __init__(
        self,
        clock: Clock,
        candles_path: Path,
        *,
        initial_balance_usd: Decimal = Decimal(1000),
        seed: int = 0,
        extra_markets: int = 12,
        delay_probability: float = 0.0,
        delay_secs: float = 2.0,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.seed = seed
        self.tape = BtcTape.from_file(candles_path)
        self.ledger = Ledger(initial_balance_usd)
        self.exchange = Exchange(
            seed, self.ledger, delay_probability=delay_probability, delay_secs=delay_secs
        )
        self._markets: dict[str, SimMarket] = {}  # condition id -> market, in listing order
        self._by_slug: dict[str, SimMarket] = {}
        self._by_id: dict[str, SimMarket] = {}
        self._by_token: dict[str, SimMarket] = {}
        self._events_by_id: dict[str, SimEvent] = {}
        self._timeline: list[tuple[float, int, str, str]] = []  # (when, seq, kind, key)
        self._seq = 0
        self._btc_next = 0
        self._btc_pending: SimMarket | None = None
        self._btc_listed: deque[SimMarket] = deque()
        self._slots = extra_slots(seed, extra_markets)
        self._slot_markets: dict[int, deque[SimMarket]] = {s.index: deque() for s in self._slots}
        self._ladders: dict[str, tuple[int, Ladder]] = {}
        self._now: float | None = None

    # --- time ------------------------------------------------------------------------------------

    @property
    def now(self) -> float:
        """The simulated time the world was last advanced to."""
        if self._now is None:
            self.advance()
        assert self._now is not None
        return self._now

    def advance(self) -> None:
        """Bring the world to the clock's time (idempotent; time never runs backwards here)."""
        t = self.clock.time()
        if self._now is not None and t <= self._now:
            return
        if self._now is None:
            self._start(t)
        self._list_btc(t)
        while self._timeline and self._timeline[0][0] <= t:
            when, _, kind, key = heapq.heappop(self._timeline)
            self.exchange.advance(when, self._quote)
            self._handle(kind, key, when)
        self.exchange.advance(t, self._quote)
        self._now = t
        self.exchange.sweep(self._quote, t)
        self._prune(t)

    def _start(self, t: float) -> None:
        self._btc_next = window_start(t) - BTC_BEHIND
        for slot in self._slots:
            g = slot.generation_at(t)
            for gen in (g - 1, g):
                self._add_extra(slot.index, extra_market(self.seed, slot, gen))
            self._push(slot.bounds(g + 1)[0], "roll", str(slot.index))

    def _push(self, when: float, kind: str, key: str) -> None:
        self._seq += 1
        heapq.heappush(self._timeline, (when, self._seq, kind, key))

    def _register(self, m: SimMarket) -> None:
        self._markets[m.condition_id] = m
        self._by_slug[m.slug] = m
        self._by_id[m.id] = m
        for token in m.token_ids:
            self._by_token[token] = m
        self._events_by_id[m.event_id] = event_of(m)
        self._push(m.end_date, "end", m.condition_id)
        self._push(m.resolve_at, "resolve", m.condition_id)

    def _remove(self, m: SimMarket) -> None:
        self._markets.pop(m.condition_id, None)
        self._by_slug.pop(m.slug, None)
        self._by_id.pop(m.id, None)
        for token in m.token_ids:
            self._by_token.pop(token, None)
        self._events_by_id.pop(m.event_id, None)
        self._ladders.pop(m.condition_id, None)
        self.exchange.forget_market(m)

    def _add_extra(self, index: int, m: SimMarket) -> None:
        self._register(m)
        listed = self._slot_markets[index]
        listed.append(m)
        while len(listed) > 2 and listed[0].closed:  # the previous generation stays, closed
            self._remove(listed.popleft())

    def _list_btc(self, t: float) -> None:
        """List every window whose listing time (~24 h before its start) has come."""
        while True:
            m = self._btc_pending or btc_window_market(self.seed, self._btc_next)
            if m.start_date > t:
                self._btc_pending = m
                return
            self._btc_pending = None
            self._btc_next += WINDOW_SECS
            self._register(m)
            self._btc_listed.append(m)
            self._push(float(m.window_start or 0), "start", m.condition_id)

    def _handle(self, kind: str, key: str, when: float) -> None:
        if kind == "roll":
            slot = self._slots[int(key)]
            g = slot.generation_at(when)
            self._add_extra(slot.index, extra_market(self.seed, slot, g))
            self._push(slot.bounds(g + 1)[0], "roll", key)
            return
        m = self._markets.get(key)
        if m is None:
            return
        if kind == "start" and m.window_start is not None:
            m.price_to_beat = _dec(self.tape.price_at(m.window_start))
        elif kind == "end":
            self.exchange.cancel_tokens(m.token_ids, "market closed")
        elif kind == "resolve":
            self._resolve(m, when)

    def _resolve(self, m: SimMarket, when: float) -> None:
        """Publish the result and pay the winners (ties go Up)."""
        if m.window_start is not None:
            final = self.tape.price_at(m.end_date)
            m.final_price = _dec(final)
            winner = 0 if final >= self.tape.price_at(m.window_start) else 1
        else:
            assert m.path is not None
            p_end = m.path.at(m.end_date)
            winner = 0 if ids.unit(self.seed, "winner", m.slug) < p_end else 1
        m.winner, m.closed, m.closed_at = m.outcomes[winner], True, when
        self.ledger.settle(m.condition_id, m.token_ids, m.outcomes, winner, int(when))

    def _prune(self, t: float) -> None:
        listed = self._btc_listed
        while listed and listed[0].end_date < t - PRUNE_AFTER and listed[0].closed:
            self._remove(listed.popleft())

    # --- prices ----------------------------------------------------------------------------------

    def fair_value(self, m: SimMarket, t: float) -> float:
        """Probability of the market's first outcome at ``t`` (Up, or Yes)."""
        if m.window_start is not None:
            return btc_up_fair(self.tape, m.window_start, int(m.end_date), t)
        assert m.path is not None
        return m.path.at(t)

    def _ladder(self, m: SimMarket, epoch: int) -> Ladder:
        cached = self._ladders.get(m.condition_id)
        if cached is not None and cached[0] == epoch:
            return cached[1]
        fair = self.fair_value(m, epoch * QUOTE_SECS)
        ladder = house_ladder(fair, self.seed, f"{m.condition_id}:{epoch}")
        self._ladders[m.condition_id] = (epoch, ladder)
        return ladder

    def _quote(self, token_id: str, t: float) -> HouseQuote | None:
        """The house quote for ``token_id`` at ``t``; None once the market takes no orders."""
        m = self._by_token.get(token_id)
        if m is None or not m.accepting_orders(t):
            return None
        epoch = math.floor(t / QUOTE_SECS)
        return HouseQuote(m, m.token_ids.index(token_id), epoch, self._ladder(m, epoch))

    def btc_price(self, t: float | None = None) -> Decimal:
        """The replayed BTC price at ``t`` (default: now)."""
        return _dec(self.tape.price_at(self.now if t is None else t))

    # --- lookups ---------------------------------------------------------------------------------

    def markets(self) -> list[SimMarket]:
        """Every listed market (closed ones too), in listing order."""
        return sorted(self._markets.values(), key=lambda m: (m.start_date, m.id))

    def market_by_slug(self, slug: str) -> SimMarket | None:
        """The market with this slug."""
        return self._by_slug.get(slug)

    def market_by_id(self, market_id: str) -> SimMarket | None:
        """The market with this Gamma id."""
        return self._by_id.get(market_id)

    def market_by_condition_id(self, condition_id: str) -> SimMarket | None:
        """The market with this condition id (case-insensitive hex)."""
        return self._markets.get(condition_id.lower())

    def market_by_token_id(self, token_id: str) -> SimMarket | None:
        """The market one of whose outcome tokens is ``token_id``."""
        return self._by_token.get(token_id)

    def events(self) -> list[SimEvent]:
        """Every listed event, in listing order."""
        return sorted(self._events_by_id.values(), key=lambda e: (e.start_date, e.id))

    def event_by_slug(self, slug: str) -> SimEvent | None:
        """The event with this slug (the slug of its market)."""
        m = self._by_slug.get(slug)
        return None if m is None else self._events_by_id.get(m.event_id)

    def event_by_id(self, event_id: str) -> SimEvent | None:
        """The event with this Gamma id."""
        return self._events_by_id.get(event_id)

    # --- books and prices ------------------------------------------------------------------------

    def tick_size(self, token_id: str) -> Decimal | None:
        """The token's tick now (0.01, or 0.001 beyond 0.04/0.96); None for an unknown token."""
        m = self._by_token.get(token_id)
        if m is None:
            return None
        t = min(self.now, m.end_date - 1)
        return self._ladder(m, math.floor(t / QUOTE_SECS)).tick

    def book(self, token_id: str) -> SimBook | None:
        """The token's book now (empty once trading ended); None for an unknown token."""
        m = self._by_token.get(token_id)
        if m is None:
            return None
        now = self.now
        quote = self._quote(token_id, now)
        bids, asks = self.exchange.book(quote) if quote else ([], [])
        tick = quote.ladder.tick if quote else self.tick_size(token_id) or Decimal("0.01")
        last = self.exchange.last_trade.get(token_id)
        ts_ms = int(now * 1000)
        return SimBook(
            token_id=token_id,
            market=m.condition_id,
            bids=bids,
            asks=asks,
            tick_size=tick,
            min_order_size=m.min_order_size,
            neg_risk=m.neg_risk,
            fee=m.fees,
            last_trade_price=last[0] if last else None,
            ts_ms=ts_ms,
            hash=book_hash(token_id, ts_ms, bids, asks),
        )

    def last_trade(self, token_id: str) -> tuple[Decimal, Side] | None:
        """Price and taker side of the token's last trade, if any."""
        return self.exchange.last_trade.get(token_id)

    def _price_of(self, m: SimMarket, idx: int, t: float) -> Decimal:
        """Outcome ``idx``'s price at ``t``: 1/0 once resolved, else the fair value (3 dp)."""
        if m.closed and m.closed_at is not None and t >= m.closed_at:
            return Decimal(1) if m.outcomes[idx] == m.winner else Decimal(0)
        p = Decimal(repr(round(self.fair_value(m, t), 3))).normalize()  # 0.5, not 0.500
        return p if idx == 0 else (Decimal(1) - p).normalize()

    def market_stats(self, m: SimMarket) -> SimMarketStats:
        """Best bid/ask, last trade, outcome prices, volume and liquidity now."""
        now = self.now
        book = self.book(m.token_ids[0])
        assert book is not None
        resolved = (self._price_of(m, 0, now), self._price_of(m, 1, now))
        last = self.exchange.last_trade.get(m.token_ids[0])
        user_volume = self.exchange.volume.get(m.condition_id, Decimal(0))
        return market_stats(m, now, book, resolved, last[0] if last else None, user_volume)

    def price_history(
        self, token_id: str, start_ts: float, end_ts: float, fidelity_s: float = 60
    ) -> list[tuple[int, Decimal]]:
        """``(t, price)`` every ``fidelity_s`` seconds within [start_ts, end_ts] and the market's
        life up to now (unknown token: empty). Too many points: the step widens."""
        m = self._by_token.get(token_id)
        if m is None:
            return []
        lo = max(start_ts, m.start_date)
        hi = min(end_ts, self.now)
        if hi < lo:
            return []
        step = max(int(fidelity_s), 1)
        step = max(step, math.ceil((hi - lo) / MAX_HISTORY_POINTS))
        idx = m.token_ids.index(token_id)
        first = math.ceil(lo / step) * step
        return [(t, self._price_of(m, idx, t)) for t in range(first, int(hi) + 1, step)]

    # --- trading ---------------------------------------------------------------------------------

    def submit(self, wallet: str, order: SimOrder) -> SimSubmit:
        """Match or rest ``order`` for ``wallet``; a refusal carries Polymarket's message."""
        m = self._by_token.get(order.token_id)
        if m is None:
            return SimSubmit("unmatched", order.order_id, error=UNKNOWN_TOKEN)
        now = self.now
        quote = self._quote(order.token_id, now)
        if quote is None:
            # What the CLOB answers for a market that stopped trading (seen after resolution).
            error = f"the orderbook {order.token_id} does not exist"
            return SimSubmit("unmatched", order.order_id, error=error)
        return self.exchange.submit(wallet.lower(), order, m, quote, now)

    def cancel(self, wallet: str, order_id: str) -> bool:
        """Cancel one resting order of ``wallet`` (False: unknown, not its own, done or delayed)."""
        return self.exchange.cancel(wallet.lower(), order_id)

    def cancel_all(self, wallet: str) -> list[str]:
        """Cancel all resting orders of ``wallet``; the ids cancelled."""
        return self.exchange.cancel_all(wallet.lower())

    def open_orders(self, wallet: str) -> list[SimOrderState]:
        """``wallet``'s resting (LIVE) and delayed orders."""
        return self.exchange.open_orders(wallet.lower())

    def order(self, order_id: str) -> SimOrderState | None:
        """Any order accepted so far, by id."""
        return self.exchange.orders.get(order_id)

    def trades(self, wallet: str, after_ts: int | None = None) -> list[SimTrade]:
        """``wallet``'s trades as taker or maker (``trader_side``), since ``after_ts``."""
        return self.exchange.trades_for(wallet.lower(), after_ts)

    def balance(self, wallet: str) -> Decimal:
        """``wallet``'s USDC balance (a new wallet has the initial balance)."""
        return self.ledger.account(wallet.lower()).usdc

    def available_balance(self, wallet: str) -> Decimal:
        """USDC not held by open BUY orders."""
        return self.exchange.available_usd(wallet.lower())

    def positions(self, wallet: str) -> list[SimPosition]:
        """``wallet``'s open positions, valued at the book's midpoint (or the fair value)."""
        wallet = wallet.lower()
        out = []
        for token_id, pos in self.ledger.account(wallet).positions.items():
            m = self._by_token.get(token_id)
            if m is None or pos.size <= 0:
                continue
            book = self.book(token_id)
            mid = book.midpoint if book is not None else None
            price = (
                mid if mid is not None else self._price_of(m, m.token_ids.index(token_id), self.now)
            )
            out.append(position_view(wallet, m, token_id, pos, price))
        return out

    def redemptions(self, wallet: str) -> list[SimRedemption]:
        """Payouts ``wallet`` received when markets it held resolved."""
        wallet = wallet.lower()
        return [r for r in self.ledger.redemptions if r.wallet == wallet]
