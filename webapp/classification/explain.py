"""Why a line and its customer are classified as they are: rule, version and facts read."""

from collections.abc import Iterator
from datetime import date

from sqlalchemy.orm import Session

from engine.results import Decision, RecordResult
from webapp.classification.facts import CustomerChunk
from webapp.classification.reference import load_reference
from webapp.classification.run import Plan, evaluate_range
from webapp.models import Subscriber
from webapp.rulesets.store import live_rulesets


def explain_line(session: Session, subscriber: Subscriber, as_of: date) -> Iterator[str]:
    """Lines of text: each decision of the line and of its customer, then its alerts."""
    conn = session.connection()
    evaluators = Plan.of(live_rulesets(session)).evaluators()
    batch = evaluate_range(conn, load_reference(conn, as_of), evaluators,
                           CustomerChunk(subscriber.customer_id, subscriber.customer_id))
    line = next(result for record, result in zip(batch.lines, batch.line_results, strict=True)
                if record["key"] == subscriber.id)
    yield f"line {subscriber.service_number} (customer {subscriber.customer_id}), " \
          f"evaluated for {as_of}"
    yield from _decisions("line", line)
    for result in batch.customer_results:
        yield from _decisions("customer", result)
    for alert in line.alerts:
        yield f"  alert {alert.type} [{alert.severity}]: {alert.message}"
        yield f"      rule {alert.rule_id} of {alert.ruleset} v{alert.version}; " \
              f"{_facts(alert.facts)}"
    if not line.alerts:
        yield "  no alerts"


def _decisions(subject: str, result: RecordResult) -> Iterator[str]:
    for output, decision in result.decisions.items():
        yield f"  {subject} {output} = {decision.value}"
        yield f"      {_why(decision)}"
    for ruleset, reason in result.errors.items():
        yield f"  {subject} {ruleset}: not decided: {reason}"


def _why(decision: Decision) -> str:
    rule = "no rule matched, default" if decision.rule_id == "default" \
        else f"rule {decision.rule_id}"
    return f"{rule} of {decision.ruleset} v{decision.version}; {_facts(decision.facts)}"


def _facts(facts: dict[str, str]) -> str:
    return "read " + ", ".join(f"{name}={value or '(empty)'}" for name, value in facts.items()) \
        if facts else "read no facts"
