"""`autotrader run signal|executor|scheduler`: run one daemon in the foreground, as systemd does."""

from __future__ import annotations

import argparse
import importlib
import sys

from autotrader.cli import config_path

# daemon name -> "module:factory"; None for the daemons later issues build.
DAEMONS: dict[str, str | None] = {
    "signal": "autotrader.daemons.signal:SignalService",
    "executor": None,
    "scheduler": None,
}


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], parent: argparse.ArgumentParser
) -> None:
    """Add the `run` command."""
    parser = sub.add_parser(
        "run",
        parents=[parent],
        help="run a daemon in the foreground (signal, executor, scheduler)",
        description="Run one daemon until SIGTERM; under systemd this is the unit's ExecStart.",
    )
    parser.add_argument("daemon", choices=sorted(DAEMONS), help="which daemon to run")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the chosen daemon; returns its exit code."""
    target = DAEMONS[args.daemon]
    if target is None:
        print(
            f"autotrader run {args.daemon}: error: the {args.daemon} daemon is not built yet",
            file=sys.stderr,
        )
        return 1
    # Imported here so `autotrader run signal` does not load the other daemons' code.
    from autotrader.daemons.runtime import run_service

    module_name, _, attr = target.partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    return run_service(args.daemon, factory, config_path(args))
