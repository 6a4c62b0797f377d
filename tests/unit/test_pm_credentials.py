"""Wallet key loading (systemd credential / 0600 key file) and the cached CLOB API credentials."""

from __future__ import annotations

import json
import logging
import os
import pickle
import stat
from pathlib import Path

import pytest
from eth_account import Account

from autotrader.config import AppConfig, PolymarketConfig
from autotrader.errors import ConfigError
from autotrader.venue.polymarket.credentials import (
    API_CREDS_FILE,
    ApiCredentials,
    ApiCredsCache,
    WalletKey,
    load_wallet_key,
    require_wallet_key,
    wallet_key_for,
)


@pytest.fixture
def key_hex() -> str:
    return str(Account.create().key.hex()).removeprefix("0x")


def _write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_wallet_key_never_shows_itself(key_hex: str) -> None:
    key = WalletKey(f"  0x{key_hex.upper()}\n")
    assert key.reveal() == "0x" + key_hex
    assert key_hex not in repr(key) and key_hex not in str(key) and key_hex not in f"{key!r}"
    assert key.address == Account.from_key("0x" + key_hex).address
    with pytest.raises(TypeError):
        pickle.dumps(key)
    with pytest.raises(ValueError) as err:
        WalletKey(key_hex[:-1] + "z")
    assert key_hex[:20] not in str(err.value)


