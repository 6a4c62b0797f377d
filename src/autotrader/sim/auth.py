"""The simulator's half of Polymarket CLOB authentication: L1, L2 and order signatures.

What the real CLOB checks, and how py-clob-client-v2 produces it:

* **L1** (``/auth/api-key``, ``/auth/derive-api-key``): headers POLY_ADDRESS, POLY_SIGNATURE,
  POLY_TIMESTAMP, POLY_NONCE; the signature is EIP-712 over ``ClobAuth`` (see
  :mod:`autotrader.venue.polymarket.clob_eip712`). Refused with 401 "Invalid L1 Request headers".
* **L2** (everything private): POLY_ADDRESS, POLY_API_KEY, POLY_PASSPHRASE, POLY_TIMESTAMP and
  POLY_SIGNATURE = url-safe base64 of HMAC-SHA256(url-safe-b64-decoded secret,
  ``timestamp + method + path + body``). The path has no query string; the body is the exact
  JSON text the client sent (compact, ``separators=(",", ":")``), except that the client signs it
  with every ``'`` replaced by ``"`` — so the check does the same. Refused with 401
  "Unauthorized/Invalid api key".
* **Orders**: the EIP-712 signature must recover to ``signer``; for EOA orders (signature type 0)
  the signer is the maker. Refused with 400 "invalid signature"; a malformed order with 400
  "Invalid order payload". All messages are the real ones, quoted in public issue threads.

API credentials are derived from the address (and L1 nonce) with an HMAC keyed by the server
secret, so /auth/api-key and /auth/derive-api-key agree, a restarted simulator still honours
credentials a daemon cached in its state_dir, and no table of keys needs to be kept.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from autotrader.venue.polymarket.clob_eip712 import (
    OrderFormatError,
    order_hash,
    parse_wire_order,
    recover_clob_auth_signer,
    recover_order_signer,
)

L1_INVALID = "Invalid L1 Request headers"
L2_INVALID = "Unauthorized/Invalid api key"
ORDER_INVALID_SIGNATURE = "invalid signature"
ORDER_INVALID_PAYLOAD = "Invalid order payload"
ORDER_OWNER_MISMATCH = "the order owner has to be the owner of the API KEY"
ORDER_SIGNER_MISMATCH = "the order signer address has to be the address of the API KEY"

POLYGON = 137
DEFAULT_SERVER_SECRET = b"autotrader-simulator/clob-auth/v1"
DEFAULT_MAX_SKEW_SECS = 300.0

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


class AuthError(Exception):
    """A request the CLOB would refuse; ``message`` is the venue's wording for ``{"error": …}``."""

    def __init__(self, message: str, *, http_status: int = 401) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status

    def body(self) -> dict[str, str]:
        """The JSON error body the real CLOB returns."""
        return {"error": self.message}


@dataclass(frozen=True)
class SimApiCreds:
    """L2 credentials as /auth/api-key returns them (``secret`` kept out of the repr)."""

    api_key: str
    secret: str = field(repr=False)
    passphrase: str = field(repr=False)

    def to_wire(self) -> dict[str, str]:
        """The response body of /auth/api-key and /auth/derive-api-key."""
        return {"apiKey": self.api_key, "secret": self.secret, "passphrase": self.passphrase}


def hmac_signature(secret: str, timestamp: str, method: str, path: str, body: str | None) -> str:
    """POLY_SIGNATURE for an L2 request, computed as the client computes it (see module doc)."""
    message = f"{timestamp}{method}{path}"
    if body:
        message += body.replace("'", '"')
    key = base64.urlsafe_b64decode(secret)
    digest = hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


def _header_map(headers: Mapping[str, str] | Any) -> dict[str, str]:
    # HTTP header names are case-insensitive; http.server hands over an email.message.Message.
    return {str(k).upper().replace("-", "_"): str(v) for k, v in headers.items()}


def _timestamp_ok(raw: str, now: float | None, max_skew_secs: float) -> bool:
    try:
        ts = int(raw)
    except ValueError:
        return False
    return now is None or abs(ts - now) <= max_skew_secs


