"""HTTP under py-clob-client-v2, with the status, body and headers the venue layer needs.

Why not the client's own transport: ``py_clob_client_v2.http_helpers`` sends every request
through one module-global ``httpx.Client`` and turns failures into ``PolyApiException``, which
keeps the status and body but drops the response headers (no Retry-After on a 429) and folds
every transport failure — refused connection, read timeout, a connection dropped after the
request went out — into ``status_code=None, "Request exception!"``. Those are exactly the cases
that must be told apart: a POST /order that timed out after sending may have placed the order.

So :class:`~autotrader.venue.polymarket.clob.PolymarketVenue` uses a ``ClobClient`` subclass whose
``_get``/``_post``/``_delete`` (the three methods every REST call of the client goes through)
delegate to :class:`ClobHttp` here. The client still builds the URLs, bodies and L1/L2 headers;
this module only carries them, with our own timeouts, a per-venue connection pool (no shared
global) and an injectable transport for tests. It never retries.
"""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any, Literal

import httpx

from autotrader.errors import DataError
from autotrader.jsonbound import loads_bounded
from autotrader.tls import shared_tls

TransportKind = Literal["timeout", "connection"]

# Failures that happen before any byte of the request is written: safe to call "not sent".
_NOT_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)


class ClobHttpError(Exception):
    """A non-2xx answer: ``status``, the decoded ``body`` and Retry-After (seconds), if any."""

    def __init__(
        self, status: int, body: Any, *, retry_after_secs: float | None, method: str, path: str
    ) -> None:
        self.status = status
        self.body = body
        self.retry_after_secs = retry_after_secs
        self.method = method
        self.path = path
        super().__init__(f"{method} {path}: HTTP {status}: {self.error_message}")

    @property
    def error_message(self) -> str:
        """The venue's ``{"error": …}`` text, else the raw body (truncated)."""
        if isinstance(self.body, dict):
            err = self.body.get("error") or self.body.get("errorMsg") or self.body.get("message")
            if err:
                return str(err)
        text = self.body if isinstance(self.body, str) else json.dumps(self.body)
        return text[:300]


class ClobTransportError(Exception):
    """No HTTP answer. ``may_have_been_sent``: the request (or part of it) left this host."""

    def __init__(self, message: str, *, kind: TransportKind, may_have_been_sent: bool) -> None:
        super().__init__(message)
        self.kind: TransportKind = kind
        self.may_have_been_sent = may_have_been_sent


def retry_after_secs(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _decode(resp: httpx.Response) -> Any:
    try:
        return loads_bounded(resp.content, f"{resp.request.method} {resp.request.url.path}")
    except DataError:
        return resp.text


class ClobHttp:
    """One connection pool for one venue; requests return decoded JSON or raise the above."""

    def __init__(
        self,
        *,
        timeout_secs: float = 10.0,
        connect_timeout_secs: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        user_agent: str = "autotrader (py_clob_client_v2)",
    ) -> None:
        self._client = httpx.Client(
            verify=shared_tls(),
            timeout=httpx.Timeout(timeout_secs, connect=connect_timeout_secs),
            transport=transport,
            headers={"User-Agent": user_agent, "Accept": "*/*"},
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        data: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """Send one request; the decoded body of a 2xx, else ClobHttpError/ClobTransportError.

        A ``str`` body is sent byte-for-byte: the L2 HMAC was computed over exactly that text.
        """
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        content = data.encode("utf-8") if isinstance(data, str) else None
        body_json = None if isinstance(data, str) or data is None else data
        path = httpx.URL(url).path
        try:
            resp = self._client.request(
                method, url, headers=hdrs, content=content, json=body_json, params=params
            )
        except httpx.TimeoutException as exc:
            raise ClobTransportError(
                f"{method} {path}: timed out ({type(exc).__name__})",
                kind="timeout",
                may_have_been_sent=not isinstance(exc, _NOT_SENT),
            ) from None
        except httpx.RequestError as exc:
            raise ClobTransportError(
                f"{method} {path}: {type(exc).__name__}: {exc}",
                kind="connection",
                may_have_been_sent=not isinstance(exc, _NOT_SENT),
            ) from None
        if not 200 <= resp.status_code < 300:
            raise ClobHttpError(
                resp.status_code,
                _decode(resp),
                retry_after_secs=retry_after_secs(resp.headers.get("Retry-After")),
                method=method,
                path=path,
            )
        return _decode(resp)
