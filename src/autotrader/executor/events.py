"""The notification events the executor records, with their payloads and one-line summaries.

* ``trade_executed`` — new fills of one of our orders (either side), recorded once per batch of
  fills the order path or an order sync stored (the trade id is the fills table's key, so a
  batch is only "new" once): strategy, market_slug, outcome, side, shares, average price, usd,
  fees, summary.
* ``trade_exited`` — new SELL fills that reduce or close a position, with the realized
  ``pnl_usd`` of those shares (proceeds − average cost − this sale's fees), and the exit reason
  (stop_loss, take_profit, or the intent's own reason). Settlements record theirs in
  ``settlement.py``, in the same transaction as the settlement.
* ``strategy_paused`` (+ ``venue_degraded`` or ``daily_loss_limit_hit``) — ``pause_strategy``,
  once per pause (pausing a paused strategy records nothing).

Payload money is Decimal (stored as exact strings); ``summary`` is what e-mails and the status
page show.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from autotrader.domain.fills import Fill
from autotrader.domain.orders import Side
from autotrader.domain.positions import Position, PositionError, apply_fill
from autotrader.store.repos_intents import IntentRepo
from autotrader.store.repos_runtime import EventRepo, StrategyRuntimeRepo
from autotrader.store.repos_trading import StoredOrder

log = logging.getLogger("autotrader.executor")

ZERO = Decimal(0)
CENT = Decimal("0.01")
# What a pause's cause adds to ``strategy_paused``.
_CAUSE_EVENTS = {"venue": "venue_degraded", "daily_loss_limit": "daily_loss_limit_hit"}


def usd(x: Decimal) -> str:
    """Money for a summary: 2 decimals."""
    return f"{x.quantize(CENT)}"


def signed_usd(x: Decimal) -> str:
    """P&L for a summary: +1.20 / -0.35."""
    return f"{'+' if x >= 0 else ''}{x.quantize(CENT)}"


def pause_strategy(
    runtime: StrategyRuntimeRepo, events: EventRepo, strategy: str, reason: str, cause: str
) -> bool:
    """Pause ``strategy`` and record its events; True if it was running."""
    if not runtime.pause(strategy, reason):
        return False
    summary = f"{strategy} paused: {reason}"
    payload = {"reason": reason, "cause": cause, "summary": summary}
    events.record("strategy_paused", strategy, payload)
    extra = _CAUSE_EVENTS.get(cause)
    if extra is not None:
        events.record(extra, strategy, payload)
    log.warning("strategy %s paused: %s", strategy, reason)
    return True


def _realized(strategy: str, new: Sequence[Fill], history: Sequence[Fill]) -> Decimal:
    """Realized P&L (gross of fees) of the ``new`` fills, replaying the position's history."""
    ids = {f.trade_id for f in new}
    token = new[0].token_id
    pos, realized = Position(strategy, token), ZERO
    for fill in history:
        if fill.token_id != token:
            continue
        pos, event = apply_fill(pos, fill)
        if fill.trade_id in ids:
            realized += event.realized_usd
    return realized


def trade_payloads(
    order: StoredOrder, new: Sequence[Fill], history: Sequence[Fill], reason: str | None
) -> list[tuple[str, dict[str, Any]]]:
    """The (type, payload) events of ``new`` fills of ``order`` (``history``: the position's
    fills in replay order, the new ones included)."""
    shares = sum((f.size for f in new), ZERO)
    value = sum((f.notional_usd for f in new), ZERO)
    fees = sum((f.fee_usd for f in new), ZERO)
    price = value / shares if shares else ZERO
    market, outcome = order.market_slug or order.token_id, order.outcome or "?"
    verb = "bought" if order.side is Side.BUY else "sold"
    what = f"{shares.normalize():f} {outcome} @ {price:.4f} on {market}"
    base = {
        "strategy": order.strategy, "market_slug": order.market_slug, "outcome": order.outcome,
        "token_id": order.token_id, "side": order.side.value, "shares": shares, "price": price,
        "usd": value, "fees": fees, "order_id": order.id, "trade_ids": [f.trade_id for f in new],
    }  # fmt: skip
    out = [
        (
            "trade_executed",
            {**base, "summary": f"{order.strategy} {verb} {what} ({usd(value)} USD)"},
        )
    ]
    if order.side is Side.SELL:
        pnl = _realized(order.strategy, new, history) - fees
        why = reason or "sell"
        summary = f"{order.strategy} exited ({why}): {verb} {what}, P&L {signed_usd(pnl)} USD"
        out.append(("trade_exited", {**base, "pnl_usd": pnl, "reason": why, "summary": summary}))
    return out


def trade_events(
    engine: sa.Engine, order: StoredOrder, new: Sequence[Fill], history: Sequence[Fill]
) -> list[tuple[str, dict[str, Any]]]:
    """``trade_executed`` (and ``trade_exited`` for a sell) for newly stored fills
    (``history``: the position's fills, the new ones included; needed for a sale only)."""
    if not new:
        return []
    # Only a sale needs the intent's reason (why it sold).
    reason = None
    if order.side is Side.SELL and order.intent_id is not None:
        stored = IntentRepo(engine).get(order.intent_id)
        reason = stored.intent.reason if stored else None
    try:
        return trade_payloads(order, new, history, reason)
    except PositionError as exc:  # the fills disagree: say so, never guess a P&L
        log.error("order %s: no trade event, fills inconsistent: %s", order.id, exc)
        return []