def test_key_from_systemd_credential_wins(tmp_path: Path, key_hex: str) -> None:
    _write(tmp_path / "polymarket-key", key_hex + "\n", 0o400)
    other = _write(tmp_path / "other.key", "11" * 32)
    cfg = PolymarketConfig(key_file=other)
    key = load_wallet_key(cfg, environ={"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert key is not None and key.reveal() == "0x" + key_hex
    # The credential is absent from this directory: key_file is used.
    empty = tmp_path / "empty"
    empty.mkdir()
    key = load_wallet_key(cfg, environ={"CREDENTIALS_DIRECTORY": str(empty)})
    assert key is not None and key.reveal() == "0x" + "11" * 32


def test_credential_name_comes_from_the_config(tmp_path: Path, key_hex: str) -> None:
    _write(tmp_path / "pm-wallet", key_hex)
    cfg = PolymarketConfig(key_credential="pm-wallet")
    key = load_wallet_key(cfg, environ={"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert key is not None and key.reveal().endswith(key_hex)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o666])
def test_key_file_readable_by_others_is_refused(tmp_path: Path, key_hex: str, mode: int) -> None:
    path = _write(tmp_path / "wallet.key", key_hex, mode)
    with pytest.raises(ConfigError) as err:
        load_wallet_key(PolymarketConfig(key_file=path), environ={})
    message = str(err.value)
    assert "\n" not in message
    assert str(path) in message and f"chmod 600 {path}" in message
    assert f"{mode:04o}" in message
    assert key_hex not in message


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_key_file_0600_or_stricter_is_accepted(tmp_path: Path, key_hex: str, mode: int) -> None:
    path = _write(tmp_path / "wallet.key", "0x" + key_hex + "\n", mode)
    key = load_wallet_key(PolymarketConfig(key_file=path), environ={})
    assert key is not None and key.reveal() == "0x" + key_hex


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to chown a file to another user")
def test_key_file_of_another_user_is_refused(tmp_path: Path, key_hex: str) -> None:
    path = _write(tmp_path / "wallet.key", key_hex)
    os.chown(path, 12345, -1)
    with pytest.raises(ConfigError) as err:
        load_wallet_key(PolymarketConfig(key_file=path), environ={})
    assert "owned by uid 12345" in str(err.value) and "chown" in str(err.value)


def test_bad_key_content_is_named_but_not_echoed(tmp_path: Path) -> None:
    secret_looking = "deadbeef" * 7
    path = _write(tmp_path / "wallet.key", secret_looking)
    with pytest.raises(ConfigError) as err:
        load_wallet_key(PolymarketConfig(key_file=path), environ={})
    assert str(path) in str(err.value) and "64 hex digits" in str(err.value)
    assert secret_looking not in str(err.value)


def test_missing_key_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nope.key"
    with pytest.raises(ConfigError, match="does not exist"):
        load_wallet_key(PolymarketConfig(key_file=path), environ={})


def test_live_without_a_key_says_where_it_looked(tmp_path: Path) -> None:
    live = AppConfig(mode="live", state_dir=tmp_path)
    with pytest.raises(ConfigError) as err:
        wallet_key_for(live, environ={})
    message = str(err.value)
    assert "$CREDENTIALS_DIRECTORY/polymarket-key (CREDENTIALS_DIRECTORY is not set)" in message
    assert "polymarket.key_file (not set)" in message
    with pytest.raises(ConfigError) as err:
        require_wallet_key(live.polymarket, environ={"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert str(tmp_path / "polymarket-key") in str(err.value)
    assert wallet_key_for(AppConfig(mode="paper", state_dir=tmp_path), environ={}) is None


# --- cached API credentials ------------------------------------------------------------------

CREDS = ApiCredentials("00000000-0000-0000-0000-000000000001", "c2VjcmV0c2VjcmV0", "pass" * 16)


def test_api_creds_repr_hides_the_secret() -> None:
    assert "c2VjcmV0" not in repr(CREDS) and "pass" not in repr(CREDS)
    assert ApiCredentials.from_wire(CREDS.to_wire()) == CREDS
    with pytest.raises(ValueError):
        ApiCredentials.from_wire({"apiKey": "k", "secret": "", "passphrase": "p"})


def test_creds_derived_once_cached_0600_and_reused(tmp_path: Path) -> None:
    calls: list[int] = []

    def derive() -> ApiCredentials:
        calls.append(1)
        return CREDS

    cache = ApiCredsCache(tmp_path / "state", address="0xAbC", host="http://127.0.0.1:1/")
    assert cache.get_or_derive(derive) == CREDS
    path = tmp_path / "state" / API_CREDS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["address"] == "0xabc"
    again = ApiCredsCache(tmp_path / "state", address="0xabc", host="http://127.0.0.1:1")
    assert again.get_or_derive(derive) == CREDS
    assert len(calls) == 1
    # Another wallet or another host does not reuse them.
    assert (
        ApiCredsCache(tmp_path / "state", address="0xdef", host="http://127.0.0.1:1").load() is None
    )
    assert ApiCredsCache(tmp_path / "state", address="0xabc", host="http://x").load() is None
    cache.forget()
    assert not path.exists()


@pytest.mark.parametrize(
    "content", ["{not json", "[]", '{"address": "0xabc", "host": "h", "apiKey": "k"}', ""]
)
def test_unreadable_cache_is_rederived(
    tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = _write(tmp_path / API_CREDS_FILE, content)
    cache = ApiCredsCache(tmp_path, address="0xabc", host="h")
    with caplog.at_level(logging.INFO):
        assert cache.get_or_derive(lambda: CREDS) == CREDS
    assert json.loads(path.read_text())["apiKey"] == CREDS.api_key
    assert CREDS.secret not in caplog.text and CREDS.passphrase not in caplog.text


def test_cache_too_open_is_ignored_and_rewritten_0600(tmp_path: Path) -> None:
    ApiCredsCache(tmp_path, address="0xabc", host="h").store(CREDS)
    path = tmp_path / API_CREDS_FILE
    path.chmod(0o644)
    fresh = ApiCredentials("00000000-0000-0000-0000-000000000002", "bmV3", "p2")
    assert ApiCredsCache(tmp_path, address="0xabc", host="h").get_or_derive(lambda: fresh) == fresh
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_blank_credential_is_the_units_empty_fallback_not_a_bad_key(
    tmp_path: Path, key_hex: str
) -> None:
    # The packaged units set `SetCredential=polymarket-key:` + newline so paper mode starts
    # without a key file; in live mode that must read as "missing", with the file to fill in.
    _write(tmp_path / "polymarket-key", "\n")
    env = {"CREDENTIALS_DIRECTORY": str(tmp_path)}
    assert load_wallet_key(PolymarketConfig(), environ=env) is None
    with pytest.raises(ConfigError) as err:
        require_wallet_key(PolymarketConfig(), environ=env)
    message = str(err.value)
    assert "missing" in message and "not a private key" not in message
    assert "/etc/autotrader/credentials/polymarket-key" in message
    # A blank credential does not hide a key file named in the config.
    key_file = _write(tmp_path / "wallet.key", key_hex)
    assert load_wallet_key(PolymarketConfig(key_file=key_file), environ=env) is not None
