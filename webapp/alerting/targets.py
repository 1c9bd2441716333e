"""Target lists (spec, flow 6): named lists of customers or of open alerts for front-line
staff, defined as data.

A :class:`TargetList` names its subject (customers, or the open alerts of one type), the
filters a person fills in and the filters the list fixes. The customer lists are fixed
(:data:`CUSTOMER_LISTS`); the anomaly lists are the alert types of the published alert
rulesets, one list each (:func:`anomaly_list`). Every list pages and exports the same
columns; customers go by code, alerts newest first (:mod:`.alerts`).

Revenue is the customer's lines' revenue as the classification facts count it
(:mod:`webapp.classification.facts`): *this month* is the latest complete month, the
3-month average the three months before it, rounded half-even to the cent. A threshold
compares with exactly that figure.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validates
from sqlalchemy import ColumnElement, Connection, Select, func, or_, select

from engine.domain import ClassifiedAttribute, OrgKind, StatisticalAttribute
from webapp.alerting.filters import (
    check_org_unit,
    choice_field,
    code_field,
    customers_in_org_unit,
    given,
    known_type,
    utc,
)
from webapp.classification.facts import REVENUE_CENTS, MonthWindow, average
from webapp.clock import start_of
from webapp.models import (
    Alert,
    BillingArea,
    Customer,
    CustomerDecision,
    OrgUnit,
    Subscriber,
    SubscriberMonth,
)
from webapp.scope import Scope

PAGE = 50
BATCH = 2000
REVENUE_BASES = ("this_month", "avg_3m")
#: The largest threshold accepted, in yuan (more than any customer's revenue).
MAX_REVENUE = Decimal(10) ** 12


class Subject(StrEnum):
    CUSTOMERS = "customers"
    ALERTS = "alerts"


@dataclass(frozen=True)
class TargetList:
    """A named list: its rows, the filters a person fills in, the filters it fixes."""

    name: str
    subject: Subject
    inputs: tuple[str, ...]
    preset: Mapping[str, Any] = field(default_factory=dict)


CUSTOMER_LISTS = (
    TargetList("by-region", Subject.CUSTOMERS, ("city", "billing_area")),
    TargetList("by-org-unit", Subject.CUSTOMERS, ("org_unit",)),
    TargetList("by-category", Subject.CUSTOMERS, ("statistical_attribute", "org_unit")),
    TargetList("by-tier", Subject.CUSTOMERS, ("service_tier", "org_unit")),
    TargetList("by-revenue", Subject.CUSTOMERS, ("revenue_basis", "revenue_min", "org_unit")),
    TargetList("new-this-month", Subject.CUSTOMERS, ("org_unit",),
               {"new_this_month": True}),
    TargetList("by-alert-type", Subject.CUSTOMERS, ("alert_type", "org_unit")),
)


def anomaly_list(alert_type: str) -> TargetList:
    """The list of the open alerts of ``alert_type`` (an alert type of the rules)."""
    return TargetList(alert_type, Subject.ALERTS, ("severity", "org_unit", "date_from",
                                                   "date_to"),
                      {"alert_type": alert_type, "status": "open"})


def target_lists(alert_types: Sequence[str]) -> list[TargetList]:
    """Every list: the customer lists, then one anomaly list per alert type."""
    return [*CUSTOMER_LISTS, *(anomaly_list(kind) for kind in alert_types)]


def find_list(name: str, alert_types: Sequence[str]) -> TargetList | None:
    return next((found for found in target_lists(alert_types) if found.name == name), None)


class CustomerFilterSchema(Schema):
    """The customer lists' filters, from the query string: every one optional."""

    class Meta:
        unknown = EXCLUDE

    city = code_field()
    billing_area = code_field()
    org_unit = code_field()
    statistical_attribute = choice_field([value.value for value in StatisticalAttribute])
    service_tier = fields.String(load_default=None)
    revenue_basis = choice_field(list(REVENUE_BASES))
    #: Yuan, at most two decimals.
    revenue_min = fields.Decimal(load_default=None, allow_nan=False)
    alert_type = fields.String(load_default=None)
    new_this_month = fields.Boolean(load_default=False)
    #: The code of the last customer of the previous page.
    after = code_field()

    def __init__(self, alert_types: Sequence[str], tiers: Sequence[str], **kwargs: Any
                 ) -> None:
        super().__init__(**kwargs)
        self.alert_types, self.tiers = list(alert_types), list(tiers)

    @validates("alert_type")
    def _known_type(self, value: str | None, **kwargs: Any) -> None:
        known_type(value, self.alert_types)

    @validates("service_tier")
    def _known_tier(self, value: str | None, **kwargs: Any) -> None:
        if value is not None and value not in self.tiers:
            raise ValidationError(f"must be one of: {', '.join(self.tiers)}")

    @validates("revenue_min")
    def _amount(self, value: Decimal | None, **kwargs: Any) -> None:
        if value is None:
            return
        if not 0 <= value <= MAX_REVENUE:
            raise ValidationError(f"must be between 0 and {MAX_REVENUE:,} yuan")
        try:
            exact = value == value.quantize(Decimal("0.01"))
        except InvalidOperation:
            exact = False
        if not exact:
            raise ValidationError("at most two decimals (yuan and fen)")


