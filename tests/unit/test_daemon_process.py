"""The daemons' event loop: a fixed, small pool of threads for blocking work."""

from __future__ import annotations

import asyncio
import threading
import time

from autotrader.daemons.process import WORKER_THREADS, run_to_completion


def test_blocking_work_runs_on_worker_threads_whatever_the_cores() -> None:
    # More calls than threads, all blocked at once: the pool starts a thread per call up to
    # its size (asyncio's own default would be min(32, cores + 4)), then the rest queue.
    calls = WORKER_THREADS + 3
    release = threading.Event()
    seen: set[int] = set()
    lock = threading.Lock()

    def work() -> None:
        with lock:
            seen.add(threading.get_ident())
        assert release.wait(10)

    async def main() -> int:
        tasks = [asyncio.create_task(asyncio.to_thread(work)) for _ in range(calls)]
        deadline = time.monotonic() + 10
        while len(seen) < WORKER_THREADS and time.monotonic() < deadline:
            await asyncio.sleep(0.01)  # a poll with a deadline: the threads start on their own
        release.set()
        await asyncio.gather(*tasks)
        return len(seen)

    assert run_to_completion(main()) == WORKER_THREADS
    assert calls > WORKER_THREADS
