"""Loading a ruleset (YAML or JSON data) into :mod:`engine.language`, reporting every problem.

Problems carry the path of the offending value, written as an analyst reads it:
``rules[3].when.all[1].value: expected a number, got "abc"``. Loading needs the catalog and
the names and outputs of the other rulesets (for ``depends_on``); both travel in a
marshmallow :class:`~marshmallow.experimental.context.Context`.
"""

import difflib
import re
from dataclasses import dataclass
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)
from marshmallow.experimental.context import Context

from engine.catalog import DEFAULT_CATALOG, Catalog, Fact, FactType, Output, Subject
from engine.domain import Severity
from engine.language import (
    OP_ALIASES,
    OPERATORS,
    AlertOutcome,
    All,
    AnyOf,
    Condition,
    HitPolicy,
    Not,
    Op,
    Outcome,
    Rule,
    Ruleset,
    Test,
    TestCase,
)
from engine.templates import placeholders, template_problems
from engine.values import InvalidValueError, RelativeDate, describe, parse_literal

NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
MAX_RULES = 1000
MAX_LIST = 1000
MAX_DEPTH = 16
MAX_PATTERN = 200
MAX_TESTS = 1000
OP_NAMES = {op.value: op for op in Op}
SEVERITIES = frozenset(severity.value for severity in Severity)
SUBJECTS = frozenset(subject.value for subject in Subject)


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass
class LoadContext:
    catalog: Catalog
    #: Outputs of the other rulesets, by ruleset name.
    outputs_by_ruleset: dict[str, str]
    visible: dict[str, Fact]
    #: What the ruleset decides (None while unknown); ``output.fact`` is None for alerts.
    output: Output | None

    @property
    def alerts(self) -> bool:
        return self.output is not None and self.output.fact is None


def flatten(messages: Any, path: str = "") -> list[Problem]:
    """marshmallow's nested error dict as a flat list of problems with dotted paths."""
    if isinstance(messages, dict):
        problems = []
        for key, value in messages.items():
            if key == "_schema":
                sub = path
            elif isinstance(key, int):
                sub = f"{path}[{key}]"
            else:
                sub = f"{path}.{key}" if path else str(key)
            problems.extend(flatten(value, sub))
        return problems
    if isinstance(messages, list):
        return [problem for item in messages for problem in flatten(item, path)]
    return [Problem(path, str(messages))]


def _context() -> LoadContext:
    return Context[LoadContext].get()


