"""Invalid configuration files: every problem reported at once, each at its line and column."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from autotrader.config import load_config
from autotrader.errors import ConfigError

# A valid strategy to build bad ones from; line 1 of the snippet is `strategies:`.
STRATEGY = """\
strategies:
  - name: s1
    kind: btc_updown_15m
    schedule: {every: 15m, align: true, offset_secs: 5}
    allocation_usd: 500
    limits: {daily_loss_usd: 50, max_position_pct: 20}
"""


def problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, name: str = "autotrader.yaml"
) -> list[str]:
    """The problem lines of ``text`` as a file called ``name`` (relative, as a user types it)."""
    (tmp_path / name).write_text(textwrap.dedent(text))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_config(Path(name))
    lines = [str(p) for p in info.value.problems]
    assert all("\n" not in line for line in lines)
    return lines


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "mode: papr\n",
            "autotrader.yaml:1:7: mode: expected one of paper, live (got 'papr')",
        ),
        (
            "log_level: loud\n",
            "autotrader.yaml:1:12: log_level: expected one of debug, info, warning, error"
            " (got 'loud')",
        ),
        (
            "timezone: Mars/Olympus\n",
            "autotrader.yaml:1:11: timezone: expected an IANA time zone like UTC or Europe/Berlin"
            " (got 'Mars/Olympus')",
        ),
        (
            "mode: paper\nmodus: live\n",
            "autotrader.yaml:2:1: modus: unknown key (allowed: clock, daemons, database_url,"
            " executor, feeds, log_level, mode, notifications, polymarket, risk, scheduler,"
            " signal, state_dir, status_page, strategies, timezone)",
        ),
        (
            "database_url: mysql://h/db\n",
            "autotrader.yaml:1:15: database_url: expected a sqlite:///PATH or postgresql://… URL"
            " (got 'mysql://h/db')",
        ),
        (
            "clock: {speed: 0}\n",
            "autotrader.yaml:1:16: clock.speed: must be greater than 0 (got 0)",
        ),
        (
            "clock:\n  start: soon\n",
            "autotrader.yaml:2:10: clock.start: expected a date and time like"
            " 2026-02-21T14:30:00Z (got 'soon')",
        ),
        (
            "feeds:\n  btc:\n    sources: [coinbase, kraken]\n",
            "autotrader.yaml:3:25: feeds.btc.sources[1]: expected one of coinbase, binance,"
            " polymarket_rtds, replay (got 'kraken')",
        ),
        (
            "feeds:\n  btc:\n    sources: []\n",
            "autotrader.yaml:3:14: feeds.btc.sources: must not be empty",
        ),
        (
            "feeds:\n  btc:\n    sources: [binance, binance]\n",
            "autotrader.yaml:3:24: feeds.btc.sources[1]: listed twice (got 'binance')",
        ),
        (
            "feeds:\n  btc:\n    stale_after_secs: 30\n    unhealthy_after_secs: 30\n",
            "autotrader.yaml:4:27: feeds.btc.unhealthy_after_secs: must be greater than"
            " stale_after_secs (30) (got 30)",
        ),
        (
            "feeds:\n  btc:\n    poll_interval_secs: fast\n",
            "autotrader.yaml:3:25: feeds.btc.poll_interval_secs: expected a number (got 'fast')",
        ),
        (
            "feeds:\n  btc:\n    coinbase: {url: ftp://x}\n",
            "autotrader.yaml:3:21: feeds.btc.coinbase.url: expected a URL starting with http:// or https://"
            " (got 'ftp://x')",
        ),
        (
            "feeds:\n  btc:\n    sources: [replay]\n",
            "autotrader.yaml:3:5: feeds.btc.replay.path: required when sources include replay",
        ),
        (
            "signal:\n  seed:\n    weights: {momentum: 0.5}\n",
            "autotrader.yaml:3:14: signal.seed.weights: must sum to 1 (they sum to 1.1)",
        ),
        (
            "signal:\n  seed:\n    momentum_secs: 30\n    momentum_mid_secs: 30\n",
            "autotrader.yaml:4:24: signal.seed.momentum_mid_secs: must be greater than"
            " momentum_secs (got 30)",
        ),
        (
            "signal:\n  seed: {signal_threshold: 1}\n",
            "autotrader.yaml:2:28: signal.seed.signal_threshold: must be less than 1 (got 1)",
        ),
        (
            "signal: {model: neural}\n",
            "autotrader.yaml:1:17: signal.model: expected one of seed (got 'neural')",
        ),
        (
            "polymarket: {signature_type: 3}\n",
            "autotrader.yaml:1:30: polymarket.signature_type: expected one of 0, 1, 2 (got 3)",
        ),
        (
            "polymarket: {funder: 0x12}\n",
            "autotrader.yaml:1:22: polymarket.funder: expected a wallet address (0x and 40 hex"
            " digits) (got '0x12')",
        ),
        (
            "risk:\n  max_trade_usd: -1\n",
            "autotrader.yaml:2:18: risk.max_trade_usd: must be greater than 0 (got -1)",
        ),
        (
            "risk: {max_orders_per_minute: 2.5}\n",
            "autotrader.yaml:1:31: risk.max_orders_per_minute: expected a whole number (got 2.5)",
        ),
        (
            "executor: {poll_interval_ms: 0}\n",
            "autotrader.yaml:1:30: executor.poll_interval_ms: must be greater than 0 (got 0)",
        ),
        (
            "status_page: {refresh_secs: [1]}\n",
            "autotrader.yaml:1:29: status_page.refresh_secs: expected a number (got a list)",
        ),
        (
            "feeds: [btc]\n",
            "autotrader.yaml:1:8: feeds: expected a mapping (got a list)",
        ),
    ],
)
def test_one_bad_value_is_located(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    assert problems(tmp_path, monkeypatch, text) == [expected]


def test_the_issue_example_daily_loss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = STRATEGY + (
        "  - name: s2\n"
        "    kind: btc_updown_15m\n"
        "    schedule: {every: 15m}\n"
        "    allocation_usd: 100\n"
        "    limits:\n"
        "      daily_loss_usd: -5\n"
        "      max_position_pct: 20\n"
    )
    assert problems(tmp_path, monkeypatch, text) == [
        "autotrader.yaml:12:23: strategies[1].limits.daily_loss_usd: must be greater than 0"
        " (got -5)"
    ]


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        ("name: s1", "name: S 1", "2:11: strategies[0].name: expected a name of lowercase"),
        ("kind: btc_updown_15m", "kind: grid", "3:11: strategies[0].kind: expected one of"),
        ("every: 15m", "every: 15x", "4:23: strategies[0].schedule.every: expected a duration"),
        ("every: 15m", "every: 0", "4:23: strategies[0].schedule.every: must be greater than 0"),
        (
            "offset_secs: 5",
            "offset_secs: 900",
            "4:54: strategies[0].schedule.offset_secs: must be less than every (15m) (got 900)",
        ),
        (
            "offset_secs: 5",
            "offset_secs: -1",
            "4:54: strategies[0].schedule.offset_secs: must be at least 0 (got -1)",
        ),
        (
            "allocation_usd: 500",
            "allocation_usd: 0",
            "5:21: strategies[0].allocation_usd: must be greater than 0 (got 0)",
        ),
        (
            "allocation_usd: 500",
            "allocation_usd: lots",
            "5:21: strategies[0].allocation_usd: expected a number (got 'lots')",
        ),
        (
            "max_position_pct: 20",
            "max_position_pct: 101",
            "6:52: strategies[0].limits.max_position_pct: must be at most 100 (got 101)",
        ),
        (
            "max_position_pct: 20}",
            "max_position_pct: 20, stop_loss_pct: 0}",
            "6:71: strategies[0].limits.stop_loss_pct: must be greater than 0 (got 0)",
        ),
        (
            "max_position_pct: 20}",
            "max_position_pct: 20, max_trade_usd: 600}",
            "6:71: strategies[0].limits.max_trade_usd: must not exceed allocation_usd (500)"
            " (got 600)",
        ),
        (
            "daily_loss_usd: 50, ",
            "",
            "6:13: strategies[0].limits.daily_loss_usd: required key missing",
        ),
        (
            "    limits: {daily_loss_usd: 50, max_position_pct: 20}\n",
            "",
            "2:5: strategies[0].limits: required key missing",
        ),
        (
            "    allocation_usd: 500\n",
            "    allocation_usd: 500\n    enabled: maybe\n",
            "6:14: strategies[0].enabled: expected true or false (got 'maybe')",
        ),
        (
            "    allocation_usd: 500\n",
            "    allocation_usd: 500\n    pipeline: [monitor_watchlist]\n",
            "6:5: strategies[0].pipeline: only allowed for kind pipeline",
        ),
        (
            "    allocation_usd: 500\n",
            "    allocation_usd: 500\n    params: {min_confidence: 120}\n",
            "6:30: strategies[0].params.min_confidence: must be at most 100 (got 120)",
        ),
        (
            "    allocation_usd: 500\n",
            "    allocation_usd: 500\n    params: {position_usd: 501}\n",
            "6:28: strategies[0].params.position_usd: 501 must not exceed allocation_usd (500)",
        ),
        (
            "    allocation_usd: 500\n",
            "    allocation_usd: 500\n    params: {max_price: 1}\n",
            "6:25: strategies[0].params.max_price: must be less than 1 (got 1)",
        ),
        (
            "    allocation_usd: 500\n",
            "    allocation_usd: 500\n    params: {cooldown: 5}\n",
            "6:14: strategies[0].params.cooldown: unknown key (allowed: cooldown_secs,"
            " max_price, min_confidence, position_usd)",
        ),
        (
            "schedule: {every: 15m, align: true, offset_secs: 5}",
            "schedule: {every: 1h, active_hours: {start: '09:00', end: '9:00'}}",
            "4:63: strategies[0].schedule.active_hours.end: must differ from start",
        ),
        (
            "schedule: {every: 15m, align: true, offset_secs: 5}",
            "schedule: {every: 1h, active_hours: {start: '24:00', end: '9:00'}}",
            "4:49: strategies[0].schedule.active_hours.start: expected a time of day",
        ),
    ],
)
def test_strategy_problems_are_located(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, replace: str, by: str, expected: str
) -> None:
    assert replace in STRATEGY
    found = problems(tmp_path, monkeypatch, STRATEGY.replace(replace, by))
    assert len(found) == 1, found
    assert found[0].startswith("autotrader.yaml:" + expected), found[0]


PIPELINE = """\
strategies:
  - name: p
    kind: pipeline
    schedule: {every: 5m}
    allocation_usd: 500
    limits: {daily_loss_usd: 50, max_position_pct: 20}
    pipeline:
