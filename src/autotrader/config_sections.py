"""The sections of the configuration other than strategies and notifications: clock, daemons,
feeds, signal, venue, risk, executor, scheduler and status page."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from autotrader.config_base import (
    ConfigPath,
    CredentialName,
    Frozen,
    HttpUrl,
    Usd,
    WsUrl,
    located_error,
)

DEFAULT_STATE_DIR = Path("/var/lib/autotrader")
FeedSource = Literal["coinbase", "binance", "polymarket_rtds", "replay"]


class ClockConfig(Frozen):
    """Simulated time for the demo and the simulator; ``speed`` 1 and no start = real time."""

    speed: float = Field(1.0, gt=0, le=100_000)
    start: datetime | None = None

    @field_validator("start")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        # A time without a zone is taken as UTC, never as the machine's local time.
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @property
    def simulated(self) -> bool:
        """Whether the daemons run on a ScaledClock instead of wall time."""
        return self.start is not None or self.speed != 1.0


class DaemonsConfig(Frozen):
    """Settings shared by every daemon's life cycle."""

    heartbeat_secs: float = Field(5.0, gt=0)
    shutdown_timeout_secs: float = Field(10.0, gt=0)


class CoinbaseFeedConfig(Frozen):
    url: HttpUrl = "https://api.exchange.coinbase.com"
    product: str = Field("BTC-USD", min_length=1)


class BinanceFeedConfig(Frozen):
    url: HttpUrl = "https://api.binance.com"
    ws_url: WsUrl = "wss://stream.binance.com:9443"
    symbol: str = Field("BTCUSDT", min_length=1)
    use_websocket: bool = True


class RtdsFeedConfig(Frozen):
    url: WsUrl = "wss://ws-live-data.polymarket.com"
    symbol: str = Field("btc/usd", min_length=1)


class ReplayFeedConfig(Frozen):
    path: ConfigPath | None = None
    loop: bool = True


class BtcFeedConfig(Frozen):
    """BTC price sources, tried in order; the first fresh one wins."""

    sources: tuple[FeedSource, ...] = Field(
        ("coinbase", "binance", "polymarket_rtds"), min_length=1
    )
    poll_interval_secs: float = Field(3.0, gt=0)
    stale_after_secs: float = Field(15.0, gt=0)
    unhealthy_after_secs: float = Field(300.0, gt=0)
    request_timeout_secs: float = Field(5.0, gt=0)
    reconnect_max_backoff_secs: float = Field(30.0, gt=0)
    coinbase: CoinbaseFeedConfig = CoinbaseFeedConfig()
    binance: BinanceFeedConfig = BinanceFeedConfig()
    polymarket_rtds: RtdsFeedConfig = RtdsFeedConfig()
    replay: ReplayFeedConfig = ReplayFeedConfig()

    @model_validator(mode="after")
    def _cross_checks(self) -> BtcFeedConfig:
        found: list[tuple[tuple[str | int, ...], str, Any]] = []
        for i, source in enumerate(self.sources):
            if source in self.sources[:i]:
                found.append((("sources", i), "listed twice", source))
        if self.unhealthy_after_secs <= self.stale_after_secs:
            found.append(
                (
                    ("unhealthy_after_secs",),
                    f"must be greater than stale_after_secs ({self.stale_after_secs:g})",
                    self.unhealthy_after_secs,
                )
            )
        found += self._replay_problems()
        if found:
            raise located_error("BtcFeedConfig", found)
        return self

    def _replay_problems(self) -> list[tuple[tuple[str | int, ...], str, Any]]:
        if "replay" not in self.sources:
            return []
        path = self.replay.path
        if path is None:
            return [(("replay", "path"), "required when sources include replay", None)]
        if not path.is_file():
            return [(("replay", "path"), f"no such file: {path}", None)]
        return []


class FeedsConfig(Frozen):
    btc: BtcFeedConfig = BtcFeedConfig()


