"""Metric nodes: ``check_momentum`` (CLOB price history) and ``whale_activity`` (Data API).

Momentum over a timeframe T (1h, 4h or 24h), from the first outcome's price history::

    momentum = clamp((p_now - p_then) / max(p_then, 0.01), -1, 1)

where p_then is the first price of the history over [now - T, now] and p_now the last, i.e. the
relative change of the Yes price over T (``momentum > 0.05``: up more than 5 %), floored at one
cent so a price near zero cannot blow it up, and clamped into [-1, 1]. A market whose history
does not reach back at least T/2 (just listed) has no momentum for T: the item is dropped.

Whale net flow over a window W: the trades of the market on the Data API tape of at least
``min_trade_usd`` (price x size) in [now - W, now], each counted in USD towards the first
outcome: buying Yes or selling No is +usd, selling Yes or buying No is -usd.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from autotrader.config_nodes import CheckMomentum, WhaleActivity
from autotrader.domain.orders import Side
from autotrader.strategies.items import MarketItem
from autotrader.strategies.nodes.base import PipelineRun, per_item
from autotrader.venue.polymarket.data_api import DataTrade

TIMEFRAMES = {"1h": 3600, "4h": 4 * 3600, "24h": 24 * 3600}
PRICE_FLOOR = Decimal("0.01")


def momentum_score(
    history: Sequence[tuple[datetime, Decimal]], now: datetime, timeframe_secs: float
) -> float | None:
    """The momentum (see module doc) of ``history`` ending at ``now``; None if too short."""
    start = now - timedelta(seconds=timeframe_secs)
    points = sorted((t, p) for t, p in history if start <= t <= now)
    if len(points) < 2:
        return None
    (t_then, p_then), (_, p_now) = points[0], points[-1]
    if t_then > now - timedelta(seconds=timeframe_secs / 2):
        return None
    change = (p_now - p_then) / max(p_then, PRICE_FLOOR)
    return float(min(max(change, Decimal(-1)), Decimal(1)))


async def check_momentum(
    spec: CheckMomentum, items: list[MarketItem], run: PipelineRun
) -> list[MarketItem]:
    """Set ``momentum`` and ``momentum_<timeframe>`` on each item (see module doc)."""
    secs = TIMEFRAMES[spec.timeframe]
    # About 60 points whatever the timeframe: enough to find both ends, cheap to fetch.
    fidelity = max(1, secs // 3600)

    async def work(item: MarketItem) -> bool:
        if not item.market.tokens:
            raise ValueError("the market has no outcome tokens yet")
        history = await run.ctx.market_data.price_history(
            item.market.tokens[0].token_id,
            start=run.now - timedelta(seconds=secs),
            end=run.now,
            fidelity_mins=fidelity,
        )
        score = momentum_score(history, run.now, secs)
        if score is None:
            raise ValueError(f"not enough price history for a {spec.timeframe} momentum")
        item.computed["momentum"] = item.computed[f"momentum_{spec.timeframe}"] = score
        return True

    return await per_item(run, spec, items, work)


def net_flow(trades: Sequence[DataTrade], first_token: str) -> Decimal:
    """Net USD flow towards the first outcome (see module doc)."""
    total = Decimal(0)
    for t in trades:
        towards_first = (t.token_id == first_token) == (t.side is Side.BUY)
        total += t.usd if towards_first else -t.usd
    return total


async def whale_activity(
    spec: WhaleActivity, items: list[MarketItem], run: PipelineRun
) -> list[MarketItem]:
    """Set ``whale_net_flow`` (and ``whale_net_flow_1h`` for a 1-hour window) on each item."""
    since = run.now - timedelta(seconds=spec.window)

    async def work(item: MarketItem) -> bool:
        market = item.market
        if not market.tokens or not market.condition_id:
            raise ValueError("the market has no outcome tokens yet")
        trades = await run.ctx.data_api.trades(
            market=market.condition_id, since=since, min_size_usd=spec.min_trade_usd
        )
        recent = [t for t in trades if t.ts <= run.now]
        flow = float(net_flow(recent, market.tokens[0].token_id))
        item.computed["whale_net_flow"] = flow
        if spec.window == 3600:
            item.computed["whale_net_flow_1h"] = flow
        return True

    return await per_item(run, spec, items, work)