def _unknown_fact(name: str, visible: dict[str, Fact]) -> str:
    close = difflib.get_close_matches(name, list(visible), n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    return f"unknown fact {describe(name)}{hint}"


class ConditionField(fields.Field):
    """A condition tree: ``{fact, op, value}``, ``{all: [...]}``, ``{any: [...]}``,
    ``{not: ...}``."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Condition:
        return parse_condition(value, _context().visible, 0)


def parse_condition(raw: Any, visible: dict[str, Fact], depth: int) -> Condition:
    if depth > MAX_DEPTH:
        raise ValidationError(f"conditions nested deeper than {MAX_DEPTH} levels")
    if not isinstance(raw, dict):
        raise ValidationError("expected a condition: {fact, op, value}, {all: [...]}, "
                              "{any: [...]} or {not: ...}")
    combinators = [key for key in ("all", "any", "not") if key in raw]
    if combinators:
        extra = sorted(set(raw) - {combinators[0]})
        if len(combinators) > 1 or extra:
            raise ValidationError(f"{combinators[0]!r} cannot be combined with "
                                  f"{', '.join(map(repr, combinators[1:] + extra))} "
                                  "in one condition")
        key = combinators[0]
        if key == "not":
            try:
                return Not(parse_condition(raw["not"], visible, depth + 1))
            except ValidationError as error:
                raise ValidationError({"not": error.messages}) from None
        return _parse_group(key, raw[key], visible, depth)
    return _parse_test(raw, visible)


def _parse_group(key: str, items: Any, visible: dict[str, Fact], depth: int) -> Condition:
    if not isinstance(items, list) or not items:
        raise ValidationError({key: ["expected a non-empty list of conditions"]})
    if len(items) > MAX_LIST:
        raise ValidationError({key: [f"more than {MAX_LIST} conditions"]})
    parsed, errors = [], {}
    for index, item in enumerate(items):
        try:
            parsed.append(parse_condition(item, visible, depth + 1))
        except ValidationError as error:
            errors[index] = error.messages
    if errors:
        raise ValidationError({key: errors})
    return All(tuple(parsed)) if key == "all" else AnyOf(tuple(parsed))


def _parse_test(raw: dict, visible: dict[str, Fact]) -> Test:
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(raw) - {"fact", "op", "value"})
    for key in unknown:
        errors[str(key)] = ["unknown field (a comparison has fact, op and value)"]
    name, op_raw = raw.get("fact"), raw.get("op")
    fact = None
    if not isinstance(name, str):
        errors["fact"] = ["missing fact name" if name is None else "expected a fact name"]
    elif name not in visible:
        errors["fact"] = [_unknown_fact(name, visible)]
    else:
        fact = visible[name]
    op = None
    if not isinstance(op_raw, str):
        errors["op"] = ["missing operator" if op_raw is None else "expected an operator"]
    else:
        op = OP_ALIASES.get(op_raw.strip()) or OP_NAMES.get(op_raw.strip())
        if op is None:
            errors["op"] = [f"unknown operator {describe(op_raw)}; use one of "
                            f"{', '.join(Op)} (or =, ≠, <, ≤, >, ≥)"]
        elif fact is not None and op not in OPERATORS[fact.type]:
            errors["op"] = [f"operator {op.value!r} does not apply to {fact.type.value} fact "
                            f"{fact.name!r}; use one of "
                            f"{', '.join(sorted(OPERATORS[fact.type]))}"]
    value = None
    if fact is not None and op is not None and "op" not in errors:
        try:
            value = _parse_operand(fact, op, raw)
        except ValidationError as error:
            errors["value"] = error.messages  # type: ignore[assignment]
    if errors:
        raise ValidationError(errors)
    assert fact is not None and op is not None
    return Test(fact.name, op, value)


def _literal(fact: Fact, raw: Any) -> Any:
    try:
        return parse_literal(fact, raw)
    except InvalidValueError as problem:
        raise ValidationError(str(problem)) from None


def _parse_operand(fact: Fact, op: Op, raw: dict) -> Any:
    if op is Op.IS_EMPTY:
        if raw.get("value") is not None:
            raise ValidationError("is_empty takes no value")
        return None
    if "value" not in raw:
        raise ValidationError("missing value")
    value = raw["value"]
    if op is Op.BETWEEN:
        if not isinstance(value, list) or len(value) != 2:
            raise ValidationError("between needs a list of two values: [low, high]")
        low, high = _literal_list(fact, value)
        if isinstance(low, RelativeDate) != isinstance(high, RelativeDate):
            raise ValidationError("between needs two absolute or two relative dates")
        if _order_key(low) > _order_key(high):
            raise ValidationError(f"the low bound {describe(value[0])} is above the high "
                                  f"bound {describe(value[1])}")
        return (low, high)
    if op in (Op.IN, Op.NOT_IN):
        if not isinstance(value, list) or not value:
            raise ValidationError(f"{op.value} needs a non-empty list of values")
        if len(value) > MAX_LIST:
            raise ValidationError(f"more than {MAX_LIST} values")
        return tuple(dict.fromkeys(_one_code(fact, item)
                                   for item in _literal_list(fact, value)))
    if op is Op.MATCHES:
        if not isinstance(value, str) or not value:
            raise ValidationError("expected a regular expression")
        if len(value) > MAX_PATTERN:
            raise ValidationError(f"regular expression longer than {MAX_PATTERN} characters")
        try:
            re.compile(value)
        except re.error as error:
            raise ValidationError(f"invalid regular expression: {error}") from None
        return value
    if op is Op.STARTS_WITH and (not isinstance(value, str) or not value):
        raise ValidationError("expected the non-empty text the value starts with")
    literal = _literal(fact, value)
    return literal if op is Op.STARTS_WITH else _one_code(fact, literal)


def _one_code(fact: Fact, literal: Any) -> Any:
    """On a fact listing several codes, a compared value is one code."""
    if fact.separator and isinstance(literal, str) and fact.separator in literal:
        raise ValidationError(f"{describe(literal)}: {fact.name} is compared with one code "
                              f"at a time (no {fact.separator!r}); use in for several")
    return literal


def _literal_list(fact: Fact, values: list) -> list:
    parsed, errors = [], {}
    for index, item in enumerate(values):
        try:
            parsed.append(_literal(fact, item))
        except ValidationError as error:
            errors[index] = error.messages
    if errors:
        raise ValidationError(errors)
    return parsed


def _order_key(value: Any) -> Any:
    return value.days if isinstance(value, RelativeDate) else value


class OutcomeField(fields.Field):
    """A rule's ``then`` (or the ruleset's ``default``): a value, ``{fact: name}`` or an
    alert ``{type, severity, message}``."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        context = _context()
        if context.alerts:
            return _parse_alert(value, context.visible)
        return parse_outcome(value, context)


