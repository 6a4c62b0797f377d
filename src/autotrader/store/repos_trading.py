"""Orders, fills and settlements: what the executor did and what the venue says happened.

* ``OrderRepo``: an order row is written (our client order id) before anything is sent; for live
  orders the signed order's hash is stored next (``set_prepared``), still before the POST, so a
  crashed executor finds the order by hash. Status moves follow the domain's transition table
  (``autotrader.domain.orders.transition``); an illegal move raises ``ValueError`` and changes
  nothing.
* ``FillRepo``, ``SettlementRepo`` live in ``repos_fills`` and are re-exported here, so the
  executor imports its repositories from one place.

Money must fit ``Money`` (8 decimal places): round fees and sizes before storing them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Engine

from autotrader.domain.orders import (
    TERMINAL,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    transition,
)
from autotrader.store.models import FILLS, ORDERS
from autotrader.store.repos_common import (
    Now,
    check_limit,
    first_row,
    one_line,
    read_conn,
    utc_now,
    write_conn,
)
from autotrader.store.repos_fills import FillRepo, RecordedFill, RecordedSettlement, SettlementRepo

__all__ = [
    "OPEN_STATUSES",
    "FillRepo",
    "OrderRepo",
    "RecordedFill",
    "RecordedSettlement",
    "SettlementRepo",
    "StoredOrder",
]

# On the book or held by the venue: may still fill, can be cancelled (except DELAYED).
OPEN_STATUSES: frozenset[OrderStatus] = frozenset(
    {OrderStatus.LIVE, OrderStatus.DELAYED, OrderStatus.PARTIALLY_FILLED}
)
_NON_TERMINAL = sorted(s.value for s in OrderStatus if s not in TERMINAL)
_INSERT = ORDERS.insert()
_LOCK = sa.select(ORDERS).where(ORDERS.c.id == sa.bindparam("id")).with_for_update()


@dataclass(frozen=True)
class StoredOrder:
    """An order as recorded: our id, the venue's id (hash) once known, and its status."""

    id: str
    intent_id: str | None
    strategy: str
    market_slug: str | None
    outcome: str | None
    token_id: str
    side: Side
    order_type: OrderType
    price: Decimal | None
    size: Decimal | None
    amount_usd: Decimal | None
    venue_order_id: str | None
    status: OrderStatus
    reason_code: str | None
    reason_text: str | None
    size_matched: Decimal
    created_at: datetime
    updated_at: datetime

    @property
    def terminal(self) -> bool:
        """Whether nothing can happen to the order any more."""
        return self.status.terminal


def _order_of(values: Mapping[str, Any]) -> StoredOrder:
    """A ``StoredOrder`` from a row's column values (Core reads and writes)."""
    return _order(SimpleNamespace(**values))


