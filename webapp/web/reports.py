"""The fixed reports (everyone with READ_REPORTS, in their org scope): a page each, with
a chart where a picture helps, drill-down by org unit and CSV/XLSX export (``?format=``)
of exactly the table on the page."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema

from webapp import clock
from webapp.classification.facts import report_month
from webapp.database import db
from webapp.reports import division, groups, population, rules, stock
from webapp.reports.orgtree import LEVELS, OrgTree, below
from webapp.reports.params import (
    PopulationSchema,
    ReportSchema,
    StockSchema,
    UnitSchema,
    load,
)
from webapp.reports.refresh import CHANGE_DAYS, refreshed, stock_months
from webapp.reports.table import ReportTable
from webapp.scope import Scope, scope_of
from webapp.web import report_tables
from webapp.web.access import Permission, requires
from webapp.web.adjusting import window_state
from webapp.web.exports import cell_text, table_response
from webapp.web.listing import read_filters

blueprint = Blueprint("reports", __name__, url_prefix="/reports")

#: The reports, in the order of the index page: endpoint, title, what it shows.
REPORTS = [
    ("population", _l("Customers and lines by org unit"),
     _l("Customers and subscriber lines per org unit, by statistical attribute or by "
        "service tier.")),
    ("division", _l("Monthly division progress"),
     _l("This month's new customers per channel and department, those still in an "
        "unassigned community, and the days left in the adjustment window.")),
    ("stock", _l("Stock analysis"),
     _l("Lines and revenue by status and month over the last 13 months: new, "
        "disconnected, net change, per org unit.")),
    ("groups", _l("Customer groups"),
     _l("Per customer group: customers, lines, revenue this month and last, change.")),
    ("rules", _l("Rule activity"),
     _l("Per ruleset and rule: the customers and lines it decides today and the changes "
        "it caused in the last 30 days.")),
]
TITLES = {name: title for name, title, _ in REPORTS}


@dataclass(frozen=True)
class Control:
    """A drop-down of the report's form."""

    name: str
    label: str
    options: list[tuple[str, str]]


@dataclass(frozen=True)
class Section:
    key: str
    heading: str
    table: ReportTable
    #: The ``table`` argument exporting it (None: the report's exported table; "": none).
    export: str | None = None


class _Context:
    """What a report request works with: its connection, org tree, the person's scope
    and the parameters (or the problems of each bad one)."""

    def __init__(self, schema: Schema) -> None:
        self.conn = db.session.connection()
        self.tree = OrgTree.load(self.conn)
        self.scope: Scope = scope_of(self.conn, current_user)
        self.raw = request.args.to_dict()
        self.stamps = refreshed(self.conn)
        params, self.problems = read_filters(
            lambda: load(schema, self.raw, self.tree, self.scope))
        self.params: dict[str, Any] = params or {}

    def as_of(self, part: str) -> date:
        """The day the summary ``part`` describes (today when never refreshed): its
        months are those of that day, whatever today is."""
        stamp = self.stamps.get(part)
        return stamp.as_of if stamp is not None else clock.today()

    @property
    def counted(self) -> frozenset[str] | None:
        return self.tree.counted(self.scope, self.params.get("unit"))


@blueprint.route("/")
@requires(Permission.READ_REPORTS)
def index() -> Any:
    return render_template("reports/index.html", reports=REPORTS)


@blueprint.route("/population")
@requires(Permission.READ_REPORTS)
def population_report() -> Any:
    def build(context: _Context) -> list[Section]:
        params = context.params
        data = population.breakdown(context.conn, context.tree, context.counted,
                                    params["level"], params["by"], params["measure"])
        heading = _("%(measure)s by org unit and %(by)s", measure=_MEASURES[params["measure"]],
                    by=_DIMENSIONS[params["by"]])
        return [Section("population", heading, report_tables.population_table(data))]

    controls = [Control("by", _("Breakdown"), list(_DIMENSIONS.items())),
                Control("measure", _("Count"), list(_MEASURES.items())), _level_control()]
    return _report("population", PopulationSchema(), build, controls)


