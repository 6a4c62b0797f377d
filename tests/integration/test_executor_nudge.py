"""A committed intent wakes the executor at once: it does not wait for the next poll."""

from __future__ import annotations

import random
from pathlib import Path

from autotrader.nudge import nudge_path
from autotrader.store.repos_intents import IntentAdded, IntentRepo
from harness.executor_proc import ExecutorRig, sim_config
from harness.sim import SimProcess
from harness.wait import poll

POLL_MS = 120_000  # the executor's poll: far longer than the test's deadline


def test_a_committed_intent_is_run_long_before_the_next_poll(tmp_path: Path) -> None:
    sim = SimProcess("sim", "--port", "0", "--config", str(sim_config(tmp_path, 1.0)))
    rig = ExecutorRig(tmp_path / "run", tmp_path, sim.url, f"sqlite:///{tmp_path / 'x.db'}",
                      mode="paper", speed=1.0, poll_ms=POLL_MS)  # fmt: skip
    try:
        with rig.executor() as manager:
            assert rig.ready_or_dead(manager), manager.stderr()
            socket_path = nudge_path(rig.config.state_dir)
            poll(socket_path.exists, "the executor's nudge socket")
            slug = rig.tradable_market(300)
            intent = rig.random_intent(random.Random(7), slug, rig.market_tokens(slug))
            repo = IntentRepo(rig.engine, now=rig.clock.now, nudge=socket_path)
            assert isinstance(repo.add(intent), IntentAdded)
            done = poll(lambda: (s := repo.get(intent.id)) is not None and s.terminal,
                        "the intent's end, well within one poll interval", timeout=30)  # fmt: skip
            assert done
            rig.stop(manager)
        assert not socket_path.exists()  # removed at shutdown
    finally:
        rig.close()
        sim.close()
