"""A tick size change seen in a book read replaces the cached tick before the next order."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

from eth_account import Account

from autotrader.venue.polymarket.clob import PolymarketVenue
from autotrader.venue.polymarket.credentials import WalletKey
from harness.feeds import QuietHandler, serve_http

TOKEN = "72610532355343625199299853218161700546393390326785971247545541945337255643692"


class _Book(QuietHandler):
    tick: ClassVar[str] = "0.01"

    def do_GET(self) -> None:
        body = {
            "market": "0x9d839bf0aa31324b9848f5b89841b779238a7c07dee2f7fca675d934e8ab5bf2",
            "asset_id": TOKEN,
            "timestamp": "1785734468581",
            "hash": "d7df883ae546b09533a4f485bfae0810da1af04e",
            "bids": [{"price": "0.030", "size": "100"}, {"price": "0.031", "size": "10"}],
            "asks": [{"price": "0.034", "size": "50"}, {"price": "0.033", "size": "20"}],
            "min_order_size": "5",
            "tick_size": type(self).tick,
            "neg_risk": False,
            "last_trade_price": "0.032",
        }
        self.reply(200, json.dumps(body).encode())


async def _scenario(venue: PolymarketVenue) -> None:
    try:
        venue.set_tick_size(TOKEN, Decimal("0.01"))
        _Book.tick = "0.001"  # the price moved below 0.04: tick_size_change
        book = await venue.book(TOKEN)
        assert book.tick_size == Decimal("0.001")
        assert venue.tokens.tick(TOKEN) == Decimal("0.001")
    finally:
        await venue.aclose()


def test_book_read_replaces_a_stale_cached_tick(tmp_path: Path) -> None:
    with serve_http(_Book) as url:
        venue = PolymarketVenue(
            clob_url=url,
            gamma_url=url,
            key=WalletKey(Account.create().key.hex()),
            state_dir=tmp_path,
            timeout_secs=5.0,
        )
        asyncio.run(_scenario(venue))
