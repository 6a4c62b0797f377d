"""The simulator's markets: one per 15-minute BTC window, plus a few non-BTC ones.

Everything here is a pure function of (seed, key): a BTC window market of start ``T`` or the
``g``-th generation of an extra-market slot is the same object in every world built with the
same seed. The world (world.py) decides *when* markets exist and resolves them.

Extra markets live in "slots": slot ``i`` has a period ``P`` and an offset, and generation ``g``
is listed from ``offset + g·P`` and ends at ``offset + (g+1)·P``. Short periods (hours) give
markets ending soon, long ones (months) markets ending far away, the previous generation is an
already-closed market, and time can run forever.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from autotrader.domain.fees import FREE, FeeSchedule
from autotrader.domain.markets import WINDOW_SECS, btc_15m_slug
from autotrader.sim import ids

ET = ZoneInfo("America/New_York")
DAY = 86_400
HOUR = 3_600
CRYPTO_FEES = FeeSchedule(
    rate=Decimal("0.07"), exponent=Decimal(1), taker_only=True, rebate_rate=Decimal("0.2")
)
MIN_ORDER_SIZE = Decimal(5)
BTC_TAGS = ("crypto", "bitcoin", "up-or-down")
BTC_IMAGE = "https://polymarket-upload.s3.us-east-2.amazonaws.com/BTC+fullsize.png"
BTC_SOURCE = "https://data.chain.link/streams/btc-usd"
BTC_DESCRIPTION = (
    'This market will resolve to "Up" if the Bitcoin price at the end of the time range '
    "specified in the title is greater than or equal to the price at the beginning of that "
    'range. Otherwise, it will resolve to "Down".\nThe resolution source for this market is '
    "information from Chainlink, specifically the BTC/USD data stream available at "
    f"{BTC_SOURCE}.\nPlease note that this market is about the price according to Chainlink "
    "data stream BTC/USD, not according to other sources or spot markets."
)
# Real windows are listed ~23 h 50 min before they start (the fixture: 17:10:15 for 17:00 next day).
BTC_LISTED_BEFORE = DAY
BTC_LISTING_JITTER = 900.0
RESOLVE_MIN, RESOLVE_MAX = 20.0, 90.0

MarketKind = Literal["btc", "extra"]


@dataclass(frozen=True)
class PricePath:
    """A deterministic, random-walk-looking probability path: logistic of a sum of sines.

    Amplitudes grow like sqrt(period), as a random walk's would, so moves over 1 h, 4 h and
    24 h all exist (momentum strategies need them), and any instant costs O(terms).
    """

    x0: float
    terms: tuple[tuple[float, float, float], ...]  # (amplitude, period secs, phase)

    def at(self, t: float) -> float:
        """Probability of the first outcome at ``t``, within [0.005, 0.995]."""
        x = self.x0 + sum(a * math.sin(2 * math.pi * t / p + ph) for a, p, ph in self.terms)
        return min(max(1.0 / (1.0 + math.exp(-x)), 0.005), 0.995)


@dataclass
class SimMarket:
    """One binary market and its mutable state (the world changes closed/winner/prices)."""

    kind: MarketKind
    id: str
    slug: str
    question: str
    description: str
    condition_id: str
    question_id: str
    outcomes: tuple[str, str]
    token_ids: tuple[str, str]
    tags: tuple[str, ...]
    fees: FeeSchedule
    created_at: float
    start_date: float  # listed (Gamma startDate); orders accepted from here
    end_date: float  # trading ends
    resolve_at: float  # the result is published (closed, outcomePrices 1/0)
    event_id: str
    image: str
    resolution_source: str
    base_volume: float
    base_liquidity: float
    window_start: int | None = None  # BTC windows: T (Gamma eventStartTime)
    path: PricePath | None = None  # extra markets: the first outcome's probability
    min_order_size: Decimal = MIN_ORDER_SIZE
    neg_risk: bool = False
    price_to_beat: Decimal | None = None  # published once the window has started
    final_price: Decimal | None = None
    winner: str | None = None
    closed: bool = False
    closed_at: float | None = None

    @property
    def event_slug(self) -> str:
        """Every simulated market has its own event, with the same slug."""
        return self.slug

    @property
    def is_crypto(self) -> bool:
        """Crypto markets hold marketable orders for a taker delay."""
        return "crypto" in self.tags

    def accepting_orders(self, now: float) -> bool:
        """Whether the CLOB takes orders at ``now`` (listed, not ended, not closed)."""
        return not self.closed and self.start_date <= now < self.end_date

    def outcome_of(self, token_id: str) -> str:
        """The outcome name of one of this market's tokens."""
        return self.outcomes[self.token_ids.index(token_id)]

    def other_token(self, token_id: str) -> str:
        """The complementary token."""
        return self.token_ids[1 - self.token_ids.index(token_id)]


