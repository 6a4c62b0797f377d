"""Valid configuration files: what they load to, defaults, resolved paths, immutability."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from autotrader import config as config_module
from autotrader.config import (
    AddToWatchlist,
    AppConfig,
    BtcUpdown15mStrategy,
    CheckMomentum,
    Condition,
    ExecuteTrade,
    MonitorWatchlist,
    PipelineStrategy,
    RemoveFromWatchlist,
    StreamMarkets,
    Wait,
    format_duration,
    load_config,
    parse_duration,
)
from autotrader.config_base import Frozen

REPO = Path(__file__).resolve().parents[2]
DEMO_DATA = REPO / "tests" / "data" / "btcusdt_1m_demo.csv"


def write(folder: Path, text: str, name: str = "autotrader.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def test_production_example_validates_with_the_documented_values() -> None:
    cfg = load_config(REPO / "etc" / "autotrader.yaml")
    assert cfg.mode == "paper"
    assert cfg.state_dir == Path("/var/lib/autotrader")
    assert cfg.database_url == "sqlite:////var/lib/autotrader/autotrader.db"
    assert cfg.polymarket.gamma_url == "https://gamma-api.polymarket.com"
    assert cfg.polymarket.clob_url == "https://clob.polymarket.com"
    assert cfg.polymarket.data_url == "https://data-api.polymarket.com"
    assert [s.name for s in cfg.strategies] == ["btc-15m", "politics-momentum"]
    btc, politics = cfg.strategies
    assert isinstance(btc, BtcUpdown15mStrategy)
    assert btc.schedule.every == 900 and btc.schedule.align and btc.schedule.offset_secs == 5
    assert btc.params.min_confidence == 60 and btc.params.position_usd == Decimal(10)
    assert isinstance(politics, PipelineStrategy)
    assert [type(n) for n in politics.pipeline] == [
        StreamMarkets,
        AddToWatchlist,
        MonitorWatchlist,
        CheckMomentum,
        Condition,
        ExecuteTrade,
        RemoveFromWatchlist,
    ]
    assert politics.limits.stop_loss_pct == Decimal(20)
    email = cfg.notifications.email
    assert email is not None and email.from_ == "autotrader@localhost"
    assert email.to == ("ops@example.com",)
    quiet = cfg.notifications.quiet_hours
    assert quiet is not None and (quiet.start, quiet.end) == (time(23), time(7))
    assert cfg.notifications.events["watchlist_updated"].email == "hourly"
    assert cfg.status_page.output_dir == Path("/var/lib/autotrader/www")


def test_production_example_equals_the_built_in_defaults_outside_the_examples() -> None:
    """The commented example documents the defaults: only its examples differ from them."""
    cfg = load_config(REPO / "etc" / "autotrader.yaml")
    default = AppConfig()
    for section in AppConfig.model_fields:
        if section in ("strategies", "notifications"):
            continue
        assert getattr(cfg, section) == getattr(default, section), section


@pytest.mark.skipif(not DEMO_DATA.is_file(), reason=f"{DEMO_DATA} is not in the repository yet")
def test_demo_config_validates_with_paths_inside_the_repository() -> None:
    cfg = load_config(REPO / "etc" / "demo.yaml")
    assert cfg.state_dir == REPO / "var" / "demo"
    assert cfg.database_url == f"sqlite:///{REPO / 'var' / 'demo' / 'autotrader.db'}"
    assert cfg.status_page.output_dir == REPO / "var" / "demo" / "www"
    assert cfg.feeds.btc.sources == ("replay",)
    assert cfg.feeds.btc.replay.path == DEMO_DATA
    assert cfg.clock.speed == 300
    assert cfg.clock.start == datetime(2026, 2, 21, 14, 30, tzinfo=UTC)
    assert cfg.signal.interval_secs == 60
    assert (cfg.feeds.btc.stale_after_secs, cfg.feeds.btc.unhealthy_after_secs) == (180, 900)
    assert [s.kind for s in cfg.strategies] == ["btc_updown_15m", "pipeline"]
    # E-mails go to the demo's local SMTP sink, never off the machine.
    assert cfg.notifications.email is not None
    assert cfg.notifications.email.smtp_host == "127.0.0.1"


def test_minimal_file_gets_every_default(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "mode: paper\n"))
    assert cfg.model_dump() == AppConfig().model_dump()
    assert cfg.source_path == tmp_path / "autotrader.yaml"
    assert cfg.tz.key == "UTC"
    assert cfg.feeds.btc.sources == ("coinbase", "binance", "polymarket_rtds")
    assert cfg.executor.poll_interval_ms == 50
    assert cfg.risk.max_trade_usd == Decimal(100)
    assert cfg.notifications.critical == (
        "strategy_error",
        "daily_loss_limit_hit",
        "venue_degraded",
    )


def test_relative_paths_are_resolved_against_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "data.csv").write_text("open_time_ms,open,high,low,close,volume\n")
    path = write(
        tmp_path / "conf",
        """\
        state_dir: ../state
        polymarket: {key_file: keys/wallet.key}
        feeds:
          btc: {sources: [replay], replay: {path: ../data.csv}}
        status_page: {output_dir: www}
        """,
    )
    monkeypatch.chdir("/")  # the current folder must not matter
    cfg = load_config(path)
    assert cfg.state_dir == tmp_path / "state"
    assert cfg.database_url == f"sqlite:///{tmp_path / 'state' / 'autotrader.db'}"
    assert cfg.polymarket.key_file == tmp_path / "conf" / "keys" / "wallet.key"
    assert cfg.feeds.btc.replay.path == tmp_path / "data.csv"
    assert cfg.status_page.output_dir == tmp_path / "conf" / "www"


def test_status_page_defaults_inside_the_configured_state_dir(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "state_dir: st\nstatus_page: {refresh_secs: 5}\n"))
    assert cfg.status_page.output_dir == tmp_path / "st" / "www"
    assert cfg.status_page.refresh_secs == 5


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///rel/x.db", "sqlite:///{base}/rel/x.db"),
        ("sqlite:////abs/x.db", "sqlite:////abs/x.db"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("postgresql+psycopg://u:pw@h:5432/db", "postgresql+psycopg://u:pw@h:5432/db"),
    ],
)
def test_database_urls(tmp_path: Path, url: str, expected: str) -> None:
    cfg = load_config(write(tmp_path, f'database_url: "{url}"\n'))
    assert cfg.database_url == expected.format(base=tmp_path)


def test_sanitized_masks_the_database_password(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, 'database_url: "postgresql://bot:s3cr3t@db/at"\n'))
    data = cfg.sanitized()
    assert data["database_url"] == "postgresql://bot:***@db/at"
    assert "s3cr3t" not in repr(data)


def test_dump_round_trips_including_pipelines_and_times() -> None:
    cfg = load_config(REPO / "etc" / "autotrader.yaml")
    data = cfg.model_dump(mode="json", by_alias=True)
    assert data["strategies"][1]["pipeline"][0] == {
        "stream_markets": {
            "tag": "politics",
            "text": None,
            "min_volume_usd": "100000",
            "min_liquidity_usd": None,
            "end_before_days": None,
            "active": True,
            "limit": 100,
        }
    }
    assert data["notifications"]["quiet_hours"]["start"] == "23:00"
    assert AppConfig.model_validate(data).model_dump() == cfg.model_dump()


def test_yaml_12_scalars_yes_stays_a_string_and_times_need_no_quotes(tmp_path: Path) -> None:
    cfg = load_config(
        write(
            tmp_path,
            """\
            notifications:
              quiet_hours: {start: 23:30, end: 06:00}
            strategies:
              - name: p
                kind: pipeline
                schedule: {every: 1m, active_hours: {start: 22:00, end: 02:00}}
                allocation_usd: 100
                limits: {daily_loss_usd: 10, max_position_pct: 50}
                pipeline:
                  - execute_trade: {outcome: Yes, amount_usd: 5}
            """,
        )
    )
    quiet = cfg.notifications.quiet_hours
    assert quiet is not None and (quiet.start, quiet.end) == (time(23, 30), time(6))
    strategy = cfg.strategies[0]
    assert isinstance(strategy, PipelineStrategy)
    node = strategy.pipeline[0]
    assert isinstance(node, ExecuteTrade) and node.outcome == "Yes"
    hours = strategy.schedule.active_hours
    assert hours is not None
    assert hours.contains(time(23, 0)) and hours.contains(time(1, 59))
    assert not hours.contains(time(2, 0)) and not hours.contains(time(12, 0))


def test_pipeline_node_forms_and_defaults(tmp_path: Path) -> None:
    cfg = load_config(
        write(
            tmp_path,
            """\
            strategies:
              - name: p
                kind: pipeline
                schedule: {every: 30s}
                allocation_usd: 100
                limits: {daily_loss_usd: 10, max_position_pct: 50}
                pipeline:
                  - monitor_watchlist
                  - remove_from_watchlist:
                  - wait: {duration: 1h30m}
                  - execute_trade: {outcome: No, shares: 7, order_type: limit, limit_price: 0.4}
            """,
        )
    )
    strategy = cfg.strategies[0]
    assert isinstance(strategy, PipelineStrategy)
    monitor, remove, wait, trade = strategy.pipeline
    assert isinstance(monitor, MonitorWatchlist) and isinstance(remove, RemoveFromWatchlist)
    assert isinstance(wait, Wait) and wait.duration == 5400
    assert isinstance(trade, ExecuteTrade)
    assert (trade.shares, trade.limit_price, trade.valid_for) == (Decimal(7), Decimal("0.4"), 30)
    assert trade.node_type == "execute_trade"


@pytest.mark.parametrize(
    ("text", "secs"),
    [
        ("30s", 30),
        ("5m", 300),
        ("1h", 3600),
        ("1d", 86400),
        ("1h30m", 5400),
        ("250ms", 0.25),
        (90, 90),
        ("45", 45),
        (1.5, 1.5),
        ("2w", 1_209_600),
    ],
)
def test_parse_duration(text: object, secs: float) -> None:
    assert parse_duration(text) == secs


@pytest.mark.parametrize("bad", ["", "5x", "m5", "1.h", True, None, [], "-5s"])
def test_parse_duration_refuses(bad: object) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(bad)


@pytest.mark.parametrize(
    ("secs", "text"), [(900, "15m"), (30, "30s"), (3600, "1h"), (86400, "1d"), (90, "90s")]
)
def test_format_duration(secs: float, text: str) -> None:
    assert format_duration(secs) == text
    assert parse_duration(text) == secs


def _config_models() -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    pending: list[type[BaseModel]] = [Frozen]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_config_model_is_frozen_and_refuses_unknown_keys() -> None:
    models = _config_models()
    assert len(models) > 30
    for cls in models:
        assert cls.model_config.get("frozen") is True, cls
        assert cls.model_config.get("extra") == "forbid", cls


def test_config_is_immutable_and_unknown_keys_are_refused_in_code() -> None:
    cfg = AppConfig()
    with pytest.raises(ValidationError):
        cfg.mode = "live"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        cfg.feeds.btc.stale_after_secs = 1  # type: ignore[misc]
    with pytest.raises(ValidationError, match="unknown key"):
        AppConfig.model_validate({"modes": "paper"})
    assert isinstance(cfg.feeds.btc.sources, tuple)


def test_notification_settings_defaults_and_quiet_hour_bypass(tmp_path: Path) -> None:
    cfg = load_config(
        write(
            tmp_path,
            """\
            notifications:
              quiet_hours: {start: "23:00", end: "07:00", except: [trade_exited]}
              events:
                trade_executed: {email: daily, webhook: off}
            """,
        )
    )
    notes = cfg.notifications
    assert notes.event("trade_executed").email == "daily"
    assert notes.event("trade_executed").webhook == "off"
    assert notes.event("feed_stale").email == "immediate" and notes.event("feed_stale").enabled
    assert notes.bypasses_quiet_hours("strategy_error")  # critical by default
    assert notes.bypasses_quiet_hours("trade_exited")  # listed in except
    assert not notes.bypasses_quiet_hours("trade_executed")
    quiet = notes.quiet_hours
    assert quiet is not None and quiet.contains(time(0, 30)) and not quiet.contains(time(7))


def test_strategy_lookup_and_public_names() -> None:
    cfg = load_config(REPO / "etc" / "autotrader.yaml")
    found = cfg.strategy("politics-momentum")
    assert found is not None and found.kind == "pipeline"
    assert cfg.strategy("nope") is None
    for name in config_module.__all__:
        assert hasattr(config_module, name), name
