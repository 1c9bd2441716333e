"""Running a classification chunk by chunk, in this process or in worker processes.

Each chunk is classified whole where it runs: facts loaded, the three stages evaluated
(:func:`engine.evaluate.evaluate_batch`, pure), what changed stored with its log rows,
the chunk taken off the queue, all in one transaction. With ``processes`` > 0 each of
that many spawned workers does this with its own database connection, so the SQL, the
fact building and the storing use every core, not only the evaluation. Chunks hold
disjoint customers; their transactions meet only at the end of the adjustment log's
chain (one row, locked from the append to the commit) and, on SQLite, at its single
writer.

A worker dies with the run's process (:mod:`webapp.classification.pool`): a killed run
leaves no orphan still writing while the next run starts; the chunk it was writing rolls
back.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from engine.language import Ruleset
from webapp.classification.facts import CustomerChunk
from webapp.classification.partial import evaluate_chunk, store_left
from webapp.classification.pool import in_workers
from webapp.classification.reference import RunReference
from webapp.classification.results import mark_evaluated, store_results
from webapp.classification.run import Plan, RunSummary, all_customers
from webapp.models.changes import take_off


@dataclass(frozen=True)
class RunContext:
    """What every chunk of a run shares (sent once to each worker)."""

    database_url: str
    rulesets: tuple[Ruleset, ...]
    reference: RunReference
    now: datetime
    run_id: int
    #: Queue entries up to this time are taken off for the customers a chunk evaluated.
    dequeue_until: datetime


class ChunkClassifier:
    """Classifies chunks with a run's rulesets (compiled once)."""

    def __init__(self, context: RunContext) -> None:
        self.context = context
        self.plan = Plan.of(context.rulesets)
        self.evaluators = self.plan.evaluators()

    def classify(self, conn: Connection, chunk: CustomerChunk) -> RunSummary:
        """Classify ``chunk`` and store the outcome in ``conn``'s transaction (the caller
        commits)."""
        context, summary = self.context, RunSummary()
        reference = context.reference
        batch = evaluate_chunk(conn, reference, self.evaluators, chunk)
        summary.count(batch)
        summary.changes.update(store_results(conn, batch.customer_results, batch.line_results,
                                             context.now, context.run_id))
        store_left(conn, batch, self.plan, reference)
        mark_evaluated(conn, chunk.where, context.now)
        take_off(conn, chunk.where, context.dequeue_until)
        return summary


def classify(session: Session, rulesets: Sequence[Ruleset], reference: RunReference,
             now: datetime, run_id: int, *, chunks: Iterable[CustomerChunk] | None = None,
             processes: int = 0, dequeue_until: datetime | None = None) -> RunSummary:
    """Classify the customers of ``chunks`` (default: all) and their lines with
    ``rulesets`` (the live ones); store what changed, one transaction per chunk."""
    conn = session.connection()
    context = RunContext(
        database_url=session.get_bind().url.render_as_string(hide_password=False),
        rulesets=tuple(rulesets), reference=reference, now=now, run_id=run_id,
        dequeue_until=dequeue_until or now)
    work = list(all_customers(conn) if chunks is None else chunks)
    session.commit()
    summary = RunSummary()
    processes = min(processes, len(work)) if len(work) > 1 else 0  # a worker starts in ~1 s
    if not processes:
        classifier = ChunkClassifier(context)
        for chunk in work:
            summary.add(classifier.classify(session.connection(), chunk))
            session.commit()
        return summary
    for part in in_workers(context.database_url, context, ChunkClassifier, _classify_chunk,
                           work, processes):
        summary.add(part)
    return summary


def _classify_chunk(classifier: ChunkClassifier, engine: Engine,
                    chunk: CustomerChunk) -> RunSummary:
    with engine.begin() as conn:
        return classifier.classify(conn, chunk)
