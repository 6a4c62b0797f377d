"""Refusing secrets in the YAML file: they belong in systemd credentials or 0600 files.

A config file is read by many (backups, support tickets, `config show`); a wallet key in it is
a wallet lost. So a key *named* like a secret with a string value, or any value that looks like
a private key, is refused wherever it appears, and the value is never echoed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import yaml

from autotrader.config_yaml import Loc, Source, format_loc
from autotrader.errors import ConfigProblem

_SECRET_NAMES = (
    "private_key",
    "privkey",
    "key",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "api_key",
    "api_secret",
    "mnemonic",
    "seed_phrase",
)
_NULL, _BOOL = "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool"
_PRIVATE_KEY = re.compile(r"^\s*(0x)?[0-9a-fA-F]{64}\s*$")

_WALLET_HINT = (
    "secrets do not belong in the YAML file: put the key in a systemd credential "
    "(LoadCredential=polymarket-key:/path) or a 0600 file named by polymarket.key_file"
)
_SMTP_HINT = (
    "secrets do not belong in the YAML file: put the SMTP password in a systemd credential "
    "(LoadCredential=smtp-password:/path), named by notifications.email.password_credential"
)
_OTHER_HINT = (
    "secrets do not belong in the YAML file: pass it as a systemd credential "
    "(LoadCredential=NAME:/path) and name the credential here instead"
)


def _normalised(name: str) -> str:
    # privateKey, Private-Key and PRIVATE_KEY are all private_key.
    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    return re.sub(r"[\s.-]+", "_", name).lower()


def is_secret_name(name: str) -> bool:
    """Whether a key called ``name`` would hold a secret (``smtp_password``, ``apiKey`` …)."""
    norm = _normalised(name)
    return any(norm == s or norm.endswith("_" + s) for s in _SECRET_NAMES)


def _hint(loc: Loc) -> str:
    name = _normalised(str(loc[-1]))
    if loc[:1] == ("notifications",):
        return _SMTP_HINT if "pass" in name else _OTHER_HINT
    if loc[:1] == ("polymarket",) or any(w in name for w in ("key", "mnemonic", "seed")):
        return _WALLET_HINT
    return _OTHER_HINT


def _walk(node: yaml.Node, loc: Loc) -> Iterator[tuple[Loc, yaml.Node, yaml.Node | None]]:
    """(location, value node, key node) of every scalar in the document."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            child = (*loc, name)
            if isinstance(value, yaml.ScalarNode):
                yield child, value, key
            else:
                yield from _walk(value, child)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            if isinstance(item, yaml.ScalarNode):
                yield (*loc, i), item, None
            else:
                yield from _walk(item, (*loc, i))


def find_secrets(source: Source) -> list[tuple[Loc, ConfigProblem]]:
    """Every secret in the document, located, as (location, problem)."""
    found = []
    for loc, value, key in _walk(source.root, ()):
        # Any tag: an unquoted key of 64 decimal digits would otherwise be an int.
        text = str(value.value)
        if not text or value.tag in (_NULL, _BOOL):
            continue
        named = key is not None and is_secret_name(str(key.value))
        if named or _PRIVATE_KEY.match(text):
            message = _hint(loc) if named else "looks like a private key; " + _WALLET_HINT
            found.append((loc, source.problem(key if named else value, format_loc(loc), message)))
    return found