def parse_customer_filters(raw: Mapping[str, str], chosen: TargetList,
                           alert_types: Sequence[str], tiers: Sequence[str]
                           ) -> dict[str, Any]:
    """The filters of ``chosen`` from a query string: the fields it offers (others are
    ignored) and the paging key, then its own fixed filters. ``ValidationError`` names
    each bad field."""
    values = {key: value for key, value in given(raw).items()
              if key in chosen.inputs or key == "after"}
    filters = CustomerFilterSchema(alert_types, tiers).load(values)
    return {**filters, **chosen.preset}


def check_customer_filters(conn: Connection, filters: Mapping[str, Any]) -> None:
    """``ValidationError`` for a filter naming what does not exist."""
    check_org_unit(conn, filters)
    if filters.get("city") and conn.scalar(select(OrgUnit.id).where(
            OrgUnit.code == filters["city"], OrgUnit.kind == OrgKind.CITY)) is None:
        raise ValidationError({"city": [f"no city has the code {filters['city']}"]})
    if filters.get("billing_area") and conn.scalar(select(BillingArea.id).where(
            BillingArea.code == filters["billing_area"])) is None:
        raise ValidationError({"billing_area": [
            f"no billing area has the code {filters['billing_area']}"]})


@dataclass(frozen=True)
class CustomerRow:
    code: str
    name: str
    statistical_attribute: str | None
    marketing_attribute: str | None
    service_tier: str | None
    lifecycle_stage: str | None
    lines: int
    #: Yuan; None when no line has revenue data for this month.
    revenue_this_month: Decimal | None
    revenue_avg_3m: Decimal
    #: When the customer first appeared (UTC).
    arrived: datetime


def _decision(attribute: ClassifiedAttribute) -> Any:
    return (select(CustomerDecision.value)
            .where(CustomerDecision.customer_id == Customer.id,
                   CustomerDecision.attribute == attribute)
            .scalar_subquery())


def _decided(attribute: ClassifiedAttribute, value: str) -> ColumnElement[bool]:
    return Customer.id.in_(select(CustomerDecision.customer_id).where(
        CustomerDecision.attribute == attribute, CustomerDecision.value == value))


def _revenue(months: ColumnElement[bool]) -> Any:
    """The customer's revenue (cents) in ``months``; NULL when no line has any there."""
    return (select(func.sum(REVENUE_CENTS)).select_from(SubscriberMonth)
            .join(Subscriber, Subscriber.id == SubscriberMonth.subscriber_id)
            .where(Subscriber.customer_id == Customer.id, months)
            .scalar_subquery())


def average_at_least(total: Any, months: int, threshold: int) -> ColumnElement[bool]:
    """SQL: ``average(total, months) >= threshold`` (cents), with the facts' rounding
    half-even. The rounded average reaches the threshold when the exact one is above
    threshold - ½, or equal to it and the threshold is even."""
    bound = months * (2 * threshold - 1)
    return 2 * total >= bound if threshold % 2 == 0 else 2 * total > bound


