"""Process-level pieces of a daemon: exit codes, running its event loop, the emergency exit."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger("autotrader.runtime")

EXIT_OK = 0
EXIT_FAILURE = 1
# A second SIGTERM/SIGINT cut the graceful shutdown short: 128 + SIGTERM, what a shell reports
# for a killed process, so the aborted shutdown stays visible as a failure in systemctl status.
EXIT_ABORTED = 128 + signal.SIGTERM

_LEFTOVER_GRACE_SECS = 2.0
# Threads for a daemon's blocking work (database round trips, the status page, the CLOB
# client's reads), whatever the number of cores. asyncio's default, min(32, cores + 4), would
# give a bigger machine more threads, each keeping its stack and SQLite connection for the
# daemon's life (2,000 strategies: mean RSS -1.5 MB and peak -5 MB with 4 instead of 6).
WORKER_THREADS = 4


def run_to_completion(main: Coroutine[Any, Any, int]) -> int:
    """``asyncio.run`` without its unbounded wait for tasks that ignore cancellation, and
    with ``WORKER_THREADS`` threads for ``asyncio.to_thread``."""
    loop = asyncio.new_event_loop()
    loop.set_default_executor(
        ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="asyncio")
    )
    try:
        code = loop.run_until_complete(main)
        leftovers = asyncio.all_tasks(loop)
        for task in leftovers:
            task.cancel()
        if leftovers:
            loop.run_until_complete(asyncio.wait(leftovers, timeout=_LEFTOVER_GRACE_SECS))
        stubborn = [t for t in leftovers if not t.done()]
        if stubborn:
            log.warning("%d task(s) ignored cancellation at exit", len(stubborn))
        loop.run_until_complete(loop.shutdown_asyncgens())
        return code
    finally:
        loop.close()


def arm_immediate_exit(loop: asyncio.AbstractEventLoop) -> None:
    """From now on SIGTERM/SIGINT end the process at once, even if the shutdown is stuck.

    A loop callback could not guarantee that (it never runs while the loop is blocked), so
    this is a plain signal handler: it writes one line and leaves with ``EXIT_ABORTED``.
    """
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.remove_signal_handler(sig)
        signal.signal(sig, _exit_at_once)


def _exit_at_once(signum: int, _frame: object) -> None:
    name = signal.Signals(signum).name
    os.write(2, f"<4>autotrader.runtime: second {name}: exiting without finishing\n".encode())
    os._exit(EXIT_ABORTED)
