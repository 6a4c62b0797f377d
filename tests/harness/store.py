"""Shared pieces of the store integration tests: a migrated engine, a hand-moved clock, and
Python processes released together through a start gate."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from autotrader.store import migrate
from autotrader.store.db import create_db_engine

REPO = Path(__file__).resolve().parents[2]


class Ticker:
    """A hand-moved clock for the repositories' timestamps."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def migrated_engine(database_url: str) -> Iterator[sa.Engine]:
    """Body of an ``engine`` fixture: the database migrated to head, disposed after."""
    migrate.upgrade(database_url)
    eng = create_db_engine(database_url)
    yield eng
    eng.dispose()


def run_gated(script: str, argvs: Sequence[Sequence[str]]) -> list[tuple[int, str, str]]:
    """Run ``python -c script *argv`` once per ``argvs`` entry, all released together.

    Each process prints ``ready`` and then waits for a line on stdin (the start gate); once every
    one is ready, all are sent ``go``. Returns each process's (exit code, stdout, stderr).
    """
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for argv in argvs
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = [proc.communicate(timeout=120) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return [(proc.returncode, out, err) for proc, (out, err) in zip(procs, results, strict=True)]
