"""Impact preview: what publishing a draft would change, computed before it is published.

:func:`preview_impact` evaluates every customer and line twice, with the published
rulesets and with the candidate ones (the published list with the draft in place of its
ruleset), and compares the outcomes: values that change per output, alerts raised and
cleared, records that can no longer be decided, and a sample of affected customers with
the rules behind their old and new values. It compares the rules with the rules, so a
pinned value shows as changing when the rules' opinion of it changes. Nothing is
written.

Each chunk is evaluated with the published rulesets as a run would
(:func:`webapp.classification.run.evaluate_range`); the candidate side starts from those
outcomes on the same records, so a change of the data while the preview runs (an
import) cannot pass for an effect of the draft.
"""

import hashlib
import heapq
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, Row, func, select

from engine.catalog import Subject
from engine.language import Ruleset
from engine.program import build_program
from engine.results import Decision, RaisedAlert, RecordResult
from engine.workers import ParallelEvaluator
from webapp.classification.facts import CustomerChunk, load_subscriber_facts
from webapp.classification.pool import in_workers
from webapp.classification.reference import (
    RunReference,
    customer_facts,
    load_reference,
    reads_percentile,
)
from webapp.classification.run import (
    Evaluated,
    all_customers,
    customer_rows,
    evaluate_loaded,
    stage_rulesets,
    stages,
)
from webapp.models import Customer

#: Examples kept of the records a ruleset of the candidate cannot decide.
EXAMPLES = 5

#: (old value, new value); None where that side decided nothing.
Transition = tuple[str | None, str | None]


@dataclass
class OutputImpact:
    """How one output's values change."""

    #: ``customer`` or ``subscriber``.
    subject: str
    #: Records the published or the candidate rules decided this output for.
    evaluated: int = 0
    #: (old, new) → records, old ≠ new.
    transitions: Counter[Transition] = field(default_factory=Counter)


@dataclass
class RulesetErrors:
    """Records a ruleset cannot decide, under each side."""

    published: int = 0
    candidate: int = 0
    #: A few records only the candidate cannot decide, with the reason.
    examples: list[str] = field(default_factory=list)


@dataclass
class Change:
    """One value or alert of a sampled customer that changes, and why, before and after."""

    #: ``customer``, or ``line`` and the service number.
    subject: str
    #: The output, or ``alert`` and the alert type.
    output: str
    #: Values; for an alert its severity, None while it is not raised.
    old: str | None
    new: str | None
    old_why: str
    new_why: str


@dataclass
class SampledCustomer:
    id: int
    code: str
    name: str
    changes: list[Change]