class SeedWeights(Frozen):
    """Weights of the seed model's components; they sum to 1."""

    momentum: float = Field(0.40, ge=0, le=1)
    acceleration: float = Field(0.20, ge=0, le=1)
    trend: float = Field(0.20, ge=0, le=1)
    volatility: float = Field(0.10, ge=0, le=1)
    mean_reversion: float = Field(0.10, ge=0, le=1)

    @model_validator(mode="after")
    def _sum_to_one(self) -> SeedWeights:
        total = sum(self.model_dump().values())
        if abs(total - 1.0) > 1e-9:
            raise located_error(
                "SeedWeights", [((), f"must sum to 1 (they sum to {total:g})", None)]
            )
        return self


class SeedModelConfig(Frozen):
    """Every weight and threshold of the seed's score (names shared with SeedParams)."""

    weights: SeedWeights = SeedWeights()
    momentum_secs: float = Field(30.0, gt=0)
    momentum_mid_secs: float = Field(60.0, gt=0)
    momentum_long_secs: float = Field(120.0, gt=0)
    momentum_threshold_pct: float = Field(0.2, gt=0)
    acceleration_threshold_pct: float = Field(0.15, gt=0)
    trend_secs: float = Field(900.0, gt=0)
    trend_threshold_pct: float = Field(0.3, gt=0)
    volatility_short_secs: float = Field(300.0, gt=0)
    volatility_long_secs: float = Field(900.0, gt=0)
    volatility_expansion_ratio: float = Field(1.2, gt=1)
    mean_reversion_secs: float = Field(900.0, gt=0)
    mean_reversion_threshold: float = Field(2.0, gt=0)
    signal_threshold: float = Field(0.25, gt=0, lt=1)
    confidence_base: float = Field(50.0, ge=0, le=100)
    confidence_scale: float = Field(100.0, ge=0)
    confidence_cap: float = Field(95.0, gt=0, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> SeedModelConfig:
        pairs = (
            ("momentum_mid_secs", "momentum_secs"),
            ("momentum_long_secs", "momentum_mid_secs"),
            ("volatility_long_secs", "volatility_short_secs"),
        )
        found: list[tuple[tuple[str | int, ...], str, Any]] = [
            ((longer,), f"must be greater than {shorter}", getattr(self, longer))
            for longer, shorter in pairs
            if getattr(self, longer) <= getattr(self, shorter)
        ]
        if self.confidence_cap < self.confidence_base:
            message = "must be at least confidence_base"
            found.append((("confidence_cap",), message, self.confidence_cap))
        if found:
            raise located_error("SeedModelConfig", found)
        return self


class SignalConfig(Frozen):
    interval_secs: float = Field(3.0, gt=0)
    model: Literal["seed"] = "seed"
    snapshot_interval_secs: float = Field(60.0, gt=0)
    seed: SeedModelConfig = SeedModelConfig()


class PolymarketConfig(Frozen):
    """Venue endpoints and wallet settings; the key itself is a credential, never in this file."""

    gamma_url: HttpUrl = "https://gamma-api.polymarket.com"
    clob_url: HttpUrl = "https://clob.polymarket.com"
    data_url: HttpUrl = "https://data-api.polymarket.com"
    chain_id: int = Field(137, gt=0)
    signature_type: Literal[0, 1, 2] = 0
    funder: str | None = None
    key_credential: CredentialName = "polymarket-key"
    key_file: ConfigPath | None = None

    @field_validator("funder")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"0x[0-9a-fA-F]{40}", value):
            raise ValueError("expected a wallet address (0x and 40 hex digits)")
        return value


class RiskConfig(Frozen):
    """Limits across all strategies."""

    max_trade_usd: Usd = Decimal(100)
    portfolio_exposure_usd: Usd = Decimal(2000)
    max_orders_per_minute: int = Field(30, gt=0)


class ExecutorConfig(Frozen):
    poll_interval_ms: int = Field(50, gt=0)
    position_check_secs: float = Field(5.0, gt=0)
    max_consecutive_venue_failures: int = Field(5, ge=1)


class SchedulerConfig(Frozen):
    max_consecutive_failures: int = Field(3, ge=1)
    run_timeout_secs: float = Field(60.0, gt=0)


class StatusPageConfig(Frozen):
    output_dir: ConfigPath = DEFAULT_STATE_DIR / "www"
    refresh_secs: float = Field(30.0, gt=0)
