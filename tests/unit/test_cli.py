"""The command-line entry point: every command is registered and errors are one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from autotrader.cli import COMMAND_MODULES, build_parser, config_path, main


def test_every_command_module_is_present() -> None:
    # The registry tolerates a missing module only so a partial checkout still runs;
    # a released tree must have them all.
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(name)


@pytest.mark.parametrize("command", ["run", "config", "db", "status", "signal"])
def test_help_lists_command(command: str) -> None:
    assert command in build_parser().format_help()


def test_config_path_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    parser = build_parser()
    monkeypatch.delenv("AUTOTRADER_CONFIG", raising=False)
    assert str(config_path(parser.parse_args(["status"]))) == "/etc/autotrader/autotrader.yaml"
    monkeypatch.setenv("AUTOTRADER_CONFIG", "/tmp/env.yaml")
    assert str(config_path(parser.parse_args(["status"]))) == "/tmp/env.yaml"
    assert str(config_path(parser.parse_args(["--config", "/a.yaml", "status"]))) == "/a.yaml"
    assert str(config_path(parser.parse_args(["status", "--config", "/b.yaml"]))) == "/b.yaml"


def test_bad_arguments_give_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "autotrader", "no-such-command"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "no-such-command" in lines[0]


def test_main_returns_exit_code_of_command() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0


def test_building_the_parser_loads_no_heavy_or_intrusive_module() -> None:
    # Every daemon is an `autotrader run …` process: whatever the parser imports stays resident
    # for its lifetime. eth-account (via py_ecc) also raises the recursion limit to 100,000.
    code = (
        "import sys\n"
        "from autotrader.cli import build_parser\n"
        "build_parser()\n"
        "heavy = ('numpy', 'alembic', 'mako', 'eth_account', 'py_ecc', 'py_clob_client_v2')\n"
        "print(sorted(m for m in heavy if m in sys.modules), sys.getrecursionlimit())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[] 1000"


def test_a_daemon_registers_only_the_run_command() -> None:
    # `autotrader run …` is a long-lived daemon: the other command modules would stay resident.
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print(sorted(m for m in sys.modules\n"
        "    if m.startswith('autotrader.cli.')), file=sys.stderr))\n"
        "from autotrader.cli import main\n"
        "main(['--config', '/nonexistent.yaml', 'run', '--help'])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "usage: autotrader run" in proc.stdout
    assert proc.stderr.strip().splitlines()[-1] == "['autotrader.cli.run_cmd']"


@pytest.mark.parametrize(
    ("argv", "word"),
    [
        (["run", "executor"], "run"),
        (["--config", "run", "strategy", "list"], "strategy"),
        (["--config=x.yaml", "run", "scheduler"], "run"),
        (["--help"], None),
        ([], None),
    ],
)
def test_the_command_word_is_found_after_the_config_option(
    argv: list[str], word: str | None
) -> None:
    from autotrader.cli import _command_word

    assert _command_word(argv) == word
