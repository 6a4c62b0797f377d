"""E-mail delivery against a real SMTP server (aiosmtpd) on loopback, on SQLite and PostgreSQL.

The dispatcher runs on a fake clock; the server is real, so what is checked is what an
operator's mailbox would receive: headers, both MIME parts, escaping, retries after a refusal or
an outage, a restart in between, STARTTLS with a login whose password comes from a credential.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from autotrader.notify.email import read_password
from harness.dispatch import NotifyRig, email_settings, notify_config
from harness.smtp import Logins, parts, self_signed, smtp_sink
from harness.store import migrated_engine

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script> Will it rain?"


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """The test database, migrated."""
    yield from migrated_engine(database_url)


def _rig(engine: sa.Engine, notifications: dict[str, object]) -> NotifyRig:
    config = notify_config(str(engine.url.render_as_string(hide_password=False)), notifications)
    return NotifyRig(config, engine, START)


def test_immediate_email_has_headers_both_parts_and_escaped_text(engine: sa.Engine) -> None:
    with smtp_sink() as sink:
        rig = _rig(engine, {"email": email_settings(sink.port)})
        event_id = rig.record(
            "trade_executed",
            "politics",
            summary=f"politics bought Yes for $100 in {HOSTILE}",
            question=HOSTILE,
            outcome="Yes",
            side="BUY",
            shares="200",
            price="0.50",
            usd="100.00",
        )
        rig.tick()
        [received] = sink.received()
        rig.close()
    msg = received.message
    assert received.mail_from == "autotrader@example.org"
    assert received.rcpt_tos == ("ops@example.org", "desk@example.org")
    assert msg["From"] == "autotrader@example.org"
    assert msg["To"] == "ops@example.org, desk@example.org"
    assert msg["Subject"] == f"[autotrader] politics: politics bought Yes for $100 in {HOSTILE}"
    assert msg["Auto-Submitted"] == "auto-generated" and msg["Message-ID"]
    assert msg["Date"] == "Mon, 01 Jun 2026 12:00:00 +0000"  # the clock's time
    text, html = parts(msg)
    assert HOSTILE in text and "Outcome: Yes" in text and "Amount (USD): 100.00" in text
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Will it rain?" in html
    assert ">Yes<" in html and "100.00" in html
    [delivery] = rig.all()
    assert (delivery.status, delivery.attempts, delivery.kind) == ("sent", 1, "event")
    assert rig.deliveries.states_for([event_id])[event_id][0].status == "sent"


def test_refusals_are_retried_with_backoff_until_delivered(engine: sa.Engine) -> None:
    retry = {"initial": "30s", "max": "2m"}
    with smtp_sink() as sink:
        rig = _rig(engine, {"email": email_settings(sink.port), "retry": retry})
        sink.fail_next(3, "451 4.3.0 greylisted, try again later")
        rig.record("strategy_error", "btc-15m", summary="btc-15m paused after 3 failures")
        rig.tick()
        [d] = rig.all()
        assert (d.status, d.attempts, sink.count()) == ("retrying", 1, 0)
        assert d.last_error is not None and "451" in d.last_error and "greylisted" in d.last_error
        waits = []
        for _ in range(2):  # 30 s, then 60 s: exponential
            waits.append((d.next_attempt_at - rig.clock.now()).total_seconds())
            rig.advance(waits[-1] - 1)
            rig.tick()
            assert rig.all()[0].attempts == d.attempts  # not due yet: not tried
            rig.advance(1)
            rig.tick()
            d = rig.all()[0]
        waits.append((d.next_attempt_at - rig.clock.now()).total_seconds())
        assert waits == [30, 60, 120] and sink.refused == 3
        rig.advance(120)
        rig.tick()
        assert sink.count() == 1
        assert (
            sink.messages()[0]["Subject"] == "[autotrader] btc-15m: btc-15m paused after 3 failures"
        )
        rig.advance(3600)
        rig.tick()
        assert sink.count() == 1  # sent once, never again
        rig.close()
    assert (rig.all()[0].status, rig.all()[0].attempts) == ("sent", 4)


def test_server_down_then_back_after_a_restart_loses_nothing(engine: sa.Engine) -> None:
    with smtp_sink() as sink:
        port = sink.port
    rig = _rig(engine, {"email": email_settings(port), "retry": {"initial": "10s"}})
    for i in range(3):
        rig.record("trade_executed", "btc-15m", summary=f"trade {i}")
    rig.tick()  # connection refused: the first stays queued, the others wait their turn
    states = sorted((d.status, d.attempts) for d in rig.all())
    assert states == [("pending", 0), ("pending", 0), ("retrying", 1)]
    assert "SMTP 127.0.0.1" in (rig.all()[0].last_error or "")
    rig.restart()  # a new dispatcher on the same database: state is in the tables
    with smtp_sink(port) as sink:
        rig.advance(10)
        rig.tick()
        subjects = sorted(str(m["Subject"]) for m in sink.messages())
        rig.tick()
        assert sink.count() == 3
    rig.close()
    assert subjects == [f"[autotrader] btc-15m: trade {i}" for i in range(3)]
    assert all(d.status == "sent" for d in rig.all())


def test_starttls_with_login_from_a_credential(
    engine: sa.Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tls = self_signed(tmp_path)
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "smtp-password").write_text("s3cret pass\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    logins = Logins("mailer", "s3cret pass")
    settings = email_settings(0, security="starttls", username="mailer", ca_file=str(tls.cert))
    caplog.set_level(logging.DEBUG)
    with smtp_sink(
        tls_context=tls.server_context(),
        require_starttls=True,
        authenticator=logins,
        auth_required=True,
    ) as sink:
        settings["smtp_port"] = sink.port
        rig = _rig(engine, {"email": settings})
        rig.record("venue_degraded", None, summary="venue answered 425 for 90s")
        rig.tick()
        assert sink.count() == 1
        rig.close()
    assert logins.tries == [("mailer", "s3cret pass")]
    assert "s3cret" not in caplog.text


def test_untrusted_certificate_is_refused_and_retried(engine: sa.Engine, tmp_path: Path) -> None:
    tls = self_signed(tmp_path)
    with smtp_sink(tls_context=tls.server_context(), implicit_tls=True) as sink:
        # security: tls without ca_file: the self-signed certificate must not be accepted.
        rig = _rig(engine, {"email": email_settings(sink.port, security="tls")})
        rig.record("feed_stale", None, summary="BTC price feed stale")
        rig.tick()
        assert sink.count() == 0
        [d] = rig.all()
        assert d.status == "retrying" and "CERTIFICATE_VERIFY_FAILED" in (d.last_error or "")
        rig.close()


def test_password_file_must_be_private(tmp_path: Path) -> None:
    from autotrader.config_notify import EmailConfig
    from autotrader.errors import TemporaryError

    secret = tmp_path / "pw"
    secret.write_text("hunter2\n")
    secret.chmod(0o644)
    cfg = EmailConfig.model_validate(
        email_settings(25, username="u", password_file=str(secret), security="starttls")
    )
    with pytest.raises(TemporaryError, match="chmod 600") as err:
        read_password(cfg, {})
    assert "hunter2" not in str(err.value)
    secret.chmod(0o600)
    assert read_password(cfg, {}) == "hunter2"
    with pytest.raises(TemporaryError, match="CREDENTIALS_DIRECTORY is not set"):
        read_password(cfg.model_copy(update={"password_file": None}), {})


def test_blank_password_credential_counts_as_absent(tmp_path: Path) -> None:
    from autotrader.config_notify import EmailConfig
    from autotrader.errors import TemporaryError

    (tmp_path / "smtp-password").write_text("\n")  # the packaged unit's empty fallback
    cfg = EmailConfig.model_validate(email_settings(25, username="u", security="starttls"))
    env = {"CREDENTIALS_DIRECTORY": str(tmp_path)}
    with pytest.raises(TemporaryError, match="needs a password"):
        read_password(cfg, env)
    (tmp_path / "smtp-password").write_text("s3cret\n")
    assert read_password(cfg, env) == "s3cret"
