"""Report 4: customer groups — per group its customers, their lines, and their revenue
in the report month (the latest complete one) and the month before, with the change.

Read from ``report_group`` (per group and community: a member in its home community,
lines and revenue in the line's community), limited to the communities counted; the
whole province also lists the groups without members.
"""

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from webapp.models import CustomerGroup, GroupType, ReportGroup
from webapp.reports.orgtree import within


@dataclass(frozen=True)
class GroupFigures:
    id: int
    name: str
    group_type: str
    customers: int
    subscribers: int
    revenue_this_cents: int
    revenue_last_cents: int

    @property
    def change_cents(self) -> int:
        return self.revenue_this_cents - self.revenue_last_cents


def groups(conn: Connection, communities: frozenset[str] | None) -> list[GroupFigures]:
    """Every group with members in ``communities`` (None: every group), by name."""
    summary = ReportGroup.__table__
    sums = (select(summary.c.group_id, func.sum(summary.c.customers).label("customers"),
                   func.sum(summary.c.subscribers).label("subscribers"),
                   func.sum(summary.c.revenue_this_cents).label("this"),
                   func.sum(summary.c.revenue_last_cents).label("last"))
            .where(*within(summary.c.community, communities))
            .group_by(summary.c.group_id).subquery())
    query = (select(CustomerGroup.id, CustomerGroup.name, GroupType.name,
                    func.coalesce(sums.c.customers, 0), func.coalesce(sums.c.subscribers, 0),
                    func.coalesce(sums.c.this, 0), func.coalesce(sums.c.last, 0))
             .join(GroupType, GroupType.id == CustomerGroup.group_type_id)
             .order_by(CustomerGroup.name))
    if communities is None:
        query = query.outerjoin(sums, sums.c.group_id == CustomerGroup.id)
    else:
        query = query.join(sums, sums.c.group_id == CustomerGroup.id)
    return [GroupFigures(*row) for row in conn.execute(query)]
