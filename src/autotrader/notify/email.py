"""The e-mail channel: multipart (plain text + HTML) messages sent with aiosmtplib.

``security`` picks plain SMTP, STARTTLS or implicit TLS; certificates are verified (``ca_file``
adds a private CA or a self-signed server certificate). With ``username`` set the client logs
in with the password read, at each send, from the systemd credential ``password_credential``
or the 0600 ``password_file``: a rotated password needs no restart, and the password is held
only for the duration of the call — never logged, stored or put in an error message.

Every failure becomes a ``TemporaryError`` with one line saying what went wrong, so the
dispatcher keeps the message queued and retries it with backoff.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING

from autotrader.config_notify import EmailConfig
from autotrader.errors import TemporaryError
from autotrader.fsutil import blank_credential
from autotrader.notify.render import Rendered

if TYPE_CHECKING:
    import aiosmtplib


def build_message(
    cfg: EmailConfig, rendered: Rendered, *, delivery_id: int, date: datetime
) -> EmailMessage:
    """The MIME message: ``multipart/alternative`` with the text part first, HTML second."""
    msg = EmailMessage()
    msg["From"] = cfg.from_
    msg["To"] = ", ".join(cfg.to)
    msg["Subject"] = rendered.subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = make_msgid("autotrader", domain=cfg.from_.rpartition("@")[2])
    # Auto-Submitted stops vacation auto-replies; the delivery id lets a reader spot a resend.
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Autotrader-Delivery"] = str(delivery_id)
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    return msg


def _where(cfg: EmailConfig) -> str:
    return f"SMTP {cfg.smtp_host}:{cfg.smtp_port}"


def read_password(cfg: EmailConfig, environ: Mapping[str, str] | None = None) -> str | None:
    """The SMTP password (None without ``username``); TemporaryError saying where it looked.

    A missing or too-open password file is a retryable failure, not a crash: the operator can
    fix the file and the queued messages go out on the next attempt.
    """
    if cfg.username is None:
        return None
    env = os.environ if environ is None else environ
    directory = env.get("CREDENTIALS_DIRECTORY")
    cred = Path(directory) / cfg.password_credential if directory else None
    # A blank credential is the packaged unit's empty fallback: not given.
    if cred is not None and cred.is_file() and not blank_credential(cred):
        return _read(cred)
    if cfg.password_file is not None:
        _check_private(cfg.password_file)
        return _read(cfg.password_file)
    looked = (
        f"$CREDENTIALS_DIRECTORY/{cfg.password_credential}"
        if directory
        else f"credential {cfg.password_credential!r} (CREDENTIALS_DIRECTORY is not set)"
    )
    raise TemporaryError(
        f"{_where(cfg)}: login as {cfg.username} needs a password; looked for {looked} and "
        "notifications.email.password_file (not set)"
    )


def _read(path: Path) -> str:
    try:
        # Only the line ending is stripped: spaces may be part of a password.
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise TemporaryError(f"cannot read the SMTP password file {path}: {reason}") from None


def _check_private(path: Path) -> None:
    try:
        st = path.stat()
    except OSError as exc:
        raise TemporaryError(f"SMTP password file {path}: {exc.strerror}") from None
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        mode = stat.S_IMODE(st.st_mode)
        raise TemporaryError(
            f"SMTP password file {path} must be a 0600 file of this user (mode {mode:04o}, "
            f"uid {st.st_uid}); fix: chmod 600 {path}"
        )


async def send_email(
    cfg: EmailConfig, message: EmailMessage, *, environ: Mapping[str, str] | None = None
) -> None:
    """Send ``message``; TemporaryError (one line, no secret) when it was not accepted."""
    import aiosmtplib  # only when an e-mail goes out (see dispatcher._send)

    password = read_password(cfg, environ)
    try:
        await aiosmtplib.send(
            message,
            hostname=cfg.smtp_host,
            port=cfg.smtp_port,
            use_tls=cfg.security == "tls",
            # False, not None: "none" must not upgrade silently, "starttls" must not downgrade.
            start_tls=cfg.security == "starttls",
            cert_bundle=str(cfg.ca_file) if cfg.ca_file is not None else None,
            username=cfg.username,
            password=password,
            timeout=cfg.timeout_secs,
        )
    except aiosmtplib.SMTPException as exc:
        raise TemporaryError(f"{_where(cfg)}: {_describe(exc)}") from None
    except (OSError, TimeoutError) as exc:
        raise TemporaryError(f"{_where(cfg)}: {type(exc).__name__}: {exc}") from None


def _describe(exc: aiosmtplib.SMTPException) -> str:
    import aiosmtplib  # loaded by send_email already

    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return "recipients refused: " + "; ".join(_describe(r) for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{type(exc).__name__} {exc.code} {' '.join(exc.message.split())}"
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"