def parse_outcome(raw: Any, context: LoadContext) -> Outcome:
    target = context.output.fact if context.output else None
    if isinstance(raw, dict):
        if set(raw) != {"fact"} or not isinstance(raw["fact"], str):
            raise ValidationError("expected a value or {fact: name}")
        name = raw["fact"]
        fact = context.visible.get(name)
        if fact is None:
            raise ValidationError({"fact": [_unknown_fact(name, context.visible)]})
        if fact.type not in (FactType.STRING, FactType.ENUM):
            raise ValidationError({"fact": [f"{name!r} is a {fact.type.value} fact; only text "
                                            "facts can be copied into an attribute"]})
        if target is not None and target.type is FactType.ENUM and not (
                fact.type is FactType.ENUM and set(fact.values) <= set(target.values)):
            raise ValidationError({"fact": [f"{name!r} can hold values {target.name} does not "
                                            f"allow ({', '.join(target.values)})"]})
        return Outcome(fact=name)
    if not isinstance(raw, str) or not raw:
        raise ValidationError(f"expected a value, got {describe(raw)}")
    if target is not None and target.type is FactType.ENUM:
        _literal(target, raw)
    elif not CODE.match(raw):
        raise ValidationError(f"{describe(raw)} is not a code (letters, digits, _ . -; at "
                              "most 40)")
    return Outcome(value=raw)


def _parse_alert(raw: Any, visible: dict[str, Fact]) -> AlertOutcome:
    if not isinstance(raw, dict):
        raise ValidationError("expected an alert: {type, severity, message}")
    errors: dict[str, list[str]] = {}
    for key in sorted(set(raw) - {"type", "severity", "message"}):
        errors[str(key)] = ["unknown field (an alert has type, severity and message)"]
    kind, severity, message = raw.get("type"), raw.get("severity"), raw.get("message", "")
    if not isinstance(kind, str) or not NAME.match(kind):
        errors["type"] = ["expected a lower-case code such as agreement_ending"]
    if severity not in SEVERITIES:
        errors["severity"] = [f"expected one of {', '.join(Severity)}"]
    if not isinstance(message, str):
        errors["message"] = ["expected text"]
    else:
        problems = template_problems(message)
        problems += [_unknown_fact(name, visible) for name in placeholders(message)
                     if NAME.match(name) and name not in visible]
        if problems:
            errors["message"] = problems
    if errors:
        raise ValidationError(errors)
    return AlertOutcome(kind, str(severity), message)


class RuleSchema(Schema):
    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Regexp(
        NAME, error="expected a lower-case identifier (letters, digits, _)"))
    title = fields.String(load_default="", validate=validate.Length(max=200))
    when = ConditionField(required=True)
    then = OutcomeField(required=True)

    @post_load
    def make(self, data: dict, **kwargs: Any) -> Rule:
        return Rule(data["id"], data["title"], data["when"], data["then"])


class GivenField(fields.Field):
    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dict:
        if not isinstance(value, dict):
            raise ValidationError("expected facts: {fact: value, ...}")
        visible, given, errors = _context().visible, {}, {}
        for name, raw in value.items():
            fact = visible.get(name)
            if fact is None:
                errors[name] = [_unknown_fact(str(name), visible)]
                continue
            try:
                given[name] = None if raw is None else _literal(fact, raw)
            except ValidationError as error:
                errors[name] = error.messages
        if errors:
            raise ValidationError(errors)
        return given


class TestCaseSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(1, 200))
    given = GivenField(required=True)
    expect = fields.Raw(required=True)
    as_of = fields.Date(load_default=None)

    @validates_schema
    def check_expect(self, data: dict, **kwargs: Any) -> None:
        expect = data.get("expect")
        if _context().alerts:
            if not isinstance(expect, list) or not all(isinstance(x, str) for x in expect):
                raise ValidationError("expected the list of alert types raised", "expect")
        elif not isinstance(expect, str):
            raise ValidationError("expected the value the ruleset decides", "expect")

    @post_load
    def make(self, data: dict, **kwargs: Any) -> TestCase:
        expect = data["expect"]
        return TestCase(data["name"], data["given"],
                        tuple(sorted(expect)) if isinstance(expect, list) else expect,
                        data["as_of"])


