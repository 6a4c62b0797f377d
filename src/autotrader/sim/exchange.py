"""The simulator's order entry: checks, kills, the taker delay, expiries and cancels.

Refusals are Polymarket's own words: docs.polymarket.com/resources/error-codes (FOK, FAK,
post-only, tick and size messages), clob_error_responses.json (balance, minimum size) and
GitHub issues (the $1 minimum of marketable orders). ``Exchange`` adds them to the
``Matcher`` (matching.py), which walks books and records trades.
"""

from __future__ import annotations

import heapq
from dataclasses import replace
from decimal import Decimal

from autotrader.domain.money import on_tick, round_usd
from autotrader.domain.orders import OrderType, Side
from autotrader.sim import ids
from autotrader.sim.ledger import (
    ZERO,
    Ledger,
    SimOrder,
    SimOrderState,
    SimSubmit,
    SubmitStatus,
    q_shares,
)
from autotrader.sim.markets import SimMarket
from autotrader.sim.matching import HouseQuote, Matcher, Plan, QuoteFn, fmt

MIN_MARKETABLE_USD = Decimal(1)
FOK_KILLED = "order couldn't be fully filled. FOK orders are fully filled or killed."
FAK_NO_MATCH = (
    "no orders found to match with FAK order. FAK orders are partially filled or killed if no "
    "match is found."
)
POST_ONLY_CROSSES = "invalid post-only order: order crosses book"
NOT_ENOUGH_BALANCE = "not enough balance / allowance"
INVALID_EXPIRATION = "invalid expiration"
# Polymarket's GTD "security threshold": an order must live at least a minute past its arrival.
GTD_MIN_LEAD_SECS = 60


def _notional(order: SimOrder) -> Decimal:
    """What a BUY order may spend: its USD amount, or price × size."""
    if order.amount_usd is not None:
        return order.amount_usd
    return round_usd(order.price * order.size)


