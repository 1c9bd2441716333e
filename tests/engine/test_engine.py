"""The engine's guarantees: every problem reported, limits refused, no record lost."""

from datetime import date
from decimal import Decimal

import pytest

from engine import evaluate
from engine.catalog import CUSTOMER_FACTS
from engine.compiler import compile_ruleset
from engine.evaluate import evaluate_batch
from engine.language import HitPolicy
from engine.lint import structural_problems, unreachable_rules
from engine.program import build_program
from engine.schema import load_ruleset
from engine.validation import validate_documents
from engine.workers import ParallelEvaluator

AS_OF = date(2026, 1, 15)


def tier(*rules: dict, **extra: object) -> dict:
    return {"name": "tier", "title": "Tier", "subject": "customer", "output": "service_tier",
            "hit_policy": "first", "default": "standard", "rules": list(rules), **extra}


def rule(rule_id: str, when: dict, then: str = "gold") -> dict:
    return {"id": rule_id, "when": when, "then": then}


def test_every_problem_is_reported_with_its_path() -> None:
    document = tier(
        rule("a", {"all": [{"fact": "vip_card", "op": "eq", "value": "none"},
                           {"fact": "revenue_avg_3m", "op": ">", "value": "abc"}]}),
        rule("a", {"fact": "customer_name", "op": "matches", "value": "(["}),
        rule("c", {"not": {"fact": "line_count", "op": "between", "value": [5, 1]}}),
        rule("d", {"fact": "line_count", "op": "in", "value": [1, "two"]}),
        depends_on=["nowhere"])
    del document["default"]
    _, problems = load_ruleset(document)
    assert {str(problem) for problem in problems} >= {
        'rules[0].when.all[1].value: expected an amount in yuan, got "abc"',
        "rules[1].when.value: invalid regular expression: unterminated character set at "
        "position 1",
        "rules[1].id: duplicate rule id 'a' (also rules[0])",
        "rules[2].when.not.value: the low bound 5 is above the high bound 1",
        'rules[3].when.value[1]: expected a whole number, got "two"',
        "default: a first-hit ruleset needs a default outcome",
        "depends_on[0]: unknown ruleset 'nowhere'",
    }


def test_dependency_cycles_are_refused() -> None:
    first = tier(rule("a", {"fact": "line_count", "op": ">", "value": 1}),
                 depends_on=["stage"])
    second = {**tier(rule("b", {"fact": "line_count", "op": ">", "value": 1})),
              "name": "stage", "output": "lifecycle_stage", "default": "C",
              "depends_on": ["tier"]}
    second["rules"][0]["then"] = "A"
    reports = validate_documents({"tier.yaml": first, "stage.yaml": second})
    assert all(not report.ok for report in reports)
    assert all(any("dependency cycle" in str(problem) for problem in report.errors)
               for report in reports)


def test_rules_an_earlier_rule_always_pre_empts_are_warned() -> None:
    ruleset, problems = load_ruleset(tier(
        rule("rich", {"fact": "revenue_avg_12m", "op": ">=", "value": 1000}),
        rule("richer", {"all": [{"fact": "revenue_avg_12m", "op": ">=", "value": 5000},
                                {"fact": "vip_card", "op": "eq", "value": "none"}]}),
        rule("poor", {"fact": "revenue_avg_12m", "op": "<", "value": 1000})))
    assert not problems and ruleset is not None
    assert [str(warning) for warning in unreachable_rules(ruleset)] == [
        "rules[1]: rule richer can never fire: rules[0] (rich) matches every record it "
        "matches and comes first"]


def test_rulesets_past_the_engines_limits_are_refused() -> None:
    overlapping = [rule(f"r{n}", {"fact": "line_count", "op": ">", "value": n})
                   for n in range(80)]
    ruleset, problems = load_ruleset(tier(*overlapping))
    assert not problems and ruleset is not None
    compiled = compile_ruleset(ruleset, CUSTOMER_FACTS)
    assert any("true at once" in str(problem) and "line_count (80)" in str(problem)
               for problem in structural_problems(compiled))
    many = [rule(f"r{n}", {"fact": "customer_code", "op": "eq", "value": f"C{n}"})
            for n in range(460)]
    ruleset, _ = load_ruleset(tier(*many))
    assert ruleset is not None
    assert any("distinct comparisons" in str(problem)
               for problem in structural_problems(compile_ruleset(ruleset, CUSTOMER_FACTS)))


