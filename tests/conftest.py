"""Fixtures every test module may use: the shared data folder and database URLs."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# Fixtures shared by the executor's scripted-venue unit tests (template database, short grace).
pytest_plugins = ["harness.executor_unit"]

REPO = Path(__file__).resolve().parent.parent
TEST_FIXTURES = REPO / "tests" / "fixtures"


def _shared_root() -> Path:
    return Path(os.environ.get("AUTOTRADER_SHARED") or REPO.parent / "shared")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared (or $AUTOTRADER_SHARED). Absent: skipped on a user's clone, a failure in CI."""
    root = _shared_root()
    if not (root / "data").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the shared data at {root}, and it is missing")
        pytest.skip(f"shared data not found at {root} (only CI is required to have it)")
    return root


@pytest.fixture(scope="session")
def spot_files(shared_dir: Path) -> list[Path]:
    """Every Binance spot 1-minute candle file of ../shared/data."""
    files = sorted((shared_dir / "data" / "binance_spot_btcusdt_1m").glob("*.csv"))
    assert files, "no spot files in shared data"
    return files


def _postgres_url(schema: str) -> str | None:
    base = os.environ.get("AUTOTRADER_TEST_DATABASE_URL")
    if not base:
        return None
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: SQLite always, PostgreSQL when AUTOTRADER_TEST_DATABASE_URL is set.

    Each PostgreSQL test gets its own schema, dropped afterwards.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'autotrader.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    url = _postgres_url(schema)
    if url is None:
        if os.environ.get("CI"):
            pytest.fail("CI must set AUTOTRADER_TEST_DATABASE_URL")
        pytest.skip("AUTOTRADER_TEST_DATABASE_URL is not set")
    import sqlalchemy as sa

    admin = sa.create_engine(os.environ["AUTOTRADER_TEST_DATABASE_URL"])
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
