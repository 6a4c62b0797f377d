"""Fills and settlements, read and replayed once, then only extended with what is new.

The page is rendered every ``refresh_secs``; replaying every fill ever made each time is most
of the cost of a render with a long history. Fills and settlements are only ever inserted
(they are the source of truth; nothing updates or deletes them), so a ``HistoryCache`` keeps
the replay and on each render:

* counts both tables (and their newest time); unchanged counts → the cached history as is;
* otherwise reads only the rows newer than everything replayed so far and feeds them on, which
  gives the same result as a full replay because they sort after all the others;
* and if the counts then do not add up (a row arrived with an older time, e.g. a trade adopted
  at reconciliation), it reads and replays everything again.

A cache is used by one thread at a time (the status writer's renders do not overlap).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from autotrader.domain.fills import Fill, Liquidity, Settlement
from autotrader.domain.ledger import Ledger
from autotrader.domain.orders import Side
from autotrader.domain.positions import StrategyFill, StrategySettlement
from autotrader.status.trades import History, Walker, ordered
from autotrader.store.models import FILLS, SETTLEMENTS

Counts = tuple[int, int]
# strategy → (what its ledger was computed from, the ledger); see snapshot._strategies.
LedgerMemo = dict[str, tuple[tuple[object, ...], Ledger]]


@dataclass(frozen=True)
class Loaded:
    """What a render gets: the history, every fill (oldest first) and settled tokens' names."""

    history: History
    fills: list[StrategyFill]
    settled_tokens: dict[str, tuple[str, str]]  # token id → (market slug, outcome)


@dataclass
class HistoryCache:
    """The replay of fills and settlements, kept between renders (see the module doc)."""

    walker: Walker | None = None
    fills: list[StrategyFill] = field(default_factory=list)
    settled_tokens: dict[str, tuple[str, str]] = field(default_factory=dict)
    counts: Counts = (0, 0)
    last_ts: datetime | None = None
    full_reads: int = 0  # how many times everything was read (tests look at it)
    ledgers: LedgerMemo = field(default_factory=dict)
    _loaded: Loaded | None = None

    def load(self, conn: sa.Connection) -> Loaded:
        """The history as the database has it now. ``PositionError`` if it does not replay
        (the cache is then emptied, so the next render tries again from scratch)."""
        counts = _counts(conn)
        try:
            if self.walker is None or self._loaded is None:
                return self._full(conn)
            if counts == self.counts:
                return self._loaded
            return self._extend(conn, counts) or self._full(conn)
        except Exception:
            self.walker, self._loaded, self.ledgers = None, None, {}
            raise

    def _full(self, conn: sa.Connection) -> Loaded:
        self.full_reads += 1
        self.walker, self.fills, self.settled_tokens = Walker(), [], {}
        self.ledgers = {}
        fills, settlements = _read(conn, self.settled_tokens, None)
        return self._feed(fills, settlements)

    def _extend(self, conn: sa.Connection, counts: Counts) -> Loaded | None:
        fills, settlements = _read(conn, self.settled_tokens, self.last_ts)
        if (self.counts[0] + len(fills), self.counts[1] + len(settlements)) != counts:
            return None  # something arrived out of time order: replay everything
        return self._feed(fills, settlements)

    def _feed(self, fills: list[StrategyFill], settlements: list[StrategySettlement]) -> Loaded:
        assert self.walker is not None
        self.walker.feed(ordered(fills, settlements))
        self.fills.extend(fills)
        self.counts = (self.counts[0] + len(fills), self.counts[1] + len(settlements))
        # Events are in time order, so the last one is the newest row replayed.
        self.last_ts = self.walker.events[-1].ts if self.walker.events else None
        self._loaded = Loaded(self.walker.history(), list(self.fills), dict(self.settled_tokens))
        return self._loaded


def _counts(conn: sa.Connection) -> Counts:
    n_fills = conn.execute(sa.select(sa.func.count()).select_from(FILLS)).scalar_one()
    n_settled = conn.execute(sa.select(sa.func.count()).select_from(SETTLEMENTS)).scalar_one()
    return int(n_fills), int(n_settled)


def _read(
    conn: sa.Connection, tokens: dict[str, tuple[str, str]], after: datetime | None
) -> tuple[list[StrategyFill], list[StrategySettlement]]:
    """Fills and settlements (newer than ``after``), oldest first; settled tokens' names."""
    f, s = FILLS.c, SETTLEMENTS.c
    fq = sa.select(
        f.strategy,
        f.trade_id,
        f.venue_order_id,
        f.token_id,
        f.side,
        f.price,
        f.size,
        f.fee_usd,
        f.ts,
        f.liquidity,
    ).order_by(f.ts, f.trade_id)
    sq = sa.select(
        s.strategy,
        s.market_slug,
        s.market_id,
        s.token_id,
        s.outcome,
        s.shares,
        s.payout_per_share,
        s.ts,
    ).order_by(s.ts, s.id)
    if after is not None:
        fq, sq = fq.where(f.ts > after), sq.where(s.ts > after)
    fills = [
        StrategyFill(strat, Fill(tid, vid, tok, Side(side), px, size, fee, ts, _liq(liq)))
        for strat, tid, vid, tok, side, px, size, fee, ts, liq in conn.execute(fq).all()
    ]
    settlements = []
    for strat, slug, market_id, tok, outcome, shares, payout, ts in conn.execute(sq).all():
        tokens.setdefault(tok, (slug, outcome))
        stl = Settlement(market_id, tok, outcome, shares, payout, ts)
        settlements.append(StrategySettlement(strat, stl))
    return fills, settlements


def _liq(value: str) -> Liquidity:
    return "maker" if value == "maker" else "taker"
