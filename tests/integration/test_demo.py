"""`make demo` end to end: the simulator, three daemons and an SMTP sink as real processes.

The demo runs on a copy of etc/demo.yaml with its own state folder and free ports, for long
enough (at 300× speed) that both strategies trade, and must end with every process exiting 0,
trades listed by `autotrader trades`, a status page and e-mails in the sink.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import yaml

from harness.sim import REPO, autotrader_env

DEMO = REPO / "etc" / "demo.yaml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _demo_config(tmp_path: Path) -> Path:
    doc = yaml.safe_load(DEMO.read_text())
    doc["state_dir"] = str(tmp_path / "state")
    doc["feeds"]["btc"]["replay"]["path"] = str(REPO / "tests" / "data" / "btcusdt_1m_demo.csv")
    url = f"http://127.0.0.1:{_free_port()}"
    doc["polymarket"].update(gamma_url=url, clob_url=url, data_url=url)
    doc["notifications"]["email"]["smtp_port"] = _free_port()
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_demo_trades_on_paper_renders_the_page_and_delivers_emails(tmp_path: Path) -> None:
    config = _demo_config(tmp_path)
    argv = [sys.executable, "-m", "autotrader.demo", "--config", str(config), "--duration", "45"]
    done = subprocess.run(
        argv, cwd=REPO, env=autotrader_env(), capture_output=True, text=True, timeout=300
    )
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    for name in ("sim", "signal", "executor", "scheduler"):
        assert f"{name}: exit 0" in out
    trades = out.split("== trades (autotrader trades)\n", 1)[1].split("\n\n", 1)[0]
    rows = trades.splitlines()[1:]
    assert rows, out[-3000:]
    assert any(" BUY " in row for row in rows)
    assert any(row.split()[1] == "politics-momentum" for row in rows)
    assert "  event trade_executed" in out
    page = re.search(r"status page: (\S+)", out)
    assert page is not None and Path(page.group(1)).is_file()
    assert "<html" in Path(page.group(1)).read_text().lower()
    emails = re.search(r"e-mails delivered to the local SMTP sink: (\d+)", out)
    assert emails is not None and int(emails.group(1)) > 0
