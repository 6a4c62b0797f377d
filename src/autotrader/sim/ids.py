"""Deterministic identifiers for the simulator: the same seed and key give the same id.

Polymarket's ids have recognisable shapes and clients check them (py-clob-client-v2 parses a
token id as an integer, the Gamma payloads carry condition ids as 0x + 64 hex), so each id here
copies the real shape: condition, question and transaction ids are 0x + 64 hex, token ids are
uint256 values written in decimal (77-78 digits), trade ids are UUIDs, Gamma ids are numeric
strings. Everything is a SHA-256 of (seed, kind, key), so two worlds built with the same seed
agree on every id without sharing state.
"""

from __future__ import annotations

import hashlib

_UINT256 = 2**256
# Real token ids are uint256 values; keeping them >= 10**76 makes them 77 or 78 digits long.
_TOKEN_FLOOR = 10**76


def digest(seed: int, kind: str, key: str) -> bytes:
    """The 32-byte hash every id of this module is derived from."""
    return hashlib.sha256(f"{seed}\x1f{kind}\x1f{key}".encode()).digest()


def unit(seed: int, kind: str, key: str) -> float:
    """A deterministic number in [0, 1): the simulator's only source of randomness."""
    return int.from_bytes(digest(seed, kind, key)[:8], "big") / 2.0**64


def hex32(seed: int, kind: str, key: str) -> str:
    """``0x`` + 64 lowercase hex digits (condition, question, order and transaction ids)."""
    return "0x" + digest(seed, kind, key).hex()


def condition_id(seed: int, slug: str) -> str:
    """The market's condition id."""
    return hex32(seed, "condition", slug)


def question_id(seed: int, slug: str) -> str:
    """The market's question id (UMA question, shown by Gamma as ``questionID``)."""
    return hex32(seed, "question", slug)


def token_id(seed: int, slug: str, outcome: str) -> str:
    """The CLOB token id of one outcome: a uint256 in decimal, 77 or 78 digits."""
    value = int.from_bytes(digest(seed, "token", f"{slug}\x1f{outcome}"), "big")
    return str(_TOKEN_FLOOR + value % (_UINT256 - _TOKEN_FLOOR))


def numeric_id(seed: int, kind: str, key: str, *, lo: int, span: int) -> str:
    """A Gamma-style numeric id in ``[lo, lo + span)``."""
    return str(lo + int.from_bytes(digest(seed, kind, key)[:8], "big") % span)


def uuid_like(seed: int, kind: str, key: str) -> str:
    """A version-4-shaped UUID (trade ids and API-key owners look like this)."""
    h = bytearray(digest(seed, kind, key)[:16])
    h[6] = (h[6] & 0x0F) | 0x40
    h[8] = (h[8] & 0x3F) | 0x80
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:32]}"


def address(seed: int, key: str) -> str:
    """A 20-byte address (0x + 40 hex), used for the house market maker."""
    return "0x" + digest(seed, "address", key)[:20].hex()


def tag_id(slug: str) -> str:
    """A stable numeric id for a tag slug (the same in every world)."""
    return numeric_id(0, "tag", slug, lo=1, span=100_000)
