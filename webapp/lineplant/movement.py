"""The preview of a batch of mapping changes: how many lines and customers would move.

The batch is written inside a savepoint, the affected lines' facts are read back as a run
reads them (:func:`webapp.classification.facts.load_subscriber_facts`) and the published
community ruleset evaluates them; then the savepoint is rolled back. So the count follows
the analysts' published attribution rules (box, else segment, else the unassigned
community, by default), not a copy of them. A line moves when its community would differ
from its current one; a pinned line keeps its pin and is counted apart when the rules'
opinion on it would change.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.catalog import Subject
from engine.domain import ClassifiedAttribute, DecisionSource
from engine.evaluate import Program, evaluate_batch
from engine.language import Ruleset
from engine.program import build_program
from webapp.classification.facts import CustomerChunk, load_subscriber_facts
from webapp.lineplant.changes import Resolved, affected_lines, write_mappings
from webapp.models import Subscriber, SubscriberDecision
from webapp.rulesets.store import live_rulesets

#: Customers whose facts one query loads.
CUSTOMERS_PER_QUERY = 500


class PreviewUnavailableError(RuntimeError):
    """No published ruleset decides the community: nothing can be predicted."""


@dataclass(frozen=True)
class Movement:
    #: Lines whose facts change (all of them are queued for the next run).
    affected: int
    #: Lines whose community would change, and their customers.
    subscribers: int
    customers: int
    #: Pinned lines the rules would move: they stay where the pin keeps them.
    pinned: int


def attribution_program(rulesets: Sequence[Ruleset]) -> Program:
    """The published line ruleset deciding the community, with the line rulesets it
    depends on."""
    lines = {ruleset.name: ruleset for ruleset in rulesets
             if ruleset.subject is Subject.SUBSCRIBER}
    deciding = [ruleset for ruleset in lines.values()
                if ruleset.output == ClassifiedAttribute.COMMUNITY.value]
    if not deciding:
        raise PreviewUnavailableError("no published ruleset decides the community")
    wanted: dict[str, Ruleset] = {}
    pending = list(deciding)
    while pending:
        ruleset = pending.pop()
        if ruleset.name in wanted:
            continue
        wanted[ruleset.name] = ruleset
        for name in ruleset.depends_on:
            if name not in lines:
                raise PreviewUnavailableError(
                    f"the community ruleset depends on {name}, which is not a line ruleset")
            pending.append(lines[name])
    return build_program(list(wanted.values()))


def preview(session: Session, changes: Sequence[Resolved], as_of: date) -> Movement:
    """What applying ``changes`` would move, the database left as it was."""
    conn = session.connection()
    program = attribution_program(live_rulesets(session))
    effective = [change for change in changes if change.changes_anything]
    lines: dict[int, int] = {}
    for query in affected_lines(effective):
        lines.update(conn.execute(query.add_columns(Subscriber.customer_id)).all())
    current = _current(session, list(lines))
    savepoint = conn.begin_nested()
    try:
        write_mappings(conn, effective)
        customers = sorted(set(lines.values()))
        decided: dict[int, str | None] = {}
        for start in range(0, len(customers), CUSTOMERS_PER_QUERY):
            chunk = CustomerChunk.of(customers[start:start + CUSTOMERS_PER_QUERY])
            records = [record for record in load_subscriber_facts(conn, as_of, chunk)
                       if record["key"] in lines]
            for result in evaluate_batch(program, records, as_of):
                decision = result.decisions.get(ClassifiedAttribute.COMMUNITY.value)
                decided[result.key] = None if decision is None else decision.value
    finally:
        savepoint.rollback()
    moving, pinned = set(), 0
    for line, new in decided.items():
        value, source, rule_value = current.get(line, (None, None, None))
        if source == DecisionSource.PIN:
            pinned += rule_value != new
        elif value != new:
            moving.add(line)
    return Movement(len(lines), len(moving), len({lines[line] for line in moving}), pinned)


def _current(session: Session, ids: list[int]
             ) -> dict[int, tuple[str, DecisionSource, str | None]]:
    """Each line's current community, its source and (pinned) the rules' value."""
    found = {}
    for start in range(0, len(ids), CUSTOMERS_PER_QUERY):
        found.update((row[0], tuple(row[1:])) for row in session.execute(
            select(SubscriberDecision.subscriber_id, SubscriberDecision.value,
                   SubscriberDecision.source, SubscriberDecision.rule_value)
            .where(SubscriberDecision.attribute == ClassifiedAttribute.COMMUNITY,
                   SubscriberDecision.subscriber_id.in_(ids[start:start + CUSTOMERS_PER_QUERY]))))
    return found