def _order(r: sa.Row[Any] | SimpleNamespace) -> StoredOrder:
    return StoredOrder(
        id=r.id,
        intent_id=r.intent_id,
        strategy=r.strategy,
        market_slug=r.market_slug,
        outcome=r.outcome,
        token_id=r.token_id,
        side=Side(r.side),
        order_type=OrderType(r.order_type),
        price=r.price,
        size=r.size,
        amount_usd=r.amount_usd,
        venue_order_id=r.venue_order_id,
        status=OrderStatus(r.status),
        reason_code=r.reason_code,
        reason_text=r.reason_text,
        size_matched=r.size_matched,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


class OrderRepo:
    """Writes and reads ``orders``."""

    def __init__(self, engine: Engine, *, now: Now = utc_now) -> None:
        self._engine = engine
        self._now = now

    def create(
        self,
        request: OrderRequest,
        *,
        intent_id: str | None,
        strategy: str,
        market_slug: str | None = None,
        outcome: str | None = None,
        venue_order_id: str | None = None,
        status: OrderStatus = OrderStatus.PENDING,
        size_matched: Decimal = Decimal(0),
    ) -> StoredOrder:
        """Record ``request`` under its ``client_order_id``; commit before sending anything.

        ``venue_order_id``/``status``/``size_matched`` are for orders adopted at reconciliation
        (``intent_id`` None). A duplicate id or hash raises ``ValueError`` and records nothing.
        """
        now = self._now()
        values: dict[str, Any] = {
            "id": request.client_order_id,
            "intent_id": intent_id,
            "strategy": strategy,
            "market_slug": market_slug,
            "outcome": outcome,
            "token_id": request.token_id,
            "side": request.side.value,
            "order_type": request.order_type.value,
            "price": request.price,
            "size": request.size,
            "amount_usd": request.amount_usd,
            "venue_order_id": venue_order_id,
            "status": OrderStatus(status).value,
            "reason_code": None,
            "reason_text": None,
            "size_matched": size_matched,
            "created_at": now,
            "updated_at": now,
        }
        try:
            # Core, not the ORM: this commit is on every order's path to the venue.
            with write_conn(self._engine) as conn:
                conn.execute(_INSERT, values)
        except exc.IntegrityError:
            raise ValueError(self._conflict(request.client_order_id, venue_order_id)) from None
        return _order_of(values)

    def _conflict(self, order_id: str, venue_order_id: str | None) -> str:
        if self.get(order_id) is not None:
            return f"order {order_id} already exists"
        if venue_order_id is not None and (other := self.by_venue_id(venue_order_id)):
            return f"venue order {venue_order_id} already belongs to order {other.id}"
        return f"order {order_id} refused by the database (unknown intent?)"

    def set_prepared(self, order_id: str, venue_order_id: str) -> StoredOrder:
        """Store the signed order's hash, before the POST. Idempotent for the same hash.

        ``ValueError`` if the order already has another hash (it may have been sent: never
        overwrite it), is past PENDING, or if the hash belongs to another order.
        """
        if not venue_order_id:
            raise ValueError(f"order {order_id}: empty venue_order_id")
        try:
            with write_conn(self._engine) as conn:
                row = conn.execute(_LOCK, {"id": order_id}).one_or_none()
                if row is None:
                    raise ValueError(f"no order {order_id}")
                if row.venue_order_id == venue_order_id:
                    return _order(row)
                if row.venue_order_id is not None:
                    raise ValueError(
                        f"order {order_id} already has venue id {row.venue_order_id}; "
                        f"refusing {venue_order_id}"
                    )
                if row.status != OrderStatus.PENDING:
                    raise ValueError(f"order {order_id} is {row.status}, not PENDING")
                changes = {"venue_order_id": venue_order_id, "updated_at": self._now()}
                conn.execute(ORDERS.update().where(ORDERS.c.id == order_id).values(changes))
                return _order(SimpleNamespace(**{**row._mapping, **changes}))
        except exc.IntegrityError:
            other = self.by_venue_id(venue_order_id)
            owner = other.id if other else "another order"
            raise ValueError(f"venue order {venue_order_id} already belongs to {owner}") from None

    def update_status(
        self,
        order_id: str,
        status: OrderStatus,
        *,
        size_matched: Decimal | None = None,
        reason_code: str | None = None,
        reason_text: str | None = None,
    ) -> StoredOrder:
        """Move the order to ``status`` if the transition table allows it.

        ``ValueError`` (nothing changed) for an illegal move or a ``size_matched`` lower than
        the one stored (a stale report). Reasons given replace the stored ones.
        """
        new = OrderStatus(status)
        # Core, not the ORM: the order's answer is recorded here on every order's path.
        with write_conn(self._engine) as conn:
            row = conn.execute(_LOCK, {"id": order_id}).mappings().one_or_none()
            if row is None:
                raise ValueError(f"no order {order_id}")
            transition(OrderStatus(row["status"]), new)
            changes: dict[str, Any] = {"status": new.value}
            if size_matched is not None:
                if size_matched < row["size_matched"]:
                    raise ValueError(
                        f"order {order_id}: size_matched {size_matched} < stored "
                        f"{row['size_matched']} (stale report)"
                    )
                changes["size_matched"] = size_matched
            if reason_code is not None:
                changes["reason_code"] = reason_code
            if reason_text is not None:
                changes["reason_text"] = one_line(reason_text)
            changes["updated_at"] = self._now()
            conn.execute(ORDERS.update().where(ORDERS.c.id == order_id).values(changes))
        return _order_of({**row, **changes})

    def get(self, order_id: str) -> StoredOrder | None:
        """The order with our id ``order_id``."""
        with read_conn(self._engine) as conn:
            row = first_row(conn, ORDERS, id=order_id)
            return _order(row) if row else None

    def by_venue_id(self, venue_order_id: str) -> StoredOrder | None:
        """The order with this venue id (hash), if it is ours."""
        return self._one(sa.select(ORDERS).where(ORDERS.c.venue_order_id == venue_order_id))

    def open_orders(self) -> list[StoredOrder]:
        """Orders on the book or held by the venue (LIVE, DELAYED, PARTIALLY_FILLED)."""
        statuses = sorted(s.value for s in OPEN_STATUSES)
        return self._many(sa.select(ORDERS).where(ORDERS.c.status.in_(statuses)))

    def count_open(self) -> int:
        """How many orders are open (``open_orders`` without reading them)."""
        statuses = sorted(s.value for s in OPEN_STATUSES)
        query = sa.select(sa.func.count()).select_from(ORDERS)
        with self._engine.connect() as conn:
            return int(conn.execute(query.where(ORDERS.c.status.in_(statuses))).scalar_one())

    def non_terminal(self) -> list[StoredOrder]:
        """Every order whose fate is not final, PENDING and SUBMITTED included (reconciliation)."""
        return self._many(sa.select(ORDERS).where(ORDERS.c.status.in_(_NON_TERMINAL)))

    def missing_fills(self) -> list[tuple[StoredOrder, Decimal]]:
        """Orders whose recorded fills fall short of their ``size_matched``, with the shares
        recorded: matched orders whose trades the venue had not listed yet."""
        got = (
            sa.select(FILLS.c.order_id, sa.func.sum(FILLS.c.size).label("got"))
            .where(FILLS.c.order_id.is_not(None))
            .group_by(FILLS.c.order_id)
            .subquery()
        )
        query = (
            sa.select(ORDERS, got.c.got)
            .outerjoin(got, got.c.order_id == ORDERS.c.id)
            .where(ORDERS.c.size_matched > 0)
            .order_by(ORDERS.c.created_at, ORDERS.c.id)
        )
        with read_conn(self._engine) as conn:
            out = [(_order(r), Decimal(r.got or 0)) for r in conn.execute(query)]
        return [(o, g) for o, g in out if g < o.size_matched]

    def for_intent(self, intent_id: str) -> list[StoredOrder]:
        """The orders placed for an intent, oldest first."""
        return self._many(sa.select(ORDERS).where(ORDERS.c.intent_id == intent_id))

    def _one(self, query: sa.Select[Any]) -> StoredOrder | None:
        with read_conn(self._engine) as conn:
            row = conn.execute(query).one_or_none()
            return _order(row) if row else None

    def _many(self, query: sa.Select[Any], ordered: bool = False) -> list[StoredOrder]:
        if not ordered:
            query = query.order_by(ORDERS.c.created_at, ORDERS.c.id)
        with read_conn(self._engine) as conn:
            return [_order(r) for r in conn.execute(query)]

    def list(self, strategy: str | None = None, limit: int = 100) -> list[StoredOrder]:
        """The newest ``limit`` orders (of ``strategy``), newest first."""
        query = sa.select(ORDERS)
        if strategy is not None:
            query = query.where(ORDERS.c.strategy == strategy)
        query = query.order_by(ORDERS.c.created_at.desc(), ORDERS.c.id.desc())
        return self._many(query.limit(check_limit(limit)), ordered=True)
