"""The wallet key and the CLOB API credentials derived from it.

The key comes from a systemd credential (``LoadCredential=polymarket-key:/path`` puts it in
``$CREDENTIALS_DIRECTORY/polymarket-key``) or from ``polymarket.key_file``, a file only this user
may read; never from the YAML file. It lives in a :class:`WalletKey` whose repr/str never show
it, and no message here ever quotes it.

L2 API credentials are derived once (L1 ``create_or_derive``) and cached in
``<state_dir>/polymarket-api-creds.json`` (mode 0600, written atomically) so a restart does not
sign a new L1 request; a cache that is unreadable, too open, or for another wallet or host is
re-derived.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account

from autotrader.config import AppConfig, PolymarketConfig
from autotrader.errors import ConfigError, ConfigProblem
from autotrader.fsutil import atomic_write, blank_credential

log = logging.getLogger("autotrader.venue.polymarket")

API_CREDS_FILE = "polymarket-api-creds.json"
_KEY = re.compile(r"(?:0x)?([0-9a-fA-F]{64})")


class WalletKey:
    """A private key that does not print itself: ``reveal()`` is the only way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        m = _KEY.fullmatch(value.strip())
        if m is None:
            raise ValueError("not a private key (expected 64 hex digits, optionally 0x-prefixed)")
        self._value = "0x" + m.group(1).lower()

    def reveal(self) -> str:
        """The key itself, ``0x`` + 64 lowercase hex digits; pass it straight to the signer."""
        return self._value

    @property
    def address(self) -> str:
        """The checksummed wallet address of this key."""
        return str(Account.from_key(self._value).address)

    def __repr__(self) -> str:
        return "WalletKey(***)"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        # Pickling would copy the key into whatever stores the pickle (caches, crash dumps).
        raise TypeError("WalletKey cannot be pickled")


@dataclass(frozen=True)
class ApiCredentials:
    """CLOB L2 credentials; only ``api_key`` appears in the repr."""

    api_key: str
    secret: str = field(repr=False)
    passphrase: str = field(repr=False)

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> ApiCredentials:
        """From an /auth/api-key body (apiKey, secret, passphrase); ValueError if incomplete."""
        values = [data.get(k) for k in ("apiKey", "secret", "passphrase")]
        if not all(isinstance(v, str) and v for v in values):
            raise ValueError("expected non-empty apiKey, secret and passphrase")
        return cls(str(values[0]), str(values[1]), str(values[2]))

    def to_wire(self) -> dict[str, str]:
        """The /auth/api-key body form."""
        return {"apiKey": self.api_key, "secret": self.secret, "passphrase": self.passphrase}


def _problem(path: Path | str, message: str) -> ConfigError:
    return ConfigError([ConfigProblem(str(path), None, None, "polymarket.key_file", message)])


def _credential_path(cfg: PolymarketConfig, environ: Mapping[str, str]) -> Path | None:
    directory = environ.get("CREDENTIALS_DIRECTORY")
    return Path(directory) / cfg.key_credential if directory else None


