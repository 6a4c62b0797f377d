"""Executor additions: paper venue state, position overrides, exits, redeemable (issue 4).

Imported at the end of ``models.py`` so every table is on ``metadata``; migration 0006.

* ``position_overrides`` — per (strategy, market, outcome) stop-loss / take-profit overrides
  and partial-exit fractions, set with ``autotrader position set``.
* ``exit_intents`` — which SELL intents the position watcher wrote, and why (stop-loss or
  take-profit, partial or not), so a partial exit that filled is done once per position.
* ``position_redemptions`` — live winning positions after settlement: redeemable on-chain.
* ``paper_orders`` / ``paper_fills`` / ``paper_settlements`` — the paper venue's own book of
  orders, trades and payouts, kept apart from ours (``orders``/``fills``) exactly as a real
  venue's would be, so a restart resumes resting paper orders and reconciliation still compares
  two independent records.
"""

from __future__ import annotations

import sqlalchemy as sa

from autotrader.store.models import ID_WIDTH, VENUE_ID_WIDTH, metadata
from autotrader.store.types import Money, UTCDateTime

# Exit limits of one position that replace its strategy's ``limits`` (NULL: keep them).
POSITION_OVERRIDES = sa.Table(
    "position_overrides",
    metadata,
    sa.Column("strategy", sa.String(ID_WIDTH), primary_key=True),
    sa.Column("market_slug", sa.String(255), primary_key=True),
    sa.Column("outcome", sa.String(ID_WIDTH), primary_key=True),
    sa.Column("stop_loss_pct", Money()),
    sa.Column("take_profit_pct", Money()),
    sa.Column("stop_loss_fraction", Money()),
    sa.Column("take_profit_fraction", Money()),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)


# A SELL intent the position watcher wrote (written just before the intent itself).
EXIT_INTENTS = sa.Table(
    "exit_intents",
    metadata,
    sa.Column("intent_id", sa.String(ID_WIDTH), primary_key=True),
    sa.Column("strategy", sa.String(ID_WIDTH), nullable=False),
    sa.Column("token_id", sa.String(VENUE_ID_WIDTH), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("partial", sa.Boolean(), nullable=False),
    # The position's opened_at: a partial exit done for an earlier holding does not count.
    sa.Column("position_opened_at", UTCDateTime()),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index(None, "strategy", "token_id"),
)


# A settled winning live position whose tokens are still to be redeemed on-chain.
POSITION_REDEMPTIONS = sa.Table(
    "position_redemptions",
    metadata,
    sa.Column("strategy", sa.String(ID_WIDTH), primary_key=True),
    sa.Column("market_slug", sa.String(255), primary_key=True),
    sa.Column("token_id", sa.String(VENUE_ID_WIDTH), primary_key=True),
    sa.Column("outcome", sa.String(ID_WIDTH), nullable=False),
    sa.Column("shares", Money(), nullable=False),
    sa.Column("payout_usd", Money(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("redeemed_at", UTCDateTime()),
)


# An order the paper venue accepted: its request and how far it got.
PAPER_ORDERS = sa.Table(
    "paper_orders",
    metadata,
    sa.Column("venue_order_id", sa.String(VENUE_ID_WIDTH), primary_key=True),
    sa.Column("client_order_id", sa.String(VENUE_ID_WIDTH), nullable=False),
    sa.Column("token_id", sa.String(VENUE_ID_WIDTH), nullable=False),
    sa.Column("side", sa.String(8), nullable=False),
    sa.Column("order_type", sa.String(8), nullable=False),
    sa.Column("req_price", Money()),
    sa.Column("req_size", Money()),
    sa.Column("req_amount_usd", Money()),
    sa.Column("post_only", sa.Boolean(), nullable=False),
    sa.Column("expires_at", UTCDateTime()),
    sa.Column("tick_size", Money()),
    sa.Column("neg_risk", sa.Boolean()),
    sa.Column("price", Money(), nullable=False),
    sa.Column("size", Money(), nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("matched", Money(), nullable=False),
    sa.Column("n_fills", sa.Integer(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index(None, "status"),
)


# A trade of the paper venue (its cash and positions are summed from these).
PAPER_FILLS = sa.Table(
    "paper_fills",
    metadata,
    sa.Column("trade_id", sa.String(VENUE_ID_WIDTH), primary_key=True),
    sa.Column("venue_order_id", sa.String(VENUE_ID_WIDTH), nullable=False, index=True),
    sa.Column("token_id", sa.String(VENUE_ID_WIDTH), nullable=False),
    sa.Column("side", sa.String(8), nullable=False),
    sa.Column("price", Money(), nullable=False),
    sa.Column("size", Money(), nullable=False),
    sa.Column("fee_usd", Money(), nullable=False),
    sa.Column("ts", UTCDateTime(), nullable=False, index=True),
    sa.Column("liquidity", sa.String(8), nullable=False),
)


# A payout of the paper venue for a resolved market: once per token.
PAPER_SETTLEMENTS = sa.Table(
    "paper_settlements",
    metadata,
    sa.Column("token_id", sa.String(VENUE_ID_WIDTH), primary_key=True),
    sa.Column("market_id", sa.String(VENUE_ID_WIDTH), nullable=False),
    sa.Column("outcome", sa.String(ID_WIDTH), nullable=False),
    sa.Column("shares", Money(), nullable=False),
    sa.Column("payout_per_share", Money(), nullable=False),
    sa.Column("ts", UTCDateTime(), nullable=False),
)