@dataclass
class Impact:
    """What publishing the candidate would change (stored as JSON: :meth:`as_dict`)."""

    customers: int = 0
    subscribers: int = 0
    #: Customers with a changed value or alert, on the customer or on one of its lines.
    affected_customers: int = 0
    #: Output → its changes; only outputs with at least one.
    transitions: dict[str, OutputImpact] = field(default_factory=dict)
    #: Alert type → records on which the candidate raises it and the published rules do
    #: not, and the other way round.
    alerts_raised: Counter[str] = field(default_factory=Counter)
    alerts_cleared: Counter[str] = field(default_factory=Counter)
    #: Ruleset → records not decided; only rulesets with such records.
    errors: dict[str, RulesetErrors] = field(default_factory=dict)
    #: Up to ``sample_size`` affected customers, by id: those whose id hashes lowest.
    sample: list[SampledCustomer] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON types (transitions as [old, new, count] lists, most frequent first)."""
        return {
            "customers": self.customers, "subscribers": self.subscribers,
            "affected_customers": self.affected_customers,
            "transitions": {output: {"subject": item.subject, "evaluated": item.evaluated,
                                     "transitions": [[old, new, count] for (old, new), count
                                                     in item.transitions.most_common()]}
                            for output, item in self.transitions.items()},
            "alerts_raised": dict(self.alerts_raised),
            "alerts_cleared": dict(self.alerts_cleared),
            "errors": {name: asdict(errors) for name, errors in self.errors.items()},
            "sample": [asdict(customer) for customer in self.sample],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Impact":
        """The impact :meth:`as_dict` described."""
        return cls(
            customers=data["customers"], subscribers=data["subscribers"],
            affected_customers=data["affected_customers"],
            transitions={output: OutputImpact(item["subject"], item["evaluated"], Counter(
                             {(old, new): count for old, new, count in item["transitions"]}))
                         for output, item in data["transitions"].items()},
            alerts_raised=Counter(data["alerts_raised"]),
            alerts_cleared=Counter(data["alerts_cleared"]),
            errors={name: RulesetErrors(**errors) for name, errors in data["errors"].items()},
            sample=[SampledCustomer(customer["id"], customer["code"], customer["name"],
                                    [Change(**change) for change in customer["changes"]])
                    for customer in data["sample"]],
        )


def preview_impact(conn: Connection, published: Sequence[Ruleset],
                   candidate: Sequence[Ruleset], as_of: date,
                   progress: Callable[[int, int], None] | None = None,
                   sample_size: int = 20, processes: int = 0) -> Impact:
    """What replacing the ``published`` rulesets by ``candidate`` would change for every
    customer and line, evaluated for ``as_of``.

    ``progress(done, total)`` is called with the customers evaluated so far: (0, total)
    first, then after each chunk. ``sample_size`` affected customers are described change
    by change. With ``processes`` > 0 that many spawned workers take whole chunks (facts
    in SQL and evaluation), each with its own connection to ``conn``'s database.
    """
    percentiles = reads_percentile((*published, *candidate))
    context = PreviewContext(tuple(published), tuple(candidate),
                             load_reference(conn, as_of, percentiles=percentiles), sample_size)
    total = conn.scalar(select(func.count()).select_from(Customer)) or 0
    chunks = list(all_customers(conn))
    tally = _Tally(_Sample(sample_size, context.drafts))
    if progress:
        progress(0, total)
    if processes and len(chunks) > 1:
        url = conn.engine.url.render_as_string(hide_password=False)
        parts: Iterable[_Tally] = in_workers(url, context, _Previewer, _preview_chunk, chunks,
                                             min(processes, len(chunks)))
    else:
        previewer = _Previewer(context)
        parts = (previewer.tally(conn, chunk) for chunk in chunks)
    for part in parts:
        tally.merge(part)
        if progress:
            progress(tally.impact.customers, total)
    return tally.finish()


@dataclass(frozen=True)
class PreviewContext:
    """What every chunk of a preview shares (sent once to each worker)."""

    published: tuple[Ruleset, ...]
    candidate: tuple[Ruleset, ...]
    reference: RunReference
    sample_size: int

    @property
    def drafts(self) -> set[str]:
        return {ruleset.name for ruleset in self.candidate if ruleset not in self.published}


class _Previewer:
    """Compares the two sides chunk by chunk (the programs compiled once)."""

    def __init__(self, context: PreviewContext) -> None:
        self.context = context
        affected = _affected(context.candidate, context.drafts)
        outputs = {ruleset.name: ruleset.output for ruleset in context.candidate}
        self.old = [ParallelEvaluator(program, 0) for program in stages(context.published)]
        self.new = [ParallelEvaluator(build_program(
                        [r for r in rulesets if r.name in affected], other_outputs=outputs), 0)
                    for rulesets in stage_rulesets(context.candidate)]

    def tally(self, conn: Connection, chunk: CustomerChunk) -> "_Tally":
        """The impact on the customers of ``chunk`` and their lines."""
        reference = self.context.reference
        customers = customer_rows(conn, chunk)
        before = evaluate_loaded(reference, self.old,
                                 load_subscriber_facts(conn, reference.as_of, chunk), customers)
        tally = _Tally(_Sample(self.context.sample_size, self.context.drafts))
        tally.add(before, _reevaluate(reference, self.new, before, customers))
        return tally


def _preview_chunk(previewer: _Previewer, engine: Engine, chunk: CustomerChunk) -> "_Tally":
    with engine.connect() as conn:
        return previewer.tally(conn, chunk)


def _affected(candidate: Sequence[Ruleset], drafts: set[str]) -> set[str]:
    """The drafts and the rulesets that depend on them, directly or not: the only ones
    whose outcomes can differ from the published rules'. Customer facts are built from
    the lines' first-stage outputs (the main line's community), so a change there
    affects every customer ruleset."""
    affected = set(drafts)
    if affected & {ruleset.name for ruleset in stage_rulesets(candidate)[0]}:
        affected |= {ruleset.name for ruleset in candidate if ruleset.subject is Subject.CUSTOMER}
    while True:
        more = {ruleset.name for ruleset in candidate
                if ruleset.name not in affected and affected & set(ruleset.depends_on)}
        if not more:
            return affected
        affected |= more


def _reevaluate(reference: RunReference, evaluators: Sequence[ParallelEvaluator],
                published: Evaluated, customers: Sequence[Row[Any]]) -> Evaluated:
    """The candidate's outcomes: the published ones, with those of the affected rulesets
    (the only programs of ``evaluators``) evaluated again on the same records."""
    as_of = reference.as_of
    first, for_customers, last = evaluators
    lines = [dict(line) for line in published.lines]
    line_results = [_copy(result) for result in published.line_results]
    _override(first, lines, line_results, as_of)
    if first.program.rulesets:
        by_customer: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for line in lines:
            by_customer[line["customer_id"]].append(line)
        records = [customer_facts(row, by_customer[row.id], reference) for row in customers]
    else:
        records = [dict(record) for record in published.customers]
    customer_results = [_copy(result) for result in published.customer_results]
    _override(for_customers, records, customer_results, as_of)
    decided = {record["key"]: result.decisions
               for record, result in zip(records, customer_results, strict=True)}
    outputs = [ruleset.output for ruleset in for_customers.program.rulesets]
    for line in lines:
        decisions = decided.get(line["customer_id"], {})
        line.update({output: decisions[output].value if output in decisions else None
                     for output in outputs})
    _override(last, lines, line_results, as_of)
    return Evaluated(records, customer_results, lines, line_results)


def _copy(result: RecordResult) -> RecordResult:
    return RecordResult(result.key, dict(result.decisions), list(result.alerts),
                        dict(result.errors))


def _override(evaluator: ParallelEvaluator, records: list[dict[str, Any]],
              results: list[RecordResult], as_of: date) -> None:
    """Replace the outcomes of ``evaluator``'s rulesets in ``results`` (and their outputs
    in ``records``) by what they decide now."""
    rulesets = evaluator.program.rulesets
    if not rulesets or not records:
        return
    names = {ruleset.name for ruleset in rulesets}
    outputs = {ruleset.output for ruleset in rulesets}
    for record, result, fresh in zip(records, results, evaluator.evaluate(records, as_of),
                                     strict=True):
        for output in outputs:
            result.decisions.pop(output, None)
            record.pop(output, None)
        result.alerts = [alert for alert in result.alerts if alert.ruleset not in names]
        result.errors = {name: reason for name, reason in result.errors.items()
                         if name not in names}
        result.decisions.update(fresh.decisions)
        result.alerts.extend(fresh.alerts)
        result.errors.update(fresh.errors)
        record.update({output: decision.value for output, decision in fresh.decisions.items()})


class _Diff(NamedTuple):
    """One output or alert type of a record that differs between the two sides."""

    output: str
    old: Decision | RaisedAlert | None
    new: Decision | RaisedAlert | None


class _Sample:
    """The affected customers whose id hashes lowest. Not the first ones by id: ids follow
    the import order, so those would all come from the start of one feed; a hash spreads
    the sample through the whole population, is the same whatever the chunks, and stays
    stable from one preview to the next, so an analyst revising a draft meets the same
    customers again. Explanations are written only for customers that enter it."""

    def __init__(self, size: int, drafts: set[str]) -> None:
        self.size, self.drafts = size, drafts
        self._heap: list[tuple[int, int, SampledCustomer]] = []  # (-rank, id, customer)

    def offer(self, customer: dict[str, Any], diffs: list[tuple[str, _Diff]]) -> None:
        rank = int.from_bytes(hashlib.blake2b(str(customer["key"]).encode(),
                                              digest_size=8).digest())
        if self.size <= 0 or (len(self._heap) == self.size and -self._heap[0][0] <= rank):
            return
        changes = [Change(subject, diff.output, _value(diff.old), _value(diff.new),
                          _why(diff.output, diff.old, set()),
                          _why(diff.output, diff.new, self.drafts))
                   for subject, diff in diffs]
        entry = SampledCustomer(customer["key"], customer["customer_code"],
                                customer["customer_name"], changes)
        self._keep((-rank, entry.id, entry))

    def merge(self, other: "_Sample") -> None:
        for item in other._heap:
            self._keep(item)

    def _keep(self, item: tuple[int, int, SampledCustomer]) -> None:
        heapq.heappush(self._heap, item)
        if len(self._heap) > self.size:
            heapq.heappop(self._heap)

    def customers(self) -> list[SampledCustomer]:
        return sorted((entry for _, _, entry in self._heap), key=lambda entry: entry.id)


def _why(output: str, outcome: Decision | RaisedAlert | None, drafts: set[str]) -> str:
    """The rule (or default), ruleset version (marked when it is a draft's) and facts read,
    as :mod:`webapp.classification.explain` words them."""
    if outcome is None:
        return "not raised" if output.startswith("alert ") else "not decided"
    rule = "default" if outcome.rule_id == "default" else f"rule {outcome.rule_id}"
    draft = " (draft)" if outcome.ruleset in drafts else ""
    read = ", ".join(f"{name}={value or '(empty)'}" for name, value in outcome.facts.items())
    return f"{rule} of {outcome.ruleset} v{outcome.version}{draft}; " \
           f"{'read ' + read if read else 'read no facts'}"


def _value(outcome: Decision | RaisedAlert | None) -> str | None:
    if outcome is None:
        return None
    return outcome.severity if isinstance(outcome, RaisedAlert) else outcome.value


class _Tally:
    """The impact so far, chunk after chunk."""

    def __init__(self, sample: _Sample) -> None:
        self.impact = Impact()
        self.sample = sample
        self._outputs: dict[str, OutputImpact] = {}
        self._errors: dict[str, RulesetErrors] = defaultdict(RulesetErrors)

    def add(self, old: Evaluated, new: Evaluated) -> None:
        """Compare a chunk's outcomes (the same records, in the same order)."""
        changed: dict[int, list[tuple[str, _Diff]]] = defaultdict(list)
        for record, was, now in zip(new.customers, old.customer_results,
                                    new.customer_results, strict=True):
            for diff in self._compare(was, now, Subject.CUSTOMER,
                                      f"customer {record['customer_code']}"):
                changed[record["key"]].append(("customer", diff))
        for record, was, now in zip(new.lines, old.line_results, new.line_results,
                                    strict=True):
            subject = f"line {record['service_number']}"
            for diff in self._compare(was, now, Subject.SUBSCRIBER, subject):
                changed[record["customer_id"]].append((subject, diff))
        for customer in new.customers:
            if customer["key"] in changed:
                self.sample.offer(customer, changed[customer["key"]])
        self.impact.customers += len(new.customers)
        self.impact.subscribers += len(new.lines)
        self.impact.affected_customers += len(changed)

    def _compare(self, was: RecordResult, now: RecordResult, subject: Subject,
                 label: str) -> list[_Diff]:
        diffs = []
        for output in sorted(was.decisions.keys() | now.decisions.keys()):
            old, new = was.decisions.get(output), now.decisions.get(output)
            item = self._outputs.setdefault(output, OutputImpact(str(subject)))
            item.evaluated += 1
            if _value(old) != _value(new):
                item.transitions[_value(old), _value(new)] += 1
                diffs.append(_Diff(output, old, new))
        raised = {alert.type: alert for alert in was.alerts}
        raising = {alert.type: alert for alert in now.alerts}
        for kind in sorted(raised.keys() ^ raising.keys()):
            (self.impact.alerts_cleared if kind in raised else self.impact.alerts_raised)[kind] += 1
            diffs.append(_Diff(f"alert {kind}", raised.get(kind), raising.get(kind)))
        for ruleset in was.errors:
            self._errors[ruleset].published += 1
        for ruleset, reason in now.errors.items():
            errors = self._errors[ruleset]
            errors.candidate += 1
            if ruleset not in was.errors and len(errors.examples) < EXAMPLES:
                errors.examples.append(f"{label}: {reason}")
        return diffs

    def merge(self, other: "_Tally") -> None:
        """Add the tally of other records (a chunk evaluated elsewhere)."""
        impact, theirs = self.impact, other.impact
        impact.customers += theirs.customers
        impact.subscribers += theirs.subscribers
        impact.affected_customers += theirs.affected_customers
        impact.alerts_raised.update(theirs.alerts_raised)
        impact.alerts_cleared.update(theirs.alerts_cleared)
        for output, item in other._outputs.items():
            mine = self._outputs.setdefault(output, OutputImpact(item.subject))
            mine.evaluated += item.evaluated
            mine.transitions.update(item.transitions)
        for ruleset, errors in other._errors.items():
            mine_errors = self._errors[ruleset]
            mine_errors.published += errors.published
            mine_errors.candidate += errors.candidate
            room = EXAMPLES - len(mine_errors.examples)
            mine_errors.examples.extend(errors.examples[:max(room, 0)])
        self.sample.merge(other.sample)

    def finish(self) -> Impact:
        impact = self.impact
        impact.transitions = {output: item for output, item in sorted(self._outputs.items())
                              if item.transitions}
        impact.errors = dict(sorted(self._errors.items()))
        impact.sample = self.sample.customers()
        return impact
