"""Locks that serialise runs and elect one active scheduler, on either database.

On PostgreSQL a session-level advisory lock, held on a connection of its own: the server
releases it when that connection ends, so a killed process never leaves it behind, and
it works across machines. SQLite serves one machine: an ``flock`` on a file next to the
database, which the kernel releases when the process dies.
"""

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, func, select

#: Held by every classification run: runs write the same rows, one at a time.
RUN_LOCK = "classification-run"
#: Held by the active ``custclass scheduler``; the others wait as stand-bys.
SCHEDULER_LOCK = "scheduler"


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(f"custclass:{name}".encode()).digest()[:8],
                          "big", signed=True)


@contextmanager
def exclusive(engine: Engine, name: str, *, wait: bool = True) -> Iterator[bool]:
    """Hold the lock ``name`` for the block; yields whether it was taken (always True
    when ``wait``: it waits until the holder releases it)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            key = lock_key(name)
            if wait:
                conn.execute(select(func.pg_advisory_lock(key)))
                taken = True
            else:
                taken = bool(conn.scalar(select(func.pg_try_advisory_lock(key))))
            try:
                yield taken
            finally:
                if taken:
                    conn.execute(select(func.pg_advisory_unlock(key)))
        return
    with _lock_file(engine, name).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            taken = True
        except BlockingIOError:
            taken = False
        try:
            yield taken
        finally:
            if taken:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _lock_file(engine: Engine, name: str) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise RuntimeError("locks need a SQLite database file (not an in-memory database)")
    return Path(f"{database}.{name}.lock")
