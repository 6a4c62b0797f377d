"""Equal parts of the configuration are one shared instance (``config_base.share_parts``).

Sharing must never be seen: only exactly interchangeable parts are shared (same values with
the same types and spellings, same fields set), and a copy with changes leaves the shared
instance alone.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from autotrader import config_base
from autotrader.config import AppConfig, load_config
from autotrader.config_nodes import Filter
from autotrader.config_strategies import (
    LimitsConfig,
    PipelineStrategy,
    ScheduleConfig,
    StrategyBase,
)
from autotrader.scheduler.lifecycle import definition_hash

STRATEGY = """\
  - name: {name}
    kind: pipeline
    schedule: {schedule}
    allocation_usd: 100
    limits: {limits}
    pipeline:
      - stream_markets: {{limit: 20}}
      - filter: {{when: "{when}"}}
"""


def _config(tmp_path: Path, *rows: tuple[str, str, str, str]) -> AppConfig:
    text = "state_dir: state\nstrategies:\n" + "".join(
        STRATEGY.format(name=n, schedule=s, limits=lim, when=w) for n, s, lim, w in rows
    )
    path = tmp_path / "autotrader.yaml"
    path.write_text(text)
    return load_config(path)


LIMITS = "{daily_loss_usd: 10, max_position_pct: 50}"


def test_equal_parts_of_different_strategies_are_one_instance(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        ("a", "{every: 1m}", LIMITS, "volume > 5"),
        ("b", "{every: 1m}", LIMITS, "volume > 5"),
        ("c", "{every: 5m}", "{daily_loss_usd: 20, max_position_pct: 50}", "volume > 6"),
    )
    a, b, c = config.strategies
    assert a.limits is b.limits and a.schedule is b.schedule
    assert a.pipeline[0] is b.pipeline[0] is c.pipeline[0]  # the same stream_markets
    assert a.pipeline[1] is b.pipeline[1]
    assert c.limits is not a.limits and c.limits.daily_loss_usd == 20
    assert c.schedule.every == 300 and c.pipeline[1].when == "volume > 6"  # type: ignore[union-attr]
    assert a.model_fields_set is b.model_fields_set  # one fields-set per set of names
    assert a.kind is b.kind
    # Strategies themselves are unique (by name): they take no entry in the table.
    assert not any(isinstance(m, StrategyBase) for m in config_base._SHARED.values())


def test_btc_strategies_share_their_parts_but_take_no_table_entry(tmp_path: Path) -> None:
    text = "state_dir: state\nstrategies:\n" + "".join(
        f"  - {{name: {n}, kind: btc_updown_15m, schedule: {{every: 1m}}, allocation_usd: 100,"
        " limits: {daily_loss_usd: 10, max_position_pct: 50}}\n"
        for n in ("x", "y")
    )
    (tmp_path / "autotrader.yaml").write_text(text)
    x, y = load_config(tmp_path / "autotrader.yaml").strategies
    assert x.limits is y.limits and x.schedule is y.schedule
    assert not any(isinstance(m, StrategyBase) for m in config_base._SHARED.values())


def test_only_interchangeable_parts_are_shared(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        ("a", "{every: 1m}", LIMITS, "volume > 5"),
        ("b", "{every: 1m, align: false}", "{daily_loss_usd: 10.0, max_position_pct: 50}",
         "volume > 5"),
    )  # fmt: skip
    a, b = config.strategies
    # Equal, but written differently: each keeps what it was given (dumps, digests differ).
    assert a.limits == b.limits and a.limits is not b.limits
    assert str(b.limits.daily_loss_usd) == "10.0"
    assert a.schedule == b.schedule and a.schedule is not b.schedule
    assert b.schedule.model_dump(exclude_unset=True) == {"every": 60.0, "align": False}
    assert a.schedule.model_dump(exclude_unset=True) == {"every": 60.0}
    assert definition_hash(a) != definition_hash(b.model_copy(update={"name": "a"}))


def test_a_changed_copy_leaves_the_shared_instance_alone() -> None:
    first = LimitsConfig(daily_loss_usd=Decimal(10), max_position_pct=Decimal(50))
    strategy = PipelineStrategy.model_validate(
        {
            "name": "a",
            "kind": "pipeline",
            "schedule": {"every": 60},
            "allocation_usd": 100,
            "limits": {"daily_loss_usd": 10, "max_position_pct": 50},
            "pipeline": [{"filter": {"when": "volume > 1"}}],
        }
    )
    shared = strategy.limits
    changed = shared.model_copy(update={"max_trade_usd": Decimal(5)})
    assert changed.max_trade_usd == 5 and shared.max_trade_usd is None
    assert "max_trade_usd" not in shared.model_fields_set
    assert "max_trade_usd" not in first.model_fields_set
    assert isinstance(strategy.pipeline[0], Filter)


def test_a_reload_shares_with_the_running_config_and_takes_changes(tmp_path: Path) -> None:
    old = _config(tmp_path, ("a", "{every: 1m}", LIMITS, "volume > 5"))
    new = _config(
        tmp_path,
        ("a", "{every: 1m}", LIMITS, "volume > 5"),
        ("b", "{every: 2m}", LIMITS, "volume > 7"),
    )
    assert new.strategies[0].limits is old.strategies[0].limits
    assert new.strategies[0] is not old.strategies[0]
    assert definition_hash(new.strategies[0]) == definition_hash(old.strategies[0])
    changed = _config(tmp_path, ("a", "{every: 2m}", LIMITS, "volume > 9"))
    assert changed.strategies[0].schedule.every == 120
    assert changed.strategies[0].pipeline[1].when == "volume > 9"  # type: ignore[union-attr]
    assert definition_hash(changed.strategies[0]) != definition_hash(old.strategies[0])
    assert isinstance(changed.strategies[0].schedule, ScheduleConfig)
