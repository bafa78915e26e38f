"""The malloc-arena cap: counted from glibc's own statistics in a fresh process with eight busy threads."""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys

import pytest

PROBE = """
import ctypes, sys, threading
from cutkit._util.memory import limit_malloc_arenas
print(limit_malloc_arenas(2) if sys.argv[1] == "limit" else "not asked", flush=True)
barrier = threading.Barrier(8)
def work():
    barrier.wait()
    for _ in range(200):
        del [bytearray(1000) for _ in range(200)][:]
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
ctypes.CDLL(None).malloc_stats()
"""

glibc = pytest.mark.skipif(
    not hasattr(ctypes.CDLL(ctypes.util.find_library("c")), "gnu_get_libc_version"), reason="needs glibc"
)


def arenas(mode: str, env: dict[str, str] | None = None) -> tuple[str, int]:
    """What the probe's cap call returned, and how many arenas glibc reports at its end."""
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | (env or {})
    done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip(), sum(line.startswith("Arena ") for line in done.stderr.splitlines())


@glibc
def test_the_cap_holds_eight_threads_to_two_arenas() -> None:
    assert arenas("limit") == ("True", 2)


@glibc
def test_without_the_cap_threads_get_arenas_of_their_own() -> None:
    returned, count = arenas("none")
    assert returned == "not asked" and count > 2


@glibc
def test_the_users_environment_wins() -> None:
    returned, count = arenas("limit", {"MALLOC_ARENA_MAX": "3"})
    assert returned == "False" and count == 3
