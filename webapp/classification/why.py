"""Why a customer and its lines hold their values: the evidence of each decision.

A rule-made value is explained by the adjustment-log row that set it: runs write a value
only when it changes, and log the rule, its ruleset version and the facts the rule read
in the same transaction, so that row is the exact record of the decision. The rule's
title and condition come from the stored ruleset version (published versions never
change), and :func:`engine.because.because` puts the two together in words. A pinned
value is explained by its pin: who, why, until when, and what the rules would decide.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select
from sqlalchemy.orm import Session

from engine.because import because
from engine.domain import DecisionSource
from webapp.models import (
    AdjustmentLogEntry,
    Alert,
    Customer,
    CustomerDecision,
    RulesetVersion,
    StaffUser,
    Subscriber,
    SubscriberDecision,
)

#: Lines shown with a customer (a contract may hold thousands).
LINES = 200
ALERTS = 200


@dataclass(frozen=True)
class Why:
    """One attribute's value and where it came from."""

    attribute: str
    value: str
    source: DecisionSource
    decided_at: datetime
    rule_id: str | None = None
    rule_title: str | None = None
    ruleset: str | None = None
    version: int | None = None
    run_id: int | None = None
    #: The condition in words with the values read, e.g. ``tenure_months 30 ≥ 24``.
    because: str | None = None
    #: The facts the rule read (None: the log holds no record of them).
    facts: dict[str, str] | None = None
    pinned_by: str | None = None
    pin_reason: str | None = None
    pin_expires_at: datetime | None = None
    #: While pinned: what the rules decide.
    rule_value: str | None = None

    @property
    def pinned(self) -> bool:
        return self.source == DecisionSource.PIN


@dataclass(frozen=True)
class LineWhy:
    id: int
    service_number: str
    name: str
    status: str
    decisions: list[Why]


@dataclass(frozen=True)
class CustomerExplanation:
    customer: Customer
    decisions: list[Why]
    lines: list[LineWhy]
    #: All the customer's lines (``lines`` holds at most :data:`LINES`).
    line_count: int
    alerts: list[Alert] = field(default_factory=list)


def explain_customer(session: Session, customer: Customer, *, lines: int = LINES,
                     alerts: int = ALERTS) -> CustomerExplanation:
    """Every value of ``customer`` and of its first ``lines`` lines, with its reason,
    and its alerts (open first, then the latest cleared), at most ``alerts``."""
    conn = session.connection()
    subscribers = session.scalars(select(Subscriber).where(
        Subscriber.customer_id == customer.id).order_by(Subscriber.service_number)
        .limit(lines)).all()
    line_count = conn.scalar(select(func.count()).where(
        Subscriber.customer_id == customer.id)) or 0
    rules = RuleTexts(conn)
    own = _decisions(conn, rules, CustomerDecision, CustomerDecision.customer_id,
                     [customer.id])
    by_line = _decisions(conn, rules, SubscriberDecision, SubscriberDecision.subscriber_id,
                         [line.id for line in subscribers])
    return CustomerExplanation(
        customer, own.get(customer.id, []),
        [LineWhy(line.id, line.service_number, line.name, str(line.status),
                 by_line.get(line.id, [])) for line in subscribers],
        line_count, customer_alerts(session, customer, alerts))


def customer_alerts(session: Session, customer: Customer, limit: int = ALERTS) -> list[Alert]:
    """The alerts on the customer and its lines: open ones first, newest first."""
    lines = select(Subscriber.id).where(Subscriber.customer_id == customer.id)
    return list(session.scalars(
        select(Alert).where(or_(Alert.customer_id == customer.id,
                                Alert.subscriber_id.in_(lines)))
        .order_by(Alert.cleared_at.is_not(None), Alert.raised_at.desc(), Alert.id.desc())
        .limit(limit)))


def _decisions(conn: Connection, rules: "RuleTexts", model: Any, subject: Any,
               ids: Sequence[int]
               ) -> dict[int, list[Why]]:
    if not ids:
        return {}
    rows = conn.execute(select(*model.__table__.c, StaffUser.display_name.label("pinned_by"))
                        .outerjoin(StaffUser, StaffUser.id == model.pinned_by_id)
                        .where(subject.in_(ids)).order_by(subject, model.attribute)).all()
    evidence = _evidence(conn, subject.key, ids)
    found: dict[int, list[Why]] = {}
    for row in rows:
        key = getattr(row, subject.key)
        found.setdefault(key, []).append(_why(rules, row, evidence.get(
            (key, str(row.attribute), row.value, row.rule_id, row.ruleset_version))))
    return found


def _evidence(conn: Connection, key: str, ids: Iterable[int]
              ) -> dict[tuple[Any, ...], dict[str, str] | None]:
    """The facts of the latest run-made log row of each (subject, attribute, value, rule,
    version) of the subjects."""
    log = AdjustmentLogEntry
    subject = getattr(log, key)
    found: dict[tuple[Any, ...], dict[str, str] | None] = {}
    for row in conn.execute(select(subject, log.attribute, log.new_value, log.rule_id,
                                   log.ruleset_version, log.facts)
                            .where(subject.in_(list(ids)), log.run_id.is_not(None))
                            .order_by(log.chain_seq.desc())):
        found.setdefault((row[0], str(row.attribute), row.new_value, row.rule_id,
                          row.ruleset_version), row.facts)
    return found


def _why(rules: "RuleTexts", decision: Any, facts: dict[str, str] | None) -> Why:
    common = {"attribute": str(decision.attribute), "value": decision.value,
              "source": decision.source, "decided_at": decision.decided_at}
    if decision.source == DecisionSource.PIN:
        return Why(**common, pinned_by=decision.pinned_by, pin_reason=decision.pin_reason,
                   pin_expires_at=decision.pin_expires_at, rule_value=decision.rule_value)
    title, condition = rules.rule(decision.ruleset_name, decision.ruleset_version,
                                  decision.rule_id)
    if decision.rule_id == "default":
        reason = "no rule matched: the ruleset's default"
    else:
        reason = because(condition, facts) if condition is not None and facts is not None \
            else None
    return Why(**common, rule_id=decision.rule_id, rule_title=title,
               ruleset=decision.ruleset_name, version=decision.ruleset_version,
               run_id=decision.run_id, because=reason, facts=facts)


class RuleTexts:
    """Titles and conditions of the rules of stored ruleset versions, each version read
    once."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.versions: dict[tuple[str, int], dict[str, tuple[str | None, Any]]] = {}

    def rule(self, ruleset: str | None, version: int | None, rule_id: str | None
             ) -> tuple[str | None, Any]:
        """The title and condition (document form) of a rule (None, None: unknown)."""
        if ruleset is None or version is None or rule_id is None:
            return None, None
        if (ruleset, version) not in self.versions:
            self.versions[ruleset, version] = self._read(ruleset, version)
        return self.versions[ruleset, version].get(rule_id, (None, None))

    def _read(self, ruleset: str, version: int) -> dict[str, tuple[str | None, Any]]:
        definition = self.conn.scalar(select(RulesetVersion.definition).where(
            RulesetVersion.name == ruleset, RulesetVersion.version == version))
        if not isinstance(definition, dict):
            return {}
        rules = definition.get("rules") if isinstance(definition.get("rules"), list) else []
        found = {rule["id"]: (rule.get("title"), rule.get("when"))
                 for rule in rules if isinstance(rule, dict) and "id" in rule}
        found["default"] = ("default", None)
        return found
