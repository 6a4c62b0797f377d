"""A WebSocket session loop shared by the streaming feeds: connect, read, reconnect with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from autotrader.errors import DataError
from autotrader.feeds.backoff import Backoff
from autotrader.feeds.base import RemoteFeed

log = logging.getLogger("autotrader.feeds")

#: Handles one received frame; returns True when it carried a usable price. A ``DataError``
#: it raises is logged by the loop against the socket's URL, and the frame is dropped.
FrameHandler = Callable[[str | bytes], bool]
OpenHandler = Callable[[ClientConnection], Awaitable[None]]


class _Silent(Exception):
    """The socket sent nothing for the idle timeout."""


async def _keepalive(ws: ClientConnection, text: str, interval_secs: float) -> None:
    # Some servers (Polymarket RTDS) want an application-level text PING besides the
    # protocol's ping frames; a send on a closing socket just ends this task.
    with contextlib.suppress(WebSocketException, OSError):
        while True:
            await asyncio.sleep(interval_secs)
            await ws.send(text)


async def _session(
    url: str,
    on_frame: FrameHandler,
    backoff: Backoff,
    *,
    on_open: OpenHandler | None,
    keepalive: tuple[str, float] | None,
    open_timeout_secs: float,
    idle_timeout_secs: float,
) -> None:
    # Closing must not hold up stop(): a short close handshake, then the socket is dropped.
    async with connect(
        url, open_timeout=open_timeout_secs, close_timeout=min(2.0, open_timeout_secs)
    ) as ws:
        if on_open is not None:
            await on_open(ws)
        pinger = asyncio.create_task(_keepalive(ws, *keepalive)) if keepalive else None
        try:
            while True:
                # A socket that stays silent is treated as dead, even if TCP says otherwise.
                try:
                    async with asyncio.timeout(idle_timeout_secs):
                        frame = await ws.recv()
                except TimeoutError:
                    raise _Silent(f"no message within {idle_timeout_secs:g}s") from None
                if on_frame(frame):
                    backoff.reset()
        finally:
            if pinger is not None:
                pinger.cancel()
                await asyncio.gather(pinger, return_exceptions=True)


def _rejecting(feed: RemoteFeed, url: str, on_frame: FrameHandler) -> FrameHandler:
    """``on_frame`` with its bad data logged by ``feed`` (as coming from ``url``) and dropped."""

    def handle(frame: str | bytes) -> bool:
        try:
            return on_frame(frame)
        except DataError as exc:
            feed.reject(url, exc)
            return False

    return handle


async def websocket_loop(
    feed: RemoteFeed,
    url: str,
    on_frame: FrameHandler,
    *,
    idle_timeout_secs: float,
    on_open: OpenHandler | None = None,
    keepalive: tuple[str, float] | None = None,
    on_down: Callable[[], None] | None = None,
) -> None:
    """Keep a WebSocket session to ``url`` alive until cancelled.

    Opening a connection may take the feed's request timeout. Each lost connection is logged
    as one line and retried after a backoff delay (from 1 s up to the feed's cap); the delay
    resets only after a frame with a usable price, so a server that accepts and then drops
    every connection is retried ever more slowly, never in a hot loop.
    """
    open_timeout_secs = feed.request_timeout_secs
    backoff = Backoff(min(1.0, feed.max_backoff_secs), feed.max_backoff_secs)
    handler = _rejecting(feed, url, on_frame)
    while True:
        feed.set_state("connecting")
        try:
            await _session(
                url,
                handler,
                backoff,
                on_open=on_open,
                keepalive=keepalive,
                open_timeout_secs=open_timeout_secs,
                idle_timeout_secs=idle_timeout_secs,
            )
        except TimeoutError:
            feed.fail(f"websocket {url}", f"no connection within {open_timeout_secs:g}s")
        except (_Silent, OSError, WebSocketException) as exc:
            feed.fail(f"websocket {url}", exc)
        finally:
            if on_down is not None:
                on_down()
        delay = backoff.next_delay()
        log.info("%s: reconnecting to %s in %.1fs", feed.name, url, delay)
        await asyncio.sleep(delay)
