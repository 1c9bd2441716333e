"""Report 2: the monthly division's progress, per channel and department.

Read from ``report_arrival`` (per community): the customers that arrived since the
first of the summary's month (the division review's
:func:`webapp.pipeline.arrivals.month_start`), those still holding a line in an
unassigned community — the review's worklist — and the others in their home community
(the lowest code among their lines' communities). A customer waiting in the unassigned
community of a city and channel is counted on that channel's row for the city (such
communities belong to no department); a placed one in its home community's department.
"""

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Connection, select

from webapp.models import ReportArrival
from webapp.reports.orgtree import OrgTree, Unit, within


@dataclass(frozen=True)
class Progress:
    channel: str
    #: The department the customers were placed in, or the city whose unassigned
    #: communities of the channel they still wait in.
    unit: Unit
    waiting: bool
    customers: int


def progress(conn: Connection, tree: OrgTree, communities: frozenset[str] | None
             ) -> list[Progress]:
    """The summarised arrivals counted in ``communities`` (None: all), per channel and
    department (or city, for those still waiting)."""
    summary = ReportArrival.__table__
    counts: Counter[tuple[str, str, bool]] = Counter()
    for community, waiting, customers in conn.execute(
            select(summary.c.community, summary.c.waiting, summary.c.customers)
            .where(*within(summary.c.community, communities))):
        counted_in = tree.units.get(community)
        if counted_in is None:
            continue  # a community the tree no longer has: no channel to count it under
        unit = tree.units.get(counted_in.parent or "") if waiting \
            else tree.department(community)
        if unit is None:
            continue
        counts[counted_in.channel or "", unit.code, bool(waiting)] += customers
    return [Progress(channel, tree.units[code], waiting, customers)
            for (channel, code, waiting), customers in sorted(counts.items())]