@dataclass
class SimEvent:
    """A Gamma event: here always exactly one market, with the same slug."""

    id: str
    slug: str
    title: str
    description: str
    tags: tuple[str, ...]
    markets: list[SimMarket]

    @property
    def closed(self) -> bool:
        """An event is closed once all its markets are."""
        return all(m.closed for m in self.markets)

    @property
    def start_date(self) -> float:
        """When the event was listed."""
        return min(m.start_date for m in self.markets)

    @property
    def end_date(self) -> float:
        """When its last market ends."""
        return max(m.end_date for m in self.markets)


def event_of(market: SimMarket) -> SimEvent:
    """The event wrapping ``market``."""
    return SimEvent(
        market.event_id, market.slug, market.question, market.description, market.tags, [market]
    )


def et_clock(ts: float) -> str:
    """``12:00PM`` style Eastern time, as in the real window titles."""
    return datetime.fromtimestamp(ts, ET).strftime("%I:%M%p").lstrip("0")


def btc_window_title(start: int) -> str:
    """``Bitcoin Up or Down - December 31, 12:00PM-12:15PM ET``."""
    day = datetime.fromtimestamp(start, ET)
    return (
        f"Bitcoin Up or Down - {day.strftime('%B')} {day.day}, "
        f"{et_clock(start)}-{et_clock(start + WINDOW_SECS)} ET"
    )


def resolve_delay(seed: int, slug: str) -> float:
    """20-90 s: how long after its end a market's result is published (fixed per market)."""
    return RESOLVE_MIN + (RESOLVE_MAX - RESOLVE_MIN) * ids.unit(seed, "resolve-delay", slug)


