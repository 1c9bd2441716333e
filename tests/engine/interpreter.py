"""A reference interpreter of the rule language, for differential tests of the engine.

Written from the semantics in :mod:`engine.language` (module docstring) and the value
forms of :mod:`engine.values`, deliberately without :mod:`engine.compiler` or
:mod:`engine.evaluate`: it walks the condition tree and compares Python values directly.

* a comparison on an empty fact is false; ``is_empty`` is true for no value and empty text;
* ``ne`` / ``not_in`` mean "has a value, and it is not ...";
* ``not`` is plain negation; ``all`` / ``any`` are Python's ``all`` / ``any``;
* ``between`` includes both bounds; ``matches`` is :func:`re.search`; ``starts_with`` is
  :meth:`str.startswith`;
* money compares in integer cents, decimals after rounding half-even to hundredths,
  dates by day (relative dates resolved against the evaluation date), text after NFC.
"""

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from engine.catalog import Fact, FactType
from engine.language import (
    AlertOutcome,
    All,
    AnyOf,
    Condition,
    HitPolicy,
    Not,
    Op,
    Outcome,
    Ruleset,
    Test,
)
from engine.templates import placeholders
from engine.values import RelativeDate

HUNDREDTH = Decimal("0.01")
INT64 = 2**63 - 1
MAX_TEXT = 10_000
DEFAULT = "default"


@dataclass(frozen=True)
class Decided:
    """A first-hit ruleset's decision."""

    value: str
    rule_id: str


@dataclass(frozen=True)
class Raised:
    """A collect ruleset's matching rules, in rule order."""

    rule_ids: tuple[str, ...]


@dataclass(frozen=True)
class Rejected:
    """The ruleset cannot decide for the record (invalid value, empty copied fact)."""

    reason: str


Result = Decided | Raised | Rejected


def fits(fact: Fact, value: Any) -> bool:
    """Whether a record's native value is valid for its fact (None always is)."""
    if value is None:
        return True
    kind = fact.type
    if kind in (FactType.INTEGER, FactType.MONEY):
        return type(value) is int and -INT64 <= value <= INT64
    if kind is FactType.DECIMAL:
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return abs(value) < 10**15
        if isinstance(value, float):
            return math.isfinite(value) and abs(value) < 10**15
        if isinstance(value, Decimal):
            return value.is_finite() and abs(value) < 10**15
        return False
    if kind is FactType.DATE:
        return isinstance(value, date)
    if kind is FactType.BOOLEAN:
        return isinstance(value, bool)
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        return False
    if any("\ud800" <= char <= "\udfff" for char in value):
        return False  # not encodable as UTF-8: refused before the engine sees it
    return kind is FactType.STRING or value in fact.values


def comparable(fact: Fact, value: Any) -> Any:
    """A valid record value in the form it compares in; None for no value."""
    if value is None:
        return None
    kind = fact.type
    if kind in (FactType.STRING, FactType.ENUM):
        text = unicodedata.normalize("NFC", value)
        return text if text else None
    if kind is FactType.DECIMAL:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        return number.quantize(HUNDREDTH, rounding=ROUND_HALF_EVEN)
    if kind is FactType.DATE:
        return value.toordinal()  # by day: a datetime counts as its date
    return value


def operand(fact: Fact, literal: Any, as_of: date) -> Any:
    """A rule's (loaded, native) literal in the form it compares in."""
    kind = fact.type
    if kind is FactType.DECIMAL:
        return Decimal(literal).quantize(HUNDREDTH, rounding=ROUND_HALF_EVEN)
    if kind is FactType.DATE:
        day = literal.resolve(as_of) if isinstance(literal, RelativeDate) else literal
        return day.toordinal()
    if kind in (FactType.STRING, FactType.ENUM):
        return unicodedata.normalize("NFC", literal)
    return literal


