"""Manual changes: staff move a customer to a community or pin an attribute.

Each change is refused, with the reason, outside the adjustment window or outside the
staff member's org subtree; otherwise it pins the value (rules no longer change it; runs
record what they would decide in ``rule_value``) and writes the same adjustment-log row
as a rule change, with the person and reason, in the same transaction. Expired pins are
released by the next run, which logs it and queues the customer for re-evaluation.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import Session

from engine.catalog import OUTPUTS
from engine.domain import ClassifiedAttribute, DecisionSource, OrgKind
from engine.months import add_months
from webapp.audit import chain
from webapp.models import (
    Customer,
    CustomerDecision,
    OrgUnit,
    StaffUser,
    Subscriber,
    SubscriberDecision,
)
from webapp.models.changes import mark_changed
from webapp.scope import Scope, scope_of
from webapp.wording import say

MAX_REASON = 2000
_WINDOW = re.compile(r"^\s*(\d{1,2})\s*-\s*(\d{1,2})\s*$")


class AdjustmentRefusedError(ValueError):
    """Why a manual change is not allowed; the message is meant for the staff member."""


class OutsideWindowError(AdjustmentRefusedError):
    """Refused because the adjustment window is closed today."""

    def __init__(self, window: "AdjustmentWindow", opens_on: date) -> None:
        super().__init__(say("outside the adjustment window (day %(opens)s of a month to day "
                             "%(closes)s of the next): it opens on %(day)s",
                             opens=window.opens, closes=window.closes, day=opens_on))
        self.window = window
        self.opens_on = opens_on


class OutsideScopeError(AdjustmentRefusedError):
    """Refused because the customer or the community is outside the person's org scope."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        #: The customer or org unit outside the scope.
        self.code = code


@dataclass(frozen=True)
class AdjustmentWindow:
    """From day ``opens`` of a month to day ``closes`` of the next, inclusive."""

    opens: int = 9
    closes: int = 3

    @classmethod
    def parse(cls, text: str) -> "AdjustmentWindow":
        match = _WINDOW.match(text)
        if not match or not (1 <= int(match[2]) < int(match[1]) <= 28):
            raise ValueError(f"adjustment window {text!r}: expected OPENS-CLOSES days, e.g. "
                             "9-3 (opens on the 9th, closes after the 3rd of the next month)")
        return cls(int(match[1]), int(match[2]))

    def contains(self, day: date) -> bool:
        return day.day >= self.opens or day.day <= self.closes

    def next_opening(self, day: date) -> date:
        opening = day.replace(day=self.opens)
        return opening if opening >= day else add_months(opening, 1).replace(day=self.opens)

    def last_day(self, day: date) -> date:
        """The last day of the window open on ``day``."""
        closing = day.replace(day=self.closes)
        return closing if day.day <= self.closes \
            else add_months(closing, 1).replace(day=self.closes)


@dataclass(frozen=True)
class Policy:
    window: AdjustmentWindow
    timezone: ZoneInfo

    @classmethod
    def from_config(cls, config: Any) -> "Policy":
        return cls(AdjustmentWindow.parse(config["ADJUSTMENT_WINDOW"]),
                   ZoneInfo(config["TIMEZONE"]))


def pin(session: Session, staff: StaffUser, customer: Customer,
        attribute: ClassifiedAttribute, value: str, reason: str, now: datetime,
        policy: Policy, expires_at: datetime | None = None) -> int:
    """Pin one attribute of ``customer`` (``community``: every line of it) to ``value``;
    returns how many values changed. Raises :class:`AdjustmentRefusedError`."""
    reason = _check_request(staff, reason, now, policy, expires_at)
    _check_customer(session, staff, customer, scope_of(session.connection(), staff))
    value = _check_value(session, staff, attribute, value)
    changed = _pin(session, staff, customer, attribute, value, reason, now, expires_at)
    session.commit()
    return changed


@dataclass
class MoveReport:
    """What a bulk move did: customers moved and values changed, or (line, why) of each
    line refused, in which case nothing was moved."""

    moved: int = 0
    changed: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)


