"""What the alert list and the target lists share: filter fields, the checks of codes
against the database, and the SQL conditions behind the filters.

"In an org unit" means what the org scope means (:mod:`webapp.scope`): the customer has a
line attributed to a community of the unit's subtree. Days are the operator's: a date
range covers whole days in ``TIMEZONE``, compared with the stored UTC times.
"""

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import ColumnElement, Connection, Select, select
from sqlalchemy.orm import aliased

from engine.domain import ClassifiedAttribute, OrgKind
from engine.schema import CODE
from webapp.clock import start_of
from webapp.models import Customer, OrgUnit, Subscriber, SubscriberDecision
from webapp.query_fields import day_field

FIRST_DAY = date(2000, 1, 1)


def code_field() -> fields.String:
    """An optional org-unit or billing-area code."""
    return fields.String(load_default=None, validate=validate.Regexp(
        CODE, error="not a code (letters, digits, _ . -; at most 40)"))


def choice_field(choices: list[str]) -> fields.String:
    return fields.String(load_default=None, validate=validate.OneOf(
        choices, error="must be one of: {choices}"))


class DateRangeSchema(Schema):
    """``date_from`` and ``date_to`` (both included), in order."""

    date_from = day_field(FIRST_DAY)
    date_to = day_field(FIRST_DAY)

    @validates_schema
    def _in_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            raise ValidationError("is before the start date", "date_to")


def known_type(value: str | None, alert_types: list[str]) -> None:
    """``ValidationError`` unless ``value`` is None or one of ``alert_types`` (the
    published ones)."""
    if value is not None and value not in alert_types:
        raise ValidationError(f"must be one of: {', '.join(alert_types)}")


def given(raw: Mapping[str, str]) -> dict[str, str]:
    """The filled-in fields of a query string (blank ones are not filters)."""
    return {key: value.strip() for key, value in raw.items() if value and value.strip()}


def utc(moment: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime (SQLite returns them naive)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def within_days(column: Any, start: date | None, end: date | None, zone: ZoneInfo
                ) -> list[ColumnElement[bool]]:
    """Conditions: ``column`` falls on one of the days from ``start`` to ``end``."""
    conditions = []
    if start is not None:
        conditions.append(column >= start_of(start, zone))
    if end is not None:
        conditions.append(column < start_of(end + timedelta(days=1), zone))
    return conditions


def communities_under(code: str) -> Select[Any]:
    """Codes of the communities in the subtree of the org unit ``code`` (itself included)."""
    top = select(OrgUnit.id).where(OrgUnit.code == code).cte("subtree", recursive=True)
    child = aliased(OrgUnit)
    tree = top.union_all(select(child.id).join(top, child.parent_id == top.c.id))
    return select(OrgUnit.code).where(OrgUnit.id.in_(select(tree.c.id)),
                                      OrgUnit.kind == OrgKind.COMMUNITY)


def customers_in_org_unit(code: str) -> ColumnElement[bool]:
    """Condition on ``customer.id``: a line of the customer is in the org unit ``code``."""
    return Customer.id.in_(
        select(Subscriber.customer_id)
        .join(SubscriberDecision, SubscriberDecision.subscriber_id == Subscriber.id)
        .where(SubscriberDecision.attribute == ClassifiedAttribute.COMMUNITY,
               SubscriberDecision.value.in_(communities_under(code))))


def check_org_unit(conn: Connection, filters: Mapping[str, Any], field: str = "org_unit"
                   ) -> None:
    """``ValidationError`` when the org unit named in ``filters`` does not exist."""
    code = filters.get(field)
    if code and conn.scalar(select(OrgUnit.id).where(OrgUnit.code == code)) is None:
        raise ValidationError({field: [f"no org unit has the code {code}"]})