"""


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (
            "- execute_trade: {outcome: 'Yes', amount_usd: -1}",
            "8:53: strategies[0].pipeline[0].execute_trade.amount_usd: must be greater than 0"
            " (got -1)",
        ),
        (
            "- execute_trade: {outcome: 'Yes'}",
            "8:24: strategies[0].pipeline[0].execute_trade: give exactly one of amount_usd and"
            " shares",
        ),
        (
            "- execute_trade: {outcome: 'Yes', amount_usd: 1, shares: 2}",
            "8:24: strategies[0].pipeline[0].execute_trade: give exactly one of amount_usd and"
            " shares",
        ),
        (
            "- execute_trade: {amount_usd: 1}",
            "8:24: strategies[0].pipeline[0].execute_trade.outcome: required key missing",
        ),
        (
            "- execute_trade: {outcome: X, amount_usd: 1, order_type: limit}",
            "8:24: strategies[0].pipeline[0].execute_trade.limit_price: required when order_type"
            " is limit",
        ),
        (
            "- execute_trade: {outcome: X, amount_usd: 1, limit_price: 0.5}",
            "8:65: strategies[0].pipeline[0].execute_trade.limit_price: only allowed with"
            " order_type limit (got 0.5)",
        ),
        (
            "- execute_trade: {outcome: X, amount_usd: 1, order_type: stop}",
            "8:64: strategies[0].pipeline[0].execute_trade.order_type: expected one of market,"
            " limit (got 'stop')",
        ),
        (
            "- execute_trade: {outcome: X, amount_usd: 1, valid_for: forever}",
            "8:63: strategies[0].pipeline[0].execute_trade.valid_for: expected a duration like"
            " 30s, 5m, 1h or 1d (got 'forever')",
        ),
        (
            "- exit_position: {fraction: 1.5}",
            "8:35: strategies[0].pipeline[0].exit_position.fraction: must be at most 1 (got 1.5)",
        ),
        (
            "- check_momentum: {timeframe: 2h}",
            "8:37: strategies[0].pipeline[0].check_momentum.timeframe: expected one of 1h, 4h,"
            " 24h (got '2h')",
        ),
        (
            "- filter: {when: ''}",
            "8:24: strategies[0].pipeline[0].filter.when: must not be empty (got '')",
        ),
        (
            "- condition: {}",
            "8:20: strategies[0].pipeline[0].condition.when: required key missing",
        ),
        (
            "- stream_markets: {tags: politics}",
            "8:26: strategies[0].pipeline[0].stream_markets.tags: unknown key (allowed: active,"
            " end_before_days, limit, min_liquidity_usd, min_volume_usd, tag, text)",
        ),
        (
            "- whale_activity: {min_trade_usd: 0}",
            "8:41: strategies[0].pipeline[0].whale_activity.min_trade_usd: must be greater than 0"
            " (got 0)",
        ),
        (
            "- add_to_watchlist: {reason: x, expire_after: 0}",
            "8:53: strategies[0].pipeline[0].add_to_watchlist.expire_after: must be greater"
            " than 0 (got 0)",
        ),
        (
            "- wait: {}",
            "8:15: strategies[0].pipeline[0].wait.duration: required key missing",
        ),
        (
            "- teleport: {}",
            "8:9: strategies[0].pipeline[0].teleport: unknown node type (one of stream_markets,",
        ),
        (
            "- {wait: {duration: 1m}, filter: {when: x}}",
            "8:9: strategies[0].pipeline[0]: expected a mapping with exactly one key, the node"
            " type",
        ),
        ("- 42", "8:9: strategies[0].pipeline[0]: expected a mapping with exactly one key"),
    ],
)
def test_pipeline_node_problems_are_located(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, node: str, expected: str
) -> None:
    found = problems(tmp_path, monkeypatch, PIPELINE + "      " + node + "\n")
    assert len(found) == 1, found
    assert found[0].startswith("autotrader.yaml:" + expected), found[0]


def test_pipeline_strategy_needs_nodes_and_no_params(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = PIPELINE.replace("    pipeline:\n", "    params: {x: 1}\n    pipeline: []\n")
    assert problems(tmp_path, monkeypatch, text) == [
        "autotrader.yaml:7:13: strategies[0].params: not used by kind pipeline; leave it out",
        "autotrader.yaml:8:15: strategies[0].pipeline: must not be empty",
    ]


def test_duplicate_strategy_name_is_reported_at_the_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    second = STRATEGY.replace("strategies:\n", "")
    assert problems(tmp_path, monkeypatch, STRATEGY + second + second) == [
        "autotrader.yaml:7:11: strategies[1].name: duplicate strategy name (also used by"
        " strategies[0]) (got 's1')",
        "autotrader.yaml:12:11: strategies[2].name: duplicate strategy name (also used by"
        " strategies[0]) (got 's1')",
    ]


def test_duplicate_keys_are_reported_even_though_yaml_keeps_the_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "mode: paper\nrisk:\n  max_trade_usd: 5\n  max_trade_usd: 50\nmode: live\n"
    assert problems(tmp_path, monkeypatch, text) == [
        "autotrader.yaml:4:3: risk.max_trade_usd: duplicate key (first at line 3)",
        "autotrader.yaml:5:1: mode: duplicate key (first at line 1)",
    ]


def test_duplicate_keys_inside_lists_and_flow_mappings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = STRATEGY.replace("{every: 15m,", "{every: 15m, every: 5m,")
    assert problems(tmp_path, monkeypatch, text) == [
        "autotrader.yaml:4:28: strategies[0].schedule.every: duplicate key (first at line 4)",
    ]


def test_all_problems_are_reported_at_once_in_file_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (
        "mode: demo\n"
        "risk: {max_trade_usd: 0, max_orders_per_minute: -1}\n"
        "notifications:\n"
        "  email: {smtp_host: h, smtp_port: 0, from: me, to: [ops@example.com]}\n"
        "  quiet_hours: {start: '23:00', end: '7am', except: [lunch]}\n"
        "  events:\n"
        "    trade_executed: {email: weekly}\n"
        "    coffee_break: {}\n"
        "  webhook: {url: 'hooks.example.com'}\n"
    )
    assert problems(tmp_path, monkeypatch, text) == [
        "autotrader.yaml:1:7: mode: expected one of paper, live (got 'demo')",
        "autotrader.yaml:2:23: risk.max_trade_usd: must be greater than 0 (got 0)",
        "autotrader.yaml:2:49: risk.max_orders_per_minute: must be greater than 0 (got -1)",
        "autotrader.yaml:4:36: notifications.email.smtp_port: must be at least 1 (got 0)",
        "autotrader.yaml:4:45: notifications.email.from: expected an e-mail address like"
        " ops@example.com (got 'me')",
        'autotrader.yaml:5:38: notifications.quiet_hours.end: expected a time of day "HH:MM"'
        " (00:00 to 23:59) (got '7am')",
        "autotrader.yaml:5:54: notifications.quiet_hours.except[0]: expected one of"
        " trade_executed, trade_exited, watchlist_updated, strategy_error, strategy_paused,"
        " strategy_resumed, daily_loss_limit_hit, market_settled, config_reload_failed,"
        " feed_stale, venue_degraded (got 'lunch')",
        "autotrader.yaml:7:29: notifications.events.trade_executed.email: expected one of"
        " immediate, hourly, daily, off (got 'weekly')",
        "autotrader.yaml:8:5: notifications.events.coffee_break: expected one of"
        " trade_executed, trade_exited, watchlist_updated, strategy_error, strategy_paused,"
        " strategy_resumed, daily_loss_limit_hit, market_settled, config_reload_failed,"
        " feed_stale, venue_degraded (got 'coffee_break')",
        "autotrader.yaml:9:18: notifications.webhook.url: expected a URL starting with http:// or https://"
        " (got 'hooks.example.com')",
    ]


def test_missing_required_email_keys_point_at_the_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "notifications:\n  email:\n    smtp_host: mail\n"
    assert problems(tmp_path, monkeypatch, text) == [
        "autotrader.yaml:3:5: notifications.email.from: required key missing",
        "autotrader.yaml:3:5: notifications.email.to: required key missing",
    ]


def test_missing_replay_file_names_the_resolved_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "feeds:\n  btc:\n    sources: [replay]\n    replay: {path: data/x.csv}\n"
    assert problems(tmp_path, monkeypatch, text) == [
        f"autotrader.yaml:4:20: feeds.btc.replay.path: no such file: {tmp_path}/data/x.csv"
    ]


def test_existing_replay_file_is_accepted_and_unused_path_is_not_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "x.csv").write_text("open_time_ms,open,high,low,close,volume\n")
    (tmp_path / "a.yaml").write_text("feeds: {btc: {sources: [replay], replay: {path: x.csv}}}\n")
    (tmp_path / "b.yaml").write_text("feeds: {btc: {replay: {path: missing.csv}}}\n")
    assert load_config(tmp_path / "a.yaml").feeds.btc.replay.path == tmp_path / "x.csv"
    assert load_config(tmp_path / "b.yaml").feeds.btc.replay.path == tmp_path / "missing.csv"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "autotrader.yaml:1:1: the file is empty (expected a mapping of settings)"),
        ("# only a comment\n", "autotrader.yaml:1:1: the file is empty (expected a mapping"),
        ("- a\n- b\n", "autotrader.yaml:1:1: expected a mapping of settings at the top level"),
        ("just text\n", "autotrader.yaml:1:1: expected a mapping of settings at the top level"),
        ("mode: paper\n  risk: 1\n", "autotrader.yaml:2:7: invalid YAML: mapping values are"),
        (
            "feeds:\n  btc: {sources: [coinbase\n",
            "autotrader.yaml:3:1: invalid YAML: while parsing a flow sequence: expected ',' or"
            " ']', but got '<stream end>' (started at line 2)",
        ),
        ("mode: 'paper\n", "autotrader.yaml:2:1: invalid YAML: while scanning a quoted scalar"),
        ("a: 1\n---\nb: 2\n", "autotrader.yaml:2:1: invalid YAML: expected a single document"),
        ("mode: *anchor\n", "autotrader.yaml:1:7: invalid YAML: found undefined alias"),
        (
            "clock: {start: 2026-02-30}\n",
            "autotrader.yaml:1:16: invalid YAML: invalid timestamp '2026-02-30': day is out of"
            " range for month",
        ),
        (
            "mode: !!python/object:os.system x\n",
            "autotrader.yaml:1:7: invalid YAML: could not determine a constructor for the tag",
        ),
        ("mode: !!int x\n", "autotrader.yaml:1:7: invalid YAML: invalid int 'x': invalid literal"),
        ("? [a]\n: 1\n", "autotrader.yaml:1:3: invalid YAML: while constructing a mapping: found"),
    ],
)
def test_files_that_are_not_a_yaml_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    found = problems(tmp_path, monkeypatch, text)
    assert len(found) == 1 and found[0].startswith(expected), found


def test_missing_file_and_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_config(Path("absent.yaml"))
    assert [str(p) for p in info.value.problems] == ["absent.yaml: no such file"]
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert [str(p) for p in info.value.problems] == [f"{tmp_path}: is a directory, not a file"]


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(b"mode: \xff\xfe\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    (problem,) = info.value.problems
    assert str(problem).startswith(f"{path}: cannot read: 'utf-8' codec can't decode")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("mode: paper\n")
    path.chmod(0)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert [str(p) for p in info.value.problems] == [f"{path}: cannot read: Permission denied"]


def test_merge_keys_locate_the_value_that_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = STRATEGY.replace("  - name: s1", "  - &base\n    name: s1") + (
        "  - <<: *base\n    name: s2\n    allocation_usd: -1\n"
    )
    assert problems(tmp_path, monkeypatch, text) == [
        "autotrader.yaml:10:21: strategies[1].allocation_usd: must be greater than 0 (got -1)"
    ]


def test_default_position_above_a_small_allocation_is_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = STRATEGY.replace("allocation_usd: 500", "allocation_usd: 5")
    assert problems(tmp_path, monkeypatch, text) == [
        "autotrader.yaml:2:5: strategies[0].params.position_usd: 10 must not exceed"
        " allocation_usd (5)"
    ]
