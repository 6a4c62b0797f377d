"""Atomic file replacement: whole bytes or pieces, and nothing half-written on failure."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from autotrader.fsutil import atomic_write


def test_bytes_and_pieces_give_the_same_file_with_its_mode(tmp_path: Path) -> None:
    whole, pieced = tmp_path / "whole.html", tmp_path / "pieced.html"
    atomic_write(whole, b"<p>one</p><p>two</p>")
    atomic_write(pieced, iter([b"<p>one</p>", b"", b"<p>two</p>"]), mode=0o600)
    assert pieced.read_bytes() == whole.read_bytes() == b"<p>one</p><p>two</p>"
    assert (pieced.stat().st_mode & 0o777, whole.stat().st_mode & 0o777) == (0o600, 0o644)


def test_a_failure_while_the_pieces_are_made_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "index.html"
    atomic_write(target, b"old page")

    def pieces() -> Iterator[bytes]:
        yield b"new page, first half"
        raise RuntimeError("the template failed half way")

    with pytest.raises(RuntimeError, match="half way"):
        atomic_write(target, pieces())
    assert target.read_bytes() == b"old page"
    assert os.listdir(tmp_path) == ["index.html"]  # no temporary file left behind
