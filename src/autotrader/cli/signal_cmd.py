"""`autotrader signal [--json]` and `autotrader signal replay DATA.csv --out SIGNALS.csv`.

The first prints the signal the daemon last published (``<state_dir>/signal.json``) and its
age; the second runs the incremental seed engine over a candle file and writes one CSV row per
input bar with the direction, confidence, score and every component.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from autotrader.cli import config_path, load_or_report
from autotrader.config import AppConfig
from autotrader.domain.signals import Direction
from autotrader.errors import DataError
from autotrader.signal.params import (
    REVERSION_LABELS,
    TREND_LABELS,
    VOLATILITY_LABELS,
    SeedParams,
)
from autotrader.signal.published import published_path, read_published
from autotrader.signal.seed import SeedEngine, decide

CLOCK_FILE = "clock.json"
REPLAY_COLUMNS = (
    "open_time_ms",
    "direction",
    "confidence",
    "score",
    "mom",
    "m_mid",
    "m_long",
    "accel",
    "c_mom",
    "c_acc",
    "c_trend",
    "c_vol",
    "c_mr",
    "volatility_state",
    "trend_bias",
    "mean_reversion_pressure",
    "z",
    "reason",
)


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], parent: argparse.ArgumentParser
) -> None:
    """Add ``signal`` and ``signal replay``."""
    parser = sub.add_parser(
        "signal", parents=[parent], help="the current signal, or replay the engine over candles"
    )
    parser.add_argument("--json", action="store_true", help="print the signal as JSON")
    parser.set_defaults(func=show_command)
    # The nested parsers inherit the parser class (one-line errors) from ``parser``.
    commands = parser.add_subparsers(dest="signal_command", metavar="SUBCOMMAND")
    replay = commands.add_parser(
        "replay",
        parents=[parent],
        help="run the seed engine over a candle CSV and write one row per bar",
        description="Without --config the seed model's defaults are used; with it, the "
        "file's signal.seed section.",
    )
    replay.add_argument("data", type=Path, metavar="DATA.csv", help="candles (open_time_ms,…)")
    replay.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="SIGNALS.csv",
        help="where to write the signals (replaced only once complete)",
    )
    replay.add_argument(
        "--sample-secs",
        type=float,
        metavar="N",
        help="seconds between bars (default: the median spacing of the file)",
    )
    replay.set_defaults(func=replay_command)


# -- autotrader signal --------------------------------------------------------------------------


def show_command(args: argparse.Namespace) -> int:
    """Print the published signal and its age; exit 1 when there is none or it is unreadable."""
    cfg = load_or_report(config_path(args))
    if cfg is None:
        return 1
    path = published_path(cfg.state_dir)
    try:
        signal = read_published(path)
    except FileNotFoundError:
        return _fail(args, path, "absent", f"no signal yet: {path} does not exist")
    except (OSError, ValueError) as err:
        return _fail(args, path, "unreadable", f"cannot read the signal {path}: {err}")
    age = _now(cfg) - signal.timestamp
    if args.json:
        doc = {"state": "ok", "path": str(path), "age_secs": round(age, 3), **signal.doc}
        print(json.dumps(doc))
    else:
        print(render_signal(signal.doc, age))
    return 0


def _fail(args: argparse.Namespace, path: Path, state: str, message: str) -> int:
    if args.json:
        print(json.dumps({"state": state, "path": str(path), "error": message}))
    print(f"autotrader signal: {message}", file=sys.stderr)
    return 1


def _now(cfg: AppConfig) -> float:
    """Now on the daemons' clock: wall time, or the simulated time recorded in clock.json.

    Only reads the anchor file; a missing or odd one falls back to wall time.
    """
    if not cfg.clock.simulated:
        return time.time()
    try:
        data = json.loads((Path(cfg.state_dir) / CLOCK_FILE).read_text())
        start, speed, anchor = float(data["start"]), float(data["speed"]), float(data["anchor"])
    except (OSError, ValueError, KeyError, TypeError):
        return time.time()
    return start + (time.time() - anchor) * speed


def render_signal(doc: dict[str, Any], age_secs: float) -> str:
    """The human-readable signal: headline, window and feed, basis."""
    direction = doc["direction"]
    head = f"{direction}"
    if direction == Direction.NO_TRADE.value:
        head += f" ({doc.get('reason') or 'no trade'})"
    else:
        head += f" confidence {float(doc['confidence']):.1f}"
    basis = doc.get("basis") or {}
    if isinstance(basis.get("score"), int | float):
        head += f" score {basis['score']:+.3f}"
    if isinstance(doc.get("price"), int | float):
        head += f" price {doc['price']:.2f}"
    lines = [f"{head} at {doc['timestamp']} ({_age(age_secs)})"]
    window = doc.get("window") or {}
    data_age = doc.get("data_age_secs")
    lines.append(
        f"window {window.get('slug', '-')}, source {doc.get('source') or '-'}, "
        f"data age {'-' if data_age is None else f'{data_age:.1f}s'}"
    )
    if basis:
        lines.append(
            "basis: momentum "
            + " ".join(
                f"{label} {basis[key]:+.3f}%"
                for label, key in (
                    ("30s", "momentum_30s"),
                    ("60s", "momentum_60s"),
                    ("120s", "momentum_120s"),
                )
                if isinstance(basis.get(key), int | float)
            )
            + f", volatility {basis.get('volatility_state', '-')}"
            f", trend {basis.get('trend_bias', '-')}"
            f", mean reversion {basis.get('mean_reversion_pressure', '-')}"
        )
    return "\n".join(lines)


def _age(secs: float) -> str:
    if secs < 0:
        return f"{-secs:.0f}s in the future: check the clocks"
    if secs < 120:
        return f"{secs:.0f}s ago"
    if secs < 7200:
        return f"{secs / 60:.0f}min ago"
    return f"{secs / 3600:.1f}h ago"


# -- autotrader signal replay -------------------------------------------------------------------


def replay_command(args: argparse.Namespace) -> int:
    """Run the engine over ``args.data`` and write ``args.out`` atomically; 1 on bad input."""
    try:
        params = _replay_params(args)
        if params is None:
            return 1
        count = replay_file(args.data, args.out, params, args.sample_secs)
    except (DataError, ValueError, OSError) as err:
        print(f"autotrader signal replay: {_one_line(err)}", file=sys.stderr)
        return 1
    print(f"wrote {count} rows to {args.out}")
    return 0


def _one_line(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        where = f"{err.filename}: " if err.filename else ""
        return f"{where}{err.strerror}"
    return " ".join(str(err).split()) or type(err).__name__


def _replay_params(args: argparse.Namespace) -> SeedParams | None:
    """SeedParams from --config when given (None after printing its problems), else defaults."""
    if getattr(args, "config", None) is None:
        return SeedParams()
    cfg = load_or_report(config_path(args))
    if cfg is None:
        return None
    return SeedParams.from_mapping(cfg.signal.seed.model_dump())


def replay_file(data: Path, out: Path, params: SeedParams, sample_secs: float | None) -> int:
    """Replay ``data`` through a fresh engine into ``out``; return the number of rows.

    Everything is checked before ``out`` is touched, and ``out`` is replaced only when the whole
    file is written (temp file in the same folder, fsync, rename).
    """
    if out.resolve() == data.resolve():
        raise ValueError(f"--out {out} would overwrite the input")
    from autotrader.signal.candles import read_candles  # numpy: only for replays

    candles = read_candles(data)
    if sample_secs is None:
        sample_secs = candles.sample_secs
    engine = SeedEngine(params, sample_secs)
    rows = _replay_rows(engine, candles.ts_ms.tolist(), candles.close.tolist())
    _write_atomically(out, rows)
    return len(candles)


def _replay_rows(engine: SeedEngine, ts: list[int], close: list[float]) -> Iterator[list[str]]:
    yield list(REPLAY_COLUMNS)
    params = engine.params
    for t, price in zip(ts, close, strict=True):
        score = engine.update(t, price)
        c = engine.components()
        if score is None or c is None:
            yield [str(t), Direction.NO_TRADE.value, "0.0", *([""] * 14), "warming_up"]
            continue
        direction, confidence = decide(params, score)
        reason = "below_threshold" if direction is Direction.NO_TRADE else ""
        numbers = (c.mom, c.m_mid, c.m_long, c.accel, c.c_mom, c.c_acc, c.c_trend, c.c_vol, c.c_mr)
        yield [
            str(t),
            direction.value,
            repr(confidence),
            repr(score),
            *map(repr, numbers),
            VOLATILITY_LABELS[c.volatility_code],
            TREND_LABELS[c.trend_code],
            REVERSION_LABELS[c.reversion_code],
            repr(c.z),
            reason,
        ]


def _write_atomically(out: Path, rows: Iterator[list[str]]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            _write_rows(fh, rows)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_rows(fh: TextIO, rows: Iterator[list[str]]) -> None:
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerows(rows)
