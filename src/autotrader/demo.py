"""`make demo` / `autotrader demo`: the suite on the embedded default, watched from the terminal.

It starts the daemons as real processes on ``etc/demo.yaml`` (a replay of real BTC minutes at
60× speed), prints each change of the published signal as it happens, then stops everything
with SIGTERM and reports how each process ended. Logs go to ``<state_dir>/logs/``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from autotrader.config import AppConfig, load_config
from autotrader.errors import ConfigError

DAEMONS = ("signal",)


@dataclass
class DemoRun:
    """The processes of one demo run and what it saw."""

    config_path: Path
    config: AppConfig
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, TextIO] = field(default_factory=dict)
    seen: Counter[str] = field(default_factory=Counter)
    changes: int = 0

    def start(self) -> None:
        """Start every daemon with its stderr in a log file."""
        log_dir = self.config.state_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, AUTOTRADER_CONFIG=str(self.config_path))
        env.pop("NOTIFY_SOCKET", None)
        for name in DAEMONS:
            fh = open(log_dir / f"{name}.log", "w")  # noqa: SIM115 - closed in stop()
            self.logs[name] = fh
            argv = [sys.executable, "-m", "autotrader", "run", name]
            self.procs[name] = subprocess.Popen(
                [*argv, "--config", str(self.config_path)], stderr=fh, env=env
            )
            print(f"started autotrader-{name} (pid {self.procs[name].pid}), log {fh.name}")

    def stop(self) -> dict[str, int]:
        """SIGTERM every daemon, wait, and return the exit codes."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = {}
        for name, proc in self.procs.items():
            try:
                codes[name] = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait()
            self.logs[name].close()
        return codes

    def crashed(self) -> str | None:
        """Name of a daemon that exited on its own, if any."""
        return next((n for n, p in self.procs.items() if p.poll() is not None), None)


def _read_signal(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _describe(sig: dict[str, Any]) -> str:
    basis = sig.get("basis") or {}
    window = sig.get("window") or {}
    direction = sig.get("direction", "?")
    if direction == "NO_TRADE":
        head = f"NO_TRADE ({sig.get('reason')})"
    else:
        head = f"{direction:<4} confidence {sig.get('confidence', 0):>4.0f}"
    score = basis.get("score")
    score_txt = f"score {score:+.3f}" if isinstance(score, int | float) else "score   -   "
    price = sig.get("price")
    price_txt = f"BTC {price:>10.2f}" if isinstance(price, int | float) else "BTC      -   "
    return f"{sig.get('timestamp', '?')}  {price_txt}  {head:<22} {score_txt}  {window.get('slug')}"


def watch_signal(run: DemoRun, duration_secs: float, out: TextIO) -> None:
    """Print every new signal until ``duration_secs`` pass or a daemon dies."""
    path = run.config.state_dir / "signal.json"
    deadline = time.monotonic() + duration_secs
    last_ts = None
    last_direction = None
    while time.monotonic() < deadline:
        dead = run.crashed()
        if dead:
            raise RuntimeError(f"autotrader-{dead} exited early; see its log")
        sig = _read_signal(path)
        if sig and sig.get("timestamp") != last_ts:
            last_ts = sig.get("timestamp")
            run.seen[str(sig.get("direction"))] += 1
            marker = "  <- changed" if last_direction and sig["direction"] != last_direction else ""
            run.changes += bool(marker)
            last_direction = sig.get("direction")
            print(_describe(sig) + marker, file=out, flush=True)
        time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    """Run the demo; exit 0 when every daemon ran and stopped cleanly."""
    parser = argparse.ArgumentParser(prog="autotrader demo", description=__doc__)
    parser.add_argument("--config", default="etc/demo.yaml", help="demo config (etc/demo.yaml)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds to run (60)")
    args = parser.parse_args(argv)
    config_path = Path(args.config).resolve()
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    # A fresh simulated timeline each run: the replay starts again at its first bar.
    (config.state_dir / "clock.json").unlink(missing_ok=True)
    (config.state_dir / "signal.json").unlink(missing_ok=True)
    run = DemoRun(config_path, config)
    print(f"autotrader demo: {config_path} (state in {config.state_dir}), {args.duration:.0f}s")
    run.start()
    try:
        watch_signal(run, args.duration, sys.stdout)
    except KeyboardInterrupt:
        print("interrupted")
    except RuntimeError as exc:
        print(f"demo: {exc}", file=sys.stderr)
    finally:
        codes = run.stop()
    print(
        f"signals seen: {sum(run.seen.values())} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(run.seen.items()))}), "
        f"direction changes: {run.changes}"
    )
    for name, code in codes.items():
        print(f"autotrader-{name}: exit {code}")
    return 0 if all(c == 0 for c in codes.values()) and run.seen else 1


if __name__ == "__main__":
    raise SystemExit(main())
