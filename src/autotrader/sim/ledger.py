"""The simulator's records: orders, trades, balances and positions, and the money moves.

Every wallet (lower-cased address) has a USDC balance (6 decimals) and positions in shares.
The simulated market maker ("the house") is an account too, allowed to go negative (a short
position in one outcome is the long position in the other, minted), and fees go to a fee
pool, so that across all accounts USDC + fees is constant and every token's shares sum to zero
(tests check both).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Literal

from autotrader.domain.money import round_usd
from autotrader.domain.orders import OrderType, Side

HOUSE = "house"
SHARE_Q = Decimal("0.000001")  # CTF tokens have 6 decimals, like USDC
ZERO = Decimal(0)

SubmitStatus = Literal["matched", "live", "delayed", "unmatched"]
# /data/orders statuses (the fixture's "LIVE"); a killed or expired order is CANCELED.
OrderState = Literal["LIVE", "DELAYED", "MATCHED", "CANCELED"]


def q_shares(x: Decimal) -> Decimal:
    """Shares on the token's 6-decimal grid, rounded down (never hand out more than exists)."""
    return x.quantize(SHARE_Q, ROUND_DOWN)


@dataclass(frozen=True)
class SimOrder:
    """A verified order as the server hands it over.

    ``price`` is the limit (for FOK/FAK the worst acceptable price) and ``size`` the shares.
    ``amount_usd`` (BUY FOK/FAK only, optional) gives a market BUY Polymarket's semantics:
    spend that much USD (the order's makerAmount) at prices up to ``price``.
    ``expiration`` is epoch seconds, 0 for none. ``owner`` is the API key shown in
    /data/orders and trades.
    """

    order_id: str
    token_id: str
    side: Side
    price: Decimal
    size: Decimal
    order_type: OrderType
    post_only: bool = False
    expiration: int = 0
    maker: str = ""
    signer: str = ""
    owner: str = ""
    amount_usd: Decimal | None = None


@dataclass(frozen=True)
class SimSubmit:
    """The answer to a POST /order: ``error`` is Polymarket's message when refused."""

    status: SubmitStatus
    order_id: str
    making_amount: Decimal = ZERO  # BUY: USD spent; SELL: shares sold (matched part)
    taking_amount: Decimal = ZERO  # BUY: shares received; SELL: USD received
    trade_ids: tuple[str, ...] = ()
    error: str | None = None

    @property
    def success(self) -> bool:
        """Whether the order was accepted."""
        return self.error is None


@dataclass
class SimOrderState:
    """An accepted order, as /data/order(s) shows it."""

    id: str
    wallet: str
    owner: str
    maker_address: str
    market: str  # condition id
    asset_id: str
    side: Side
    original_size: Decimal
    price: Decimal
    outcome: str
    expiration: int
    order_type: OrderType
    created_at: int
    seq: int  # time priority among resting orders
    status: OrderState = "LIVE"
    size_matched: Decimal = ZERO
    associate_trades: list[str] = field(default_factory=list)
    post_only: bool = False
    amount_usd: Decimal | None = None
    reason: str = ""  # why it was canceled: "user", "expired", "market closed", a kill message
    due: float = 0.0  # DELAYED: when the taker delay ends
    hold_usd: Decimal = ZERO  # DELAYED BUY: USD kept aside for the notional and the worst fee

    @property
    def remaining(self) -> Decimal:
        """Shares still to match."""
        return self.original_size - self.size_matched

    @property
    def is_open(self) -> bool:
        """Resting or held by the taker delay."""
        return self.status in ("LIVE", "DELAYED")


@dataclass(frozen=True)
class SimMakerFill:
    """One maker order's part of a trade (an item of the trade's ``maker_orders``)."""

    order_id: str
    owner: str
    maker_address: str
    matched_amount: Decimal
    price: Decimal
    fee_rate_bps: str
    asset_id: str
    outcome: str
    side: Side
    wallet: str


@dataclass(frozen=True)
class SimTrade:
    """A match at one price (a /data/trades item), seen by the taker unless it says MAKER."""

    id: str
    taker_order_id: str
    market: str
    asset_id: str
    side: Side  # the taker's side
    size: Decimal
    fee_rate_bps: str
    price: Decimal
    status: Literal["MATCHED", "CONFIRMED"]
    match_time: int
    last_update: int
    outcome: str
    owner: str
    maker_address: str  # the taker order's maker (funder) address
    transaction_hash: str
    trader_side: Literal["TAKER", "MAKER"]
    maker_orders: tuple[SimMakerFill, ...]
    fee: Decimal  # USD the taker paid
    taker_wallet: str
    bucket_index: int = 0


@dataclass(frozen=True)
class SimRedemption:
    """Winning shares paid out at 1 USDC when a market resolves (auto-redeemed)."""

    wallet: str
    condition_id: str
    token_id: str
    outcome: str
    size: Decimal
    payout: Decimal
    ts: int


