"""Evaluating a customer again from only its changed lines.

A changed line's customer is evaluated again: its facts sum its lines. Its other lines
did not change, and nothing that moves with the date is due for them (a due customer is
evaluated whole), so their own outcomes are those their last evaluation gave — unless
the customer's outcomes, which the last stage reads, changed. An incremental run
therefore evaluates such a customer from its changed lines (all three stages) and its
*settled* lines as their last evaluation left them: their own fields, read as they are
(they did not change), and the community their rules gave, their due date and their
revenue sums, kept per line (a big customer's year of monthly rows is not summed again).
When the customer rulesets' outcomes differ from those of its last evaluation (a digest
kept per customer), the settled lines' last stage could differ too: the customer is then
evaluated again whole, in the same chunk. Either way the stored result is exactly what a
whole evaluation gives (``tests/test_incremental.py`` holds runs to it).

A customer is evaluated whole when it was never evaluated since these were kept, when a
settled line's sums are of another month's year (or were never kept), when it is queued
itself (its own fields, groups or org unit changed), or due by date.
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Connection, Exists, and_, exists, or_, select

from engine.results import RecordResult
from engine.workers import ParallelEvaluator
from webapp.classification.facts import (
    CustomerChunk,
    kept_figures,
    load_line_facts,
    load_settled_lines,
    load_subscriber_facts,
    report_month,
)
from webapp.classification.reference import RunReference
from webapp.classification.results import store_changed
from webapp.classification.run import Evaluated, Plan, customer_rows, evaluate_loaded
from webapp.models import Customer, PendingChange, Subscriber


def outputs_digest(result: RecordResult) -> str:
    """What the lines' last stage reads of a customer's outcomes, as a short text."""
    outputs = {output: str(decision.value) for output, decision in result.decisions.items()}
    return hashlib.sha256(json.dumps(outputs, sort_keys=True).encode()).hexdigest()


def evaluate_chunk(conn: Connection, reference: RunReference,
                   evaluators: Sequence[ParallelEvaluator], chunk: CustomerChunk) -> Evaluated:
    """Facts and results of the customers of ``chunk``: those :func:`partial_customers`
    finds from their changed lines (and settled ones), the others whole."""
    as_of = reference.as_of
    customers = customer_rows(conn, chunk)
    digests = partial_customers(conn, chunk, as_of)
    if not digests:
        return evaluate_loaded(reference, evaluators,
                               load_subscriber_facts(conn, as_of, chunk), customers)
    partial = sorted(digests)
    changed = list(conn.scalars(select(Subscriber.id).where(
        Subscriber.customer_id.in_(partial), _queued_line(chunk))))
    # Two plain lookups (by customer, by line): one condition joining them with OR makes
    # PostgreSQL sum every line's year of monthly rows.
    whole = [row.id for row in customers if row.id not in digests]
    lines = [*(load_line_facts(conn, as_of, Subscriber.customer_id.in_(whole)) if whole else ()),
             *(load_line_facts(conn, as_of, Subscriber.id.in_(changed)) if changed else ())]
    batch = evaluate_loaded(
        reference, evaluators, lines, customers,
        load_settled_lines(conn, as_of, and_(Subscriber.customer_id.in_(partial),
                                             Subscriber.id.not_in(changed))))
    moved = {record["key"] for record, result
             in zip(batch.customers, batch.customer_results, strict=True)
             if record["key"] in digests and outputs_digest(result) != digests[record["key"]]}
    if not moved:
        return batch
    return batch.without(moved).plus(evaluate_loaded(
        reference, evaluators, load_subscriber_facts(conn, as_of, CustomerChunk.of(sorted(moved))),
        [row for row in customers if row.id in moved]))


def partial_customers(conn: Connection, chunk: CustomerChunk, as_of: date
                      ) -> dict[int, str]:
    """The customers of ``chunk`` that may be evaluated from their changed lines, with
    the digest of their outcomes at their last evaluation (none without
    ``chunk.queued_until``: a full run evaluates everyone whole)."""
    if chunk.queued_until is None:
        return {}
    itself = exists().where(PendingChange.subject == "customer",
                            PendingChange.subject_id == Customer.id,
                            PendingChange.changed_at <= chunk.queued_until)
    month = report_month(as_of)
    unkept = exists().where(Subscriber.customer_id == Customer.id, ~_queued_line(chunk),
                            or_(Subscriber.revenue_month.is_(None),
                                Subscriber.revenue_month != month))
    return dict(conn.execute(
        select(Customer.id, Customer.outputs_digest)
        .where(chunk.where(Customer.id), Customer.outputs_digest.is_not(None),
               or_(Customer.due_on.is_(None), Customer.due_on > as_of), ~itself, ~unkept)
    ).all())


def _queued_line(chunk: CustomerChunk) -> Exists:
    """SQL: the line is queued up to the chunk's snapshot."""
    return exists().where(PendingChange.subject == "subscriber",
                          PendingChange.subject_id == Subscriber.id,
                          PendingChange.changed_at <= chunk.queued_until)


def store_left(conn: Connection, batch: Evaluated, plan: Plan, reference: RunReference
               ) -> None:
    """Keep what the next evaluation reads of this one, where it changed: each
    customer's due date, outcome digest and 12-month revenue, each evaluated line's
    community (as its rules gave it), due date and revenue sums."""
    as_of = reference.as_of
    line_due = batch.line_due_dates(plan, as_of)
    month = reference.window.this
    store_changed(conn, Subscriber, {
        line["key"]: {"rule_community": line.get("community"), "due_on": line_due[line["key"]],
                      "revenue_month": month, **kept_figures(line)}
        for line in batch.lines})
    due = batch.due_dates(plan, as_of)
    store_changed(conn, Customer, {
        record["key"]: {"due_on": due[record["key"]], "outputs_digest": outputs_digest(result),
                        "revenue_12m_cents": record["rev_12"],
                        "revenue_month": month}
        for record, result in zip(batch.customers, batch.customer_results, strict=True)})
