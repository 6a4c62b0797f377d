"""Writes the static status page: gather → render → atomic files in ``status_page.output_dir``.

The scheduler daemon owns a ``StatusPageWriter`` and calls ``on_tick()`` every tick; the site
is rendered when ``refresh_secs`` of *real* time have passed (the page is for people, and its
meta refresh is in real seconds too, even when the daemons run on a sped-up clock), or at once
with ``force=True`` after something significant. The database reads and the rendering are
blocking, so they run in a worker thread.

Each file is replaced atomically (temp + fsync + rename), the strategy pages before
``index.html``, so a browser never sees half a page or a link to a page not written yet. Pages
of strategies that are gone are removed. The daemon's writer keeps a digest of what each
strategy page was rendered from and skips the pages whose digest did not change (their
relative times are written by the page's own script, so an unchanged strategy is an unchanged
file); the index, which says when the site was generated, is written every time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from autotrader.clock import Clock
from autotrader.config import AppConfig
from autotrader.fsutil import atomic_write
from autotrader.heap import release_heap
from autotrader.status.history import HistoryCache

log = logging.getLogger(__name__)

PAGE_GLOB = "strategy-*.html"


def write_site(
    config: AppConfig,
    engine: sa.Engine,
    *,
    now: datetime,
    real_now: datetime | None = None,
    output_dir: Path | None = None,
    history: HistoryCache | None = None,
    digests: dict[str, bytes] | None = None,
) -> Path:
    """Render the site once into ``output_dir`` (default the configured one); the path
    of ``index.html``. ``history`` carries the replay of fills from one render to the next.

    ``digests`` (strategy → digest of its page's inputs, kept by the caller between renders)
    makes the render incremental: a strategy page whose inputs did not change is neither
    rendered nor written again. It is updated only once every file is written, so a failed render is
    redone in full.
    """
    from autotrader.status.render import INDEX, render_pages
    from autotrader.status.snapshot import gather, gc_paused
    from autotrader.status.strategy_views import page_name

    out = output_dir or config.status_page.output_dir
    real = real_now or datetime.now(UTC)
    snap = gather(config, engine, now=now, real_now=real, history=history)
    present = set(os.listdir(out)) if digests and out.is_dir() else set()
    # A page removed behind our back (or never written) is rendered again.
    previous = {k: v for k, v in digests.items() if page_name(k) in present} if digests else None
    current: dict[str, bytes] = {}
    names = [view.name for view in snap.strategies]
    with gc_paused():
        for name, data in render_pages(snap, config.source_path, previous, current):
            atomic_write(out / name, data)  # index.html comes last
    del snap
    pages = {page_name(name) for name in names}  # made once the render's garbage is gone
    for old in out.glob(PAGE_GLOB):
        if old.name not in pages:
            old.unlink(missing_ok=True)
    if digests is not None:
        digests.clear()
        digests.update(current)
    return out / INDEX


class StatusPageWriter:
    """Renders the site into ``status_page.output_dir`` every ``refresh_secs`` (scheduler)."""

    def __init__(
        self,
        config: AppConfig,
        clock: Clock,
        engine: sa.Engine,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._clock = clock
        self._engine = engine
        self._monotonic = monotonic
        self._last: float | None = None
        self._history = HistoryCache()
        self._digests: dict[str, bytes] = {}  # strategy → digest of what its page shows
        self.renders = 0  # how many times the site was written (the daemon's STATUS line)

    def reload(self, config: AppConfig) -> None:
        """Take the new settings; a changed output folder is written at the next tick."""
        if config.status_page != self._config.status_page:
            self._last = None
            self._digests.clear()
        self._config = config

    def due(self) -> bool:
        """Whether ``refresh_secs`` have passed since the last render (or there was none)."""
        page = self._config.status_page
        if page is None:
            return False
        return self._last is None or self._monotonic() - self._last >= page.refresh_secs

    async def on_tick(self, *, force: bool = False) -> None:
        """Render the site when it is due (or ``force``)."""
        if self._config.status_page is None or not (force or self.due()):
            return
        # Counted from the attempt: a failing render is retried at the next refresh, not
        # on every tick.
        self._last = self._monotonic()
        # Read together: at speed 1 the pages carry only the clocks' offset (see
        # render.clock_anchor), which must not vary with how long the thread took to start.
        config, now, real = self._config, self._clock.now(), datetime.now(UTC)
        index = await asyncio.to_thread(self._write, config, now, real)
        self.renders += 1
        log.debug("status page written to %s", index)

    def _write(self, config: AppConfig, now: datetime, real: datetime) -> Path:
        try:
            return write_site(
                config,
                self._engine,
                now=now,
                real_now=real,
                history=self._history,
                digests=self._digests,
            )
        finally:
            # A render of thousands of strategies allocates tens of MB that are all garbage
            # once the files are written; give them back rather than keep the daemon at its
            # high-water mark until the next render.
            release_heap()

    def status_text(self) -> str:
        """One line for the daemon's STATUS (``status page: 12 renders``)."""
        return f"status page: {self.renders} renders"
