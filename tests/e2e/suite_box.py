"""The packaged suite installed in a booted container: what the end-to-end test drives.

``prepare()`` gets the two cached inputs (the Debian 12 root file system and the .deb built from
this tree), ``SuiteBox`` wraps a booted container with the suite's units, CLI and database.
Every wait has a deadline (``wait_for``); nothing sleeps for a fixed time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nspawn_box import CACHE, Container, wait_for, wait_until

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CANDLES = REPO / "tests" / "data" / "btcusdt_1m_demo.csv"
SERVICES = ("autotrader-signal", "autotrader-executor", "autotrader-scheduler")
CONFIG = "/etc/autotrader/autotrader.yaml"
SIM_UNIT = "autotrader-e2e-sim.service"
# The simulator as a unit of its own: same user and state folder as the daemons, so all of
# them share the simulated clock in /var/lib/autotrader/clock.json.
SIM_UNIT_TEXT = f"""\
[Unit]
Description=Polymarket simulator for the end-to-end test
Before=autotrader.target

[Service]
User=autotrader
Group=autotrader
StateDirectory=autotrader
StateDirectoryMode=0750
ExecStart=/usr/bin/autotrader sim --config {CONFIG}
"""

# Inside the container, as the daemons' user: the database's invariants after crashes.
# Doubled: an intent with two orders, fills adding up to more than their order matched, two
# entries for one (strategy, window). Lost: an intent still open long after it expired, an
# order whose fills are missing.
DB_CHECK = """\
import json, sqlite3
db = sqlite3.connect("file:/var/lib/autotrader/autotrader.db?mode=ro", uri=True)
q = lambda sql: [list(r) for r in db.execute(sql)]
print(json.dumps({
    "intents": q("SELECT status, count(*) FROM order_intents GROUP BY status"),
    "doubled_orders": q("SELECT intent_id, count(*) FROM orders WHERE intent_id IS NOT NULL "
                        "GROUP BY intent_id HAVING count(*) > 1"),
    "doubled_entries": q("SELECT strategy, entry_key, count(*) FROM order_intents "
                         "WHERE entry_key IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1"),
    "fills_vs_orders": q("SELECT o.id, o.size_matched, coalesce(sum(f.size), 0) FROM orders o "
                         "LEFT JOIN fills f ON f.order_id = o.id GROUP BY o.id "
                         "HAVING abs(o.size_matched - coalesce(sum(f.size), 0)) > 1e-9"),
    "open_intents": q("SELECT id, status FROM order_intents "
                      "WHERE status IN ('PENDING', 'CLAIMED')"),
    "orders_per_strategy": q("SELECT strategy, count(*) FROM orders GROUP BY strategy"),
}))
"""


def ci() -> bool:
    """Whether this is a CI run (missing prerequisites fail instead of skipping)."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable() -> str | None:
    """Why this machine cannot run the test, or None (installs the tools when root)."""
    if os.geteuid() != 0:
        return "the systemd end-to-end test needs root (systemd-nspawn, mmdebstrap, dpkg)"
    if not shutil.which("apt-get"):
        return "the systemd end-to-end test needs a Debian host (apt-get)"
    proc = subprocess.run(
        ["bash", str(REPO / "scripts" / "debdeps.sh"), "e2e"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        return f"scripts/debdeps.sh e2e failed: {proc.stderr.strip()[-500:]}"
    for tool in ("systemd-nspawn", "mmdebstrap", "nsenter", "unshare", "dpkg-buildpackage"):
        if not shutil.which(tool):
            return f"the systemd end-to-end test needs {tool}"
    if not Path("/sys/fs/cgroup").is_dir():
        return "the systemd end-to-end test needs /sys/fs/cgroup"
    return None


def build_deb(out: Path) -> Path:
    """The .deb of this tree (scripts/build-deb.sh, cached by the hash of its inputs), or the
    one named by ``$AUTOTRADER_E2E_DEB`` (a CI job that has just run `make deb`)."""
    given = os.environ.get("AUTOTRADER_E2E_DEB")
    if given:
        return Path(given)
    # Uncompressed: it is installed once and thrown away; gzip would cost a minute.
    env = {**os.environ, "DEB_CACHE": str(CACHE / "deb"), "AUTOTRADER_DEB_COMPRESSION": "none"}
    proc = subprocess.run(
        ["bash", str(REPO / "scripts" / "build-deb.sh"), str(out)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(f"make deb failed:\n{proc.stderr[-3000:]}")
    return Path(proc.stdout.strip().splitlines()[-1])


def payload(folder: Path, deb: Path) -> Path:
    """The read-only folder bound at /e2e: the .deb, the config, the candles, the sim unit."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(deb, folder / "autotrader.deb")
    shutil.copy(HERE / "e2e.yaml", folder / "autotrader.yaml")
    shutil.copy(CANDLES, folder / CANDLES.name)
    (folder / SIM_UNIT).write_text(SIM_UNIT_TEXT)
    return folder


@dataclass
class SuiteBox:
    """The container with the suite installed, plus what the tests learnt on the way."""

    box: Container
    timings: dict[str, float] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    def cli(self, *args: str, check: bool = True, timeout: float = 60) -> str:
        """`autotrader ARGS` as the daemons' user (root would leave root-owned SQLite files)."""
        proc = self.box.run("runuser", "-u", "autotrader", "--", "autotrader", *args,
                            check=check, timeout=timeout)  # fmt: skip
        return proc.stdout

    def cli_json(self, *args: str) -> Any:
        """`autotrader ARGS --json`, parsed."""
        return json.loads(self.cli(*args, "--json"))

    def state(self, unit: str) -> str:
        """``ActiveState/SubState`` of a unit."""
        return f"{self.box.show(unit, 'ActiveState')}/{self.box.show(unit, 'SubState')}"

    def main_pid(self, unit: str) -> int:
        """The unit's main PID (0 when not running)."""
        return int(self.box.show(unit, "MainPID"))

    def cursor(self) -> str:
        """A point in the journal (microseconds since the epoch): ``journal_since`` shows what
        came after it. Not a journal cursor: journalctl 252 drops entries when --after-cursor
        is combined with -u or -p."""
        return self.box.run("date", "+%s%6N").stdout.strip()

    def journal_since(self, cursor: str, unit: str, *args: str) -> str:
        """One unit's journal (``journalctl -u UNIT ARGS``) after ``cursor``, one message a line."""
        out = self.box.run("journalctl", "--no-pager", "-o", "json", "-u", unit, *args).stdout
        lines = []
        for raw in out.splitlines():
            entry = json.loads(raw)
            message = entry.get("MESSAGE")
            if int(entry["__REALTIME_TIMESTAMP"]) > int(cursor) and isinstance(message, str):
                lines.append(message)
        return "".join(f"{line}\n" for line in lines)

    def wait_journal(
        self, cursor: str, unit: str, text: str, *args: str, timeout: float = 30
    ) -> str:
        """Wait until ``text`` is in ``unit``'s journal (``journalctl ARGS``) after ``cursor``."""
        return wait_until(
            f"{text!r} in the journal of {unit}",
            lambda: self.journal_since(cursor, unit, *args),
            lambda journal: text in journal,
            timeout,
        )

    def wait_restarted(self, unit: str, restarts: int, old_pid: int, timeout: float = 60) -> int:
        """Wait until systemd has restarted ``unit`` (NRestarts up, a new PID running)."""
        wait_for(
            f"{unit} restarted by systemd",
            lambda: (
                int(self.box.show(unit, "NRestarts")) > restarts
                and self.main_pid(unit) not in (0, old_pid)
            ),
            timeout,
        )
        return self.wait_running(unit, timeout)

    def wait_state(self, unit: str, state: str, timeout: float = 60) -> None:
        """Wait until ``unit`` is in ``state`` (``ActiveState/SubState``)."""
        wait_until(f"{unit} {state}", lambda: self.state(unit), lambda s: s == state, timeout)

    def wait_running(self, unit: str, timeout: float = 60) -> int:
        """Wait until ``unit`` is active/running; its main PID."""
        self.wait_state(unit, "active/running", timeout)
        return self.main_pid(unit)

    def db_check(self) -> dict[str, Any]:
        """The database invariants (DB_CHECK) as seen inside the container."""
        result: dict[str, Any] = json.loads(self.python(DB_CHECK))
        return result

    def trade(self, *args: str) -> str:
        """A manual intent for the executor (``--no-wait``); its id."""
        return self.cli("trade", "buy", "--strategy", "manual", *args, "--no-wait").strip()

    def intent_status(self, intent_id: str) -> str | None:
        """The status of one intent, straight from the database (None if it is not there)."""
        code = (
            "import sqlite3, sys\n"
            "db = sqlite3.connect('file:/var/lib/autotrader/autotrader.db?mode=ro', uri=True)\n"
            "row = db.execute('SELECT status FROM order_intents WHERE id = ?', (sys.argv[1],))"
            ".fetchone()\n"
            "print(row[0] if row else '')\n"
        )
        return self.python(code, intent_id).strip() or None

    def fills(self, strategy: str) -> int:
        """How many fills ``strategy`` has in the database (0 before the tables exist)."""
        code = (
            "import sqlite3, sys\n"
            "db = sqlite3.connect('file:/var/lib/autotrader/autotrader.db?mode=ro', uri=True)\n"
            "try:\n"
            "    n = db.execute('SELECT count(*) FROM fills WHERE strategy = ?', (sys.argv[1],))"
            ".fetchone()[0]\n"
            "except sqlite3.Error:\n"
            "    n = 0\n"
            "print(n)\n"
        )
        return int(self.python(code, strategy))

    def python(self, code: str, *args: str) -> str:
        """Run Python ``code`` in the package's venv as the daemons' user; its stdout."""
        argv = ("runuser", "-u", "autotrader", "--", "/opt/venvs/autotrader/bin/python", "-c")
        return self.box.run(*argv, code, *args).stdout

    def timed(self, name: str, start: float) -> None:
        """Record the seconds since ``start`` under ``name``."""
        self.timings[name] = round(time.monotonic() - start, 2)
