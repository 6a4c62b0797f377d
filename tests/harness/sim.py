"""`python -m autotrader …` as a real subprocess: the simulator and its one-line refusals.

``SimProcess`` starts the command, waits (with a deadline) for its first stdout line
``listening on http://127.0.0.1:PORT`` and keeps the rest of stdout and stderr drained.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import httpx
from eth_account import Account
from py_clob_client_v2 import ClobClient  # type: ignore[import-untyped, unused-ignore]

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "btcusdt_1m_demo.csv"
STARTUP_SECS = 90
_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)\n")


def autotrader_env() -> dict[str, str]:
    """This process's environment without AUTOTRADER_CONFIG."""
    return {k: v for k, v in os.environ.items() if k != "AUTOTRADER_CONFIG"}


def run_autotrader(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m autotrader *args`` to its end, capturing stdout and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "autotrader", *args],
        cwd=REPO,
        env=autotrader_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _pump(stream: IO[str], sink: Callable[[str], object]) -> None:
    for line in stream:
        sink(line)


class SimProcess:
    """``python -m autotrader *args`` whose first stdout line is ``listening on URL``."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autotrader", *args],
            cwd=REPO,
            env=autotrader_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stderr: list[str] = []
        lines: queue.Queue[str] = queue.Queue()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        for stream, sink in ((self.proc.stdout, lines.put), (self.proc.stderr, self.stderr.append)):
            threading.Thread(target=_pump, args=(stream, sink), daemon=True).start()
        try:
            self.first_line = lines.get(timeout=STARTUP_SECS)
        except queue.Empty:
            self.proc.kill()
            raise AssertionError(f"no first line; stderr: {''.join(self.stderr)}") from None
        match = _LISTENING.fullmatch(self.first_line)
        assert match, self.first_line
        self.url = match.group(1)

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Signal the process and return its exit code."""
        self.proc.send_signal(signum)
        return self.proc.wait(timeout=60)

    def close(self) -> None:
        """Terminate the process if it still runs; kill it if it will not end in 10 s."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def serve_sim(*args: str) -> Iterator[SimProcess]:
    """Body of a simulator fixture: ``sim --port 0 --data DATA *args``, stopped cleanly after."""
    process = SimProcess("sim", "--port", "0", "--data", str(DATA), *args)
    yield process
    assert process.stop() == 0, "".join(process.stderr)


def http_client(sim: SimProcess) -> Iterator[httpx.Client]:
    """Body of an ``httpx.Client`` fixture on the simulator's URL."""
    with httpx.Client(base_url=sim.url, timeout=30) as client:
        yield client


def clob_client(sim: SimProcess) -> ClobClient:
    """A py-clob-client-v2 client on the simulator with a throwaway key and derived API creds."""
    client = ClobClient(sim.url, chain_id=137, key=Account.create().key.hex())
    client.set_api_creds(client.create_or_derive_api_key())
    return client