def move_customers(session: Session, staff: StaffUser, codes: Sequence[tuple[int, str]],
                   community: str, reason: str, now: datetime, policy: Policy) -> MoveReport:
    """The monthly division's move: the lines of each customer of ``codes`` ((line,
    customer code) of an upload or a form) that wait in an unassigned community of the
    person's scope go to ``community`` (lines placed elsewhere stay). All or none: a line
    that cannot be moved is reported and nothing moves. Raises
    :class:`AdjustmentRefusedError` for what concerns every line (window, reason,
    community)."""
    reason = _check_request(staff, reason, now, policy, None)
    community = _check_value(session, staff, ClassifiedAttribute.COMMUNITY, community)
    scope = scope_of(session.connection(), staff)
    waiting: dict[str, list[int]] = {}
    known: set[str] = set()
    wanted = [code for _line, code in codes]
    unassigned = select(OrgUnit.code).where(OrgUnit.unassigned_billing_area_id.is_not(None))
    for start in range(0, len(wanted), 1000):
        part = wanted[start:start + 1000]
        known.update(session.scalars(select(Customer.code).where(Customer.code.in_(part))))
        for code, line_id, placed in session.execute(
                select(Customer.code, Subscriber.id, SubscriberDecision.value)
                .join(Subscriber, Subscriber.customer_id == Customer.id)
                .join(SubscriberDecision, SubscriberDecision.subscriber_id == Subscriber.id)
                .where(Customer.code.in_(part),
                       SubscriberDecision.attribute == ClassifiedAttribute.COMMUNITY,
                       SubscriberDecision.value.in_(unassigned))):
            if placed in scope:
                waiting.setdefault(code, []).append(line_id)
    report = MoveReport()
    for line, code in codes:
        if code not in known:
            report.problems.append((line, say("no customer %(code)s", code=code)))
        elif code not in waiting:
            report.problems.append((line, say(
                "customer %(code)s has no line waiting in an unassigned community of "
                "%(user)s's org scope", code=code, user=staff.username)))
    if report.problems:
        session.rollback()
        return report
    conn = session.connection()
    for _line, code in codes:
        log = [entry for line_id in waiting[code] if (entry := _pin_one(
            conn, SubscriberDecision, "subscriber_id", line_id, ClassifiedAttribute.COMMUNITY,
            community, reason, staff, now, None))]
        chain.append(conn, log)
        report.changed += len(log)
        report.moved += 1
    session.commit()
    return report


def _pin(session: Session, staff: StaffUser, customer: Customer,
         attribute: ClassifiedAttribute, value: str, reason: str, now: datetime,
         expires_at: datetime | None) -> int:
    conn = session.connection()
    if attribute is ClassifiedAttribute.COMMUNITY:
        ids = conn.scalars(select(Subscriber.id).where(Subscriber.customer_id == customer.id))
        targets = [(SubscriberDecision, "subscriber_id", line_id) for line_id in ids]
    else:
        targets = [(CustomerDecision, "customer_id", customer.id)]
    log = []
    for model, key, subject_id in targets:
        entry = _pin_one(conn, model, key, subject_id, attribute, value, reason, staff, now,
                         expires_at)
        if entry:
            log.append(entry)
    chain.append(conn, log)
    return len(log)


