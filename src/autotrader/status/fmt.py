"""How the status page writes numbers, money and times."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal

from autotrader.cli.status_cmd import format_age

CENT = Decimal("0.01")
PRICE_STEP = Decimal("0.0001")


@dataclass(frozen=True)
class Formatter:
    """Number and time formats the templates call (``f.money(x)``, ``f.when(t)``…)."""

    tz: tzinfo
    now: datetime
    cli_suffix: str  # " --config PATH" when the config is not the default one

    def money(self, value: Decimal | None) -> str:
        """``$1,234.56`` / ``−$3.20`` (cents, rounded half-even)."""
        if value is None:
            return "—"
        q = value.quantize(CENT)
        return f"{'−' if q < 0 else ''}${abs(q):,.2f}"

    def pnl(self, value: Decimal | None) -> str:
        """Money with an explicit sign for gains."""
        if value is None:
            return "—"
        return ("+" if value.quantize(CENT) > 0 else "") + self.money(value)

    def num(self, value: Decimal | None) -> str:
        """A Decimal without trailing zeros."""
        return "—" if value is None else format(value.normalize(), ",f")

    def price(self, value: Decimal | None) -> str:
        """A price in [0, 1] to 4 places at most."""
        return "—" if value is None else format(value.quantize(PRICE_STEP).normalize(), "f")

    def pct(self, value: float | Decimal | None) -> str:
        """A ratio as a percentage with one decimal."""
        return "—" if value is None else f"{float(value) * 100:.1f}%"

    def when(self, value: datetime | None) -> str:
        """A time in the configured zone (named once on the page, not in every cell)."""
        if value is None:
            return "—"
        # An f-string of the fields: strftime costs several times more, on every table cell.
        d = value.astimezone(self.tz)
        return f"{d.year:04d}-{d.month:02d}-{d.day:02d} {d.hour:02d}:{d.minute:02d}:{d.second:02d}"

    def short(self, value: datetime) -> str:
        """A short time for chart axes."""
        return value.astimezone(self.tz).strftime("%m-%d %H:%M")

    def ago(self, value: datetime | None) -> str:
        """``3m05s ago`` relative to the generation time."""
        if value is None:
            return "never"
        secs = (self.now - value).total_seconds()
        return f"in {format_age(-secs)}" if secs < 0 else f"{format_age(secs)} ago"

    def age(self, secs: float | None) -> str:
        """A duration (``2h07m``)."""
        return "—" if secs is None else format_age(secs)

    def epoch_ms(self, value: datetime | None) -> str:
        """Milliseconds since the epoch (for scripts), empty when unknown."""
        return "" if value is None else str(int(value.timestamp() * 1000))

    def cli(self, *words: str) -> str:
        """An exact ``autotrader …`` command line."""
        return "autotrader " + " ".join(shlex.quote(w) for w in words) + self.cli_suffix

    def sign_class(self, value: Decimal) -> str:
        """``pos`` / ``neg`` / empty: the CSS class of a P&L value."""
        return "pos" if value > 0 else ("neg" if value < 0 else "")
