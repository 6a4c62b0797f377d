"""Keeping a long-running daemon's resident memory near what it actually uses.

CPython hands big blocks (page HTML, result rows' buffers, list and dict tables) to the C
allocator. glibc gives each thread that allocates its own arena when the main one is busy, and
memory freed inside an arena stays with the process; a daemon that does its blocking work in
``asyncio.to_thread`` workers (database calls, the status page) then keeps one high-water mark
per worker thread. These helpers do nothing where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache
from typing import Any

M_ARENA_MAX = -8  # mallopt(3) parameter number in glibc's <malloc.h>


def release_heap() -> None:
    """Free what a big piece of work left behind: collect cycles, then give the free heap
    back to the system, so the process does not keep the work's high-water mark."""
    gc.collect()
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def single_malloc_arena() -> bool:
    """Make every thread allocate from one glibc arena from now on (threads that already
    have one keep it); whether it was done. Meant for a daemon, early in its start-up: the
    threads it runs blocking work in then reuse one heap instead of growing one each."""
    libc = _glibc()
    return libc is not None and bool(libc.mallopt(M_ARENA_MAX, 1))


@cache
def _glibc() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim  # noqa: B018 - both exist only in glibc
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return None
    return libc
