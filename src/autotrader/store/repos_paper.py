"""The paper venue's own records (``paper_orders``, ``paper_fills``, ``paper_settlements``).

``PaperStateRepo`` is the database-backed ``PaperStore`` the executor hands its paper venue.
It is deliberately separate from our ``orders``/``fills``: the paper venue plays a real venue,
whose memory does not depend on whether the executor managed to record an answer. An order the
venue accepted just before the executor was killed is still known to it after the restart,
and reconciliation finds it by id — exactly as it would at Polymarket.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from autotrader.domain.fills import Fill, Liquidity, Settlement
from autotrader.domain.orders import OrderRequest, OrderStatus, OrderType, Side
from autotrader.store.db import insert_for
from autotrader.store.models_executor import PAPER_FILLS, PAPER_ORDERS, PAPER_SETTLEMENTS
from autotrader.store.repos_common import read_conn
from autotrader.venue.paper_book import PaperOrder, PaperState

# What changes on an order after it was accepted.
_MUTABLE = ("status", "matched", "n_fills", "price", "size")


def _order_values(po: PaperOrder) -> dict[str, Any]:
    req = po.request
    return {
        "venue_order_id": po.venue_order_id,
        "client_order_id": req.client_order_id,
        "token_id": req.token_id,
        "side": req.side.value,
        "order_type": req.order_type.value,
        "req_price": req.price,
        "req_size": req.size,
        "req_amount_usd": req.amount_usd,
        "post_only": req.post_only,
        "expires_at": req.expires_at,
        "tick_size": req.tick_size,
        "neg_risk": req.neg_risk,
        "price": po.price,
        "size": po.size,
        "status": po.status.value,
        "matched": po.matched,
        "n_fills": po.n_fills,
        "created_at": po.created_at,
    }


def _order(r: sa.Row[Any]) -> PaperOrder:
    request = OrderRequest(
        client_order_id=r.client_order_id,
        token_id=r.token_id,
        side=Side(r.side),
        order_type=OrderType(r.order_type),
        price=r.req_price,
        size=r.req_size,
        amount_usd=r.req_amount_usd,
        post_only=r.post_only,
        expires_at=r.expires_at,
        tick_size=r.tick_size,
        neg_risk=r.neg_risk,
    )
    return PaperOrder(
        request=request,
        venue_order_id=r.venue_order_id,
        price=r.price,
        size=r.size,
        status=OrderStatus(r.status),
        created_at=r.created_at,
        matched=r.matched,
        n_fills=r.n_fills,
    )


def _fill_values(f: Fill) -> dict[str, Any]:
    return {
        "trade_id": f.trade_id,
        "venue_order_id": f.venue_order_id,
        "token_id": f.token_id,
        "side": f.side.value,
        "price": f.price,
        "size": f.size,
        "fee_usd": f.fee_usd,
        "ts": f.ts,
        "liquidity": f.liquidity,
    }


def _fill(r: sa.Row[Any]) -> Fill:
    liquidity: Liquidity = "maker" if r.liquidity == "maker" else "taker"
    return Fill(
        r.trade_id, r.venue_order_id, r.token_id, Side(r.side), r.price, r.size, r.fee_usd, r.ts,
        liquidity,
    )  # fmt: skip


def _settlement_values(s: Settlement) -> dict[str, Any]:
    return {
        "token_id": s.token_id,
        "market_id": s.market_id,
        "outcome": s.outcome,
        "shares": s.shares,
        "payout_per_share": s.payout_per_share,
        "ts": s.ts,
    }


def _settlement(r: sa.Row[Any]) -> Settlement:
    return Settlement(r.market_id, r.token_id, r.outcome, r.shares, r.payout_per_share, r.ts)


class PaperStateRepo:
    """A ``PaperStore`` in the executor's database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def load(self) -> PaperState:
        """Every paper order (oldest first), fill and settlement."""
        orders = sa.select(PAPER_ORDERS).order_by(
            PAPER_ORDERS.c.created_at, PAPER_ORDERS.c.venue_order_id
        )
        fills = sa.select(PAPER_FILLS).order_by(PAPER_FILLS.c.ts, PAPER_FILLS.c.trade_id)
        settlements = sa.select(PAPER_SETTLEMENTS).order_by(PAPER_SETTLEMENTS.c.ts)
        with read_conn(self._engine) as conn:
            return PaperState(
                orders=tuple(_order(r) for r in conn.execute(orders)),
                fills=tuple(_fill(r) for r in conn.execute(fills)),
                settlements=tuple(_settlement(r) for r in conn.execute(settlements)),
            )

    def save(
        self,
        orders: Sequence[PaperOrder],
        fills: Sequence[Fill],
        settlements: Sequence[Settlement],
    ) -> None:
        """Upsert ``orders``, insert ``fills`` and ``settlements`` (known ones are skipped)."""
        with self._engine.begin() as conn:
            for po in orders:
                stmt = insert_for(conn, PAPER_ORDERS).values(**_order_values(po))
                stmt = stmt.on_conflict_do_update(
                    index_elements=[PAPER_ORDERS.c.venue_order_id],
                    set_={name: getattr(stmt.excluded, name) for name in _MUTABLE},
                )
                conn.execute(stmt)
            for f in fills:
                stmt = insert_for(conn, PAPER_FILLS).values(**_fill_values(f))
                conn.execute(stmt.on_conflict_do_nothing(index_elements=[PAPER_FILLS.c.trade_id]))
            for s in settlements:
                stmt = insert_for(conn, PAPER_SETTLEMENTS).values(**_settlement_values(s))
                key = [PAPER_SETTLEMENTS.c.token_id]
                conn.execute(stmt.on_conflict_do_nothing(index_elements=key))