def unpin(session: Session, staff: StaffUser, customer: Customer,
          attribute: ClassifiedAttribute, reason: str, now: datetime, policy: Policy) -> int:
    """Give a pinned attribute back to the rules: the value becomes the rules' latest
    opinion, logged with the person and reason, and the customer is queued so the next
    run decides it afresh. Returns how many values changed; refused like :func:`pin`,
    and when the attribute is not pinned."""
    reason = _check_request(staff, reason, now, policy, None)
    _check_customer(session, staff, customer, scope_of(session.connection(), staff))
    conn = session.connection()
    if attribute is ClassifiedAttribute.COMMUNITY:
        model, key = SubscriberDecision, "subscriber_id"
        ids = list(conn.scalars(select(Subscriber.id).where(
            Subscriber.customer_id == customer.id)))
    else:
        model, key, ids = CustomerDecision, "customer_id", [customer.id]
    subject = getattr(model, key)
    pinned = conn.execute(select(subject, model.attribute, model.value, model.rule_value)
                          .where(subject.in_(ids), model.attribute == attribute,
                                 model.source == DecisionSource.PIN)).all()
    if not pinned:
        raise AdjustmentRefusedError(say("%(attribute)s of %(code)s is not pinned",
                                          attribute=attribute, code=customer.code))
    _give_back(conn, model, subject, pinned, now, None)
    log = [{"logged_at": now, "staff_user_id": staff.id, key: subject_id,
            "attribute": attribute, "old_value": value, "new_value": rule_value,
            "reason": f"unpinned: {reason}"}
           for subject_id, _attribute, value, rule_value in pinned
           if rule_value and rule_value != value]
    chain.append(conn, log)
    mark_changed(conn, "customer", select(Customer.id).where(Customer.id == customer.id), now)
    session.commit()
    return len(log)


def _pin_one(conn: Connection, model: Any, key: str, subject_id: int,
             attribute: ClassifiedAttribute, value: str, reason: str, staff: StaffUser,
             now: datetime, expires_at: datetime | None) -> dict[str, Any] | None:
    subject = getattr(model, key)
    row = conn.execute(select(model.value, model.source, model.rule_value).where(
        subject == subject_id, model.attribute == attribute)).first()
    rule_value = (row.rule_value if row.source == DecisionSource.PIN else row.value) \
        if row else None
    values = {"value": value, "source": DecisionSource.PIN, "pinned_by_id": staff.id,
              "pin_reason": reason, "pin_expires_at": expires_at, "rule_value": rule_value,
              "decided_at": now, "rule_id": None, "ruleset_name": None,
              "ruleset_version": None, "run_id": None}
    if row is None:
        conn.execute(model.__table__.insert().values(
            {key: subject_id, "attribute": attribute, **values}))
    else:
        conn.execute(update(model).where(subject == subject_id, model.attribute == attribute)
                     .values(values))
    if row is not None and row.value == value:
        return None  # re-pinned to the same value: no value changed
    return {"logged_at": now, "staff_user_id": staff.id, key: subject_id,
            "attribute": attribute, "old_value": row.value if row else None,
            "new_value": value, "reason": reason}


def _check_request(staff: StaffUser, reason: str, now: datetime, policy: Policy,
                   expires_at: datetime | None) -> str:
    """Refuse what makes a request wrong whatever the customer; returns the reason."""
    if not staff.active:
        raise AdjustmentRefusedError(say("%(user)s is deactivated", user=staff.username))
    reason = (reason or "").strip()
    if not reason:
        raise AdjustmentRefusedError(say("a reason is required"))
    if len(reason) > MAX_REASON:
        raise AdjustmentRefusedError(say("the reason is longer than %(count)s characters",
                                          count=MAX_REASON))
    if expires_at is not None and expires_at <= now:
        raise AdjustmentRefusedError(say("the expiry %(when)s is not in the future",
                                          when=f"{expires_at:%Y-%m-%d %H:%M}"))
    today = now.astimezone(policy.timezone).date()
    window = policy.window
    if not window.contains(today):
        raise OutsideWindowError(window, window.next_opening(today))
    return reason


def _check_customer(session: Session, staff: StaffUser, customer: Customer,
                    scope: Scope) -> None:
    outside = sorted(code for code in _communities(session, customer) if code not in scope)
    if outside:
        raise OutsideScopeError(say(
            "customer %(code)s is in community %(community)s, outside %(user)s's org scope",
            code=customer.code, community=outside[0], user=staff.username), customer.code)


