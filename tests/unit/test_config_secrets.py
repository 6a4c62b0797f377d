"""Secrets in the YAML file are refused, located, and never echoed back."""

from __future__ import annotations

from pathlib import Path

import pytest

from autotrader.config import load_config
from autotrader.config_secrets import is_secret_name
from autotrader.errors import ConfigError

KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
WALLET_HINT = (
    "secrets do not belong in the YAML file: put the key in a systemd credential "
    "(LoadCredential=polymarket-key:/path) or a 0600 file named by polymarket.key_file"
)


def refused(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "autotrader.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    lines = [str(p).removeprefix(f"{path}:") for p in info.value.problems]
    assert all(KEY not in line and "hunter2" not in line for line in lines), lines
    assert KEY not in str(info.value)
    return lines


def test_private_key_in_polymarket_section(tmp_path: Path) -> None:
    assert refused(tmp_path, f"polymarket:\n  private_key: '0x{KEY}'\n") == [
        f"2:3: polymarket.private_key: {WALLET_HINT}"
    ]


@pytest.mark.parametrize("value", [f"0x{KEY}", KEY, f'"{KEY}"', KEY.upper()])
def test_a_value_that_looks_like_a_private_key_is_refused_anywhere(
    tmp_path: Path, value: str
) -> None:
    text = f"polymarket:\n  funder: {value}\n"
    assert refused(tmp_path, text) == [
        f"2:11: polymarket.funder: looks like a private key; {WALLET_HINT}"
    ]


def test_a_key_made_only_of_digits_is_still_refused(tmp_path: Path) -> None:
    digits = "1" * 64  # unquoted, YAML would read it as a number
    lines = refused(tmp_path, f"status_page: {{refresh_secs: {digits}}}\n")
    assert lines[0].startswith("1:29: status_page.refresh_secs: looks like a private key")
    assert all(digits not in line for line in lines)


def test_secret_inside_a_strategy_list(tmp_path: Path) -> None:
    text = (
        "strategies:\n"
        "  - name: p\n"
        "    kind: btc_updown_15m\n"
        "    schedule: {every: 15m}\n"
        "    allocation_usd: 10\n"
        "    limits: {daily_loss_usd: 1, max_position_pct: 5}\n"
        f"    params: {{apiSecret: '{KEY}'}}\n"
    )
    assert refused(tmp_path, text) == [
        "7:14: strategies[0].params.apiSecret: secrets do not belong in the YAML file: pass it"
        " as a systemd credential (LoadCredential=NAME:/path) and name the credential here"
        " instead"
    ]


def test_smtp_password_points_at_the_credential(tmp_path: Path) -> None:
    text = (
        "notifications:\n"
        "  email:\n"
        "    smtp_host: mail\n"
        "    from: bot@example.com\n"
        "    to: [ops@example.com]\n"
        "    password: hunter2\n"
    )
    assert refused(tmp_path, text) == [
        "6:5: notifications.email.password: secrets do not belong in the YAML file: put the SMTP"
        " password in a systemd credential (LoadCredential=smtp-password:/path), named by"
        " notifications.email.password_credential"
    ]


def test_secret_refusal_is_reported_with_the_other_problems(tmp_path: Path) -> None:
    text = f"mode: hot\npolymarket:\n  mnemonic: 'abandon abandon'\n  key: '{KEY}'\n"
    lines = refused(tmp_path, text)
    assert lines == [
        "1:7: mode: expected one of paper, live (got 'hot')",
        f"3:3: polymarket.mnemonic: {WALLET_HINT}",
        f"4:3: polymarket.key: {WALLET_HINT}",
    ]


def test_credential_names_and_files_are_not_secrets(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(
        "polymarket: {key_credential: polymarket-key, key_file: wallet.key}\n"
        "notifications:\n"
        "  email: {smtp_host: m, from: a@b.c, to: [d@e.f], username: bot,"
        " password_credential: smtp-password}\n"
    )
    cfg = load_config(path)
    assert cfg.polymarket.key_file == tmp_path / "wallet.key"


def test_empty_or_null_secret_keys_are_only_unknown_keys(tmp_path: Path) -> None:
    lines = refused(tmp_path, "polymarket: {private_key: null}\n")
    assert lines == [
        "1:14: polymarket.private_key: unknown key (allowed: chain_id, clob_url, data_url, funder,"
        " gamma_url, key_credential, key_file, signature_type)"
    ]


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("private_key", True),
        ("privateKey", True),
        ("Private-Key", True),
        ("PRIVATE_KEY", True),
        ("key", True),
        ("secret", True),
        ("api_secret", True),
        ("apiKey", True),
        ("smtp_password", True),
        ("passphrase", True),
        ("mnemonic", True),
        ("seed_phrase", True),
        ("key_file", False),
        ("key_credential", False),
        ("password_credential", False),
        ("monkey", False),
        ("seed", False),
        ("keyboard", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret
