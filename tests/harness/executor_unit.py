"""Pieces of the executor's unit tests: a config, a migrated SQLite copy, intents, checks.

The database is migrated once per session into a template file and copied for each test
(a copy is a few milliseconds, a migration most of a second).
"""

from __future__ import annotations

import shutil
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from autotrader.clock import FakeClock
from autotrader.config import AppConfig, load_config
from autotrader.domain.intents import IntentKind, OrderIntent
from autotrader.domain.orders import Side
from autotrader.executor import order_path
from autotrader.executor.books import all_ledgers, load_snapshot
from autotrader.store import migrate
from autotrader.store.db import create_db_engine
from autotrader.store.repos_intents import IntentAdded, IntentRepo, StoredIntent
from autotrader.store.repos_trading import FillRepo, OrderRepo
from harness.scripted_venue import SLUG, UP, ScriptedVenue

CONFIG = """\
state_dir: {state}
mode: paper
risk: {{max_trade_usd: 20, portfolio_exposure_usd: 500, max_orders_per_minute: 1000}}
executor: {{max_consecutive_venue_failures: {failures}}}
strategies:
  - name: s1
    kind: btc_updown_15m
    schedule: {{every: 15m}}
    allocation_usd: 200
    limits: {{daily_loss_usd: 50, max_position_pct: 50}}
    params: {{cooldown_secs: 0}}
  - name: s2
    kind: btc_updown_15m
    schedule: {{every: 15m}}
    allocation_usd: 100
    limits: {{daily_loss_usd: 20, max_position_pct: 50}}
    params: {{cooldown_secs: 0}}
"""


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, copied for each test (``engine_copy``)."""
    return template_db(tmp_path_factory.mktemp("template"))


@pytest.fixture
def short_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real-time bounds of the ambiguous lookup and follow-up, shortened for unit tests."""
    monkeypatch.setattr(order_path, "AMBIGUOUS_GRACE_SECS", 0.3)
    monkeypatch.setattr(order_path, "FOLLOW_UP_SECS", 0.3)
    monkeypatch.setattr(order_path, "LOOKUP_INTERVAL_SECS", 0.01)


def unit_config(root: Path, *, failures: int = 3) -> AppConfig:
    """Two strategies (s1, s2) with room for many small trades; state in ``root/state``."""
    path = root / "autotrader.yaml"
    path.write_text(CONFIG.format(state=root / "state", failures=failures))
    config = load_config(path)
    config.state_dir.mkdir(parents=True, exist_ok=True)  # the service's startup does this
    return config


def template_db(root: Path) -> Path:
    """A SQLite file migrated to head (make it once per session)."""
    path = root / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


def engine_copy(template: Path, root: Path) -> sa.Engine:
    """An engine on a fresh copy of ``template``."""
    path = root / "autotrader.db"
    shutil.copyfile(template, path)
    return create_db_engine(f"sqlite:///{path}")


def make_intent(
    clock: FakeClock,
    *,
    strategy: str = "s1",
    usd: str | None = None,
    shares: str | None = "10",
    limit: str | None = "0.52",
    side: Side = Side.BUY,
    valid_secs: float = 60,
) -> OrderIntent:
    """An intent on the scripted market's Up token (a limit buy of 10 shares by default)."""
    now = clock.now()
    return OrderIntent(
        id=uuid.uuid4().hex,
        strategy=strategy,
        market_slug=SLUG,
        token_id=UP,
        outcome="Up",
        side=side,
        kind=IntentKind.LIMIT if limit is not None else IntentKind.MARKET,
        amount_usd=Decimal(usd) if usd is not None else None,
        shares=Decimal(shares) if shares is not None and usd is None else None,
        limit_price=Decimal(limit) if limit is not None else None,
        valid_until=now + timedelta(seconds=valid_secs),
        entry_key=None,
        reason="unit test",
        created_at=now,
    )


def add_and_claim(engine: sa.Engine, intent: OrderIntent) -> StoredIntent:
    """Store ``intent`` and claim it, as the service's tick does."""
    repo = IntentRepo(engine)
    assert isinstance(repo.add(intent), IntentAdded)
    stored = repo.claim_next("unit-test")
    assert stored is not None and stored.id == intent.id
    return stored


def assert_books_consistent(config: AppConfig, engine: sa.Engine, venue: ScriptedVenue) -> None:
    """Fills once each and equal to the venue's trades of our orders; every ledger balanced."""
    fills = FillRepo(engine).all()
    ids = [r.fill.trade_id for r in fills]
    assert len(ids) == len(set(ids)), f"a trade recorded twice: {ids}"
    ours = {o.venue_order_id for o in OrderRepo(engine).list(limit=1000)}
    at_venue = sorted(f.trade_id for f in venue.fills if f.venue_order_id in ours)
    assert sorted(ids) == at_venue
    for name, ledger in all_ledgers(config, load_snapshot(engine)).items():
        assert ledger.balanced(), f"{name}: imbalance {ledger.imbalance_usd}"
