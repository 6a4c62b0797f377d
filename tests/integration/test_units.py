"""The systemd units in packaging/systemd: verified silently, hardened, and in step with the code.

``systemd-analyze verify`` exits 0 on typos (it only prints a warning), so the check is that it
prints nothing at all. It also insists that ExecStart=/ExecReload= binaries exist, so it runs
with ``--root`` on a scratch tree: stubs for /usr/bin/autotrader and /bin/kill, the host's own
unit directory (for the targets our units name) and our units in /etc/systemd/system.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from autotrader.config import AppConfig

REPO = Path(__file__).resolve().parents[2]
UNITS = REPO / "packaging" / "systemd"
SERVICES = sorted(UNITS.glob("*.service"))
MAX_EXPOSURE = 1.5
HOST_UNIT_DIR = Path("/usr/lib/systemd/system")
STUBS = ("usr/bin/autotrader", "bin/kill")


@pytest.fixture(scope="module")
def analyze() -> str:
    """Path of systemd-analyze (make's sysdeps installs it; CI must have it)."""
    found = shutil.which("systemd-analyze")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs systemd-analyze (apt-get install systemd)")
        pytest.skip("systemd-analyze is not installed")
    return found


def make_root(root: Path, units: Path = UNITS) -> Path:
    """A scratch root for ``verify --root``: binary stubs, the host's units, ours."""
    for stub in STUBS:
        path = root / stub
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\nexit 0\n")
        path.chmod(0o755)
    shutil.copytree(HOST_UNIT_DIR, root / HOST_UNIT_DIR.relative_to("/"), symlinks=True)
    target = root / "etc" / "systemd" / "system"
    target.mkdir(parents=True)
    for unit in units.iterdir():
        shutil.copy(unit, target / unit.name)
    return root


def verify_output(analyze: str, root: Path) -> str:
    """Everything ``verify`` prints for our units in ``root`` (empty when they are clean)."""
    names = sorted(p.name for p in UNITS.iterdir() if p.suffix in (".service", ".target"))
    proc = subprocess.run(
        [analyze, "verify", "--man=no", f"--root={root}", *names],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "SYSTEMD_LOG_COLOR": "0", "SYSTEMD_PAGER": ""},
    )
    return proc.stdout + proc.stderr + ("" if proc.returncode == 0 else f"rc={proc.returncode}")