@dataclass
class Position:
    """Shares of one token held by one wallet, with its cost basis and P&L."""

    size: Decimal = ZERO
    cost: Decimal = ZERO  # USD paid for the shares still held (fees excluded)
    fees: Decimal = ZERO  # entry fees paid
    realized: Decimal = ZERO
    bought: Decimal = ZERO  # every share ever bought (Data API total_size)
    last_ts: int = 0

    @property
    def avg_price(self) -> Decimal:
        """Average entry price of the shares held (0 when flat)."""
        return (self.cost / self.size).quantize(SHARE_Q) if self.size > 0 else ZERO


@dataclass
class Account:
    """A wallet: USDC and positions by token id."""

    usdc: Decimal
    positions: dict[str, Position] = field(default_factory=dict)

    def position(self, token_id: str) -> Position:
        """The position in ``token_id`` (created empty on first use)."""
        return self.positions.setdefault(token_id, Position())


class Ledger:
    """Accounts and the money moves of fills and settlements."""

    def __init__(self, initial_balance_usd: Decimal) -> None:
        self.initial_balance = initial_balance_usd
        self.accounts: dict[str, Account] = {HOUSE: Account(ZERO)}
        self.fees = ZERO
        self.holders: dict[str, set[str]] = {}
        self.redemptions: list[SimRedemption] = []

    def account(self, wallet: str) -> Account:
        """The wallet's account; a new wallet starts with the initial balance."""
        acct = self.accounts.get(wallet)
        if acct is None:
            acct = self.accounts[wallet] = Account(self.initial_balance)
        return acct

    def fill(
        self, buyer: str, seller: str, token_id: str, price: Decimal, size: Decimal, ts: int
    ) -> Decimal:
        """Move ``size`` shares from seller to buyer for their notional; returns the notional."""
        notional = round_usd(price * size)
        self.account(buyer).usdc -= notional
        self.account(seller).usdc += notional
        self._trade(buyer, token_id, size, notional, ts)
        self._trade(seller, token_id, -size, notional, ts)
        return notional

    def charge_fee(self, wallet: str, token_id: str, fee: Decimal, *, entry: bool) -> None:
        """Take a taker fee into the fee pool (an entry fee on a buy, a realised cost on a sell)."""
        if fee <= 0:
            return
        self.account(wallet).usdc -= fee
        self.fees += fee
        pos = self.account(wallet).position(token_id)
        if entry:
            pos.fees += fee
        else:
            pos.realized -= fee

    def _trade(self, wallet: str, token_id: str, qty: Decimal, notional: Decimal, ts: int) -> None:
        """Book ``qty`` shares (negative: sold) bought or sold for ``notional``.

        Sizes and cost bases are signed: only the house goes short (users cannot sell what they
        do not hold), and its short's basis is the (negative) USD it received.
        """
        pos = self.account(wallet).position(token_id)
        sign = 1 if qty > 0 else -1
        if qty > 0:
            pos.bought += qty
        if pos.size * qty < 0:  # reducing: realise P&L on the closed part
            closed = min(abs(qty), abs(pos.size))
            basis = (
                pos.cost
                if closed == abs(pos.size)
                else round_usd(pos.cost * closed / abs(pos.size))
            )
            cash = round_usd(notional * closed / abs(qty))
            pos.realized += -sign * cash - basis
            pos.cost -= basis
            pos.size += sign * closed
            notional -= cash
            qty -= sign * closed
        if qty != 0:  # opening or adding
            pos.size += qty
            pos.cost += sign * notional
        pos.last_ts = ts
        self.holders.setdefault(token_id, set()).add(wallet)

    def settle(
        self,
        condition_id: str,
        tokens: tuple[str, str],
        outcomes: tuple[str, str],
        winner: int,
        ts: int,
    ) -> list[SimRedemption]:
        """Pay 1 USDC per winning share and zero both tokens' positions (auto-redeem)."""
        paid: list[SimRedemption] = []
        for idx, token_id in enumerate(tokens):
            value = Decimal(1) if idx == winner else ZERO
            for wallet in sorted(self.holders.pop(token_id, set())):
                pos = self.accounts[wallet].positions.get(token_id)
                if pos is None or pos.size == 0:
                    continue
                payout = pos.size * value
                self.accounts[wallet].usdc += payout
                pos.realized += payout - pos.cost
                if payout > 0 and wallet != HOUSE:
                    paid.append(
                        SimRedemption(
                            wallet, condition_id, token_id, outcomes[idx], pos.size, payout, ts
                        )
                    )
                pos.size, pos.cost, pos.last_ts = ZERO, ZERO, ts
        self.redemptions += paid
        return paid
