"""Checks beyond the schema: durable-rules' structural limits, and rules that never fire.

The engine crashes, hangs or rejects records past certain sizes (see the field notes);
these checks refuse such a ruleset with a message an analyst can act on, using limits a
safe margin below the engine's. They work on the compiled form, which is what the engine
sees. Unreachable rules are only a warning and only found where it is decidable: both
rules are a single comparison or an ``all`` of comparisons.
"""

import json
from dataclasses import dataclass
from typing import Any

from engine.compiler import CompiledRuleset
from engine.language import All, HitPolicy, Op, Ruleset, Test
from engine.schema import Problem
from engine.values import RelativeDate

#: The engine hangs from ~500 distinct tests off one node.
MAX_DISTINCT_TESTS = 450
#: The engine rejects a record for which more than 64 tests are true at once.
MAX_TRUE_AT_ONCE = 60
#: The engine fails past 256 rules with the same condition.
MAX_SAME_CONDITION = 200
#: The engine accepts 252 properties per message.
MAX_PROPERTIES = 240
_OPERATORS = {"$lt": lambda a, b: a < b, "$lte": lambda a, b: a <= b,
              "$gt": lambda a, b: a > b, "$gte": lambda a, b: a >= b,
              "$neq": lambda a, b: a != b}


def structural_problems(compiled: CompiledRuleset) -> list[Problem]:
    """Why the engine could not safely run ``compiled`` (empty: it can)."""
    problems = []
    distinct = len(compiled.distinct_tests)
    if distinct > MAX_DISTINCT_TESTS:
        problems.append(Problem("rules", f"{distinct} distinct comparisons; the engine "
                                f"handles at most {MAX_DISTINCT_TESTS} per ruleset. Split the "
                                "ruleset, or use in-lists instead of many equal tests."))
    at_once, worst = _true_at_once(compiled.distinct_tests)
    if at_once > MAX_TRUE_AT_ONCE:
        facts = ", ".join(f"{key} ({count})" for key, count in worst[:5])
        problems.append(Problem("rules", f"up to {at_once} comparisons can be true at once "
                                f"for one record (most on {facts}); the engine rejects a "
                                f"record past {MAX_TRUE_AT_ONCE}. Merge overlapping "
                                "thresholds on the same fact."))
    conditions: dict[str, list[str]] = {}
    for rule_id, rule in compiled.definition.items():
        conditions.setdefault(json.dumps(rule["all"], sort_keys=True), []).append(rule_id)
    for rule_ids in conditions.values():
        if len(rule_ids) > MAX_SAME_CONDITION:
            problems.append(Problem("rules", f"{len(rule_ids)} rules share one condition "
                                    f"(e.g. {rule_ids[0]}); at most {MAX_SAME_CONDITION}."))
    properties = len(compiled.value_keys) + len(compiled.day_keys) + len(compiled.predicates)
    if properties > MAX_PROPERTIES:
        problems.append(Problem("rules", f"the rules read {properties} values per record; "
                                f"the engine takes at most {MAX_PROPERTIES}."))
    return problems


def _true_at_once(tests: set[str]) -> tuple[int, list[tuple[str, int]]]:
    """An upper bound of the tests true together for one record, and the worst facts."""
    by_key: dict[str, list[tuple[str, Any]]] = {}
    for text in tests:
        expression = json.loads(text)
        ((operator, operand),) = expression.items()
        if operator in ("$ex", "$nex"):
            (key,) = operand
            by_key.setdefault(key, []).append((operator, None))
        elif operator in _OPERATORS:
            ((key, value),) = operand.items()
            by_key.setdefault(key, []).append((operator, value))
        else:
            by_key.setdefault(operator, []).append(("$eq", operand))
    worst = sorted(((key, _max_true(entries)) for key, entries in by_key.items()),
                   key=lambda item: -item[1])
    return sum(count for _, count in worst), worst


