"""`autotrader …`: the command-line entry point.

Each command group lives in its own module exposing ``register(subparsers, parent)``; the
handler it sets as ``func`` takes the parsed arguments and returns the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from autotrader.config import AppConfig, load_config
from autotrader.domain.markets import Market
from autotrader.errors import ConfigError

DEFAULT_CONFIG = Path("/etc/autotrader/autotrader.yaml")

# Command modules, in the order their commands appear in --help.
COMMAND_MODULES = (
    "autotrader.cli.run_cmd",
    "autotrader.cli.config_cmd",
    "autotrader.cli.db_cmd",
    "autotrader.cli.status_cmd",
    "autotrader.cli.page_cmd",
    "autotrader.cli.signal_cmd",
    "autotrader.cli.sim_cmd",
    "autotrader.cli.trade_cmd",
    "autotrader.cli.ledger_cmd",
    "autotrader.cli.position_cmd",
    "autotrader.cli.strategy_cmd",
    "autotrader.cli.watchlist_cmd",
    "autotrader.cli.notifications_cmd",
)


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, naming the command."""

    def error(self, message: str) -> NoReturn:
        """Print ``autotrader <cmd>: error: …`` and exit 2."""
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def config_path(args: argparse.Namespace) -> Path:
    """The config file: --config, else $AUTOTRADER_CONFIG, else /etc/autotrader/autotrader.yaml."""
    given = getattr(args, "config", None) or os.environ.get("AUTOTRADER_CONFIG")
    return Path(given) if given else DEFAULT_CONFIG


def load_or_report(path: Path) -> AppConfig | None:
    """The configuration in ``path``, or ``None`` after printing each problem on its own line."""
    try:
        return load_config(path)
    except ConfigError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        return None


async def lookup_market(config: AppConfig, slug: str) -> Market | None:
    """The market ``slug`` from the configured Gamma (wallet-free reads), or None if unknown."""
    # Imported here: building the parser must stay light (tests/unit/test_cli.py).
    from autotrader.venue.polymarket.public_reads import PublicReads

    pm = config.polymarket
    reads = PublicReads(gamma_url=pm.gamma_url, clob_url=pm.clob_url)
    try:
        return await reads.market_by_slug(slug)
    finally:
        await reads.aclose()


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full parser with every registered command (only ``command``'s, when given)."""
    # --config is accepted before or after the command name.
    parent = OneLineParser(add_help=False)
    parent.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="config file (default $AUTOTRADER_CONFIG or /etc/autotrader/autotrader.yaml)",
    )
    parser = OneLineParser(prog="autotrader", parents=[parent], description=__doc__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    sub.required = True
    wanted = f"autotrader.cli.{command}_cmd"
    for name in COMMAND_MODULES if wanted not in COMMAND_MODULES else (wanted,):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # Only the command module itself may be absent (a partial checkout); a missing
            # dependency inside it is a real error.
            if exc.name != name:
                raise
            continue
        module.register(sub, parent)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code."""
    args_list = sys.argv[1:] if argv is None else list(argv)
    # A daemon (`autotrader run …`) registers only its own command: the other command modules
    # would stay resident in each of the three daemons for nothing.
    parser = build_parser("run" if _command_word(args_list) == "run" else None)
    args = parser.parse_args(args_list)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `autotrader trades | head` must not end in a traceback.
        sys.stderr.close()
        return 0
    return code


def _command_word(argv: Sequence[str]) -> str | None:
    """The command name in ``argv`` (after any ``--config PATH``), if there is one."""
    words = iter(argv)
    for word in words:
        if word == "--config":
            next(words, None)
        elif not word.startswith("-"):
            return word
        elif not word.startswith("--config="):
            return None
    return None


if __name__ == "__main__":
    raise SystemExit(main())