def _customer_query(filters: Mapping[str, Any], scope: Scope, today: date, zone: ZoneInfo
                    ) -> Select[Any]:
    window = MonthWindow.for_date(today)
    this_month = _revenue(SubscriberMonth.month == window.this)
    previous = func.coalesce(_revenue(SubscriberMonth.month.between(*window.previous)), 0)
    lines = select(func.count()).where(Subscriber.customer_id == Customer.id).scalar_subquery()
    query = (select(Customer.code, Customer.name,
                    _decision(ClassifiedAttribute.STATISTICAL_ATTRIBUTE),
                    _decision(ClassifiedAttribute.MARKETING_ATTRIBUTE),
                    _decision(ClassifiedAttribute.SERVICE_TIER),
                    _decision(ClassifiedAttribute.LIFECYCLE_STAGE),
                    lines, this_month, previous, Customer.created_at)
             .where(scope.customers()))
    if filters.get("city"):
        query = query.where(Customer.id.in_(
            select(Subscriber.customer_id)
            .join(BillingArea, BillingArea.id == Subscriber.billing_area_id)
            .join(OrgUnit, OrgUnit.id == BillingArea.city_id)
            .where(OrgUnit.code == filters["city"])))
    if filters.get("billing_area"):
        query = query.where(Customer.id.in_(
            select(Subscriber.customer_id)
            .join(BillingArea, BillingArea.id == Subscriber.billing_area_id)
            .where(BillingArea.code == filters["billing_area"])))
    if filters.get("org_unit"):
        query = query.where(customers_in_org_unit(filters["org_unit"]))
    if filters.get("statistical_attribute"):
        query = query.where(_decided(ClassifiedAttribute.STATISTICAL_ATTRIBUTE,
                                     filters["statistical_attribute"]))
    if filters.get("service_tier"):
        query = query.where(_decided(ClassifiedAttribute.SERVICE_TIER,
                                     filters["service_tier"]))
    if filters.get("revenue_min") is not None:
        threshold = int(filters["revenue_min"] * 100)
        if filters.get("revenue_basis") == "avg_3m":
            query = query.where(average_at_least(previous, 3, threshold))
        else:
            query = query.where(this_month >= threshold)
    if filters.get("new_this_month"):
        query = query.where(Customer.created_at >= start_of(today.replace(day=1), zone))
    if filters.get("alert_type"):
        query = query.where(_with_open_alert(filters["alert_type"]))
    return query.order_by(Customer.code)


def _with_open_alert(alert_type: str) -> ColumnElement[bool]:
    """Condition on ``customer.id``: an open alert of ``alert_type`` is on the customer or
    on one of its lines."""
    open_alerts = [Alert.alert_type == alert_type, Alert.cleared_at.is_(None)]
    return or_(Customer.id.in_(select(Alert.customer_id).where(*open_alerts)),
               Customer.id.in_(select(Subscriber.customer_id).where(Subscriber.id.in_(
                   select(Alert.subscriber_id).where(*open_alerts)))))


def _yuan(cents: int | None) -> Decimal | None:
    return None if cents is None else Decimal(int(cents)).scaleb(-2)


def _customer_row(raw: Any) -> CustomerRow:
    (code, name, category, marketing, tier, stage, lines, this_month, previous,
     arrived) = raw
    return CustomerRow(code, name, category, marketing, tier, stage, int(lines),
                       _yuan(this_month), _yuan(average(int(previous), 3)), utc(arrived))


def customer_page(conn: Connection, filters: Mapping[str, Any], scope: Scope, today: date,
                  zone: ZoneInfo, size: int = PAGE) -> tuple[list[CustomerRow], str | None]:
    """A page of customers by code, and the key of the next page (None: the last)."""
    query = _customer_query(filters, scope, today, zone)
    if filters.get("after"):
        query = query.where(Customer.code > filters["after"])
    rows = [_customer_row(raw) for raw in conn.execute(query.limit(size + 1))]
    return rows[:size], rows[size - 1].code if len(rows) > size else None


def every_customer(conn: Connection, filters: Mapping[str, Any], scope: Scope, today: date,
                   zone: ZoneInfo) -> Iterator[CustomerRow]:
    """Every customer the filters select (paging key aside), from a server-side cursor."""
    filters = {key: value for key, value in filters.items() if key != "after"}
    result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(
        _customer_query(filters, scope, today, zone))
    for partition in result.partitions():
        for raw in partition:
            yield _customer_row(raw)
