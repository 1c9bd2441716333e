"""What the published rulesets can decide: the alert types and the values of an attribute.

The filters offer these, and the anomaly target lists are the published alert types, so
an alert type an analyst adds to the alert rules gets its list without a code change.
"""

from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from webapp.rulesets.store import latest_published

ALERTS = "alerts"


def alert_types(session: Session) -> list[str]:
    """The alert types of the live alert rulesets, in the rulesets' order."""
    found: dict[str, None] = {}
    for definition in _live(session, ALERTS):
        for rule in definition.get("rules") or ():
            outcome = rule.get("then")
            if isinstance(outcome, dict) and isinstance(outcome.get("type"), str):
                found.setdefault(outcome["type"])
    return list(found)


def attribute_values(session: Session, attribute: str) -> list[str]:
    """The values the live rulesets deciding ``attribute`` can set: their rules' literal
    outcomes and their defaults (a value copied from a fact cannot be listed)."""
    found: dict[str, None] = {}
    for definition in _live(session, attribute):
        outcomes = [rule.get("then") for rule in definition.get("rules") or ()]
        for outcome in [*outcomes, definition.get("default")]:
            if isinstance(outcome, str):
                found.setdefault(outcome)
    return list(found)


def _live(session: Session, output: str) -> Iterator[dict[str, Any]]:
    for version in latest_published(session):
        if version.output == output and isinstance(version.definition, dict):
            yield version.definition
