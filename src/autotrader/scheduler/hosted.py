"""The components the scheduler daemon hosts beside strategies: the notification dispatcher and
the status page writer (issue 6). Each is driven by its own background task, started again on
every scheduler tick once the previous call has returned, so a slow SMTP server or page render
never delays a strategy's start. An exception is logged (once per distinct message) and the
component is simply called again next tick.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.config import AppConfig
from autotrader.notify.dispatcher import Dispatcher
from autotrader.status.writer import StatusPageWriter

log = logging.getLogger("autotrader.scheduler")


class _Slot:
    """One hosted component's task and its last logged error."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.task: asyncio.Task[None] | None = None
        self.last_error: str | None = None

    def kick(self, make: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Start ``make()`` unless the previous call is still running."""
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._guard(make()), name=self.name)

    async def _guard(self, call: Coroutine[Any, Any, None]) -> None:
        try:
            await call
        except Exception as exc:
            text = f"{type(exc).__name__}: {exc}"
            if text != self.last_error:
                log.error("%s failed (strategies are not affected): %s", self.name, text)
                log.debug("%s traceback", self.name, exc_info=True)
            self.last_error = text
        else:
            self.last_error = None

    async def drain(self, timeout: float) -> None:
        """Wait for the call in flight, cancelling it after ``timeout`` real seconds."""
        if self.task is not None and not self.task.done():
            await asyncio.wait({self.task}, timeout=timeout)
            self.task.cancel()


class Hosted:
    """The dispatcher and the status page writer, isolated from strategies and each other."""

    def __init__(self, config: AppConfig, clock: Clock, engine: sa.Engine) -> None:
        self.dispatcher: Dispatcher | None = _build("notification dispatcher", Dispatcher,
                                                    config, clock, engine)  # fmt: skip
        self.writer: StatusPageWriter | None = _build("status page writer", StatusPageWriter,
                                                      config, clock, engine)  # fmt: skip
        self._dispatch = _Slot("notification dispatcher")
        self._write = _Slot("status page writer")
        self._force = False

    def force_page(self) -> None:
        """Render the status page at the next tick, due or not (a run wrote intents)."""
        self._force = True

    def tick(self) -> None:
        """Start each component's ``on_tick`` unless its previous one is still running."""
        if self.dispatcher is not None:
            self._dispatch.kick(self.dispatcher.on_tick)
        writer = self.writer
        if writer is not None and (self._write.task is None or self._write.task.done()):
            force, self._force = self._force, False
            self._write.kick(lambda: writer.on_tick(force=force))

    def reload(self, config: AppConfig) -> None:
        """Hand both components the new configuration."""
        for name, component in (("dispatcher", self.dispatcher), ("writer", self.writer)):
            if component is None:
                continue
            try:
                component.reload(config)
            except Exception as exc:
                log.error("%s refused the new configuration: %s", name, exc)

    def status_text(self) -> str:
        """The dispatcher's phrase for the STATUS line ("" when it has nothing to say)."""
        if self.dispatcher is None:
            return ""
        try:
            return self.dispatcher.status_text()
        except Exception as exc:
            return f"notifications unavailable ({type(exc).__name__})"

    async def aclose(self, timeout: float) -> None:
        """Let the calls in flight finish (bounded), then close the dispatcher."""
        await self._dispatch.drain(timeout)
        await self._write.drain(timeout)
        if self.dispatcher is not None:
            try:
                await asyncio.wait_for(self.dispatcher.aclose(), timeout)
            except Exception as exc:
                log.error("closing the notification dispatcher failed: %s", exc)


def _build(name: str, cls: Any, config: AppConfig, clock: Clock, engine: sa.Engine) -> Any:
    try:
        return cls(config, clock, engine)
    except Exception as exc:
        log.error("%s unavailable: %s: %s", name, type(exc).__name__, exc)
        return None
