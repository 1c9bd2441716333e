"""Fact records for the engine, computed a batch at a time in SQL.

One query per batch of subscribers reads the stored fields, the line-plant lookups and
the revenue and traffic sums of the last 12 complete months (conditional aggregation
over ``subscriber_month``); Python then turns sums into averages and percentages with
exact decimal arithmetic. Nothing here runs per rule.

*This month* is the latest complete month: the month before the evaluation date's.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
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
    the queue. A customer and all its lines are always in the same chunk. With
    ``queued_until`` (the run's queue snapshot), a customer whose only changes are to
    some of its lines may be evaluated from those lines queued up to then
    (:mod:`webapp.classification.partial`).
    """

    low: int
    high: int
    ids: tuple[int, ...] | None = None
    queued_until: datetime | None = None

    @classmethod
    def of(cls, ids: Sequence[int], queued_until: datetime | None = None) -> "CustomerChunk":
        return cls(min(ids), max(ids), tuple(sorted(ids)), queued_until)

    def where(self, column: Any) -> Any:
        """A condition on a customer-id column: the customer is in this chunk."""
        clause = column.between(self.low, self.high)
        return clause if self.ids is None else and_(clause, column.in_(self.ids))


def _history(window: MonthWindow, lines: Any) -> Any:
    """Per line that ``lines`` (a condition on ``Subscriber``) selects, the sums its facts
    derive from, over the 12 months of ``window``."""
    month = SubscriberMonth.month
    in_previous = month.between(*window.previous)
    return (
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
        .where(SubscriberMonth.subscriber_id.in_(select(Subscriber.id).where(lines)),
               month.between(window.year_start, window.this))
        .group_by(SubscriberMonth.subscriber_id)
        .subquery()
    )


def subscriber_fact_query(window: MonthWindow, lines: Any) -> Any:
    """The lines ``lines`` (a condition on ``Subscriber``) selects and everything their
    facts derive from."""
    history = _history(window, lines)
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
        .where(lines)
        .order_by(Subscriber.customer_id, Subscriber.id)
    )


def settled_line_query(lines: Any) -> Any:
    """What a customer's facts read of the lines ``lines`` selects, as their last
    evaluation left it (:func:`settled_line`)."""
    return (
        select(Subscriber.id, Subscriber.customer_id, Subscriber.service_number,
               Subscriber.status, Subscriber.product, Subscriber.prepaid,
               Subscriber.install_date, Subscriber.rule_community, Subscriber.due_on,
               Subscriber.revenue_this_cents, Subscriber.revenue_prev3_cents,
               Subscriber.revenue_12m_cents)
        .where(lines)
        .order_by(Subscriber.customer_id, Subscriber.id)
    )


def _revenue(row: Any) -> dict[str, Any]:
    """A line's revenue figures from its history sums."""
    return {"revenue_this_month": int(row.rev_this or 0) if row.has_this else None,
            "rev_12": int(row.rev_12 or 0), "rev_prev3": int(row.rev_prev3 or 0)}


def tenure(install_date: date, as_of: date) -> int:
    return max(months_between(install_date, as_of), 0)


def settled_line(row: Any, as_of: date) -> dict[str, Any]:
    """A line not evaluated again, as its customer's facts read it: its own fields, and
    the community, due date and revenue sums its last evaluation kept
    (``settled_line_query``; :func:`kept_figures`)."""
    return {"key": row.id, "customer_id": row.customer_id,
            "service_number": row.service_number, "status": str(row.status),
            "product": row.product, "prepaid": bool(row.prepaid),
            "install_date": row.install_date, "tenure_months": tenure(row.install_date, as_of),
            "community": row.rule_community, "due_on": row.due_on,
            "revenue_this_month": row.revenue_this_cents,
            "rev_12": int(row.revenue_12m_cents or 0),
            "rev_prev3": int(row.revenue_prev3_cents or 0)}


def kept_figures(line: dict[str, Any]) -> dict[str, Any]:
    """The revenue sums of a line's fact record, as ``Subscriber`` columns keep them for
    :func:`settled_line`."""
    return {"revenue_this_cents": line["revenue_this_month"],
            "revenue_12m_cents": line["rev_12"], "revenue_prev3_cents": line["rev_prev3"]}


def subscriber_facts(row: Any, as_of: date) -> dict[str, Any]:
    """One query row as a fact record (``key`` = subscriber id)."""
    has_this = bool(row.has_this)
    revenue = _revenue(row)
    rev_this = revenue["revenue_this_month"]
    agreement_end = row.agreement_end_date
    return {
        **revenue,
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
        "revenue_avg_3m": average(int(row.rev_prev3 or 0), 3),
        "revenue_avg_12m": average(int(row.rev_12 or 0), 12),
        "revenue_change_pct": change_pct(rev_this, row.rev_prev3),
        "tenure_months": tenure(row.install_date, as_of),
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
    return load_line_facts(conn, as_of, chunk.where(Subscriber.customer_id))


def load_line_facts(conn: Connection, as_of: date, lines: Any) -> list[dict]:
    """Fact records of the lines ``lines`` (a condition on ``Subscriber``) selects."""
    rows = conn.execute(subscriber_fact_query(MonthWindow.for_date(as_of), lines))
    return [subscriber_facts(row, as_of) for row in rows]


def load_settled_lines(conn: Connection, as_of: date, lines: Any) -> list[dict]:
    """:func:`settled_line` of each line ``lines`` selects."""
    return [settled_line(row, as_of) for row in conn.execute(settled_line_query(lines))]
