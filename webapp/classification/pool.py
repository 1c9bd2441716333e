"""Chunks of work in spawned worker processes, each with its own database connection.

What the workers share (``context``) goes through a temporary file: as spawn arguments
it would fill a pipe the parent keeps open, and a worker dying before reading it would
hang the caller for ever. A worker dies with its parent (``PR_SET_PDEATHSIG``): a killed
run leaves no orphan still writing while the next run starts.
"""

import ctypes
import multiprocessing
import os
import pickle
import signal
import tempfile
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import IO, Any, TypeVar

from sqlalchemy import Engine, create_engine

from webapp.classification.facts import CustomerChunk
from webapp.config import engine_options

_PR_SET_PDEATHSIG = 1

Context = TypeVar("Context")
State = TypeVar("State")
Result = TypeVar("Result")


def in_workers(database_url: str, context: Context, prepare: Callable[[Context], State],
               work: Callable[[State, Engine, CustomerChunk], Result],
               chunks: Sequence[CustomerChunk], processes: int) -> Iterator[Result]:
    """``work(prepare(context), engine, chunk)`` for every chunk, in ``processes`` spawned
    workers (``prepare`` runs once per worker); results in the order of ``chunks``, with
    at most two chunks per worker in flight. ``prepare`` and ``work`` are module-level
    functions (they are sent by name)."""
    with tempfile.NamedTemporaryFile(prefix="custclass-work-") as shared, \
            ProcessPoolExecutor(max_workers=processes, initializer=_start_worker,
                                initargs=(_shared(shared, (database_url, context, prepare,
                                                           work)), os.getpid()),
                                mp_context=multiprocessing.get_context("spawn")) as pool:
        pending: deque[Future[Result]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(_run_chunk, chunk))
            if len(pending) > 2 * processes:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


_worker: tuple[Any, Engine, Callable[..., Any]] | None = None


def _shared(handle: IO[bytes], shared: tuple[Any, ...]) -> str:
    pickle.dump(shared, handle)
    handle.flush()
    return handle.name


def _start_worker(shared_file: str, parent: int) -> None:
    global _worker
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)
    with open(shared_file, "rb") as handle:
        database_url, context, prepare, work = pickle.load(handle)
    _worker = prepare(context), create_engine(database_url, **engine_options(database_url)), \
        work


def _run_chunk(chunk: CustomerChunk) -> Any:
    assert _worker is not None, "worker started without its context"
    state, engine, work = _worker
    return work(state, engine, chunk)
