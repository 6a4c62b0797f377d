"""``execute_trade`` and ``exit_position``: items become order intents (the executor's outbox).

Entries: at most one entry per (strategy, market) at a time, backed by the intents table's
unique (strategy, entry_key) constraint (DESIGN.md §4). The first entry into a market has
``entry_key`` = its slug (a 15-minute BTC market's slug is its window's); a market is entered
again only once the previous entry is over — its intent finished, no order of it still open,
no shares held — and then under ``<slug>#<n>``, n being the number of earlier entries. Two
runs racing to the same n collide on the constraint and the second is refused.

Exits sell ``fraction`` of every outcome the strategy holds in the market (from its fills and
settlements), in shares rounded down to the venue's 0.01 grid; nothing when flat, and nothing
while an earlier exit of the same token is still pending.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from autotrader.config_nodes import ExecuteTrade, ExitPosition
from autotrader.domain.intents import TERMINAL, IntentKind, IntentStatus, OrderIntent
from autotrader.domain.money import round_shares
from autotrader.domain.orders import Side
from autotrader.domain.positions import StrategyFill, StrategySettlement, replay
from autotrader.store.models import ORDER_INTENTS
from autotrader.store.repos_common import read_conn
from autotrader.store.repos_intents import IntentAdded
from autotrader.store.repos_trading import FillRepo, OrderRepo, SettlementRepo
from autotrader.strategies.items import MarketItem
from autotrader.strategies.nodes.base import PipelineRun, per_item


@dataclass(frozen=True)
class PastIntent:
    """An earlier intent of the strategy in one market."""

    id: str
    token_id: str
    side: Side
    status: IntentStatus
    entry_key: str | None


def past_intents(run: PipelineRun, market_slug: str) -> list[PastIntent]:
    """The strategy's intents in ``market_slug``, oldest first."""
    i = ORDER_INTENTS.c
    query = (
        sa.select(ORDER_INTENTS)
        .where(i.strategy == run.name, i.market_slug == market_slug)
        .order_by(i.created_at, i.id)
    )
    with read_conn(run.ctx.engine) as conn:
        return [
            PastIntent(r.id, r.token_id, Side(r.side), IntentStatus(r.status), r.entry_key)
            for r in conn.execute(query)
        ]


def held_shares(run: PipelineRun, token_ids: tuple[str, ...]) -> dict[str, Decimal]:
    """Shares the strategy holds of each of ``token_ids`` (replayed from fills/settlements)."""
    fills = [
        StrategyFill(run.name, r.fill) for r in FillRepo(run.ctx.engine).for_strategy(run.name)
    ]
    settlements = [
        StrategySettlement(run.name, r.settlement)
        for r in SettlementRepo(run.ctx.engine).for_strategy(run.name)
    ]
    positions = replay(fills, settlements).positions
    return {
        key.token_id: pos.shares
        for key, pos in positions.items()
        if key.token_id in token_ids and pos.is_open
    }


def _entry_under_way(run: PipelineRun, entry: PastIntent) -> bool:
    if entry.status not in TERMINAL:
        return True
    if entry.status is not IntentStatus.RESTING:
        return False
    # A resting limit order is still an entry until it is filled, cancelled or expired.
    return any(not o.terminal for o in OrderRepo(run.ctx.engine).for_intent(entry.id))


def next_entry_key(run: PipelineRun, item: MarketItem) -> str | None:
    """The entry key for a new entry into the item's market; None while one is not over."""
    entries = [p for p in past_intents(run, item.slug) if p.entry_key is not None]
    if any(_entry_under_way(run, e) for e in entries):
        return None
    if held_shares(run, item.market.token_ids):
        return None
    return item.slug if not entries else f"{item.slug}#{len(entries)}"


def _reason(run: PipelineRun, what: str, item: MarketItem) -> str:
    price = "?" if item.price is None else format(item.price.normalize(), "f")
    return f"pipeline {run.name}: {what} {item.slug} (price {price})"


def entry_intent(spec: ExecuteTrade, item: MarketItem, run: PipelineRun, key: str) -> OrderIntent:
    """The BUY intent ``spec`` asks for on ``item``; ``ValueError`` for an unknown outcome."""
    token = item.market.token(spec.outcome)
    return OrderIntent(
        id=uuid.uuid4().hex,
        strategy=run.name,
        market_slug=item.slug,
        token_id=token.token_id,
        outcome=token.outcome,
        side=Side.BUY,
        kind=IntentKind(spec.order_type),
        amount_usd=spec.amount_usd,
        shares=spec.shares,
        limit_price=spec.limit_price,
        valid_until=run.now + timedelta(seconds=spec.valid_for),
        entry_key=key,
        reason=_reason(run, f"execute_trade {token.outcome}", item),
        created_at=run.now,
    )


async def execute_trade(
    spec: ExecuteTrade, items: list[MarketItem], run: PipelineRun
) -> list[MarketItem]:
    """One entry intent per item (see module doc); the items an intent was written for go on."""

    async def work(item: MarketItem) -> bool:
        if not item.market.tradable:
            raise ValueError("the market is not accepting orders")
        item.market.token(spec.outcome)  # an unknown outcome drops the item before any lookup
        key = next_entry_key(run, item)
        if key is None:
            run.drop(item, spec.node_type, "an entry into this market is open or under way")
            return False
        result = run.ctx.intents.add(entry_intent(spec, item, run, key))
        if not isinstance(result, IntentAdded):
            run.drop(item, spec.node_type, result.message)
            return False
        run.intents_created += 1
        return True

    # One item at a time: each entry's checks must see the intents written before it.
    kept: list[MarketItem] = []
    for item in items:
        kept.extend(await per_item(run, spec, [item], work))
    return kept


def exit_intents(spec: ExitPosition, item: MarketItem, run: PipelineRun) -> list[OrderIntent]:
    """SELL intents for ``fraction`` of each outcome held in the item's market."""
    held = held_shares(run, item.market.token_ids)
    pending = {
        p.token_id
        for p in past_intents(run, item.slug)
        if p.side is Side.SELL and p.status not in TERMINAL
    }
    out = []
    for token in item.market.tokens:
        shares = round_shares(held.get(token.token_id, Decimal(0)) * spec.fraction)
        if shares <= 0 or token.token_id in pending:
            continue
        out.append(
            OrderIntent(
                id=uuid.uuid4().hex,
                strategy=run.name,
                market_slug=item.slug,
                token_id=token.token_id,
                outcome=token.outcome,
                side=Side.SELL,
                kind=IntentKind(spec.order_type),
                amount_usd=None,
                shares=shares,
                limit_price=spec.limit_price,
                valid_until=run.now + timedelta(seconds=spec.valid_for),
                entry_key=None,
                reason=_reason(run, f"exit_position {spec.fraction} of {token.outcome}", item),
                created_at=run.now,
            )
        )
    return out


async def exit_position(
    spec: ExitPosition, items: list[MarketItem], run: PipelineRun
) -> list[MarketItem]:
    """Exit intents for each item's market; the items with at least one go on."""

    async def work(item: MarketItem) -> bool:
        intents = exit_intents(spec, item, run)
        if not intents:
            run.drop(item, spec.node_type, "no position to exit (or an exit is pending)")
            return False
        for intent in intents:
            if isinstance(run.ctx.intents.add(intent), IntentAdded):
                run.intents_created += 1
        return True

    kept: list[MarketItem] = []
    for item in items:
        kept.extend(await per_item(run, spec, [item], work))
    return kept