def _max_true(entries: list[tuple[str, Any]]) -> int:
    values = {value for _, value in entries if value is not None}
    candidates: set[Any] = set(values)
    for value in values:
        if isinstance(value, int):
            candidates |= {value - 1, value + 1}
    best = sum(1 for operator, _ in entries if operator == "$nex")
    for candidate in candidates | {_OTHER}:
        best = max(best, sum(1 for operator, value in entries
                             if _holds(operator, value, candidate)))
    return best


class _Other:
    """A value equal to no literal of the ruleset (and ordered against none)."""


_OTHER = _Other()


def _holds(operator: str, value: Any, candidate: Any) -> bool:
    if operator == "$ex":
        return True
    if operator == "$nex":
        return False
    if candidate is _OTHER:
        return operator == "$neq"
    if operator == "$eq":
        return candidate == value
    try:
        return bool(_OPERATORS[operator](candidate, value))
    except TypeError:
        return False


@dataclass(frozen=True)
class _Range:
    """Values of one fact a conjunction allows: an interval, or a finite set."""

    low: Any = None
    low_open: bool = False
    high: Any = None
    high_open: bool = False
    members: frozenset | None = None

    def within(self, other: "_Range") -> bool:
        if other.members is not None:
            return self.members is not None and self.members <= other.members
        if self.members is not None:
            return all(other.admits(member) for member in self.members)
        return _bound_within(self.low, self.low_open, other.low, other.low_open, 1) and \
            _bound_within(self.high, self.high_open, other.high, other.high_open, -1)

    def admits(self, value: Any) -> bool:
        if self.members is not None:
            return value in self.members
        above = self.low is None or value > self.low or (value == self.low
                                                         and not self.low_open)
        below = self.high is None or value < self.high or (value == self.high
                                                           and not self.high_open)
        return above and below


def _bound_within(mine: Any, mine_open: bool, other: Any, other_open: bool,
                  direction: int) -> bool:
    if other is None:
        return True
    if mine is None:
        return False
    if mine == other:
        return mine_open or not other_open
    return (mine > other) if direction > 0 else (mine < other)


def _range(test: Test) -> _Range | None:
    value = test.value
    scalars = value if isinstance(value, tuple) else (value,)
    if any(isinstance(item, RelativeDate) for item in scalars):
        return None
    if test.op is Op.EQ:
        return _Range(members=frozenset({value}))
    if test.op is Op.IN:
        return _Range(members=frozenset(value))
    if test.op is Op.BETWEEN:
        return _Range(low=value[0], high=value[1])
    return {Op.LT: _Range(high=value, high_open=True), Op.LE: _Range(high=value),
            Op.GT: _Range(low=value, low_open=True), Op.GE: _Range(low=value)}.get(test.op)


def _box(condition: Any) -> dict[str, _Range] | None:
    """A conjunction of simple comparisons as per-fact ranges (None: not that simple)."""
    tests = condition.items if isinstance(condition, All) else (condition,)
    box: dict[str, _Range] = {}
    for test in tests:
        span = _range(test) if isinstance(test, Test) else None
        if span is None or test.fact in box:
            return None
        box[test.fact] = span
    return box


def unreachable_rules(ruleset: Ruleset) -> list[Problem]:
    """Warnings for first-hit rules that an earlier rule always pre-empts."""
    if ruleset.hit_policy is not HitPolicy.FIRST:
        return []
    boxes = [_box(rule.when) for rule in ruleset.rules]
    warnings = []
    for later, later_box in enumerate(boxes):
        for earlier, earlier_box in enumerate(boxes[:later]):
            if later_box is not None and earlier_box is not None \
                    and _covers(earlier_box, later_box):
                rule, first = ruleset.rules[later], ruleset.rules[earlier]
                warnings.append(Problem(f"rules[{later}]", f"rule {rule.id} can never fire: "
                                        f"rules[{earlier}] ({first.id}) matches every record "
                                        "it matches and comes first"))
                break
    return warnings


def _covers(earlier: dict[str, _Range], later: dict[str, _Range]) -> bool:
    try:
        return all(fact in later and later[fact].within(span) for fact, span in earlier.items())
    except TypeError:  # values of different kinds (e.g. a date against a number)
        return False
