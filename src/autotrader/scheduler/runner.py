"""One strategy run: the right runner for its kind, under a timeout, turned into an outcome.

Whatever a run does — return, raise, hang — it ends here as an ``Outcome``; only a
cancellation (the scheduler stopping) propagates. Each run is its own asyncio task in the
service, so a slow or failing strategy never holds up another's start.

The timeout (``scheduler.run_timeout_secs``) is in real seconds, not the daemons' clock: what
it bounds is network and database time, which a simulated clock does not speed up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from autotrader.config_strategies import BtcUpdown15mStrategy, PipelineStrategy, StrategyConfig
from autotrader.strategies.base import RunResult, StrategyContext

log = logging.getLogger("autotrader.scheduler")

RunFn = Callable[[Any, StrategyContext], Awaitable[RunResult]]
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class Outcome:
    """How one run ended, ready for the runs log."""

    outcome: str  # ok | skipped | failed | timeout
    nodes: list[dict[str, Any]] = field(default_factory=list)
    intents_created: int = 0
    error: str | None = None
    note: str | None = None

    @property
    def failed(self) -> bool:
        """Whether the run counts as a failure (failed or timed out)."""
        return self.outcome in ("failed", "timeout")


class RunnerUnavailable(RuntimeError):
    """The code that runs this kind of strategy is not installed."""


async def _pipeline(strategy: PipelineStrategy, ctx: StrategyContext) -> RunResult:
    try:
        # Imported on first use: the pipeline runner is optional for the scheduler itself.
        from autotrader.strategies.pipeline import run_pipeline
    except ImportError as exc:
        raise RunnerUnavailable(f"pipeline runner not available ({exc})") from None
    result: RunResult = await run_pipeline(strategy, ctx)
    return result


async def _btc(strategy: BtcUpdown15mStrategy, ctx: StrategyContext) -> RunResult:
    from autotrader.strategies.btc_updown import run_btc_updown

    return await run_btc_updown(strategy, ctx)


def runner_for(strategy: StrategyConfig) -> RunFn:
    """The coroutine function that runs ``strategy``'s kind."""
    if isinstance(strategy, BtcUpdown15mStrategy):
        return _btc
    return _pipeline


def describe_error(exc: BaseException) -> str:
    """One line naming the exception type and its message, bounded in length."""
    text = " ".join(str(exc).split())
    line = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return line[:MAX_ERROR_CHARS]


def _result_outcome(result: RunResult) -> Outcome:
    nodes = [{"node": s.node, "in": s.items_in, "out": s.items_out} for s in result.stats]
    return Outcome(result.outcome, nodes, result.intents_created, None, result.note)


async def execute(
    strategy: StrategyConfig,
    ctx: StrategyContext,
    timeout_secs: float,
    run: RunFn | None = None,
) -> Outcome:
    """Run ``strategy`` once within ``timeout_secs`` real seconds; never raises but on cancel."""
    fn = run if run is not None else runner_for(strategy)
    scope = asyncio.timeout(timeout_secs)
    try:
        async with scope:
            result = await fn(strategy, ctx)
    except TimeoutError as exc:
        if scope.expired():
            return Outcome("timeout", error=f"run did not finish within {timeout_secs:g}s")
        return Outcome("failed", error=describe_error(exc))
    except Exception as exc:  # a strategy's bug must cost one run, never the daemon
        log.debug("strategy %s: run failed", strategy.name, exc_info=True)
        return Outcome("failed", error=describe_error(exc))
    if not isinstance(result, RunResult):
        return Outcome("failed", error=f"runner returned {type(result).__name__}, not RunResult")
    return _result_outcome(result)