class SimAuth:
    """Credential derivation and request/order verification for one simulator instance.

    ``now`` arguments are the server's clock in epoch seconds; pass wall time (``time.time()``)
    rather than simulated time, because clients stamp headers with their own wall clock.
    ``None`` skips the freshness check.
    """

    def __init__(
        self,
        server_secret: bytes = DEFAULT_SERVER_SECRET,
        *,
        chain_id: int = POLYGON,
        max_skew_secs: float = DEFAULT_MAX_SKEW_SECS,
    ) -> None:
        self._secret = server_secret
        self.chain_id = chain_id
        self.max_skew_secs = max_skew_secs
        self._lock = threading.Lock()
        # api_key -> (address, nonce) for keys issued under a non-zero L1 nonce; nonce 0 (what
        # py-clob-client-v2 uses by default) is re-derived from the address alone.
        self._issued: dict[str, tuple[str, int]] = {}

    def derive_api_creds(self, address: str, nonce: int = 0) -> SimApiCreds:
        """The L2 credentials of ``address`` for L1 ``nonce``: always the same for the same pair."""
        if not _ADDRESS.fullmatch(address):
            raise AuthError(L1_INVALID)
        material = f"{address.lower()}:{nonce}".encode()
        raw = hmac.new(self._secret, b"creds:" + material, hashlib.sha512).digest()
        creds = SimApiCreds(
            api_key=str(uuid.UUID(bytes=raw[:16], version=4)),
            secret=base64.urlsafe_b64encode(raw[16:48]).decode("ascii"),
            passphrase=hmac.new(
                self._secret, b"passphrase:" + material, hashlib.sha256
            ).hexdigest(),
        )
        if nonce:
            with self._lock:
                self._issued[creds.api_key] = (address.lower(), nonce)
        return creds

    def verify_l1(self, headers: Mapping[str, str] | Any, *, now: float | None = None) -> str:
        """The checksummed address that signed these L1 headers, or AuthError (401)."""
        h = _header_map(headers)
        address, signature = h.get("POLY_ADDRESS", ""), h.get("POLY_SIGNATURE", "")
        timestamp, nonce_text = h.get("POLY_TIMESTAMP", ""), h.get("POLY_NONCE", "0")
        if not (_ADDRESS.fullmatch(address) and nonce_text.isdigit()):
            raise AuthError(L1_INVALID)
        if not _timestamp_ok(timestamp, now, self.max_skew_secs):
            raise AuthError(L1_INVALID)
        try:
            signer = recover_clob_auth_signer(
                address, timestamp, int(nonce_text), self.chain_id, signature
            )
        except ValueError:
            raise AuthError(L1_INVALID) from None
        if signer.lower() != address.lower():
            raise AuthError(L1_INVALID)
        return signer

    def l1_nonce(self, headers: Mapping[str, str] | Any) -> int:
        """POLY_NONCE of (already verified) L1 headers; 0 when absent."""
        text = _header_map(headers).get("POLY_NONCE", "0")
        return int(text) if text.isdigit() else 0

    def verify_l2(
        self,
        headers: Mapping[str, str] | Any,
        method: str,
        path: str,
        body_text: str | None,
        *,
        now: float | None = None,
    ) -> tuple[str, str]:
        """(address, api_key) of a correctly signed L2 request, or AuthError (401)."""
        h = _header_map(headers)
        address, api_key = h.get("POLY_ADDRESS", ""), h.get("POLY_API_KEY", "")
        timestamp, signature = h.get("POLY_TIMESTAMP", ""), h.get("POLY_SIGNATURE", "")
        if not _ADDRESS.fullmatch(address) or not api_key:
            raise AuthError(L2_INVALID)
        creds = self._creds_for(address, api_key)
        if creds is None or not hmac.compare_digest(creds.passphrase, h.get("POLY_PASSPHRASE", "")):
            raise AuthError(L2_INVALID)
        if not _timestamp_ok(timestamp, now, self.max_skew_secs):
            raise AuthError(L2_INVALID)
        bare_path = path.split("?", 1)[0]
        expected = hmac_signature(creds.secret, timestamp, method.upper(), bare_path, body_text)
        if not hmac.compare_digest(expected, signature):
            raise AuthError(L2_INVALID)
        return address, api_key

    def _creds_for(self, address: str, api_key: str) -> SimApiCreds | None:
        creds = self.derive_api_creds(address)
        if hmac.compare_digest(creds.api_key, api_key):
            return creds
        with self._lock:
            issued = self._issued.get(api_key)
        if issued is None or issued[0] != address.lower():
            return None
        return self.derive_api_creds(address, issued[1])

    def verify_order(
        self, order_json: Mapping[str, Any], chain_id: int | None = None, neg_risk: bool = False
    ) -> tuple[str, str]:
        """(signer, order hash) of a correctly signed order, or AuthError (400).

        ``order_json`` is the ``order`` object of the POST /order body. ``neg_risk`` selects the
        verifying contract, as the exchange does from the market it trades.
        """
        chain = self.chain_id if chain_id is None else chain_id
        try:
            wire = parse_wire_order(order_json)
        except OrderFormatError:
            raise AuthError(ORDER_INVALID_PAYLOAD, http_status=400) from None
        # Signature type 3 (EIP-1271 deposit wallets) needs an on-chain isValidSignature call;
        # the simulator has no chain, so it cannot accept one honestly.
        if wire.signature_type == 3:
            raise AuthError(ORDER_INVALID_SIGNATURE, http_status=400)
        if wire.signature_type == 0 and wire.maker.lower() != wire.signer.lower():
            raise AuthError(ORDER_INVALID_SIGNATURE, http_status=400)
        try:
            recovered = recover_order_signer(wire, chain_id=chain, neg_risk=neg_risk)
        except (ValueError, OrderFormatError):
            raise AuthError(ORDER_INVALID_SIGNATURE, http_status=400) from None
        if recovered.lower() != wire.signer.lower():
            raise AuthError(ORDER_INVALID_SIGNATURE, http_status=400)
        return recovered, order_hash(wire, chain_id=chain, neg_risk=neg_risk)

    def check_order_owner(self, post_body: Mapping[str, Any], address: str, api_key: str) -> None:
        """The POST /order body belongs to the L2 caller: owner = its key, signer = its address."""
        order = post_body.get("order")
        if not isinstance(order, Mapping):
            raise AuthError(ORDER_INVALID_PAYLOAD, http_status=400)
        if post_body.get("owner") != api_key:
            raise AuthError(ORDER_OWNER_MISMATCH, http_status=400)
        if str(order.get("signer", "")).lower() != address.lower():
            raise AuthError(ORDER_SIGNER_MISMATCH, http_status=400)


_DEFAULT = SimAuth()


def derive_api_creds(address: str, nonce: int = 0) -> SimApiCreds:
    """L2 credentials of ``address`` under the default server secret (see SimAuth)."""
    return _DEFAULT.derive_api_creds(address, nonce)


def verify_l1(headers: Mapping[str, str] | Any, *, now: float | None = None) -> str:
    """Signer address of L1 headers on Polygon (chain 137); AuthError (401) otherwise."""
    return _DEFAULT.verify_l1(headers, now=now)


def verify_l2(
    headers: Mapping[str, str] | Any,
    method: str,
    path: str,
    body_text: str | None,
    *,
    now: float | None = None,
) -> tuple[str, str]:
    """(address, api_key) of a correctly signed L2 request; AuthError (401) otherwise."""
    return _DEFAULT.verify_l2(headers, method, path, body_text, now=now)


def verify_order(
    order_json: Mapping[str, Any], chain_id: int = POLYGON, neg_risk: bool = False
) -> tuple[str, str]:
    """(signer, order hash) of a correctly signed V1/V2 order; AuthError (400) otherwise."""
    return _DEFAULT.verify_order(order_json, chain_id, neg_risk)
