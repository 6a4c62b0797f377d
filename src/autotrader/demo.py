"""`make demo` / `autotrader demo`: the suite on the embedded default, watched from the terminal.

It starts a local SMTP sink, the local Polymarket simulator and the three daemons (signal,
scheduler, executor) as real processes on ``etc/demo.yaml`` (real BTC minutes replayed at 300×
speed, two strategies: the BTC 15-minute one and a pipeline). While they run it prints every
published signal next to the 15-minute BTC market it is for (that window's Up/Down book, read
from the simulator) and every notification event the daemons record (trades, exits,
settlements, watchlist changes). Then it stops everything with SIGTERM, reports how each
process ended and what the strategies did (``autotrader strategy list``, ``autotrader trades``),
renders the status page and counts the e-mails the sink received. Logs go to
``<state_dir>/logs/``.
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
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import httpx

from autotrader.config import AppConfig, load_config
from autotrader.demo_report import EventTail, fresh_state, report, start_sink
from autotrader.errors import ConfigError, DataError
from autotrader.venue.polymarket.parsing import parse_book, parse_gamma_market

DAEMONS = ("signal", "executor", "scheduler")


@dataclass
class DemoRun:
    """The processes of one demo run and what it saw."""

    config_path: Path
    config: AppConfig
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, TextIO] = field(default_factory=dict)
    seen: Counter[str] = field(default_factory=Counter)
    changes: int = 0
    events: EventTail | None = None

    def start(self) -> None:
        """Start the simulator, then every daemon, each with its stderr in a log file."""
        self._spawn("sim", ["sim"], stdout=subprocess.PIPE)
        sim = self.procs["sim"]
        assert sim.stdout is not None
        first = sim.stdout.readline().decode().strip()  # "listening on http://HOST:PORT"
        if not first.startswith("listening on "):
            raise RuntimeError(f"the simulator did not start; see {self.logs['sim'].name}")
        print(f"simulator {first}")
        for name in DAEMONS:
            self._spawn(name, ["run", name])

    def _spawn(self, name: str, command: list[str], stdout: int | None = None) -> None:
        log_dir = self.config.state_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, AUTOTRADER_CONFIG=str(self.config_path))
        env.pop("NOTIFY_SOCKET", None)
        fh = open(log_dir / f"{name}.log", "w")  # noqa: SIM115 - closed in stop()
        self.logs[name] = fh
        argv = [sys.executable, "-m", "autotrader", *command, "--config", str(self.config_path)]
        self.procs[name] = subprocess.Popen(argv, stderr=fh, stdout=stdout, env=env)
        print(f"started {name} (pid {self.procs[name].pid}), log {fh.name}")

    def stop(self) -> dict[str, int]:
        """SIGTERM every daemon, wait, and return the exit codes."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = {}
        for name, proc in reversed(self.procs.items()):
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


def window_market(client: httpx.Client, slug: str | None) -> str:
    """The window's market as the simulator lists it: Up and Down best bid/ask, or why not."""
    if not slug:
        return ""
    try:
        market = parse_gamma_market(client.get(f"/markets/slug/{slug}").json())
        books = []
        for outcome in ("Up", "Down"):
            token = market.token(outcome)
            book = parse_book(client.get("/book", params={"token_id": token.token_id}).json())
            books.append(f"{outcome} {_px(book.best_bid)}/{_px(book.best_ask)}")
    except (httpx.HTTPError, ValueError, DataError) as exc:
        return f"| market: {type(exc).__name__}"
    return "| " + "  ".join(books)


def _px(price: Decimal | None) -> str:
    return f"{price:.2f}" if price is not None else "-"


def watch_signal(run: DemoRun, duration_secs: float, out: TextIO) -> None:
    """Print every new signal until ``duration_secs`` pass or a daemon dies."""
    path = run.config.state_dir / "signal.json"
    client = httpx.Client(base_url=run.config.polymarket.gamma_url, timeout=5)
    deadline = time.monotonic() + duration_secs
    last_ts = None
    last_direction = None
    while time.monotonic() < deadline:
        dead = run.crashed()
        if dead:
            raise RuntimeError(f"{dead} exited early; see its log")
        sig = _read_signal(path)
        if sig and sig.get("timestamp") != last_ts:
            last_ts = sig.get("timestamp")
            run.seen[str(sig.get("direction"))] += 1
            marker = "  <- changed" if last_direction and sig["direction"] != last_direction else ""
            run.changes += bool(marker)
            last_direction = sig.get("direction")
            market = window_market(client, (sig.get("window") or {}).get("slug"))
            print(f"{_describe(sig)} {market}{marker}", file=out, flush=True)
        if run.events is not None:
            run.events.print_new(out)
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
    fresh_state(config)
    run = DemoRun(config_path, config)
    print(f"autotrader demo: {config_path} (state in {config.state_dir}), {args.duration:.0f}s")
    sink = start_sink(config)
    try:
        run.start()
        run.events = EventTail(config)
        watch_signal(run, args.duration, sys.stdout)
    except KeyboardInterrupt:
        print("interrupted")
    except RuntimeError as exc:
        print(f"demo: {exc}", file=sys.stderr)
    finally:
        codes = run.stop()
        if run.events is not None:
            run.events.print_new(sys.stdout)
            run.events.close()
    print(
        f"signals seen: {sum(run.seen.values())} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(run.seen.items()))}), "
        f"direction changes: {run.changes}"
    )
    for name, code in codes.items():
        print(f"{name}: exit {code}")
    report(config_path, config, sink)
    return 0 if all(c == 0 for c in codes.values()) and run.seen else 1


if __name__ == "__main__":
    raise SystemExit(main())
