"""Polymarket refusal messages → stable ``ReasonCode``s.

The CLOB refuses with HTTP 400 ``{"error": "<message>"}`` (and, in the post-order answer,
``errorMsg``); the message embeds order ids, prices and sizes and changes wording between
releases, so matching is by lower-cased pattern, most specific first. Sources of the patterns:
docs.polymarket.com/resources/error-codes (the "POST /order" and "Matching engine" sections),
the older "Insert Error Messages" table of the order docs, and bodies quoted verbatim in
GitHub issues (shared/fixtures/polymarket/clob_error_responses.json).
"""

from __future__ import annotations

import json
import re
from typing import Any

from autotrader.domain.orders import ReasonCode
from autotrader.errors import DataError
from autotrader.jsonbound import loads_bounded

_R = ReasonCode

# (pattern, code). First match wins, so the specific precede the general ("market not found"
# before "not found", "post-only mode" before "post-only order").
REASON_PATTERNS: tuple[tuple[re.Pattern[str], ReasonCode], ...] = tuple(
    (re.compile(pattern), code)
    for pattern, code in (
        # "order 0x.. is invalid. Price (0.505) breaks minimum tick size rule: 0.01"
        (r"tick size", _R.INVALID_ORDER_MIN_TICK_SIZE),
        # "order 0x.. is invalid. Size (1.08) lower than the minimum: 5"
        (r"lower than the minimum", _R.INVALID_ORDER_MIN_SIZE),
        # "invalid amount for a marketable BUY order ($0.30), min size: $1"
        (r"invalid amount for a marketable", _R.INVALID_ORDER_MIN_SIZE),
        (r"not enough balance|allowance", _R.NOT_ENOUGH_BALANCE),
        # "order couldn't be fully filled. FOK orders are fully filled or killed." (and the
        # older "…, FOK orders are fully filled/killed"); engine: "FOK orders are filled or killed"
        (r"fok orders are|couldn.t be fully filled", _R.FOK_NOT_FILLED),
        # A FAK that found nothing to match: the immediate order was not filled either.
        (r"no orders found to match with fak|there are no matching orders", _R.FOK_NOT_FILLED),
        (r"market is not yet ready", _R.MARKET_NOT_READY),
        # 503 during the post-only period after an engine restart (code "post_only_mode").
        (r"post-only mode|post_only_mode", _R.POST_ONLY_PERIOD),
        (r"crosses (the )?book", _R.POST_ONLY_WOULD_CROSS),
        # "invalid post-only order: only GTC and GTD order types are allowed"
        (r"invalid post-only order", _R.INVALID_ORDER),
        (r"duplicated", _R.DUPLICATE_ORDER),
        (r"invalid expiration|order expired|expired order", _R.ORDER_EXPIRED),
        (r"invalid signature|bad signature|signer address has to be", _R.INVALID_SIGNATURE),
        # V2 accounts must trade through their deposit wallet: signature type / funder wrong.
        (r"maker address not allowed", _R.INVALID_SIGNATURE),
        (
            r"invalid api key|unauthorized|invalid l1 request headers|invalid l2|"
            r"order owner has to be the owner of the api key|api key",
            _R.INVALID_API_KEY,
        ),
        (r"invalid token id|market not found|no orderbook exists|invalid market", _R.INVALID_TOKEN),
        (r"fee rate not found", _R.INVALID_TOKEN),
        (r"market is closed|market closed|closed market|market resolved", _R.MARKET_CLOSED),
        # The whole exchange refuses new orders (paused or cancel-only).
        (r"trading is currently (disabled|cancel-only)", _R.MARKET_CLOSED),
        # Cancel refusals: "already canceled or matched"; a delayed order cannot be cancelled.
        (
            r"already canceled|already cancelled|already matched|can.?not be cancel",
            _R.ORDER_NOT_CANCELABLE,
        ),
        (r"order canceled in the ctf exchange", _R.ORDER_NOT_CANCELABLE),
        (r"invalid orderid|order not found|order .* not found|no order found", _R.ORDER_NOT_FOUND),
        (
            r"invalid order payload|order_version_mismatch|rounding issues|discrepancy|"
            r"is invalid",
            _R.INVALID_ORDER,
        ),
    )
)


def reason_from_message(message: str) -> ReasonCode | None:
    """The code for a refusal message, None if no pattern knows it."""
    text = " ".join(message.lower().split())
    if not text:
        return None
    for pattern, code in REASON_PATTERNS:
        if pattern.search(text):
            return code
    return None


def _from_mapping(body: dict[Any, Any]) -> str:
    for key in ("error", "errorMsg", "error_msg", "message"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, dict | list):
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    code = body.get("code")
    return code if isinstance(code, str) else ""


def error_message(body: Any) -> str:
    """The venue's message in an error body: ``{"error": ...}``, ``errorMsg``, or raw text."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str):
        try:
            decoded = loads_bounded(body, "error body")
        except DataError:
            return " ".join(body.split())[:300]
        body = decoded
    if isinstance(body, dict):
        return " ".join(_from_mapping(body).split())[:300]
    if isinstance(body, str):
        return " ".join(body.split())[:300]
    return ""


def reason_from_error(http_status: int, body: Any) -> ReasonCode:
    """The code for an error answer: the message decides; the status only as a fallback.

    ``body`` is the decoded JSON, the raw text/bytes, or None. Unknown → UNKNOWN_VENUE_ERROR.
    """
    message = error_message(body)
    code = reason_from_message(message)
    if code is None and isinstance(body, dict) and body.get("code") == "post_only_mode":
        code = ReasonCode.POST_ONLY_PERIOD
    if code is not None:
        return code
    if http_status == 401:
        return ReasonCode.INVALID_API_KEY
    return ReasonCode.UNKNOWN_VENUE_ERROR
