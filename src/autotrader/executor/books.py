"""The executor's picture of the money, read from the database: fills → positions → ledgers.

Fills and settlements are the truth (DESIGN.md §4); positions and ledgers are replayed from them
each time they are needed, with the open orders' reservations. The CLI's ``positions`` /
``ledger`` use these functions; the order path keeps its replay between intents instead
(``risk_books.py``, ``snapshot.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from autotrader.config import AppConfig
from autotrader.config_strategies import BtcUpdown15mStrategy, StrategyConfig
from autotrader.domain.book import OrderBook
from autotrader.domain.fees import FeeSchedule
from autotrader.domain.ledger import Ledger, OpenOrder
from autotrader.domain.positions import Replay, StrategyFill, StrategySettlement, replay
from autotrader.domain.risk import GlobalLimits, StrategyLimits
from autotrader.store.repos_runtime import StrategyRuntime
from autotrader.store.repos_trading import FillRepo, OrderRepo, SettlementRepo, StoredOrder

ZERO = Decimal(0)


@dataclass(frozen=True)
class Snapshot:
    """Every fill and settlement replayed, and the orders that may still spend."""

    history: Replay
    open_orders: tuple[OpenOrder, ...]


def open_order(order: StoredOrder) -> OpenOrder:
    """What a stored open order may still spend (or sell)."""
    remaining = max((order.size or ZERO) - order.size_matched, ZERO)
    return OpenOrder(order.strategy, order.token_id, order.side, order.price or ZERO, remaining)


def load_snapshot(engine: sa.Engine) -> Snapshot:
    """Replay the database's fills and settlements (``PositionError`` if they are inconsistent)."""
    fills = [StrategyFill(r.strategy, r.fill) for r in FillRepo(engine).all()]
    settlements = [
        StrategySettlement(r.strategy, r.settlement) for r in SettlementRepo(engine).all()
    ]
    orders = tuple(open_order(o) for o in OrderRepo(engine).open_orders())
    return Snapshot(replay(fills, settlements), orders)


def strategy_limits(cfg: StrategyConfig) -> StrategyLimits:
    """The risk limits of one configured strategy."""
    cooldown = cfg.params.cooldown_secs if isinstance(cfg, BtcUpdown15mStrategy) else 0.0
    lim = cfg.limits
    return StrategyLimits(
        name=cfg.name,
        allocation_usd=cfg.allocation_usd,
        max_position_pct=lim.max_position_pct,
        daily_loss_usd=lim.daily_loss_usd,
        max_trade_usd=lim.max_trade_usd,
        cooldown_secs=cooldown,
        stop_loss_pct=lim.stop_loss_pct,
        take_profit_pct=lim.take_profit_pct,
    )


def global_limits(config: AppConfig) -> GlobalLimits:
    """The config's ``risk`` section."""
    r = config.risk
    return GlobalLimits(r.max_trade_usd, r.portfolio_exposure_usd, r.max_orders_per_minute)


def strategy_config(config: AppConfig, name: str) -> StrategyConfig | None:
    """The configured strategy called ``name``, or None."""
    return next((s for s in config.strategies if s.name == name), None)


def ledger(config: AppConfig, cfg: StrategyConfig, snap: Snapshot) -> Ledger:
    """The ledger of one strategy (daily P&L in the configured time zone)."""
    return Ledger.from_replay(
        cfg.name, cfg.allocation_usd, snap.history, snap.open_orders, config.tz
    )


def all_ledgers(config: AppConfig, snap: Snapshot) -> dict[str, Ledger]:
    """One ledger per configured strategy."""
    return {s.name: ledger(config, s, snap) for s in config.strategies}


@dataclass(frozen=True)
class ContextInputs:
    """What the order path read for one intent."""

    now: datetime
    book: OrderBook
    fees: FeeSchedule
    runtime: StrategyRuntime
