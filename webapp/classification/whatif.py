"""What-if: a line's facts (and optionally its customer's) evaluated with the published
rulesets, nothing read from or written to the customers' tables.

The three stages of a run (:mod:`webapp.classification.run`) on one record: the line's
rulesets that need nothing from its customer, then the customer's rulesets, then the
line's rulesets that read customer outputs. The customer is the one-line customer the
line would make — its facts derived from the line's as a run derives them, its
community the one the line is attributed to — with every customer fact given replacing
the derived one. The org tree supplies channels and departments; the revenue percentile,
when a rule reads it and it is not given, is ranked among the stored population (an
aggregate over every customer's year: give it to spare the database).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from engine.evaluate import Program, evaluate_batch
from engine.language import Ruleset
from engine.results import RecordResult
from engine.values import RelativeDate
from webapp.classification.reference import RunReference, load_reference, reads_percentile
from webapp.classification.run import stages
from webapp.rulesets.store import live_rulesets

#: Facts a one-line customer has exactly as its line.
_SAME_AS_LINE = ("vip_card", "key_account", "install_date", "revenue_this_month",
                 "revenue_avg_3m", "revenue_avg_12m", "revenue_change_pct", "tenure_months")


@dataclass(frozen=True)
class WhatIf:
    as_of: date
    #: The published rulesets evaluated: name → version.
    versions: dict[str, int]
    #: Rule titles: (ruleset, rule id) → title.
    titles: dict[tuple[str, str], str]
    line: RecordResult
    customer: RecordResult
    #: The customer's facts as evaluated (derived from the line, or given).
    customer_facts: dict[str, Any]


def what_if(session: Session, line_facts: Mapping[str, Any],
            customer_facts: Mapping[str, Any] | None, as_of: date) -> WhatIf:
    """Evaluate the facts (catalog names → native values; relative dates allowed)."""
    rulesets = live_rulesets(session)
    first, for_customers, last = stages(rulesets)
    given = _resolved(customer_facts or {}, as_of)
    reference = load_reference(session.connection(), as_of, percentiles=(
        "revenue_percentile" not in given and reads_percentile(rulesets)))
    line = {**_resolved(line_facts, as_of), "key": "line"}
    line_result = _evaluate(first, line, as_of)
    line.update({output: decision.value for output, decision in line_result.decisions.items()})
    customer = {**_one_line_customer(line, given.get("community"), reference), **given,
                "key": "customer"}
    customer_result = _evaluate(for_customers, customer, as_of)
    line.update({output: decision.value
                 for output, decision in customer_result.decisions.items()})
    later = _evaluate(last, line, as_of)
    line_result.decisions.update(later.decisions)
    line_result.alerts.extend(later.alerts)
    line_result.errors.update(later.errors)
    del customer["key"]
    return WhatIf(as_of, *_described(rulesets), line_result, customer_result, customer)


def _evaluate(program: Program, record: dict[str, Any], as_of: date) -> RecordResult:
    return evaluate_batch(program, [record], as_of)[0]


def _resolved(facts: Mapping[str, Any], as_of: date) -> dict[str, Any]:
    return {name: value.resolve(as_of) if isinstance(value, RelativeDate) else value
            for name, value in facts.items()}


def _one_line_customer(line: Mapping[str, Any], community: str | None,
                       reference: RunReference) -> dict[str, Any]:
    """The customer facts of a customer whose only line is ``line`` (see
    :func:`webapp.classification.reference.customer_facts`, which does it for stored
    customers of any number of lines)."""
    community = community or line.get("community")
    org = reference.org
    unit = org.units.get(community or "")
    facts = {name: line.get(name) for name in _SAME_AS_LINE}
    average = line.get("revenue_avg_12m")
    facts.update({
        "line_count": 1,
        "active_line_count": int(line.get("status") == "active"),
        "prepaid_only": line.get("prepaid"),
        "main_product": line.get("product"),
        "revenue_percentile": reference.percentile(average * 12)
        if isinstance(average, int) else None,
        "community": community,
        "channel": unit.channel if unit else None,
        "key_account_department": org.department(community, "key_account"),
        "business_department": org.department(community, "business"),
        "bundled_department": org.department(community, "bundled"),
        # A customer that does not exist yet is in no group (unless the facts say so).
        "in_group": False,
        "group_type": None,
    })
    return facts


def _described(rulesets: list[Ruleset]) -> tuple[dict[str, int], dict[tuple[str, str], str]]:
    versions = {ruleset.name: ruleset.version for ruleset in rulesets}
    titles = {(ruleset.name, rule.id): rule.title for ruleset in rulesets
              for rule in ruleset.rules}
    return versions, titles
