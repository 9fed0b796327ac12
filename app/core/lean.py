"""What keeps a long-running process (`serve`, `worker`) small (README, Operations: Memory).

Fewer glibc malloc arenas: glibc gives each thread that allocates its own arena (up to 8 per
core), and memory freed in one arena cannot serve another. aiosqlite runs a thread per
connection, and executors add more, so a serving process kept ~5 MB of half-empty arenas
(bench/memory.py). Two arenas is the usual cure (the same as MALLOC_ARENA_MAX=2); an explicit
MALLOC_ARENA_MAX still wins. And migrations in a child process (`migrate_in_child`).
"""
from __future__ import annotations

import ctypes
import os
import subprocess
import sys

M_ARENA_MAX = -8  # from glibc's malloc.h
ARENAS = 2


def limit_arenas() -> bool:
    """True when glibc took the limit; call it before the process starts threads."""
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, ARENAS))
    except (OSError, AttributeError):   # not glibc (musl has no mallopt of this kind)
        return False


def migrate_in_child() -> None:
    """`webcare migrate` in a child process: Alembic, Mako and every migration script then
    never load into the long-running process (~10 MB it would keep)."""
    done = subprocess.run([sys.executable, "-m", "app.cli", "migrate"], stdout=subprocess.DEVNULL, check=False)
    if done.returncode:
        raise SystemExit(done.returncode)
