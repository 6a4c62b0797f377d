"""Executor additions: paper venue state, position overrides, exits, redeemable (issue 4).

Imported at the end of ``models.py`` so every table is on ``Base.metadata``; migration 0006.

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

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from autotrader.store.models import Base

_ID = 64
_VENUE_ID = 128
_SLUG = 255


class PositionOverrideRow(Base):
    """Exit limits of one position that replace its strategy's ``limits`` (NULL: keep them)."""

    __tablename__ = "position_overrides"

    strategy: Mapped[str] = mapped_column(sa.String(_ID), primary_key=True)
    market_slug: Mapped[str] = mapped_column(sa.String(_SLUG), primary_key=True)
    outcome: Mapped[str] = mapped_column(sa.String(_ID), primary_key=True)
    stop_loss_pct: Mapped[Decimal | None]
    take_profit_pct: Mapped[Decimal | None]
    stop_loss_fraction: Mapped[Decimal | None]
    take_profit_fraction: Mapped[Decimal | None]
    updated_at: Mapped[datetime]


class ExitIntentRow(Base):
    """A SELL intent the position watcher wrote (written just before the intent itself)."""

    __tablename__ = "exit_intents"
    __table_args__ = (sa.Index(None, "strategy", "token_id"),)

    intent_id: Mapped[str] = mapped_column(sa.String(_ID), primary_key=True)
    strategy: Mapped[str] = mapped_column(sa.String(_ID))
    token_id: Mapped[str] = mapped_column(sa.String(_VENUE_ID))
    kind: Mapped[str] = mapped_column(sa.String(16))
    partial: Mapped[bool]
    # The position's opened_at: a partial exit done for an earlier holding does not count.
    position_opened_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class PositionRedemptionRow(Base):
    """A settled winning live position whose tokens are still to be redeemed on-chain."""

    __tablename__ = "position_redemptions"

    strategy: Mapped[str] = mapped_column(sa.String(_ID), primary_key=True)
    market_slug: Mapped[str] = mapped_column(sa.String(_SLUG), primary_key=True)
    token_id: Mapped[str] = mapped_column(sa.String(_VENUE_ID), primary_key=True)
    outcome: Mapped[str] = mapped_column(sa.String(_ID))
    shares: Mapped[Decimal]
    payout_usd: Mapped[Decimal]
    status: Mapped[str] = mapped_column(sa.String(16))  # redeemable | redeemed
    created_at: Mapped[datetime]
    redeemed_at: Mapped[datetime | None]


class PaperOrderRow(Base):
    """An order the paper venue accepted: its request and how far it got."""

    __tablename__ = "paper_orders"
    __table_args__ = (sa.Index(None, "status"),)

    venue_order_id: Mapped[str] = mapped_column(sa.String(_VENUE_ID), primary_key=True)
    client_order_id: Mapped[str] = mapped_column(sa.String(_VENUE_ID))
    token_id: Mapped[str] = mapped_column(sa.String(_VENUE_ID))
    side: Mapped[str] = mapped_column(sa.String(8))
    order_type: Mapped[str] = mapped_column(sa.String(8))
    req_price: Mapped[Decimal | None]
    req_size: Mapped[Decimal | None]
    req_amount_usd: Mapped[Decimal | None]
    post_only: Mapped[bool]
    expires_at: Mapped[datetime | None]
    tick_size: Mapped[Decimal | None]
    neg_risk: Mapped[bool | None]
    price: Mapped[Decimal]
    size: Mapped[Decimal]
    status: Mapped[str] = mapped_column(sa.String(24))
    matched: Mapped[Decimal]
    n_fills: Mapped[int]
    created_at: Mapped[datetime]


class PaperFillRow(Base):
    """A trade of the paper venue (its cash and positions are summed from these)."""

    __tablename__ = "paper_fills"

    trade_id: Mapped[str] = mapped_column(sa.String(_VENUE_ID), primary_key=True)
    venue_order_id: Mapped[str] = mapped_column(sa.String(_VENUE_ID), index=True)
    token_id: Mapped[str] = mapped_column(sa.String(_VENUE_ID))
    side: Mapped[str] = mapped_column(sa.String(8))
    price: Mapped[Decimal]
    size: Mapped[Decimal]
    fee_usd: Mapped[Decimal]
    ts: Mapped[datetime] = mapped_column(index=True)
    liquidity: Mapped[str] = mapped_column(sa.String(8))


class PaperSettlementRow(Base):
    """A payout of the paper venue for a resolved market: once per token."""

    __tablename__ = "paper_settlements"

    token_id: Mapped[str] = mapped_column(sa.String(_VENUE_ID), primary_key=True)
    market_id: Mapped[str] = mapped_column(sa.String(_VENUE_ID))
    outcome: Mapped[str] = mapped_column(sa.String(_ID))
    shares: Mapped[Decimal]
    payout_per_share: Mapped[Decimal]
    ts: Mapped[datetime]
