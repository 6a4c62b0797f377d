"""Bounded JSON decoding: hostile payloads are a DataError whatever the recursion limit."""

from __future__ import annotations

import subprocess
import sys

import pytest

from autotrader.errors import DataError
from autotrader.jsonbound import loads_bounded, nesting_depth


@pytest.mark.parametrize(
    ("text", "depth"),
    [("{}", 1), ('[[1], {"a": [2]}]', 3), ('["[[[[", "}}"]', 1), ('"\\"["', 0), ("1", 0)],
)
def test_nesting_depth_ignores_brackets_in_strings(text: str, depth: int) -> None:
    assert nesting_depth(text) == depth


def test_deep_payload_is_refused_before_decoding() -> None:
    with pytest.raises(DataError, match="nested deeper than 64 levels"):
        loads_bounded("[" * 100_000 + "]" * 100_000, "book")
    assert loads_bounded("[" * 64 + "]" * 64, "book") is not None


def test_no_crash_even_when_a_dependency_raised_the_recursion_limit() -> None:
    # py_ecc (via eth-account) sets the limit to 100,000 at import: without the depth check,
    # json.loads of a deep payload overflows the C stack and kills the process.
    code = (
        "import sys; sys.setrecursionlimit(100000)\n"
        "from autotrader.jsonbound import loads_bounded\n"
        "from autotrader.errors import DataError\n"
        "try:\n    loads_bounded('{\"a\":' * 200000, 'x')\n"
        "except DataError as e:\n    print('refused:', e)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "refused: x: not valid JSON (nested deeper than 64 levels)" in proc.stdout


def test_bad_utf8_and_garbage_are_one_line_errors() -> None:
    for raw in (b"\xff\xfe", "not json", '{"a": 1'):
        with pytest.raises(DataError) as info:
            loads_bounded(raw, "ticker")
        assert "\n" not in str(info.value) and str(info.value).startswith("ticker: ")
