"""A real systemd (PID 1 of a ``systemd-nspawn`` container) for the end-to-end test.

The root file system is a Debian 12 minbase built once with mmdebstrap and cached under
``/var/cache/autotrader-e2e`` (keyed by suite and package list). The container boots it with
``--volatile=overlay`` (the cache stays pristine), ``--private-network`` (loopback only) and
``--register=no --keep-unit`` (no machined or D-Bus on the host). Recipe and pitfalls:
``shared/reference/systemd/REPORT.md``:

* nspawn runs inside ``unshare -m`` with a tmpfs on ``/run/systemd/nspawn``: ``/run`` is not a
  tmpfs on these hosts and nspawn would otherwise leave its propagation folder behind;
* ``--keep-unit`` puts the container's cgroups below nspawn's own, so each container first moves
  into a cgroup of its own (removed afterwards) and parallel runs never share one;
* commands enter the container with ``nsenter -a`` and a clean environment (the host's PATH,
  pip and pyenv variables mean nothing inside).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TypeVar

SUITE = "bookworm"
# What a booted container needs before `dpkg -i autotrader.deb` (no network inside, so every
# dependency of the package must already be there): systemd as PID 1, procps for /bin/kill,
# python3.11 for the venv, and the C/C++ runtime the wheels link against.
ROOT_PACKAGES = ("systemd", "systemd-sysv", "dbus", "procps", "python3", "libstdc++6", "zlib1g")
CACHE = Path(os.environ.get("AUTOTRADER_E2E_CACHE", "/var/cache/autotrader-e2e"))
CLEAN_ENV = ("env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "SYSTEMD_PAGER=")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
T = TypeVar("T")


class Timeout(AssertionError):
    """A condition did not come true before its deadline."""


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, every: float = 0.2) -> T:
    """Poll ``probe`` until it returns something truthy; Timeout naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise Timeout(f"timed out after {timeout:g}s waiting for: {what}")
        time.sleep(every)  # polling interval, not a synchronisation


def wait_until(what: str, probe: Callable[[], T], ok: Callable[[T], bool], timeout: float) -> T:
    """Poll ``probe`` until ``ok`` accepts its value; that value (Timeout naming ``what``)."""
    box: list[T] = []

    def check() -> bool:
        value = probe()
        box[:] = [value]
        return ok(value)

    try:
        wait_for(what, check, timeout)
    except Timeout as exc:
        raise Timeout(f"{exc}; last seen: {str(box[0])[-1500:]}") from None
    return box[0]


def host_mirror() -> str:
    """The Debian mirror the host's apt uses (the one reachable from here)."""
    sources = sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    for path in sources:
        found = re.search(r"^URIs:\s*(\S+/debian)/?\s*$", path.read_text(), re.M)
        if found:
            return found.group(1)
    legacy = Path("/etc/apt/sources.list")
    if legacy.exists():
        found = re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)/?\s", legacy.read_text(), re.M)
        if found:
            return found.group(1)
    return DEFAULT_MIRROR


def rootfs_key() -> str:
    """Cache key of the root file system: suite, variant and package list."""
    spec = f"{SUITE} minbase {' '.join(sorted(ROOT_PACKAGES))}"
    return hashlib.sha256(spec.encode()).hexdigest()[:12]


