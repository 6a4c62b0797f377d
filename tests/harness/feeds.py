"""Shared pieces of the feed integration tests: a local HTTP server, waits, log lines."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and answers with ``reply``."""

    def reply(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        """Send ``status``, ``headers`` and ``body`` (with its Content-Length)."""
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_http(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threaded HTTP server on 127.0.0.1 answering with ``handler``; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def wait_until(cond: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll ``cond`` until it holds; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def log_lines(caplog: pytest.LogCaptureFixture, level: int, needle: str = "") -> list[str]:
    """The lines logged so far at ``level`` that contain ``needle``."""
    return [
        r.getMessage() for r in caplog.records if r.levelno == level and needle in r.getMessage()
    ]


def errors(caplog: pytest.LogCaptureFixture, needle: str = "") -> list[str]:
    """The error lines logged so far that contain ``needle``."""
    return log_lines(caplog, logging.ERROR, needle)


def debug_lines(caplog: pytest.LogCaptureFixture, needle: str) -> list[str]:
    """The debug lines logged so far that contain ``needle``."""
    return log_lines(caplog, logging.DEBUG, needle)
