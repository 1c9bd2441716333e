"""Compiling a validated ruleset to a durable-rules definition and a record encoder.

The compiled form is plain picklable data, so it can be sent to worker processes.
What the engine receives per record is only what the ruleset reads, encoded as integers
and strings (see :mod:`engine.values`):

* ``<fact>`` — the encoded value, absent when the fact is empty;
* ``<fact>__days`` — a date as days after the evaluation date, for relative dates;
* ``__p<n>`` — 1/0 for text tests the engine cannot do exactly (``starts_with``,
  ``matches``, long ``in`` lists, membership in a fact listing several codes such as
  ``group_type``), computed while encoding;
* ``id`` (unique per message) and ``_n`` (the record's position).

``not`` is pushed down to the comparisons (durable-rules has no negation), with "empty"
made explicit, because the engine's ``$neq`` does not match a missing attribute.
Priorities: rule *i* gets ``i + 1``; the catch-all ``default`` rule comes last.
"""

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from engine.catalog import Fact, FactType
from engine.language import (
    AlertOutcome,
    All,
    Condition,
    HitPolicy,
    Not,
    Op,
    Outcome,
    Ruleset,
    Test,
    rule_facts,
    walk,
)
from engine.values import RelativeDate, encode

#: ``in`` lists longer than this are tested while encoding, to spare the engine's node
#: fan-out (it hangs past ~500 distinct tests off one node).
MAX_INLINE_LIST = 16
DEFAULT_RULE = "default"
_COMPARE = {Op.LT: "$lt", Op.LE: "$lte", Op.GT: "$gt", Op.GE: "$gte"}
_NEGATED = {Op.LT: Op.GE, Op.LE: Op.GT, Op.GT: Op.LE, Op.GE: Op.LT}
#: Operators that test membership on a fact listing several codes.
_MEMBERSHIP = frozenset({Op.EQ, Op.NE, Op.IN, Op.NOT_IN})


@dataclass(frozen=True)
class Predicate:
    """A text test evaluated while encoding a record; sent as ``__p<n>`` = 1/0."""

    key: str
    fact: str
    op: Op
    value: Any
    #: The fact's separator when it lists several codes (see ``Fact.separator``).
    separator: str = ""

    def holds(self, value: Any, as_of: date) -> bool:
        if value is None:
            return False
        if self.separator and self.op in _MEMBERSHIP:
            wanted = self.value if isinstance(self.value, frozenset) else {self.value}
            hit = any(code in wanted for code in value.split(self.separator))
            return hit == (self.op in (Op.EQ, Op.IN))
        if isinstance(self.value, frozenset) and any(isinstance(item, RelativeDate)
                                                     for item in self.value):
            members = {item.resolve(as_of) if isinstance(item, RelativeDate) else item
                       for item in self.value}
            return (value in members) == (self.op is Op.IN)
        if self.op is Op.STARTS_WITH:
            return value.startswith(self.value)
        if self.op is Op.MATCHES:
            return re.search(self.value, value) is not None
        return (value in self.value) == (self.op is Op.IN)


@dataclass(frozen=True)
class CompiledRule:
    id: str
    title: str
    then: Outcome | AlertOutcome | None
    #: Facts the rule reads, for the explanation of a decision.
    reads: tuple[str, ...]


@dataclass
class CompiledRuleset:
    name: str
    version: int
    output: str
    hit_policy: HitPolicy
    depends_on: tuple[str, ...]
    #: Name of the ruleset inside durable-rules: unique per content.
    engine_name: str
    definition: dict[str, Any]
    rules: dict[str, CompiledRule]
    #: Every fact the ruleset reads, with its catalog entry.
    facts: dict[str, Fact]
    #: Facts sent as their value, and date facts sent as days after the evaluation date.
    value_keys: tuple[str, ...] = ()
    day_keys: tuple[str, ...] = ()
    predicates: tuple[Predicate, ...] = ()
    #: Rule id → its place in the ruleset (``default`` last): lower decides first.
    priority: dict[str, int] = field(default_factory=dict)
    #: Distinct comparisons in the compiled definition (for the structural lint).
    distinct_tests: set[str] = field(default_factory=set)


