"""A local SMTP sink that keeps what it receives: for the demo (and the tests' SMTP harness).

``start_smtp_sink(host, port)`` runs an aiosmtpd server in a background thread and returns a
``SmtpSink`` that counts and parses the messages. Port 0 picks a free port (``sink.port``).
``fail_next(n, reply)`` makes the next ``n`` messages be refused with ``reply`` (e.g. a 451),
to exercise the sender's retries. aiosmtpd is imported only when a sink starts.
"""

from __future__ import annotations

import email
import email.policy
import ssl
import threading
from collections import deque
from collections.abc import Awaitable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any


@dataclass(frozen=True)
class Received:
    """One accepted message: envelope sender, recipients and the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage


class _Inbox:
    """The aiosmtpd handler: stores messages, or refuses them while refusals are queued."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.received: list[Received] = []
        self.refusals: deque[str] = deque()
        self.refused = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.refusals:
                self.refused += 1
                return self.refusals.popleft()
            raw = envelope.original_content or envelope.content
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            self.received.append(
                Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), parsed)
            )
            self.lock.notify_all()
        return "250 OK"


class SmtpSink:
    """A running sink; ``stop()`` (or ``with``) shuts it down."""

    def __init__(self, controller: Any, inbox: _Inbox) -> None:
        self._controller = controller
        self._inbox = inbox
        self.host: str = controller.hostname
        self.port: int = controller.port

    def count(self) -> int:
        """How many messages were accepted."""
        with self._inbox.lock:
            return len(self._inbox.received)

    def messages(self) -> list[EmailMessage]:
        """The accepted messages, oldest first."""
        return [r.message for r in self.received()]

    def received(self) -> list[Received]:
        """The accepted messages with their envelopes."""
        with self._inbox.lock:
            return list(self._inbox.received)

    @property
    def refused(self) -> int:
        """How many messages were refused by ``fail_next``."""
        with self._inbox.lock:
            return self._inbox.refused

    def fail_next(self, n: int, reply: str = "451 4.3.0 try again later") -> None:
        """Refuse the next ``n`` messages (at DATA) with ``reply``."""
        with self._inbox.lock:
            self._inbox.refusals.extend([reply] * n)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Block until ``count`` messages arrived (TimeoutError after ``timeout`` seconds)."""
        with self._inbox.lock:
            if not self._inbox.lock.wait_for(lambda: len(self._inbox.received) >= count, timeout):
                raise TimeoutError(f"{len(self._inbox.received)} of {count} e-mails arrived")
            return [r.message for r in self._inbox.received]

    def stop(self) -> None:
        """Stop the server and free the port."""
        self._controller.stop()

    def __enter__(self) -> SmtpSink:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def start_smtp_sink(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    tls_context: ssl.SSLContext | None = None,
    implicit_tls: bool = False,
    **smtp_kwargs: Any,
) -> SmtpSink:
    """Start a sink on ``host:port`` (0: any free port).

    ``tls_context`` offers STARTTLS, or with ``implicit_tls`` wraps the whole connection;
    ``smtp_kwargs`` go to aiosmtpd's ``SMTP`` (``authenticator``, ``auth_required``, …).
    """
    from aiosmtpd.controller import Controller

    class _AnyPortController(Controller):
        def _create_server(self) -> Awaitable[Any]:
            async def create() -> Any:
                server = await self.loop.create_server(
                    self._factory_invoker, host=self.hostname, port=self.port, ssl=self.ssl_context
                )
                self.port = server.sockets[0].getsockname()[1]  # the one port 0 picked
                return server

            return create()

    inbox = _Inbox()
    kwargs = dict(smtp_kwargs)
    if tls_context is not None and not implicit_tls:
        kwargs["tls_context"] = tls_context
    controller = _AnyPortController(
        inbox,
        hostname=host,
        port=port,
        ssl_context=tls_context if implicit_tls else None,
        **kwargs,
    )
    controller.start()
    return SmtpSink(controller, inbox)
