"""`autotrader config check|show`: validate the configuration file and print what is in force."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from autotrader.cli import config_path, load_or_report
from autotrader.config import AppConfig, mask_url


def register(sub: argparse._SubParsersAction, parent: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    """Add ``config check`` and ``config show``."""
    parser = sub.add_parser("config", parents=[parent], help="check or show the configuration")
    commands = parser.add_subparsers(dest="config_command", metavar="SUBCOMMAND")
    commands.required = True

    check = commands.add_parser(
        "check", parents=[parent], help="validate a config file (exit 1 and one line per problem)"
    )
    check.add_argument("path", nargs="?", type=Path, help="the file to check (overrides --config)")
    check.set_defaults(func=check_command)

    show = commands.add_parser(
        "show", parents=[parent], help="print the effective configuration, passwords masked"
    )
    show.add_argument("path", nargs="?", type=Path, help="the file to show (overrides --config)")
    show.add_argument("--json", action="store_true", help="print JSON instead of YAML")
    show.set_defaults(func=show_command)


def _load(args: argparse.Namespace) -> tuple[Path, AppConfig | None]:
    """The config named by the arguments, or None after printing its problems to stderr."""
    path: Path = args.path or config_path(args)
    return path, load_or_report(path)


def summary(path: Path, config: AppConfig) -> str:
    """The one-line summary of a valid file."""
    names = [s.name if s.enabled else f"{s.name} (disabled)" for s in config.strategies]
    count = len(names)
    strategies = f"{count} strateg{'y' if count == 1 else 'ies'}"
    if names:
        strategies += ": " + ", ".join(names)
    database = mask_url(config.database_url)
    return f"{path}: OK (mode {config.mode}, {strategies}; database {database})"


def check_command(args: argparse.Namespace) -> int:
    """Exit 0 with a summary when the file is valid, 1 with one line per problem otherwise."""
    path, config = _load(args)
    if config is None:
        return 1
    print(summary(path, config))
    return 0


def show_command(args: argparse.Namespace) -> int:
    """Print the effective (defaults filled in, paths resolved) configuration."""
    _, config = _load(args)
    if config is None:
        return 1
    data = config.sanitized()
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), end="")
    return 0