class _Compiler:
    def __init__(self, facts: dict[str, Fact]) -> None:
        self.facts = facts
        self.value_keys: dict[str, None] = {}
        self.day_keys: dict[str, None] = {}
        self.predicates: dict[tuple, Predicate] = {}
        self.tests: set[str] = set()

    def condition(self, condition: Condition, negate: bool = False) -> dict:
        if isinstance(condition, Test):
            return self.test(condition, negate)
        if isinstance(condition, Not):
            return self.condition(condition.item, not negate)
        conjunction = isinstance(condition, All) != negate
        return _combine("$and" if conjunction else "$or",
                        [self.condition(item, negate) for item in condition.items])

    def test(self, test: Test, negate: bool) -> dict:
        fact = self.facts[test.fact]
        op, value = test.op, test.value
        if op in (Op.STARTS_WITH, Op.MATCHES) or (fact.separator and op in _MEMBERSHIP) or (
                op in (Op.IN, Op.NOT_IN) and len(value) > MAX_INLINE_LIST):
            return self._leaf({self.predicate(test): 0 if negate else 1})
        key = self.key(fact, value)
        if op is Op.IS_EMPTY:
            return self._leaf({"$ex" if negate else "$nex": {key: 1}})
        if op is Op.BETWEEN:
            low, high = (encode(fact, bound) for bound in value)
            if negate:
                return _combine("$or", [self.compare(Op.LT, key, low),
                                        self.compare(Op.GT, key, high), self.missing(key)])
            return _combine("$and", [self.compare(Op.GE, key, low),
                                     self.compare(Op.LE, key, high)])
        if op in (Op.IN, Op.NOT_IN, Op.EQ, Op.NE):
            # A date list may mix absolute and relative dates: each item has its own key.
            items = value if op in (Op.IN, Op.NOT_IN) else (value,)
            keyed = [(self.key(fact, item), encode(fact, item)) for item in items]
            member = op in (Op.IN, Op.EQ)
            if member != negate:  # in the list, or (negated "not in") empty or in it
                equal = _combine("$or", [self._leaf({k: item}) for k, item in keyed])
                return equal if member else _combine("$or", [equal, self.missing(key)])
            differ = _combine("$and", [self._leaf({"$neq": {k: item}}) for k, item in keyed])
            return differ if not member else _combine("$or", [differ, self.missing(key)])
        encoded = encode(fact, value)
        if negate:
            return _combine("$or", [self.compare(_NEGATED[op], key, encoded),
                                    self.missing(key)])
        return self.compare(op, key, encoded)

    def missing(self, key: str) -> dict:
        return self._leaf({"$nex": {key: 1}})

    def compare(self, op: Op, key: str, value: Any) -> dict:
        return self._leaf({_COMPARE[op]: {key: value}})

    def key(self, fact: Fact, value: Any) -> str:
        bound = value[0] if isinstance(value, tuple) and value else value
        if fact.type is FactType.DATE and isinstance(bound, RelativeDate):
            self.day_keys[fact.name] = None
            return f"{fact.name}__days"
        self.value_keys[fact.name] = None
        return fact.name

    def predicate(self, test: Test) -> str:
        value = frozenset(test.value) if isinstance(test.value, tuple) else test.value
        identity = (test.fact, test.op, value)
        if identity not in self.predicates:
            key = f"__p{len(self.predicates)}"
            self.predicates[identity] = Predicate(key, test.fact, test.op, value,
                                                  self.facts[test.fact].separator)
        return self.predicates[identity].key

    def _leaf(self, expression: dict) -> dict:
        self.tests.add(json.dumps(expression, sort_keys=True, ensure_ascii=False))
        return expression


def _combine(operator: str, parts: list[dict]) -> dict:
    flat: list[dict] = []
    for part in parts:
        flat.extend(part[operator] if set(part) == {operator} else [part])
    unique = list({json.dumps(part, sort_keys=True): part for part in flat}.values())
    return unique[0] if len(unique) == 1 else {operator: unique}


def fingerprint(ruleset: Ruleset) -> str:
    """A digest of the ruleset's content: equal rulesets share compiled handles."""
    return hashlib.sha256(repr(replace(ruleset, tests=())).encode()).hexdigest()


def compile_ruleset(ruleset: Ruleset, facts: dict[str, Fact]) -> CompiledRuleset:
    """``ruleset`` (validated) for durable-rules; ``facts`` are those visible to it."""
    compiler = _Compiler(facts)
    definition: dict[str, Any] = {}
    rules: dict[str, CompiledRule] = {}
    for priority, rule in enumerate(ruleset.rules, start=1):
        definition[rule.id] = {"pri": priority,
                               "all": [{"m": compiler.condition(rule.when)}]}
        rules[rule.id] = CompiledRule(rule.id, rule.title, rule.then, tuple(rule_facts(rule)))
    definition[DEFAULT_RULE] = {"pri": len(ruleset.rules) + 1,
                                "all": [{"m": {"$ex": {"_n": 1}}}]}
    read = list(dict.fromkeys(name for rule in rules.values() for name in rule.reads))
    default_reads = [test.fact for rule in ruleset.rules for test in walk(rule.when)]
    if ruleset.default is not None and ruleset.default.fact:
        default_reads.append(ruleset.default.fact)
        read.append(ruleset.default.fact)
    rules[DEFAULT_RULE] = CompiledRule(DEFAULT_RULE, "Default", ruleset.default,
                                       tuple(dict.fromkeys(default_reads)))
    return CompiledRuleset(
        name=ruleset.name, version=ruleset.version, output=ruleset.output,
        hit_policy=ruleset.hit_policy, depends_on=ruleset.depends_on,
        engine_name=f"{ruleset.name}_v{ruleset.version}_{fingerprint(ruleset)[:12]}",
        definition=definition, rules=rules,
        facts={name: facts[name] for name in dict.fromkeys(read)},
        value_keys=tuple(compiler.value_keys), day_keys=tuple(compiler.day_keys),
        predicates=tuple(compiler.predicates.values()),
        priority={rule_id: index for index, rule_id in enumerate(rules)},
        distinct_tests=compiler.tests)
