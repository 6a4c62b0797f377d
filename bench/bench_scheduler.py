"""Start lateness, CPU and RSS of `autotrader run scheduler` with 2,000 one-minute strategies.

Each strategy runs a short pipeline against a local simulator every minute (``stream_markets``
of 20 markets, then a ``filter`` on volume); the minute offsets are spread over the minute
(``align: true, offset_secs: i % 60``), as an operator's strategies would be. Without the
pipeline runner the strategies are btc_updown_15m ones on one-minute schedules (they read the
signal file and skip: the scheduler's own cost, nothing else).

The database starts in the steady state of a scheduler that has run for a while: every
strategy already has the 50 runs the scheduler keeps (``BENCH_SCHEDULER_HISTORY``, default 50;
what the status page, rendered every 30 s by the scheduler, reads). Only the runs of this
benchmark count below.
Start lateness = a run's ``started_at`` − its ``scheduled_for`` (both stored in
``strategy_runs``), over the scheduled runs after the first minute (start-up excluded).
CPU and RSS of the scheduler process are sampled from /proc every second.
Targets (issue 5 §9): p99 lateness <= 1 s, RSS <= 80 MB; each figure is printed with its ratio
to the target (<= 1.00 meets it). Figures only; nothing is asserted.

Environment: BENCH_SCHEDULER_SECS (default 150), BENCH_SCHEDULER_N (default 2000),
BENCH_SCHEDULER_KIND=btc (the scheduler's own cost without the pipelines' network work),
BENCH_SCHEDULER_PROFILE=FILE (run the scheduler under cProfile, stats written to FILE),
BENCH_SCHEDULER_SRC=DIR (run the scheduler from another source tree, e.g. a copy of an older
revision, for before/after figures).
"""

from __future__ import annotations

import importlib.util
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "btcusdt_1m_demo.csv"
DURATION_SECS = float(os.environ.get("BENCH_SCHEDULER_SECS", "150"))
N = int(os.environ.get("BENCH_SCHEDULER_N", "2000"))
HISTORY = int(os.environ.get("BENCH_SCHEDULER_HISTORY", "50"))
WARMUP_SECS = 60.0
_TICKS = os.sysconf("SC_CLK_TCK")
TARGET_P99_SECS = 1.0
TARGET_RSS_MB = 80.0
STOP_SECS = 60.0

PIPELINE = """\
    pipeline:
      - stream_markets: {{limit: 20}}
      - filter: {{when: "volume > {v}"}}
"""
BTC = "    params: {cooldown_secs: 0}\n"


def _config(root: Path, url: str, pipeline: bool) -> Path:
    lines = [
        f"state_dir: {root / 'state'}",
        "log_level: warning",
        f'polymarket: {{gamma_url: "{url}", clob_url: "{url}", data_url: "{url}"}}',
        "scheduler: {max_consecutive_failures: 1000, run_timeout_secs: 50}",
        "strategies:",
    ]
    text = "\n".join(lines) + "\n"
    for i in range(N):
        kind = "pipeline" if pipeline else "btc_updown_15m"
        text += (
            f"  - name: s{i:04d}\n    kind: {kind}\n"
            f"    schedule: {{every: 1m, align: true, offset_secs: {i % 60}}}\n"
            "    allocation_usd: 100\n    limits: {daily_loss_usd: 10, max_position_pct: 50}\n"
        )
        text += PIPELINE.format(v=i % 1000) if pipeline else BTC
    path = root / "autotrader.yaml"
    path.write_text(text)
    return path


def _start_sim() -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "autotrader", "sim", "--port", "0", "--data", str(DATA)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)  # fmt: skip
    assert proc.stdout is not None
    match = re.search(r"(http://127\.0\.0\.1:\d+)", proc.stdout.readline())
    assert match, "the simulator did not start"
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    return proc, match.group(1)


def _sample(pid: int) -> tuple[float, int]:
    """(CPU seconds so far, RSS in bytes) of ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / _TICKS
    rss = next(
        int(line.split()[1]) * 1024
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmRSS:")
    )
    return cpu, rss


def _seed_history(db: Path) -> None:
    """HISTORY finished runs per strategy, one a minute before now (as the scheduler keeps)."""
    sys.path.insert(0, str(REPO / "src"))
    import sqlalchemy as sa

    from autotrader.store import migrate
    from autotrader.store.db import create_db_engine
    from autotrader.store.models_scheduler import STRATEGY_RUNS

    url = f"sqlite:///{db}"
    migrate.upgrade(url)
    engine = create_db_engine(url)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    nodes = [{"node": "stream_markets", "in": 0, "out": 20}, {"node": "filter", "in": 20, "out": 3}]
    with engine.begin() as conn:
        for i in range(N):
            due = [now - timedelta(minutes=k + 1, seconds=-(i % 60)) for k in range(HISTORY)]
            conn.execute(sa.insert(STRATEGY_RUNS), [
                {"strategy": f"s{i:04d}", "started_at": t, "ended_at": t + timedelta(seconds=1),
                 "outcome": "ok", "nodes": nodes, "intents_created": 0, "trigger": "schedule",
                 "scheduled_for": t}
                for t in due
            ])  # fmt: skip
    engine.dispose()


def _lateness(db: Path, since: float, start: float) -> tuple[list[float], dict[str, int]]:
    """Start lateness of the runs due after ``since``; outcomes of the runs after ``start``."""
    import sqlalchemy as sa

    from autotrader.store.db import create_db_engine
    from autotrader.store.models_scheduler import STRATEGY_RUNS

    engine = create_db_engine(f"sqlite:///{db}")
    r = STRATEGY_RUNS.c
    begun = datetime.fromtimestamp(start, UTC)
    query = sa.select(r.started_at, r.scheduled_for, r.outcome, r.error).where(
        r.trigger == "schedule", r.started_at >= begun
    )
    late: list[float] = []
    outcomes: dict[str, int] = {}
    with engine.begin() as conn:
        for started, due, outcome, error in conn.execute(query):
            key = outcome if error is None else f"{outcome}: {error[:70]}"
            outcomes[key] = outcomes.get(key, 0) + 1
            if due is not None and due.timestamp() >= since:
                late.append(started.timestamp() - due.timestamp())
    engine.dispose()
    return late, outcomes


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _scheduler_cmd(config: Path) -> tuple[list[str], dict[str, str]]:
    """The scheduler's command line and environment (profiled / other source tree on demand)."""
    cmd = [sys.executable]
    profile = os.environ.get("BENCH_SCHEDULER_PROFILE")
    if profile:
        cmd += ["-m", "cProfile", "-o", profile]
    cmd += ["-m", "autotrader", "run", "scheduler", "--config", str(config)]
    env = dict(os.environ)
    src = os.environ.get("BENCH_SCHEDULER_SRC")
    if src:
        env["PYTHONPATH"] = src
    return cmd, env


