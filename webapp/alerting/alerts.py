"""The alert list: filters, newest first in keyset pages, streamed rows; acknowledgement.

An alert sits on a line (``subscriber_id``) or on a customer (``customer_id``); either
way it belongs to one customer, and a person sees the alerts of the customers in their
org scope. Pages go by (``raised_at``, ``id``), newest first: a page is "the N alerts
before this one", an index range scan (``ix_alert_raised_id``, or
``ix_alert_type_raised_id`` with a type) at any size of table, where an offset would
read and skip every newer alert. ``id`` breaks the ties of a run, whose alerts share
one ``raised_at``.

Statuses: *open* (not cleared), *cleared*, *acknowledged* (whether cleared since or
not), *unacknowledged* (open and not acknowledged yet: the work still to do).
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import EXCLUDE, fields, validate, validates
from sqlalchemy import ColumnElement, Connection, Select, func, select, tuple_, update
from sqlalchemy.orm import aliased

from engine.domain import Severity
from webapp.alerting.filters import (
    DateRangeSchema,
    check_org_unit,
    choice_field,
    code_field,
    customers_in_org_unit,
    given,
    known_type,
    utc,
    within_days,
)
from webapp.models import Alert, Customer, StaffUser, Subscriber
from webapp.scope import Scope

PAGE = 50
STATUSES = ("open", "cleared", "acknowledged", "unacknowledged")
#: Rows fetched at a time by an export.
BATCH = 2000


class AlertFilterSchema(DateRangeSchema):
    """The alert list's filters, from the query string: every one optional."""

    class Meta:
        unknown = EXCLUDE

    #: One of the alert types given to the schema (those of the published rules).
    alert_type = fields.String(load_default=None)
    severity = choice_field([severity.value for severity in Severity])
    org_unit = code_field()
    status = choice_field(list(STATUSES))
    #: The id of the last alert of the previous page.
    before = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**62))

    def __init__(self, alert_types: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alert_types = list(alert_types)

    @validates("alert_type")
    def _known_type(self, value: str | None, **kwargs: Any) -> None:
        known_type(value, self.alert_types)


def parse_filters(raw: dict[str, str], alert_types: Sequence[str],
                  only: Sequence[str] | None = None) -> dict[str, Any]:
    """The filters of a query string (only the fields ``only`` names, when given);
    ``ValidationError`` names each bad field. ``alert_types``: the types one may ask for."""
    values = given(raw)
    if only is not None:
        values = {key: value for key, value in values.items() if key in only}
    return AlertFilterSchema(alert_types).load(values)


def check_filters(conn: Connection, filters: dict[str, Any]) -> None:
    """``ValidationError`` for a filter naming what does not exist (an org unit)."""
    check_org_unit(conn, filters)


@dataclass(frozen=True)
class AlertRow:
    id: int
    #: Times are UTC (aware), as stored.
    raised_at: datetime
    alert_type: str
    severity: str
    customer_code: str
    customer_name: str
    service_number: str | None
    message: str
    cleared_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None

    @property
    def open(self) -> bool:
        return self.cleared_at is None


def _owner() -> Any:
    """The id of the customer an alert belongs to (its own, or its line's)."""
    return func.coalesce(Alert.customer_id, Subscriber.customer_id)


def _status(status: str | None) -> list[ColumnElement[bool]]:
    if status == "open":
        return [Alert.cleared_at.is_(None)]
    if status == "cleared":
        return [Alert.cleared_at.is_not(None)]
    if status == "acknowledged":
        return [Alert.acknowledged_at.is_not(None)]
    if status == "unacknowledged":
        return [Alert.cleared_at.is_(None), Alert.acknowledged_at.is_(None)]
    return []


def _query(filters: dict[str, Any], scope: Scope, zone: ZoneInfo) -> Select[Any]:
    query = (select(Alert.id, Alert.raised_at, Alert.alert_type, Alert.severity,
                    Customer.code, Customer.name, Subscriber.service_number, Alert.message,
                    Alert.cleared_at, Alert.acknowledged_at, StaffUser.username)
             .select_from(Alert)
             .outerjoin(Subscriber, Subscriber.id == Alert.subscriber_id)
             .join(Customer, Customer.id == _owner())
             .outerjoin(StaffUser, StaffUser.id == Alert.acknowledged_by_id)
             .where(scope.customers(), *_status(filters.get("status")),
                    *within_days(Alert.raised_at, filters.get("date_from"),
                                 filters.get("date_to"), zone)))
    if filters.get("alert_type"):
        query = query.where(Alert.alert_type == filters["alert_type"])
    if filters.get("severity"):
        query = query.where(Alert.severity == filters["severity"])
    if filters.get("org_unit"):
        query = query.where(customers_in_org_unit(filters["org_unit"]))
    return query.order_by(Alert.raised_at.desc(), Alert.id.desc())


def _row(raw: Any) -> AlertRow:
    return AlertRow(raw.id, utc(raw.raised_at), raw.alert_type, str(raw.severity),
                    raw.code, raw.name, raw.service_number, raw.message,
                    utc(raw.cleared_at), utc(raw.acknowledged_at), raw.username)


def page_query(filters: dict[str, Any], scope: Scope, zone: ZoneInfo, size: int = PAGE
               ) -> Select[Any]:
    """The query of a page: ``size`` + 1 alerts (the extra one says a next page exists)
    before the alert ``filters["before"]``, if given."""
    query = _query(filters, scope, zone)
    if filters.get("before"):
        key = aliased(Alert)
        raised = select(key.raised_at).where(key.id == filters["before"]).scalar_subquery()
        query = query.where(tuple_(Alert.raised_at, Alert.id) < tuple_(raised,
                                                                       filters["before"]))
    return query.limit(size + 1)


def page(conn: Connection, filters: dict[str, Any], scope: Scope, zone: ZoneInfo,
         size: int = PAGE) -> tuple[list[AlertRow], int | None]:
    """A page of alerts, newest first, and the key of the next page (None: the last)."""
    rows = [_row(raw) for raw in conn.execute(page_query(filters, scope, zone, size))]
    return rows[:size], rows[size - 1].id if len(rows) > size else None


def every_row(conn: Connection, filters: dict[str, Any], scope: Scope, zone: ZoneInfo
              ) -> Iterator[AlertRow]:
    """Every alert the filters select (paging keys aside), from a server-side cursor:
    memory does not grow with the number of alerts."""
    filters = {key: value for key, value in filters.items() if key != "before"}
    result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(
        _query(filters, scope, zone))
    for partition in result.partitions():
        for raw in partition:
            yield _row(raw)


class Acknowledgement(StrEnum):
    """What acknowledging an alert did."""

    DONE = "done"
    #: Acknowledged before (by this person or another): nothing changed.
    ALREADY = "already"
    #: Cleared: the rules no longer raise it, there is nothing to acknowledge.
    CLEARED = "cleared"
    #: No such alert in the person's scope.
    NOT_FOUND = "not_found"


def acknowledge(conn: Connection, alert_id: int, staff_id: int, scope: Scope,
                now: datetime) -> Acknowledgement:
    """Acknowledge an open alert of ``scope`` for ``staff_id``; idempotent."""
    state = conn.execute(
        select(Alert.cleared_at, Alert.acknowledged_at).select_from(Alert)
        .outerjoin(Subscriber, Subscriber.id == Alert.subscriber_id)
        .join(Customer, Customer.id == _owner())
        .where(Alert.id == alert_id, scope.customers())).first()
    if state is None:
        return Acknowledgement.NOT_FOUND
    if state.acknowledged_at is not None:
        return Acknowledgement.ALREADY
    if state.cleared_at is not None:
        return Acknowledgement.CLEARED
    done = conn.execute(update(Alert).where(
        Alert.id == alert_id, Alert.cleared_at.is_(None), Alert.acknowledged_at.is_(None))
        .values(acknowledged_at=now, acknowledged_by_id=staff_id)).rowcount
    if done:
        return Acknowledgement.DONE
    # Acknowledged by someone else, or cleared by a run, since the read above.
    return acknowledge(conn, alert_id, staff_id, scope, now)