def compares(test: Test, fact: Fact, value: Any, as_of: date) -> bool:
    """``value`` is the record's comparable value (None: empty)."""
    op = test.op
    if op is Op.IS_EMPTY:
        return value is None
    if value is None:
        return False
    if op is Op.MATCHES:
        return re.search(test.value, value) is not None
    if op is Op.STARTS_WITH:
        return value.startswith(operand(fact, test.value, as_of))
    if op is Op.BETWEEN:
        low, high = (operand(fact, bound, as_of) for bound in test.value)
        return low <= value <= high
    if fact.separator and op in (Op.EQ, Op.NE, Op.IN, Op.NOT_IN):
        # A list of codes: equality and lists test whether one of its codes is there.
        wanted = test.value if op in (Op.IN, Op.NOT_IN) else (test.value,)
        members = {operand(fact, item, as_of) for item in wanted}
        hit = bool(members & set(value.split(fact.separator)))
        return hit == (op in (Op.EQ, Op.IN))
    if op in (Op.IN, Op.NOT_IN):
        members = [operand(fact, item, as_of) for item in test.value]
        return (value in members) == (op is Op.IN)
    other = operand(fact, test.value, as_of)
    if op is Op.EQ:
        return value == other
    if op is Op.NE:
        return value != other
    if op is Op.LT:
        return value < other
    if op is Op.LE:
        return value <= other
    if op is Op.GT:
        return value > other
    if op is Op.GE:
        return value >= other
    raise AssertionError(f"unknown operator {op!r}")


def holds(condition: Condition, values: Mapping[str, Any], facts: Mapping[str, Fact],
          as_of: date) -> bool:
    """Whether ``condition`` holds for comparable ``values`` (fact name → value)."""
    if isinstance(condition, Test):
        return compares(condition, facts[condition.fact], values.get(condition.fact), as_of)
    if isinstance(condition, Not):
        return not holds(condition.item, values, facts, as_of)
    if isinstance(condition, All):
        return all(holds(item, values, facts, as_of) for item in condition.items)
    if isinstance(condition, AnyOf):
        return any(holds(item, values, facts, as_of) for item in condition.items)
    raise AssertionError(f"unknown condition {condition!r}")


def _condition_facts(condition: Condition) -> list[str]:
    if isinstance(condition, Test):
        return [condition.fact]
    if isinstance(condition, Not):
        return _condition_facts(condition.item)
    return [name for item in condition.items for name in _condition_facts(item)]


def read_facts(ruleset: Ruleset) -> list[str]:
    """Every fact the ruleset reads: conditions, copied facts, message placeholders."""
    names: list[str] = []
    for rule in ruleset.rules:
        names.extend(_condition_facts(rule.when))
        if isinstance(rule.then, Outcome) and rule.then.fact:
            names.append(rule.then.fact)
        if isinstance(rule.then, AlertOutcome):
            names.extend(placeholders(rule.then.message))
    if ruleset.default is not None and ruleset.default.fact:
        names.append(ruleset.default.fact)
    return list(dict.fromkeys(names))


def interpret(ruleset: Ruleset, record: Mapping[str, Any], facts: Mapping[str, Fact],
              as_of: date) -> Result:
    """What ``ruleset`` decides for ``record`` (fact name → native value).

    ``facts`` are the catalog facts visible to the ruleset.
    """
    values: dict[str, Any] = {}
    for name in read_facts(ruleset):
        raw = record.get(name)
        if not fits(facts[name], raw):
            return Rejected(f"fact {name}: invalid value {raw!r}")
        values[name] = comparable(facts[name], raw)
    if ruleset.hit_policy is HitPolicy.COLLECT:
        return Raised(tuple(rule.id for rule in ruleset.rules
                            if holds(rule.when, values, facts, as_of)))
    for rule in ruleset.rules:
        if holds(rule.when, values, facts, as_of):
            assert isinstance(rule.then, Outcome)
            return _decide(rule.then, rule.id, values)
    assert ruleset.default is not None
    return _decide(ruleset.default, DEFAULT, values)


def _decide(outcome: Outcome, rule_id: str, values: Mapping[str, Any]) -> Result:
    if outcome.fact is None:
        assert outcome.value is not None
        return Decided(outcome.value, rule_id)
    value = values.get(outcome.fact)
    if value is None:
        return Rejected(f"rule {rule_id} copies fact {outcome.fact}, which is empty")
    return Decided(value, rule_id)
