"""Starting, recording and finishing a classification run.

Kinds: *full* and *published* evaluate every customer (a *published* run after new
ruleset versions; both record that the versions live at their start were evaluated),
*changed* the customers of the queue, *due* those whose outcome may change with the date
alone (:mod:`engine.due`) and the queue.

Runs take turns: each holds the run lock (:mod:`webapp.pipeline.locks`) from start to
end. A run is recorded before it starts (its id is the ``system`` actor of every log row
it writes) and updated when it ends. A run left ``running`` by a process that died
(killed, crashed) is marked ``interrupted`` by the next run, which also finishes its
work: results are stored per chunk and already-stored values are not written again, so
nothing is lost or doubled.
"""

import os
import socket
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from engine.domain import RunKind, RunStatus
from engine.language import Ruleset
from webapp.classification.facts import CustomerChunk
from webapp.classification.reference import (
    Cutoffs,
    RunReference,
    current_totals,
    load_reference,
    percentile_boundaries,
    reads_percentile,
    revenue_totals,
    shifted_customers,
)
from webapp.classification.run import CHUNK, RunSummary
from webapp.classification.workers import classify
from webapp.models import ClassificationRun, RulesetVersion
from webapp.pipeline import queue
from webapp.pipeline.adjust import release_expired
from webapp.pipeline.locks import RUN_LOCK, exclusive
from webapp.rulesets.store import live_rulesets


class RunBusyError(RuntimeError):
    """Another run holds the run lock (raised when not waiting for it)."""


def reclassify(session: Session, kind: RunKind, as_of: date, *, processes: int = 0,
               wait: bool = True, on_start: Callable[[int], None] | None = None
               ) -> ClassificationRun:
    """Run ``kind`` now, after any run in progress (or, unless ``wait``, raise
    :class:`RunBusyError` when one is); returns its finished (or failed) record.
    ``on_start(run_id)`` is called once the run is recorded, before its work."""
    with exclusive(session.get_bind(), RUN_LOCK, wait=wait) as taken:
        if not taken:
            raise RunBusyError("a classification run is in progress")
        return _run(session, kind, as_of, processes, on_start)


def _run(session: Session, kind: RunKind, as_of: date, processes: int,
         on_start: Callable[[int], None] | None) -> ClassificationRun:
    mark_interrupted(session)
    started = datetime.now(UTC)
    run = ClassificationRun(kind=kind, status=RunStatus.RUNNING, as_of=as_of,
                            started_at=started, host=socket.gethostname(), pid=os.getpid(),
                            customers=0, subscribers=0, changes={}, errors={})
    session.add(run)
    session.commit()
    try:
        if on_start is not None:
            on_start(run.id)
        released = release_expired(session, started, run.id)
        conn = session.connection()
        published = unevaluated_versions(conn)
        rulesets = live_rulesets(session)
        queued = _queued(conn, kind, as_of, started)
        reference, cutoffs, shifted = _reference(conn, rulesets, as_of, queued)
        # Until a published run has evaluated new versions, what earlier evaluations
        # left is of other rules: incremental runs evaluate their customers whole.
        summary = classify(session, rulesets, reference, started, run.id, processes=processes,
                           chunks=_work(queued, shifted, None if published else started),
                           dequeue_until=started)
        summary.changes["pins released"] += released
        run.percentile_cutoffs = cutoffs
        if kind in (RunKind.FULL, RunKind.PUBLISHED) and published:
            session.execute(update(RulesetVersion).where(RulesetVersion.id.in_(published))
                            .values(reevaluated_run_id=run.id))
    except BaseException as error:
        session.rollback()
        _finish(session, run, RunStatus.FAILED, None, f"{type(error).__name__}: {error}")
        raise
    _finish(session, run, RunStatus.FINISHED, summary)
    return run


def _reference(conn: Connection, rulesets: list[Ruleset], as_of: date,
               queued: set[int] | None) -> tuple[RunReference, Cutoffs, list[int]]:
    """The run's reference data, its percentile cutoffs, and the customers whose revenue
    percentile may compare otherwise with the rules' constants than at their last
    evaluation: the population it ranks in moved across a cutoff since the last finished
    run (their own data did not change, so nothing queued them). The population's
    totals are summed again for the ``queued`` customers only (None: for everyone)."""
    if not reads_percentile(rulesets):
        return load_reference(conn, as_of, percentiles=False), None, []
    totals = revenue_totals(conn, as_of) if queued is None \
        else current_totals(conn, as_of, queued)
    reference = load_reference(conn, as_of, totals=totals)
    cutoffs = reference.cutoffs(percentile_boundaries(rulesets))
    last = conn.scalar(select(ClassificationRun.percentile_cutoffs)
                       .where(ClassificationRun.status == RunStatus.FINISHED,
                              ClassificationRun.percentile_cutoffs.is_not(None))
                       .order_by(ClassificationRun.id.desc()).limit(1))
    if last is None:
        return reference, cutoffs, []
    shifted = shifted_customers(((customer, total) for customer, total, _ in totals),
                                last, cutoffs)
    return reference, cutoffs, shifted


def _queued(conn: Connection, kind: RunKind, as_of: date, started: datetime
            ) -> set[int] | None:
    """The customers a run of ``kind`` evaluates because of their data or the date
    (None: every customer)."""
    if kind in (RunKind.FULL, RunKind.PUBLISHED):
        return None
    ids = set(queue.queued_customers(conn, started))
    if kind is RunKind.DUE:
        ids.update(queue.due_customers(conn, as_of))
    return ids


def _work(queued: set[int] | None, shifted: list[int], queued_until: datetime | None
          ) -> Iterable[CustomerChunk] | None:
    """The chunks a run evaluates (None: every customer), the queue's snapshot in each
    (``queued_until``: see :class:`CustomerChunk`)."""
    if queued is None:
        return None
    return queue.chunks(sorted(queued.union(shifted)), CHUNK, queued_until)


def unevaluated_versions(conn: Connection) -> list[int]:
    """Published ruleset versions no run has yet evaluated every customer with."""
    return list(conn.scalars(select(RulesetVersion.id).where(
        RulesetVersion.published_at.is_not(None), RulesetVersion.reevaluated_run_id.is_(None))))


def _finish(session: Session, run: ClassificationRun, status: RunStatus,
            summary: RunSummary | None, detail: str | None = None) -> None:
    run.status, run.finished_at, run.detail = status, datetime.now(UTC), detail
    if summary is not None:
        run.customers, run.subscribers = summary.customers, summary.subscribers
        run.changes = dict(summary.changes)
        run.errors = {"by_ruleset": dict(summary.errors), "examples": summary.error_examples}
    session.commit()


def mark_interrupted(session: Session) -> int:
    """Mark the runs left ``running`` as interrupted; returns how many.

    Call it holding the run lock: a live run holds it too, so any other run still marked
    ``running`` belongs to a process that ended without finishing (killed, crashed, or
    on a machine that went down: the database released its lock).
    """
    stale = session.scalars(select(ClassificationRun).where(
        ClassificationRun.status == RunStatus.RUNNING)).all()
    for run in stale:
        run.status, run.detail = RunStatus.INTERRUPTED, "its process ended without finishing"
    session.commit()
    return len(stale)
