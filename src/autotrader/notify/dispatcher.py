"""Delivery of notification events, driven by the scheduler daemon's tick.

Each tick the dispatcher (1) plans every event not planned yet — per configured channel and the
event type's frequency (immediate, hourly, daily, off), holding non-critical ones during quiet
hours (see ``schedule.py``) — into rows of ``notification_deliveries``, and (2) sends the
deliveries that are due. A failed send stays queued with ``attempts``, ``last_error`` and a
``next_attempt_at`` that backs off exponentially (``notifications.retry``); it is never dropped.
All state lives in the database, so a restarted daemon (or a new ``Dispatcher``) resumes exactly
where the last one stopped.

Without any channel configured the dispatcher still marks new events as planned (with no
deliveries), so enabling e-mail later does not mail out the whole history.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import httpx
import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.config import AppConfig
from autotrader.errors import TemporaryError
from autotrader.notify.schedule import plan_event
from autotrader.notify.webhook import post_webhook
from autotrader.store.repos_notify import Delivery, DeliveryRepo, Plan, Planner
from autotrader.store.repos_runtime import NotificationEvent
from autotrader.tls import shared_tls

log = logging.getLogger("autotrader.notify")

BATCH = 20
"""Deliveries sent per channel per tick, so one tick stays short after a long outage."""

_NOUNS = {"email": ("e-mail", "e-mails"), "webhook": ("webhook call", "webhook calls")}


class _Unrenderable(Exception):
    """A delivery whose events cannot be rendered (a bug or a hostile payload)."""


class Dispatcher:
    """Turns recorded events into e-mail and webhook deliveries (run by the scheduler)."""

    def __init__(self, config: AppConfig, clock: Clock, engine: sa.Engine) -> None:
        self._config = config
        self._clock = clock
        self._repo = DeliveryRepo(engine, now=clock.now)
        self._client: httpx.AsyncClient | None = None
        self._open: dict[tuple[str, str], int] = {}

    def reload(self, config: AppConfig) -> None:
        """Take the new notification settings (they apply to events planned from now on)."""
        self._config = config

    async def on_tick(self) -> None:
        """Plan new events and send what is due."""
        channels = self._config.notifications.channels
        now = self._clock.now()
        while await asyncio.to_thread(self._repo.schedule, self._planner(now, channels)):
            pass  # a backlog is planned in batches, all in this tick
        for channel in channels:
            await self._send_due(channel, now)
        self._open = await asyncio.to_thread(self._repo.open_counts)

    async def aclose(self) -> None:
        """Close the webhook client's connections."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def status_text(self) -> str:
        """A short phrase for the scheduler's STATUS line, e.g. ``2 e-mails queued``."""
        channels = self._config.notifications.channels
        if not channels:
            return ""
        parts = []
        for channel in channels:
            retrying = self._open.get((channel, "retrying"), 0)
            queued = self._open.get((channel, "pending"), 0) + retrying
            if queued:
                one, many = _NOUNS.get(channel, (channel, channel))
                note = f" ({retrying} retrying)" if retrying else ""
                parts.append(f"{queued} {one if queued == 1 else many} queued{note}")
        return ", ".join(parts) if parts else "no notifications queued"

    # -- planning ----------------------------------------------------------------------------
    def _planner(self, now: datetime, channels: tuple[str, ...]) -> Planner:
        notifications, tz = self._config.notifications, self._config.tz

        def plan(event: NotificationEvent) -> list[Plan]:
            return plan_event(
                notifications,
                event_id=event.id,
                event_type=event.type,
                now=now,
                tz=tz,
                channels=channels,
            )

        return plan

    # -- sending -----------------------------------------------------------------------------
    async def _send_due(self, channel: str, now: datetime) -> None:
        due = await asyncio.to_thread(self._repo.due, channel, now, limit=BATCH)
        for delivery in due:
            try:
                await self._send(channel, delivery)
            except _Unrenderable as exc:
                await self._failed(delivery, f"cannot render: {exc}")
                continue  # the others may be fine
            except TemporaryError as exc:
                await self._failed(delivery, str(exc))
                return  # the channel is down: the rest waits for the next tick
            await asyncio.to_thread(self._repo.mark_sent, delivery.id, self._clock.now())
            log.info(
                "%s %d sent (%s, %d event%s)", channel, delivery.id, delivery.kind,
                len(delivery.events), "" if len(delivery.events) == 1 else "s",
            )  # fmt: skip

    async def _send(self, channel: str, delivery: Delivery) -> None:
        if not delivery.events:
            return  # nothing to say (cannot happen while the events table keeps its rows)
        # The channels' modules (Jinja2, aiosmtplib: ~5 MB) are imported on the first send, so a
        # scheduler whose notifications never go out does not carry them.
        from autotrader.notify.render import webhook_body

        config, now = self._config, self._clock.now()
        if channel == "email" and config.notifications.email is not None:
            import jinja2

            from autotrader.notify.email import build_message, send_email
            from autotrader.notify.render import render_message

            try:
                rendered = render_message(
                    delivery.kind, delivery.events, tz=config.tz, generated_at=now
                )
            except (jinja2.TemplateError, ValueError, TypeError, KeyError) as exc:
                raise _Unrenderable(f"{type(exc).__name__}: {exc}") from exc
            email = config.notifications.email
            message = build_message(email, rendered, delivery_id=delivery.id, date=now)
            await send_email(email, message)
        elif channel == "webhook" and config.notifications.webhook is not None:
            body = webhook_body(delivery.id, delivery.kind, delivery.events, tz=config.tz)
            if self._client is None:
                self._client = httpx.AsyncClient(verify=shared_tls())
            await post_webhook(config.notifications.webhook, body, client=self._client)
        else:
            raise TemporaryError(f"channel {channel} is not configured")

    async def _failed(self, delivery: Delivery, error: str) -> None:
        attempt = delivery.attempts + 1
        delay = self._config.notifications.retry.delay(attempt)
        retry_at = self._clock.now() + timedelta(seconds=delay)
        await asyncio.to_thread(self._repo.mark_failed, delivery.id, error, retry_at)
        log.warning(
            "%s %d (%d event%s) not delivered, attempt %d; retrying in %.0fs: %s",
            delivery.channel, delivery.id, len(delivery.events),
            "" if len(delivery.events) == 1 else "s", attempt, delay, error,
        )  # fmt: skip
