"""The configuration: one YAML file, validated by frozen pydantic models.

``load_config(path)`` reads the file, refuses secrets, validates every section and raises
``ConfigError`` listing every problem as ``file:line:column: dotted.path: message``. Relative
paths are resolved against the config file's folder.

The models live in sibling modules and are re-exported here: ``config_sections`` (clock,
daemons, feeds, signal, polymarket, risk, executor, scheduler, status page),
``config_strategies`` (strategies, schedules, limits, pipeline nodes), ``config_notify``
(notifications); ``config_base`` holds the shared types (durations, money, paths), and
``config_yaml`` / ``config_messages`` / ``config_secrets`` locate and word the problems.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import PrivateAttr, ValidationInfo, field_validator, model_validator

from autotrader.config_base import (
    ConfigPath,
    Duration,
    Frozen,
    format_duration,
    located_error,
    parse_duration,
    resolve_path,
)
from autotrader.config_nodes import (
    NODE_TYPES,
    AddToWatchlist,
    CheckMomentum,
    Condition,
    ExecuteTrade,
    ExitPosition,
    Filter,
    MonitorWatchlist,
    Node,
    RemoveFromWatchlist,
    StreamMarkets,
    Wait,
    WhaleActivity,
)
from autotrader.config_notify import (
    EVENT_TYPES,
    EmailConfig,
    EventConfig,
    EventType,
    NotificationsConfig,
    QuietHours,
    WebhookConfig,
)
from autotrader.config_secrets import find_secrets
from autotrader.config_sections import (
    DEFAULT_STATE_DIR,
    BinanceFeedConfig,
    BtcFeedConfig,
    ClockConfig,
    CoinbaseFeedConfig,
    DaemonsConfig,
    ExecutorConfig,
    FeedsConfig,
    FeedSource,
    PolymarketConfig,
    ReplayFeedConfig,
    RiskConfig,
    RtdsFeedConfig,
    SchedulerConfig,
    SeedModelConfig,
    SeedWeights,
    SignalConfig,
    StatusPageConfig,
)
from autotrader.config_strategies import (
    ActiveHours,
    BtcParams,
    BtcUpdown15mStrategy,
    LimitsConfig,
    PipelineStrategy,
    ScheduleConfig,
    Strategy,
    StrategyConfig,
)
from autotrader.config_yaml import load_validated

# Everything a daemon or a test needs is importable from here.
__all__ = [
    "DEFAULT_STATE_DIR",
    "EVENT_TYPES",
    "NODE_TYPES",
    "ActiveHours",
    "AddToWatchlist",
    "AppConfig",
    "BinanceFeedConfig",
    "BtcFeedConfig",
    "BtcParams",
    "BtcUpdown15mStrategy",
    "CheckMomentum",
    "ClockConfig",
    "CoinbaseFeedConfig",
    "Condition",
    "DaemonsConfig",
    "Duration",
    "EmailConfig",
    "EventConfig",
    "EventType",
    "ExecuteTrade",
    "ExecutorConfig",
    "ExitPosition",
    "FeedSource",
    "FeedsConfig",
    "Filter",
    "LimitsConfig",
    "MonitorWatchlist",
    "Node",
    "NotificationsConfig",
    "PipelineStrategy",
    "PolymarketConfig",
    "QuietHours",
    "RemoveFromWatchlist",
    "ReplayFeedConfig",
    "RiskConfig",
    "RtdsFeedConfig",
    "ScheduleConfig",
    "SchedulerConfig",
    "SeedModelConfig",
    "SeedWeights",
    "SignalConfig",
    "StatusPageConfig",
    "StrategyConfig",
    "StreamMarkets",
    "Wait",
    "WebhookConfig",
    "WhaleActivity",
    "default_database_url",
    "format_duration",
    "load_config",
    "mask_url",
    "parse_duration",
]

LogLevel = Literal["debug", "info", "warning", "error"]
_DB_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for display)."""
    return re.sub(r"^([A-Za-z][\w+.-]*://[^:/@]*):[^@/]*@", r"\1:***@", url)


