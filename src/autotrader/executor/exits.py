"""Positions watched (DESIGN.md §5 of issue 4): stop-loss, take-profit and partial exits.

Every ``executor.position_check_secs`` the service hands each open position whose market still
trades to ``ExitWatcher.check``. The position's best bid is compared with its average entry
price by ``domain.risk_exits.exit_triggers``, with the strategy's ``limits.stop_loss_pct`` /
``take_profit_pct`` replaced by the position's overrides (``autotrader position set``).

Partial exits: ``take_profit_fraction`` / ``stop_loss_fraction`` — a position's override, else
the strategy's ``limits``, else 1 (everything) — sells that fraction when the threshold is first
crossed. Once such a partial exit
has filled for the current holding, take-profit stays quiet (the rest rides) and stop-loss sells
everything — see risk_exits.py. "Filled" is read from the exit's intent, so a partial exit that
was rejected or expired is simply proposed again.

An exit is a market SELL intent (no entry_key, valid ``EXIT_VALID_SECS``) written to the intents
table like any other: the same risk check (which lets exits through a pause or a daily-loss
stop) and the same order path. No second exit is written while a SELL of that position is still
in flight (an open intent, or an order that may still trade).

An exit that ended without selling anything (rejected: a book too thin for the size, a venue
minimum; expired) is proposed again only after a back-off that doubles from
``EXIT_RETRY_MIN_SECS`` to ``EXIT_RETRY_MAX_SECS`` of clock time, so a position the book cannot
absorb does not fill the intents table with one rejection per check. A fill resets it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.config import AppConfig
from autotrader.config_strategies import LimitsConfig
from autotrader.domain.intents import IntentStatus
from autotrader.domain.positions import Position
from autotrader.domain.risk_exits import ExitOverrides, ExitSignal, exit_intent, exit_triggers
from autotrader.executor.books import strategy_config, strategy_limits
from autotrader.store.repos_executor import ExitRepo, OverrideRepo, PositionOverride
from autotrader.store.repos_intents import IntentAdded, IntentRepo
from autotrader.venue.base import Venue

log = logging.getLogger("autotrader.executor")

EXIT_VALID_SECS = 60.0  # clock seconds an exit intent stays valid (the next check re-proposes)
EXIT_RETRY_MIN_SECS = 10.0
EXIT_RETRY_MAX_SECS = 600.0
ONE = Decimal(1)
_SOLD = (IntentStatus.FILLED, IntentStatus.PARTIALLY_FILLED)


@dataclass
class _LastExit:
    """The last exit written for one (strategy, token) and when another may follow."""

    intent_id: str
    not_before: datetime
    backoff_secs: float
    armed: bool = False  # whether not_before already counts from the intent's end


def overrides_for(
    override: PositionOverride | None,
    partial_done: frozenset[str],
    limits: LimitsConfig | None = None,
) -> ExitOverrides:
    """The domain overrides of a stored override row (None: the strategy's limits); exit
    fractions from the row, else from the strategy's ``limits``, else 1 (everything)."""
    o = override or PositionOverride("", "", "")
    return ExitOverrides(
        stop_loss_pct=o.stop_loss_pct,
        take_profit_pct=o.take_profit_pct,
        stop_loss_fraction=o.stop_loss_fraction or (limits and limits.stop_loss_fraction) or ONE,
        take_profit_fraction=(
            o.take_profit_fraction or (limits and limits.take_profit_fraction) or ONE
        ),
        partial_done=frozenset(partial_done),  # type: ignore[arg-type]  # coerced to ExitKind
    )


class ExitWatcher:
    """Writes exit intents for positions that crossed their stop-loss or take-profit."""

    def __init__(self, config: AppConfig, venue: Venue, engine: sa.Engine, clock: Clock) -> None:
        self.config = config
        self._venue = venue
        self._clock = clock
        self._exits = ExitRepo(engine, now=clock.now)
        self._overrides = OverrideRepo(engine, now=clock.now)
        self._intents = IntentRepo(engine, now=clock.now)
        self._last: dict[tuple[str, str], _LastExit] = {}

    async def check(self, pos: Position, market_slug: str, outcome: str) -> ExitSignal | None:
        """Write an exit intent for ``pos`` if one is due; the signal acted on, or None.

        Venue trouble (TemporaryError) propagates: the caller logs it and tries next time.
        """
        cfg = strategy_config(self.config, pos.strategy)
        if cfg is None:
            return None  # not ours to manage (unattributed, or a strategy removed from YAML)
        limits = strategy_limits(cfg)
        override = self._overrides.get(pos.strategy, market_slug, outcome)
        has_override = override is not None and (
            override.stop_loss_pct is not None or override.take_profit_pct is not None
        )
        if limits.stop_loss_pct is None and limits.take_profit_pct is None and not has_override:
            return None  # nothing to watch: spare the book read
        if self._exits.in_flight(pos.strategy, pos.token_id) or self._backing_off(pos):
            return None
        book = await self._venue.book(pos.token_id)
        done = self._exits.partial_done(pos.strategy, pos.token_id, pos.opened_at)
        signal = exit_triggers(pos, book, limits, overrides_for(override, done, cfg.limits))
        if signal is None:
            return None
        self._write(signal, pos, market_slug, outcome)
        return signal

    def _write(self, signal: ExitSignal, pos: Position, market_slug: str, outcome: str) -> None:
        intent = exit_intent(
            signal,
            intent_id=uuid.uuid4().hex,
            market_slug=market_slug,
            outcome=outcome,
            now=self._clock.now(),
            valid_for=timedelta(seconds=EXIT_VALID_SECS),
        )
        # The exit row first: a crash before the intent leaves a row no intent joins (harmless).
        self._exits.record(
            intent.id,
            strategy=pos.strategy,
            token_id=pos.token_id,
            kind=str(signal.kind),
            partial=signal.partial,
            position_opened_at=pos.opened_at,
        )
        added = self._intents.add(intent)
        assert isinstance(added, IntentAdded)  # no entry_key: never a duplicate entry
        log.info("exit intent %s: %s", intent.id, signal.detail)
        key = (pos.strategy, pos.token_id)
        last = self._last.get(key)
        backoff = EXIT_RETRY_MIN_SECS if last is None else last.backoff_secs
        self._last[key] = _LastExit(intent.id, intent.created_at, backoff)

    def _backing_off(self, pos: Position) -> bool:
        """Whether the last exit of ``pos`` sold nothing and its back-off has not passed."""
        key = (pos.strategy, pos.token_id)
        last = self._last.get(key)
        if last is None:
            return False
        stored = self._intents.get(last.intent_id)
        if stored is None or stored.status in _SOLD:
            del self._last[key]  # it sold (or is gone): the next exit needs no wait
            return False
        if not last.armed and stored.finished_at is not None:
            # First look since it ended unsold: wait from its end; the next wait is doubled.
            last.not_before = stored.finished_at + timedelta(seconds=last.backoff_secs)
            last.backoff_secs = min(last.backoff_secs * 2, EXIT_RETRY_MAX_SECS)
            last.armed = True
        return self._clock.now() < last.not_before
