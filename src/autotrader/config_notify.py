"""The ``notifications:`` section: channels, quiet hours and what each event type does."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time
from typing import Annotated, Literal, cast

from pydantic import AfterValidator, Field, model_validator

from autotrader.config_base import (
    ClockTime,
    CredentialName,
    Frozen,
    HttpUrl,
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
    """SMTP delivery; the password (if any) comes from the credential ``password_credential``."""

    smtp_host: Annotated[str, Field(min_length=1, max_length=253)]
    smtp_port: int = Field(25, ge=1, le=65535)
    from_: EmailAddress = Field(alias="from")
    to: tuple[EmailAddress, ...] = Field(min_length=1)
    security: Literal["none", "starttls", "tls"] = "none"
    username: Annotated[str, Field(min_length=1)] | None = None
    password_credential: CredentialName = "smtp-password"
    timeout_secs: float = Field(30.0, gt=0)


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
    events: Mapping[EventType, EventConfig] = Field(default_factory=dict)

    def event(self, event_type: str) -> EventConfig:
        """The settings of ``event_type`` (defaults when it is not listed)."""
        found = self.events.get(cast(EventType, event_type))
        return found if found is not None else _DEFAULT_EVENT

    def bypasses_quiet_hours(self, event_type: str) -> bool:
        """Critical types and the quiet hours' ``except`` list are delivered during quiet hours."""
        extra = self.quiet_hours.except_ if self.quiet_hours else ()
        return event_type in self.critical or event_type in extra


_DEFAULT_EVENT = EventConfig()
