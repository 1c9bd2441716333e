"""Report 2: the monthly division's progress, per channel and department.

Read live (this month's arrivals are few, found by ``customer.created_at``'s index):
the customers that arrived since the first of the month (the division review's
:func:`webapp.pipeline.arrivals.month_start`), which of them still have a line in an
unassigned community — the review's worklist — and where the others were placed. A
customer waiting in the unassigned community of a city and channel is counted on that
channel's row for the city (such communities belong to no department); a placed one in
the department of its home community (the lowest code among its lines' communities).
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, case, func, select

from engine.domain import ClassifiedAttribute
from webapp.models import Customer, Subscriber, SubscriberDecision
from webapp.reports.orgtree import OrgTree, Unit
from webapp.scope import Scope


@dataclass(frozen=True)
class Progress:
    channel: str
    #: The department the customers were placed in, or the city whose unassigned
    #: communities of the channel they still wait in.
    unit: Unit
    waiting: bool
    customers: int


def progress(conn: Connection, tree: OrgTree, scope: Scope, since: datetime
             ) -> list[Progress]:
    """The arrivals since ``since`` in ``scope`` (a line in one of its communities), per
    channel and department (or city, for those still waiting)."""
    unassigned = sorted(code for code, unit in tree.units.items() if unit.unassigned)
    value = SubscriberDecision.value
    per_customer = (select(
        func.min(case((value.in_(unassigned), value))).label("waiting_in"),
        func.min(value).label("home"))
        .select_from(Customer)
        .join(Subscriber, Subscriber.customer_id == Customer.id)
        .join(SubscriberDecision, SubscriberDecision.subscriber_id == Subscriber.id)
        .where(Customer.created_at >= since,
               SubscriberDecision.attribute == ClassifiedAttribute.COMMUNITY)
        .group_by(Customer.id))
    if not scope.whole_province:
        per_customer = per_customer.having(func.max(case(
            (value.in_(sorted(scope.communities or ())), 1), else_=0)) == 1)
    arrivals = per_customer.subquery()
    counts: Counter[tuple[str, str, bool]] = Counter()
    for waiting_in, home, customers in conn.execute(
            select(arrivals.c.waiting_in, arrivals.c.home, func.count())
            .group_by(arrivals.c.waiting_in, arrivals.c.home)):
        community = tree.units.get(waiting_in or home)
        if community is None:
            continue  # a community the tree no longer has: no channel to count it under
        unit = tree.units.get(community.parent or "") if waiting_in else tree.department(home)
        if unit is None:
            continue
        counts[community.channel or "", unit.code, bool(waiting_in)] += customers
    return [Progress(channel, tree.units[code], waiting, customers)
            for (channel, code, waiting), customers in sorted(counts.items())]
