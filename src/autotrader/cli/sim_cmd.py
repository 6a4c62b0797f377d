"""`autotrader sim`: run the local Polymarket-compatible simulator (Gamma + CLOB + Data API).

The first line on stdout is ``listening on http://HOST:PORT`` (so a script can start it with
``--port 0`` and read the port); everything after goes to stderr as sd-daemon log lines.

Time: with ``--config`` (or $AUTOTRADER_CONFIG) the simulator uses the config's clock — the
shared ``<state_dir>/clock.json`` timeline the daemons use, so all agree on "now" — and its
replay candles (``feeds.btc.replay.path``). Without a config, simulated time starts at the first
candle of ``--data`` and runs at ``--speed``.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from autotrader.cli import config_path, load_or_report
from autotrader.clock import Clock, ScaledClock
from autotrader.errors import DataError

if TYPE_CHECKING:
    from autotrader.sim.faults import FaultPlan
    from autotrader.sim.server import SimServer

log = logging.getLogger("autotrader.sim")
PROG = "autotrader sim"


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], parent: argparse.ArgumentParser
) -> None:
    """Add the ``sim`` command."""
    parser = sub.add_parser(
        "sim",
        parents=[parent],
        help="run the local Polymarket simulator (Gamma, CLOB, Data API on one port)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="port; 0 picks a free one (default 0, or the port of a loopback polymarket.clob_url "
        "in --config, so the daemons of that config find the simulator)",
    )
    parser.add_argument("--data", type=Path, metavar="CANDLES.csv", help="BTC candles to replay")
    parser.add_argument("--speed", type=float, help="simulated seconds per real second (1)")
    parser.add_argument(
        "--faults",
        default="",
        metavar="SPEC",
        help="faults to inject, e.g. 429:0.05,drop:0.02,lost:0.01,restart@+600:90 "
        "(grammar in autotrader/sim/faults.py; none by default)",
    )
    parser.add_argument("--seed", type=int, default=0, help="world and fault seed (0)")
    parser.add_argument(
        "--initial-balance",
        default="1000",
        metavar="USD",
        help="collateral a new wallet starts with (1000)",
    )
    parser.set_defaults(func=handle)


@dataclass(frozen=True)
class SimSetup:
    """Everything ``handle`` needs, resolved from the arguments and the optional config."""

    clock: Clock
    data: Path
    host: str
    port: int
    chain_id: int
    log_level: str
    initial_balance: Decimal
    faults: FaultPlan


class UsageError(Exception):
    """A bad argument; the message is printed as one line."""


def _balance(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise UsageError(f"--initial-balance: not a number: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise UsageError(f"--initial-balance must be a number >= 0 (got {text!r})")
    return value


def _first_candle_secs(path: Path) -> float:
    from autotrader.signal.candles import iter_candles

    for candle in iter_candles(path):
        return candle.ts_ms / 1000.0
    raise DataError(f"{path}: no candles")


def _explicit_config(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "config", None) or os.environ.get("AUTOTRADER_CONFIG"))


def resolve_setup(args: argparse.Namespace) -> SimSetup | None:
    """The clock, data and settings; None after printing a config problem (UsageError/DataError
    for bad arguments or data)."""
    from autotrader.sim.faults import parse_fault_spec

    if args.port is not None and not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be within 0..65535 (got {args.port})")
    host, port = args.host, args.port
    if args.speed is not None and not 0 < args.speed <= 100_000:
        raise UsageError(f"--speed must be > 0 and <= 100000 (got {args.speed:g})")
    balance = _balance(args.initial_balance)
    if _explicit_config(args):
        if args.speed is not None:
            raise UsageError("--speed cannot be combined with --config: clock.speed applies")
        cfg = load_or_report(config_path(args))
        if cfg is None:
            return None
        from autotrader.daemons.setup import build_clock

        data = args.data or cfg.feeds.btc.replay.path
        if data is None:
            raise UsageError("no candles: give --data or set feeds.btc.replay.path in the config")
        clock = build_clock(cfg)
        chain_id, level = cfg.polymarket.chain_id, cfg.log_level
        if port is None:
            host, port = _loopback_endpoint(cfg.polymarket.clob_url, host)
    else:
        if args.data is None:
            raise UsageError("give --data CANDLES.csv (or --config with feeds.btc.replay.path)")
        data = args.data
        clock = ScaledClock(_first_candle_secs(data), args.speed or 1.0)
        chain_id, level = 137, "info"
    plan = parse_fault_spec(args.faults, now=clock.time())
    return SimSetup(clock, Path(data), host, port or 0, chain_id, level, balance, plan)


def _loopback_endpoint(url: str, host: str) -> tuple[str, int | None]:
    """Host and port of a plain-http loopback URL (the simulator's own address), else none."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        return parts.hostname, parts.port or 80
    return host, None


def build_server(setup: SimSetup, args: argparse.Namespace) -> SimServer:
    """The world, its context and the bound (not yet serving) server."""
    from autotrader.sim.auth import SimAuth
    from autotrader.sim.faults import FaultInjector
    from autotrader.sim.routing import SimContext
    from autotrader.sim.server import SimServer
    from autotrader.sim.world import SimWorld

    world = SimWorld(
        setup.clock, setup.data, initial_balance_usd=setup.initial_balance, seed=args.seed
    )
    ctx = SimContext(
        world=world,
        clock=setup.clock,
        faults=FaultInjector(setup.faults, seed=args.seed),
        auth=SimAuth(chain_id=setup.chain_id),
    )
    return SimServer(ctx, setup.host, setup.port)


def _prepare(args: argparse.Namespace) -> tuple[SimSetup, SimServer] | int:
    from autotrader.sim.faults import FaultSpecError

    try:
        setup = resolve_setup(args)
        if setup is None:
            return 1
    except (UsageError, FaultSpecError) as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    except DataError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 1
    try:
        return setup, build_server(setup, args)
    except DataError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
    except OSError as err:
        print(f"{PROG}: error: cannot listen on {setup.host}:{setup.port}: {err}", file=sys.stderr)
    return 1


def handle(args: argparse.Namespace) -> int:
    """Serve until SIGTERM or SIGINT; exit 0 after a clean shutdown."""
    prepared = _prepare(args)
    if isinstance(prepared, int):
        return prepared
    setup, server = prepared
    from autotrader.log import setup_logging

    setup_logging(setup.log_level)
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.start()
        print(f"listening on {server.url}", flush=True)
        log.info(
            "simulator on %s: candles %s, simulated time %s, speed %g, faults %s",
            server.url,
            setup.data,
            setup.clock.now().isoformat(),
            setup.clock.speed,
            setup.faults.describe(),
        )
        while not stop.wait(1.0):
            pass
        log.info("stopping")
    finally:
        server.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
