"""Simulator faults at 20 % over hundreds of intents: nothing doubled, all end with a reason.

A live executor (real py-clob-client-v2 signing) trades against a simulator that fails one
request in five on every endpoint: 425 (engine restart), 429 (throttled), 500, a slow answer,
a dropped connection and ``lost`` (the work is done, the answer never arrives — an order placed
without the executor being told). Intents of two strategies are committed in one go (100 per
backend, SQLite and PostgreSQL: 200 in all). Then, with the faults off: every intent terminal
with a reason code, no intent with more than one order at the venue and every one that traded
with exactly one, every venue fill recorded once, every ledger balanced — and the faults really
happened, lost answers included.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from autotrader.domain.intents import IntentStatus
from harness.executor_proc import ExecutorRig, sim_config
from harness.sim import SimProcess

SPEED = 10.0
INTENTS = 100
# One draw per request: 20 % in all. A slow answer is held 0.2 real seconds.
FAULTS = "425:0.03,429:0.04,500:0.04,slow:0.03,drop:0.03,lost:0.03,scope=all,slow=0.2"


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("sim")
    process = SimProcess("sim", "--port", "0", "--config", str(sim_config(root, SPEED)))
    try:
        yield process.url, root
    finally:
        process.close()


def set_faults(url: str, spec: str, seed: int = 7) -> None:
    r = httpx.post(f"{url}/_sim/faults", json={"spec": spec, "seed": seed}, timeout=5)
    assert r.status_code == 200, r.text


def test_faults_at_20_percent_double_nothing(
    sim: tuple[str, Path], tmp_path: Path, database_url: str
) -> None:
    url, sim_root = sim
    # Venue failures must not pause the strategies here: every intent should meet the faults.
    rig = ExecutorRig(tmp_path / "run", sim_root, url, database_url, mode="live", speed=SPEED,
                      failures=1000)  # fmt: skip
    rng = random.Random(f"faults-{database_url.split(':')[0]}")
    before = httpx.get(f"{url}/_sim/state", timeout=5).json()["counts"]
    try:
        with rig.executor() as manager:
            assert rig.ready_or_dead(manager), manager.stderr()
            slug = rig.tradable_market(min_left_secs=900)  # the next window: open ~2 minutes
            tokens = rig.market_tokens(slug)
            set_faults(url, FAULTS)
            try:
                for _ in range(INTENTS):
                    rig.add(rig.random_intent(rng, slug, tokens, small=True))
                rig.wait_settled(manager, timeout=150)
            finally:
                set_faults(url, "none")
            rig.stop(manager)
        rig.check_books()
        after = httpx.get(f"{url}/_sim/state", timeout=5).json()["counts"]
        injected = {k: after.get(k, 0) - before.get(k, 0) for k in ("lost", "drop", "500", "425")}
        assert all(n > 0 for n in injected.values()), injected
        statuses = {s.status for s in rig.intents()}
        assert IntentStatus.FILLED in statuses and IntentStatus.RESTING in statuses, statuses
    finally:
        rig.close()
