"""Classifying customers and their lines: facts in SQL, rules in the engine, results stored.

Rulesets run in three stages because they decide for two subjects: the line rulesets that
need nothing from customers (attribution), then the customer rulesets (which read the
main line's community), then the line rulesets that read customer outputs. Customers are
processed in id ranges, so a customer and all its lines are always in the same batch.
"""

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, Row, func, select

from engine.catalog import Subject
from engine.due import DueDates
from engine.evaluate import Program
from engine.language import Ruleset
from engine.program import build_program
from engine.results import RecordResult
from engine.workers import ParallelEvaluator
from webapp.classification.facts import CustomerChunk, load_subscriber_facts
from webapp.classification.groups import group_types
from webapp.classification.reference import RunReference, customer_facts
from webapp.models import Customer

#: Customers per chunk (and transaction) of a run.
CHUNK = 2000
#: Examples of records not decided that a run keeps.
EXAMPLES = 10


@dataclass
class RunSummary:
    customers: int = 0
    subscribers: int = 0
    #: Values written because they changed (decisions, alerts raised or cleared).
    changes: Counter = field(default_factory=Counter)
    #: Records a ruleset could not decide, by ruleset, and a few examples.
    errors: Counter = field(default_factory=Counter)
    error_examples: list[str] = field(default_factory=list)

    def add(self, other: "RunSummary") -> None:
        self.customers += other.customers
        self.subscribers += other.subscribers
        self.changes.update(other.changes)
        self.errors.update(other.errors)
        self.error_examples.extend(other.error_examples[:EXAMPLES - len(self.error_examples)])

    def count(self, batch: "Evaluated") -> None:
        """Count a batch's records and the errors of its results."""
        for result in (*batch.line_results, *batch.customer_results):
            for ruleset, reason in result.errors.items():
                self.errors[ruleset] += 1
                if len(self.error_examples) < EXAMPLES:
                    self.error_examples.append(f"{ruleset} #{result.key}: {reason}")
        self.customers += len(batch.customers)
        self.subscribers += len(batch.lines)


@dataclass(frozen=True)
class Plan:
    """What a run evaluates with: the programs of the three stages, and when records fall
    due again because of the date alone."""

    programs: tuple[Program, Program, Program]
    line_due: DueDates
    customer_due: DueDates

    @classmethod
    def of(cls, rulesets: Sequence[Ruleset]) -> "Plan":
        return cls(stages(rulesets), DueDates.of(rulesets, Subject.SUBSCRIBER),
                   DueDates.of(rulesets, Subject.CUSTOMER))

    def evaluators(self) -> list[ParallelEvaluator]:
        """In-process evaluators of the stages: a run spreads chunks over processes,
        not the stages of one chunk."""
        return [ParallelEvaluator(program, 0) for program in self.programs]


def stages(rulesets: Sequence[Ruleset]) -> tuple[Program, Program, Program]:
    """Line rulesets before customers, customer rulesets, line rulesets after them (which
    read what the earlier stages decided)."""
    outputs = {ruleset.name: ruleset.output for ruleset in rulesets}
    before, customers, after = (build_program(stage, other_outputs=outputs)
                                for stage in stage_rulesets(rulesets))
    return before, customers, after


def stage_rulesets(rulesets: Sequence[Ruleset]
                   ) -> tuple[list[Ruleset], list[Ruleset], list[Ruleset]]:
    """The rulesets of each of the three stages."""
    by_name = {ruleset.name: ruleset for ruleset in rulesets}

    def after_customers(ruleset: Ruleset) -> bool:
        return any(by_name[name].subject is Subject.CUSTOMER or after_customers(by_name[name])
                   for name in ruleset.depends_on if name in by_name)

    lines = [r for r in rulesets if r.subject is Subject.SUBSCRIBER]
    before = [r for r in lines if not after_customers(r)]
    customers = [r for r in rulesets if r.subject is Subject.CUSTOMER]
    return before, customers, [r for r in lines if r not in before]


def all_customers(conn: Connection, size: int = CHUNK) -> Iterator[CustomerChunk]:
    """Every customer, in id ranges of ``size`` ids."""
    low, high = conn.execute(select(func.min(Customer.id), func.max(Customer.id))).one()
    for start in range(low or 0, (high or -1) + 1, size):
        yield CustomerChunk(start, start + size - 1)


