"""Keeping a long-running process's memory flat: fewer glibc malloc arenas for its threads."""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)
ARENAS = 2  # one per core here; glibc's default allows 8 per core, each keeping freed memory of its own


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas unless ``MALLOC_ARENA_MAX`` says how many; call before threads start.

    Threads that decode, upsample and encode images each get an arena of their own from glibc, and each
    arena holds on to the memory it freed: a long batch or a server then grows for a while after its
    start. Capping them trades a little allocation speed under contention for a lower, steadier RSS.

    Returns:
        True when the cap was set; False on a C library other than glibc, or when the environment variable
        ``MALLOC_ARENA_MAX`` is set (the user's choice wins).
    """
    if os.environ.get("MALLOC_ARENA_MAX") or arenas < 1:
        return False
    libc = _glibc()
    return bool(libc is not None and libc.mallopt(M_ARENA_MAX, arenas) == 1)


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name)
    return libc if hasattr(libc, "gnu_get_libc_version") and hasattr(libc, "mallopt") else None
