"""Differential tests: the durable-rules engine against the reference interpreter.

Hypothesis writes random valid ruleset documents (nested ``all``/``any``/``not`` over
facts of every type, every operator, ``in`` lists short and longer than the compiler's
inline limit, relative dates, text that NFC changes...) and random fact records whose
values often sit on, or right next to, the thresholds. Each ruleset is loaded, compiled
and evaluated over a batch; every record's result must be what
:mod:`tests.engine.interpreter` computes from the documented semantics.
"""

import random
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from engine.catalog import DEFAULT_CATALOG, Fact, FactType, Subject
from engine.domain import Severity, StatisticalAttribute
from engine.evaluate import evaluate_batch
from engine.language import OP_ALIASES, OPERATORS, Op, Ruleset
from engine.program import build_program
from engine.results import RecordResult
from engine.schema import load_ruleset
from engine.values import RelativeDate, parse_literal
from tests.engine.interpreter import (
    Decided,
    Raised,
    Rejected,
    Result,
    interpret,
    read_facts,
)

INT64 = 2**63 - 1
MAX_TEXT = 10_000
AS_OF_POOL = (date(2024, 2, 29), date(2025, 1, 1), date(2025, 3, 15), date(2025, 12, 31))
DAY_OFFSETS = (-400, -366, -31, -30, -1, 0, 1, 29, 30, 31, 365)

#: Thresholds and record values share these pools, so boundaries are hit often.
INTEGERS = (-INT64, -(2**53) - 1, -100, -1, 0, 1, 2, 7, 100, 2**53, 2**53 + 1, INT64)
CENTS = (-123_456, -100, -1, 0, 1, 99, 100, 101, 1234, 8999, 9000, 9001, 10**16)
DECIMALS = tuple(Decimal(text) for text in (
    "-1.5", "-0.01", "0", "0.01", "0.12", "0.13", "12.34", "89.99", "90", "90.01", "100",
    "999999999999999.99"))
#: Record-only decimals: more places (rounded half-even), floats, integers.
DECIMAL_EXTRAS = (Decimal("89.995"), 89.995, Decimal("90.005"), Decimal("90.015"), 0.125,
                  0.135, Decimal("-0.005"), Decimal("12.344999"), 1e-10, 90, 0, -1,
                  Decimal("1E+2"), 12.34, 90.0, -0.0, Decimal("999999999999999.995"),
                  Decimal("0.1250"))
TEXTS = ("a", "ab", "abc", "ABC", "b", "0", "12", " ", "a b", "café", "cafe\u0301", "é",
         "e\u0301", "\u212b", "\u00c5", "中文", "中", "😀", "$ne", "null", 'q"uote',
         "back\\slash", "tab\tnew\nline", "a" * 300, "x" * MAX_TEXT, "")
PREFIXES = ("a", "ab", "c", "ca", "cafe\u0301", "é", "中", "$", "x" * 50, " ", "\u212b", "0")
PATTERNS = ("^a", "c$", "é", "e\u0301", r"\d", "^$", "a|中", "(?i)^abc$", r"^\s", ".",
            "^x{10000}$", r"\$ne", 'q"u', "😀", r"\\", "^(a|b)+$", "\n", "^Å$")
#: ``in`` list lengths around the compiler's inline limit (16).
IN_LENGTHS = (1, 2, 3, 5, 8, 16, 17, 20, 40)

#: (subject, output) of first-hit rulesets, with the literal values they may decide.
CODES = ("gold", "silver", "bronze", "T-1", "standard")
FIRST_TARGETS: dict[tuple[str, str], tuple[str, ...]] = {
    ("customer", "service_tier"): CODES,
    ("customer", "marketing_attribute"): CODES,
    ("customer", "lifecycle_stage"): ("A", "B", "C", "D", "E"),
    ("customer", "statistical_attribute"): tuple(StatisticalAttribute),
    ("subscriber", "community"): CODES,
}
SEVERITIES = tuple(severity.value for severity in Severity)

Draw = Callable[[st.SearchStrategy[Any]], Any]


def visible_facts(subject: str) -> dict[str, Fact]:
    return DEFAULT_CATALOG.visible_facts(Subject(subject), [])


# --- literals ---------------------------------------------------------------------------

