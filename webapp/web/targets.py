"""Target lists (front-line staff, in their org scope): the lists of customers by region,
org unit, category, tier, revenue, arrival and alert type, and one list of open alerts per
alert type of the published rules; each pages and exports to CSV and XLSX."""

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from webapp import clock
from webapp.alerting import alerts, targets, vocabulary
from webapp.alerting.chosen import Vocabularies, choose_list, list_filters
from webapp.alerting.targets import CustomerRow, Subject, TargetList
from webapp.database import db
from webapp.scope import scope_of
from webapp.web.access import Permission, requires
from webapp.web.exports import Cell, local_time, table_response
from webapp.web.listing import (
    ALERT_COLUMNS,
    alert_cells,
    alert_type_label,
    export_format,
    link_query,
    read_filters,
    table_context,
    widgets,
)

blueprint = Blueprint("targets", __name__, url_prefix="/targets")

TITLES = {
    "by-region": _l("Customers by region"),
    "by-org-unit": _l("Customers by org unit"),
    "by-category": _l("Customers by statistical attribute"),
    "by-tier": _l("Customers by service tier"),
    "by-revenue": _l("Customers by revenue"),
    "new-this-month": _l("New customers this month"),
    "by-alert-type": _l("Customers with an open alert of a type"),
}
CUSTOMER_COLUMNS = (_l("Customer code"), _l("Name"), _l("Statistical attribute"),
                    _l("Marketing attribute"), _l("Service tier"), _l("Lifecycle stage"),
                    _l("Lines"), _l("Revenue this month (yuan)"),
                    _l("3-month average revenue (yuan)"), _l("Arrived"))


def title(chosen: TargetList) -> str:
    if chosen.subject is Subject.ALERTS:
        return _("Open alerts: %(type)s", type=alert_type_label(chosen.name))
    return str(TITLES.get(chosen.name, chosen.name))


def customer_cells(row: CustomerRow, zone: ZoneInfo) -> tuple[Cell, ...]:
    """A customer as the cells of :data:`CUSTOMER_COLUMNS`."""
    arrived = local_time(row.arrived, zone)
    return (row.code, row.name, row.statistical_attribute, row.marketing_attribute,
            row.service_tier, row.lifecycle_stage, row.lines, row.revenue_this_month,
            row.revenue_avg_3m, arrived.date() if arrived else None)


@blueprint.route("/")
@requires(Permission.READ_ALERTS)
def index() -> Any:
    lists = targets.target_lists(vocabulary.alert_types(db.session))
    return render_template("targets/index.html", lists=lists, title=title,
                           customer_lists=[item for item in lists
                                           if item.subject is Subject.CUSTOMERS],
                           anomaly_lists=[item for item in lists
                                          if item.subject is Subject.ALERTS])


@blueprint.route("/<list_name>")
@requires(Permission.READ_ALERTS)
def show(list_name: str) -> Any:
    chosen, vocabularies = _chosen(list_name)
    raw = request.args.to_dict()
    conn = db.session.connection()
    filters, problems = read_filters(lambda: list_filters(conn, chosen, raw, vocabularies))
    rows: list[tuple[Any, tuple[Cell, ...]]] = []
    following = None
    if filters is not None:
        zone, scope = clock.zone(), scope_of(conn, current_user)
        if chosen.subject is Subject.CUSTOMERS:
            customers, following = targets.customer_page(conn, filters, scope, clock.today(),
                                                         zone)
            rows = [(row, customer_cells(row, zone)) for row in customers]
        else:
            found, following = alerts.page(conn, filters, scope, zone)
            rows = [(row, alert_cells(row, zone)) for row in found]
    page = render_template(
        "targets/show.html", chosen=chosen, title=title(chosen), raw=raw, rows=rows,
        following=following, problems=problems, query=link_query(raw, chosen.inputs),
        columns=CUSTOMER_COLUMNS if chosen.subject is Subject.CUSTOMERS else ALERT_COLUMNS,
        widgets=widgets(conn, chosen.inputs, **vocabularies), **table_context())
    return page, 400 if problems else 200


@blueprint.route("/<list_name>/export")
@requires(Permission.READ_ALERTS)
def export(list_name: str) -> Any:
    chosen, vocabularies = _chosen(list_name)
    raw = request.args.to_dict()
    conn = db.session.connection()
    parsed, problems = read_filters(lambda: (export_format(raw),
                                             list_filters(conn, chosen, raw, vocabularies)))
    if parsed is None:
        return {"errors": problems}, 400
    fmt, filters = parsed
    zone, scope, today = clock.zone(), scope_of(conn, current_user), clock.today()

    def rows() -> Any:
        with db.engine.connect() as streamed:
            if chosen.subject is Subject.CUSTOMERS:
                for customer in targets.every_customer(streamed, filters, scope, today, zone):
                    yield customer_cells(customer, zone)
            else:
                for alert in alerts.every_row(streamed, filters, scope, zone):
                    yield alert_cells(alert, zone)

    columns = CUSTOMER_COLUMNS if chosen.subject is Subject.CUSTOMERS else ALERT_COLUMNS
    return table_response(fmt, f"target-list-{chosen.name}", columns, rows())


def _chosen(list_name: str) -> tuple[TargetList, Vocabularies]:
    """The list named in the URL (404 if none) and the choices its filters offer."""
    found = choose_list(db.session, list_name)
    if found is None:
        abort(404)
    return found
