"""The py-clob-client-v2 ``ClobClient`` as the live venue uses it, and the per-token cache.

``VenueClobClient`` changes four things and nothing else:

* ``_get``/``_post``/``_delete`` go through :class:`ClobHttp` (status, body, Retry-After and
  "may the request have been sent" survive; see ``clob_http``'s module doc).
* ``get_tick_size``/``get_neg_risk`` read and fill the venue's :class:`TokenCache`, so the tick
  the client validates a price against is the one the venue invalidates on a tick-size refusal
  or a ``tick_size_change`` (the client's own caches are private and never expire).
* ``get_version`` lets transport errors through (the client's returns 2 on *any* failure).
* ``_resolve_transactions_hashes`` is a no-op: after a match the client would poll /data/trades
  for up to 30 s for settlement hashes inside ``post_order``; we read fills from /data/trades
  ourselves and must not hold a post open that long.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from py_clob_client_v2.client import ClobClient  # type: ignore[import-untyped, unused-ignore]
from py_clob_client_v2.clob_types import ApiCreds  # type: ignore[import-untyped, unused-ignore]

from autotrader.domain.fees import FeeSchedule
from autotrader.errors import DataError
from autotrader.venue.errors import VenueRefused, VenueUnavailable
from autotrader.venue.polymarket.clob_http import ClobHttp, ClobHttpError, ClobTransportError
from autotrader.venue.polymarket.clob_orders import tick_text
from autotrader.venue.polymarket.credentials import ApiCredentials, WalletKey
from autotrader.venue.polymarket.parsing import parse_neg_risk, parse_tick_size
from autotrader.venue.polymarket.reasons import reason_from_error

DEFAULT_ORDER_VERSION = 2


class TokenCache:
    """Tick size, neg-risk flag and fee schedule per token id; thread-safe (the client reads it
    from worker threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tick: dict[str, Decimal] = {}
        self._neg_risk: dict[str, bool] = {}
        self._fees: dict[str, FeeSchedule] = {}

    def tick(self, token_id: str) -> Decimal | None:
        """The cached tick size, None if unknown."""
        with self._lock:
            return self._tick.get(token_id)

    def set_tick(self, token_id: str, tick: Decimal) -> None:
        """Remember the tick size of ``token_id``."""
        with self._lock:
            self._tick[token_id] = tick

    def neg_risk(self, token_id: str) -> bool | None:
        """The cached neg-risk flag, None if unknown."""
        with self._lock:
            return self._neg_risk.get(token_id)

    def set_neg_risk(self, token_id: str, neg_risk: bool) -> None:
        """Remember whether ``token_id`` trades on the neg-risk exchange."""
        with self._lock:
            self._neg_risk[token_id] = neg_risk

    def fees(self, token_id: str) -> FeeSchedule | None:
        """The cached fee schedule, None if unknown."""
        with self._lock:
            return self._fees.get(token_id)

    def set_fees(self, token_id: str, fees: FeeSchedule) -> None:
        """Remember the fee schedule of ``token_id``."""
        with self._lock:
            self._fees[token_id] = fees

    def invalidate(self, token_id: str) -> None:
        """Forget everything about ``token_id``; the next use reads it from the venue."""
        with self._lock:
            self._tick.pop(token_id, None)
            self._neg_risk.pop(token_id, None)
            self._fees.pop(token_id, None)


def client_creds(creds: ApiCredentials) -> Any:
    """Our credentials as the client's ``ApiCreds``."""
    return ApiCreds(api_key=creds.api_key, api_secret=creds.secret, api_passphrase=creds.passphrase)


def unavailable(exc: ClobHttpError | ClobTransportError, what: str) -> Exception:
    """The venue-layer exception for a failed read (or a refused non-order call)."""
    if isinstance(exc, ClobTransportError):
        return VenueUnavailable(f"{what}: {exc}", kind=exc.kind)
    if exc.status == 425:
        return VenueUnavailable(
            f"{what}: engine restarting (425)", kind="engine_restart", status=425
        )
    if exc.status == 429:
        return VenueUnavailable(
            f"{what}: throttled (429)",
            kind="throttled",
            status=429,
            retry_after_secs=exc.retry_after_secs,
        )
    if exc.status >= 500:
        return VenueUnavailable(f"{what}: {exc}", kind="server", status=exc.status)
    reason = reason_from_error(exc.status, exc.body)
    return VenueRefused(f"{what}: {exc.error_message}", reason=reason, status=exc.status)


class VenueClobClient(ClobClient):  # type: ignore[misc]
    """``ClobClient`` on our transport and token cache (see module doc). Blocking."""

    def __init__(
        self,
        host: str,
        *,
        chain_id: int,
        key: WalletKey,
        http: ClobHttp,
        tokens: TokenCache,
        signature_type: int = 0,
        funder: str | None = None,
    ) -> None:
        super().__init__(
            host,
            chain_id=chain_id,
            key=key.reveal(),
            signature_type=signature_type,
            funder=funder,
            use_server_time=False,
            retry_on_error=False,
        )
        self._http = http
        self._tokens = tokens

    def _get(self, endpoint: str, headers: Any = None, params: Any = None) -> Any:
        return self._http.request("GET", endpoint, headers=headers, params=params)

    def _post(
        self, endpoint: str, headers: Any = None, data: Any = None, params: Any = None
    ) -> Any:
        return self._http.request("POST", endpoint, headers=headers, data=data, params=params)

    def _delete(
        self, endpoint: str, headers: Any = None, data: Any = None, params: Any = None
    ) -> Any:
        return self._http.request("DELETE", endpoint, headers=headers, data=data, params=params)

    def get_tick_size(self, token_id: str) -> str:
        """The token's tick from the cache, else GET /tick-size (cached)."""
        tick = self._tokens.tick(token_id)
        if tick is None:
            raw = self._get(f"{self.host}/tick-size", params={"token_id": token_id})
            tick = parse_tick_size(raw)
            self._tokens.set_tick(token_id, tick)
        return tick_text(tick)

    def get_neg_risk(self, token_id: str) -> bool:
        """Whether the token is neg-risk, from the cache, else GET /neg-risk (cached)."""
        neg_risk = self._tokens.neg_risk(token_id)
        if neg_risk is None:
            raw = self._get(f"{self.host}/neg-risk", params={"token_id": token_id})
            neg_risk = parse_neg_risk(raw)
            self._tokens.set_neg_risk(token_id, neg_risk)
        return neg_risk

    def get_version(self) -> int:
        """The exchange version orders must be signed for (GET /version; 2 when absent)."""
        try:
            raw = self._get(f"{self.host}/version")
        except ClobHttpError as exc:
            if exc.status == 404:
                return DEFAULT_ORDER_VERSION
            raise
        version = raw.get("version") if isinstance(raw, dict) else None
        if version is None:
            return DEFAULT_ORDER_VERSION
        if isinstance(version, bool) or not isinstance(version, int) or version not in (1, 2):
            raise DataError(f"clob version: unsupported order version {version!r}")
        return version

    def _resolve_transactions_hashes(self, response: Any) -> Any:
        return response