def yuan(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def literal_forms(kind: FactType, native: Any) -> list[Any]:
    """Ways an analyst may write ``native`` in a rule (every one loads to ``native``)."""
    if kind is FactType.MONEY:
        forms: list[Any] = [yuan(native), f" {yuan(native)} "]
        if native % 100 == 0:
            forms += [native // 100, str(native // 100)]
        elif native % 10 == 0:
            forms.append(yuan(native)[:-1])
        if abs(native) < 10**9 and Decimal(repr(native / 100)) * 100 == native:
            forms.append(native / 100)
        return forms
    if kind is FactType.DECIMAL:
        forms = [str(native), f"{native:.2f}"]
        if native == native.to_integral_value():
            forms.append(int(native))
        if abs(native) < 10**9 and Decimal(repr(float(native))) == native:
            forms.append(float(native))
        return forms
    if kind is FactType.DATE:
        if isinstance(native, RelativeDate):
            days = native.days
            forms = [f"today{days:+d}d", f"today {'+-'[days < 0]} {abs(days)} d",
                     f"today{days:+d}"]
            return forms + (["today"] if days == 0 else [])
        return [native.isoformat(), native, f" {native.isoformat()}"]
    return [native]


def near(fact: Fact, native: Any, as_of: date) -> list[Any]:
    """Record values on and right next to a threshold."""
    kind = fact.type
    if kind in (FactType.INTEGER, FactType.MONEY):
        return [value for value in (native - 1, native, native + 1) if abs(value) <= INT64]
    if kind is FactType.DECIMAL:
        values: list[Any] = [native + delta for delta in (
            Decimal("-0.01"), Decimal("-0.005"), 0, Decimal("0.005"), Decimal("0.01"))]
        return [value for value in (*values, float(native)) if abs(value) < 10**15]
    if kind is FactType.DATE:
        day = native.resolve(as_of) if isinstance(native, RelativeDate) else native
        return [day + timedelta(delta) for delta in (-1, 0, 1)]
    if kind is FactType.STRING:
        longer = [native + "z"] if len(native) < MAX_TEXT else []
        return [native, unicodedata.normalize("NFD", native), *longer]
    return [native]


# --- ruleset documents ------------------------------------------------------------------

class Writer:
    """Draws the parts of one ruleset document over a few facts; remembers the thresholds
    it wrote so that records can sit on them."""

    def __init__(self, draw: Draw, as_of: date, facts: dict[str, Fact]) -> None:
        self.draw = draw
        self.as_of = as_of
        self.facts = facts
        self.hints: dict[str, list[Any]] = {}

    def pick(self, options: Sequence[Any]) -> Any:
        return self.draw(st.sampled_from(options))

    def thresholds(self, fact: Fact) -> list[Any]:
        """Native threshold values of a fact (shared with the record pool)."""
        kind = fact.type
        if kind is FactType.INTEGER:
            return list(INTEGERS)
        if kind is FactType.MONEY:
            return list(CENTS)
        if kind is FactType.DECIMAL:
            return list(DECIMALS)
        if kind is FactType.DATE:
            return ([self.as_of + timedelta(days) for days in DAY_OFFSETS]
                    + [RelativeDate(days) for days in DAY_OFFSETS])
        if kind is FactType.STRING:
            return list(TEXTS)
        if kind is FactType.ENUM:
            return list(fact.values)
        return [True, False]

    def filler(self, fact: Fact, index: int, relative: bool) -> Any:
        """A threshold off the record pool, to make ``in`` lists long."""
        kind = fact.type
        if kind is FactType.INTEGER:
            return 1000 + index
        if kind is FactType.MONEY:
            return 700_000 + index
        if kind is FactType.DECIMAL:
            return Decimal(f"{500 + index}.25")
        if kind is FactType.DATE:
            days = 1000 + index
            return RelativeDate(days) if relative else self.as_of + timedelta(days)
        return f"filler-{index}"

    def literal(self, fact: Fact, native: Any) -> Any:
        self.hints.setdefault(fact.name, []).extend(near(fact, native, self.as_of))
        return self.pick(literal_forms(fact.type, native))

    def comparison(self) -> dict[str, Any]:
        name = self.pick(sorted(self.facts))
        fact = self.facts[name]
        op = self.pick(sorted(OPERATORS[fact.type]))
        spelling = self.pick([op.value] + [alias for alias, target in OP_ALIASES.items()
                                           if target is op])
        test: dict[str, Any] = {"fact": name, "op": spelling}
        pool = self.thresholds(fact)
        if op is Op.IS_EMPTY:
            if self.draw(st.booleans()):
                test["value"] = None
        elif op is Op.MATCHES:
            test["value"] = self.pick(PATTERNS)
        elif op is Op.STARTS_WITH:
            test["value"] = self.literal(fact, self.pick(PREFIXES))
        elif op is Op.BETWEEN:
            if fact.type is FactType.DATE:
                relative = self.draw(st.booleans())
                pool = [item for item in pool if isinstance(item, RelativeDate) == relative]
            low, high = sorted(self.draw(st.lists(st.sampled_from(pool), min_size=2,
                                                  max_size=2)), key=_order)
            test["value"] = [self.literal(fact, low), self.literal(fact, high)]
        elif op in (Op.IN, Op.NOT_IN):
            test["value"] = [self.literal(fact, item) for item in self.members(fact, pool)]
        else:
            test["value"] = self.literal(fact, self.pick(pool))
        return test

    def members(self, fact: Fact, pool: list[Any]) -> list[Any]:
        """Distinct natives for an ``in`` list, short or longer than the inline limit;
        date lists may mix absolute and relative dates."""
        if fact.type is FactType.ENUM:
            return self.draw(st.lists(st.sampled_from(pool), min_size=1, unique=True))
        length = self.pick(IN_LENGTHS)
        chosen = self.draw(st.lists(st.sampled_from(pool), max_size=min(length, 8),
                                    unique_by=_identity))
        relative = self.draw(st.booleans())
        fillers = [self.filler(fact, index, relative)
                   for index in range(max(length - len(chosen), 0 if chosen else 1))]
        return self.draw(st.permutations(chosen + fillers))

    def condition(self, depth: int = 0) -> dict[str, Any]:
        """A comparison, or ``all``/``any``/``not`` nested at most 3 levels."""
        if depth >= 3 or self.draw(st.integers(0, 2)) == 0:
            return self.comparison()
        key = self.pick(["all", "any", "not"])
        if key == "not":
            return {"not": self.condition(depth + 1)}
        count = self.draw(st.integers(1, 3))
        return {key: [self.condition(depth + 1) for _ in range(count)]}


def _order(value: Any) -> Any:
    return value.days if isinstance(value, RelativeDate) else value


def _identity(value: Any) -> Any:
    """What the loader deduplicates ``in`` lists on (equal numbers are one item)."""
    return (type(value).__name__ if isinstance(value, (date, RelativeDate)) else "", value)


@dataclass
class Scenario:
    document: dict[str, Any]
    as_of: date
    #: Facts the records carry: those the ruleset reads, maybe one it does not.
    facts: dict[str, Fact]
    #: Record values on and around each fact's thresholds.
    hints: dict[str, list[Any]] = field(default_factory=dict)


def fact_choices(visible: Mapping[str, Fact]) -> st.SearchStrategy[list[str]]:
    """One to five facts, each of a type drawn first (so every type is well covered)."""
    by_type: dict[FactType, list[str]] = {}
    for name, fact in sorted(visible.items()):
        by_type.setdefault(fact.type, []).append(name)
    one = st.sampled_from(sorted(by_type)).flatmap(lambda kind: st.sampled_from(by_type[kind]))
    return st.lists(one, min_size=1, max_size=5, unique=True)


def copy_sources(visible: Mapping[str, Fact], output: str) -> list[str]:
    """Facts a rule of ``output`` may copy (text; for enum outputs, a subset enum)."""
    target = DEFAULT_CATALOG.outputs[output].fact
    assert target is not None
    if target.type is FactType.ENUM:
        return sorted(name for name, fact in visible.items() if fact.type is FactType.ENUM
                      and set(fact.values) <= set(target.values))
    return sorted(name for name, fact in visible.items()
                  if fact.type in (FactType.STRING, FactType.ENUM))


@st.composite
def scenarios(draw: Draw, policy: str) -> Scenario:
    """A valid ruleset document of ``policy`` ("first" or "collect") and its context."""
    as_of = draw(st.sampled_from(AS_OF_POOL))
    if policy == "first":
        subject, output = draw(st.sampled_from(sorted(FIRST_TARGETS)))
    else:
        subject, output = "subscriber", "alerts"
    visible = visible_facts(subject)
    names = draw(fact_choices(visible))
    writer = Writer(draw, as_of, {name: visible[name] for name in names})
    used = list(names)

    def outcome() -> Any:
        if policy == "collect":
            quoted = draw(st.lists(st.sampled_from(sorted(visible)), max_size=2))
            used.extend(quoted)
            return {"type": f"a{draw(st.integers(0, 3))}",
                    "severity": draw(st.sampled_from(SEVERITIES)),
                    "message": "x" + "".join(f" {{{name}}}" for name in quoted)}
        copyable = copy_sources(visible, output)
        if copyable and draw(st.integers(0, 3)) == 0:
            source = draw(st.sampled_from(copyable))
            used.append(source)
            return {"fact": source}
        return draw(st.sampled_from(FIRST_TARGETS[subject, output]))

    rule_count = draw(st.integers(1, 6))
    rules = [{"id": f"r{index}", "when": writer.condition(), "then": outcome()}
             for index in range(rule_count)]
    document: dict[str, Any] = {"name": f"diff_{policy}", "title": "Differential",
                                "subject": subject, "output": output, "hit_policy": policy,
                                "rules": rules}
    if policy == "first":
        document["default"] = outcome()
    used += draw(st.lists(st.sampled_from(sorted(visible)), max_size=1))  # not read
    facts = {name: visible[name] for name in dict.fromkeys(used)}
    return Scenario(document, as_of, facts, writer.hints)


# --- records ------------------------------------------------------------------------------

def record_pool(fact: Fact, as_of: date) -> list[Any]:
    """Valid native values of a fact; the thresholds among them."""
    kind = fact.type
    if kind is FactType.INTEGER:
        return list(INTEGERS)
    if kind is FactType.MONEY:
        return [*CENTS, INT64, -INT64]
    if kind is FactType.DECIMAL:
        return [*DECIMALS, *DECIMAL_EXTRAS]
    if kind is FactType.DATE:
        days = [as_of + timedelta(offset) for offset in DAY_OFFSETS]
        # A datetime is a date (valid for a date fact) and compares by its day.
        return [*days, datetime.combine(as_of, datetime.min.time()).replace(hour=23),
                datetime.combine(days[6], datetime.min.time()), date.min, date.max]
    if kind is FactType.STRING:
        return list(TEXTS)
    if kind is FactType.ENUM:
        return list(fact.values)
    return [True, False]


def invalid_pool(fact: Fact) -> list[Any]:
    """Values that do not fit the fact: the engine must refuse the record."""
    kind = fact.type
    if kind is FactType.INTEGER:
        return [True, 1.0, "1", 2**63, -(2**63), Decimal(1)]
    if kind is FactType.MONEY:
        return [12.34, Decimal("1"), "1234", False, 2**63]
    if kind is FactType.DECIMAL:
        return [float("nan"), float("inf"), Decimal("NaN"), Decimal("-Infinity"), "1.5", True,
                10**15, Decimal("1E+15"), -1e15]
    if kind is FactType.DATE:
        return ["2025-01-01", 738_000, "today"]
    if kind is FactType.BOOLEAN:
        return [1, 0, "true"]
    if kind is FactType.ENUM:
        return [fact.values[0].upper(), "unknown", 1]
    return [5, b"x", "x" * (MAX_TEXT + 1), ["a"]]


#: Stands for a fact left out of a record.
ABSENT = object()
EMPTY = (ABSENT, None)

#: ``choose(kind, options)``: one of ``options``; ``kind`` says what they are.
Chooser = Callable[[str, Sequence[Any]], Any]


def make_record(scenario: Scenario, choose: Chooser, key: int,
                invalid: bool = False) -> tuple[dict[str, Any], set[str]]:
    """A record over the scenario's facts and the facts given invalid values."""
    record: dict[str, Any] = {"key": key}
    broken = set()
    for name, fact in scenario.facts.items():
        kinds = ["empty", "pool"] + (["near"] if scenario.hints.get(name) else [])
        kind = choose("kind", kinds + (["invalid"] if invalid else []))
        if kind == "empty":
            value = choose("empty", EMPTY)
        elif kind == "near":
            value = choose("near", scenario.hints[name])
        elif kind == "invalid":
            value = choose("invalid", invalid_pool(fact))
            broken.add(name)
        else:
            value = choose("pool", record_pool(fact, scenario.as_of))
        if value is not ABSENT:
            record[name] = value
    return record, broken


def hypothesis_chooser(draw: Draw) -> Chooser:
    return lambda kind, options: draw(st.sampled_from(options))


def random_chooser(rng: random.Random) -> Chooser:
    return lambda kind, options: rng.choice(options)


# --- running and comparing ----------------------------------------------------------------

def load(document: dict[str, Any]) -> Ruleset:
    ruleset, problems = load_ruleset(document, {})
    assert not problems, [str(problem) for problem in problems]
    assert ruleset is not None
    return ruleset


def observed(ruleset: Ruleset, result: RecordResult) -> Result:
    """The engine's result in the interpreter's terms."""
    if ruleset.name in result.errors:
        return Rejected(result.errors[ruleset.name])
    if ruleset.output == "alerts":
        return Raised(tuple(alert.rule_id for alert in result.alerts))
    decision = result.decisions[ruleset.output]
    return Decided(decision.value, decision.rule_id)


def same(expected: Result, actual: Result) -> bool:
    if isinstance(expected, Rejected):
        return isinstance(actual, Rejected)  # the reasons are worded differently
    return expected == actual


def check(document: dict[str, Any], records: list[dict[str, Any]], as_of: date) -> list[Result]:
    """Evaluate ``records`` in one batch; each must get the interpreter's result."""
    ruleset = load(document)
    program = build_program([ruleset])
    visible = visible_facts(ruleset.subject)
    results = evaluate_batch(program, records, as_of)
    assert [result.key for result in results] == [record["key"] for record in records]
    alert_types = {rule.id: getattr(rule.then, "type", None) for rule in ruleset.rules}
    expectations = []
    for number, (record, result) in enumerate(zip(records, results, strict=True)):
        expected = interpret(ruleset, record, visible, as_of)
        actual = observed(ruleset, result)
        assert same(expected, actual), (
            f"record {number} differs\nruleset: {document!r}\nas_of: {as_of!r}\n"
            f"record: {record!r}\nexpected (interpreter): {expected!r}\n"
            f"actual (engine): {actual!r}")
        assert [alert.type for alert in result.alerts] == [
            alert_types[alert.rule_id] for alert in result.alerts]
        expectations.append(expected)
    return expectations


#: No "explain" phase: it re-runs failing examples many times for little news here.
COMMON = settings(deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate,
                                         Phase.target, Phase.shrink],
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("policy", ["first", "collect"])
@settings(COMMON, max_examples=150)
@given(data=st.data())
def test_engine_agrees_with_interpreter(policy: str, data: st.DataObject) -> None:
    scenario = data.draw(scenarios(policy), label="scenario")
    choose = hypothesis_chooser(data.draw)
    count = data.draw(st.integers(1, 25), label="record count")
    records = [make_record(scenario, choose, key)[0] for key in range(count)]
    check(scenario.document, records, scenario.as_of)


@pytest.mark.parametrize("policy", ["first", "collect"])
@settings(COMMON, max_examples=40)
@given(data=st.data())
def test_records_with_invalid_values_are_refused_alone(policy: str,
                                                      data: st.DataObject) -> None:
    """Exactly the records with a value that does not fit a fact the ruleset reads get an
    error; the others in the batch are decided as usual."""
    scenario = data.draw(scenarios(policy), label="scenario")
    choose = hypothesis_chooser(data.draw)
    count = data.draw(st.integers(1, 25), label="record count")
    made = [make_record(scenario, choose, key, invalid=True) for key in range(count)]
    records = [record for record, _ in made]
    expectations = check(scenario.document, records, scenario.as_of)
    read = set(read_facts(load(scenario.document)))
    for (_, broken), expected in zip(made, expectations, strict=True):
        if broken & read:
            assert isinstance(expected, Rejected)
        else:
            assert not isinstance(expected, Rejected) or "copies fact" in expected.reason


@settings(COMMON, max_examples=300)
@given(data=st.data())
def test_literal_forms_load_to_what_they_mean(data: st.DataObject) -> None:
    """The generator's literal forms mean the natives the interpreter is checked with."""
    as_of = data.draw(st.sampled_from(AS_OF_POOL))
    visible = visible_facts("subscriber")
    name = data.draw(fact_choices(visible))[0]
    fact = visible[name]
    writer = Writer(data.draw, as_of, {name: fact})
    natives = writer.thresholds(fact)
    if fact.type not in (FactType.ENUM, FactType.BOOLEAN):  # no long lists of those
        natives += [writer.filler(fact, 3, relative) for relative in (False, True)]
    native = data.draw(st.sampled_from(natives))
    literal = data.draw(st.sampled_from(literal_forms(fact.type, native)))
    if fact.type is FactType.STRING:
        native = unicodedata.normalize("NFC", native)
    assert parse_literal(fact, literal) == native


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["first", "collect"])
@settings(COMMON, max_examples=3)
@given(data=st.data())
def test_a_batch_of_thousands_agrees_record_by_record(policy: str,
                                                      data: st.DataObject) -> None:
    """3,200 records in one call: several engine batches, compared record by record."""
    scenario = data.draw(scenarios(policy), label="scenario")
    rng = random.Random(data.draw(st.integers(0, 2**32), label="seed"))
    records = [make_record(scenario, random_chooser(rng), key)[0] for key in range(3_200)]
    check(scenario.document, records, scenario.as_of)


# --- discrepancies found by the tests above, kept as plain examples -------------------------

def alerts_on(when: dict[str, Any]) -> dict[str, Any]:
    return {"name": "example", "title": "Example", "subject": "subscriber",
            "output": "alerts", "hit_policy": "collect",
            "rules": [{"id": "hit", "when": when,
                       "then": {"type": "a", "severity": "red", "message": "x"}}]}


AS_OF = date(2025, 3, 15)
LONG_RELATIVE = [f"today+{days}d" for days in range(17)]
LONG_ABSOLUTE = [f"2025-03-{day:02d}" for day in range(1, 18)]


@pytest.mark.parametrize(("when", "install_date", "hit"), [
    # A list mixing absolute and relative dates.
    ({"fact": "install_date", "op": "in", "value": ["today", "2020-01-01"]}, date(2020, 1, 1),
     True),
    ({"fact": "install_date", "op": "not_in", "value": ["today", "2020-01-01"]}, AS_OF, False),
    # More relative dates than the compiler writes inline (16).
    ({"fact": "install_date", "op": "in", "value": LONG_RELATIVE}, AS_OF, True),
    ({"fact": "install_date", "op": "not_in", "value": LONG_RELATIVE}, AS_OF, False),
    ({"fact": "install_date", "op": "not_in", "value": LONG_RELATIVE}, AS_OF + timedelta(100),
     True),
    # A datetime record compares by its day, in long lists too.
    ({"fact": "install_date", "op": "in", "value": LONG_ABSOLUTE}, datetime(2025, 3, 15, 9),
     True),
    ({"fact": "install_date", "op": "eq", "value": "2025-03-15"}, datetime(2025, 3, 15, 9),
     True),
])
def test_date_lists_compare_by_day(when: dict[str, Any], install_date: date, hit: bool) -> None:
    [expected] = check(alerts_on(when), [{"key": 0, "install_date": install_date}], AS_OF)
    assert expected == Raised(("hit",) if hit else ())


@pytest.mark.parametrize("when", [
    {"fact": "product", "op": "eq", "value": "a"},
    {"fact": "product", "op": "starts_with", "value": "a"},
])
def test_text_that_is_not_utf8_is_treated_alike_by_every_operator(when: dict[str, Any]) -> None:
    """A lone surrogate is a ``str`` but not Unicode text: the record is refused whatever
    the operator (the engine itself would refuse ``eq`` but not ``starts_with``)."""
    records = [{"key": 0, "product": "\ud800"}, {"key": 1, "product": "a"}]
    results = check(alerts_on(when), records, AS_OF)
    assert isinstance(results[0], Rejected) and results[1] == Raised(("hit",))
