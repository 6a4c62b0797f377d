"""The incremental seed engine run bar by bar, for comparing it with the numpy oracle."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from autotrader.domain.signals import Direction
from autotrader.signal.oracle import DOWN, NO_TRADE, UP
from autotrader.signal.params import SeedParams
from autotrader.signal.seed import SeedEngine

#: The oracle's direction code of each Direction.
ORACLE_CODES = {Direction.UP: UP, Direction.DOWN: DOWN, Direction.NO_TRADE: NO_TRADE}


def engine_steps(
    params: SeedParams, sample_secs: float, ts: Sequence[int], px: Sequence[float]
) -> Iterator[tuple[int, SeedEngine, float | None]]:
    """Feed the bars to a fresh engine; after each: its row, the engine and the score (or None)."""
    engine = SeedEngine(params, sample_secs)
    for i, (t, p) in enumerate(zip(ts, px, strict=True)):
        yield i, engine, engine.update(t, p)
