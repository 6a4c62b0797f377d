"""The executor's "look now" socket: a nudge reaches a listener, and never fails its sender."""

from __future__ import annotations

import asyncio
from pathlib import Path

from autotrader.nudge import NudgeListener, nudge_path, send_nudge


def _listen_and_nudge(path: Path, nudges: int) -> tuple[bool, int]:
    async def main() -> tuple[bool, int]:
        got = asyncio.Event()
        calls = 0

        def on_nudge() -> None:
            nonlocal calls
            calls += 1
            got.set()

        listener = NudgeListener(path, on_nudge)
        opened = listener.open()
        try:
            for _ in range(nudges):
                send_nudge(path)
            if opened:
                await asyncio.wait_for(got.wait(), timeout=5)
        finally:
            listener.close()
        return opened, calls

    return asyncio.run(main())


def test_a_nudge_reaches_the_listener_and_the_socket_is_removed_after(tmp_path: Path) -> None:
    path = nudge_path(tmp_path)
    opened, calls = _listen_and_nudge(path, 3)
    assert opened and calls >= 1  # several nudges may be drained as one wake-up
    assert not path.exists()


def test_a_stale_socket_of_a_killed_executor_is_replaced(tmp_path: Path) -> None:
    import socket

    path = nudge_path(tmp_path)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    stale.bind(str(path))
    stale.close()  # the file stays, as after kill -9
    assert _listen_and_nudge(path, 1) == (True, 1)


def test_a_file_that_is_not_a_socket_is_left_alone(tmp_path: Path) -> None:
    path = nudge_path(tmp_path)
    path.write_text("not ours")
    assert _listen_and_nudge(path, 1) == (False, 0)
    assert path.read_text() == "not ours"


def test_sending_without_a_listener_or_with_a_too_long_path_does_nothing(tmp_path: Path) -> None:
    send_nudge(nudge_path(tmp_path))  # nobody listens
    send_nudge(tmp_path / ("x" * 200))  # longer than a socket path may be
    send_nudge(None)
    deep = tmp_path / ("d" * 120)
    deep.mkdir()
    assert _listen_and_nudge(nudge_path(deep), 1) == (False, 0)  # polling only, logged
