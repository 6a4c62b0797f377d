"""The scheduler's in-memory picture: one ``Entry`` per configured strategy and a heap of due
times, so each tick costs O(runs due × log n), whatever the number of strategies.

The heap uses lazy deletion: moving or cancelling a strategy's next run only changes
``Entry.due``; heap items whose time no longer matches their entry's are dropped when popped.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from autotrader.config_strategies import StrategyConfig
from autotrader.scheduler.lifecycle import Facts, Status, strategy_status

T = TypeVar("T")


class DbThread:
    """The scheduler's own database calls, on one thread of their own.

    Not ``asyncio.to_thread``: strategies' runs use the loop's default executor (blocking CLOB
    reads, their own database work), and with thousands of runs in flight its queue is long.
    The scheduler's bookkeeping — starting runs, recording their ends, polling the CLI's
    wishes — must never wait behind it, or every start would be late.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scheduler-db")

    async def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the scheduler's database thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args))

    def close(self) -> None:
        """Let the thread finish its queue and end."""
        self._pool.shutdown(wait=True)


@dataclass(slots=True)
class Entry:
    """One strategy as the daemon runs it (slots: one per strategy, for the daemon's life)."""

    config: StrategyConfig
    desired: str | None = None
    paused: bool = False
    consecutive_failures: int = 0
    due: float | None = None  # clock time of the next scheduled run; None: none
    run_now: bool = False  # a `strategy run-now` request waits to be served
    task: asyncio.Task[object] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """The strategy's name."""
        return self.config.name

    @property
    def facts(self) -> Facts:
        """What the status is derived from."""
        return Facts(self.config.enabled, self.desired, self.paused, self.consecutive_failures)

    @property
    def status(self) -> Status:
        """The strategy's status now (without building ``facts``: read for every entry on
        every status line and control poll)."""
        return strategy_status(enabled=self.config.enabled, desired=self.desired,
                               paused=self.paused,
                               consecutive_failures=self.consecutive_failures)  # fmt: skip

    @property
    def busy(self) -> bool:
        """Whether a run of this strategy is in flight."""
        return self.task is not None and not self.task.done()


class Agenda:
    """A min-heap of (due time, strategy name) with lazy deletion."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str]] = []
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, name: str, due: float) -> None:
        """Schedule ``name`` at ``due`` (the entry's ``due`` must say the same)."""
        heapq.heappush(self._heap, (due, next(self._seq), name))

    def pop_due(self, now: float, entries: dict[str, Entry]) -> list[tuple[Entry, float]]:
        """Every live (entry, due time) with due time <= ``now``, earliest first."""
        out: list[tuple[Entry, float]] = []
        while self._heap and self._heap[0][0] <= now:
            due, _, name = heapq.heappop(self._heap)
            entry = entries.get(name)
            if entry is not None and entry.due == due:
                out.append((entry, due))
        return out

    def peek(self, entries: dict[str, Entry]) -> tuple[Entry, float] | None:
        """The earliest live (entry, due time), dropping stale items on the way."""
        while self._heap:
            due, _, name = self._heap[0]
            entry = entries.get(name)
            if entry is not None and entry.due == due:
                return entry, due
            heapq.heappop(self._heap)
        return None

    def compact(self, entries: dict[str, Entry]) -> None:
        """Drop stale items when they outnumber live ones (after many reschedules)."""
        live = sum(1 for e in entries.values() if e.due is not None)
        if len(self._heap) > 2 * live + 64:
            self._heap = [
                item
                for item in self._heap
                if (e := entries.get(item[2])) is not None and e.due == item[0]
            ]
            heapq.heapify(self._heap)
