"""Order signing on py-clob-client-v2, and create-and-post round trips against the simulator.

Signing is measured through ``PolymarketVenue.prepare`` with the market parameters already
cached (what the executor pays per order: build, sign, hash). The round trip is prepare +
post of a resting GTC order far from the touch, against a real ``autotrader sim`` process
on loopback, then cancelled so the book stays as it was.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import httpx
from eth_account import Account

from autotrader.domain.markets import btc_15m_slug, window_start
from autotrader.domain.orders import OrderRequest, OrderType, Side
from autotrader.venue.polymarket.clob import PolymarketVenue
from autotrader.venue.polymarket.credentials import WalletKey

REPO = Path(__file__).resolve().parent.parent
CANDLES = REPO / "tests" / "data" / "btcusdt_1m_demo.csv"
SIGN_N = 300
POST_N = 300


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _start_sim() -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "autotrader", "sim", "--port", "0", "--data", str(CANDLES)]
    proc = subprocess.Popen(
        [*cmd, "--speed", "1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    m = re.fullmatch(r"listening on (http://[\w.]+:\d+)\n?", proc.stdout.readline())
    if not m:
        proc.kill()
        sys.exit("bench: the simulator did not start")
    return proc, m.group(1)


async def _measure(url: str, state_dir: Path) -> tuple[list[float], list[float]]:
    venue = PolymarketVenue(
        clob_url=url,
        gamma_url=url,
        key=WalletKey(Account.create().key.hex()),
        state_dir=state_dir,
        timeout_secs=5.0,
    )
    try:
        sim_now = int(httpx.get(f"{url}/time", timeout=5).json())
        market = await venue.market_by_slug(btc_15m_slug(window_start(sim_now) + 4 * 3600))
        assert market is not None, "no BTC window market in the simulator"
        token = market.token("Up").token_id

        def request(i: int) -> OrderRequest:
            return OrderRequest(
                f"bench-{i}", token, Side.BUY, OrderType.GTC, Decimal("0.05"), Decimal("5")
            )

        await venue.prepare(request(-1))  # warm the tick/neg-risk/version caches
        signing = []
        for i in range(SIGN_N):
            t0 = time.perf_counter()
            await venue.prepare(request(i))
            signing.append(time.perf_counter() - t0)
        trips = []
        for i in range(POST_N):
            t0 = time.perf_counter()
            result = await venue.post(await venue.prepare(request(SIGN_N + i)))
            trips.append(time.perf_counter() - t0)
            assert result.accepted, result.message
        await venue.cancel_all()
        return signing, trips
    finally:
        await venue.aclose()


def main() -> None:
    """Print signing and round-trip percentiles."""
    proc, url = _start_sim()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            signing, trips = asyncio.run(_measure(url, Path(tmp)))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    ms = 1000.0
    print(f"order signing (prepare: build + sign + hash), {SIGN_N} orders:")
    med, p99 = statistics.median(signing) * ms, _pct(signing, 0.99) * ms
    print(f"  median {med:6.2f} ms   p99 {p99:6.2f} ms")
    print(f"create-and-post round trip against the simulator, {POST_N} orders:")
    print(f"  p50    {_pct(trips, 0.50) * ms:6.2f} ms   p99 {_pct(trips, 0.99) * ms:6.2f} ms")
    extra = _pct(trips, 0.5) - statistics.median(signing)
    print(f"  post adds {extra * ms:.2f} ms over signing at the median")


if __name__ == "__main__":
    main()
