"""The built-in ``btc_updown_15m`` strategy (seed 000): one entry per 15-minute window.

Scheduled ``every: 15m, align: true`` plus an offset, each run looks at the window that has just
opened and decides once:

1. read the published signal (``<state_dir>/signal.json``); skip when there is none, it is
   unreadable, older than ``signal_max_age`` (the signal daemon stopped publishing), NO_TRADE,
   meant for another window, or below ``min_confidence``;
2. skip inside ``cooldown_secs`` of the last entry (the executor's ``last_entry_at`` or the
   newest live entry intent of the strategy, whichever is later);
3. skip when the window's market is unknown, not ready or not accepting orders, or when the
   window is about to end;
4. otherwise write a BUY intent for the Up (signal UP) or Down (signal DOWN) token:
   ``position_usd`` as a market order (FOK) whose worst price is ``max_price``, valid for a
   short time inside the window, ``entry_key`` = the window's slug (the database refuses a
   second entry for the same window: that is recorded as a skip, never an error).

Default ``max_price`` (when the YAML leaves it out): reading the signal's confidence ``c`` as
the probability ``q = c / 100`` that the bought outcome wins, one share bought at price ``p``
pays 1 with probability ``q`` and costs ``p`` plus the taker fee of the market's schedule,
``fee(p) = rate × (p × (1 − p)) ** exponent`` per share. Its expected value is

    EV(p) = q − p − fee(p)

and the default is the highest price on the market's tick grid with ``EV(p) > 0``. With
today's crypto fee (rate 0.07, exponent 1) and ``c = 60`` that is 0.58 (EV 0.0030 per share);
at 0.59 the EV is already negative. No such price (tiny confidence) → the run skips.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from autotrader.config import AppConfig
from autotrader.config_strategies import BtcParams, BtcUpdown15mStrategy
from autotrader.domain.fees import FeeSchedule
from autotrader.domain.intents import IntentKind, IntentStatus, OrderIntent
from autotrader.domain.markets import Window
from autotrader.domain.money import snap_price
from autotrader.domain.orders import Side
from autotrader.signal.published import PublishedSignal, published_path, read_published
from autotrader.store.repos_intents import DuplicateEntry
from autotrader.store.repos_runtime import StrategyRuntimeRepo
from autotrader.strategies.base import NodeStat, RunResult, StrategyContext
from autotrader.venue.polymarket.windows import BtcWindowMarket, not_ready_reason, window_market

ENTRY_VALID_SECS = 120.0  # how long the executor may try to place the entry
LAST_ENTRY_MARGIN_SECS = 60.0  # no new entry in a window's last minute
_DEAD_INTENTS = (IntentStatus.REJECTED, IntentStatus.EXPIRED, IntentStatus.FAILED)


def signal_max_age(config: AppConfig) -> float:
    """Seconds after which a published signal is stale: the signal daemon stopped publishing.

    Three sample intervals (one late sample is not news), and never less than the feeds'
    ``stale_after_secs``.
    """
    return max(3 * config.signal.interval_secs, config.feeds.btc.stale_after_secs)


def expected_value(q: Decimal, price: Decimal, fees: FeeSchedule) -> Decimal:
    """Expected value per share bought at ``price`` winning with probability ``q``, after fees."""
    return q - price - fees.taker_fee(Decimal(1), price)


def default_max_price(confidence: float, fees: FeeSchedule, tick: Decimal) -> Decimal | None:
    """The highest price on the ``tick`` grid with a positive expected value (module doc)."""
    q = Decimal(str(confidence)) / 100
    price = min(snap_price(q, tick, "down"), 1 - tick)
    while price >= tick:
        if expected_value(q, price, fees) > 0:
            return price
        price -= tick
    return None


def _skip(stats: list[NodeStat], node: str, why: str) -> RunResult:
    return RunResult("skipped", [*stats, NodeStat(node, 1, 0)], 0, why)


def _check_signal(sig: PublishedSignal, window: Window, params: BtcParams) -> str | None:
    """Why ``sig`` does not call for an entry in ``window`` (None: it does)."""
    doc = sig.doc
    direction = doc["direction"]
    if direction == "NO_TRADE":
        return f"signal NO_TRADE ({doc.get('reason') or 'no reason given'})"
    slug = (doc.get("window") or {}).get("slug")
    if slug != window.slug:
        return f"signal is for window {slug}, not {window.slug}"
    min_conf = params.min_confidence
    if float(doc["confidence"]) < min_conf:
        return f"signal {direction} confidence {doc['confidence']:g} below {min_conf:g}"
    return None


async def _read_signal(ctx: StrategyContext, now: float) -> PublishedSignal | str:
    path = published_path(ctx.config.state_dir)
    try:
        sig = await asyncio.to_thread(read_published, path)
    except FileNotFoundError:
        return f"no signal yet ({path} missing)"
    except (OSError, ValueError) as exc:
        return f"signal unreadable: {exc}"
    age = now - sig.timestamp
    if age > signal_max_age(ctx.config):
        return f"signal stale ({age:.0f}s old, limit {signal_max_age(ctx.config):g}s)"
    return sig


def _last_entry(ctx: StrategyContext, strategy: str) -> datetime | None:
    runtime = StrategyRuntimeRepo(ctx.engine).get(strategy).last_entry_at
    live = [
        s.intent.created_at
        for s in ctx.intents.list(strategy=strategy, limit=5)
        if s.intent.entry_key is not None and s.status not in _DEAD_INTENTS
    ]
    candidates = [t for t in (runtime, max(live, default=None)) if t is not None]
    return max(candidates, default=None)


async def _cooldown(ctx: StrategyContext, strategy: BtcUpdown15mStrategy, now: float) -> str | None:
    cooldown = strategy.params.cooldown_secs
    if cooldown <= 0:
        return None
    last = await asyncio.to_thread(_last_entry, ctx, strategy.name)
    if last is None:
        return None
    since = now - last.timestamp()
    if since < cooldown:
        return f"cooldown: last entry {since:.0f}s ago (cooldown {cooldown:g}s)"
    return None


async def _market(ctx: StrategyContext, window: Window) -> BtcWindowMarket | str:
    market = await ctx.market_data.market_by_slug(window.slug)
    why = not_ready_reason(market)
    if market is None or why is not None:
        return f"no market for {window.slug}: {why}"
    if not market.tradable:
        return f"market {window.slug} is not accepting orders"
    return window_market(window, market)


def _intent(
    strategy: BtcUpdown15mStrategy,
    wm: BtcWindowMarket,
    sig: PublishedSignal,
    max_price: Decimal,
    now: float,
) -> OrderIntent:
    up = sig.doc["direction"] == "UP"
    created = datetime.fromtimestamp(now, UTC)
    until = min(now + ENTRY_VALID_SECS, wm.window.end - LAST_ENTRY_MARGIN_SECS)
    confidence = float(sig.doc["confidence"])
    return OrderIntent(
        id=uuid.uuid4().hex,
        strategy=strategy.name,
        market_slug=wm.slug,
        token_id=wm.up_token_id if up else wm.down_token_id,
        outcome="Up" if up else "Down",
        side=Side.BUY,
        kind=IntentKind.MARKET,
        amount_usd=strategy.params.position_usd,
        shares=None,
        limit_price=max_price,
        valid_until=created + timedelta(seconds=until - now),
        entry_key=wm.slug,
        reason=f"signal {sig.doc['direction']} {confidence:g}% for {wm.slug}; max {max_price}",
        created_at=created,
    )


async def run_btc_updown(strategy: BtcUpdown15mStrategy, ctx: StrategyContext) -> RunResult:
    """One decision for the window open now (see the module docstring)."""
    now = ctx.clock.time()
    window = Window.containing(now)
    stats: list[NodeStat] = []
    sig = await _read_signal(ctx, now)
    if isinstance(sig, str):
        return _skip(stats, "signal", sig)
    why = _check_signal(sig, window, strategy.params)
    if why is not None:
        return _skip(stats, "signal", why)
    stats.append(NodeStat("signal", 1, 1))
    why = await _cooldown(ctx, strategy, now)
    if why is None and now >= window.end - LAST_ENTRY_MARGIN_SECS:
        why = f"too late to enter {window.slug} ({window.end - now:.0f}s left)"
    if why is not None:
        return _skip(stats, "timing", why)
    stats.append(NodeStat("timing", 1, 1))
    wm = await _market(ctx, window)
    if isinstance(wm, str):
        return _skip(stats, "market", wm)
    stats.append(NodeStat("market", 1, 1))
    max_price = strategy.params.max_price
    if max_price is None:
        max_price = default_max_price(float(sig.doc["confidence"]), wm.fees, wm.tick_size)
        if max_price is None:
            return _skip(stats, "price", "no price leaves a positive expected value after fees")
    added = await asyncio.to_thread(ctx.intents.add, _intent(strategy, wm, sig, max_price, now))
    if isinstance(added, DuplicateEntry):
        return _skip(stats, "entry", added.message)
    return RunResult("ok", [*stats, NodeStat("entry", 1, 1)], 1, f"entry intent {added.id}")