def _check_value(session: Session, staff: StaffUser, attribute: ClassifiedAttribute,
                 value: str) -> str:
    value = (value or "").strip()
    fact = OUTPUTS[attribute.value].fact
    if not value or len(value) > 64:
        raise AdjustmentRefusedError(say("%(attribute)s: a value of 1 to 64 characters is "
                                          "required", attribute=attribute))
    if fact is not None and fact.values and value not in fact.values:
        raise AdjustmentRefusedError(say("%(attribute)s: %(value)r is not one of %(values)s",
                                         attribute=attribute, value=value,
                                         values=", ".join(fact.values)))
    if attribute in (ClassifiedAttribute.COMMUNITY, ClassifiedAttribute.MARKETING_ATTRIBUTE):
        unit = session.scalar(select(OrgUnit).where(OrgUnit.code == value))
        if unit is None or unit.retired:
            raise AdjustmentRefusedError(say("%(attribute)s: no active org unit %(value)r",
                                              attribute=attribute, value=value))
        if attribute is ClassifiedAttribute.COMMUNITY and unit.kind != OrgKind.COMMUNITY:
            raise AdjustmentRefusedError(say("%(value)s is a %(kind)s, not a community",
                                              value=value, kind=unit.kind))
        if not _in_subtree(session, staff, value):
            raise OutsideScopeError(say("%(value)s is outside %(user)s's org scope",
                                        value=value, user=staff.username), value)
    return value


def _communities(session: Session, customer: Customer) -> set[str]:
    """The communities the customer's lines are attributed to."""
    return set(session.scalars(select(SubscriberDecision.value).join(
        Subscriber, Subscriber.id == SubscriberDecision.subscriber_id).where(
        Subscriber.customer_id == customer.id,
        SubscriberDecision.attribute == ClassifiedAttribute.COMMUNITY)))


def _in_subtree(session: Session, staff: StaffUser, code: str) -> bool:
    """Whether org unit ``code`` is in the staff member's subtree (a customer is moved
    into a community of the manager's own units, never into an unassigned one)."""
    if staff.org_unit_id is None:
        return True
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None or unit.unassigned_billing_area_id is not None:
        return False
    while unit is not None:
        if unit.id == staff.org_unit_id:
            return True
        unit = unit.parent
    return False


def _give_back(conn: Connection, model: Any, subject: Any, pinned: Sequence[Any],
               now: datetime, run_id: int | None) -> None:
    """Make pinned values rule-made again, with the rules' latest opinion as the value;
    ``pinned`` holds (subject id, attribute, value, rule value) rows."""
    conn.execute(update(model).where(subject == bindparam("k"), model.attribute == bindparam("a"))
                 .values(source=DecisionSource.RULE, value=bindparam("n_value"),
                         rule_value=None, pinned_by_id=None, pin_reason=None,
                         pin_expires_at=None, run_id=run_id, decided_at=now),
                 [{"k": subject_id, "a": attribute, "n_value": rule_value or value}
                  for subject_id, attribute, value, rule_value in pinned])


def release_expired(session: Session, now: datetime, run_id: int) -> int:
    """Give every expired pin back to the rules (value = the rules' latest opinion), log
    it as the run's change, and queue the customers for re-evaluation."""
    conn = session.connection()
    log: list[dict[str, Any]] = []
    for model, key in ((CustomerDecision, "customer_id"), (SubscriberDecision, "subscriber_id")):
        subject = getattr(model, key)
        expired = conn.execute(select(subject, model.attribute, model.value, model.rule_value)
                               .where(model.source == DecisionSource.PIN,
                                      model.pin_expires_at <= now)).all()
        if not expired:
            continue
        _give_back(conn, model, subject, expired, now, run_id)
        log.extend({"logged_at": now, "run_id": run_id, key: subject_id,
                    "attribute": attribute, "old_value": value,
                    "new_value": rule_value or value, "reason": "pin expired"}
                   for subject_id, attribute, value, rule_value in expired)
        ids = [row[0] for row in expired]
        owner = (select(Customer.id).where(Customer.id.in_(ids)) if key == "customer_id"
                 else select(Subscriber.customer_id).where(Subscriber.id.in_(ids)))
        mark_changed(conn, "customer", owner, now)
    chain.append(conn, log)
    session.commit()
    return len(log)