def _check_key_file(path: Path) -> None:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise _problem(path, f"key file {path} does not exist") from None
    except OSError as exc:
        raise _problem(path, f"cannot stat key file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise _problem(path, f"key file {path} is not a regular file")
    if st.st_uid != os.getuid():
        raise _problem(
            path,
            f"key file {path} is owned by uid {st.st_uid}, not by this user (uid {os.getuid()}); "
            f"fix: chown $(id -un) {path}",
        )
    if st.st_mode & 0o077:
        mode = stat.S_IMODE(st.st_mode)
        raise _problem(
            path, f"key file {path} has mode {mode:04o}, readable by others; fix: chmod 600 {path}"
        )


def _read_key(path: Path, what: str) -> WalletKey:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not text"
        raise _problem(path, f"cannot read {what} {path}: {reason}") from None
    try:
        return WalletKey(text)
    except ValueError as exc:
        # The message names the file and the expected shape, never the content.
        raise _problem(path, f"{what} {path}: {exc}") from None


def load_wallet_key(
    cfg: PolymarketConfig, *, environ: Mapping[str, str] | None = None
) -> WalletKey | None:
    """The wallet key from the systemd credential, else from ``key_file``; None if neither is set.

    A key file that is too open or owned by someone else is refused (ConfigError, one line
    naming the path and the fix); systemd credentials are trusted as systemd laid them out.
    """
    env = os.environ if environ is None else environ
    cred = _credential_path(cfg, env)
    if cred is not None and cred.exists() and not blank_credential(cred):
        return _read_key(cred, "systemd credential")
    if cfg.key_file is not None:
        _check_key_file(cfg.key_file)
        return _read_key(cfg.key_file, "key file")
    return None


def require_wallet_key(
    cfg: PolymarketConfig, *, environ: Mapping[str, str] | None = None
) -> WalletKey:
    """The wallet key, or ConfigError saying exactly where it was looked for."""
    env = os.environ if environ is None else environ
    key = load_wallet_key(cfg, environ=env)
    if key is not None:
        return key
    cred = _credential_path(cfg, env)
    looked = (
        f"{cred} (systemd credential {cfg.key_credential!r}: missing)"
        if cred is not None
        else f"$CREDENTIALS_DIRECTORY/{cfg.key_credential} (CREDENTIALS_DIRECTORY is not set)"
    )
    raise ConfigError(
        [
            ConfigProblem(
                "<config>",
                None,
                None,
                "polymarket",
                f"mode live needs the wallet key; looked for {looked} and polymarket.key_file "
                "(not set); fix: put the key in /etc/autotrader/credentials/polymarket-key "
                "(0600, loaded by the packaged unit), or key_file: a 0600 file",
            )
        ]
    )


def wallet_key_for(
    config: AppConfig, *, environ: Mapping[str, str] | None = None
) -> WalletKey | None:
    """The wallet key for ``config``: required in live mode (ConfigError naming where it was
    looked for), optional in paper mode."""
    if config.mode == "live":
        return require_wallet_key(config.polymarket, environ=environ)
    return load_wallet_key(config.polymarket, environ=environ)


class ApiCredsCache:
    """``<state_dir>/polymarket-api-creds.json``: the L2 credentials of one wallet on one host."""

    def __init__(self, state_dir: Path, *, address: str, host: str) -> None:
        self.path = Path(state_dir) / API_CREDS_FILE
        self.address = address.lower()
        self.host = host.rstrip("/")

    def load(self) -> ApiCredentials | None:
        """The cached credentials, or None when absent, unreadable, too open, or not ours."""
        try:
            st = self.path.stat()
            if st.st_mode & 0o077 or st.st_uid != os.getuid():
                log.warning("ignoring %s: not a 0600 file of this user; re-deriving", self.path)
                return None
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable %s (%s); re-deriving", self.path, type(exc).__name__)
            return None
        if not isinstance(data, dict):
            return None
        if data.get("address") != self.address or data.get("host") != self.host:
            return None
        try:
            return ApiCredentials.from_wire(data)
        except ValueError:
            return None

    def store(self, creds: ApiCredentials) -> None:
        """Write the credentials atomically with mode 0600."""
        body = {"address": self.address, "host": self.host, **creds.to_wire()}
        atomic_write(self.path, (json.dumps(body, indent=2) + "\n").encode(), mode=0o600)

    def get_or_derive(self, derive: Callable[[], ApiCredentials]) -> ApiCredentials:
        """The cached credentials, or ``derive()`` once and cache the result."""
        creds = self.load()
        if creds is None:
            creds = derive()
            self.store(creds)
            log.info("derived CLOB API credentials for %s (key %s)", self.address, creds.api_key)
        return creds

    def forget(self) -> None:
        """Drop the cache (e.g. after the venue said the key is invalid)."""
        self.path.unlink(missing_ok=True)