def exposure(analyze: str, unit: Path) -> float:
    """The overall exposure `security --offline=true` gives ``unit``."""
    proc = subprocess.run(
        [analyze, "security", "--offline=true", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", proc.stdout)
    assert found, proc.stdout + proc.stderr
    return float(found.group(1))


def directives(unit: Path) -> Iterator[tuple[str, str, str]]:
    """(section, key, value) of every assignment, repeated keys included."""
    section = ""
    for raw in unit.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        yield section, key.strip(), value.strip()


def values(unit: Path, key: str) -> list[str]:
    """Every value ``key`` is assigned in ``unit``."""
    return [v for _s, k, v in directives(unit) if k == key]


def secs(value: str) -> float:
    """A systemd time span of plain seconds or ``<n>s``/``<n>min``."""
    found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(s|sec|min)?", value)
    assert found, f"unsupported time span {value!r}"
    return float(found.group(1)) * (60 if found.group(2) == "min" else 1)


def test_there_are_units() -> None:
    assert (UNITS / "autotrader.target").is_file()
    names = {p.name for p in SERVICES}
    assert names == {f"autotrader-{d}.service" for d in ("signal", "executor", "scheduler")}


def test_verify_prints_nothing(analyze: str, tmp_path: Path) -> None:
    assert verify_output(analyze, make_root(tmp_path)) == ""


@pytest.mark.parametrize(
    ("bad_line", "good_line"),
    [
        ("WatchdogSecc=30", "WatchdogSec=30"),
        ("Type=notifyy", "Type=notify"),
        ("Restart=allways", "Restart=always"),
    ],
)
def test_verify_check_catches_a_typo(
    analyze: str, tmp_path: Path, bad_line: str, good_line: str
) -> None:
    """The same check fails on a broken copy: proof that it is not silently passing."""
    units = tmp_path / "units"
    shutil.copytree(UNITS, units)
    unit = units / "autotrader-signal.service"
    text = unit.read_text()
    assert good_line in text.splitlines()
    unit.write_text(text.replace(good_line, bad_line))
    out = verify_output(analyze, make_root(tmp_path / "root", units))
    key, _, value = bad_line.partition("=")
    assert key in out or value in out, out


def test_verify_check_catches_a_missing_binary(analyze: str, tmp_path: Path) -> None:
    root = make_root(tmp_path)
    (root / "bin" / "kill").unlink()
    assert "/bin/kill" in verify_output(analyze, root)


@pytest.mark.parametrize("unit", SERVICES, ids=lambda p: p.name)
def test_exposure_is_low(analyze: str, unit: Path) -> None:
    assert exposure(analyze, unit) <= MAX_EXPOSURE


@pytest.mark.parametrize("unit", SERVICES, ids=lambda p: p.name)
def test_service_follows_the_daemon_contract(unit: Path) -> None:
    one = {key: value for _section, key, value in directives(unit)}  # the last one counts
    assert one["Type"] == "notify" and one["NotifyAccess"] == "main"
    assert one["ExecReload"] == "/bin/kill -HUP $MAINPID"  # systemd 252: no notify-reload
    assert one["Restart"] == "always" and one["StartLimitIntervalSec"] == "0"
    assert one["PartOf"] == one["ReloadPropagatedFrom"] == "autotrader.target"
    assert one["SystemCallErrorNumber"] == "EPERM"  # else PyPI numpy dies of SIGSYS
    assert one["Environment"] == "AUTOTRADER_CONFIG=/etc/autotrader/autotrader.yaml"
    assert one["StateDirectory"] == "autotrader" and one["ConfigurationDirectory"] == "autotrader"
    defaults = AppConfig().daemons
    # The watchdog must tolerate two missed heartbeats; stopping must outlast the shutdown.
    assert secs(one["WatchdogSec"]) >= 2 * defaults.heartbeat_secs
    assert secs(one["TimeoutStopSec"]) > defaults.shutdown_timeout_secs
    name = unit.name.removeprefix("autotrader-").removesuffix(".service")
    assert one["ExecStart"] == f"/usr/bin/autotrader run {name}"


def test_target_wants_every_service() -> None:
    wanted = " ".join(values(UNITS / "autotrader.target", "Wants")).split()
    assert {p.name for p in SERVICES} <= set(wanted)
    for unit in SERVICES:
        assert values(unit, "WantedBy") == ["autotrader.target"]


def test_signal_unit_gets_no_wallet_key() -> None:
    """Only the executor touches money; the signal daemon must not even see the key."""
    unit = UNITS / "autotrader-signal.service"
    assert not [k for _s, k, _v in directives(unit) if "Credential" in k]


def credentials(unit: Path) -> dict[str, list[str]]:
    """Credential name -> the directives that provide it (LoadCredential, SetCredential …)."""
    found: dict[str, list[str]] = {}
    for _section, key, value in directives(unit):
        if "Credential" in key:
            found.setdefault(value.partition(":")[0], []).append(f"{key}={value}")
    return found


@pytest.mark.parametrize(
    ("unit", "name", "file"),
    [
        ("autotrader-executor.service", AppConfig().polymarket.key_credential, "polymarket-key"),
        ("autotrader-scheduler.service", "smtp-password", "smtp-password"),
    ],
)
def test_each_secret_reaches_only_its_daemon(unit: str, name: str, file: str) -> None:
    """The executor gets the wallet key, the scheduler the SMTP password, each nothing else.

    LoadCredential= of a missing file fails the start in systemd 252, so each comes with a
    blank SetCredential= fallback: paper mode (no key) and e-mail without login must start.
    """
    assert credentials(UNITS / unit) == {
        name: [
            f"LoadCredential={name}:/etc/autotrader/credentials/{file}",
            f"SetCredential={name}:\\n",
        ]
    }


def test_the_smtp_credential_name_is_the_config_default() -> None:
    from autotrader.config_notify import EmailConfig

    field = EmailConfig.model_fields["password_credential"]
    assert field.default == "smtp-password"


def test_the_package_installs_every_unit() -> None:
    """debian/autotrader.install ships packaging/systemd/* to lib/systemd/system."""
    install = (REPO / "packaging" / "debian" / "autotrader.install").read_text().splitlines()
    shipped: set[str] = set()
    for line in install:
        source, _, dest = line.partition(" ")
        if dest.strip() == "lib/systemd/system/":
            shipped |= {p.name for p in REPO.glob(source)}
    assert shipped == {p.name for p in UNITS.iterdir()}
