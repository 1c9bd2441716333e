"""Running a ruleset's test cases: given facts → the expected value or alert types."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from engine.catalog import DEFAULT_CATALOG, Catalog
from engine.evaluate import evaluate_batch
from engine.language import HitPolicy, Ruleset
from engine.program import build_program
from engine.values import RelativeDate

#: Evaluation date of test cases that do not name one (``as_of``).
DEFAULT_TEST_DATE = date(2026, 1, 15)


@dataclass(frozen=True)
class TestOutcome:
    ruleset: str
    name: str
    passed: bool
    expected: str
    actual: str
    #: The rule(s) that decided, or the error.
    detail: str


def run_tests(ruleset: Ruleset, other_outputs: Mapping[str, str] | None = None,
              catalog: Catalog = DEFAULT_CATALOG) -> list[TestOutcome]:
    """Every test case of ``ruleset``; outputs of its dependencies (``other_outputs``:
    ruleset name → output) come from ``given``."""
    program = build_program([ruleset], catalog, other_outputs)
    outcomes = []
    for case in ruleset.tests:
        as_of = case.as_of or DEFAULT_TEST_DATE
        facts = {name: value.resolve(as_of) if isinstance(value, RelativeDate) else value
                 for name, value in case.given.items()}
        result = evaluate_batch(program, [facts], as_of)[0]
        expected = case.expect if isinstance(case.expect, str) else ", ".join(case.expect)
        if ruleset.name in result.errors:
            actual, detail = "error", result.errors[ruleset.name]
        elif ruleset.hit_policy is HitPolicy.COLLECT:
            types = sorted({alert.type for alert in result.alerts})
            actual = ", ".join(types)
            detail = ", ".join(alert.rule_id for alert in result.alerts) or "no rule fired"
        else:
            decision = result.decisions[ruleset.output]
            actual, detail = decision.value, f"rule {decision.rule_id}"
        outcomes.append(TestOutcome(ruleset.name, case.name, actual == expected, expected,
                                    actual, detail))
    return outcomes
