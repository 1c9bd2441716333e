"""The monthly division's worklist: customers that arrived this month and still sit in an
unassigned community, in a person's org scope, and the communities they may go to."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, exists, func, select

from engine.domain import ClassifiedAttribute, OrgKind
from webapp.clock import start_of
from webapp.models import Customer, CustomerDecision, OrgUnit, Subscriber, SubscriberDecision
from webapp.scope import Scope

PAGE = 100


@dataclass(frozen=True)
class Arrival:
    id: int
    code: str
    name: str
    created_at: datetime
    #: The unassigned community holding the customer's lines (the lowest code if several).
    community: str
    lines: int
    statistical_attribute: str | None


def month_start(today: date, zone: ZoneInfo) -> datetime:
    """Midnight of the first day of ``today``'s month in the operator's time zone."""
    return start_of(today.replace(day=1), zone)


def arrivals(conn: Connection, scope: Scope, since: datetime, *, before: int | None = None,
             size: int = PAGE) -> tuple[list[Arrival], int | None]:
    """A page of arrivals since ``since``, newest first (by id: ids grow with arrival),
    and the key of the next page (None: the last)."""
    unassigned = select(OrgUnit.code).where(OrgUnit.unassigned_billing_area_id.is_not(None))
    if not scope.whole_province:
        unassigned = unassigned.where(OrgUnit.code.in_(sorted(scope.communities or ())))
    placed = (select(func.min(SubscriberDecision.value))
              .join(Subscriber, Subscriber.id == SubscriberDecision.subscriber_id)
              .where(Subscriber.customer_id == Customer.id,
                     SubscriberDecision.attribute == ClassifiedAttribute.COMMUNITY,
                     SubscriberDecision.value.in_(unassigned))
              .scalar_subquery())
    lines = (select(func.count()).where(Subscriber.customer_id == Customer.id)
             .scalar_subquery())
    category = (select(CustomerDecision.value)
                .where(CustomerDecision.customer_id == Customer.id,
                       CustomerDecision.attribute == ClassifiedAttribute.STATISTICAL_ATTRIBUTE)
                .scalar_subquery())
    in_unassigned = exists().where(
        SubscriberDecision.subscriber_id == Subscriber.id,
        Subscriber.customer_id == Customer.id,
        SubscriberDecision.attribute == ClassifiedAttribute.COMMUNITY,
        SubscriberDecision.value.in_(unassigned))
    query = (select(Customer.id, Customer.code, Customer.name, Customer.created_at,
                    placed, lines, category)
             .where(Customer.created_at >= since, in_unassigned)
             .order_by(Customer.id.desc()).limit(size + 1))
    if before is not None:
        query = query.where(Customer.id < before)
    rows = [Arrival(*row) for row in conn.execute(query)]
    return rows[:size], rows[size - 1].id if len(rows) > size else None


def destinations(conn: Connection, scope: Scope) -> list[tuple[str, str]]:
    """(code, name) of the communities customers may be moved into: active, not
    unassigned, in the scope."""
    query = (select(OrgUnit.code, OrgUnit.name)
             .where(OrgUnit.kind == OrgKind.COMMUNITY, OrgUnit.retired.is_(False),
                    OrgUnit.unassigned_billing_area_id.is_(None))
             .order_by(OrgUnit.code))
    return [(code, name) for code, name in conn.execute(query) if code in scope]
