"""The customer-group facts in the rule language: ``group_type`` lists codes, and its
comparisons test membership — in the engine as in the reference interpreter."""

from datetime import date
from itertools import product

import pytest

from engine.catalog import CUSTOMER_FACTS
from engine.evaluate import evaluate_batch
from engine.program import build_program
from engine.schema import load_ruleset
from tests.engine.interpreter import Decided, interpret

AS_OF = date(2026, 11, 23)
#: A customer's group_type as the facts hold it: sorted codes joined by commas.
MEMBERSHIPS = (None, "industrial_park", "building", "building,industrial_park",
               "estate,school", "industrial_park,school")


def statistical(when: dict) -> dict:
    return {"name": "category", "title": "Category", "subject": "customer",
            "output": "statistical_attribute", "hit_policy": "first", "default": "public",
            "rules": [{"id": "hit", "when": when, "then": "business"}]}


CONDITIONS = {
    "eq": ({"fact": "group_type", "op": "eq", "value": "industrial_park"},
           lambda types: "industrial_park" in types),
    "in": ({"fact": "group_type", "op": "in", "value": ["school", "building"]},
           lambda types: bool({"school", "building"} & types)),
    "ne": ({"fact": "group_type", "op": "ne", "value": "industrial_park"},
           lambda types: bool(types) and "industrial_park" not in types),
    "not_in": ({"fact": "group_type", "op": "not_in", "value": ["school", "estate"]},
               lambda types: bool(types) and not {"school", "estate"} & types),
    "not eq": ({"not": {"fact": "group_type", "op": "eq", "value": "industrial_park"}},
               lambda types: "industrial_park" not in types),
    "is_empty": ({"fact": "group_type", "op": "is_empty"}, lambda types: not types),
    "in_group and eq": (
        {"all": [{"fact": "in_group", "op": "eq", "value": True},
                 {"fact": "group_type", "op": "eq", "value": "building"}]},
        lambda types: "building" in types),
    "any of two": ({"any": [{"fact": "group_type", "op": "eq", "value": "school"},
                            {"fact": "group_type", "op": "eq", "value": "estate"}]},
                   lambda types: bool({"school", "estate"} & types)),
    "starts_with reads the whole list": (
        {"fact": "group_type", "op": "starts_with", "value": "building"},
        lambda types: min(types, default="").startswith("building")),
}


@pytest.mark.parametrize("name", sorted(CONDITIONS))
def test_group_type_comparisons_test_membership(name: str) -> None:
    when, expected = CONDITIONS[name]
    ruleset, problems = load_ruleset(statistical(when))
    assert not problems and ruleset is not None
    records = [{"key": number, "group_type": types, "in_group": types is not None}
               for number, types in enumerate(MEMBERSHIPS)]
    results = evaluate_batch(build_program([ruleset]), records, AS_OF)
    for record, result in zip(records, results, strict=True):
        types = set((record["group_type"] or "").split(",")) - {""}
        wanted = "business" if expected(types) else "public"
        assert result.decisions["statistical_attribute"].value == wanted, (name, record)
        reference = interpret(ruleset, record, CUSTOMER_FACTS, AS_OF)
        assert isinstance(reference, Decided) and reference.value == wanted, (name, record)


def test_the_engine_receives_one_flag_per_test_never_the_list() -> None:
    ruleset, _ = load_ruleset(statistical(
        {"any": [{"fact": "group_type", "op": "eq", "value": code} for code in
                 ("a", "b", "c")]}))
    assert ruleset is not None
    compiled = build_program([ruleset]).rulesets[0]
    assert "group_type" not in compiled.value_keys
    assert len(compiled.predicates) == 3
    assert all(predicate.separator == "," for predicate in compiled.predicates)


@pytest.mark.parametrize(("op", "value"), [("eq", "building,school"),
                                           ("in", ["school", "a,b"])])
def test_a_compared_value_is_one_code(op: str, value: object) -> None:
    _, problems = load_ruleset(statistical({"fact": "group_type", "op": op, "value": value}))
    assert [problem.path for problem in problems] == ["rules[0].when.value"]
    assert "one code at a time" in problems[0].message


def test_membership_does_not_depend_on_the_order_of_the_list() -> None:
    ruleset, _ = load_ruleset(statistical(
        {"fact": "group_type", "op": "in", "value": ["x", "y"]}))
    assert ruleset is not None
    program = build_program([ruleset])
    lists = [",".join(order) for order in product(("y", "z"), ("z", "w"))]
    results = evaluate_batch(program, [{"key": n, "group_type": text}
                                       for n, text in enumerate(lists)], AS_OF)
    assert [result.decisions["statistical_attribute"].value for result in results] == [
        "business", "business", "public", "public"]
