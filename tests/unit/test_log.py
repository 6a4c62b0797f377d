"""Daemon logging: sd-daemon priority prefixes on every line, no timestamps of our own."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator

import pytest

from autotrader.log import SdDaemonFormatter, setup_logging


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    """setup_logging changes the root logger: put pytest's handlers and level back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    noisy = {name: logging.getLogger(name).level for name in ("httpx", "alembic", "asyncio")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, lvl in noisy.items():
        logging.getLogger(name).setLevel(lvl)


def _record(level: int, msg: str, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("autotrader.x", level, __file__, 1, msg, None, exc_info)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("level", "prefix"),
    [
        (logging.DEBUG, "<7>"),
        (logging.INFO, "<6>"),
        (logging.WARNING, "<4>"),
        (logging.ERROR, "<3>"),
        (logging.CRITICAL, "<2>"),
        (25, "<5>"),  # a custom level between INFO and WARNING reads as notice
    ],
)
def test_each_level_gets_its_priority(level: int, prefix: str) -> None:
    text = SdDaemonFormatter("%(name)s: %(message)s").format(_record(level, "hello"))
    assert text == f"{prefix}autotrader.x: hello"


def test_every_line_of_a_traceback_is_prefixed() -> None:
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        record = _record(logging.ERROR, "first\nsecond", sys.exc_info())
    text = SdDaemonFormatter("%(name)s: %(message)s").format(record)
    lines = text.splitlines()
    assert lines[0] == "<3>autotrader.x: first"
    assert lines[1] == "<3>second"
    assert "<3>Traceback (most recent call last):" in lines
    assert lines[-2:] == ["<3>ValueError: bad", "<3>value"]
    assert all(line.startswith("<3>") for line in lines)


def test_setup_logging_writes_plain_prefixed_lines_to_stderr(
    capsys: pytest.CaptureFixture[str], restore_root_logger: None
) -> None:
    setup_logging("debug")
    setup_logging("info")  # a second call replaces the handler instead of adding one
    logging.getLogger("autotrader.runtime").info("ready")
    logging.getLogger("autotrader.runtime").debug("hidden at info")
    logging.getLogger("httpx").info("third-party chatter")
    logging.getLogger("httpx").warning("third-party warning")
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.splitlines() == [
        "<6>autotrader.runtime: ready",
        "<4>httpx: third-party warning",
    ]
    assert not re.search(r"\d{2}:\d{2}:\d{2}", out.err)  # journald adds the time, not us
