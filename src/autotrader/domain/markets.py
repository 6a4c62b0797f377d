"""Markets and the 15-minute BTC window arithmetic.

Polymarket's "Bitcoin Up or Down" 15-minute markets are named ``btc-updown-15m-<T>`` where T is
the window start in unix seconds, a multiple of 900; trading ends at T + 900.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

WINDOW_SECS = 900
BTC_15M_SLUG_PREFIX = "btc-updown-15m-"


def window_start(ts: float, window_secs: int = WINDOW_SECS) -> int:
    """Start (epoch seconds) of the window containing ``ts``."""
    return int(ts // window_secs) * window_secs


def nearest_window_start(ts: float, window_secs: int = WINDOW_SECS) -> int:
    """The window a signal computed at ``ts`` is for.

    In the first half of a window that window has just opened and is still the one to enter;
    in the second half the next window is the one ahead.
    """
    return int((ts + window_secs / 2) // window_secs) * window_secs


def btc_15m_slug(start: int) -> str:
    """Slug of the 15-minute BTC market starting at ``start``."""
    if start % WINDOW_SECS:
        raise ValueError(f"window start {start} is not a multiple of {WINDOW_SECS}")
    return f"{BTC_15M_SLUG_PREFIX}{start}"


def parse_btc_15m_slug(slug: str) -> int:
    """Window start of a ``btc-updown-15m-<T>`` slug; ``ValueError`` if it is not one."""
    if not slug.startswith(BTC_15M_SLUG_PREFIX):
        raise ValueError(f"not a 15-minute BTC slug: {slug!r}")
    start = int(slug[len(BTC_15M_SLUG_PREFIX) :])
    if start % WINDOW_SECS:
        raise ValueError(f"window start {start} in {slug!r} is not a multiple of {WINDOW_SECS}")
    return start


@dataclass(frozen=True)
class Window:
    """One 15-minute window."""

    start: int

    @property
    def end(self) -> int:
        """End (exclusive) of the window in epoch seconds."""
        return self.start + WINDOW_SECS

    @property
    def slug(self) -> str:
        """The market slug of this window."""
        return btc_15m_slug(self.start)

    @property
    def start_dt(self) -> datetime:
        """Window start as an aware UTC datetime."""
        return datetime.fromtimestamp(self.start, UTC)

    @classmethod
    def containing(cls, ts: float) -> Window:
        """The window containing ``ts``."""
        return cls(window_start(ts))

    @classmethod
    def for_signal_at(cls, ts: float) -> Window:
        """The window a signal computed at ``ts`` is for (see ``nearest_window_start``)."""
        return cls(nearest_window_start(ts))
