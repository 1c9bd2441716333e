"""The fixed reports' results as tables (:class:`webapp.reports.table.ReportTable`), with
the reader's words for their columns: what the page shows, its chart draws and its
export writes."""

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from flask_babel import gettext as _

from engine.months import add_months
from webapp.reports.division import Progress
from webapp.reports.groups import GroupFigures
from webapp.reports.orgtree import below
from webapp.reports.population import Breakdown
from webapp.reports.rules import RuleActivity
from webapp.reports.stock import STATUSES, StockMonth, UnitStock
from webapp.reports.table import Column, ReportTable, Row, yuan


def _value(value: str) -> str:
    return value or _("(not decided)")


def population_table(data: Breakdown) -> ReportTable:
    deeper = below(data.level)
    table = ReportTable([Column(_("Code")), Column(_("Org unit")),
                         *(Column(_value(value), True, value or "none")
                           for value in data.values),
                         Column(_("Total"), True)], label=1)
    for unit in data.units:
        drill = {"unit": unit.code, "level": deeper.value} if deeper and not unit.unassigned \
            else None
        table.rows.append(Row([unit.code, unit.name,
                               *(data.counts[unit.code, value] for value in data.values),
                               data.total(unit.code)], drill))
    table.footer = ["", _("Total"), *(data.of_value(value) for value in data.values),
                    sum(data.total(unit.code) for unit in data.units)]
    return table


def division_table(rows: list[Progress], days_left: int) -> ReportTable:
    """Per channel and department (or city, for the unassigned communities)."""
    table = ReportTable([Column(_("Channel")), Column(_("Code")), Column(_("Org unit")),
                         Column(_("Arrived this month"), True),
                         Column(_("Still in an unassigned community"), True),
                         Column(_("Days left in the adjustment window"), True)],
                        label=2, chart=None)
    for row in rows:
        name = _("Unassigned communities of %(city)s", city=row.unit.name) if row.waiting \
            else row.unit.name
        table.rows.append(Row([row.channel, row.unit.code, name, row.customers,
                               row.customers if row.waiting else 0, days_left]))
    table.footer = ["", "", _("Total"), sum(row.customers for row in rows),
                    sum(row.customers for row in rows if row.waiting), days_left]
    return table


def division_channels(rows: list[Progress]) -> ReportTable:
    """Per channel: placed and still waiting (the chart)."""
    table = ReportTable([Column(_("Channel")), Column(_("Placed in a community"), True, "placed"),
                         Column(_("Still in an unassigned community"), True, "waiting")])
    channels = sorted({row.channel for row in rows})
    for channel in channels:
        placed = sum(row.customers for row in rows if row.channel == channel and not row.waiting)
        waiting = sum(row.customers for row in rows if row.channel == channel and row.waiting)
        table.rows.append(Row([channel, placed, waiting]))
    return table


def stock_table(months: list[StockMonth]) -> ReportTable:
    table = ReportTable([Column(_("Month")), Column(_("New lines"), True),
                         Column(_("Disconnected"), True), Column(_("Net change"), True),
                         Column(_("Lines at the month's end"), True),
                         *(Column(_("of them %(status)s", status=status), True, status)
                           for status in STATUSES),
                         Column(_("Lines billed"), True), Column(_("Revenue (yuan)"), True)])
    for month in months:
        table.rows.append(Row([_month(month.month), month.installed, month.disconnected,
                               month.net, month.lines,
                               *(month.closing[status] for status in STATUSES),
                               month.billed, yuan(month.revenue_cents)]))
    return table


def stock_units_table(rows: list[UnitStock], deeper: str | None, last: date) -> ReportTable:
    table = ReportTable([Column(_("Code")), Column(_("Org unit")),
                         Column(_("New lines"), True, "installed"),
                         Column(_("Disconnected"), True, "disconnected"),
                         Column(_("Net change"), True),
                         Column(_("Lines at the end of %(month)s", month=_month(last)), True),
                         Column(_("Revenue of %(month)s (yuan)", month=_month(last)), True)],
                        label=1)
    for row in rows:
        drill = {"unit": row.unit.code, "level": deeper, "table": "units"} \
            if deeper and not row.unit.unassigned else None
        table.rows.append(Row([row.unit.code, row.unit.name, row.installed, row.disconnected,
                               row.net, row.lines, yuan(row.revenue_cents)], drill))
    return table


def groups_table(rows: list[GroupFigures], this: date) -> ReportTable:
    last_title = _("Revenue of %(month)s (yuan)", month=_month(add_months(this, -1)))
    table = ReportTable([Column(_("Group")), Column(_("Group type")),
                         Column(_("Customers"), True), Column(_("Lines"), True),
                         Column(_("Revenue of %(month)s (yuan)", month=_month(this)), True,
                                "this"),
                         Column(last_title, True), Column(_("Change (yuan)"), True),
                         Column(_("Change (%)"), True)])
    for row in rows:
        share = None
        if row.revenue_last_cents:
            share = (Decimal(row.change_cents) * 100 / row.revenue_last_cents).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_EVEN)
        table.rows.append(Row([row.name, row.group_type, row.customers, row.subscribers,
                               yuan(row.revenue_this_cents), yuan(row.revenue_last_cents),
                               yuan(row.change_cents), share]))
    return table


def rules_table(rows: list[RuleActivity], days: int) -> ReportTable:
    table = ReportTable([Column(_("Ruleset")), Column(_("Rule")), Column(_("Title")),
                         Column(_("Customers decided"), True, "customers"),
                         Column(_("Lines decided"), True, "subscribers"),
                         Column(_("Changes in the last %(days)s days", days=days), True)],
                        label=1)
    for row in rows:
        table.rows.append(Row([row.ruleset, f"{row.ruleset}/{row.rule}", row.title,
                               row.customers, row.subscribers, row.changes]))
    return table


def _month(month: date) -> str:
    return month.strftime("%Y-%m")
