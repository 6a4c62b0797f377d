"""The 15-minute BTC "Up or Down" windows: which market trades now, and the ones ahead.

Window T (a multiple of 900 s) trades as ``btc-updown-15m-<T>`` until T + 900. Polymarket
creates each market about a day ahead, but a freshly created one may not be usable yet: Gamma
answers 404, lists no ``clobTokenIds``, or says ``acceptingOrders: false``. Such a market is
looked up again with a bounded exponential backoff (attempts and total wait are parameters,
the sleep is injectable so tests run on a ``FakeClock``) and then reported as
``MarketNotReady`` (reason code MARKET_NOT_READY). A window that has already ended is returned
as Gamma has it, ready or not: it is being resolved, not traded.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

from autotrader.clock import Clock
from autotrader.domain.fees import FeeSchedule
from autotrader.domain.markets import WINDOW_SECS, Market, Window
from autotrader.domain.orders import ReasonCode
from autotrader.errors import TemporaryError
from autotrader.venue.polymarket.gamma import GammaClient
from autotrader.venue.polymarket.schemas_base import data_error

log = logging.getLogger("autotrader.venue.windows")

Sleep = Callable[[float], Awaitable[None]]


class MarketNotReady(TemporaryError):
    """A window's market was still not usable after the bounded retries."""

    reason = ReasonCode.MARKET_NOT_READY

    def __init__(self, slug: str, why: str, *, attempts: int, waited_secs: float) -> None:
        super().__init__(
            f"{slug}: market not ready after {attempts} attempts over {waited_secs:g}s ({why})"
        )
        self.slug = slug
        self.why = why
        self.attempts = attempts
        self.waited_secs = waited_secs


@dataclass(frozen=True)
class BtcWindowMarket:
    """One window and its market, with what an order needs at hand."""

    window: Window
    market: Market
    up_token_id: str
    down_token_id: str
    tick_size: Decimal
    min_order_size: Decimal
    fees: FeeSchedule
    price_to_beat: Decimal | None

    @property
    def slug(self) -> str:
        """The market slug ``btc-updown-15m-<T>``."""
        return self.window.slug

    @property
    def tradable(self) -> bool:
        """Whether the market accepts orders now."""
        return self.market.tradable


def window_market(window: Window, market: Market) -> BtcWindowMarket:
    """``market`` as the market of ``window``; ``DataError`` if it lacks the Up/Down tokens."""
    try:
        up, down = market.token("Up"), market.token("Down")
    except ValueError as exc:
        raise data_error(f"{window.slug}: {exc}") from None
    return BtcWindowMarket(
        window=window,
        market=market,
        up_token_id=up.token_id,
        down_token_id=down.token_id,
        tick_size=market.tick_size,
        min_order_size=market.min_order_size,
        fees=market.fees,
        price_to_beat=market.price_to_beat,
    )


def not_ready_reason(market: Market | None) -> str | None:
    """Why ``market`` cannot be traded yet, or None if it can (or is already closed)."""
    if market is None:
        return "not listed yet (404)"
    if not market.tokens:
        return "no clobTokenIds yet"
    if market.closed:
        return None
    if not market.accepting_orders:
        return "not accepting orders yet"
    return None


class BtcWindows:
    """Finds the market of any 15-minute BTC window through Gamma."""

    def __init__(
        self,
        gamma: GammaClient,
        clock: Clock,
        *,
        max_attempts: int = 6,
        max_wait_secs: float = 60.0,
        base_delay_secs: float = 1.0,
        max_delay_secs: float = 15.0,
        sleep: Sleep | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1 (got {max_attempts})")
        if max_wait_secs < 0 or base_delay_secs <= 0 or max_delay_secs < base_delay_secs:
            raise ValueError("backoff needs max_wait >= 0 and 0 < base_delay <= max_delay")
        self._gamma = gamma
        self._clock = clock
        self._max_attempts = max_attempts
        self._max_wait = max_wait_secs
        self._base = base_delay_secs
        self._cap = max_delay_secs
        self._sleep: Sleep = sleep if sleep is not None else clock.sleep

    def window_at(self, ts: float | None = None) -> Window:
        """The window containing ``ts`` (default: now on the clock)."""
        return Window.containing(self._clock.time() if ts is None else ts)

    async def lookup(self, window: Window) -> BtcWindowMarket | None:
        """One Gamma lookup of ``window``; None while its market is not usable yet."""
        market = await self._gamma.market_by_slug(window.slug)
        if not_ready_reason(market) is not None and not self._ended(window):
            return None
        if market is None or not market.tokens:
            return None
        return window_market(window, market)

    async def resolve(self, window: Window) -> BtcWindowMarket:
        """The market of ``window``, retried with backoff while not ready.

        Raises ``MarketNotReady`` once ``max_attempts`` lookups or ``max_wait_secs`` of waiting
        are used up; ``VenueUnavailable`` from Gamma is not retried here and propagates.
        """
        waited = 0.0
        why = "unknown"
        for attempt in range(1, self._max_attempts + 1):
            market = await self._gamma.market_by_slug(window.slug)
            reason = not_ready_reason(market)
            if market is not None and market.tokens and (reason is None or self._ended(window)):
                return window_market(window, market)
            why = reason or "no clobTokenIds"
            delay = min(self._base * 2 ** (attempt - 1), self._cap, self._max_wait - waited)
            if attempt == self._max_attempts or delay <= 0:
                raise MarketNotReady(window.slug, why, attempts=attempt, waited_secs=waited)
            log.info("%s not ready (%s); retry %d in %gs", window.slug, why, attempt, delay)
            await self._sleep(delay)
            waited += delay
        raise MarketNotReady(window.slug, why, attempts=self._max_attempts, waited_secs=waited)

    async def at(self, ts: float) -> BtcWindowMarket:
        """The market of the window containing ``ts``."""
        return await self.resolve(self.window_at(ts))

    async def current(self) -> BtcWindowMarket:
        """The market of the window trading now."""
        return await self.resolve(self.window_at())

    async def upcoming(self, n: int) -> list[BtcWindowMarket]:
        """The markets of the next ``n`` windows after the current one, in time order.

        Looked up one after another (Gamma rate-limits); the first one still not ready after
        its retries raises ``MarketNotReady``.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0 (got {n})")
        start = self.window_at().start
        return [await self.resolve(Window(start + WINDOW_SECS * k)) for k in range(1, n + 1)]

    def _ended(self, window: Window) -> bool:
        return self._clock.time() >= window.end
