"""The webhook channel against a real local HTTP server: JSON body, retries after errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa

from harness.dispatch import NotifyRig, email_settings, notify_config
from harness.smtp import smtp_sink
from harness.store import migrated_engine


class Hook(ThreadingHTTPServer):
    """Records JSON POSTs; answers each with the next queued status (200 when none)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        """Where to POST (with a secret-looking token in the path)."""
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/T0KEN-abc"


class _Handler(BaseHTTPRequestHandler):
    server: Hook

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            status = self.server.statuses.pop(0) if self.server.statuses else 200
            if status == 200:
                assert self.headers["Content-Type"] == "application/json"
                self.server.bodies.append(json.loads(body))
                self.server.paths.append(self.path)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep the test output clean


@pytest.fixture
def hook() -> Iterator[Hook]:
    """A running webhook receiver."""
    server = Hook()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """The test database, migrated."""
    yield from migrated_engine(database_url)


def test_webhook_posts_json_and_retries_after_errors(engine: sa.Engine, hook: Hook) -> None:
    hook.statuses = [503, 500]
    url = engine.url.render_as_string(hide_password=False)
    with smtp_sink() as sink:
        settings = {
            "email": email_settings(sink.port),
            "webhook": {"url": hook.url, "timeout_secs": 5},
            "retry": {"initial": "5s"},
            "events": {"trade_executed": {"email": "off", "webhook": "immediate"}},
        }
        rig = NotifyRig(notify_config(url, settings), engine, datetime(2026, 6, 1, tzinfo=UTC))
        event_id = rig.record(
            "trade_executed", "btc-15m", summary="btc-15m bought Up", usd="10.00", shares="20"
        )
        rig.tick()
        [d] = rig.all()
        assert (d.channel, d.status, d.last_error) == (
            "webhook",
            "retrying",
            f"webhook http://127.0.0.1:{hook.server_address[1]}/…: HTTP 503",
        )  # the token in the path is never written down
        assert rig.dispatcher.status_text() == "1 webhook call queued (1 retrying)"
        rig.advance(5)
        rig.tick()
        assert rig.all()[0].attempts == 2 and not hook.bodies
        rig.advance(10)  # backoff doubled
        rig.tick()
        rig.close()
    assert sink.count() == 0  # e-mail was off for this type
    [body] = hook.bodies
    assert hook.paths == ["/hooks/T0KEN-abc"]
    assert body["kind"] == "event" and body["text"] == "btc-15m bought Up"
    [event] = body["events"]
    assert event["id"] == event_id and event["type"] == "trade_executed"
    assert event["payload"] == {"summary": "btc-15m bought Up", "usd": "10.00", "shares": "20"}
    assert rig.dispatcher.status_text() == "no notifications queued"
