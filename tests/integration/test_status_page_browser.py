"""The status page in real headless Chromium (Debian's, driven by Playwright) from file://.

The site is rendered from a seeded SQLite database (``harness.status_world``); the DOM is
checked against the database (the ledger CLI's own functions and the repositories), the filter
and sort controls are clicked, the hostile market title must stay text, no console error may
appear, and screenshots are written to ``tests/artifacts/`` (or ``$AUTOTRADER_TEST_ARTIFACTS``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from autotrader.config import load_config
from autotrader.executor.books import all_ledgers, load_snapshot
from autotrader.status.fmt import Formatter
from autotrader.status.writer import write_site
from autotrader.store.db import create_db_engine
from autotrader.store.repos_watchlist import WatchlistRepo
from harness.status_world import EXPECTED, HOSTILE, NOW, World, seed_world

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]


def _artifacts() -> Path:
    folder = Path(os.environ.get("AUTOTRADER_TEST_ARTIFACTS") or REPO / "tests" / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Site:
    """The rendered site, what the database says, and what the browser complained about."""

    world: World
    index: Path
    expected: dict[str, dict[str, Any]]
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    tmp = tmp_path_factory.mktemp("status-site")
    world = seed_world(tmp, f"sqlite:///{tmp / 'autotrader.db'}")
    config = load_config(world.config_path)
    engine = create_db_engine(config.database_url)
    try:
        index = write_site(config, engine, now=NOW)
        # What the page must say, from the database through other code than the page's.
        snap = load_snapshot(engine)
        ledgers = all_ledgers(config, snap)
        fmt = Formatter(UTC, NOW, "")
        watch = WatchlistRepo(engine)
        expected = {
            name: {
                "net_pnl": fmt.pnl(lg.net_pnl_usd),
                "allocated": fmt.money(lg.allocated_usd),
                "active_trades": sum(
                    1 for p in snap.history.positions.values() if p.is_open and p.strategy == name
                ),
                "watchlist": len(watch.list(name, now=NOW)),
            }
            for name, lg in ledgers.items()
        }
    finally:
        engine.dispose()
    return Site(world, index, expected)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"Chromium is not installed at {CHROMIUM} (Debian package 'chromium')"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    def console(message: Any) -> None:
        if message.type == "error":
            site.errors.append(message.text)

    def dialog(d: Any) -> None:
        # An injected script would most likely alert(): fail loudly if anything does.
        site.errors.append(f"dialog: {d.message}")
        d.dismiss()

    page.on("console", console)
    page.on("pageerror", lambda e: site.errors.append(str(e)))
    page.on("dialog", dialog)
    yield page
    context.close()
    assert site.errors == []


def _visible_names(page: Any) -> list[str]:
    names: list[str] = page.eval_on_selector_all(
        "#cards .card", "cards => cards.filter(c => !c.hidden).map(c => c.dataset.name)"
    )
    return names


def _card_text(page: Any, name: str, cls: str) -> str:
    text: str = page.locator(f'.card[data-name="{name}"] .{cls}').inner_text()
    return text.strip()


def test_overview_cards_show_what_the_database_says(page: Any, site: Site) -> None:
    page.goto(site.index.as_uri())
    assert page.locator("#cards .card").count() == 4
    for name, want in site.expected.items():
        card = page.locator(f'.card[data-name="{name}"]')
        assert card.locator(".badge").inner_text().lower() == EXPECTED[name]["status"]
        assert _card_text(page, name, "active-trades") == str(want["active_trades"])
        assert _card_text(page, name, "watchlist-size") == str(want["watchlist"])
        assert _card_text(page, name, "net-pnl") == want["net_pnl"] == EXPECTED[name]["net_pnl"]
        assert card.locator("a.name").get_attribute("href") == f"strategy-{name}.html"
    # The exact commands, with this config file.
    commands = page.locator('.card[data-name="beta"] .cmds code').all_inner_texts()
    assert commands[0] == f"autotrader strategy resume beta --config {site.world.config_path}"
    assert page.locator("#total-allocated").inner_text() == "$1,100.00"
    assert page.locator("svg.pie path[data-ring=allocated]").count() == 4
    assert page.locator("#signal .direction").inner_text() == "UP"
    stale = page.locator("#daemons tr.stale").all_inner_texts()
    assert len(stale) == 1 and "executor" in stale[0] and "STALE" in stale[0]
    # The hostile status line of the executor is text in the table, not markup.
    assert HOSTILE in page.locator('#daemons tr[data-daemon="executor"]').inner_text()
    page.screenshot(path=str(_artifacts() / "status-index.png"), full_page=True)


def test_filter_and_sort_work_from_file(page: Any, site: Site) -> None:
    page.goto(site.index.as_uri())
    assert _visible_names(page) == ["alpha", "beta", "delta", "gamma"]  # most active first
    for status, names in (
        ("paused", ["beta"]),
        ("stopped", ["gamma"]),
        ("error", ["delta"]),
        ("running", ["alpha"]),
    ):
        page.click(f'[data-filter="{status}"]')
        assert _visible_names(page) == names, status
        assert page.locator(f'[data-filter="{status}"]').get_attribute("aria-pressed") == "true"
    page.click('[data-filter="all"]')
    orders = {
        "performance": ["alpha", "delta", "gamma", "beta"],  # +13.90, 0, 0 (by name), −10.10
        "newest": ["delta", "alpha", "beta", "gamma"],  # never started last
        "oldest": ["beta", "alpha", "delta", "gamma"],
        "active": ["alpha", "beta", "delta", "gamma"],
    }
    for key, names in orders.items():
        page.select_option("#sort", key)
        assert _visible_names(page) == names, key
    # The choice survives the meta refresh (it lives in the URL fragment).
    page.select_option("#sort", "performance")
    page.click('[data-filter="running"]')
    page.reload()
    assert _visible_names(page) == ["alpha"]
    assert page.locator("#sort").input_value() == "performance"


def test_strategy_page_numbers_countdown_and_hostile_title(page: Any, site: Site) -> None:
    page.goto((site.index.parent / "strategy-alpha.html").as_uri())
    assert page.locator("#strategy-name").inner_text() == "alpha"
    for field_id, value in (
        ("executions", "5"),
        ("successes", "5"),
        ("failures", "0"),
        ("win-rate", EXPECTED["alpha"]["win_rate"]),
        ("roi", EXPECTED["alpha"]["roi"]),
        ("allocated", EXPECTED["alpha"]["allocated"]),
        ("deployed", EXPECTED["alpha"]["deployed"]),
        ("available", EXPECTED["alpha"]["available"]),
        ("net-pnl", site.expected["alpha"]["net_pnl"]),
    ):
        assert page.locator(f"#{field_id}").inner_text() == value, field_id
    assert page.locator("#runs tbody tr").count() == 5
    assert page.locator("#positions tbody tr").count() == 1
    assert page.locator("#closed tbody tr").count() == 1
    assert page.locator("#watchlist tbody tr").count() == 2
    # The market titled <script>alert(1)</script> is text wherever it appears.
    assert HOSTILE in page.locator("#watchlist").inner_text()
    assert HOSTILE in page.locator("#closed").inner_text()
    assert page.locator("script").count() == 1  # ours, the countdown
    countdown = page.locator("#next-run .countdown")
    assert re.fullmatch(r"in [34]m\d\ds", countdown.inner_text())  # next run 4 min after NOW
    first = countdown.inner_text()
    page.wait_for_function(
        "t => document.querySelector('#next-run .countdown').textContent !== t", arg=first
    )
    page.screenshot(path=str(_artifacts() / "status-strategy-alpha.png"), full_page=True)


def test_every_page_loads_without_errors(page: Any, site: Site) -> None:
    for name in ("beta", "gamma", "delta"):
        page.goto((site.index.parent / f"strategy-{name}.html").as_uri())
        assert page.locator(".head .badge").inner_text().lower() == EXPECTED[name]["status"]
    assert page.locator("#last-error").inner_text().startswith("Last error (2 in a row): boom")
    assert "<b>" in page.locator("#last-error").inner_text()  # text, not bold
