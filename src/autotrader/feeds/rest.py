"""HTTP helpers shared by the REST feeds: one GET, and a poll loop with backoff."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import httpx

from autotrader.errors import DataError, TemporaryError
from autotrader.feeds.backoff import Backoff
from autotrader.feeds.base import BaseFeed, RemoteFeed, Tick
from autotrader.feeds.wire import decode_json, one_line
from autotrader.tls import shared_tls

T = TypeVar("T")

USER_AGENT = "autotrader-feeds/0.1"
# Statuses after which the source may tell us how long to back off.
_THROTTLED = {418, 429, 503}


def new_client(base_url: str, timeout_secs: float) -> httpx.AsyncClient:
    """An HTTP client for one source: its base URL, a total timeout, our User-Agent."""
    return httpx.AsyncClient(
        verify=shared_tls(),
        base_url=base_url,
        timeout=timeout_secs,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
    )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        secs = float(value)
    except ValueError:
        return None
    return secs if 0 < secs < 3600 else None


async def get_json(
    client: httpx.AsyncClient, path: str, params: Mapping[str, str | int] | None = None
) -> Any:
    """GET ``path`` and decode its JSON body.

    Transport failures and non-2xx statuses raise ``TemporaryError`` (with the source's
    Retry-After hint when throttled); a body that is not JSON raises ``DataError``.
    """
    where = f"GET {str(client.base_url).rstrip('/')}{path}"
    try:
        response = await client.get(path, params=params)
    except httpx.HTTPError as exc:
        detail = one_line(str(exc) or type(exc).__name__, 160)
        raise TemporaryError(f"{where}: {detail}") from None
    if response.status_code // 100 != 2:
        body = one_line(response.text, 120)
        retry = _retry_after(response) if response.status_code in _THROTTLED else None
        raise TemporaryError(
            f"{where}: HTTP {response.status_code} {body}".rstrip(), retry_after_secs=retry
        )
    # The caller knows where the body came from and says so when it reports a DataError.
    return decode_json(response.content, "response body")


async def fetch_parsed(
    base_url: str,
    timeout_secs: float,
    path: str,
    params: Mapping[str, str | int],
    parse: Callable[[Any], T],
) -> T:
    """One GET with a fresh client, parsed; a ``DataError`` names the URL it came from."""
    try:
        async with new_client(base_url, timeout_secs) as client:
            return parse(await get_json(client, path, params))
    except DataError as exc:
        raise DataError(f"GET {base_url.rstrip('/')}{path}: {exc}") from None


async def poll_loop(
    feed: BaseFeed,
    fetch: Callable[[], Awaitable[Tick]],
    *,
    interval_secs: float,
    backoff: Backoff,
    where: str,
    active: Callable[[], bool] = lambda: True,
) -> None:
    """Call ``fetch`` every ``interval_secs`` (real time) while ``active()``, publishing ticks.

    A failure is logged as one line and retried after a backoff delay (at least the delay
    the source asked for), so a down or throttling source is never hammered.
    """
    while True:
        if not active():
            await asyncio.sleep(interval_secs)
            continue
        try:
            tick = await fetch()
        except TemporaryError as exc:
            feed.fail("request failed", exc)
            await asyncio.sleep(max(backoff.next_delay(), exc.retry_after_secs or 0.0))
            continue
        except DataError as exc:
            feed.reject(where, exc)
            await asyncio.sleep(backoff.next_delay())
            continue
        backoff.reset()
        feed.publish(tick)
        await asyncio.sleep(interval_secs)


async def poll_json(
    feed: RemoteFeed,
    path: str,
    parse: Callable[[Any], Tick],
    *,
    interval_secs: float,
    params: Mapping[str, str | int] | None = None,
    active: Callable[[], bool] = lambda: True,
) -> None:
    """Poll ``GET <feed.url><path>`` with one client and publish what ``parse`` makes of it.

    Runs ``poll_loop`` with the feed's request timeout; a failure backs off from
    ``interval_secs`` up to the feed's backoff cap.
    """
    async with new_client(feed.url, feed.request_timeout_secs) as client:

        async def fetch() -> Tick:
            return parse(await get_json(client, path, params))

        await poll_loop(
            feed,
            fetch,
            interval_secs=interval_secs,
            backoff=Backoff(interval_secs, feed.max_backoff_secs),
            where=f"{feed.url}{path}",
            active=active,
        )
