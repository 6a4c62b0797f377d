"""The webhook channel: one JSON POST per delivery, for chat and push services.

Any answer but 2xx, a timeout or a refused connection is a ``TemporaryError``: the dispatcher
keeps the delivery and retries it with backoff, as for e-mail. Webhook URLs often carry their
token in the path (Slack, Discord), so messages name only the scheme and host.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from autotrader.config_notify import WebhookConfig
from autotrader.errors import TemporaryError


def redacted(url: str) -> str:
    """``scheme://host[:port]/…``: the URL without its path, query or credentials."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…"


async def post_webhook(
    cfg: WebhookConfig, body: dict[str, Any], *, client: httpx.AsyncClient
) -> None:
    """POST ``body`` as JSON to ``cfg.url``; TemporaryError unless the answer is 2xx."""
    where = f"webhook {redacted(str(cfg.url))}"
    try:
        response = await client.post(
            str(cfg.url),
            json=body,
            timeout=cfg.timeout_secs,
            headers={"User-Agent": "autotrader-notify"},
        )
    except httpx.HTTPError as exc:
        raise TemporaryError(f"{where}: {type(exc).__name__}") from None
    if not response.is_success:
        raise TemporaryError(f"{where}: HTTP {response.status_code}")
