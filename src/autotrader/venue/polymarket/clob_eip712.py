"""EIP-712 hashing and signer recovery for Polymarket CLOB orders and the ClobAuth message.

Written from the EIP-712 spec with eth_abi / eth_utils / eth_account primitives, not taken from
py-clob-client-v2, so that the live venue (which needs an order's hash *before* it posts it) and
the simulator (which verifies what it receives) agree with the real exchange independently of the
client that signs. The unit tests check both against the client's own signing code.

Venue facts encoded here:

* V2 orders (production since 2026-04-28) are signed over
  ``Order(uint256 salt,address maker,address signer,uint256 tokenId,uint256 makerAmount,
  uint256 takerAmount,uint8 side,uint8 signatureType,uint256 timestamp,bytes32 metadata,
  bytes32 builder)`` under the domain ``("Polymarket CTF Exchange", "2", chainId, exchange)``.
  ``expiration`` travels in the JSON but is *not* signed.
* The verifying contract is the V2 exchange, or the neg-risk V2 exchange for neg-risk markets;
  a signature made for the other one does not verify.
* V1 orders (``taker``, ``nonce``, ``feeRateBps``, signed ``expiration``; domain version "1") are
  still understood so the simulator can accept both, as DESIGN.md §5 allows.
* The order id the CLOB reports is the EIP-712 digest ``keccak(0x1901 ‖ domain ‖ struct)``.
* ClobAuth (L1 headers): ``ClobAuth(address address,string timestamp,uint256 nonce,string message)``
  under ``("ClobAuthDomain", "1", chainId)`` with no verifying contract.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import SignableMessage
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

CTF_EXCHANGE_NAME = "Polymarket CTF Exchange"
CLOB_AUTH_DOMAIN_NAME = "ClobAuthDomain"
CLOB_AUTH_VERSION = "1"
CLOB_AUTH_MESSAGE = "This message attests that I control the given wallet"

_DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
_AUTH_DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId)"
_ORDER_V2_TYPE = (
    "Order(uint256 salt,address maker,address signer,uint256 tokenId,uint256 makerAmount,"
    "uint256 takerAmount,uint8 side,uint8 signatureType,uint256 timestamp,bytes32 metadata,"
    "bytes32 builder)"
)
_ORDER_V1_TYPE = (
    "Order(uint256 salt,address maker,address signer,address taker,uint256 tokenId,"
    "uint256 makerAmount,uint256 takerAmount,uint256 expiration,uint256 nonce,uint256 feeRateBps,"
    "uint8 side,uint8 signatureType)"
)
_CLOB_AUTH_TYPE = "ClobAuth(address address,string timestamp,uint256 nonce,string message)"

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_BYTES32 = re.compile(r"0x[0-9a-fA-F]{64}")
_SIGNATURE = re.compile(r"0x[0-9a-fA-F]{130}")
_HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})+")
_UINT = re.compile(r"[0-9]{1,78}")
_SIDES = {"BUY": 0, "SELL": 1}
_UINT256_MAX = 2**256 - 1


class OrderFormatError(ValueError):
    """An order dict is missing a field or has one of the wrong shape (names the field)."""


@dataclass(frozen=True)
class WireOrder:
    """A signed CLOB order as decoded from its JSON form; ``version`` is 1 or 2."""

    version: int
    salt: int
    maker: str
    signer: str
    token_id: int
    maker_amount: int
    taker_amount: int
    side: int
    signature_type: int
    timestamp: int
    metadata: bytes
    builder: bytes
    expiration: int
    signature: str
    taker: str = "0x0000000000000000000000000000000000000000"
    nonce: int = 0
    fee_rate_bps: int = 0


@functools.cache
def exchange_address(chain_id: int, *, neg_risk: bool, version: int = 2) -> str:
    """The exchange contract orders are signed for (from py-clob-client-v2's contract table)."""
    from py_clob_client_v2.config import (  # type: ignore[import-untyped, unused-ignore]
        get_contract_config,
    )

    try:
        cfg = get_contract_config(chain_id)
    except Exception as exc:
        raise OrderFormatError(f"no Polymarket exchange contracts for chain id {chain_id}") from exc
    if version == 1:
        return str(cfg.neg_risk_exchange if neg_risk else cfg.exchange)
    return str(cfg.neg_risk_exchange_v2 if neg_risk else cfg.exchange_v2)


def _uint(order: Mapping[str, Any], name: str) -> int:
    value = order.get(name)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise OrderFormatError(f"order.{name}: expected an unsigned integer")
    text = str(value)
    if not _UINT.fullmatch(text) or int(text) > _UINT256_MAX:
        raise OrderFormatError(f"order.{name}: expected an unsigned integer")
    return int(text)


def _match(order: Mapping[str, Any], name: str, pattern: re.Pattern[str], what: str) -> str:
    value = order.get(name)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise OrderFormatError(f"order.{name}: expected {what}")
    return value


def _side(order: Mapping[str, Any]) -> int:
    value = order.get("side")
    # The wire carries "BUY"/"SELL"; 0/1 (the signed uint8) is accepted for hand-made payloads.
    if isinstance(value, str) and value.upper() in _SIDES:
        return _SIDES[value.upper()]
    if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
        return value
    raise OrderFormatError('order.side: expected "BUY" or "SELL"')


def parse_wire_order(order: Mapping[str, Any]) -> WireOrder:
    """Decode the ``order`` object of a POST /order body; V1 when it carries ``nonce``."""
    if not isinstance(order, Mapping):
        raise OrderFormatError("order: expected a JSON object")
    version = 1 if "nonce" in order or "feeRateBps" in order else 2
    sig_type = _uint(order, "signatureType")
    if sig_type > 3:
        raise OrderFormatError("order.signatureType: expected 0, 1, 2 or 3")
    common: dict[str, Any] = {
        "version": version,
        "salt": _uint(order, "salt"),
        "maker": _match(order, "maker", _ADDRESS, "an address"),
        "signer": _match(order, "signer", _ADDRESS, "an address"),
        "token_id": _uint(order, "tokenId"),
        "maker_amount": _uint(order, "makerAmount"),
        "taker_amount": _uint(order, "takerAmount"),
        "side": _side(order),
        "signature_type": sig_type,
        "expiration": _uint(order, "expiration") if order.get("expiration") is not None else 0,
        # Only the shape is checked here: a signature of the wrong length (EIP-1271 ones are long)
        # is an invalid signature, not an invalid payload.
        "signature": _match(order, "signature", _HEX, "a hex signature"),
    }
    if version == 2:
        return WireOrder(
            **common,
            timestamp=_uint(order, "timestamp"),
            metadata=bytes.fromhex(_match(order, "metadata", _BYTES32, "32 bytes hex")[2:]),
            builder=bytes.fromhex(_match(order, "builder", _BYTES32, "32 bytes hex")[2:]),
        )
    return WireOrder(
        **common,
        timestamp=0,
        metadata=bytes(32),
        builder=bytes(32),
        taker=_match(order, "taker", _ADDRESS, "an address"),
        nonce=_uint(order, "nonce"),
        fee_rate_bps=_uint(order, "feeRateBps"),
    )


@functools.cache
def _domain_separator(chain_id: int, verifying_contract: str, version: str) -> bytes:
    return keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                keccak(text=_DOMAIN_TYPE),
                keccak(text=CTF_EXCHANGE_NAME),
                keccak(text=version),
                chain_id,
                verifying_contract,
            ],
        )
    )


