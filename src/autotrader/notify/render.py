"""Notifications as words: e-mail subject, plain text and HTML from the Jinja templates in
``templates/``, and the webhook's JSON body.

HTML templates are autoescaped (a market titled ``<script>…`` arrives as text); plain-text ones
are not, since nothing interprets them. Payloads come from every daemon and are shown
defensively: the one-line ``summary`` first, then the known fields of the event type in a fixed
order, then whatever else the payload holds.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from autotrader.store.repos_runtime import NotificationEvent

if TYPE_CHECKING:
    import jinja2

TITLES: Mapping[str, str] = {
    "trade_executed": "Trade executed",
    "trade_exited": "Trade exited",
    "watchlist_updated": "Watchlist updated",
    "strategy_error": "Strategy error",
    "strategy_paused": "Strategy paused",
    "strategy_resumed": "Strategy resumed",
    "daily_loss_limit_hit": "Daily loss limit hit",
    "market_settled": "Market settled",
    "config_reload_failed": "Configuration reload refused",
    "feed_stale": "Price feed stale",
    "venue_degraded": "Venue degraded",
}
DIGEST_TITLES: Mapping[str, str] = {
    "hourly": "Hourly digest",
    "daily": "Daily digest",
    "quiet_hours": "Quiet hours digest",
}
_FIRST_FIELDS: Mapping[str, tuple[str, ...]] = {
    "trade_executed": ("question", "market_slug", "outcome", "side", "shares", "price", "usd"),
    "trade_exited": ("question", "market_slug", "outcome", "shares", "price", "pnl_usd"),
    "market_settled": ("question", "market_slug", "winning_outcome", "payout_usd", "pnl_usd"),
    "watchlist_updated": ("added", "removed"),
}
_LABELS: Mapping[str, str] = {
    "usd": "Amount (USD)",
    "pnl_usd": "P&L (USD)",
    "fees": "Fees (USD)",
    "market_slug": "Market",
    "question": "Question",
}
_MAX_VALUE = 400
SYSTEM_GROUP = "system"


@dataclass(frozen=True)
class EventView:
    """An event as the templates show it."""

    id: int
    type: str
    title: str
    strategy: str | None
    when: str
    summary: str
    details: tuple[tuple[str, str], ...]
    pnl: str | None  # "+12.50" / "-3.00" for events that realize P&L


@dataclass(frozen=True)
class Rendered:
    """A message ready for a channel."""

    subject: str
    text: str
    html: str


@functools.cache
def _env() -> jinja2.Environment:
    import jinja2  # only when a message is rendered (see dispatcher._send)

    return jinja2.Environment(
        loader=jinja2.PackageLoader("autotrader.notify", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def one_line(text: str, limit: int = 200) -> str:
    """``text`` on one line, at most ``limit`` characters (headers must not break)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _value(value: Any) -> str:
    if isinstance(value, Mapping):
        inner = ", ".join(f"{k}: {_value(v)}" for k, v in value.items())
        return one_line(inner, _MAX_VALUE)
    if isinstance(value, list | tuple):
        return one_line("; ".join(_item(v) for v in value) or "-", _MAX_VALUE)
    return one_line("-" if value is None else str(value), _MAX_VALUE)


def _item(value: Any) -> str:
    # Watchlist entries and the like: their title is what a reader recognises.
    if isinstance(value, Mapping):
        for key in ("question", "market_slug", "slug", "name"):
            if value.get(key):
                return str(value[key])
    return _value(value)


def _label(key: str) -> str:
    return _LABELS.get(key, key.replace("_", " ").capitalize())


def _details(event: NotificationEvent) -> tuple[tuple[str, str], ...]:
    payload = event.payload
    # The summary is the headline and a parsed P&L has its own line: neither is repeated.
    shown = {"summary", "pnl_usd"} if _pnl(payload) is not None else {"summary"}
    first = [k for k in _FIRST_FIELDS.get(event.type, ()) if k in payload and k not in shown]
    rest = [k for k in payload if k not in first and k not in shown]
    return tuple((_label(k), _value(payload[k])) for k in first + rest)


def _pnl(payload: Mapping[str, Any]) -> str | None:
    raw = payload.get("pnl_usd")
    try:
        amount = Decimal(str(raw)) if raw is not None else None
    except InvalidOperation:
        return None
    return None if amount is None else f"{amount:+.2f}"


def view(event: NotificationEvent, tz: ZoneInfo) -> EventView:
    """The template's view of ``event`` (times in ``tz``)."""
    title = TITLES.get(event.type, event.type.replace("_", " ").capitalize())
    summary = event.payload.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        summary = title + (f" ({event.strategy})" if event.strategy else "")
    when = event.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z")
    return EventView(
        event.id, event.type, title, event.strategy, when, one_line(summary, 500),
        _details(event), _pnl(event.payload),
    )  # fmt: skip


def _groups(views: Sequence[EventView]) -> list[tuple[str, list[EventView]]]:
    """Events by strategy (system events last), each group oldest first."""
    groups: dict[str, list[EventView]] = {}
    for v in views:
        groups.setdefault(v.strategy or SYSTEM_GROUP, []).append(v)
    return sorted(groups.items(), key=lambda kv: (kv[0] == SYSTEM_GROUP, kv[0]))


def render_message(
    kind: str, events: Sequence[NotificationEvent], *, tz: ZoneInfo, generated_at: datetime
) -> Rendered:
    """Subject, text and HTML of a delivery: one event (``kind`` "event") or a digest."""
    if not events:
        raise ValueError("a message needs at least one event")
    views = [view(e, tz) for e in events]
    local = generated_at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
    if kind == "event" and len(views) == 1:
        v = views[0]
        prefix = f"{v.strategy}: " if v.strategy else ""
        subject = f"[autotrader] {prefix}{v.summary}"
        context: dict[str, Any] = {"event": v, "generated": local}
        name = "event"
    else:
        title = DIGEST_TITLES.get(kind, "Digest")
        groups = _groups(views)
        subject = f"[autotrader] {title}: {_count(len(views))} from {_scope(groups)}"
        context = {"title": title, "groups": groups, "count": len(views), "generated": local}
        name = "digest"
    env = _env()
    return Rendered(
        one_line(subject),
        env.get_template(f"{name}.txt").render(context),
        env.get_template(f"{name}.html").render(context),
    )


def _count(n: int) -> str:
    return f"{n} notification" + ("" if n == 1 else "s")


def _scope(groups: Sequence[tuple[str, Sequence[EventView]]]) -> str:
    names = [name for name, _ in groups]
    if len(names) <= 3:
        return ", ".join(names)
    return f"{len(names)} strategies"


def webhook_body(
    delivery_id: int, kind: str, events: Sequence[NotificationEvent], *, tz: ZoneInfo
) -> dict[str, Any]:
    """The JSON a webhook receives: a ``text`` line for chat services plus every event."""
    views = [view(e, tz) for e in events]
    if kind == "event" and len(views) == 1:
        text = views[0].summary
    else:
        title = DIGEST_TITLES.get(kind, "Digest")
        text = f"{title}: " + " | ".join(v.summary for v in views)
    return {
        "delivery_id": delivery_id,
        "kind": kind,
        "text": one_line(text, 2000),
        "events": [
            {
                "id": e.id,
                "type": e.type,
                "strategy": e.strategy,
                "created_at": e.created_at.isoformat(),
                "summary": v.summary,
                "payload": e.payload,
            }
            for e, v in zip(events, views, strict=True)
        ],
    }
