"""Kill -9 the executor at each step of the order path, restart it, and nothing is lost or doubled.

One simulator for the module at speed 60: a 15-minute window lasts 15 real seconds, so the
markets traded in a run end and resolve during it and settlement is crashed into too. Each
test is one run with a fresh database (SQLite and PostgreSQL) and, live, a fresh wallet; its
seeded random plan is a sequence of (kill step, intents) phases: the executor starts with
``AUTOTRADER_FAULT_KILL_AT=<step>``, random intents of two strategies are committed, and the
process SIGKILLs itself when the first of them reaches the step (or when an intent left over
from the previous phase does, during start-up reconciliation). After the last phase a clean
executor finishes everything. Then: every intent terminal with a reason, exactly one order per
intent at the venue (the simulator's own record, /_sim/orders) for every intent that traded,
every venue fill recorded once, every ledger balanced (a settlement recorded twice would not
replay). Per mode, the SQLite and the PostgreSQL run split the steps between them; without
PostgreSQL the SQLite run takes them all.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from autotrader.executor.faults import STEPS
from harness.executor_proc import ExecutorRig, sim_config
from harness.sim import SimProcess

SPEED = 60.0
KILLED = -9
MIN_LEFT_SECS = 300  # simulated seconds a traded window must still have (5 real s)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("sim")
    process = SimProcess("sim", "--port", "0", "--config", str(sim_config(root, SPEED)))
    try:
        yield process.url, root
    finally:
        process.close()


def plan(mode: str, backend: str) -> list[tuple[str, int]]:
    """This run's phases: (kill step, new intents), seeded by mode and backend."""
    steps = list(STEPS)
    random.Random(f"steps-{mode}").shuffle(steps)
    if os.environ.get("AUTOTRADER_TEST_DATABASE_URL"):
        steps = steps[("sqlite", "postgresql").index(backend) :: 2]
    rng = random.Random(f"intents-{mode}-{backend}")
    return [(step, rng.randint(2, 4)) for step in steps]


@pytest.mark.parametrize("mode", ["paper", "live"])
def test_kill_at_each_step_and_restart(
    sim: tuple[str, Path], tmp_path: Path, database_url: str, mode: str
) -> None:
    url, sim_root = sim
    backend = database_url.split(":")[0].split("+")[0]
    rig = ExecutorRig(tmp_path / "run", sim_root, url, database_url, mode=mode, speed=SPEED)
    rng = random.Random(f"{mode}-{backend}")
    try:
        for step, count in plan(mode, backend):
            with rig.executor(kill_at=step) as manager:
                if rig.ready_or_dead(manager):
                    slug = rig.tradable_market(MIN_LEFT_SECS)
                    tokens = rig.market_tokens(slug)
                    for _ in range(count):
                        rig.add(rig.random_intent(rng, slug, tokens))
                # settling waits for the window to end and resolve: up to 20 real seconds
                code = manager.wait_exit(40)
                assert code == KILLED, f"{step}: exit {code}\n{manager.stderr()[-3000:]}"
        with rig.executor() as manager:
            assert rig.ready_or_dead(manager), manager.stderr()
            slug = rig.tradable_market(MIN_LEFT_SECS)
            rig.add(rig.random_intent(rng, slug, rig.market_tokens(slug)))  # it trades on
            rig.wait_settled(manager)
            rig.stop(manager)
        rig.check_books()
    finally:
        rig.close()
