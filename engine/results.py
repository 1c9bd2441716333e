"""What an evaluation returns: compact by ruleset, cheap to send between processes.

A batch's :class:`Results` hold, for each ruleset, one small tuple per record (the value
and the deciding rule with the facts it read, or the alert rules that fired) and the
errors by position. :class:`RecordResult` objects are built when a record is read, so
a run that only compares values with what is stored, or counts errors, never pays for
building millions of them (that cost ten times the pickling of the compact form).
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, overload


class Decision(NamedTuple):
    value: str
    rule_id: str
    ruleset: str
    version: int
    #: Facts the deciding rule read, as analysts read them (money in yuan).
    facts: dict[str, str]


class RaisedAlert(NamedTuple):
    type: str
    severity: str
    message: str
    rule_id: str
    ruleset: str
    version: int
    facts: dict[str, str]


@dataclass
class RecordResult:
    key: Any
    decisions: dict[str, Decision] = field(default_factory=dict)
    alerts: list[RaisedAlert] = field(default_factory=list)
    #: Why a ruleset could not decide for this record, by ruleset name.
    errors: dict[str, str] = field(default_factory=dict)


#: A first-hit ruleset's outcome for one record: value, deciding rule, facts it read
#: (in the order of the rule's ``reads``).
Decided = tuple[Any, str, tuple[str, ...]]
#: One alert rule that fired: rule id, message, facts it read.
Fired = tuple[str, str, tuple[str, ...]]


@dataclass(frozen=True)
class Legend:
    """What a ruleset's compact outcomes mean."""

    name: str
    version: int
    output: str
    collect: bool
    #: Rule id → the facts it reads.
    reads: dict[str, tuple[str, ...]]
    #: Alert rule id → (alert type, severity).
    alerts: dict[str, tuple[str, str]]


class Results(Sequence[RecordResult]):
    """One :class:`RecordResult` per record of a batch, in order, built on access."""

    def __init__(self, keys: Sequence[Any], legends: Sequence[Legend]) -> None:
        self.keys = list(keys)
        self.legends = tuple(legends)
        #: Per ruleset (in ``legends`` order), per record: a :data:`Decided`, a tuple of
        #: :data:`Fired`, or None when the ruleset could not decide.
        self.outcomes: list[list[Any]] = [[None] * len(self.keys) for _ in self.legends]
        #: Position → {ruleset name: why it could not decide}; absent when all went well.
        self.errors: dict[int, dict[str, str]] = {}

    def __len__(self) -> int:
        return len(self.keys)

    @overload
    def __getitem__(self, index: int) -> RecordResult: ...

    @overload
    def __getitem__(self, index: slice) -> list[RecordResult]: ...

    def __getitem__(self, index: int | slice) -> RecordResult | list[RecordResult]:
        if isinstance(index, slice):
            return [self._record(number) for number in range(len(self))[index]]
        return self._record(range(len(self))[index])

    def __iter__(self) -> Iterator[RecordResult]:
        return map(self._record, range(len(self)))

    def _record(self, number: int) -> RecordResult:
        result = RecordResult(self.keys[number], errors=dict(self.errors.get(number, {})))
        for legend, outcomes in zip(self.legends, self.outcomes, strict=True):
            outcome = outcomes[number]
            if outcome is None:
                continue
            if not legend.collect:
                value, rule_id, facts = outcome
                result.decisions[legend.output] = Decision(
                    value, rule_id, legend.name, legend.version,
                    dict(zip(legend.reads[rule_id], facts, strict=True)))
                continue
            for rule_id, message, facts in outcome:
                kind, severity = legend.alerts[rule_id]
                result.alerts.append(RaisedAlert(
                    kind, severity, message, rule_id, legend.name, legend.version,
                    dict(zip(legend.reads[rule_id], facts, strict=True))))
        return result