@blueprint.route("/division")
@requires(Permission.READ_REPORTS)
def division_report() -> Any:
    def build(context: _Context) -> list[Section]:
        today, month = clock.today(), context.as_of("division")
        rows = division.progress(context.conn, context.tree, context.counted)
        window = window_state()
        days_left = (window.day - today).days + 1 if window.open else 0
        return [Section("division", _("Arrivals of %(month)s", month=month.strftime("%Y-%m")),
                        report_tables.division_table(rows, days_left)),
                Section("channels", _("Per channel"), report_tables.division_channels(rows),
                        export="")]

    return _report("division", ReportSchema(), build, [], window=window_state())


@blueprint.route("/stock")
@requires(Permission.READ_REPORTS)
def stock_report() -> Any:
    def build(context: _Context) -> list[Section]:
        as_of, params = context.as_of("stock"), context.params
        months = stock.months(context.conn, context.counted, as_of)
        units = stock.by_unit(context.conn, context.tree, context.counted, params["level"],
                              as_of)
        deeper = below(params["level"])
        return [Section("months", _("Lines and revenue by month"),
                        report_tables.stock_table(months), export="months"),
                Section("units", _("Per org unit over the 13 months"),
                        report_tables.stock_units_table(units, deeper and deeper.value,
                                                        stock_months(as_of)[-1]),
                        export="units")]

    return _report("stock", StockSchema(), build, [_level_control()])


@blueprint.route("/groups")
@requires(Permission.READ_REPORTS)
def groups_report() -> Any:
    def build(context: _Context) -> list[Section]:
        rows = groups.groups(context.conn, context.counted)
        return [Section("groups", _("Customer groups"),
                        report_tables.groups_table(
                            rows, report_month(context.as_of("groups"))))]

    return _report("groups", UnitSchema(), build, [])


@blueprint.route("/rules")
@requires(Permission.READ_REPORTS)
def rules_report() -> Any:
    def build(context: _Context) -> list[Section]:
        rows = rules.activity(db.session, context.counted, clock.today())
        return [Section("rules", _("Rule activity"),
                        report_tables.rules_table(rows, CHANGE_DAYS))]

    return _report("rules", UnitSchema(), build, [])


_DIMENSIONS = {"statistical_attribute": _l("statistical attribute"),
               "service_tier": _l("service tier")}
_MEASURES = {"customers": _l("Customers"), "subscribers": _l("Subscriber lines")}
_LEVELS = {"city": _l("city"), "centre": _l("centre"), "department": _l("department"),
           "area": _l("area"), "community": _l("community")}


def _level_control() -> Control:
    return Control("level", _("Org level"), [(level.value, str(_LEVELS[level.value]))
                                             for level in LEVELS])


def _report(name: str, schema: Schema, build: Callable[[_Context], list[Section]],
            controls: list[Control], **extra: Any) -> Any:
    """The report's page, or its export when ``format`` is given; 400 naming each bad
    parameter."""
    context = _Context(schema)
    exporting = bool(context.raw.get("format", "").strip())
    if context.problems:
        if exporting:
            return {"errors": context.problems}, 400
        return _page(name, context, [], controls, **extra), 400
    sections = build(context)
    if exporting:
        wanted = context.params.get("table")
        section = next(one for one in sections if one.export is None or one.export == wanted)
        return table_response(context.params["format"], f"report-{name}-{section.key}",
                              section.table.header, section.table.cells())
    return _page(name, context, sections, controls, **extra)


def _page(name: str, context: _Context, sections: list[Section], controls: list[Control],
          **extra: Any) -> str:
    unit = context.params.get("unit")
    path = context.tree.path(unit) if unit else []
    stamp = context.stamps.get(name)
    return render_template(
        "reports/report.html", name=name, title=TITLES[name], sections=sections,
        controls=controls, params=context.params, raw=context.raw, problems=context.problems,
        path=path, whole_province=context.scope.whole_province, stamp=stamp,
        link=_linker(name, context), cell=cell_text,
        below=below, **extra)


def _linker(name: str, context: _Context) -> Callable[..., str]:
    """URLs of this report with the current parameters changed by ``changes`` (a value
    of None drops one)."""
    current = {key: value for key, value in context.raw.items()
               if key in context.params and key != "format" and value}

    def link(**changes: str | None) -> str:
        args = {**current, **changes}
        return url_for(f".{name}_report", **{key: value for key, value in args.items()
                                             if value is not None})

    return link