def _run_scheduler(config: Path) -> tuple[list[tuple[float, float, int]], list[str], float]:
    """Run the scheduler for DURATION_SECS; its (time, CPU, RSS) samples, stderr, start time."""
    cmd, env = _scheduler_cmd(config)
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    errors: list[str] = []
    assert proc.stderr is not None
    threading.Thread(target=lambda: errors.extend(proc.stderr or []), daemon=True).start()
    t0 = time.time()
    samples: list[tuple[float, float, int]] = []
    try:
        while time.time() - t0 < DURATION_SECS and proc.poll() is None:
            cpu, rss = _sample(proc.pid)
            samples.append((time.time(), cpu, rss))
            time.sleep(1.0)  # the sampling period of a benchmark, not a synchronisation
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_SECS)
        except subprocess.TimeoutExpired:
            errors.append(f"<3>the scheduler did not stop within {STOP_SECS:.0f} s; killed\n")
            proc.kill()
            proc.wait()
    return samples, errors, t0


def _report(
    kind: str,
    samples: list[tuple[float, float, int]],
    late: list[float],
    outcomes: dict[str, int],
    t0: float,
) -> None:
    steady = [s for s in samples if s[0] >= t0 + WARMUP_SECS] or samples
    span = steady[-1][0] - steady[0][0]
    cpu_pct = 100 * (steady[-1][1] - steady[0][1]) / span if span > 0 else float("nan")
    print(f"   {N} strategies ({kind}), every 1 min, {DURATION_SECS:.0f} s, "
          f"from {HISTORY} runs kept per strategy")  # fmt: skip
    print(f"   runs recorded: {sum(outcomes.values())}")
    for key, count in sorted(outcomes.items(), key=lambda kv: -kv[1])[:4]:
        print(f"     {count:6d}  {key}")
    p50, p99 = _pct(late, 0.5), _pct(late, 0.99)
    worst = max(late, default=float("nan"))
    print(f"   start lateness over {len(late)} runs after the first minute: "
          f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {worst * 1000:.0f} ms; "
          f"p99/target {p99 / TARGET_P99_SECS:.2f} (target <= {TARGET_P99_SECS:g} s)")  # fmt: skip
    rss_max = max(s[2] for s in samples) / 2**20
    rss_mean = statistics.fmean(s[2] for s in steady) / 2**20
    rss_min = min(s[2] for s in steady) / 2**20
    print(f"   scheduler CPU {cpu_pct:.1f}% of one core (steady state)")
    print(f"   scheduler RSS min {rss_min:.1f} MB, mean {rss_mean:.1f} MB, max {rss_max:.1f} MB; "
          f"mean/target {rss_mean / TARGET_RSS_MB:.2f}, max/target {rss_max / TARGET_RSS_MB:.2f} "
          f"(target <= {TARGET_RSS_MB:.0f} MB)")  # fmt: skip


def main() -> None:
    """Run the benchmark and print its figures."""
    pipeline = importlib.util.find_spec("autotrader.strategies.pipeline") is not None
    pipeline = pipeline and os.environ.get("BENCH_SCHEDULER_KIND", "pipeline") == "pipeline"
    sim, url = _start_sim()
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        root = Path(tmp)
        config = _config(root, url, pipeline)
        (root / "state").mkdir(exist_ok=True)
        _seed_history(root / "state" / "autotrader.db")
        try:
            samples, errors, t0 = _run_scheduler(config)
        finally:
            sim.terminate()
            sim.wait(timeout=30)
        late, outcomes = _lateness(root / "state" / "autotrader.db", t0 + WARMUP_SECS, t0)
    _report("pipeline" if pipeline else "btc_updown_15m", samples, late, outcomes, t0)
    bad = [line for line in errors if line.startswith(("<3>", "<2>"))]
    if bad:
        print(f"   {len(bad)} error lines, first: {bad[0].strip()}")


if __name__ == "__main__":
    main()
