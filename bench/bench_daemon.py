"""RSS and CPU of `autotrader run signal` over 60 s at a 3 s interval, polling a local ticker.

A loopback HTTP server answers in Coinbase Exchange's ticker format with a price walking
through real BTC minutes, so the daemon does exactly its live work: poll, parse, update the
engine, write signal.json, snapshot to SQLite once a minute.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

REPO = Path(__file__).resolve().parent.parent
DURATION_SECS = float(os.environ.get("BENCH_DAEMON_SECS", "60"))


def _prices() -> list[float]:
    path = REPO / "tests" / "data" / "btcusdt_1m_demo.csv"
    rows = path.read_text().splitlines()[1:]
    return [float(r.split(",")[4]) for r in rows]


class _Ticker(BaseHTTPRequestHandler):
    prices: ClassVar[list[float]] = []
    hits = 0

    def do_GET(self) -> None:
        cls = type(self)
        price = cls.prices[cls.hits % len(cls.prices)]
        cls.hits += 1
        body = json.dumps(
            {
                "ask": f"{price + 0.01:.2f}",
                "bid": f"{price:.2f}",
                "volume": "4916.9",
                "trade_id": cls.hits,
                "price": f"{price:.2f}",
                "size": "0.01",
                "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _proc_stats(pid: int) -> tuple[float, int, int]:
    """(cpu seconds, rss kB, peak rss kB) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return cpu, int(status["VmRSS"].split()[0]), int(status["VmHWM"].split()[0])


def main() -> None:
    """Run the daemon for DURATION_SECS and print RSS and CPU."""
    _Ticker.prices = _prices()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ticker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "bench.yaml"
        cfg.write_text(
            "state_dir: state\n"
            "feeds:\n  btc:\n    sources: [coinbase]\n    poll_interval_secs: 3\n"
            f"    coinbase: {{url: 'http://127.0.0.1:{server.server_port}'}}\n"
            "signal: {interval_secs: 3}\n"
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "autotrader", "run", "signal", "--config", str(cfg)],
            stderr=open(Path(tmp) / "signal.log", "w"),  # noqa: SIM115
        )
        try:
            deadline = time.monotonic() + 30
            while not (Path(tmp) / "state" / "signal.json").exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    sys.exit(
                        "bench: the signal daemon did not start; log:\n"
                        + (Path(tmp) / "signal.log").read_text()
                    )
                time.sleep(0.1)
            cpu0, _, _ = _proc_stats(proc.pid)
            t0 = time.monotonic()
            time.sleep(DURATION_SECS)
            cpu1, rss, peak = _proc_stats(proc.pid)
            wall = time.monotonic() - t0
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        server.shutdown()
    cpu_pct = 100 * (cpu1 - cpu0) / wall
    print(f"signal daemon over {wall:.0f} s at a 3 s interval ({_Ticker.hits} polls):")
    print(f"  RSS now            {rss / 1024:8.1f} MB   (target <= 80 MB)")
    print(f"  RSS peak           {peak / 1024:8.1f} MB")
    print(f"  CPU                {cpu_pct:8.2f} %    (target <= 1 %)")


if __name__ == "__main__":
    main()
