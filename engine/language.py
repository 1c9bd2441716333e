"""The rule language as data: rulesets, rules, conditions and outcomes.

The same structure is written in YAML files under ``rules/`` and stored as JSON in the
database; :mod:`engine.schema` loads and validates it into these classes.

Semantics, shared by the compiler and the reference interpreter of the tests:

* a comparison (``eq`` ... ``not_in``, ``starts_with``, ``matches``) on an empty fact is
  false; ``is_empty`` is true for no value and for empty text;
* ``ne`` / ``not_in`` mean "has a value, and it is not ...";
* ``not`` is plain negation: ``not (x = 5)`` is true when ``x`` is empty;
* on a fact listing several codes (``group_type``: a customer in several groups), ``eq``
  / ``in`` mean "one of its codes is (one of) the value(s)", ``ne`` / ``not_in`` "it has
  codes, and none is ..."; ``starts_with`` / ``matches`` read the whole list;
* ``between`` includes both bounds; ``matches`` is a Python regular expression searched
  anywhere in the text (anchor it with ``^``/``$``);
* money compares exactly in cents, decimals in hundredths (rounded half-even), dates by
  day, relative dates (``today+30d``) against the evaluation date.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from engine.catalog import FactType, Subject
from engine.templates import placeholders


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    BETWEEN = "between"
    IN = "in"
    NOT_IN = "not_in"
    STARTS_WITH = "starts_with"
    MATCHES = "matches"
    IS_EMPTY = "is_empty"


#: Symbols analysts may write instead of the operator names.
OP_ALIASES = {"=": Op.EQ, "==": Op.EQ, "≠": Op.NE, "!=": Op.NE, "<": Op.LT, "<=": Op.LE,
              "≤": Op.LE, ">": Op.GT, ">=": Op.GE, "≥": Op.GE}

_ORDERED = frozenset({Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE, Op.BETWEEN, Op.IN, Op.NOT_IN,
                      Op.IS_EMPTY})
_SETS = frozenset({Op.EQ, Op.NE, Op.IN, Op.NOT_IN, Op.IS_EMPTY})

#: Operators valid for each fact type.
OPERATORS: dict[FactType, frozenset[Op]] = {
    FactType.INTEGER: _ORDERED,
    FactType.MONEY: _ORDERED,
    FactType.DECIMAL: _ORDERED,
    FactType.DATE: _ORDERED,
    FactType.STRING: _SETS | {Op.STARTS_WITH, Op.MATCHES},
    FactType.ENUM: _SETS,
    FactType.BOOLEAN: frozenset({Op.EQ, Op.NE, Op.IS_EMPTY}),
}


class HitPolicy(StrEnum):
    #: The highest-priority matching rule decides (attributes).
    FIRST = "first"
    #: Every matching rule fires (alerts).
    COLLECT = "collect"


@dataclass(frozen=True)
class Test:
    """One comparison of a fact. ``value`` is native: a scalar, a pair for ``between``,
    a tuple for ``in``/``not_in``, a pattern for ``matches``, None for ``is_empty``."""

    fact: str
    op: Op
    value: Any = None


@dataclass(frozen=True)
class All:
    items: tuple["Condition", ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple["Condition", ...]


@dataclass(frozen=True)
class Not:
    item: "Condition"


Condition = Test | All | AnyOf | Not


@dataclass(frozen=True)
class Outcome:
    """An attribute value: a literal, or a copy of a fact (``{fact: box_community}``)."""

    value: str | None = None
    fact: str | None = None


@dataclass(frozen=True)
class AlertOutcome:
    type: str
    severity: str
    #: Text with ``{fact}`` placeholders, filled with the facts of the record.
    message: str


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    when: Condition
    then: Outcome | AlertOutcome


@dataclass(frozen=True)
class TestCase:
    """Given facts (literal syntax) → the expected value, or the expected alert types."""

    name: str
    given: dict[str, Any]
    expect: str | tuple[str, ...]
    as_of: Any = None


@dataclass(frozen=True)
class Ruleset:
    name: str
    title: str
    subject: Subject
    output: str
    hit_policy: HitPolicy
    rules: tuple[Rule, ...]
    description: str = ""
    default: Outcome | None = None
    depends_on: tuple[str, ...] = ()
    tests: tuple[TestCase, ...] = field(default=(), compare=False)
    version: int = 1


def walk(condition: Condition) -> list[Test]:
    """Every comparison of a condition, in order."""
    if isinstance(condition, Test):
        return [condition]
    if isinstance(condition, Not):
        return walk(condition.item)
    return [test for item in condition.items for test in walk(item)]


def rule_facts(rule: Rule) -> list[str]:
    """Facts a rule reads: its condition's, its outcome's and its message's, in order."""
    names = [test.fact for test in walk(rule.when)]
    if isinstance(rule.then, Outcome) and rule.then.fact:
        names.append(rule.then.fact)
    if isinstance(rule.then, AlertOutcome):
        names.extend(placeholders(rule.then.message))
    return list(dict.fromkeys(names))