class RulesetSchema(Schema):
    """A ruleset document; load it through :func:`load_ruleset`."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Regexp(
        NAME, error="expected a lower-case identifier (letters, digits, _), at most 48"))
    title = fields.String(required=True, validate=validate.Length(1, 200))
    description = fields.String(load_default="", validate=validate.Length(max=10_000))
    version = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1))
    subject = fields.Enum(Subject, by_value=True, required=True)
    output = fields.String(required=True)
    hit_policy = fields.Enum(HitPolicy, by_value=True, required=True)
    depends_on = fields.List(fields.String(), load_default=list)
    default = OutcomeField(load_default=None)
    rules = fields.List(fields.Nested(RuleSchema), required=True,
                        validate=validate.Length(1, MAX_RULES, error="a ruleset has 1 to "
                                                 f"{MAX_RULES} rules"))
    tests = fields.List(fields.Nested(TestCaseSchema), load_default=list,
                        validate=validate.Length(max=MAX_TESTS))

    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def check_ruleset(self, data: dict, original: dict, **kwargs: Any) -> None:
        errors: dict[str, Any] = {}
        context = _context()
        output = context.catalog.outputs.get(data.get("output", ""))
        if "output" in data and output is None:
            errors["output"] = [f"unknown output {describe(data['output'])}; one of "
                                f"{', '.join(context.catalog.outputs)}"]
        elif output is not None and output.fact is not None and "subject" in data \
                and output.subject != data["subject"]:
            errors["output"] = [f"{output.name} is decided for a {output.subject.value}, "
                                f"not a {data['subject'].value}"]
        policy = data.get("hit_policy")
        if output is not None and policy is not None:
            wanted = HitPolicy.COLLECT if output.fact is None else HitPolicy.FIRST
            if policy != wanted:
                errors["hit_policy"] = [f"{output.name} needs hit policy {wanted.value!r}"]
        if policy is HitPolicy.FIRST and data.get("default") is None:
            errors["default"] = ["a first-hit ruleset needs a default outcome"]
        if policy is HitPolicy.COLLECT and data.get("default") is not None:
            errors["default"] = ["a collect ruleset has no default"]
        seen: dict[str, int] = {}
        raw_rules = original.get("rules") if isinstance(original.get("rules"), list) else []
        for index, rule in enumerate(raw_rules):
            rule_id = rule.get("id") if isinstance(rule, dict) else None
            if not isinstance(rule_id, str):
                continue
            if rule_id in seen or rule_id == "default":
                why = "reserved" if rule_id == "default" else f"also rules[{seen[rule_id]}]"
                errors.setdefault("rules", {})[index] = {"id": [f"duplicate rule id "
                                                                f"{rule_id!r} ({why})"]}
            seen.setdefault(rule_id, index)
        depends = data.get("depends_on") or []
        for index, name in enumerate(depends):
            if name == data.get("name"):
                errors.setdefault("depends_on", {})[index] = ["a ruleset cannot depend on "
                                                              "itself"]
            elif name not in context.outputs_by_ruleset:
                errors.setdefault("depends_on", {})[index] = [f"unknown ruleset {name!r}"]
            elif context.outputs_by_ruleset[name] == "alerts":
                errors.setdefault("depends_on", {})[index] = [
                    f"{name!r} raises alerts; rules cannot read alerts"]
        if errors:
            raise ValidationError(errors)

    @post_load
    def make(self, data: dict, **kwargs: Any) -> Ruleset:
        return Ruleset(
            name=data["name"], title=data["title"], subject=data["subject"],
            output=data["output"], hit_policy=data["hit_policy"], rules=tuple(data["rules"]),
            description=data["description"], default=data["default"],
            depends_on=tuple(data["depends_on"]), tests=tuple(data["tests"]),
            version=data["version"])


def load_ruleset(raw: Any, outputs_by_ruleset: dict[str, str] | None = None,
                 catalog: Catalog = DEFAULT_CATALOG) -> tuple[Ruleset | None, list[Problem]]:
    """The ruleset and the problems found (every one of them); None if there are any.

    ``outputs_by_ruleset`` names the other rulesets and what they decide, so that
    ``depends_on`` can be checked and their outputs used as facts.
    """
    if not isinstance(raw, dict):
        return None, [Problem("", "expected a ruleset (a mapping with name, title, rules...)")]
    known = dict(outputs_by_ruleset or {})
    subject = raw.get("subject")
    depends = raw.get("depends_on") if isinstance(raw.get("depends_on"), list) else []
    outputs = [known[name] for name in depends if isinstance(name, str) and name in known]
    visible = catalog.visible_facts(Subject(subject), outputs) if subject in SUBJECTS else {}
    output = catalog.outputs.get(raw.get("output")) if isinstance(raw.get("output"), str) \
        else None
    context = LoadContext(catalog, known, visible, output)
    with Context(context):
        try:
            return RulesetSchema().load(raw), []
        except ValidationError as error:
            return None, flatten(error.messages)