def btc_window_market(seed: int, start: int) -> SimMarket:
    """The ``btc-updown-15m-<start>`` market."""
    slug = btc_15m_slug(start)
    end = start + WINDOW_SECS
    listed = start - BTC_LISTED_BEFORE + BTC_LISTING_JITTER * ids.unit(seed, "listed", slug)
    listed = round(listed, 6)
    return SimMarket(
        kind="btc",
        id=str(1_000_000 + start // WINDOW_SECS - 1_700_000),
        slug=slug,
        question=btc_window_title(start),
        description=BTC_DESCRIPTION,
        condition_id=ids.condition_id(seed, slug),
        question_id=ids.question_id(seed, slug),
        outcomes=("Up", "Down"),
        token_ids=(ids.token_id(seed, slug, "Up"), ids.token_id(seed, slug, "Down")),
        tags=BTC_TAGS,
        fees=CRYPTO_FEES,
        created_at=listed - 60.0,
        start_date=listed,
        end_date=float(end),
        resolve_at=end + resolve_delay(seed, slug),
        event_id=str(200_000 + start // WINDOW_SECS - 1_700_000),
        image=BTC_IMAGE,
        resolution_source=BTC_SOURCE,
        base_volume=20_000.0 + 130_000.0 * ids.unit(seed, "volume", slug),
        base_liquidity=15_000.0 + 10_000.0 * ids.unit(seed, "liquidity", slug),
        window_start=start,
    )


def btc_volume(market: SimMarket, t: float) -> float:
    """Simulated traded volume so far: 10 % before the window, the rest during it."""
    start = market.window_start if market.window_start is not None else market.start_date
    if t <= market.start_date:
        return 0.0
    if t < start:
        frac = 0.1 * (t - market.start_date) / max(start - market.start_date, 1.0)
    else:
        frac = 0.1 + 0.9 * min((t - start) / WINDOW_SECS, 1.0)
    return market.base_volume * frac


# --- extra (non-BTC) markets -------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A family of extra markets: question pattern, tags, fee, lifetimes to pick from."""

    pattern: str
    tags: tuple[str, ...]
    fees: FeeSchedule
    periods: tuple[float, ...]
    names: tuple[str, ...] = ()
    strikes: tuple[float, float, float] = (0.0, 0.0, 1.0)  # lo, hi, step


SHORT = (6 * HOUR, 12 * HOUR, DAY, 2 * DAY)
LONG = (120 * DAY, 240 * DAY, 365 * DAY, 540 * DAY)
TEMPLATES: tuple[Template, ...] = (
    Template(
        "Will ETH be above ${strike} on {date}?",
        ("crypto", "ethereum", "crypto-prices"),
        CRYPTO_FEES,
        SHORT,
        strikes=(2_400, 4_200, 50),
    ),
    Template(
        "Will {name} win the {year} presidential election?",
        ("politics", "elections", "world"),
        FREE,
        LONG,
        names=("Maria Alvarez", "Jonas Berg", "Chen Wei", "Amara Okafor", "Luca Romano"),
    ),
    Template(
        "Will the {name} win on {date}?",
        ("sports", "nba", "games"),
        FREE,
        SHORT,
        names=("Harbor City Herons", "Mesa Coyotes", "Lakeside Pilots", "North Bay Owls"),
    ),
    Template(
        "Will Bitcoin reach ${strike} by {date}?",
        ("crypto", "bitcoin", "crypto-prices"),
        CRYPTO_FEES,
        LONG,
        strikes=(150_000, 300_000, 10_000),
    ),
    Template(
        "Will Solana be above ${strike} on {date}?",
        ("crypto", "solana", "crypto-prices"),
        CRYPTO_FEES,
        SHORT,
        strikes=(120, 320, 5),
    ),
    Template(
        "Will the {name} win the {year} championship?",
        ("sports", "soccer", "futures"),
        FREE,
        LONG,
        names=("Riverside Rovers", "Port Albion", "FC Granite", "Union Solano"),
    ),
    Template(
        "Will the Fed cut interest rates by {date}?",
        ("economy", "fed", "finance"),
        FREE,
        LONG,
    ),
)


@dataclass(frozen=True)
class ExtraSlot:
    """Where the generations of one extra market live in time."""

    index: int
    template: Template
    period: float
    offset: float

    def generation_at(self, t: float) -> int:
        """The generation listed (trading) at ``t``."""
        return math.floor((t - self.offset) / self.period)

    def bounds(self, g: int) -> tuple[float, float]:
        """``(start, end)`` of generation ``g``."""
        start = self.offset + g * self.period
        return start, start + self.period


def extra_slots(seed: int, n: int) -> list[ExtraSlot]:
    """``n`` slots cycling through the templates (so every family appears)."""
    slots = []
    for i in range(n):
        template = TEMPLATES[i % len(TEMPLATES)]
        pick = int(ids.unit(seed, "period", str(i)) * len(template.periods))
        period = template.periods[pick]
        slots.append(ExtraSlot(i, template, period, ids.unit(seed, "offset", str(i)) * period))
    return slots


def slugify(text: str) -> str:
    """Gamma-style slug: lowercase words joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _date_text(ts: float, period: float) -> str:
    when = datetime.fromtimestamp(ts, ET)
    if period < DAY:
        return f"{when.strftime('%B')} {when.day}, {et_clock(ts)} ET"
    if period <= 2 * DAY:
        return f"{when.strftime('%B')} {when.day}"
    return f"{when.strftime('%B')} {when.day}, {when.year}"


def _question(seed: int, slot: ExtraSlot, g: int, end: float) -> str:
    t = slot.template
    key = f"{slot.index}:{g}"
    name = t.names[int(ids.unit(seed, "name", key) * len(t.names))] if t.names else ""
    lo, hi, step = t.strikes
    strike = lo + step * math.floor(ids.unit(seed, "strike", key) * ((hi - lo) / step + 1))
    return t.pattern.format(
        name=name,
        strike=f"{strike:,.0f}",
        date=_date_text(end, slot.period),
        year=datetime.fromtimestamp(end, UTC).year,
    )


def _path(seed: int, key: str) -> PricePath:
    x0 = -2.0 + 4.0 * ids.unit(seed, "x0", key)
    terms = []
    for j, period in enumerate((1_800.0, 4 * HOUR, DAY, 4 * DAY, 16 * DAY)):
        amp = 0.12 * math.sqrt(period / 1_800.0) * (0.5 + ids.unit(seed, "amp", f"{key}:{j}"))
        amp = min(amp, 1.2)
        phase = 2 * math.pi * ids.unit(seed, "phase", f"{key}:{j}")
        terms.append((amp, period * (0.8 + 0.4 * ids.unit(seed, "per", f"{key}:{j}")), phase))
    return PricePath(x0, tuple(terms))


def extra_market(seed: int, slot: ExtraSlot, g: int) -> SimMarket:
    """Generation ``g`` of ``slot``."""
    start, end = slot.bounds(g)
    question = _question(seed, slot, g, end)
    key = f"{slot.index}:{g}"
    slug = f"{slugify(question)}-{ids.numeric_id(seed, 'slug', key, lo=100, span=900)}"
    return SimMarket(
        kind="extra",
        id=ids.numeric_id(seed, "market", key, lo=500_000, span=400_000),
        slug=slug,
        question=question,
        description=f"This market will resolve to \u201cYes\u201d if: {question}",
        condition_id=ids.condition_id(seed, slug),
        question_id=ids.question_id(seed, slug),
        outcomes=("Yes", "No"),
        token_ids=(ids.token_id(seed, slug, "Yes"), ids.token_id(seed, slug, "No")),
        tags=slot.template.tags,
        fees=slot.template.fees,
        created_at=start - 120.0,
        start_date=start,
        end_date=end,
        resolve_at=end + resolve_delay(seed, slug),
        event_id=ids.numeric_id(seed, "event", key, lo=40_000, span=150_000),
        image=f"https://polymarket-upload.s3.us-east-2.amazonaws.com/{slug}.png",
        resolution_source="",
        base_volume=5_000.0 + 2_000_000.0 * ids.unit(seed, "volume", key) ** 2,
        base_liquidity=2_000.0 + 200_000.0 * ids.unit(seed, "liquidity", key),
        path=_path(seed, key),
    )


def extra_volume(market: SimMarket, t: float) -> tuple[float, float]:
    """``(total volume, 24 h volume)`` at ``t``: grows steadily, faster some days than others."""
    if market.path is None or t <= market.start_date:
        return 0.0, 0.0
    per_day = market.base_volume / 30.0
    t = min(t, market.end_date)
    # Trading rate per_day·(1 + 0.5·sin): its integral keeps the total rising at varying speed.
    w, phase = 2 * math.pi / (3 * DAY), market.base_volume

    def traded(a: float, b: float) -> float:
        wiggle = 0.5 / w * (math.cos(w * a + phase) - math.cos(w * b + phase))
        return per_day / DAY * (b - a + wiggle)

    total = market.base_volume + traded(market.start_date, t)
    return total, traded(max(market.start_date, t - DAY), t)


def extra_liquidity(market: SimMarket, t: float) -> float:
    """Book liquidity at ``t``, breathing +-20 % over half a day."""
    return market.base_liquidity * (1.0 + 0.2 * math.sin(2 * math.pi * t / (DAY / 2)))
