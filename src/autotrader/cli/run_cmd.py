"""`autotrader run signal|executor|scheduler`: run one daemon in the foreground, as systemd does."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from autotrader.cli import config_path

if TYPE_CHECKING:
    from autotrader.daemons.service import ServiceFactory


def _signal() -> ServiceFactory:
    # Imported on demand so `autotrader run signal` loads no other daemon's code (and mypy
    # checks here that SignalService satisfies the Service protocol).
    from autotrader.daemons.signal import SignalService

    return SignalService


def _executor() -> ServiceFactory:
    from autotrader.daemons.executor import ExecutorService

    return ExecutorService


def _scheduler() -> ServiceFactory:
    from autotrader.daemons.scheduler import SchedulerService

    return SchedulerService


# daemon name -> loader of its service factory; None for a daemon not built yet.
DAEMONS: dict[str, Callable[[], ServiceFactory] | None] = {
    "signal": _signal,
    "executor": _executor,
    "scheduler": _scheduler,
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
    loader = DAEMONS[args.daemon]
    if loader is None:
        print(
            f"autotrader run {args.daemon}: error: the {args.daemon} daemon is not built yet",
            file=sys.stderr,
        )
        return 1
    from autotrader.daemons.runtime import run_service

    return run_service(args.daemon, loader(), config_path(args))
