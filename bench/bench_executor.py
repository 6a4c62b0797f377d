"""The executor: intent committed → order acknowledged by the simulator, and the executor's RSS.

A live executor (real py-clob-client-v2 signing, ``autotrader run executor`` as a process)
trades against a simulator process at speed 1, both on one shared clock (the same anchor file),
so the executor's timestamps and ours are comparable to the microsecond
(``BENCH_EXECUTOR_MODE=paper``: the paper venue on the simulator's book instead;
``BENCH_EXECUTOR_N``: how many intents, default 1,000 — under a minute). The executor runs the
shipped settings: ``executor.poll_interval_ms`` and ``executor.position_check_secs`` at their
defaults (50 ms idle poll, 2 ms while intents come — ``HOT_POLL_SECS``; the open-order sync
every 5 s); ``BENCH_EXECUTOR_CHECK_SECS`` / ``BENCH_EXECUTOR_POLL_MS`` override them, e.g.
``BENCH_EXECUTOR_CHECK_SECS=1`` for the stress figure (a sync of the resting orders every
second, which intents cannot interleave). The settings used are printed. Closed loop, one intent
at a time (no queueing in the figures): the bench commits an intent and notes the clock right
after the commit, and nudges the executor as the scheduler and ``autotrader trade`` do
(``autotrader.nudge``); the executor wakes (or finds it at its next poll), runs the risk check,
writes the order row, signs, stores the hash, POSTs, and records the simulator's answer — the
order row's ``updated_at`` (on the shared clock) is written as soon as that answer is in, and is
the "acknowledged" time; a "matched" answer's trades are recorded after it, not waited for.
Latency = ``updated_at`` − commit time. Intents alternate a resting limit buy (5 shares @ 0.05)
and a $1 market buy, over two strategies. RSS is the executor's VmRSS (and VmHWM, the peak) from
/proc after the run. Targets: p50 ≤ 15 ms, p99 ≤ 60 ms, RSS ≤ 80 MB.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from autotrader.config_sections import ExecutorConfig  # noqa: E402
from autotrader.domain.intents import IntentKind, OrderIntent  # noqa: E402
from autotrader.domain.orders import Side  # noqa: E402
from autotrader.executor.service import HOT_POLL_SECS  # noqa: E402
from autotrader.nudge import nudge_path  # noqa: E402
from autotrader.store.repos_intents import IntentRepo  # noqa: E402
from autotrader.store.repos_trading import OrderRepo  # noqa: E402
from harness.executor_proc import ExecutorRig, sim_config  # noqa: E402
from harness.sim import SimProcess  # noqa: E402

N = int(os.environ.get("BENCH_EXECUTOR_N", "1000"))
MODE = os.environ.get("BENCH_EXECUTOR_MODE", "live")  # or "paper"
WARMUP = 20
_SHIPPED = ExecutorConfig()  # the defaults a configuration without an executor section gets
POLL_MS = int(os.environ.get("BENCH_EXECUTOR_POLL_MS", str(_SHIPPED.poll_interval_ms)))
CHECK_SECS = float(os.environ.get("BENCH_EXECUTOR_CHECK_SECS", str(_SHIPPED.position_check_secs)))
TARGET_P50_MS, TARGET_P99_MS, TARGET_RSS_MB = 15.0, 60.0, 80.0


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _intent(rig: ExecutorRig, n: int, slug: str, token: str) -> OrderIntent:
    now = rig.clock.now()
    market = n % 2 == 1
    return OrderIntent(
        id=f"bench{n:06d}{random.getrandbits(32):08x}",
        strategy=("alpha", "beta")[n % 2],
        market_slug=slug,
        token_id=token,
        outcome="Up",
        side=Side.BUY,
        kind=IntentKind.MARKET if market else IntentKind.LIMIT,
        amount_usd=Decimal(1) if market else None,
        shares=None if market else Decimal(5),
        limit_price=None if market else Decimal("0.05"),
        valid_until=now + timedelta(minutes=5),
        entry_key=None,
        reason="bench",
        created_at=now,
    )


def _rss_mb(pid: int) -> tuple[float, float]:
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _one(rig: ExecutorRig, intents: IntentRepo, n: int, slug: str, token: str) -> float:
    """Commit one intent, wait for its end; the ack latency in milliseconds."""
    intent = _intent(rig, n, slug, token)
    intents.add(intent)
    committed = rig.clock.now()  # the executor stamps its rows on this same shared clock
    deadline = time.monotonic() + 30
    while True:
        stored = intents.get(intent.id)
        if stored is not None and stored.terminal:
            break
        if time.monotonic() > deadline:
            sys.exit(f"bench: intent {n} not finished in 30 s")
        time.sleep(0.002)  # the latency is read from the order row, not from this poll
    (order,) = OrderRepo(rig.engine).for_intent(intent.id)
    return (order.updated_at - committed).total_seconds() * 1000


def main() -> None:
    """Run the closed loop and print p50/p99 latency and RSS with their ratios to target."""
    with tempfile.TemporaryDirectory(prefix="bench-exec-") as tmp:
        root = Path(tmp)
        sim = SimProcess("sim", "--port", "0", "--config", str(sim_config(root, 1.0)),
                         "--initial-balance", "1000000")  # fmt: skip
        rig = ExecutorRig(root / "run", root, sim.url, f"sqlite:///{root / 'bench.db'}",
                          mode=MODE, speed=1.0, poll_ms=POLL_MS, failures=1000,
                          check_secs=CHECK_SECS)  # fmt: skip
        try:
            with rig.executor() as manager:
                if not rig.ready_or_dead(manager):
                    sys.exit(f"bench: executor did not start\n{manager.stderr()}")
                slug = rig.tradable_market(min_left_secs=900)
                token = rig.market_tokens(slug)["Up"]
                # As the scheduler and `autotrader trade` do: each commit nudges the executor.
                nudge = nudge_path(rig.config.state_dir)
                intents = IntentRepo(rig.engine, now=rig.clock.now, nudge=nudge)
                for n in range(WARMUP):
                    _one(rig, intents, n, slug, token)
                t0 = time.perf_counter()
                lat = [_one(rig, intents, WARMUP + n, slug, token) for n in range(N)]
                wall = time.perf_counter() - t0
                rss, peak = _rss_mb(manager.pid)
                rig.stop(manager)
        finally:
            rig.close()
            sim.close()
    p50, p99 = _pct(lat, 0.50), _pct(lat, 0.99)
    for name, part in (("limit (rests)", lat[::2]), ("market (fills)", lat[1::2])):
        print(f"   {name}: p50 {_pct(part, 0.5):.1f} ms, p99 {_pct(part, 0.99):.1f} ms")
    how = "live signing" if MODE == "live" else "paper venue on the sim's book"
    used = (POLL_MS, CHECK_SECS)
    shipped = used == (_SHIPPED.poll_interval_ms, _SHIPPED.position_check_secs)
    print(f"   executor, {N} intents one at a time ({how}, sim at speed 1, poll_interval_ms "
          f"{POLL_MS} (hot poll {HOT_POLL_SECS * 1000:.0f} ms), position_check_secs "
          f"{CHECK_SECS:g}: {'shipped defaults' if shipped else 'NOT the shipped defaults'}): "
          f"{N / wall:.0f} intents/s")  # fmt: skip
    print(f"   intent committed → order acknowledged: p50 {p50:.1f} ms "
          f"(target ≤ {TARGET_P50_MS:.0f}, ratio {p50 / TARGET_P50_MS:.2f}), "
          f"p99 {p99:.1f} ms (target ≤ {TARGET_P99_MS:.0f}, ratio {p99 / TARGET_P99_MS:.2f}), "
          f"mean {statistics.fmean(lat):.1f} ms, max {max(lat):.1f} ms")  # fmt: skip
    print(f"   executor RSS {rss:.1f} MB, peak {peak:.1f} MB "
          f"(target ≤ {TARGET_RSS_MB:.0f}, ratio {peak / TARGET_RSS_MB:.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
