"""The order path, one intent at a time: checks → order row → hash → POST → fills → outcome.

Exactly once (DESIGN.md §4): the order row (our client order id) and the signed order's hash are
committed together, in one transaction, before the POST. A refusal before acceptance (425, 429,
a connection that never opened, the post-only period) retries the *same* prepared order while
the intent is valid. An ambiguous submit is never re-sent: the order is looked up by hash
(order, then trades) for a bounded grace period; if the venue knows nothing of it by then the
intent fails with a reason and the order stays SUBMITTED, so later syncs still find it if it
surfaces (``watch.py``: on a back-off schedule, then closed as never placed).

An answer is recorded as it comes: a "matched" answer that says how much matched ends the
intent at once; its trades are recorded when the venue lists them (``pending.py``), counting
as reservations in every risk check until then. Only a held order, one of unknown fate, or a
match that does not say how much is followed up here (bounded by ``FOLLOW_UP_SECS``). The risk
context comes from state kept between intents (``risk_books.py``).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.config import AppConfig
from autotrader.domain import risk
from autotrader.domain.intents import IntentStatus, OrderIntent, to_order_request
from autotrader.domain.markets import Market
from autotrader.domain.orders import OrderStatus, PreparedOrder, ReasonCode, Side, SubmitResult
from autotrader.errors import DataError
from autotrader.executor.books import ContextInputs, strategy_config
from autotrader.executor.events import pause_strategy
from autotrader.executor.faults import kill_point
from autotrader.executor.journal import TradesJournal
from autotrader.executor.market_cache import MarketCache
from autotrader.executor.outcome import (
    NOT_FOUND,
    NOT_FOUND_TEXT,
    Finish,
    Finished,
    intent_finish,
    journal_record,
)
from autotrader.executor.pending import PendingFills
from autotrader.executor.risk_books import ExecutorBooks
from autotrader.executor.sync import OrderSync, move, record_fills
from autotrader.store.repos_intents import IntentRepo, StoredIntent
from autotrader.store.repos_runtime import EventRepo, StrategyRuntimeRepo
from autotrader.store.repos_trading import FillRepo, OrderRepo, StoredOrder
from autotrader.venue.base import Venue
from autotrader.venue.errors import AmbiguousSubmit, VenueRefused, VenueUnavailable

log = logging.getLogger("autotrader.executor")
T = TypeVar("T")

AMBIGUOUS_GRACE_SECS = 15.0  # clock seconds of looking an ambiguous order up by hash
FOLLOW_UP_SECS = 10.0  # real seconds of waiting for a held order's fate or a fill's trade
LOOKUP_INTERVAL_SECS = 0.2
MAX_WAIT_SECS = 10.0  # clock seconds between retries when the venue gives no Retry-After
BUSY_SLACK_SECS = 30.0  # real seconds after a deliberate wait still counted as busy (a request)
VENUE_UNAVAILABLE = "VENUE_UNAVAILABLE"
_REJECTED, _FAILED, _EXPIRED = IntentStatus.REJECTED, IntentStatus.FAILED, IntentStatus.EXPIRED


class OrderPath:
    """Turns claimed intents into orders at ``venue`` (see the module docstring)."""

    def __init__(self, config: AppConfig, venue: Venue, engine: sa.Engine, clock: Clock) -> None:
        self.config = config
        self._venue = venue
        self._engine = engine
        self._clock = clock
        self._intents = IntentRepo(engine, now=clock.now)
        self._orders = OrderRepo(engine, now=clock.now)
        self._runtime = StrategyRuntimeRepo(engine, now=clock.now)
        self._events = EventRepo(engine, now=clock.now)
        self._sync = OrderSync(venue, engine, clock)
        self._journal = TradesJournal(config.state_dir)
        self.books = ExecutorBooks(engine, PendingFills(venue, engine, clock))
        self._markets = MarketCache(clock)
        self._failing: set[str] = set()  # strategies whose venue failure count may be > 0
        self.busy_until = 0.0  # time.monotonic() until which the path waits on purpose

    async def run(self, stored: StoredIntent) -> Finish:
        """Carry a claimed intent to its terminal status; the status and reason given."""
        intent = stored.intent
        kill_point("claimed")
        try:
            finish = await self._execute(intent)
        except Finished as done:
            finish = done.finish
            self._close_unsent(intent, finish)
        self._intents.finish(intent.id, finish.status, finish.code, finish.text)
        log.info(
            "intent %s %s: %s [%s] %s",
            intent.id,
            intent.strategy,
            finish.status,
            finish.code,
            finish.text,
        )
        return finish

    async def resume(self, intent: OrderIntent, order: StoredOrder) -> Finish:
        """Finish an intent whose order a previous run left behind (start-up reconciliation)."""
        try:
            finish = await self._conclude(intent, order)
        except Finished as done:
            finish = done.finish
        self._intents.finish(intent.id, finish.status, finish.code, finish.text)
        return finish

    # --- checks ----------------------------------------------------------------------------

    async def _execute(self, intent: OrderIntent) -> Finish:
        now = self._clock.now()
        if intent.expired(now):
            until = intent.valid_until.isoformat()
            raise Finished(
                _EXPIRED,
                risk.RiskReason.INTENT_EXPIRED.value,
                f"valid until {until}, claimed at {now.isoformat()}",
            )
        cfg = strategy_config(self.config, intent.strategy)
        if cfg is None:
            raise Finished(
                _REJECTED,
                "UNKNOWN_STRATEGY",
                f"strategy {intent.strategy} is not in the configuration",
            )
        market = await self._market(intent)
        # The book is read while the database is: the venue answers in its own time, and the
        # strategy's state and the positions do not depend on the book.
        book_read = asyncio.ensure_future(
            self._read(intent, "book", lambda: self._venue.book(intent.token_id))
        )
        try:
            await asyncio.sleep(0)  # the request goes out before the reads below
            # A paused strategy is refused by risk.check, which lets exits through: a strategy
            # paused for its daily loss must still be able to sell at its stop-loss.
            runtime = self._runtime.get(intent.strategy)
            if runtime.consecutive_venue_failures:
                self._failing.add(intent.strategy)
            snap = self.books.load()
            book = await book_read
        finally:
            _discard(book_read)
        fees = await self._read(intent, "fees", lambda: self._venue.fee_schedule(intent.token_id))
        inputs = ContextInputs(self._clock.now(), book, fees, runtime)
        decision = risk.check(intent, self.books.context(self.config, cfg, inputs, snap))
        if not decision.approved:
            assert decision.reason is not None  # a rejection always carries its reason
            self._on_risk_rejection(intent, decision)
            raise Finished(_REJECTED, decision.reason.value, decision.detail)
        return await self._place(intent, market, book.tick_size, decision)

    async def _market(self, intent: OrderIntent) -> Market:
        slug = intent.market_slug
        market = self._markets.get(slug) or await self._read(
            intent, "market", lambda: self._venue.market_by_slug(slug)
        )
        if market is None:
            raise Finished(_REJECTED, ReasonCode.MARKET_NOT_READY.value, f"no market {slug}")
        if not market.tradable:
            raise Finished(
                _REJECTED, ReasonCode.MARKET_CLOSED.value, f"market {slug} is not accepting orders"
            )
        try:
            market.token_by_id(intent.token_id)
        except ValueError as exc:
            raise Finished(_REJECTED, ReasonCode.INVALID_TOKEN.value, str(exc)) from None
        self._markets.put(market)
        return market

    def _on_risk_rejection(self, intent: OrderIntent, decision: risk.RiskDecision) -> None:
        if decision.reason is risk.RiskReason.DAILY_LOSS_LIMIT:
            self._pause(intent.strategy, decision.detail, "daily_loss_limit")

    def _pause(self, strategy: str, reason: str, cause: str) -> None:
        # strategy_paused, plus venue_degraded / daily_loss_limit_hit by cause (events.py)
        pause_strategy(self._runtime, self._events, strategy, reason, cause)

    # --- the order ---------------------------------------------------------------------------

    async def _place(
        self,
        intent: OrderIntent,
        market: Market,
        tick: Decimal,
        decision: risk.RiskDecision,
    ) -> Finish:
        try:
            request = to_order_request(
                intent,
                uuid.uuid4().hex,
                tick_size=tick,
                price=decision.price,
                shares=decision.shares,
                neg_risk=market.neg_risk,
            )
        except ValueError as exc:
            raise Finished(_REJECTED, ReasonCode.INVALID_ORDER.value, str(exc)) from None
        try:
            prepared = await self._read(intent, "prepare", lambda: self._venue.prepare(request))
        except ValueError as exc:
            raise Finished(_REJECTED, ReasonCode.INVALID_ORDER.value, str(exc)) from None
        # Signed first (nothing is sent by signing), so the order row and its hash are one
        # commit, made before the POST: a crash before it leaves nothing to look up.
        order = self._orders.create(
            request,
            intent_id=intent.id,
            strategy=intent.strategy,
            market_slug=intent.market_slug,
            outcome=intent.outcome,
            venue_order_id=prepared.venue_order_id,
        )
        self.books.order_created(order.created_at)
        kill_point("order_created")
        kill_point("hash_stored")
        order = await self._post(intent, order, prepared)
        return await self._conclude(intent, order)

    async def _post(
        self, intent: OrderIntent, order: StoredOrder, prepared: PreparedOrder
    ) -> StoredOrder:
        attempt = 0
        while True:
            try:
                result = await self._venue.post(prepared)
            except VenueUnavailable as exc:
                # 425/429/not connected: refused before acceptance, the same order may go again.
                attempt += 1
                await self._unavailable(intent, exc, attempt, "post")
                continue
            except AmbiguousSubmit as exc:
                self._venue_failed(intent.strategy, str(exc))
                order = self._move(order, OrderStatus.SUBMITTED, order.size_matched)
                return await self._resolve_ambiguous(order)
            kill_point("post_sent")
            if result.reason is ReasonCode.POST_ONLY_PERIOD:
                attempt += 1
                await self._wait(intent, None, attempt, f"post-only period: {result.message}")
                continue
            if intent.strategy in self._failing:  # a write only when there is one to reset
                self._runtime.record_venue_success(intent.strategy)
                self._failing.discard(intent.strategy)
            return self._answered(order, result)

    def _answered(self, order: StoredOrder, result: SubmitResult) -> StoredOrder:
        kill_point("post_answered")
        record_fills(self._engine, order, list(result.fills), self._clock.now)
        kill_point("fill_stored")
        code = result.reason.value if result.reason is not None else None
        text = result.message if not result.accepted else None
        return self._move(
            order,
            result.status,
            result.filled_size,
            reason_code=code,
            reason_text=text,
        )

    async def _resolve_ambiguous(self, order: StoredOrder) -> StoredOrder:
        """Look the order up by hash until the venue knows it, or the grace period ends.

        The grace runs on the executor's clock, like every other wait here: against a
        simulated venue it shrinks with the clock, instead of holding every intent behind it
        for 15 real seconds."""
        deadline = self._clock.time() + AMBIGUOUS_GRACE_SECS
        while True:
            try:
                look = await self._sync.lookup(order)
                if look.found:
                    return look.order
            except VenueUnavailable as exc:
                log.warning("order %s: lookup by hash failed: %s", order.id, exc)
            if self._clock.time() >= deadline:
                raise Finished(_FAILED, NOT_FOUND, NOT_FOUND_TEXT)
            await self._clock.sleep(LOOKUP_INTERVAL_SECS)

    async def _conclude(self, intent: OrderIntent, order: StoredOrder) -> Finish:
        order = await self._follow_up(order)
        fills = [r.fill for r in FillRepo(self._engine).for_order(order.id)]
        # Matched per the venue's answer, trades not listed yet: collected later (pending.py).
        self.books.pending.add(order, sum((f.size for f in fills), Decimal(0)))
        finish = intent_finish(order, fills)
        if (fills or order.size_matched > 0) and order.side is Side.BUY:
            self._runtime.record_entry(intent.strategy, self._clock.now())
        self._journal.append(journal_record(intent, order, fills, finish, self._clock.now()))
        return finish

    async def _follow_up(self, order: StoredOrder) -> StoredOrder:
        """Wait (bounded) for a held order's fate and for the trades of what it matched."""
        deadline = time.monotonic() + FOLLOW_UP_SECS
        while self._incomplete(order) and time.monotonic() < deadline:
            await asyncio.sleep(LOOKUP_INTERVAL_SECS)
            try:
                order = (await self._sync.lookup(order)).order
            except VenueUnavailable as exc:
                log.warning("order %s: follow-up failed: %s", order.id, exc)
        return order

    def _incomplete(self, order: StoredOrder) -> bool:
        """Held, of unknown fate, or said to be filled without saying how much. An answer
        that says how much matched is enough: its trades are collected later (pending.py)."""
        if order.venue_order_id is None or order.status is OrderStatus.PENDING:
            return False
        if order.status in (OrderStatus.DELAYED, OrderStatus.SUBMITTED):
            return True
        return order.status is OrderStatus.FILLED and order.size_matched == 0

    def _move(
        self, order: StoredOrder, status: OrderStatus, matched: Decimal, **why: str | None
    ) -> StoredOrder:
        return move(self._engine, order, status, matched, now=self._clock.now, **why)

    def _close_unsent(self, intent: OrderIntent, finish: Finish) -> None:
        # An order still PENDING here was never accepted (refused, or never posted).
        for order in self._orders.for_intent(intent.id):
            if order.status is OrderStatus.PENDING:
                self._move(
                    order,
                    OrderStatus.REJECTED,
                    order.size_matched,
                    reason_code=finish.code,
                    reason_text=f"not placed: {finish.text}",
                )

    # --- venue trouble -----------------------------------------------------------------------

    async def _read(self, intent: OrderIntent, what: str, call: Callable[[], Awaitable[T]]) -> T:
        attempt = 0
        while True:
            try:
                return await call()
            except VenueUnavailable as exc:
                attempt += 1
                await self._unavailable(intent, exc, attempt, what)
            except VenueRefused as exc:
                raise Finished(_REJECTED, exc.reason.value, f"{what}: {exc}") from None
            except DataError as exc:
                raise Finished(_FAILED, "VENUE_DATA_ERROR", f"{what}: {exc}") from None

    async def _unavailable(
        self, intent: OrderIntent, exc: VenueUnavailable, attempt: int, what: str
    ) -> None:
        if self._venue_failed(intent.strategy, f"{what}: {exc}"):
            raise Finished(_FAILED, VENUE_UNAVAILABLE, f"{what}: {exc}; strategy paused")
        await self._wait(intent, exc.retry_after_secs, attempt, f"{what}: {exc}")

    def _venue_failed(self, strategy: str, why: str) -> bool:
        """Count a venue failure; True when the strategy got paused for it."""
        count = self._runtime.record_venue_failure(strategy)
        self._failing.add(strategy)
        limit = self.config.executor.max_consecutive_venue_failures
        if count < limit:
            return False
        self._pause(strategy, f"{count} consecutive venue failures, last: {why}", "venue")
        return True

    async def _wait(
        self, intent: OrderIntent, retry_after: float | None, attempt: int, why: str
    ) -> None:
        delay = retry_after if retry_after is not None else min(0.5 * 2**attempt, MAX_WAIT_SECS)
        now = self._clock.now()
        if now.timestamp() + delay >= intent.valid_until.timestamp():
            raise Finished(
                _EXPIRED, VENUE_UNAVAILABLE, f"venue unavailable until valid_until: {why}"
            )
        log.warning("intent %s: %s; retrying in %.1fs", intent.id, why, delay)
        # A deliberate wait (a 429's Retry-After, an engine restart) may outlast the watchdog's
        # stall limit: say until when the path is busy on purpose, plus one request's time.
        self.busy_until = time.monotonic() + delay / self._clock.speed + BUSY_SLACK_SECS
        await self._clock.sleep(delay)


def _discard(task: asyncio.Future[Any]) -> None:
    """Cancel ``task`` if it still runs; else take its outcome (an error seen elsewhere or
    not needed: the intent already ended another way)."""
    if not task.done():
        task.cancel()
    elif not task.cancelled():
        task.exception()
