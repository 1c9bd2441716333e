"""The alert list (everyone who may read alerts, in their org scope): filters, pages,
CSV/XLSX export, and acknowledging an open alert (front-line staff, managers, admins)."""

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp import clock
from webapp.alerting import alerts, vocabulary
from webapp.alerting.alerts import Acknowledgement
from webapp.database import db
from webapp.scope import scope_of
from webapp.web.access import Permission, requires
from webapp.web.exports import table_response
from webapp.web.listing import (
    ALERT_COLUMNS,
    alert_cells,
    export_format,
    link_query,
    read_filters,
    table_context,
    widgets,
)

blueprint = Blueprint("alerts", __name__, url_prefix="/alerts")
FILTERS = ("alert_type", "severity", "status", "org_unit", "date_from", "date_to")
#: Pages an acknowledgement may return to.
RETURN_PATHS = ("/alerts/", "/targets/")


@blueprint.route("/")
@requires(Permission.READ_ALERTS)
def index() -> Any:
    raw = request.args.to_dict()
    conn = db.session.connection()
    types = vocabulary.alert_types(db.session)
    filters, problems = read_filters(lambda: _checked(raw, types))
    rows, following = [], None
    if filters is not None:
        zone = clock.zone()
        found, following = alerts.page(conn, filters, scope_of(conn, current_user), zone)
        rows = [(row, alert_cells(row, zone)) for row in found]
    page = render_template("alerts/index.html", raw=raw, rows=rows, following=following,
                           problems=problems, columns=ALERT_COLUMNS,
                           widgets=widgets(conn, FILTERS, alert_types=types),
                           query=link_query(raw, FILTERS), **table_context())
    return page, 400 if problems else 200


@blueprint.route("/export")
@requires(Permission.READ_ALERTS)
def export() -> Any:
    raw = request.args.to_dict()
    types = vocabulary.alert_types(db.session)
    parsed, problems = read_filters(lambda: (export_format(raw), _checked(raw, types)))
    if parsed is None:
        return {"errors": problems}, 400
    fmt, filters = parsed
    scope, zone = scope_of(db.session.connection(), current_user), clock.zone()

    def rows() -> Any:
        with db.engine.connect() as conn:
            for row in alerts.every_row(conn, filters, scope, zone):
                yield alert_cells(row, zone)

    return table_response(fmt, "alerts", ALERT_COLUMNS, rows())


@blueprint.route("/<int:alert_id>/acknowledge", methods=["POST"])
@requires(Permission.ACKNOWLEDGE_ALERTS)
def acknowledge(alert_id: int) -> Any:
    conn = db.session.connection()
    outcome = alerts.acknowledge(conn, alert_id, current_user.id,
                                 scope_of(conn, current_user), datetime.now(UTC))
    if outcome is Acknowledgement.NOT_FOUND:
        abort(404)
    if outcome is Acknowledgement.CLEARED:
        abort(409, description=_("This alert has been cleared: the rules no longer raise "
                                 "it, so there is nothing to acknowledge."))
    db.session.commit()
    if outcome is Acknowledgement.DONE:
        flash(_("Alert acknowledged."), "success")
    else:
        flash(_("This alert was already acknowledged."), "info")
    return redirect(_return_to(request.form.get("next", "")))


def _checked(raw: dict[str, str], types: list[str]) -> dict[str, Any]:
    filters = alerts.parse_filters(raw, types)
    alerts.check_filters(db.session.connection(), filters)
    return filters


def _return_to(target: str) -> str:
    """The list page the person came from, never another site."""
    if target.startswith(RETURN_PATHS) and "\\" not in target and "//" not in target:
        return target
    return url_for(".index")