def _program(*rules: dict):
    ruleset, problems = load_ruleset(tier(*rules))
    assert not problems, problems
    return build_program([ruleset])


def test_bad_records_get_an_error_and_the_batch_goes_on() -> None:
    program = _program(rule("big", {"fact": "revenue_percentile", "op": ">=", "value": 90}))
    records = [
        {"key": 1, "revenue_percentile": 95},
        {"key": 2, "revenue_percentile": float("nan")},
        {"key": 3, "revenue_percentile": "95"},
        {"key": 4, "revenue_percentile": Decimal("89.995")},  # rounds half-even to 90.00
        {"key": 5, "revenue_percentile": float("inf")},
        {"key": 6, "revenue_percentile": 10**20},
        {"key": 7},
    ]
    results = evaluate_batch(program, records, AS_OF)
    assert [result.key for result in results] == [1, 2, 3, 4, 5, 6, 7]
    values = {result.key: (result.decisions["service_tier"].value if result.decisions
                           else result.errors["tier"]) for result in results}
    assert values[1] == values[4] == "gold" and values[7] == "standard"
    assert "finite" in values[2] and "expected a number" in values[3]
    assert "finite" in values[5] and "out of range" in values[6]


def test_unicode_long_text_and_money_edges() -> None:
    program = _program(
        rule("cafe", {"fact": "customer_name", "op": "eq", "value": "Café"}),  # NFC
        rule("neg", {"fact": "revenue_avg_3m", "op": "<", "value": 0}),
        rule("zero", {"fact": "revenue_avg_3m", "op": "eq", "value": "0.00"}))
    records = [{"key": 1, "customer_name": "Cafe\u0301"},
               {"key": 2, "revenue_avg_3m": -1},
               {"key": 3, "revenue_avg_3m": 0},
               {"key": 4, "customer_name": "长" * 9_000},
               {"key": 5, "customer_name": "x" * 20_000}]
    results = evaluate_batch(program, records, AS_OF)
    assert [r.decisions["service_tier"].rule_id for r in results[:4]] == [
        "cafe", "neg", "zero", "default"]
    assert "longer than" in results[4].errors["tier"]


def test_records_the_engine_drops_are_reconciled() -> None:
    """The engine drops a message whose id it already holds (it de-duplicates ids by a
    32-bit hash); posting the same id twice reproduces that loss for real."""
    program = _program(rule("g", {"fact": "vip_card", "op": "eq", "value": "gold"}))
    compiled = program.rulesets[0]
    handle = evaluate._handle(compiled)
    messages = [{"id": "same", "_n": n, "vip_card": "gold"} for n in range(5)]
    fired = evaluate._post_all(handle, HitPolicy.COLLECT, messages)
    assert sorted(fired) == [0, 1, 2, 3, 4]


@pytest.mark.slow
def test_a_large_batch_loses_nothing() -> None:
    program = _program(rule("many", {"fact": "line_count", "op": ">=", "value": 3}),
                       rule("some", {"fact": "line_count", "op": "between", "value": [1, 2]}))
    records = [{"key": n, "line_count": n % 5} for n in range(120_000)]
    results = evaluate_batch(program, records, AS_OF)
    expected = ["default", "some", "some", "many", "many"]
    assert [r.decisions["service_tier"].rule_id for r in results] == [
        expected[n % 5] for n in range(120_000)]


def test_spawned_workers_give_the_same_results() -> None:
    program = _program(rule("many", {"fact": "line_count", "op": ">=", "value": 3}))
    records = [{"key": n, "line_count": n % 7} for n in range(6_000)]
    with ParallelEvaluator(program, processes=2, chunk=1000) as pool:
        parallel = pool.evaluate(records, AS_OF)
    assert parallel == list(evaluate_batch(program, records, AS_OF))