def ensure_rootfs(cache: Path = CACHE) -> tuple[Path, bool]:
    """The cached root file system and whether it was built now (mmdebstrap, ~20 s)."""
    root = cache / f"rootfs-{SUITE}-{rootfs_key()}"
    if (root / "lib/systemd/systemd").exists():
        return root, False
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time; a waiting run re-uses it
        if (root / "lib/systemd/systemd").exists():
            return root, False
        tmp = cache / f"{root.name}.tmp{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        include = "--include=" + ",".join(ROOT_PACKAGES)
        argv = ["mmdebstrap", "--quiet", "--variant=minbase", include]
        proc = subprocess.run(
            [*argv, SUITE, str(tmp), host_mirror()], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            raise RuntimeError(f"mmdebstrap failed ({proc.returncode}): {proc.stderr[-2000:]}")
        tmp.rename(root)
    return root, True


class Container:
    """A booted container: ``run`` commands in it, ``close`` powers it off and cleans up."""

    def __init__(self, root: Path, binds: dict[Path, str], log: Path) -> None:
        self.cgroup = f"autotrader-e2e-{os.getpid()}-{time.monotonic_ns() % 100000}"
        self.log = log
        # Hybrid hosts (like these) have the name=systemd and unified hierarchies, a pure
        # cgroup2 host only the root: move into a cgroup of our own in each that exists.
        script = (
            "for h in systemd unified ''; do d=/sys/fs/cgroup/${h:+$h/}; "
            '[ -f "$d/cgroup.procs" ] || continue; mkdir -p "$d$CG" && '
            'echo $$ > "$d$CG/cgroup.procs"; done\n'
            "mkdir -p /run/systemd/nspawn && mount -t tmpfs tmpfs /run/systemd/nspawn\n"
            'exec systemd-nspawn "$@"'
        )
        nspawn = [
            "-q", f"--directory={root}", "--volatile=overlay", "--private-network",
            "--register=no", "--keep-unit", "--console=passive", "--machine=autotrader-e2e",
            *(f"--bind-ro={host}:{inside}" for host, inside in binds.items()),
            "--boot",
        ]  # fmt: skip
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                ["unshare", "-m", "sh", "-c", script, "nspawn", *nspawn],
                env={**os.environ, "CG": self.cgroup},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            self.leader = wait_for("the container's PID 1", self._find_leader, 20, every=0.05)
            wait_for("systemd's private socket", self._manager_up, 30, every=0.05)
            state = self.run("systemctl", "is-system-running", "--wait", check=False, timeout=90)
        except BaseException:
            self.close()
            raise
        self.boot_state = state.stdout.strip()

    def _find_leader(self) -> int | None:
        """The container's PID 1 as the host sees it: nspawn's child once it runs systemd
        (before that, the child is still nspawn setting up the container)."""
        if self.proc.poll() is not None:
            raise RuntimeError(f"systemd-nspawn exited {self.proc.returncode}: {self.boot_log()}")
        out = subprocess.run(
            ["ps", "-o", "pid=,comm=", "--ppid", str(self.proc.pid)], capture_output=True, text=True
        ).stdout.split("\n")
        for line in out:
            pid, _, comm = line.strip().partition(" ")
            if comm.strip() == "systemd":
                return int(pid)
        return None

    def _manager_up(self) -> bool:
        return self.run("test", "-S", "/run/systemd/private", check=False).returncode == 0

    def boot_log(self) -> str:
        """What nspawn and the container's console printed (the last 3000 characters)."""
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def run(
        self, *argv: str, input: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` inside the container as root; CalledProcessError if ``check`` fails."""
        proc = subprocess.run(
            ["nsenter", "-t", str(self.leader), "-a", *CLEAN_ENV, *argv],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"in container: {' '.join(argv)} -> {proc.returncode}\n{proc.stdout}{proc.stderr}"
            )
        return proc

    def sh(self, script: str, *, check: bool = True, timeout: float = 60) -> str:
        """Run a shell script inside the container; its stdout."""
        return self.run("sh", "-c", script, check=check, timeout=timeout).stdout

    def show(self, unit: str, prop: str) -> str:
        """One property of a unit (``systemctl show -P``)."""
        return self.run("systemctl", "show", unit, "-P", prop).stdout.strip()

    def journal(self, *args: str) -> str:
        """``journalctl -o cat`` with ``args``, as text."""
        return self.run("journalctl", "--no-pager", "-o", "cat", *args).stdout

    def write(self, path: str, text: str, mode: str = "0644") -> None:
        """Write a file inside the container (parents created)."""
        self.run("install", "-D", "-m", mode, "/dev/stdin", path, input=text)

    def close(self) -> int | None:
        """Power off (killing nspawn if it will not go), remove our cgroups; nspawn's status."""
        if self.proc.poll() is None:
            with contextlib.suppress(Exception):
                self.run("systemctl", "poweroff", "--no-block", check=False, timeout=10)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._kill_leftovers()
        for hierarchy in ("systemd", "unified", ""):
            base = Path("/sys/fs/cgroup") / hierarchy / self.cgroup
            if base.is_dir():
                # Deepest first: a cgroup can only be removed once it has no children.
                dirs = [p for p in base.rglob("*") if p.is_dir()]
                for path in [*sorted(dirs, key=lambda p: -len(p.parts)), base]:
                    with contextlib.suppress(OSError):
                        path.rmdir()
        return self.proc.returncode

    def _kill_leftovers(self) -> None:
        """SIGKILL whatever still runs in our cgroup (an init orphaned by a killed nspawn)."""
        hybrid = Path("/sys/fs/cgroup/systemd") / self.cgroup
        procs = hybrid if hybrid.is_dir() else Path("/sys/fs/cgroup") / self.cgroup
        for _ in range(50):
            pids = [int(x) for f in procs.rglob("cgroup.procs") for x in f.read_text().split()]
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 9)
            time.sleep(0.1)  # polling interval while the kernel reaps them

    def __enter__(self) -> Container:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


@contextlib.contextmanager
def booted(root: Path, binds: dict[Path, str], log: Path) -> Iterator[Container]:
    """A booted container for the duration of the ``with`` block."""
    box = Container(root, binds, log)
    try:
        yield box
    finally:
        box.close()
