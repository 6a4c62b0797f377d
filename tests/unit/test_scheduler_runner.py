"""One run's outcome whatever the strategy does; the default max price of the btc strategy."""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal
from typing import Any

import pytest

from autotrader.config import BtcUpdown15mStrategy, PipelineStrategy
from autotrader.domain.fees import FeeSchedule
from autotrader.scheduler import runner
from autotrader.strategies.base import NodeStat, RunResult, StrategyContext
from autotrader.strategies.btc_updown import default_max_price, expected_value

CRYPTO_FEES = FeeSchedule(rate=Decimal("0.07"))
CENT = Decimal("0.01")

BTC = BtcUpdown15mStrategy.model_validate(
    {
        "name": "btc",
        "kind": "btc_updown_15m",
        "schedule": {"every": "15m"},
        "allocation_usd": 100,
        "limits": {"daily_loss_usd": 10, "max_position_pct": 50},
    }
)
PIPE = PipelineStrategy.model_validate(
    {
        "name": "pipe",
        "kind": "pipeline",
        "schedule": {"every": "1m"},
        "allocation_usd": 100,
        "limits": {"daily_loss_usd": 10, "max_position_pct": 50},
        "pipeline": [{"stream_markets": {"tag": "politics"}}],
    }
)
CTX: Any = object()  # the runner hands the context through without looking at it


def run(fn: runner.RunFn, timeout: float = 5.0) -> runner.Outcome:
    return asyncio.run(runner.execute(BTC, CTX, timeout, fn))


def test_result_becomes_outcome_with_node_counts() -> None:
    async def ok(_s: Any, _c: StrategyContext) -> RunResult:
        return RunResult("ok", [NodeStat("signal", 1, 1), NodeStat("entry", 1, 1)], 1, "done")

    out = run(ok)
    assert (out.outcome, out.intents_created, out.note, out.failed) == ("ok", 1, "done", False)
    assert out.nodes == [
        {"node": "signal", "in": 1, "out": 1},
        {"node": "entry", "in": 1, "out": 1},
    ]


def test_exception_is_a_failed_run_with_one_line_error() -> None:
    async def boom(_s: Any, _c: StrategyContext) -> RunResult:
        raise ValueError("no\nsuch   market")

    out = run(boom)
    assert out.failed and out.outcome == "failed"
    assert out.error == "ValueError: no such market"


def test_slow_run_times_out_and_counts_as_failure() -> None:
    async def slow(_s: Any, _c: StrategyContext) -> RunResult:
        await asyncio.sleep(30)
        return RunResult()

    out = run(slow, timeout=0.05)
    assert out.outcome == "timeout" and out.failed
    assert out.error == "run did not finish within 0.05s"


def test_a_timeout_raised_inside_the_strategy_is_a_plain_failure() -> None:
    async def inner(_s: Any, _c: StrategyContext) -> RunResult:
        raise TimeoutError("gamma read timed out")

    assert run(inner).outcome == "failed"


def test_cancellation_propagates() -> None:
    async def main() -> None:
        async def slow(_s: Any, _c: StrategyContext) -> RunResult:
            await asyncio.sleep(30)
            return RunResult()

        task = asyncio.create_task(runner.execute(BTC, CTX, 60, slow))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())


def test_missing_pipeline_runner_is_a_failed_run(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import fail as if the module were not installed.
    monkeypatch.setitem(sys.modules, "autotrader.strategies.pipeline", None)
    out = asyncio.run(runner.execute(PIPE, CTX, 5.0))
    assert out.outcome == "failed"
    assert out.error is not None and "pipeline runner not available" in out.error


def test_runner_for_kind() -> None:
    assert runner.runner_for(BTC) is not runner.runner_for(PIPE)


@pytest.mark.parametrize(
    ("confidence", "expected"),
    [(60, "0.58"), (75, "0.73"), (95, "0.94"), (50.5, "0.48")],
)
def test_default_max_price_is_the_highest_positive_ev_price(
    confidence: float, expected: str
) -> None:
    price = default_max_price(confidence, CRYPTO_FEES, CENT)
    assert price == Decimal(expected)
    q = Decimal(str(confidence)) / 100
    assert expected_value(q, price, CRYPTO_FEES) > 0
    assert expected_value(q, price + CENT, CRYPTO_FEES) <= 0


def test_default_max_price_without_fees_and_on_a_fine_tick() -> None:
    assert default_max_price(60, FeeSchedule(), CENT) == Decimal("0.59")
    assert default_max_price(97, CRYPTO_FEES, Decimal("0.001")) == Decimal("0.967")
    assert default_max_price(0.5, CRYPTO_FEES, CENT) is None
