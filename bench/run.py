"""`make bench`: every benchmark, each printing its figures and ratios."""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

BENCHES = (
    "bench_engine",
    "bench_daemon",
    "bench_venue",
    "bench_status",
    "bench_executor",
    "bench_scheduler",
)


def main() -> None:
    """Run each benchmark module's main() in turn."""
    only = set(sys.argv[1:])
    for name in BENCHES:
        if only and name not in only:
            continue
        print(f"== {name}")
        t0 = time.perf_counter()
        importlib.import_module(name).main()
        print(f"   ({time.perf_counter() - t0:.1f} s)\n")


if __name__ == "__main__":
    main()