class Exchange(Matcher):
    """Order entry on top of the matcher."""

    def __init__(
        self, seed: int, ledger: Ledger, *, delay_probability: float = 0.0, delay_secs: float = 2.0
    ) -> None:
        super().__init__(seed, ledger)
        self.delay_probability = delay_probability
        self.delay_secs = delay_secs
        self._timers: list[tuple[float, int, str, str]] = []  # (when, seq, kind, order id)
        self._timer_seq = 0
        self._seq = 0  # order time priority
        # Each open BUY's hold, kept with the (status, shares left) it was computed for: a
        # funds check sums every open order of the wallet, and a bench leaves hundreds resting.
        # (One entry per BUY order ever live, as ``orders`` keeps one per order.)
        self._holds: dict[str, tuple[str, Decimal, Decimal]] = {}

    # --- submitting ------------------------------------------------------------------------------

    def validate(self, order: SimOrder, market: SimMarket, tick: Decimal, now: float) -> str | None:
        """Polymarket's refusal message for ``order``, or None when it may be matched."""
        oid, price = order.order_id, order.price
        if oid in self.orders:
            return f"order {oid} is invalid. Duplicated."
        if not 0 < price < 1:
            return f"invalid price ({fmt(price)}), min: {fmt(tick)} - max: {fmt(1 - tick)}"
        if order.order_type.rests:
            # FOK/FAK prices are a worst-price bound computed from makerAmount/takerAmount,
            # which rarely lands on the tick, so only resting orders are checked.
            if not on_tick(price, tick) or not tick <= price <= 1 - tick:
                return (
                    f"order {oid} is invalid. Price ({fmt(price)}) breaks minimum tick size rule: "
                    f"{fmt(tick)}"
                )
            if order.size < market.min_order_size:
                return (
                    f"order {oid} is invalid. Size ({fmt(order.size)}) lower than the minimum: "
                    f"{fmt(market.min_order_size)}"
                )
        else:
            usd = order.amount_usd if order.amount_usd is not None else price * order.size
            if usd < MIN_MARKETABLE_USD:
                return (
                    f"invalid amount for a marketable {order.side} order (${fmt(usd)}), "
                    "min size: $1"
                )
            if order.post_only:
                return "invalid post-only order: only GTC and GTD orders can be post-only"
        if order.order_type is OrderType.GTD and order.expiration < now + GTD_MIN_LEAD_SECS:
            return INVALID_EXPIRATION
        if order.order_type is OrderType.GTC and order.expiration != 0:
            return INVALID_EXPIRATION  # a GTC order carries expiration 0 on the wire
        return None

    def available_usd(self, wallet: str) -> Decimal:
        """USDC not committed to open BUY orders."""
        acct = self.ledger.account(wallet)
        held = sum(
            (
                self._hold(o)
                for o in self.open_by_wallet.get(wallet, {}).values()
                if o.side is Side.BUY
            ),
            ZERO,
        )
        return acct.usdc - held

    def available_shares(self, wallet: str, token_id: str) -> Decimal:
        """Shares of ``token_id`` not committed to open SELL orders."""
        pos = self.ledger.account(wallet).positions.get(token_id)
        held = sum(
            (
                o.remaining
                for o in self.open_by_wallet.get(wallet, {}).values()
                if o.side is Side.SELL and o.asset_id == token_id
            ),
            ZERO,
        )
        return (pos.size if pos else ZERO) - held

    def _hold(self, o: SimOrderState) -> Decimal:
        """USD an open BUY order keeps aside: its notional (a delayed one: plus its worst fee)."""
        if o.status != "LIVE":
            return o.hold_usd
        remaining = o.remaining
        memo = self._holds.get(o.id)
        if memo is not None and memo[0] == o.status and memo[1] == remaining:
            return memo[2]
        hold = round_usd(o.price * remaining)
        self._holds[o.id] = (o.status, remaining, hold)
        return hold

    def submit(
        self, wallet: str, order: SimOrder, market: SimMarket, quote: HouseQuote, now: float
    ) -> SimSubmit:
        """Check, record and match ``order`` (the world checked token and market state)."""
        if order.amount_usd is not None and (order.side is Side.SELL or order.order_type.rests):
            order = replace(order, amount_usd=None)  # only a market BUY spends a USD amount
        error = self.validate(order, market, quote.ladder.tick, now)
        if error:
            return SimSubmit("unmatched", order.order_id, error=error)
        plan, complete = self._plan_for(wallet, order, quote)
        if order.post_only and plan:
            return SimSubmit("unmatched", order.order_id, error=POST_ONLY_CROSSES)
        error = self._funds_error(wallet, order, market, plan)
        if error:
            return SimSubmit("unmatched", order.order_id, error=error)
        state = self._record(wallet, order, market, now)
        if plan and market.is_crypto and self._delayed(order.order_id):
            state.status, state.due = "DELAYED", now + self.delay_secs
            if order.side is Side.BUY:
                # fee/notional = rate·(p(1-p))^e / p <= rate for e >= 1: a bound for any price.
                amount = _notional(order)
                state.hold_usd = amount + round_usd(amount * market.fees.rate)
            self._open(state)
            self._push(state.due, "delayed", state.id)
            return SimSubmit("delayed", order.order_id)
        return self._match(state, quote, now, plan, complete)

    def _plan_for(
        self, wallet: str, order: SimOrder | SimOrderState, quote: HouseQuote
    ) -> tuple[Plan, bool]:
        makers = self._makers(quote, order.side, order.price)
        size = order.size if isinstance(order, SimOrder) else order.remaining
        return self._plan(makers, size, order.amount_usd)

    def _funds_error(
        self, wallet: str, order: SimOrder, market: SimMarket, plan: Plan
    ) -> str | None:
        if order.side is Side.SELL:
            ok = order.size <= self.available_shares(wallet, order.token_id)
            return None if ok else NOT_ENOUGH_BALANCE
        amount = _notional(order)
        fees = sum((market.fees.taker_fee(take, m.price) for m, take in plan), ZERO)
        return None if amount + fees <= self.available_usd(wallet) else NOT_ENOUGH_BALANCE

    def _delayed(self, order_id: str) -> bool:
        return ids.unit(self.seed, "taker-delay", order_id) < self.delay_probability

    def _record(self, wallet: str, order: SimOrder, market: SimMarket, now: float) -> SimOrderState:
        self._seq += 1
        state = SimOrderState(
            id=order.order_id,
            wallet=wallet,
            owner=order.owner,
            maker_address=order.maker or wallet,
            market=market.condition_id,
            asset_id=order.token_id,
            side=order.side,
            original_size=q_shares(order.size),
            price=order.price,
            outcome=market.outcome_of(order.token_id),
            expiration=order.expiration,
            order_type=order.order_type,
            created_at=int(now),
            seq=self._seq,
            post_only=order.post_only,
            amount_usd=order.amount_usd,
        )
        self.orders[state.id] = state
        return state

    def _match(
        self,
        state: SimOrderState,
        quote: HouseQuote,
        now: float,
        plan: Plan,
        complete: bool,
    ) -> SimSubmit:
        """Execute ``plan`` for ``state``; then kill (FOK/FAK) or rest (GTC/GTD) the rest."""
        if state.order_type is OrderType.FOK and not complete:
            self._close(state, "CANCELED", FOK_KILLED)
            return SimSubmit("unmatched", state.id, error=FOK_KILLED)
        if state.order_type is OrderType.FAK and not plan:
            self._close(state, "CANCELED", FAK_NO_MATCH)
            return SimSubmit("unmatched", state.id, error=FAK_NO_MATCH)
        trades = self._execute(state, quote, now, plan)
        if state.amount_usd is not None and plan:
            state.original_size = state.size_matched  # a market BUY's size is what USD bought
        if state.remaining <= 0:
            self._close(state, "MATCHED")
        elif state.order_type.rests:
            state.status = "LIVE"
            self._open(state)
            if state.order_type is OrderType.GTD:
                self._push(float(state.expiration), "expire", state.id)
        else:
            self._close(state, "CANCELED", "FAK remainder killed")
        usd = sum((t.size * t.price for t in trades), ZERO)
        shares = sum((t.size for t in trades), ZERO)
        making, taking = (usd, shares) if state.side is Side.BUY else (shares, usd)
        status: SubmitStatus = "matched" if trades else "live"
        return SimSubmit(status, state.id, round_usd(making), taking, tuple(t.id for t in trades))

    # --- time ------------------------------------------------------------------------------------

    def _push(self, when: float, kind: str, order_id: str) -> None:
        self._timer_seq += 1
        heapq.heappush(self._timers, (when, self._timer_seq, kind, order_id))

    def advance(self, until: float, quote_for: QuoteFn) -> None:
        """Run expiries, taker delays and trade confirmations due by ``until``, in time order."""
        while self._timers and self._timers[0][0] <= until:
            when, _, kind, oid = heapq.heappop(self._timers)
            o = self.orders[oid]
            if kind == "expire" and o.status == "LIVE":
                self._close(o, "CANCELED", "expired")
            elif kind == "delayed" and o.status == "DELAYED":
                quote = quote_for(o.asset_id, when)
                if quote is None:
                    self._close(o, "CANCELED", "market closed")
                    continue
                plan, complete = self._plan_for(o.wallet, o, quote)
                self._match(o, quote, when, plan, complete)
        self.confirm(until)

    # --- cancelling and queries ------------------------------------------------------------------

    def cancel(self, wallet: str, order_id: str) -> bool:
        """Cancel a resting order of ``wallet``; delayed, filled or foreign orders: False."""
        o = self.orders.get(order_id)
        if o is None or o.wallet != wallet or o.status != "LIVE":
            return False
        self._close(o, "CANCELED", "user")
        return True

    def cancel_all(self, wallet: str) -> list[str]:
        """Cancel every resting order of ``wallet``; the ids cancelled."""
        live = sorted(
            (o for o in self.open_by_wallet.get(wallet, {}).values() if o.status == "LIVE"),
            key=lambda o: o.seq,
        )
        for o in live:
            self._close(o, "CANCELED", "user")
        return [o.id for o in live]

    def cancel_tokens(self, token_ids: tuple[str, ...], reason: str) -> None:
        """Cancel every open order (delayed ones too) on ``token_ids``: the market stopped."""
        for orders in list(self.open_by_wallet.values()):
            for o in [o for o in orders.values() if o.asset_id in token_ids]:
                self._close(o, "CANCELED", reason)

    def open_orders(self, wallet: str) -> list[SimOrderState]:
        """``wallet``'s resting and delayed orders, oldest first."""
        return sorted(self.open_by_wallet.get(wallet, {}).values(), key=lambda o: o.seq)
