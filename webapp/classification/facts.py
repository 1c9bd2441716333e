"""Fact records for the engine, computed a batch at a time in SQL.

One query per batch of subscribers reads the stored fields, the line-plant lookups and
the revenue and traffic sums of the last 12 complete months (conditional aggregation
over ``subscriber_month``); Python then turns sums into averages and percentages with
exact decimal arithmetic. Nothing here runs per rule.

*This month* is the latest complete month: the month before the evaluation date's.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import Connection, and_, case, func, literal, select
from sqlalchemy.orm import aliased

from engine.catalog import DECIMAL_PLACES
from engine.months import add_months, months_between
from webapp.models import (
    BillingArea,
    Customer,
    JunctionBox,
    NumberSegment,
    OrgUnit,
    Subscriber,
    SubscriberMonth,
)

REVENUE_CENTS = (SubscriberMonth.local_revenue_cents + SubscriberMonth.long_distance_revenue_cents
            + SubscriberMonth.international_revenue_cents + SubscriberMonth.data_revenue_cents
            + SubscriberMonth.value_added_revenue_cents)
TRAFFIC = (SubscriberMonth.local_minutes + SubscriberMonth.long_distance_minutes
            + SubscriberMonth.international_minutes + SubscriberMonth.data_mb
            + SubscriberMonth.value_added_uses)
_PLACES = Decimal(1).scaleb(-DECIMAL_PLACES)


def report_month(as_of: date) -> date:
    """First day of the latest complete month."""
    return add_months(as_of.replace(day=1), -1)


def average(total: int, months: int) -> int:
    """Cents per month, rounded half-even to the cent."""
    return int((Decimal(total) / months).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def change_pct(current: int | None, previous_total: int | None, months: int = 3) -> Decimal | None:
    """``current`` vs. the average of ``previous_total`` over ``months``, in percent."""
    if current is None or not previous_total:
        return None
    change = (Decimal(current) * months - previous_total) * 100 / Decimal(previous_total)
    return change.quantize(_PLACES, rounding=ROUND_HALF_EVEN)


@dataclass
class MonthWindow:
    this: date
    previous: tuple[date, date]
    year_start: date

    @classmethod
    def for_date(cls, as_of: date) -> "MonthWindow":
        this = report_month(as_of)
        return cls(this, (add_months(this, -3), add_months(this, -1)), add_months(this, -11))


def _sum_when(condition: Any, value: Any) -> Any:
    return func.sum(case((condition, value), else_=literal(0)))


@dataclass(frozen=True)
class CustomerChunk:
    """The customers a batch evaluates: ids in [low, high], only ``ids`` when given.

    A full run walks id ranges; an incremental run passes the (sorted) ids it took from
    the queue. A customer and all its lines are always in the same chunk.
    """

    low: int
    high: int
    ids: tuple[int, ...] | None = None

    @classmethod
    def of(cls, ids: Sequence[int]) -> "CustomerChunk":
        return cls(min(ids), max(ids), tuple(sorted(ids)))

    def where(self, column: Any) -> Any:
        """A condition on a customer-id column: the customer is in this chunk."""
        clause = column.between(self.low, self.high)
        return clause if self.ids is None else and_(clause, column.in_(self.ids))


def subscriber_fact_query(window: MonthWindow, chunk: CustomerChunk) -> Any:
    """Lines of the customers of ``chunk`` and everything their facts derive from."""
    month = SubscriberMonth.month
    in_previous = month.between(*window.previous)
    history = (
        select(
            SubscriberMonth.subscriber_id.label("sid"),
            func.max(case((month == window.this, 1), else_=0)).label("has_this"),
            _sum_when(month == window.this, REVENUE_CENTS).label("rev_this"),
            _sum_when(in_previous, REVENUE_CENTS).label("rev_prev3"),
            func.sum(REVENUE_CENTS).label("rev_12"),
            _sum_when(month == window.this, SubscriberMonth.long_distance_minutes).label("ld"),
            _sum_when(in_previous, SubscriberMonth.long_distance_minutes).label("ld_prev3"),
            _sum_when(month == window.this, SubscriberMonth.local_minutes).label("local"),
            _sum_when(in_previous, SubscriberMonth.local_minutes).label("local_prev3"),
            _sum_when(month == window.this, TRAFFIC).label("traffic"),
        )
        .where(SubscriberMonth.subscriber_id.in_(
                   select(Subscriber.id).where(chunk.where(Subscriber.customer_id))),
               month.between(window.year_start, window.this))
        .group_by(SubscriberMonth.subscriber_id)
        .subquery()
    )
    box_unit, segment_unit, unassigned = (aliased(OrgUnit) for _ in range(3))
    sn = Subscriber.service_number
    return (
        select(
            Subscriber.id, Subscriber.customer_id, sn.label("service_number"),
            Subscriber.status, Subscriber.contract_number, Subscriber.product,
            Subscriber.prepaid, Subscriber.balance_cents, Subscriber.agreement_end_date,
            Subscriber.install_date, Subscriber.arrears_cents, Subscriber.arrears_days,
            BillingArea.code.label("billing_area"), Subscriber.junction_box_code,
            Customer.vip_card, Customer.key_account_code,
            box_unit.code.label("box_community"), box_unit.channel.label("box_channel"),
            segment_unit.code.label("segment_community"),
            segment_unit.channel.label("segment_channel"),
            unassigned.code.label("unassigned_community"),
            history.c.has_this, history.c.rev_this, history.c.rev_prev3, history.c.rev_12,
            history.c.ld, history.c.ld_prev3, history.c.local, history.c.local_prev3,
            history.c.traffic,
        )
        .join(Customer, Customer.id == Subscriber.customer_id)
        .join(BillingArea, BillingArea.id == Subscriber.billing_area_id)
        .outerjoin(JunctionBox, JunctionBox.code == Subscriber.junction_box_code)
        .outerjoin(box_unit, box_unit.id == JunctionBox.community_id)
        .outerjoin(NumberSegment, and_(func.length(NumberSegment.range_start) == func.length(sn),
                                       sn.between(NumberSegment.range_start,
                                                  NumberSegment.range_end)))
        .outerjoin(segment_unit, segment_unit.id == NumberSegment.community_id)
        .outerjoin(unassigned, and_(unassigned.unassigned_billing_area_id == BillingArea.id,
                                    unassigned.channel == "public"))
        .outerjoin(history, history.c.sid == Subscriber.id)
        .where(chunk.where(Subscriber.customer_id))
        .order_by(Subscriber.customer_id, Subscriber.id)
    )


def subscriber_facts(row: Any, as_of: date) -> dict[str, Any]:
    """One query row as a fact record (``key`` = subscriber id)."""
    has_this = bool(row.has_this)
    rev_this = int(row.rev_this or 0) if has_this else None
    agreement_end = row.agreement_end_date
    return {
        "key": row.id,
        "customer_id": row.customer_id,
        "service_number": row.service_number,
        "status": str(row.status),
        "contract_number": row.contract_number,
        "product": row.product,
        "prepaid": bool(row.prepaid),
        "balance": row.balance_cents,
        "agreement_end_date": agreement_end,
        "install_date": row.install_date,
        "arrears_amount": int(row.arrears_cents or 0),
        "arrears_days": int(row.arrears_days or 0),
        "billing_area": row.billing_area,
        "junction_box": row.junction_box_code,
        "vip_card": str(row.vip_card),
        "key_account": row.key_account_code is not None,
        "revenue_this_month": rev_this,
        "revenue_avg_3m": average(int(row.rev_prev3 or 0), 3),
        "revenue_avg_12m": average(int(row.rev_12 or 0), 12),
        "revenue_change_pct": change_pct(rev_this, row.rev_prev3),
        "rev_12": int(row.rev_12 or 0),
        "rev_prev3": int(row.rev_prev3 or 0),
        "tenure_months": max(months_between(row.install_date, as_of), 0),
        "days_to_agreement_end": (agreement_end - as_of).days if agreement_end else None,
        "long_distance_minutes": int(row.ld or 0) if has_this else None,
        "long_distance_change_pct": change_pct(int(row.ld or 0) if has_this else None,
                                               row.ld_prev3),
        "local_minutes": int(row.local or 0) if has_this else None,
        "local_change_pct": change_pct(int(row.local or 0) if has_this else None,
                                       row.local_prev3),
        "zero_traffic": (int(row.traffic or 0) == 0) if has_this else None,
        "box_community": row.box_community,
        "box_channel": str(row.box_channel) if row.box_channel else None,
        "segment_community": row.segment_community,
        "segment_channel": str(row.segment_channel) if row.segment_channel else None,
        "unassigned_community": row.unassigned_community,
    }


def load_subscriber_facts(conn: Connection, as_of: date, chunk: CustomerChunk) -> list[dict]:
    """Fact records of the lines of the customers of ``chunk``."""
    window = MonthWindow.for_date(as_of)
    rows = conn.execute(subscriber_fact_query(window, chunk))
    return [subscriber_facts(row, as_of) for row in rows]