def default_database_url(state_dir: Path) -> str:
    """The SQLite database in ``state_dir``."""
    return f"sqlite:///{state_dir / 'autotrader.db'}"


class AppConfig(Frozen):
    """The whole configuration file."""

    mode: Literal["paper", "live"] = "paper"
    state_dir: ConfigPath = DEFAULT_STATE_DIR
    database_url: str = default_database_url(DEFAULT_STATE_DIR)
    timezone: str = "UTC"
    log_level: LogLevel = "info"
    clock: ClockConfig = ClockConfig()
    daemons: DaemonsConfig = DaemonsConfig()
    feeds: FeedsConfig = FeedsConfig()
    signal: SignalConfig = SignalConfig()
    polymarket: PolymarketConfig = PolymarketConfig()
    risk: RiskConfig = RiskConfig()
    executor: ExecutorConfig = ExecutorConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    strategies: tuple[Strategy, ...] = ()
    notifications: NotificationsConfig = NotificationsConfig()
    status_page: StatusPageConfig = StatusPageConfig()

    _source_path: Path | None = PrivateAttr(None)

    @model_validator(mode="before")
    @classmethod
    def _derived_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        """database_url and status_page.output_dir default to places inside state_dir."""
        if not isinstance(data, Mapping):
            return data
        raw_state = data.get("state_dir")
        state = DEFAULT_STATE_DIR
        if isinstance(raw_state, str | Path) and str(raw_state):
            state = resolve_path(Path(raw_state), info)
        out = dict(data)
        if out.get("database_url") is None:
            out["database_url"] = default_database_url(state)
        page = out.get("status_page")
        if page is None:
            out["status_page"] = {"output_dir": str(state / "www")}
        elif isinstance(page, Mapping) and "output_dir" not in page:
            out["status_page"] = {**page, "output_dir": str(state / "www")}
        return out

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str, info: ValidationInfo) -> str:
        scheme, sep, rest = value.partition("://")
        if not sep or scheme.lower() not in _DB_SCHEMES:
            raise ValueError("expected a sqlite:///PATH or postgresql://… URL")
        if scheme.lower() == "sqlite":
            # sqlite:///relative.db is relative to the config file, like every other path.
            path = rest[1:] if rest.startswith("/") else rest
            if path and path != ":memory:" and not path.startswith("/"):
                return f"sqlite:///{resolve_path(Path(path), info)}"
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone like UTC or Europe/Berlin") from None
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> AppConfig:
        seen: dict[str, int] = {}
        found: list[tuple[tuple[str | int, ...], str, Any]] = []
        for i, strategy in enumerate(self.strategies):
            if strategy.name in seen:
                first = seen[strategy.name]
                found.append(
                    (
                        ("strategies", i, "name"),
                        f"duplicate strategy name (also used by strategies[{first}])",
                        strategy.name,
                    )
                )
            seen.setdefault(strategy.name, i)
        if found:
            raise located_error("AppConfig", found)
        return self

    @property
    def tz(self) -> ZoneInfo:
        """The configured time zone (daily limits, quiet hours, digests)."""
        return ZoneInfo(self.timezone)

    @property
    def source_path(self) -> Path | None:
        """The file this configuration was loaded from (None when built in code)."""
        return self._source_path

    def strategy(self, name: str) -> StrategyConfig | None:
        """The strategy called ``name``, if declared."""
        return next((s for s in self.strategies if s.name == name), None)

    def sanitized(self) -> dict[str, Any]:
        """The effective configuration as plain JSON-able data, with passwords masked."""
        data = self.model_dump(mode="json", by_alias=True)
        data["database_url"] = mask_url(self.database_url)
        return data


def load_config(path: Path | str) -> AppConfig:
    """Read, check and validate the YAML file at ``path``.

    Raises ``autotrader.errors.ConfigError`` whose ``problems`` locate every finding, one each.
    """
    path = Path(path)
    config = load_validated(path, AppConfig, find_secrets)
    config._source_path = path.absolute()
    return config
