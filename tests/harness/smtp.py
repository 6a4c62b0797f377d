"""A real SMTP server on loopback for the notification tests (aiosmtpd, via notify/sink.py).

* ``smtp_sink(port=0)``: a sink on a free port (optionally STARTTLS / implicit TLS / login
  required), stopped on exit; ``smtp_sink(port)`` brings a stopped one back on the same port.
* ``self_signed(tmp)``: a certificate for 127.0.0.1 made with the ``openssl`` tool (the
  ``cryptography`` package is not installed), and the server's SSL context for it.
* ``Logins``: an aiosmtpd authenticator that accepts one user/password and records every try.
* ``parts(msg)``: the text and HTML parts of a parsed multipart/alternative message.

Messages are stored before the server answers 250, so once the sender's call returned the
message is already in ``sink.messages()``: tests need no waiting.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from autotrader.notify.sink import SmtpSink, start_smtp_sink


@dataclass(frozen=True)
class TlsFiles:
    """A self-signed certificate for 127.0.0.1 / localhost and its key."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        """The SSL context a server presents this certificate with."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx


def self_signed(folder: Path) -> TlsFiles:
    """Make a P-256 self-signed certificate (1 day) with openssl; skips the test without it."""
    import pytest

    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
            "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return TlsFiles(cert, key)


@dataclass
class Logins:
    """An aiosmtpd authenticator accepting ``user`` / ``password``; records each attempt."""

    user: str
    password: str
    tries: list[tuple[str, str]] = field(default_factory=list)

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.tries.append((login, password))
        return AuthResult(success=(login, password) == (self.user, self.password))


@contextmanager
def smtp_sink(port: int = 0, **kwargs: Any) -> Iterator[SmtpSink]:
    """A running sink on 127.0.0.1 (see ``start_smtp_sink`` for the options)."""
    sink = start_smtp_sink("127.0.0.1", port, **kwargs)
    try:
        yield sink
    finally:
        sink.stop()


def parts(msg: EmailMessage) -> tuple[str, str]:
    """(plain text, HTML) of a multipart/alternative message; AssertionError otherwise."""
    assert msg.get_content_type() == "multipart/alternative", msg.get_content_type()
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())
