"""What the scheduler keeps per strategy between runs, in process on a fake clock.

* a finished run's task is let go once its end is recorded (not kept until the next run);
* a reload hands unchanged strategies' entries the new (identical) definition, so the old
  configuration is not kept alive beside the new one, and still puts changed ones in force;
* parts equal across the reload are the same shared instances;
* the process loads neither the order parsing nor the wire models it never reads, and builds
  no wire model's validator before it first reads that payload.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from autotrader.clock import FakeClock
from autotrader.config import AppConfig, load_config
from autotrader.scheduler.lifecycle import definition_hash
from autotrader.scheduler.service import SchedulerService
from autotrader.store import migrate
from autotrader.store.db import create_db_engine
from autotrader.store.repos_scheduler import SchedulerRepo
from harness.sim import REPO, autotrader_env

STRATEGY = """\
  - name: {name}
    kind: btc_updown_15m
    schedule: {{every: 1m}}
    allocation_usd: 100
    limits: {{daily_loss_usd: {loss}, max_position_pct: 50}}
    params: {{cooldown_secs: 0}}
"""


def _load(path: Path, state: Path, url: str, loss_b: int) -> AppConfig:
    head = f'state_dir: {state}\ndatabase_url: "{url}"\nstrategies:\n'
    body = STRATEGY.format(name="a", loss=10) + STRATEGY.format(name="b", loss=loss_b)
    path.write_text(head + body)
    return load_config(path)


async def _scenario(tmp_path: Path, url: str) -> None:
    engine = create_db_engine(url)
    path, state = tmp_path / "autotrader.yaml", tmp_path / "state"
    old = _load(path, state, url, 10)
    clock = FakeClock()
    service = SchedulerService(old, clock, engine)
    await service.startup()
    entries = service._entries
    try:
        (due,) = {e.due for e in entries.values()}
        assert due is not None
        clock.advance(max(0.0, due - clock.time()))
        await service.on_tick()  # both runs start (the next ones are a minute ahead)
        tasks = [e.task for e in entries.values()]
        assert all(t is not None for t in tasks)
        await asyncio.wait([t for t in tasks if t is not None])
        await service.on_tick()  # … and their ends are recorded
        assert [e.task for e in entries.values()] == [None, None]
        assert not any(e.busy for e in entries.values())

        new = _load(path, state, url, 20)
        service.reload(new)
        await service.on_tick()
        assert entries["a"].config is new.strategies[0]  # unchanged: the new, equal object
        assert entries["b"].config is new.strategies[1]  # changed: in force
        assert entries["b"].config.limits.daily_loss_usd == 20
        assert new.strategies[0].limits is old.strategies[0].limits  # shared across reloads
        stored = await asyncio.to_thread(SchedulerRepo(engine).states)
        for strategy in new.strategies:
            assert stored[strategy.name].definition_hash == definition_hash(strategy)
    finally:
        await service.shutdown()
        engine.dispose()


def test_runs_are_let_go_and_a_reload_keeps_one_configuration(
    database_url: str, tmp_path: Path
) -> None:
    migrate.upgrade(database_url)
    asyncio.run(_scenario(tmp_path, database_url))


# What `autotrader run scheduler` loads up to its strategies' context and pipeline nodes.
IMPORTS = """
import json, sys
from autotrader.cli.run_cmd import DAEMONS
from autotrader.config import load_config
from autotrader.clock import LiveClock
from autotrader.store.db import create_db_engine
from autotrader.strategies.context import build_context, shared_reads
from autotrader.strategies import pipeline
from autotrader.venue.polymarket.schemas_base import WireModel
DAEMONS["scheduler"]()
config = load_config(sys.argv[1])
clock = LiveClock()
build_context(config, clock, create_db_engine(config.database_url), shared_reads(config, clock))
def kinds(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from kinds(sub)
print(json.dumps({
    "loaded": sorted(m for m in sys.modules if m.rsplit(".", 1)[-1] in
                     ("parsing_orders", "schemas_ws", "clob", "clob_reads")),
    "built": sorted(k.__name__ for k in kinds(WireModel) if k.__pydantic_complete__),
}))
"""


def test_the_scheduler_loads_no_order_parsing_and_builds_no_wire_model_early(
    tmp_path: Path,
) -> None:
    # Every module and validator a daemon builds stays resident for its lifetime (issue 5's
    # 2,000-strategy scheduler is held to 80 MB): the scheduler reads markets, never orders.
    path = tmp_path / "autotrader.yaml"
    path.write_text(
        f"state_dir: {tmp_path / 'state'}\nstrategies:\n"
        "  - name: p\n    kind: pipeline\n    schedule: {every: 1m}\n    allocation_usd: 10\n"
        "    limits: {daily_loss_usd: 1, max_position_pct: 50}\n"
        "    pipeline: [{stream_markets: {limit: 5}}, {filter: {when: 'volume > 1'}}]\n"
    )
    argv = [sys.executable, "-c", IMPORTS, str(path)]
    done = subprocess.run(argv, cwd=REPO, env=autotrader_env(), capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"loaded": [], "built": []}
