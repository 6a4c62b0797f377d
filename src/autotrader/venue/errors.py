"""Exceptions the venue layer raises. Order refusals are not exceptions: they are
``SubmitResult(accepted=False, reason=...)``. Nothing in the venue layer retries by itself;
these tell the caller what kind of retry is safe.
"""

from __future__ import annotations

from typing import Literal

from autotrader.domain.orders import ReasonCode
from autotrader.errors import OperationalError, TemporaryError

UnavailableKind = Literal["engine_restart", "throttled", "server", "timeout", "connection"]
_KINDS = ("engine_restart", "throttled", "server", "timeout", "connection")


class VenueUnavailable(TemporaryError):
    """The venue did not serve the request; retry later with backoff.

    ``kind``: ``engine_restart`` (HTTP 425, the weekly matching-engine restart; a post-only
    period follows), ``throttled`` (429; ``retry_after_secs`` from Retry-After), ``server``
    (5xx), ``timeout`` or ``connection`` (nothing was sent, or a read-only call timed out).
    A POST that may have reached the venue is ``AmbiguousSubmit`` instead.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: UnavailableKind,
        status: int | None = None,
        retry_after_secs: float | None = None,
    ) -> None:
        if kind not in _KINDS:
            raise ValueError(f"unknown VenueUnavailable kind {kind!r}; one of {_KINDS}")
        super().__init__(message, retry_after_secs=retry_after_secs)
        self.kind: UnavailableKind = kind
        self.status = status


class AmbiguousSubmit(TemporaryError):
    """The order POST may have reached the venue (timeout or dropped connection after sending).

    Polymarket has no idempotency key: before anything else the caller must look the order up
    by ``venue_order_id`` (its hash; open orders, then trades). A blind retry doubles it.
    """

    def __init__(self, message: str, *, venue_order_id: str, cause: str | None = None) -> None:
        super().__init__(message)
        self.venue_order_id = venue_order_id
        self.cause = cause


class VenueRefused(OperationalError):
    """A non-order call the venue refused for good (e.g. an unknown token id, bad API key)."""

    def __init__(self, message: str, *, reason: ReasonCode, status: int | None = None) -> None:
        super().__init__(message, reason_code=str(reason))
        self.reason = reason
        self.status = status
