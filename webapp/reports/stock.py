"""Report 3: stock analysis — lines and revenue by status and month over the last 13
months (new, disconnected, net change, lines at the month's end), per org unit.

Read from ``report_stock`` (per community, month and current status).

*How a disconnection is known.* Billing sends each line's current status only, no
history of it, so the month a line left is derived: a line now ``disconnected`` or
``closed`` left in the month after its last month with revenue (a line never billed: in
the month it was installed). Revenue stops when service stops, so this is the month
billing last saw it in service; a line whose revenue ran into the report month and that
is gone now left after the report's last month and counts as in stock throughout. A line
counts as new in the month of its ``install_date``. Lines at a month's end: installed by
then and not yet left, grouped by their status today. Revenue: the month's revenue rows.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, case, func, select

from engine.domain import OrgKind, SubscriberStatus
from engine.months import add_months
from webapp.models import ReportStock
from webapp.reports.orgtree import OrgTree, Unit, within
from webapp.reports.refresh import stock_months

STATUSES = [status.value for status in SubscriberStatus]


@dataclass
class StockMonth:
    month: date
    installed: int = 0
    disconnected: int = 0
    billed: int = 0
    revenue_cents: int = 0
    #: Lines at the month's end, by their status today.
    closing: Counter[str] = field(default_factory=Counter)

    @property
    def net(self) -> int:
        return self.installed - self.disconnected

    @property
    def lines(self) -> int:
        return sum(self.closing.values())


def months(conn: Connection, communities: frozenset[str] | None, as_of: date
           ) -> list[StockMonth]:
    """The 13 months of the stock report on ``as_of`` for ``communities`` (None: all)."""
    shown = stock_months(as_of)
    opening = add_months(shown[0], -1)
    summary = ReportStock.__table__
    rows = conn.execute(
        select(summary.c.month, summary.c.status, func.sum(summary.c.installed),
               func.sum(summary.c.disconnected), func.sum(summary.c.billed),
               func.sum(summary.c.revenue_cents))
        .where(*within(summary.c.community, communities), summary.c.month >= opening)
        .group_by(summary.c.month, summary.c.status).order_by(summary.c.month))
    by_month = {month: StockMonth(month) for month in [opening, *shown]}
    for month, status, installed, disconnected, billed, revenue in rows:
        entry = by_month.get(month)
        if entry is None:
            continue  # a summary of a later day (refreshed ahead of this page's date)
        entry.installed += installed
        entry.disconnected += disconnected
        entry.billed += billed
        entry.revenue_cents += revenue
        entry.closing[status] += installed - disconnected
    running: Counter[str] = Counter()
    for entry in by_month.values():
        running.update(entry.closing)
        entry.closing = Counter({status: running[status] for status in STATUSES})
    return [by_month[month] for month in shown]


@dataclass(frozen=True)
class UnitStock:
    unit: Unit
    installed: int
    disconnected: int
    #: Lines at the end of the report's last month, and its revenue.
    lines: int
    revenue_cents: int

    @property
    def net(self) -> int:
        return self.installed - self.disconnected


def by_unit(conn: Connection, tree: OrgTree, communities: frozenset[str] | None,
            level: OrgKind, as_of: date) -> list[UnitStock]:
    """Per unit of ``level``: new and disconnected lines over the 13 months, lines at the
    end of the last and its revenue."""
    shown = stock_months(as_of)
    summary = ReportStock.__table__
    in_window = summary.c.month >= shown[0]
    rows = conn.execute(
        select(summary.c.community,
               func.sum(case((in_window, summary.c.installed), else_=0)),
               func.sum(case((in_window, summary.c.disconnected), else_=0)),
               func.sum(summary.c.installed - summary.c.disconnected),
               func.sum(case((summary.c.month == shown[-1], summary.c.revenue_cents),
                             else_=0)))
        .where(*within(summary.c.community, communities), summary.c.month <= shown[-1])
        .group_by(summary.c.community))
    totals: dict[str, list[int]] = {}
    units: dict[str, Unit] = {}
    for community, installed, disconnected, lines, revenue in rows:
        unit = tree.ancestor(community, level)
        if unit is None:
            continue
        units[unit.code] = unit
        sums = totals.setdefault(unit.code, [0, 0, 0, 0])
        for index, value in enumerate((installed, disconnected, lines, revenue)):
            sums[index] += value or 0
    return [UnitStock(units[code], *totals[code]) for code in sorted(totals)]