# Every Order field is a static ABI type, so ``abi.encode`` of the struct is the 32-byte words
# side by side: built directly here (this runs for every order signed and every one verified).
_ORDER_V2_TYPEHASH = keccak(text=_ORDER_V2_TYPE)
_ORDER_V1_TYPEHASH = keccak(text=_ORDER_V1_TYPE)


def _word(n: int) -> bytes:
    return n.to_bytes(32, "big")


def _address_word(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


def _order_struct_hash(o: WireOrder) -> bytes:
    maker, signer = _address_word(o.maker), _address_word(o.signer)
    if o.version == 2:
        words = [_ORDER_V2_TYPEHASH, _word(o.salt), maker, signer, _word(o.token_id)]
        words += [_word(o.maker_amount), _word(o.taker_amount), _word(o.side)]
        words += [_word(o.signature_type), _word(o.timestamp), o.metadata, o.builder]
    else:
        words = [_ORDER_V1_TYPEHASH, _word(o.salt), maker, signer, _address_word(o.taker)]
        words += [_word(o.token_id), _word(o.maker_amount), _word(o.taker_amount)]
        words += [_word(o.expiration), _word(o.nonce), _word(o.fee_rate_bps)]
        words += [_word(o.side), _word(o.signature_type)]
    return keccak(b"".join(words))


def _order_signable(o: WireOrder, chain_id: int, neg_risk: bool) -> SignableMessage:
    contract = exchange_address(chain_id, neg_risk=neg_risk, version=o.version)
    domain = _domain_separator(chain_id, contract, str(o.version))
    return SignableMessage(b"\x01", domain, _order_struct_hash(o))


def _digest(msg: SignableMessage) -> bytes:
    return keccak(b"\x19" + msg.version + msg.header + msg.body)


def _recover(msg: SignableMessage, signature: str) -> str:
    try:
        return str(Account.recover_message(msg, signature=bytes.fromhex(signature[2:])))
    except Exception as exc:
        # eth_keys raises its own BadSignature (not a ValueError) for an r/s/v off the curve.
        raise ValueError(f"signature does not recover: {type(exc).__name__}") from None


def order_hash(order: Mapping[str, Any] | WireOrder, *, chain_id: int, neg_risk: bool) -> str:
    """The order's id as the CLOB reports it: ``0x`` + the EIP-712 digest in lowercase hex."""
    wire = order if isinstance(order, WireOrder) else parse_wire_order(order)
    return "0x" + _digest(_order_signable(wire, chain_id, neg_risk)).hex()


def recover_order_signer(order: WireOrder, *, chain_id: int, neg_risk: bool) -> str:
    """The checksummed address whose key produced ``order.signature`` (ValueError if none)."""
    if not _SIGNATURE.fullmatch(order.signature):
        raise ValueError("signature: expected 65 bytes hex")
    return _recover(_order_signable(order, chain_id, neg_risk), order.signature)


def clob_auth_signable(address: str, timestamp: str, nonce: int, chain_id: int) -> SignableMessage:
    """The EIP-712 message behind the L1 headers' POLY_SIGNATURE."""
    domain = keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256"],
            [
                keccak(text=_AUTH_DOMAIN_TYPE),
                keccak(text=CLOB_AUTH_DOMAIN_NAME),
                keccak(text=CLOB_AUTH_VERSION),
                chain_id,
            ],
        )
    )
    struct = keccak(
        abi_encode(
            ["bytes32", "address", "bytes32", "uint256", "bytes32"],
            [
                keccak(text=_CLOB_AUTH_TYPE),
                to_checksum_address(address),
                keccak(text=timestamp),
                nonce,
                keccak(text=CLOB_AUTH_MESSAGE),
            ],
        )
    )
    return SignableMessage(b"\x01", domain, struct)


def recover_clob_auth_signer(
    address: str, timestamp: str, nonce: int, chain_id: int, signature: str
) -> str:
    """The checksummed signer of a ClobAuth message (ValueError on a malformed signature)."""
    if not _SIGNATURE.fullmatch(signature):
        raise ValueError("signature: expected 65 bytes hex")
    return _recover(clob_auth_signable(address, timestamp, nonce, chain_id), signature)
