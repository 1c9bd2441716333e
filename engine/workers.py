"""Evaluating on several cores: a pool of *spawned* worker processes per program.

durable-rules does not release the GIL, loses actions when threads share a session, and
a forked child inherits engine state without the threads behind it; so workers are
separate processes started with ``spawn``, each with its own handles. A pool belongs to
one :class:`~engine.evaluate.Program`: publishing a new ruleset version means a new
program and a new pool (the engine cannot unload a ruleset's memory), and the old pool is
closed.
"""

import collections
import multiprocessing
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date
from typing import Any

from engine.evaluate import Column, Program, evaluate_columns, to_columns
from engine.results import RecordResult, Results

_program: Program | None = None


def _start_worker(program: Program) -> None:
    global _program
    _program = program


def _evaluate_in_worker(keys: list[Any], columns: dict[str, Column],
                        as_of: date) -> Results:
    assert _program is not None, "worker started without a program"
    return evaluate_columns(_program, keys, columns, as_of)


class ParallelEvaluator:
    """``evaluate_batch`` spread over ``processes`` spawned workers.

    Use as a context manager, or call :meth:`close`. ``processes=0`` evaluates in the
    calling process (same results, no pool).
    """

    def __init__(self, program: Program, processes: int = 2, chunk: int = 5000) -> None:
        self.program = program
        self.chunk = chunk
        #: Chunks handed to the pool beyond those whose results are awaited: enough to
        #: keep every worker busy, few enough to bound the memory of a long run.
        self.ahead = 2 * processes
        self._pool = None
        if processes:
            self._pool = ProcessPoolExecutor(
                max_workers=processes, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker, initargs=(program,))

    def evaluate(self, records: Sequence[Mapping[str, Any]], as_of: date,
                 key: str = "key") -> list[RecordResult]:
        """Results for ``records``, in order."""
        return [result for part in self.evaluate_chunks(records, as_of, key)
                for result in part]

    def evaluate_chunks(self, records: Sequence[Mapping[str, Any]], as_of: date,
                        key: str = "key") -> Iterator[Results]:
        """Results chunk by chunk, in order, while later chunks are still running."""
        # By column: a tenth of the pickling that records as dicts would cost.
        chunks = (([record.get(key) for record in chunk], to_columns(self.program, chunk))
                  for chunk in (records[start:start + self.chunk]
                                for start in range(0, len(records), self.chunk)))
        if self._pool is None:
            for keys, columns in chunks:
                yield evaluate_columns(self.program, keys, columns, as_of)
            return
        submitted: collections.deque[Future[Results]] = collections.deque()
        for keys, columns in chunks:
            submitted.append(self._pool.submit(_evaluate_in_worker, keys, columns, as_of))
            if len(submitted) > self.ahead:
                yield submitted.popleft().result()
        while submitted:
            yield submitted.popleft().result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __enter__(self) -> "ParallelEvaluator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
