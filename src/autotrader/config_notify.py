"""The ``notifications:`` section: channels, quiet hours and what each event type does."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time
from typing import Annotated, Literal, cast

from pydantic import AfterValidator, Field, model_validator

from autotrader.config_base import (
    ClockTime,
    ConfigPath,
    CredentialName,
    Frozen,
    HttpUrl,
    PositiveDuration,
    in_window,
    located_error,
)

EventType = Literal[
    "trade_executed",
    "trade_exited",
    "watchlist_updated",
    "strategy_error",
    "strategy_paused",
    "strategy_resumed",
    "daily_loss_limit_hit",
    "market_settled",
    "config_reload_failed",
    "feed_stale",
    "venue_degraded",
]
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]

Frequency = Literal["immediate", "hourly", "daily", "off"]
"""How a channel delivers an event: at once, in an hourly or daily digest, or not at all."""

DEFAULT_CRITICAL: tuple[EventType, ...] = (
    "strategy_error",
    "daily_loss_limit_hit",
    "venue_degraded",
)


def _email_address(value: str) -> str:
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", value):
        raise ValueError("expected an e-mail address like ops@example.com")
    return value


EmailAddress = Annotated[str, AfterValidator(_email_address)]


class EmailConfig(Frozen):
    """SMTP delivery.

    With ``username`` set the client logs in; the password comes from the systemd credential
    ``password_credential`` (``$CREDENTIALS_DIRECTORY/<name>``), else from ``password_file``, a
    file only this user may read (development). ``ca_file`` trusts a private CA or a
    self-signed server certificate for ``starttls`` / ``tls``.
    """

    smtp_host: Annotated[str, Field(min_length=1, max_length=253)]
    smtp_port: int = Field(25, ge=1, le=65535)
    from_: EmailAddress = Field(alias="from")
    to: tuple[EmailAddress, ...] = Field(min_length=1)
    security: Literal["none", "starttls", "tls"] = "none"
    username: Annotated[str, Field(min_length=1)] | None = None
    password_credential: CredentialName = "smtp-password"
    password_file: ConfigPath | None = None
    ca_file: ConfigPath | None = None
    timeout_secs: float = Field(30.0, gt=0)

    @model_validator(mode="after")
    def _tls_only_with_security(self) -> EmailConfig:
        if self.ca_file is not None and self.security == "none":
            raise located_error(
                "EmailConfig", [(("ca_file",), "needs security: starttls or tls", None)]
            )
        return self


class WebhookConfig(Frozen):
    """JSON POST of each notification (or digest) to ``url``."""

    url: HttpUrl
    timeout_secs: float = Field(10.0, gt=0)


class QuietHours(Frozen):
    """Hold non-critical notifications from ``start`` to ``end`` (local time; may cross 00:00)."""

    start: ClockTime
    end: ClockTime
    except_: tuple[EventType, ...] = Field((), alias="except")

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise located_error("QuietHours", [(("end",), "must differ from start", None)])
        return self

    def contains(self, now: time) -> bool:
        """Whether the local time of day ``now`` is inside quiet hours."""
        return in_window(now, self.start, self.end)


class RetryConfig(Frozen):
    """Backoff of failed deliveries: ``initial`` after the first failure, doubling up to ``max``.

    A delivery is never given up: it stays queued (in the database) until it goes out.
    """

    initial: PositiveDuration = 30.0
    max: PositiveDuration = 3600.0

    @model_validator(mode="after")
    def _ordered(self) -> RetryConfig:
        if self.max < self.initial:
            raise located_error("RetryConfig", [(("max",), "must be at least initial", None)])
        return self

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th consecutive failure (1, 2, …)."""
        return min(self.max, self.initial * 2.0 ** min(max(attempts - 1, 0), 30))


class EventConfig(Frozen):
    """What happens to one event type: whether it is recorded and how each channel sends it."""

    enabled: bool = True
    email: Frequency = "immediate"
    webhook: Frequency = "immediate"


class NotificationsConfig(Frozen):
    """Channels, quiet hours and per-event settings; unlisted event types use the defaults."""

    email: EmailConfig | None = None
    webhook: WebhookConfig | None = None
    quiet_hours: QuietHours | None = None
    critical: tuple[EventType, ...] = DEFAULT_CRITICAL
    daily_digest_at: ClockTime = time(8, 0)
    retry: RetryConfig = RetryConfig()
    events: Mapping[EventType, EventConfig] = Field(default_factory=dict)

    @property
    def channels(self) -> tuple[str, ...]:
        """The configured delivery channels (``email``, ``webhook``)."""
        found = (("email", self.email), ("webhook", self.webhook))
        return tuple(name for name, cfg in found if cfg is not None)

    def event(self, event_type: str) -> EventConfig:
        """The settings of ``event_type`` (defaults when it is not listed)."""
        found = self.events.get(cast(EventType, event_type))
        return found if found is not None else _DEFAULT_EVENT

    def bypasses_quiet_hours(self, event_type: str) -> bool:
        """Critical types and the quiet hours' ``except`` list are delivered during quiet hours."""
        extra = self.quiet_hours.except_ if self.quiet_hours else ()
        return event_type in self.critical or event_type in extra


_DEFAULT_EVENT = EventConfig()
