"""The live venue ``polymarket``: py-clob-client-v2 for the CLOB, Gamma for discovery.

The client is synchronous; every call runs in a worker thread (``asyncio.to_thread``). Orders
are built and signed in ``prepare`` and their hash — the id the CLOB will report — is computed
from the exact ``order`` object that ``post`` sends, so the caller can store it before anything
leaves. ``post`` is ``client.post_order`` and nothing else: ``create_and_post_*`` may sign and
post a second time on a version change, which is a doubled order.

Errors (nothing is retried here):

* 425 → ``VenueUnavailable("engine_restart")``, 429 → ``"throttled"`` with Retry-After.
* Reads: 5xx → ``"server"``; timeouts / connection failures → ``"timeout"`` / ``"connection"``;
  other refusals → ``VenueRefused`` with a reason code.
* ``post``: a 4xx ``{"error": …}`` (or ``success: false``) → ``SubmitResult(accepted=False,
  reason=…)``; a timeout, a dropped connection after sending, a 5xx or an unreadable answer →
  ``AmbiguousSubmit`` (the order may exist: look it up by hash first). A connection that never
  opened → ``VenueUnavailable("connection")``: nothing was sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import httpx

from autotrader.config import AppConfig
from autotrader.domain.fees import FeeSchedule
from autotrader.domain.fills import Fill
from autotrader.domain.orders import (
    OrderRequest,
    OrderStatus,
    PreparedOrder,
    ReasonCode,
    SubmitResult,
    VenueOrder,
)
from autotrader.errors import DataError
from autotrader.tls import shared_tls
from autotrader.venue.base import Venue
from autotrader.venue.errors import AmbiguousSubmit, VenueUnavailable
from autotrader.venue.polymarket import clob_reads as reads
from autotrader.venue.polymarket.clob_client import (
    TokenCache,
    VenueClobClient,
    client_creds,
    unavailable,
)
from autotrader.venue.polymarket.clob_http import ClobHttp, ClobHttpError, ClobTransportError
from autotrader.venue.polymarket.clob_market import PolymarketMarketReads
from autotrader.venue.polymarket.clob_orders import (
    ClobPayload,
    build_signed,
    check_request,
    payload_for,
)
from autotrader.venue.polymarket.credentials import (
    ApiCredentials,
    ApiCredsCache,
    WalletKey,
    require_wallet_key,
)
from autotrader.venue.polymarket.gamma import GammaClient
from autotrader.venue.polymarket.parsing_orders import parse_post_order_response
from autotrader.venue.polymarket.reasons import reason_from_error

log = logging.getLogger("autotrader.venue.polymarket")
T = TypeVar("T")


class PolymarketVenue(PolymarketMarketReads):
    """Market data and execution on Polymarket (see module doc). Close with ``aclose()``."""

    name = "polymarket"

    def __init__(
        self,
        *,
        clob_url: str,
        gamma_url: str,
        key: WalletKey,
        state_dir: Path,
        chain_id: int = 137,
        signature_type: int = 0,
        funder: str | None = None,
        http: httpx.AsyncClient | None = None,
        clob_transport: httpx.BaseTransport | None = None,
        timeout_secs: float = 10.0,
    ) -> None:
        self.chain_id = chain_id
        self.tokens = TokenCache()
        self._http = ClobHttp(timeout_secs=timeout_secs, transport=clob_transport)
        self._client = VenueClobClient(
            clob_url,
            chain_id=chain_id,
            key=key,
            http=self._http,
            tokens=self.tokens,
            signature_type=signature_type,
            funder=funder,
        )
        self.address: str = self._client.get_address()
        self.funder: str = str(self._client.builder.funder)
        self._creds_cache = ApiCredsCache(state_dir, address=self.address, host=clob_url)
        self._creds_lock = asyncio.Lock()
        self._version: int | None = None
        self._own_http = http is None
        self._gamma_http = http or httpx.AsyncClient(verify=shared_tls(), timeout=timeout_secs)
        self._gamma_url = gamma_url
        self._gamma: GammaClient | None = None

    @classmethod
    def from_config(
        cls, config: AppConfig, *, http: httpx.AsyncClient | None = None
    ) -> PolymarketVenue:
        """The venue for ``config``: its URLs, chain, wallet settings, state_dir and the key
        from the systemd credential or key file (ConfigError naming where it looked)."""
        pm = config.polymarket
        return cls(
            clob_url=pm.clob_url,
            gamma_url=pm.gamma_url,
            key=require_wallet_key(pm),
            state_dir=config.state_dir,
            chain_id=pm.chain_id,
            signature_type=pm.signature_type,
            funder=pm.funder,
            http=http,
        )

    async def aclose(self) -> None:
        """Close the HTTP connection pools."""
        await asyncio.to_thread(self._http.close)
        if self._own_http:
            await self._gamma_http.aclose()

    # --- plumbing -------------------------------------------------------------------------

    async def _l2(self) -> None:
        """Make sure the client holds L2 credentials (derived once, cached in state_dir)."""
        if self._client.creds is not None:
            return
        async with self._creds_lock:
            if self._client.creds is None:
                creds = await self._call(
                    "derive api key", self._creds_cache.get_or_derive, self._derive
                )
                self._client.set_api_creds(client_creds(creds))

    def _derive(self) -> ApiCredentials:
        c = self._client.create_or_derive_api_key()
        return ApiCredentials(c.api_key, c.api_secret, c.api_passphrase)

    async def refresh_credentials(self) -> None:
        """Forget the cached L2 credentials and derive them again (after INVALID_API_KEY)."""
        async with self._creds_lock:
            await asyncio.to_thread(self._creds_cache.forget)
            self._client.set_api_creds(None)
        await self._l2()

    def _gamma_client(self) -> GammaClient:
        if self._gamma is None:
            self._gamma = GammaClient(self._gamma_url, self._gamma_http)
        return self._gamma

    def invalidate(self, token_id: str) -> None:
        """Forget the tick size, neg-risk flag and fees of ``token_id`` (tick_size_change)."""
        self.tokens.invalidate(token_id)

    def set_tick_size(self, token_id: str, tick: Decimal) -> None:
        """Record a tick size announced by the market channel (``tick_size_change``)."""
        self.tokens.set_tick(token_id, tick)

    # --- market data ----------------------------------------------------------------------

    async def tick_size(self, token_id: str) -> Decimal:
        """The token's tick size (cached until invalidated)."""
        text = await self._call("tick-size", self._client.get_tick_size, token_id)
        return Decimal(text)

    async def neg_risk(self, token_id: str) -> bool:
        """Whether ``token_id`` trades on the neg-risk exchange (cached until invalidated)."""
        return await self._call("neg-risk", self._client.get_neg_risk, token_id)

    # --- execution ------------------------------------------------------------------------

    async def _order_version(self) -> int:
        if self._version is None:
            version: int = await self._call("version", self._client.get_version)
            self._version = version
        return self._version

    async def _worst_price(self, req: OrderRequest) -> Decimal:
        # A market order without a limit: the worst level it would reach on the current book.
        book = await self.book(req.token_id)
        walk = (
            book.walk(req.side, usd=req.amount_usd)
            if req.amount_usd is not None
            else book.walk(req.side, shares=req.size)
        )
        levels = walk.levels or book.side_levels(req.side)[:1]
        if not levels:
            raise ValueError(f"order {req.client_order_id}: no liquidity to price a market order")
        return levels[-1].price

    async def prepare(self, req: OrderRequest) -> PreparedOrder:
        """Build, sign and hash ``req``; reads tick/neg-risk/version if unknown, posts nothing.

        ValueError if the price or size is off the venue's grids (nothing is rounded here).
        """
        if req.tick_size is not None and self.tokens.tick(req.token_id) is None:
            # The caller knows the tick (from the market): no /tick-size round trip. If it is
            # stale the venue refuses the order and the cache is dropped again.
            self.tokens.set_tick(req.token_id, req.tick_size)
        tick = req.tick_size if req.tick_size is not None else await self.tick_size(req.token_id)
        neg_risk = req.neg_risk if req.neg_risk is not None else await self.neg_risk(req.token_id)
        version = await self._order_version()
        price = req.price if req.price is not None else await self._worst_price(req)
        check_request(req, tick, price)
        signed = await self._call(
            "sign",
            lambda: build_signed(
                self._client, req, price=price, tick=tick, neg_risk=neg_risk, version=version
            ),
        )
        order_id, payload = payload_for(
            signed, req, chain_id=self.chain_id, tick=tick, neg_risk=neg_risk, version=version
        )
        return PreparedOrder(request=req, venue_order_id=order_id, payload=payload)

    async def post(self, order: PreparedOrder) -> SubmitResult:
        """POST /order once; see the module doc for what each failure becomes."""
        await self._l2()
        p = order.payload
        if not isinstance(p, ClobPayload):
            raise TypeError("PolymarketVenue.post needs an order from PolymarketVenue.prepare")
        oid = order.venue_order_id
        try:
            raw = await asyncio.to_thread(
                self._client.post_order, p.signed, p.order_type, p.post_only
            )
        except ClobHttpError as exc:
            return self._refused(order, exc)
        except ClobTransportError as exc:
            if exc.may_have_been_sent:
                raise AmbiguousSubmit(
                    f"order {oid}: {exc}", venue_order_id=oid, cause=exc.kind
                ) from None
            raise VenueUnavailable(f"order {oid}: {exc}", kind=exc.kind) from None
        try:
            result = parse_post_order_response(raw, order.request)
        except DataError as exc:
            raise AmbiguousSubmit(
                f"order {oid}: unreadable answer: {exc}", venue_order_id=oid, cause="data"
            ) from None
        return self._checked(order, result)

    def _refused(self, order: PreparedOrder, exc: ClobHttpError) -> SubmitResult:
        oid = order.venue_order_id
        if exc.status in (425, 429):
            raise unavailable(exc, f"order {oid}") from None
        reason = reason_from_error(exc.status, exc.body)
        if exc.status >= 500 and reason is not ReasonCode.POST_ONLY_PERIOD:
            # The request reached the venue and failed there: the order may exist.
            raise AmbiguousSubmit(
                f"order {oid}: {exc}", venue_order_id=oid, cause=f"http {exc.status}"
            ) from None
        result = SubmitResult(False, OrderStatus.REJECTED, oid, reason, exc.error_message)
        return self._checked(order, result)

    def _checked(self, order: PreparedOrder, result: SubmitResult) -> SubmitResult:
        token = order.request.token_id
        if result.reason is ReasonCode.INVALID_ORDER_MIN_TICK_SIZE:
            log.info("tick size refusal on %s: forgetting its cached tick", token[:24])
            self.tokens.invalidate(token)
        if result.reason is ReasonCode.INVALID_ORDER and "version" in result.message:
            self._version = None  # order_version_mismatch: read /version again next time
        if result.venue_order_id and result.venue_order_id != order.venue_order_id:
            log.error(
                "venue reported order id %s for our hash %s",
                result.venue_order_id,
                order.venue_order_id,
            )
        if result.venue_order_id is None:
            return dataclasses.replace(result, venue_order_id=order.venue_order_id)
        return result

    async def cancel(self, venue_order_id: str) -> bool:
        """DELETE /order; True if the venue cancelled it."""
        await self._l2()
        outcome = await self._call("cancel", reads.cancel, self._client, venue_order_id)
        return venue_order_id in outcome.canceled

    async def cancel_all(self) -> list[str]:
        """DELETE /cancel-all; the ids cancelled."""
        await self._l2()
        outcome = await self._call("cancel-all", reads.cancel_all, self._client)
        return list(outcome.canceled)

    async def order(self, venue_order_id: str) -> VenueOrder | None:
        """GET /data/order/{id}; None if the venue does not know it."""
        await self._l2()
        return await self._call("order", reads.order, self._client, venue_order_id)

    async def open_orders(self) -> list[VenueOrder]:
        """GET /data/orders, every page."""
        await self._l2()
        return await self._call("open orders", reads.open_orders, self._client)

    async def fills_since(self, since: datetime) -> list[Fill]:
        """Our fills (taker and maker) from /data/trades at or after ``since``, oldest first."""
        await self._l2()
        trades = await self._call("trades", reads.trades_since, self._client, since)
        for token in reads.trade_tokens(trades):
            await self.fee_schedule(token)
        return reads.fills_from_trades(
            trades,
            since=since,
            fees=self._fees_or_free,
            owner=self._client.creds.api_key,
            maker_address=self.funder,
        )

    def _fees_or_free(self, token_id: str) -> FeeSchedule:
        return self.tokens.fees(token_id) or FeeSchedule()

    async def balance_usd(self) -> Decimal:
        """Free collateral from /balance-allowance (COLLATERAL)."""
        await self._l2()
        return await self._call("balance", reads.balance_usd, self._client)


def _conforms(venue: PolymarketVenue) -> Venue:
    # Never called: makes mypy check PolymarketVenue against the Venue protocol.
    return venue