@dataclass
class Evaluated:
    """One batch: the customers and lines with their facts and results, in order, and
    the *settled* lines its customers' facts also read (not evaluated again:
    :mod:`webapp.classification.partial`)."""

    customers: list[dict[str, Any]]
    customer_results: list[RecordResult]
    lines: list[dict[str, Any]]
    line_results: list[RecordResult]
    settled: list[dict[str, Any]] = field(default_factory=list)

    def line_due_dates(self, plan: Plan, as_of: date) -> dict[int, date | None]:
        """Line id → the first date on which time alone may change one of its outcomes:
        computed for the lines evaluated, as their last evaluation left it for the
        settled ones."""
        due = {line["key"]: plan.line_due.next_due(line, as_of) for line in self.lines}
        due.update((line["key"], line["due_on"]) for line in self.settled)
        return due

    def due_dates(self, plan: Plan, as_of: date) -> dict[int, date | None]:
        """Customer id → the first date on which the customer or a line of it is due."""
        due = {customer["key"]: plan.customer_due.next_due(customer, as_of)
               for customer in self.customers}
        line_due = self.line_due_dates(plan, as_of)
        for line in (*self.lines, *self.settled):
            day = line_due[line["key"]]
            current = due.get(line["customer_id"])
            if day is not None and (current is None or day < current):
                due[line["customer_id"]] = day
        return due

    def without(self, customers: set[int]) -> "Evaluated":
        """This batch less ``customers`` and their lines."""
        kept = [(record, result) for record, result
                in zip(self.customers, self.customer_results, strict=True)
                if record["key"] not in customers]
        lines = [(line, result) for line, result in zip(self.lines, self.line_results, strict=True)
                 if line["customer_id"] not in customers]
        return Evaluated([record for record, _ in kept], [result for _, result in kept],
                         [line for line, _ in lines], [result for _, result in lines],
                         [line for line in self.settled if line["customer_id"] not in customers])

    def plus(self, other: "Evaluated") -> "Evaluated":
        return Evaluated(self.customers + other.customers,
                         self.customer_results + other.customer_results,
                         self.lines + other.lines, self.line_results + other.line_results,
                         self.settled + other.settled)


def evaluate_range(conn: Connection, reference: RunReference,
                   evaluators: Sequence[ParallelEvaluator], chunk: CustomerChunk) -> Evaluated:
    """Facts and results of the customers of ``chunk`` and their lines."""
    return evaluate_loaded(reference, evaluators,
                           load_subscriber_facts(conn, reference.as_of, chunk),
                           customer_rows(conn, chunk))


def customer_rows(conn: Connection, chunk: CustomerChunk) -> Sequence[Row[Any]]:
    """The customer columns :func:`customer_facts` reads, for ``chunk``, by id
    (``group_types``: the type codes of the customer's groups, joined by commas in any
    order, repeats included; None when in no group)."""
    groups = group_types(chunk)
    return conn.execute(select(Customer.id, Customer.code, Customer.name, Customer.vip_card,
                               Customer.key_account_code, groups.c.group_types)
                        .outerjoin(groups, groups.c.customer_id == Customer.id)
                        .where(chunk.where(Customer.id)).order_by(Customer.id)).all()


def evaluate_loaded(reference: RunReference, evaluators: Sequence[ParallelEvaluator],
                    lines: list[dict[str, Any]], customers: Sequence[Row[Any]],
                    settled: Sequence[dict[str, Any]] = ()) -> Evaluated:
    """The three stages over lines' facts already loaded (they get their outputs added)
    and their customers' rows; the customers' facts also read their ``settled`` lines
    (:func:`webapp.classification.facts.settled_line`), which are not evaluated."""
    as_of = reference.as_of
    first, for_customers, last = evaluators
    line_results = first.evaluate(lines, as_of)
    by_customer: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for line, result in zip(lines, line_results, strict=True):
        line.update({output: decision.value for output, decision in result.decisions.items()})
        by_customer[line["customer_id"]].append(line)
    for line in settled:
        by_customer[line["customer_id"]].append(line)
    records = [customer_facts(row, by_customer[row.id], reference) for row in customers]
    customer_results = for_customers.evaluate(records, as_of)
    decided = {record["key"]: result.decisions
               for record, result in zip(records, customer_results, strict=True)}
    for line in lines:
        line.update({output: decision.value for output, decision
                     in decided.get(line["customer_id"], {}).items()})
    for result, later in zip(line_results, last.evaluate(lines, as_of), strict=True):
        result.decisions.update(later.decisions)
        result.alerts.extend(later.alerts)
        result.errors.update(later.errors)
    return Evaluated(records, customer_results, lines, line_results, list(settled))
