"""Plain-language reasons: every operator and combinator, with the values read."""

import pytest

from engine.because import because

FACTS = {"revenue_avg_3m": "312.50", "tenure_months": "30", "vip_card": "none",
         "main_product": "天翼e家-129", "box_community": ""}


@pytest.mark.parametrize(("condition", "expected"), [
    ({"all": [{"fact": "revenue_avg_3m", "op": "ge", "value": 300},
              {"fact": "tenure_months", "op": "≥", "value": 24}]},
     "revenue_avg_3m 312.50 ≥ 300 and tenure_months 30 ≥ 24"),
    ({"any": [{"fact": "vip_card", "op": "in", "value": ["gold", "silver"]},
              {"all": [{"fact": "tenure_months", "op": "lt", "value": 6},
                       {"fact": "vip_card", "op": "ne", "value": "diamond"}]}]},
     "vip_card none in (gold, silver) or (tenure_months 30 < 6 and vip_card none ≠ diamond)"),
    ({"fact": "tenure_months", "op": "between", "value": [12, 36]},
     "tenure_months 30 between 12 and 36"),
    ({"fact": "main_product", "op": "starts_with", "value": "天翼e家"},
     "main_product 天翼e家-129 starts with 天翼e家"),
    ({"fact": "main_product", "op": "matches", "value": "^天翼"},
     "main_product 天翼e家-129 matches ^天翼"),
    ({"fact": "vip_card", "op": "not_in", "value": ["gold"]}, "vip_card none not in (gold)"),
    ({"not": {"fact": "box_community", "op": "is_empty"}}, "box_community (empty) is not empty"),
    ({"fact": "box_community", "op": "is_empty"}, "box_community is empty"),
    ({"not": {"fact": "tenure_months", "op": "le", "value": 3}}, "not (tenure_months 30 ≤ 3)"),
    ({"fact": "unknown_fact", "op": "eq", "value": "two words"},
     'unknown_fact (empty) = "two words"'),
    ({"fact": "vip_card", "op": "eq", "value": True}, "vip_card none = true"),
])
def test_a_condition_reads_as_a_sentence_with_the_values_seen(condition: object,
                                                              expected: str) -> None:
    assert because(condition, FACTS) == expected


@pytest.mark.parametrize("hostile", [None, "text", [], {"all": "not a list"}, {"any": []}])
def test_a_malformed_condition_gives_no_sentence_and_no_error(hostile: object) -> None:
    assert because(hostile, FACTS) == ""
