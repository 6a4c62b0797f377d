"""Money and shares are conserved: random order flows never create or destroy value.

Across every account (the users and the house market maker) USDC plus the fee pool stays
constant through trades and settlement, each token's shares sum to zero, and no user ever goes
below zero in cash or shares, nor commits more than it has.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from autotrader.domain.orders import OrderType, Side
from autotrader.sim.exchange import Exchange
from autotrader.sim.ledger import HOUSE, Ledger, SimOrder
from autotrader.sim.markets import btc_window_market
from autotrader.sim.matching import HouseQuote
from autotrader.sim.pricing import house_ladder

D = Decimal
T = 1_767_225_600
WALLETS = ("0xa", "0xb", "0xc")

order_st = st.tuples(
    st.sampled_from(WALLETS),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.sampled_from(list(OrderType)),
    st.integers(2, 98),  # price in cents
    st.integers(1, 400),  # shares
    st.integers(0, 1),  # token
    st.booleans(),  # post-only
)
step_st = st.one_of(
    order_st,
    st.tuples(st.just("requote"), st.floats(0.02, 0.98)),
    st.tuples(st.just("cancel"), st.sampled_from(WALLETS)),
)


def check(ex: Exchange, tokens: tuple[str, str]) -> None:
    ledger = ex.ledger
    users = [w for w in ledger.accounts if w != HOUSE]
    total = sum((a.usdc for a in ledger.accounts.values()), D(0)) + ledger.fees
    assert total == D(1000) * len(users)
    for token in tokens:
        held = [a.positions[token].size for a in ledger.accounts.values() if token in a.positions]
        assert sum(held, D(0)) == 0
    for w in users:
        assert ledger.accounts[w].usdc >= 0
        assert ex.available_usd(w) >= 0
        for token in tokens:
            assert ex.available_shares(w, token) >= 0


@settings(max_examples=150, deadline=None)
@given(st.lists(step_st, max_size=40), st.integers(0, 1))
def test_value_is_conserved_through_trading_and_settlement(steps: list, winner: int) -> None:  # type: ignore[type-arg]
    market = btc_window_market(0, T)
    ex = Exchange(0, Ledger(D(1000)))
    state = {"epoch": 0, "fair": 0.5}

    def quote_for(token: str, _t: float) -> HouseQuote:
        lad = house_ladder(state["fair"], 0, f"q:{state['epoch']}")
        return HouseQuote(market, market.token_ids.index(token), int(state["epoch"]), lad)

    now = float(T)
    for i, step in enumerate(steps):
        now += 1
        if step[0] == "requote":
            state["epoch"] += 1
            state["fair"] = step[1]
            ex.sweep(quote_for, now)
        elif step[0] == "cancel":
            ex.cancel_all(step[1])
        else:
            wallet, side, kind, cents, size, token_idx, post_only = step
            token = market.token_ids[token_idx]
            order = SimOrder(
                f"0x{i:064x}",
                token,
                side,
                D(cents) / 100,
                D(size),
                kind,
                post_only=post_only and kind.rests,
                expiration=int(now) + 3600 if kind is OrderType.GTD else 0,
            )
            r = ex.submit(wallet, order, market, quote_for(token, now), now)
            assert r.error is None or r.status == "unmatched"
        check(ex, market.token_ids)
    ex.cancel_tokens(market.token_ids, "market closed")
    ex.ledger.settle(market.condition_id, market.token_ids, market.outcomes, winner, int(now))
    check(ex, market.token_ids)
    for acct in ex.ledger.accounts.values():
        assert all(p.size == 0 for p in acct.positions.values())
